// d*: display memory (WINDBG_OUTPUT.md section 9).
//
//   db dw dd dq dc [ADDRESS] [L COUNT]   bytes, words, dwords, qwords, dwords with ASCII
//   dps dqs dds [ADDRESS] [L COUNT]      pointers / qwords / dwords, one a line, with the
//                                        module+offset the value points into
//   da du [ADDRESS] [L MAXCHARS]         an ASCII / UTF-16 string, in quotes
//
// ADDRESS is an expression ("@rsp+8", "amdppm+0x334c"); without it the
// display continues where the previous one stopped. COUNT is in units of the
// command (bytes for db, pointers for dps); "L?COUNT" lifts the size cap.
// Bytes that are not in the dump show as "??" per byte ("????????" per
// dword) and the line goes on, as in WinDbg.
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "cmd_expr.h"
#include "format.h"

enum display_kind { SHOW_NUMBERS, SHOW_POINTERS, SHOW_STRING };

struct display {
	const char *name;
	enum display_kind kind;
	unsigned unit;   ///< bytes per value; 0: the target's pointer size
	bool ascii;      ///< db, dc: an ASCII column after the values
	bool wide;       ///< du
};

static const struct display displays[] = {
	{ "db", SHOW_NUMBERS, 1, true, false },   { "dw", SHOW_NUMBERS, 2, false, false },
	{ "dd", SHOW_NUMBERS, 4, false, false },  { "dq", SHOW_NUMBERS, 8, false, false },
	{ "dc", SHOW_NUMBERS, 4, true, false },   { "dps", SHOW_POINTERS, 0, false, false },
	{ "dqs", SHOW_POINTERS, 8, false, false }, { "dds", SHOW_POINTERS, 4, false, false },
	{ "da", SHOW_STRING, 1, false, false },   { "du", SHOW_STRING, 2, false, true },
};

enum {
	DEFAULT_BYTES = 0x80,         ///< WinDbg: 8 lines of 16 bytes
	DEFAULT_CHARS = 0x100,        ///< da/du without L
	LINE_BYTES = 16,
	STRING_LINE_CHARS = 48,       ///< WinDbg wraps da/du output at 48 characters
	MAX_BYTES = 0x100000,         ///< without L?: 1 MiB
	MAX_BYTES_BIG = 0x10000000,   ///< with L?: 256 MiB (WinDbg's own L? threshold)
	MAX_CHARS = 0x10000,
};

struct range {
	uint64_t address;
	uint64_t count;
	bool has_address, has_count, big;
};

static void skip_blanks(const char **p)
{
	while (**p == ' ' || **p == '\t')
		(*p)++;
}

// "L20", "l0n32", "L?100000", "L 20": a length, not an address like "luafv".
static bool is_length(const char *p, bool after_address)
{
	if (*p != 'L' && *p != 'l')
		return false;
	char c = p[1];
	if (after_address)
		return !isalpha((unsigned char)c) || isxdigit((unsigned char)c);
	return isdigit((unsigned char)c) || c == '?' || c == '(' || c == '@' || c == ' ';
}

static int parse_range(struct bc_session *s, const char *cmd, const char *args, struct range *r)
{
	const char *p = args;
	struct bc_error *err;
	size_t used;
	*r = (struct range){ 0 };
	skip_blanks(&p);
	if (*p && !is_length(p, false)) {
		if ((err = bc_cmd_eval_prefix(s, p, &used, &r->address))) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		p += used;
		r->has_address = true;
		skip_blanks(&p);
	}
	if (is_length(p, true)) {
		p++;
		if (*p == '?') {
			r->big = true;
			p++;
		}
		if ((err = bc_cmd_eval_prefix(s, p, &used, &r->count))) {
			bc_cmd_print_error(s, cmd, err);
			return 1;
		}
		p += used;
		r->has_count = true;
		skip_blanks(&p);
	}
	if (*p) {
		fprintf(s->out, "%s: unexpected '", cmd);
		bc_put_escaped(s->out, p, 0);
		fputs("' (usage: ", s->out);
		fprintf(s->out, "%s [ADDRESS] [L COUNT])\n", cmd);
		return 1;
	}
	if (r->has_count && r->count == 0) {
		fprintf(s->out, "%s: the count must be at least 1\n", cmd);
		return 1;
	}
	return 0;
}

