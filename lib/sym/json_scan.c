// Walking JSON text by spans (sym/json_scan.h). One pass over a value finds
// its end: strings are skipped escape by escape, objects and arrays by a
// stack of the brackets still open (capped), scalars by their characters.
// Structure inside an object or array is checked as it is skipped (a ':'
// after each key, ',' between members), so a span handed on is well-formed
// JSON as far as jansson will later need.
#include <string.h>

#include "base/words.h"
#include "sym/json_scan.h"

enum { MAX_DEPTH = 256 };

static size_t skip_space(const char *t, size_t size, size_t pos)
{
	while (pos < size && (t[pos] == ' ' || t[pos] == '\n' || t[pos] == '\r' || t[pos] == '\t'))
		pos++;
	return pos;
}

// The position after the string whose opening quote is at @pos; 0 when unterminated.
static size_t skip_string(const char *t, size_t size, size_t pos)
{
	for (pos++; pos < size; pos++) {
		unsigned char c = (unsigned char)t[pos];
		if (c == '"')
			return pos + 1;
		if (c == '\\') {
			if (++pos >= size)
				return 0;
		} else if (c < 0x20) {
			return 0;  // control characters must be escaped
		}
	}
	return 0;
}

// The position after a number or literal at @pos; 0 when there is none.
static size_t skip_scalar(const char *t, size_t size, size_t pos)
{
	size_t start = pos;
	while (pos < size) {
		char c = t[pos];
		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-' || c == '+' ||
		    c == '.' || c == 'E')
			pos++;
		else
			break;
	}
	return pos > start ? pos : 0;
}

bool bc_json_value(const char *t, size_t size, size_t pos, struct bc_json_span *ret)
{
	char open[MAX_DEPTH];  // the closing bracket each open one wants
	int depth = 0;
	// What the next token may be inside a container.
	enum { WANT_VALUE, WANT_KEY_OR_END, WANT_VALUE_OR_END, WANT_COLON, WANT_COMMA_OR_END } want =
		WANT_VALUE;
	pos = skip_space(t, size, pos);
	size_t start = pos;
	while (pos < size) {
		char c = t[pos];
		if (want == WANT_COLON) {
			if (c != ':')
				return false;
			want = WANT_VALUE;
			pos = skip_space(t, size, pos + 1);
			continue;
		}
		if (want == WANT_COMMA_OR_END || ((want == WANT_KEY_OR_END || want == WANT_VALUE_OR_END) &&
						  (c == '}' || c == ']'))) {
			if (c == ',' && want == WANT_COMMA_OR_END) {
				want = open[depth - 1] == '}' ? WANT_KEY_OR_END : WANT_VALUE;
				if (open[depth - 1] == '}') {
					pos = skip_space(t, size, pos + 1);
					if (pos >= size || t[pos] != '"')
						return false;
					want = WANT_KEY_OR_END;
				} else {
					pos = skip_space(t, size, pos + 1);
				}
				continue;
			}
			if (c != open[depth - 1])
				return false;
			depth--;
			pos++;
			if (!depth) {
				*ret = (struct bc_json_span){ start, pos };
				return true;
			}
			want = WANT_COMMA_OR_END;
			pos = skip_space(t, size, pos);
			continue;
		}
		if (want == WANT_KEY_OR_END) {
			if (c != '"')
				return false;
			size_t end = skip_string(t, size, pos);
			if (!end)
				return false;
			pos = skip_space(t, size, end);
			want = WANT_COLON;
			continue;
		}
		// A value.
		size_t end;
		if (c == '{' || c == '[') {
			if (depth == MAX_DEPTH)
				return false;
			open[depth++] = c == '{' ? '}' : ']';
			pos = skip_space(t, size, pos + 1);
			want = c == '{' ? WANT_KEY_OR_END : WANT_VALUE_OR_END;
			continue;
		}
		end = c == '"' ? skip_string(t, size, pos) : skip_scalar(t, size, pos);
		if (!end)
			return false;
		if (!depth) {
			*ret = (struct bc_json_span){ start, end };
			return true;
		}
		pos = skip_space(t, size, end);
		want = WANT_COMMA_OR_END;
	}
	return false;
}

