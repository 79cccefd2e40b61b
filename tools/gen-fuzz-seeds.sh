#!/usr/bin/env bash
# Writes seed inputs for the fuzz targets into BUILD/fuzz-seeds/<target>/:
# synthetic dumps of every format and machine (build/mkdump), cut copies of
# them, small structured inputs for the paging, KDBG and CONTEXT targets, and
# the PE fixture DLLs built by clang and lld-link (build/pe-fixtures) with
# copies cut after their headers.
set -euo pipefail
build=${1:?usage: gen-fuzz-seeds.sh BUILD_DIR}
out=$build/fuzz-seeds
mkdir -p "$out/fuzz_dump_open" "$out/fuzz_paging" "$out/fuzz_kdbg" "$out/fuzz_context" "$out/fuzz_pe" \
  "$out/fuzz_pdb_params"
if [ -x "$build/mkdump" ]; then
  for format in full bitmap-kernel bitmap-full summary triage rdmp-kernel rdmp-kernel-user rdmp-complete; do
    for machine in x64 x86-pae x86 arm64; do
      f=$out/fuzz_dump_open/$format-$machine.dmp
      "$build/mkdump" --format "$format" --machine "$machine" "$f" >/dev/null 2>&1 || rm -f "$f"
    done
  done
  "$build/mkdump" --format bitmap-kernel --machine x64 --encoded-kdbg "$out/fuzz_dump_open/encoded-kdbg.dmp" >/dev/null 2>&1 || true
fi
# Structured seeds: a zero walk, a self-referencing table, and 256 bytes of a counter.
printf '\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x80\xff\xff' > "$out/fuzz_paging/zero"
head -c 4096 /dev/zero >> "$out/fuzz_paging/zero"
printf '\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x80\xff\xff' > "$out/fuzz_paging/arm64"
for i in $(seq 0 255); do printf "\\x$(printf %02x $i)"; done >> "$out/fuzz_paging/arm64"
for i in $(seq 0 1039); do printf "\\x$(printf %02x $(( (i * 37 + 11) % 256 )))"; done > "$out/fuzz_kdbg/pattern"
head -c 1300 /dev/zero > "$out/fuzz_context/zero"
for dll in "$build"/pe-fixtures/bcfixture-*.dll; do
  [ -f "$dll" ] || continue
  name=$(basename "$dll" .dll)
  cp "$dll" "$out/fuzz_pe/$name"
  head -c 1024 "$dll" > "$out/fuzz_pe/$name-headers"
done
# x86 frame records: the FPO fixture's PDB (built by clang and lld-link, with
# FrameData records) behind the target's selector byte 0.
mkdir -p "$out/fuzz_pdb_frames"
if [ -f "$build/unwind-fixtures/callchain-fpo-x86.pdb" ]; then
  { printf '\x00'; cat "$build/unwind-fixtures/callchain-fpo-x86.pdb"; } > "$out/fuzz_pdb_frames/fpo-x86.pdb"
fi
# A module symbol stream for fuzz_pdb_params (machine byte 1 = x64): S_GPROC32
# "f" at 0001:0000 (0x10 bytes), S_FRAMEPROC (parameters from RSP), S_LOCAL
# "a" (int, a parameter), S_DEFRANGE_FRAMEPOINTER_REL +0x20 over [0, 0x10)
# with a gap at 2, S_REGREL32 "b" [rsp+8], S_END.
{
  printf '\x01\x04\x00\x00\x00'
  printf '\x2a\x00\x10\x11' ; head -c 12 /dev/zero ; printf '\x10\x00\x00\x00' ; head -c 16 /dev/zero
  printf '\x01\x00\x00f\x00\xf3\xf2\xf1'
  printf '\x1e\x00\x12\x10' ; head -c 22 /dev/zero ; printf '\x00\x00\x01\x00\x00\x00'
  printf '\x0a\x00\x3e\x11\x74\x00\x00\x00\x01\x00a\x00'
  printf '\x12\x00\x42\x11\x20\x00\x00\x00\x00\x00\x00\x00\x01\x00\x10\x00\x02\x00\x02\x00'
  printf '\x0e\x00\x11\x11\x08\x00\x00\x00\x75\x00\x00\x00\x4f\x01b\x00'
  printf '\x02\x00\x06\x00'
} > "$out/fuzz_pdb_params/frame-relative"
