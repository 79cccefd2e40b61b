// The known-problem driver list (bugcheck/known_drivers.h): parses the
// compiled-in data/known_drivers.txt (format at its top) into a caller-owned
// object and finds the entry for a driver image. The parser trusts nothing:
// every line is checked, counts and lengths are capped, and a bad line is
// refused with its number.
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_private.h"
#include "base/words.h"
#include "bugcheck/known_drivers.h"

// The text tools/embed_text.cmake generates from data/known_drivers.txt.
extern const char bc_known_drivers_text[];
extern const size_t bc_known_drivers_text_size;

// Caps far above the data's size, so a runaway text cannot take all memory
// or make lookups slow.
enum {
	MAX_ENTRIES = 4096,
	MAX_LINE = 512,     // bytes of one line, its newline excluded
	MAX_PATTERN = 64,   // an image name or prefix
	MIN_PREFIX = 3,     // "a*" would name half the drivers of a machine
	MIN_YEAR = 1990,    // no 32-bit Windows NT driver is older
	MAX_YEAR = 2100,
};

static const char *const categories[] = {
	"storage",        "antivirus",  "anticheat", "vpn-network", "graphics",
	"virtualization", "monitoring", "overclocking-tools", "audio", "other",
};

struct entry {
	struct bc_known_driver pub;
	bool prefix;       // the pattern ends in '*'
	size_t stem_len;   // the pattern's length without the '*'
};

struct bc_known_drivers {
	char *text;  // an owned copy, cut into NUL-terminated strings in place
	struct entry *entries;
	size_t count, cap;
};

// Where the parser is, for messages.
struct parse_state {
	struct bc_known_drivers *kd;
	const char *what;
	size_t line;
	size_t line_offset;
	struct entry *entry;  // the entry being filled, or NULL
};

static struct bc_error *line_error(const struct parse_state *ps, const char *problem)
{
	return bc_error_format(ps->line_offset, "%s line %zu: %s", ps->what, ps->line, problem);
}

BC_PUBLIC uint64_t bc_known_drivers_year_start(unsigned year)
{
	if (year <= 1970)
		return 0;
	// Leap years before @y: every 4th, not every 100th, every 400th.
	uint64_t y = year - 1, e = 1969;
	uint64_t leaps = (y / 4 - y / 100 + y / 400) - (e / 4 - e / 100 + e / 400);
	return ((uint64_t)(year - 1970) * 365 + leaps) * 86400;
}

// Image names: letters, digits and "_-.$~+"; a '*' only at the end.
static const char *check_pattern(const char *p, bool *prefix, size_t *stem_len)
{
	size_t n = strlen(p);
	if (n > MAX_PATTERN)
		return "driver: the image name is longer than 64 characters";
	*prefix = n && p[n - 1] == '*';
	*stem_len = *prefix ? n - 1 : n;
	for (size_t i = 0; i < *stem_len; i++) {
		char c = p[i];
		if (c == '*')
			return "driver: '*' may only end a pattern";
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("_-.$~+", c)))
			return "driver: an image name has only letters, digits and _-.$~+";
	}
	if (*prefix && *stem_len < MIN_PREFIX)
		return "driver: a prefix pattern needs at least 3 characters before its '*'";
	if (!*prefix && (!strchr(p, '.') || p[0] == '.' || p[n - 1] == '.'))
		return "driver: an exact image name needs its extension (iaStor.sys)";
	return NULL;
}

static bool grow(struct bc_known_drivers *kd)
{
	if (kd->count < kd->cap)
		return true;
	size_t want = kd->cap ? kd->cap * 2 : 64;
	if (want > MAX_ENTRIES)
		want = MAX_ENTRIES;
	if (kd->count >= want)
		return false;
	struct entry *bigger = realloc(kd->entries, want * sizeof(*bigger));
	if (!bigger)
		return false;
	kd->entries = bigger;
	kd->cap = want;
	return true;
}

// Checks that the entry just finished has every required field.
static struct bc_error *finish_entry(struct parse_state *ps)
{
	const struct entry *e = ps->entry;
	if (!e)
		return NULL;
	const char *missing = !e->pub.category ? "category"
			      : !e->pub.vendor ? "vendor"
			      : !e->pub.problem ? "problem"
			      : !e->pub.advice  ? "advice"
						: NULL;
	if (missing)
		return bc_error_format(UINT64_MAX, "%s line %zu: %s has no %s line", ps->what,
				       e->pub.line, e->pub.pattern, missing);
	return NULL;
}