bool bc_json_members(const char *t, struct bc_json_span object,
		     bool (*fn)(void *arg, struct bc_json_span key, struct bc_json_span value),
		     void *arg)
{
	size_t end = object.end, pos = skip_space(t, end, object.start);
	if (pos >= end || t[pos] != '{')
		return false;
	pos = skip_space(t, end, pos + 1);
	if (pos < end && t[pos] == '}')
		return true;
	while (pos < end) {
		if (t[pos] != '"')
			return false;
		size_t key_end = skip_string(t, end, pos);
		if (!key_end)
			return false;
		struct bc_json_span key = { pos + 1, key_end - 1 }, value;
		pos = skip_space(t, end, key_end);
		if (pos >= end || t[pos] != ':' || !bc_json_value(t, end, pos + 1, &value))
			return false;
		if (!fn(arg, key, value))
			return true;
		pos = skip_space(t, end, value.end);
		if (pos < end && t[pos] == '}')
			return true;
		if (pos >= end || t[pos] != ',')
			return false;
		pos = skip_space(t, end, pos + 1);
	}
	return false;
}

struct find {
	const char *text, *name;
	size_t length;
	bool found;
	struct bc_json_span value;
};

static bool match_member(void *arg, struct bc_json_span key, struct bc_json_span value)
{
	struct find *f = arg;
	if (key.end - key.start == f->length && !memcmp(f->text + key.start, f->name, f->length)) {
		f->found = true;
		f->value = value;
		return false;
	}
	return true;
}

bool bc_json_member(const char *text, struct bc_json_span object, const char *name,
		    struct bc_json_span *ret)
{
	struct find f = { text, name, strlen(name), false, { 0, 0 } };
	if (!bc_json_members(text, object, match_member, &f) || !f.found)
		return false;
	*ret = f.value;
	return true;
}

static bool read_hex4(const char *t, size_t pos, size_t end, uint32_t *ret)
{
	if (end - pos < 4)
		return false;
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		int h = bc_hex_digit(t[pos + (size_t)i]);
		if (h < 0)
			return false;
		v = v << 4 | (uint32_t)h;
	}
	*ret = v;
	return true;
}

static char *put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		*out++ = (char)cp;
	} else if (cp < 0x800) {
		*out++ = (char)(0xc0 | cp >> 6);
		*out++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*out++ = (char)(0xe0 | cp >> 12);
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*out++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*out++ = (char)(0xf0 | cp >> 18);
		*out++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*out++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*out++ = (char)(0x80 | (cp & 0x3f));
	}
	return out;
}

bool bc_json_decode_string(const char *t, struct bc_json_span raw, char *out)
{
	// Every escape is at least as long as the UTF-8 it stands for (\uXXXX:
	// 6 bytes for at most 3; a surrogate pair: 12 for 4), so @out never
	// needs more than the raw length.
	for (size_t pos = raw.start; pos < raw.end;) {
		char c = t[pos++];
		if (c != '\\') {
			if (!c)
				return false;
			*out++ = c;
			continue;
		}
		if (pos >= raw.end)
			return false;
		char e = t[pos++];
		uint32_t cp;
		switch (e) {
		case '"': case '\\': case '/': *out++ = e; break;
		case 'b': *out++ = '\b'; break;
		case 'f': *out++ = '\f'; break;
		case 'n': *out++ = '\n'; break;
		case 'r': *out++ = '\r'; break;
		case 't': *out++ = '\t'; break;
		case 'u':
			if (!read_hex4(t, pos, raw.end, &cp))
				return false;
			pos += 4;
			if (cp >= 0xd800 && cp < 0xdc00) {
				uint32_t low;
				if (raw.end - pos < 6 || t[pos] != '\\' || t[pos + 1] != 'u' ||
				    !read_hex4(t, pos + 2, raw.end, &low) || low < 0xdc00 || low >= 0xe000)
					return false;
				pos += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return false;
			}
			if (!cp)
				return false;
			out = put_utf8(out, cp);
			break;
		default:
			return false;
		}
	}
	*out = '\0';
	return true;
}

bool bc_json_integer(const char *t, struct bc_json_span value, int64_t *ret)
{
	size_t pos = value.start;
	bool negative = pos < value.end && t[pos] == '-';
	pos += negative;
	if (pos >= value.end)
		return false;
	uint64_t v = 0;
	for (; pos < value.end; pos++) {
		if (t[pos] < '0' || t[pos] > '9')
			return false;
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(t[pos] - '0');
	}
	if (v > (uint64_t)INT64_MAX + negative)
		return false;
	*ret = negative ? (int64_t)(0 - v) : (int64_t)v;
	return true;
}

bool bc_json_string_is(const char *t, struct bc_json_span value, const char *s)
{
	size_t n = strlen(s);
	return value.end - value.start == n + 2 && t[value.start] == '"' &&
	       !memcmp(t + value.start + 1, s, n);
}
