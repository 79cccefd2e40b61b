// Naming files that are not Windows kernel crash dumps, so the error can say
// what the user actually gave us ("a user-mode minidump", "an ELF core file").
#include <string.h>

#include "target_private.h"

struct foreign_magic {
	const char *magic;
	size_t len;
	size_t offset;
	const char *what;
};

static const struct foreign_magic foreign[] = {
	{ "MDMP", 4, 0, "a user-mode minidump (MDMP), not a kernel crash dump; "
			"bugcheck reads kernel dumps (MEMORY.DMP, C:\\Windows\\Minidump\\*.dmp)" },
	{ "\x7f" "ELF", 4, 0, "an ELF file (a Linux core or program), not a Windows crash dump" },
	{ "HIBR", 4, 0, "a Windows hibernation file (hiberfil.sys), not a crash dump" },
	{ "hibr", 4, 0, "a Windows hibernation file (hiberfil.sys), not a crash dump" },
	{ "WAKE", 4, 0, "a Windows hibernation file (hiberfil.sys, resumed), not a crash dump" },
	{ "wake", 4, 0, "a Windows hibernation file (hiberfil.sys, resumed), not a crash dump" },
	{ "RSTR", 4, 0, "a Windows hibernation file (hiberfil.sys), not a crash dump" },
	{ "PK\x03\x04", 4, 0, "a zip archive; extract the .dmp file first" },
	{ "PK\x05\x06", 4, 0, "an empty zip archive" },
	{ "7z\xbc\xaf\x27\x1c", 6, 0, "a 7-Zip archive; extract the .dmp file first" },
	{ "Rar!", 4, 0, "a RAR archive; extract the .dmp file first" },
	{ "\x1f\x8b", 2, 0, "a gzip-compressed file; decompress it first" },
	{ "\xfd" "7zXZ", 5, 0, "an xz-compressed file; decompress it first" },
	{ "MSCF", 4, 0, "a Microsoft cabinet (.cab) file; expand it first" },
	{ "MZ", 2, 0, "a Windows executable image (PE), not a crash dump" },
	{ "Microsoft C/C++ MSF 7.00", 24, 0, "a program database (PDB), not a crash dump" },
	{ "EMUL", 4, 0, "an EMUL/AVML memory image, not a Windows crash dump" },
	{ "PMEM", 4, 0, "a raw memory image, not a Windows crash dump" },
	{ "\x7b\x0a", 2, 0, "a text (JSON?) file, not a crash dump" },
	{ "ustar", 5, 257, "a tar archive; extract the .dmp file first" },
};

const char *bc_dump_identify_foreign(struct bc_span head)
{
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		const struct foreign_magic *m = &foreign[i];
		if (bc_span_has(head, m->offset, m->len) &&
		    !memcmp(head.data + m->offset, m->magic, m->len))
			return m->what;
	}
	if (bc_span_has(head, 0, 4) && !memcmp(head.data, "PAGE", 4))
		return "a file that starts like a kernel dump (\"PAGE\") but has neither the "
		       "\"DUMP\" (32-bit) nor the \"DU64\" (64-bit) signature after it";
	return NULL;
}
