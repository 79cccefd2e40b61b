// UTF-16LE to UTF-8 (base/utf.h).
#include "base/bytes.h"
#include "base/utf.h"

size_t bc_utf8_encode(uint32_t c, char buf[4])
{
	if (c < 0x80) {
		buf[0] = (char)c;
		return 1;
	}
	if (c < 0x800) {
		buf[0] = (char)(0xc0 | (c >> 6));
		buf[1] = (char)(0x80 | (c & 0x3f));
		return 2;
	}
	if (c < 0x10000) {
		buf[0] = (char)(0xe0 | (c >> 12));
		buf[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		buf[2] = (char)(0x80 | (c & 0x3f));
		return 3;
	}
	buf[0] = (char)(0xf0 | (c >> 18));
	buf[1] = (char)(0x80 | ((c >> 12) & 0x3f));
	buf[2] = (char)(0x80 | ((c >> 6) & 0x3f));
	buf[3] = (char)(0x80 | (c & 0x3f));
	return 4;
}

size_t bc_utf16le_to_utf8(const uint8_t *p, size_t units, char *out, bool nul_to_replacement)
{
	size_t o = 0;
	for (size_t i = 0; i < units; i++) {
		uint32_t c = bc_le16(p + 2 * i);
		if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
			uint32_t low = bc_le16(p + 2 * i + 2);
			if (low >= 0xdc00 && low < 0xe000) {
				c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
				i++;
			}
		}
		if ((c >= 0xd800 && c < 0xe000) || (c == 0 && nul_to_replacement))
			c = 0xfffd;  // an unpaired surrogate
		o += bc_utf8_encode(c, out + o);
	}
	out[o] = 0;
	return o;
}