// Reads what it can of [address, address + size): valid[i] says whether
// buf[i] came from the dump. Holes are found one @unit at a time, so a
// value is either entirely readable or shown as "??". Dumps that store
// pages lose whole pages, so there a hole runs at least to the page end;
// small memory dumps store byte ranges and must be probed.
static void read_partial(struct bc_target *t, uint64_t address, uint8_t *buf, bool *valid,
			 size_t size, unsigned unit)
{
	bool paged = bc_target_info(t)->format != BC_DUMP_TRIAGE;
	size_t off = 0;
	while (off < size) {
		struct bc_error *err = bc_target_read(t, address + off, buf + off, size - off);
		if (!err) {
			memset(valid + off, 1, size - off);
			return;
		}
		size_t good = 0;
		uint64_t at = address + off;
		if (err->code == BC_ERR_FAULT && err->address > at && err->address - at < size - off)
			good = (size_t)(err->address - at) / unit * unit;
		bc_error_destroy(err);
		if (good) {
			err = bc_target_read(t, at, buf + off, good);
			memset(valid + off, !err, good);
			bc_error_destroy(err);
			off += good;
		}
		if (off >= size)
			break;
		err = bc_target_read(t, address + off, buf + off, unit);
		size_t skip = unit;
		if (err && paged) {
			uint64_t to_page_end = 0x1000 - ((address + off) & 0xfff);
			skip = to_page_end < size - off ? (size_t)to_page_end : size - off;
			skip = (skip + unit - 1) / unit * unit;
		} else if (err) {
			// A small memory dump: jump to the next stored region in one step.
			uint64_t next = bc_target_next_stored(t, address + off + unit, address + size);
			skip = (size_t)(next - (address + off));
			skip = (skip + unit - 1) / unit * unit;
			if (skip > size - off)
				skip = size - off;
		}
		memset(valid + off, !err, skip);
		bc_error_destroy(err);
		off += skip;
	}
}

static uint64_t get_le(const uint8_t *b, unsigned size)
{
	uint64_t v = 0;
	for (unsigned i = size; i-- > 0;)
		v = v << 8 | b[i];
	return v;
}

// One value: "%0*x", qwords backticked, "??" per byte when unreadable.
static void print_value(FILE *o, const uint8_t *b, bool ok, unsigned unit)
{
	if (unit == 8) {
		char hex[24];
		if (ok)
			fputs(bc_fmt_ptr(hex, get_le(b, 8), 8), o);
		else
			fputs("????????`????????", o);
		return;
	}
	if (ok)
		fprintf(o, "%0*" PRIx64, 2 * (int)unit, get_le(b, unit));
	else
		for (unsigned i = 0; i < 2 * unit; i++)
			fputc('?', o);
}

static void print_ascii(FILE *o, const uint8_t *b, const bool *valid, size_t n)
{
	char text[LINE_BYTES + 1];
	for (size_t i = 0; i < n; i++)
		text[i] = !valid[i] ? '?' : b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '.';
	text[n] = 0;
	bc_put_escaped(o, text, 0);  // printable by construction; escaped like all dump text
}

// db/dw/dd/dq/dc: 16 bytes a line.
static void show_numbers(struct bc_session *s, const struct display *d, uint64_t address,
			 uint64_t bytes)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	unsigned per_line = LINE_BYTES / d->unit;
	for (uint64_t done = 0; done < bytes; done += LINE_BYTES) {
		uint64_t line = address + done;
		size_t n = bytes - done < LINE_BYTES ? (size_t)(bytes - done) : LINE_BYTES;
		uint8_t b[LINE_BYTES];
		bool valid[LINE_BYTES];
		read_partial(s->target, line, b, valid, n, d->unit);
		char addr[24];
		fprintf(s->out, "%s ", bc_fmt_ptr(addr, line, ps));
		for (unsigned i = 0; i < per_line; i++) {
			// db puts '-' between the 8th and 9th byte, WinDbg style.
			char sep = d->unit == 1 && i == 8 ? '-' : ' ';
			if (i * d->unit < n) {
				fputc(sep, s->out);
				print_value(s->out, b + i * d->unit, valid[i * d->unit], d->unit);
			} else if (d->ascii) {
				// Pad a short last line so the ASCII column stays aligned.
				fprintf(s->out, "%*s", 1 + 2 * (int)d->unit + (d->unit == 8), "");
			}
		}
		if (d->ascii) {
			fputs("  ", s->out);
			print_ascii(s->out, b, valid, n);
		}
		fputc('\n', s->out);
	}
}

// dps/dqs/dds: one value a line, then the module it points into.
static void show_pointers(struct bc_session *s, unsigned unit, uint64_t address, uint64_t count)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t at = address + i * unit;
		uint8_t b[8];
		bool valid[8];
		read_partial(s->target, at, b, valid, unit, unit);
		char addr[24], label[160];
		fprintf(s->out, "%s  ", bc_fmt_ptr(addr, at, ps));
		print_value(s->out, b, valid[0], unit);
		if (valid[0]) {
			uint64_t v = get_le(b, unit);
			if (unit == 4 && ps == 4)
				v = (uint64_t)(int64_t)(int32_t)(uint32_t)v;  // kernel addresses sign-extended
			if (bc_cmd_module_label(s, v, label, sizeof(label))) {
				fputc(' ', s->out);
				bc_put_escaped(s->out, label, 0);
			}
		}
		fputc('\n', s->out);
	}
}