static struct bc_error *parse_driver_line(struct parse_state *ps, char *rest)
{
	struct bc_error *err = finish_entry(ps);
	if (err)
		return err;
	ps->entry = NULL;
	char *pattern = bc_next_word(&rest);
	if (!pattern || *rest)
		return line_error(ps, "driver: expected one image name or prefix");
	bool prefix;
	size_t stem_len;
	const char *problem = check_pattern(pattern, &prefix, &stem_len);
	if (problem)
		return line_error(ps, problem);
	// No entry may ever blame Windows' own images (data/inbox_drivers.txt):
	// the kernel, the storage, file system, network or graphics stacks.
	char ms[64];
	if (bc_analysis_inbox_match(pattern, stem_len, prefix, ms, sizeof(ms)))
		return bc_error_format(ps->line_offset,
				       "%s line %zu: %s would name Microsoft's %s; Windows' own "
				       "drivers are not listed",
				       ps->what, ps->line, pattern, ms);
	struct bc_known_drivers *kd = ps->kd;
	for (size_t i = 0; i < kd->count; i++) {
		const struct entry *old = &kd->entries[i];
		if (old->prefix == prefix && old->stem_len == stem_len &&
		    !strncasecmp(old->pub.pattern, pattern, stem_len))
			return bc_error_format(ps->line_offset,
					       "%s line %zu: %s is already listed on line %zu",
					       ps->what, ps->line, pattern, old->pub.line);
	}
	if (kd->count >= MAX_ENTRIES)
		return line_error(ps, "more than 4096 drivers");
	if (!grow(kd))
		return &bc_enomem;
	struct entry *e = &kd->entries[kd->count++];
	memset(e, 0, sizeof(*e));
	e->pub.pattern = pattern;
	e->pub.line = ps->line;
	e->prefix = prefix;
	e->stem_len = stem_len;
	ps->entry = e;
	return NULL;
}

static struct bc_error *parse_category(struct parse_state *ps, char *rest)
{
	char *word = bc_next_word(&rest);
	for (size_t i = 0; word && !*rest && i < sizeof(categories) / sizeof(categories[0]); i++) {
		if (!strcmp(word, categories[i])) {
			ps->entry->pub.category = categories[i];
			return NULL;
		}
	}
	return line_error(ps, "category: expected one of storage, antivirus, anticheat, "
			      "vpn-network, graphics, virtualization, monitoring, "
			      "overclocking-tools, audio, other");
}

static struct bc_error *parse_year(struct parse_state *ps, char *rest)
{
	char *word = bc_next_word(&rest);
	if (!word || *rest || strlen(word) != 4 || strspn(word, "0123456789") != 4)
		return line_error(ps, "old-before: expected a year of four digits");
	unsigned year = (unsigned)strtoul(word, NULL, 10);
	if (year < MIN_YEAR || year > MAX_YEAR)
		return line_error(ps, "old-before: the year must be between 1990 and 2100");
	ps->entry->pub.old_before_year = year;
	return NULL;
}

// vendor, problem and advice: words; problem and advice are one sentence.
static struct bc_error *parse_words(struct parse_state *ps, const char *keyword, char *rest,
				    const char **target)
{
	if (!*rest)
		return bc_error_format(ps->line_offset, "%s line %zu: %s: empty", ps->what,
				       ps->line, keyword);
	if (target == &ps->entry->pub.vendor) {
		if (!strncasecmp(rest, "Microsoft", 9))
			return line_error(ps, "vendor: Windows' own drivers are not listed");
	} else if (rest[strlen(rest) - 1] != '.') {
		return bc_error_format(ps->line_offset,
				       "%s line %zu: %s: one sentence, ending with '.'", ps->what,
				       ps->line, keyword);
	}
	*target = rest;
	return NULL;
}

static struct bc_error *parse_line(struct parse_state *ps, char *line)
{
	static const char *const keywords[] = { "category", "vendor", "problem", "advice",
						"old-before" };
	char *rest = line;
	char *keyword = bc_next_word(&rest);
	if (!strcmp(keyword, "driver"))
		return parse_driver_line(ps, rest);
	size_t k = 0;
	while (k < 5 && strcmp(keyword, keywords[k]))
		k++;
	if (k == 5)
		return line_error(ps, "unknown keyword (driver, category, vendor, old-before, "
				      "problem, advice)");
	struct entry *e = ps->entry;
	if (!e)
		return bc_error_format(ps->line_offset, "%s line %zu: %s before any driver line",
				       ps->what, ps->line, keyword);
	const char **fields[4] = { &e->pub.category, &e->pub.vendor, &e->pub.problem,
				   &e->pub.advice };
	const char **target = k < 4 ? fields[k] : NULL;
	if (target ? *target != NULL : e->pub.old_before_year != 0)
		return bc_error_format(ps->line_offset,
				       "%s line %zu: %s: given twice for %s (line %zu)", ps->what,
				       ps->line, keyword, e->pub.pattern, e->pub.line);
	if (!target)
		return parse_year(ps, rest);
	if (k == 0)
		return parse_category(ps, rest);
	return parse_words(ps, keyword, rest, target);
}

