// WinDbg-style formatting and escaping: see format.h.
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "format.h"

static const uint64_t FILETIME_UNIX_EPOCH = 116444736000000000ull;  // 1970-01-01 in FILETIME

const char *bc_fmt_ptr(char *buf, uint64_t v, unsigned pointer_size)
{
	if (pointer_size == 4)
		snprintf(buf, 20, "%08" PRIx32, (uint32_t)v);
	else
		snprintf(buf, 20, "%08" PRIx32 "`%08" PRIx32, (uint32_t)(v >> 32), (uint32_t)v);
	return buf;
}

const char *bc_fmt_ptr0x(char *buf, uint64_t v, unsigned pointer_size)
{
	char tmp[20];
	snprintf(buf, 24, "0x%s", bc_fmt_ptr(tmp, v, pointer_size));
	return buf;
}

static bool split_filetime(uint64_t ft, struct tm *tm, unsigned *ms)
{
	if (ft < FILETIME_UNIX_EPOCH)
		return false;
	time_t secs = (time_t)((ft - FILETIME_UNIX_EPOCH) / 10000000ull);
	*ms = (unsigned)((ft / 10000ull) % 1000ull);
	return gmtime_r(&secs, tm) != NULL;
}

static const char *const wdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

const char *bc_fmt_filetime(char *buf, uint64_t ft)
{
	struct tm tm;
	unsigned ms;
	if (!split_filetime(ft, &tm, &ms)) {
		snprintf(buf, BC_FMT_TIME_SIZE, "(invalid time %#" PRIx64 ")", ft);
		return buf;
	}
	// WinDbg space-pads the day of the month ("Aug  7").
	snprintf(buf, BC_FMT_TIME_SIZE, "%s %s %2d %02d:%02d:%02d.%03u %d (UTC + 0:00)", wdays[tm.tm_wday],
		 months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms,
		 tm.tm_year + 1900);
	return buf;
}

const char *bc_fmt_filetime_iso(char *buf, uint64_t ft)
{
	struct tm tm;
	unsigned ms;
	if (!split_filetime(ft, &tm, &ms)) {
		buf[0] = 0;
		return buf;
	}
	snprintf(buf, BC_FMT_TIME_SIZE, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
	return buf;
}

const char *bc_fmt_uptime(char *buf, uint64_t ticks)
{
	uint64_t ms = ticks / 10000ull;
	uint64_t s = ms / 1000, days = s / 86400;
	snprintf(buf, BC_FMT_TIME_SIZE, "%" PRIu64 " days %" PRIu64 ":%02" PRIu64 ":%02" PRIu64 ".%03" PRIu64,
		 days, (s / 3600) % 24, (s / 60) % 60, s % 60, ms % 1000);
	return buf;
}

const char *bc_fmt_unix_time(char *buf, uint32_t seconds)
{
	time_t t = seconds;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		buf[0] = 0;
		return buf;
	}
	snprintf(buf, BC_FMT_TIME_SIZE, "%s %s %2d %02d:%02d:%02d %d", wdays[tm.tm_wday], months[tm.tm_mon],
		 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tm.tm_year + 1900);
	return buf;
}

// Decodes one UTF-8 sequence; invalid bytes come back as themselves with len 1
// and *ok false.
static uint32_t next_utf8(const unsigned char *s, size_t *len, bool *ok)
{
	*ok = true;
	if (s[0] < 0x80) {
		*len = 1;
		return s[0];
	}
	int n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc0 ? 2 : 0;
	uint32_t c = n == 4 ? s[0] & 7u : n == 3 ? s[0] & 0xfu : s[0] & 0x1fu;
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) {
			n = 0;
			break;
		}
		c = (c << 6) | (s[i] & 0x3fu);
	}
	if (n == 0) {
		*ok = false;
		*len = 1;
		return s[0];
	}
	*len = (size_t)n;
	return c;
}

static bool is_dangerous(uint32_t c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) ||    // C0, DEL, C1
	       (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||  // bidi
	       c == 0x200e || c == 0x200f || c == 0x061c;
}

void bc_put_escaped(FILE *out, const char *str, int width)
{
	const unsigned char *s = (const unsigned char *)str;
	int cols = 0;
	while (*s) {
		size_t len;
		bool ok;
		uint32_t c = next_utf8(s, &len, &ok);
		if (!ok) {
			cols += fprintf(out, "\\x%02x", s[0]);
		} else if (is_dangerous(c)) {
			cols += c < 0x100 ? fprintf(out, "\\x%02x", c) : fprintf(out, "\\u{%04x}", c);
		} else {
			fwrite(s, 1, len, out);
			cols++;
		}
		s += len;
	}
	for (; cols < width; cols++)
		fputc(' ', out);
}

void bc_put_json_string(FILE *out, const char *str)
{
	const unsigned char *s = (const unsigned char *)str;
	fputc('"', out);
	while (*s) {
		size_t len;
		bool ok;
		uint32_t c = next_utf8(s, &len, &ok);
		if (!ok) {
			fputs("\\ufffd", out);
		} else if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", (int)c);
		} else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || is_dangerous(c)) {
			fprintf(out, "\\u%04x", c);
		} else {
			fwrite(s, 1, len, out);
		}
		s += len;
	}
	fputc('"', out);
}
