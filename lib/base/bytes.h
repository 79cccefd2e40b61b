/*
 * base/bytes.h: bounds-checked access to untrusted bytes.
 *
 * Every byte read from a dump goes through these helpers. A `struct bc_span`
 * is a borrowed (pointer, size) view; bc_span_u32() and friends read a
 * little-endian value at an offset and return false, without touching the
 * output, when the value would cross the end. A `struct bc_cursor` walks a
 * span sequentially and remembers where the last value started, for error
 * messages. Arithmetic on sizes taken from files uses bc_add_ok()/bc_mul_ok(),
 * which report overflow instead of wrapping.
 */
#ifndef BC_BASE_BYTES_H
#define BC_BASE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct bc_span {
	const uint8_t *data;
	uint64_t size;
};

static inline uint16_t bc_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline uint32_t bc_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}

static inline uint64_t bc_le64(const uint8_t *p)
{
	return (uint64_t)bc_le32(p) | ((uint64_t)bc_le32(p + 4) << 32);
}

static inline void bc_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void bc_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void bc_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline bool bc_add_ok(uint64_t a, uint64_t b, uint64_t *ret)
{
	return !__builtin_add_overflow(a, b, ret);
}

static inline bool bc_mul_ok(uint64_t a, uint64_t b, uint64_t *ret)
{
	return !__builtin_mul_overflow(a, b, ret);
}

/** True when [off, off+len) lies inside the span. */
static inline bool bc_span_has(struct bc_span s, uint64_t off, uint64_t len)
{
	return off <= s.size && len <= s.size - off;
}

/** A sub-span, or an empty one (data NULL) when it does not fit. */
static inline struct bc_span bc_span_sub(struct bc_span s, uint64_t off, uint64_t len)
{
	if (!bc_span_has(s, off, len))
		return (struct bc_span){ NULL, 0 };
	return (struct bc_span){ s.data + off, len };
}

static inline bool bc_span_u8(struct bc_span s, uint64_t off, uint8_t *ret)
{
	if (!bc_span_has(s, off, 1))
		return false;
	*ret = s.data[off];
	return true;
}

static inline bool bc_span_u16(struct bc_span s, uint64_t off, uint16_t *ret)
{
	if (!bc_span_has(s, off, 2))
		return false;
	*ret = bc_le16(s.data + off);
	return true;
}

static inline bool bc_span_u32(struct bc_span s, uint64_t off, uint32_t *ret)
{
	if (!bc_span_has(s, off, 4))
		return false;
	*ret = bc_le32(s.data + off);
	return true;
}

static inline bool bc_span_u64(struct bc_span s, uint64_t off, uint64_t *ret)
{
	if (!bc_span_has(s, off, 8))
		return false;
	*ret = bc_le64(s.data + off);
	return true;
}

/** Reads a pointer-sized value (4 or 8 bytes) zero-extended. */
static inline bool bc_span_ptr(struct bc_span s, uint64_t off, unsigned ptr_size,
			       uint64_t *ret)
{
	if (ptr_size == 8)
		return bc_span_u64(s, off, ret);
	uint32_t v;
	if (!bc_span_u32(s, off, &v))
		return false;
	*ret = v;
	return true;
}

/** Sequential reader over a span. */
struct bc_cursor {
	struct bc_span span;
	uint64_t pos;
	uint64_t prev;  ///< where the last successful read started
};

static inline struct bc_cursor bc_cursor_at(struct bc_span s, uint64_t pos)
{
	return (struct bc_cursor){ s, pos, pos };
}

static inline bool bc_cursor_skip(struct bc_cursor *c, uint64_t n)
{
	if (!bc_span_has(c->span, c->pos, n))
		return false;
	c->prev = c->pos;
	c->pos += n;
	return true;
}

#define BC_CURSOR_READ(name, type, width)                                   \
	static inline bool bc_cursor_##name(struct bc_cursor *c, type *ret) \
	{                                                                   \
		if (!bc_span_##name(c->span, c->pos, ret))                  \
			return false;                                       \
		c->prev = c->pos;                                           \
		c->pos += width;                                            \
		return true;                                                \
	}
BC_CURSOR_READ(u8, uint8_t, 1)
BC_CURSOR_READ(u16, uint16_t, 2)
BC_CURSOR_READ(u32, uint32_t, 4)
BC_CURSOR_READ(u64, uint64_t, 8)
#undef BC_CURSOR_READ

/** "PAGE" fill: header fields the writer did not set read back as this. */
enum {
	BC_PAGE_FILL32 = 0x45474150u,
};
static const uint64_t BC_PAGE_FILL64 = 0x4547415045474150ull;

#endif