// Cuts the copied text into lines, checks each and hands the statements on.
static struct bc_error *parse_text(struct parse_state *ps, char *copy, size_t size)
{
	size_t at = 0;
	ps->line = 0;
	while (at < size) {
		char *line = copy + at;
		char *nl = memchr(line, '\n', size - at);
		size_t n = nl ? (size_t)(nl - line) : size - at;
		ps->line++;
		ps->line_offset = at;
		at += n + 1;
		if (n > MAX_LINE)
			return line_error(ps, "longer than 512 bytes");
		if (memchr(line, '\0', n))
			return line_error(ps, "a NUL byte");
		line[n] = '\0';
		while (n && (line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t'))
			line[--n] = '\0';
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)line[i];
			if ((c < 0x20 && c != '\t') || c >= 0x7f)
				return line_error(ps, "only printable ASCII, please");
		}
		const char *first = line + strspn(line, " \t");
		if (!*first || *first == '#')
			continue;
		struct bc_error *err = parse_line(ps, line);
		if (err)
			return err;
	}
	return finish_entry(ps);
}

BC_PUBLIC void bc_known_drivers_close(struct bc_known_drivers *kd)
{
	if (!kd)
		return;
	free(kd->text);
	free(kd->entries);
	free(kd);
}

BC_PUBLIC struct bc_error *bc_known_drivers_parse(const char *text, size_t size, const char *what,
						  struct bc_known_drivers **ret)
{
	*ret = NULL;
	if (!text && size)
		return bc_error_create(BC_ERR_INVALID_ARG, "no text");
	struct bc_known_drivers *kd = calloc(1, sizeof(*kd));
	if (!kd || size == SIZE_MAX || !(kd->text = malloc(size + 1))) {
		free(kd);
		return &bc_enomem;
	}
	if (size)
		memcpy(kd->text, text, size);
	kd->text[size] = '\0';
	struct parse_state ps = { .kd = kd, .what = what ? what : "known_drivers.txt" };
	struct bc_error *err = parse_text(&ps, kd->text, size);
	if (!err && !kd->count)
		err = bc_error_format(UINT64_MAX, "%s: no drivers listed", ps.what);
	if (err) {
		bc_known_drivers_close(kd);
		return err;
	}
	*ret = kd;
	return NULL;
}

BC_PUBLIC struct bc_error *bc_known_drivers_open(struct bc_known_drivers **ret)
{
	return bc_known_drivers_parse(bc_known_drivers_text, bc_known_drivers_text_size,
				      "known_drivers.txt", ret);
}

BC_PUBLIC size_t bc_known_drivers_count(const struct bc_known_drivers *kd)
{
	return kd ? kd->count : 0;
}

BC_PUBLIC const struct bc_known_driver *bc_known_drivers_entry(const struct bc_known_drivers *kd,
								 size_t i)
{
	return kd && i < kd->count ? &kd->entries[i].pub : NULL;
}

BC_PUBLIC const struct bc_known_driver *bc_known_drivers_lookup(const struct bc_known_drivers *kd,
								  const char *image_name,
								  uint32_t timestamp)
{
	if (!kd || !image_name)
		return NULL;
	// "\SystemRoot\System32\drivers\iaStor.sys" -> "iaStor.sys"
	const char *base = image_name;
	for (const char *p = image_name; *p; p++)
		if (*p == '\\' || *p == '/')
			base = p + 1;
	if (!*base)
		return NULL;
	const struct entry *best = NULL;
	size_t best_score = 0;  // an exact name: SIZE_MAX; a prefix: its length
	for (size_t i = 0; i < kd->count; i++) {
		const struct entry *e = &kd->entries[i];
		if (e->pub.old_before_year && timestamp &&
		    timestamp >= bc_known_drivers_year_start(e->pub.old_before_year))
			continue;  // the image is newer than the problem
		size_t score;
		if (e->prefix)
			score = strncasecmp(base, e->pub.pattern, e->stem_len) ? 0 : e->stem_len;
		else
			score = strcasecmp(base, e->pub.pattern) ? 0 : SIZE_MAX;
		if (score > best_score) {
			best = e;
			best_score = score;
		}
	}
	return best ? &best->pub : NULL;
}
