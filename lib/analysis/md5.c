// MD5 as RFC 1321 specifies it: 64-byte blocks, four rounds of sixteen
// steps, little-endian words, the message padded with 0x80, zeros and its
// length in bits.
#include <string.h>

#include "analysis/md5.h"

// Per-step left rotations, by round (RFC 1321 3.4).
static const uint8_t shifts[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

// floor(abs(sin(i + 1)) * 2^32), the RFC's table T.
static const uint32_t sine_table[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
	0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
	0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
	0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
	0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
	0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
	0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
	0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
	0xeb86d391,
};

static uint32_t rotate_left(uint32_t x, unsigned n)
{
	return x << n | x >> (32 - n);
}

static void md5_block(uint32_t state[4], const uint8_t block[64])
{
	uint32_t words[16];
	for (int i = 0; i < 16; i++)
		words[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
			   (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
	uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
	for (unsigned step = 0; step < 64; step++) {
		unsigned round = step / 16, word;
		uint32_t mix;
		switch (round) {
		case 0: mix = (b & c) | (~b & d); word = step; break;
		case 1: mix = (d & b) | (~d & c); word = (5 * step + 1) % 16; break;
		case 2: mix = b ^ c ^ d; word = (3 * step + 5) % 16; break;
		default: mix = c ^ (b | ~d); word = (7 * step) % 16; break;
		}
		uint32_t next = b + rotate_left(a + mix + sine_table[step] + words[word],
						shifts[round][step % 4]);
		a = d;
		d = c;
		c = b;
		b = next;
	}
	state[0] += a;
	state[1] += b;
	state[2] += c;
	state[3] += d;
}

void bc_md5(const void *data, size_t size, uint8_t digest[16])
{
	uint32_t state[4] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	const uint8_t *p = data;
	size_t left = size;
	for (; left >= 64; left -= 64, p += 64)
		md5_block(state, p);
	// The tail, 0x80, zeros to 56 mod 64, then the length in bits (mod 2^64).
	uint8_t tail[128] = { 0 };
	memcpy(tail, p, left);
	tail[left] = 0x80;
	size_t tail_size = left < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)size * 8;
	for (int i = 0; i < 8; i++)
		tail[tail_size - 8 + i] = (uint8_t)(bits >> (8 * i));
	md5_block(state, tail);
	if (tail_size == 128)
		md5_block(state, tail + 64);
	for (int i = 0; i < 16; i++)
		digest[i] = (uint8_t)(state[i / 4] >> (8 * (i % 4)));
}