// Number of bytes of UTF-8 text holding the first @chars code points of @s.
static size_t utf8_prefix(const char *s, size_t chars)
{
	size_t i = 0;
	while (s[i] && chars) {
		i++;
		while (((unsigned char)s[i] & 0xc0) == 0x80)
			i++;
		chars--;
	}
	return i;
}

// da/du: the string in quotes, 48 characters a line. Returns the bytes covered.
static uint64_t show_string(struct bc_session *s, const struct display *d, uint64_t address,
			    uint64_t max_chars)
{
	unsigned ps = bc_target_info(s->target)->pointer_size;
	size_t size = (size_t)max_chars * 4 + 1;  // UTF-8 of BMP text needs at most 3 bytes a unit
	char *text = malloc(size);
	char addr[24];
	if (!text) {
		fprintf(s->out, "%s: out of memory\n", d->name);
		return 0;
	}
	size_t len = 0;
	struct bc_error *err = bc_target_read_string(s->target, address, d->wide, (size_t)max_chars,
						     text, size, &len);
	if (err) {
		bc_error_destroy(err);
		fprintf(s->out, "%s  ????????\n", bc_fmt_ptr(addr, address, ps));
		free(text);
		return d->unit;
	}
	const char *p = text;
	uint64_t at = address;
	do {
		size_t n = utf8_prefix(p, STRING_LINE_CHARS);
		char chunk[STRING_LINE_CHARS * 4 + 1];
		memcpy(chunk, p, n);
		chunk[n] = 0;
		fprintf(s->out, "%s  \"", bc_fmt_ptr(addr, at, ps));
		bc_put_escaped(s->out, chunk, 0);
		fputs("\"\n", s->out);
		p += n;
		at += (uint64_t)STRING_LINE_CHARS * d->unit;
	} while (*p);
	free(text);
	return ((uint64_t)len + 1) * d->unit;
}

static const struct display *find_display(const char *cmd)
{
	for (size_t i = 0; i < sizeof(displays) / sizeof(displays[0]); i++) {
		if (!strcmp(displays[i].name, cmd))
			return &displays[i];
	}
	return NULL;
}

// How many units to show: the L count (capped) or WinDbg's default.
static uint64_t unit_count(struct bc_session *s, const struct display *d, unsigned unit,
			   const struct range *r)
{
	if (d->kind == SHOW_STRING) {
		if (!r->has_count)
			return DEFAULT_CHARS;
		if (r->count > MAX_CHARS) {
			fprintf(s->out, "%s: showing at most %#x characters\n", d->name, MAX_CHARS);
			return MAX_CHARS;
		}
		return r->count;
	}
	if (!r->has_count)
		return DEFAULT_BYTES / unit;
	uint64_t cap = (r->big ? MAX_BYTES_BIG : MAX_BYTES) / unit;
	if (r->count > cap) {
		fprintf(s->out, "%s: count %#" PRIx64 " capped to %#" PRIx64 " (%#x bytes)%s\n",
			d->name, r->count, cap, r->big ? MAX_BYTES_BIG : MAX_BYTES,
			r->big ? "" : "; L? allows up to 256 MiB");
		return cap;
	}
	return r->count;
}

int cmd_display(struct bc_session *s, const char *cmd, const char *args)
{
	const struct display *d = find_display(cmd);
	struct range r;
	if (!d) {
		fprintf(s->out, "%s: unknown display command\n", cmd);
		return 1;
	}
	if (parse_range(s, cmd, args, &r))
		return 1;
	const struct bc_dump_info *info = bc_target_info(s->target);
	unsigned unit = d->unit ? d->unit : info->pointer_size;
	uint64_t address = r.address;
	if (!r.has_address) {
		if (!s->last_display[0]) {
			fprintf(s->out, "%s: no address given and nothing displayed before\n", cmd);
			return 1;
		}
		address = s->next_display_address;
	}
	// 32-bit kernels' addresses are sign-extended: "dd 8fb7f0fc" reads ffffffff`8fb7f0fc.
	if (info->pointer_size == 4)
		address = (uint64_t)(int64_t)(int32_t)(uint32_t)address;
	uint64_t count = unit_count(s, d, unit, &r);
	uint64_t bytes;
	switch (d->kind) {
	case SHOW_NUMBERS:
		bytes = count * unit;
		show_numbers(s, d, address, bytes);
		break;
	case SHOW_POINTERS:
		bytes = count * unit;
		show_pointers(s, unit, address, count);
		break;
	case SHOW_STRING:
	default:
		bytes = show_string(s, d, address, count);
		break;
	}
	snprintf(s->last_display, sizeof(s->last_display), "%s", cmd);
	s->next_display_address = address + bytes;
	return 0;
}
