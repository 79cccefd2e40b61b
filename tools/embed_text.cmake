# Turns a text file into a C array at build time, so the library carries its
# data and never opens a file at run time.
#   cmake -DINPUT=data/x.txt -DOUTPUT=x.c -DSYMBOL=bc_x_text -P tools/embed_text.cmake
# Defines `const char SYMBOL[]` (the bytes, then a NUL) and `const size_t SYMBOL_size`
# (the byte count without the NUL).
file(READ "${INPUT}" bytes HEX)
string(LENGTH "${bytes}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," array "${bytes}")
# Break the array into lines of 16 bytes so compilers and diffs stay comfortable.
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){16})" "\\1\n\t" array "${array}")
get_filename_component(input_name "${INPUT}" NAME)
file(WRITE "${OUTPUT}"
"// Generated from ${input_name} by tools/embed_text.cmake; do not edit.\n"
"#include <stddef.h>\n\n"
"extern const char ${SYMBOL}[];\n"
"extern const size_t ${SYMBOL}_size;\n\n"
"const char ${SYMBOL}[] = {\n\t${array}0x00\n};\n"
"const size_t ${SYMBOL}_size = ${size};\n")
