// The evidence for a verdict, how sure it is, the verdict in one sentence
// and what to do next: what an expert would write under WinDbg's fields.
//
// Each fact is checked against the dump, never assumed from the bug check:
// the faulting instruction's module, parameters that point into images, how
// the blamed frame was found, Driver Verifier's state, the image's age, the
// other processors' IPI state, and pointers one bit away from valid ones.
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "analysis/analysis_private.h"
#include "bugcheck/known_drivers.h"
#include "bugcheck/kobj.h"
#include "bugcheck/pe.h"
#include "bugcheck/symbols.h"
#include "bugcheck/whea.h"

BC_PUBLIC const char *bc_confidence_name(enum bc_confidence confidence)
{
	switch (confidence) {
	case BC_CONFIDENCE_HIGH: return "high";
	case BC_CONFIDENCE_MEDIUM: return "medium";
	case BC_CONFIDENCE_LOW: break;
	}
	return "low";
}

BC_PUBLIC const char *bc_evidence_kind_name(enum bc_evidence_kind kind)
{
	switch (kind) {
	case BC_EVIDENCE_FAULT_IN_MODULE: return "fault";
	case BC_EVIDENCE_PARAMETER: return "parameter";
	case BC_EVIDENCE_FRAME: return "frame";
	case BC_EVIDENCE_SCAN_ONLY: return "scan";
	case BC_EVIDENCE_VERIFIER: return "verifier";
	case BC_EVIDENCE_IMAGE_AGE: return "image_age";
	case BC_EVIDENCE_KNOWN_PROBLEM: return "known_problem";
	case BC_EVIDENCE_PROCESSORS: return "processors";
	case BC_EVIDENCE_HARDWARE: return "hardware";
	case BC_EVIDENCE_BUGCHECK: return "bugcheck";
	case BC_EVIDENCE_POOL: return "pool";
	}
	return "other";
}

// snprintf for sentences, where cutting a long name short is acceptable.
static void format_into(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void format_into(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

// The year Windows builds were released, to date an OS against its drivers.
static unsigned build_year(uint32_t build)
{
	static const struct {
		uint32_t build;
		unsigned year;
	} years[] = {
		{ 2600, 2001 },  { 3790, 2003 },  { 6000, 2006 },  { 6001, 2008 },  { 7600, 2009 },
		{ 7601, 2011 },  { 9200, 2012 },  { 9600, 2013 },  { 10240, 2015 }, { 10586, 2015 },
		{ 14393, 2016 }, { 15063, 2017 }, { 16299, 2017 }, { 17134, 2018 }, { 17763, 2018 },
		{ 18362, 2019 }, { 18363, 2019 }, { 19041, 2020 }, { 19042, 2020 }, { 19043, 2021 },
		{ 19044, 2021 }, { 19045, 2022 }, { 20348, 2021 }, { 22000, 2021 }, { 22621, 2022 },
		{ 22631, 2023 }, { 26100, 2024 },
	};
	unsigned year = 0;
	for (size_t i = 0; i < sizeof(years) / sizeof(years[0]); i++)
		if (years[i].build <= build)
			year = years[i].year;
	return year;
}

static bool stack_has(const struct bc_analysis *a, const char *prefix);

// Bug checks whose verdict is not "the blamed frame's module failed".
enum family {
	FAMILY_FAULT = 0,   // a fault or check in code: blame the stack
	FAMILY_MANUAL,      // started on purpose: no component failed
	FAMILY_HARDWARE,    // the processor or platform reported an error
	FAMILY_WATCHDOG,    // a processor or DPC stopped making progress
	FAMILY_CORRUPTION,  // Windows found its memory damaged after the fact
};

static const struct {
	uint32_t code;
	enum family family;
} families[] = {
	{ 0xE2, FAMILY_MANUAL },       { 0x1C8, FAMILY_MANUAL },    { 0xDEADDEAD, FAMILY_MANUAL },
	{ 0x124, FAMILY_HARDWARE },    { 0x9C, FAMILY_HARDWARE },   { 0x80, FAMILY_HARDWARE },
	{ 0x12B, FAMILY_HARDWARE },    { 0x101, FAMILY_WATCHDOG },  { 0x133, FAMILY_WATCHDOG },
	{ 0x19, FAMILY_CORRUPTION },   { 0x1A, FAMILY_CORRUPTION }, { 0xC2, FAMILY_CORRUPTION },
	{ 0xC5, FAMILY_CORRUPTION },   { 0x139, FAMILY_CORRUPTION }, { 0x13A, FAMILY_CORRUPTION },
	{ 0x4E, FAMILY_CORRUPTION },
};

static enum family family_of(uint32_t code)
{
	code = bc_analysis_base_code(code);
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (families[i].code == code)
			return families[i].family;
	return FAMILY_FAULT;
}

// The UTC date of a PE timestamp.
static void timestamp_date(uint32_t timestamp, struct tm *tm)
{
	time_t t = (time_t)timestamp;
	gmtime_r(&t, tm);
}

// The module and "module+0xoff"/"module!sym+0xoff" of @address; NULL when no module covers it.
static const struct bc_module *where(struct bc_target *target, uint64_t address, char *label,
				     size_t size)
{
	struct bc_address_symbol as;
	bc_target_describe_address(target, address, &as);
	if (!as.module)
		return NULL;
	bc_target_format_address(target, address, label, size);
	return as.module;
}

static bool is_blamed_module(const struct bc_analysis *a, const struct bc_module *m)
{
	return a->has_culprit && a->culprit.has_module && !strcasecmp(m->name, a->culprit.image);
}

static bool fault_and_parameters(struct bc_target *target,
				 const struct bc_bugcheck_info *meaning, struct bc_analysis *a)
{
	bool confirms = false;
	char label[320];
	if (a->has_faulting_ip) {
		const struct bc_module *m = where(target, a->faulting_ip, label, sizeof(label));
		if (m && is_blamed_module(a, m)) {
			confirms = true;
			bc_analysis_evidence(a, BC_EVIDENCE_FAULT_IN_MODULE,
					     "the faulting instruction %#" PRIx64 " (%s) lies in %s",
					     a->faulting_ip, label, m->name);
		} else if (m) {
			bc_analysis_evidence(a, BC_EVIDENCE_FAULT_IN_MODULE,
					     "the faulting instruction %#" PRIx64 " (%s) lies in %s%s",
					     a->faulting_ip, label, m->name,
					     a->has_culprit
						     ? ", which the triage rules pass over or rank lower"
						     : "");
		} else {
			bc_analysis_evidence(a, BC_EVIDENCE_FAULT_IN_MODULE,
					     "the faulting instruction %#" PRIx64 " lies in no loaded module",
					     a->faulting_ip);
		}
	}
	for (unsigned i = 0; meaning && i < 4; i++) {
		enum bc_bugcheck_arg_kind kind = meaning->args[i].kind;
		if (kind != BC_BUGCHECK_ARG_ADDRESS && kind != BC_BUGCHECK_ARG_POINTER &&
		    kind != BC_BUGCHECK_ARG_UNKNOWN)
			continue;
		if (a->has_faulting_ip && a->params[i] == a->faulting_ip)
			continue;  // already told
		const struct bc_module *m = where(target, a->params[i], label, sizeof(label));
		if (!m)
			continue;
		if (is_blamed_module(a, m))
			confirms = true;
		bc_analysis_evidence(a, BC_EVIDENCE_PARAMETER, "Arg%u (%s) points into %s: %s",
				     i + 1, meaning->args[i].text[0] ? meaning->args[i].text
								     : "undocumented",
				     m->name, label);
	}
	return confirms;
}

static void bugcheck_meaning(const struct bc_bugcheck_info *meaning, struct bc_analysis *a)
{
	for (unsigned i = 0; meaning && i < 4; i++)
		if (meaning->args[i].kind == BC_BUGCHECK_ARG_CODE && meaning->args[i].value_label)
			bc_analysis_evidence(a, BC_EVIDENCE_BUGCHECK, "%s (%#" PRIx32 ") with Arg%u = %#" PRIx64
					     ": %s", meaning->name, a->code, i + 1, a->params[i],
					     meaning->args[i].value_label);
}

static void blamed_frame(struct bc_analysis *a)
{
	if (!a->has_culprit) {
		bc_analysis_evidence(a, BC_EVIDENCE_FRAME,
				     a->frame_count ? "no frame of the failing stack has an owner under the "
						      "triage rules"
						    : "there is no failing stack to judge");
		return;
	}
	const struct bc_analysis_frame *f = &a->culprit;
	if (a->culprit_is_fault) {
		bc_analysis_evidence(a, BC_EVIDENCE_FRAME,
				     "the stack could not be unwound past Windows' own frames to the "
				     "fault; the faulting instruction's module %s has an owner under "
				     "rule %s=%s (%s line %u), and no unwound frame has a definite one",
				     f->image, f->rule, f->owner, f->rule_source, f->match.line);
		return;
	}
	size_t passed = a->blamed;
	char rule[300] = "no rule";
	if (f->rule[0])
		format_into(rule, sizeof(rule), "rule %s=%s%s (%s line %u)", f->rule,
			 f->match.verdict == BC_TRIAGE_MAYBE ? "maybe_" : f->match.verdict == BC_TRIAGE_LAST
			 ? "last_" : "", f->owner, f->rule_source, f->match.line);
	bc_analysis_evidence(a, BC_EVIDENCE_FRAME,
			     "frame %zu (%s) is the first the triage rules give an owner (%s, %s); "
			     "%zu frame%s above it %s passed over",
			     a->blamed, a->symbol_name, bc_frame_source_name(f->frame.source), rule,
			     passed, passed == 1 ? "" : "s", passed == 1 ? "was" : "were");
	if (a->scan_alternative < a->frame_count &&
	    strcasecmp(a->frames[a->scan_alternative].image, f->image))
		bc_analysis_evidence(
			a, BC_EVIDENCE_SCAN_ONLY,
			"%s (frame %zu) would be blamed if the frames found by scanning the stack were "
			"callers; they are unconfirmed, so they do not outrank frame %zu",
			a->frames[a->scan_alternative].image, a->scan_alternative, a->blamed);
	if (f->frame.source == BC_FRAME_SCAN)
		bc_analysis_evidence(a, BC_EVIDENCE_SCAN_ONLY,
				     "%s was found only by scanning the stack for return addresses: it "
				     "may be stale data rather than a caller",
				     f->image);
}

// Driver Verifier's own frames on the failing stack: it caught the driver in the act.
static bool verifier_on_stack(const struct bc_analysis *a)
{
	return stack_has(a, "Verifier") || stack_has(a, "MmVerifier") || stack_has(a, "Vf");
}

static void verifier_evidence(struct bc_analysis *a)
{
	bool verifier_frames = verifier_on_stack(a);
	if (!a->verifier_enabled)
		return;
	bc_analysis_evidence(a, BC_EVIDENCE_VERIFIER,
			     "Driver Verifier was on (flags %#" PRIx32 ")%s%s%s", a->verifier_level,
			     a->module_verified ? " and watching " : "",
			     a->module_verified ? a->image_name : "",
			     verifier_frames ? "; its frames are on the failing stack: it caught the "
					       "driver in the act" : "");
}

// Years between the image's timestamp and the OS build; only for images that
// are not Microsoft's (whose Windows 10 timestamps are hashes, not dates).
static unsigned image_age(struct bc_target *target, struct bc_analysis *a, struct tm *tm)
{
	if (!a->has_image_timestamp || a->image_timestamp_is_hash || a->module_index == SIZE_MAX ||
	    a->inbox_image)
		return 0;
	timestamp_date(a->image_timestamp, tm);
	unsigned year = (unsigned)tm->tm_year + 1900;
	unsigned os_year = build_year(bc_target_info(target)->build);
	if (year < 1995 || !os_year || year + 2 > os_year)
		return 0;
	bc_analysis_evidence(a, BC_EVIDENCE_IMAGE_AGE,
			     "%s is dated %04u-%02d-%02d, %u years before this Windows build (%" PRIu32
			     ", %u)", a->image_name, year, tm->tm_mon + 1, tm->tm_mday, os_year - year,
			     bc_target_info(target)->build, os_year);
	return os_year - year;
}

// While this processor sent an IPI: how many others were frozen and could
// not answer it. (Every dump finds the others frozen, since the bug check
// freezes them; it is evidence only on a stack that waits for an IPI.)
static void processors_evidence(struct bc_target *target, struct bc_analysis *a,
				unsigned *frozen_ret)
{
	*frozen_ret = 0;
	uint32_t count = bc_target_info(target)->processors, current =
		bc_target_current_processor(target);
	unsigned frozen = 0, read = 0;
	for (uint32_t p = 0; p < count && p < 4096; p++) {
		uint64_t prcb, state;
		if (p == current)
			continue;
		struct bc_error *err = bc_target_prcb(target, p, &prcb);
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		if (!bc_kernel_read_optional(target, prcb, "_KPRCB", "IpiFrozen", &state))
			continue;
		read++;
		const char *name = bc_ipi_frozen_name((uint32_t)state);
		if (name && !strcmp(name, "Frozen"))
			frozen++;
	}
	if (!read)
		return;
	*frozen_ret = frozen;
	bc_analysis_evidence(a, BC_EVIDENCE_PROCESSORS,
			     "the failing stack was sending an IPI; %u of the %u other processors %s "
			     "frozen (KPRCB.IpiFrozen) and could not answer it",
			     frozen, read, frozen == 1 ? "was" : "were");
}

// A non-canonical x64 address one bit away from a canonical one: RAM or bus, not code.
static void bit_flip_evidence(struct bc_analysis *a)
{
	if (a->machine != BC_MACHINE_X64)
		return;
	uint32_t code = bc_analysis_base_code(a->code);
	if (code != 0x0A && code != 0xD1 && code != 0x50)
		return;
	uint64_t address = a->params[0];
	uint64_t top = address >> 47;
	if (top == 0 || top == 0x1ffff)
		return;
	for (unsigned bit = 47; bit < 64; bit++) {
		uint64_t flipped = address ^ (1ull << bit);
		uint64_t t = flipped >> 47;
		if (t == 0x1ffff || t == 0) {
			bc_analysis_evidence(a, BC_EVIDENCE_HARDWARE,
					     "the referenced address %#" PRIx64 " is not canonical but "
					     "differs by one bit (bit %u) from %#" PRIx64 ": possibly a "
					     "memory or bus fault rather than a software bug",
					     address, bit, flipped);
			bc_analysis_advise(a, "Test the RAM (Windows Memory Diagnostic or MemTest86) "
					      "and check overclocking and XMP settings");
			return;
		}
	}
}

// 0x124: what the WHEA error record in Arg2 says failed; the part to suspect
// goes to @part ("the processor", "the memory").
static void whea_evidence(struct bc_target *target, struct bc_analysis *a, char *part,
			  size_t size)
{
	if (bc_analysis_base_code(a->code) != 0x124)
		return;
	struct bc_whea_record *r = calloc(1, sizeof(*r));
	if (!r)
		return;
	struct bc_error *err = bc_target_read_whea(target, a->params[1], r);
	if (err) {
		bc_analysis_note(a, "the WHEA error record in Arg2 (%#" PRIx64 ") could not be read: %s",
				 a->params[1], err->message);
		bc_error_destroy(err);
		free(r);
		return;
	}
	bc_analysis_evidence(a, BC_EVIDENCE_HARDWARE,
			     "the WHEA error record at %#" PRIx64 " (!errrec): %s, %u section%s",
			     a->params[1], bc_whea_severity_name(r->severity), r->section_count,
			     r->section_count == 1 ? "" : "s");
	for (size_t i = 0; i < r->decoded_sections; i++) {
		const struct bc_whea_section *sec = &r->sections[i];
		char detail[256] = "";
		if (sec->kind == BC_WHEA_SECTION_PROCESSOR_GENERIC && sec->has_error_type) {
			format_into(detail, sizeof(detail), ": %s%s%s", bc_whea_error_type_name(sec->error_type),
				    sec->has_operation ? ", " : "",
				    sec->has_operation ? bc_whea_operation_name(sec->operation) : "");
			if (sec->has_level) {
				size_t n = strlen(detail);
				format_into(detail + n, sizeof(detail) - n, ", cache level %u", sec->level);
			}
			if (sec->has_processor_id) {
				size_t n = strlen(detail);
				format_into(detail + n, sizeof(detail) - n, ", processor id %#" PRIx64,
					    sec->processor_id);
			}
			if (!*part)
				format_into(part, size, "the processor (%s)",
					    bc_whea_error_type_name(sec->error_type));
		} else if (sec->kind == BC_WHEA_SECTION_MEMORY) {
			format_into(detail, sizeof(detail), ": %s",
				    sec->has_memory_error_type
					    ? bc_whea_memory_error_name(sec->memory_error_type)
					    : "memory error");
			if (sec->has_physical_address) {
				size_t n = strlen(detail);
				format_into(detail + n, sizeof(detail) - n, " at physical address %#" PRIx64,
					    sec->physical_address);
			}
			if (sec->has_dimm) {
				size_t n = strlen(detail);
				format_into(detail + n, sizeof(detail) - n,
					    ", node %u card %u module %u bank %u", sec->node, sec->card,
					    sec->module, sec->bank);
			}
			if (!*part)
				format_into(part, size, "the memory (RAM)");
		} else if (sec->kind == BC_WHEA_SECTION_PCIE || sec->kind == BC_WHEA_SECTION_PCI_BUS) {
			if (!*part)
				format_into(part, size, "a PCI Express device or slot");
		}
		bc_analysis_evidence(a, BC_EVIDENCE_HARDWARE, "section %zu: %s (%s%s)%s%s", i,
				     bc_whea_section_name(sec->kind), bc_whea_severity_name(sec->severity),
				     sec->flags & 1 ? ", primary" : "", detail,
				     sec->fits ? "" : "; the section lies outside the record");
	}
	free(r);
}

// A POOL_HEADER's pool tag: four printable characters (the last one's high
// bit marks a protected tag); false when the bytes cannot be one.
static bool pool_tag(const uint8_t *header, char tag[5])
{
	for (int i = 0; i < 4; i++) {
		uint8_t c = header[4 + i] & (i == 3 ? 0x7f : 0xff);
		if (c < 0x20 || c > 0x7e)
			return false;
		tag[i] = (char)c;
	}
	tag[4] = 0;
	return true;
}

// 0x19 BAD_POOL_HEADER: the headers its parameters point at. A POOL_HEADER
// (x64: PreviousSize, PoolIndex, BlockSize, PoolType a byte each, in 16-byte
// units; x86: 9, 7, 9 and 7 bits, in 8-byte units) is followed by the tag
// naming the allocation's owner; a damaged header was most often overrun by
// the block before it, PreviousSize units back.
static void pool_evidence(struct bc_target *target, const struct bc_bugcheck_info *meaning,
			  struct bc_analysis *a)
{
	if (bc_analysis_base_code(a->code) != 0x19 || !meaning)
		return;
	bool x86 = a->machine == BC_MACHINE_X86;
	unsigned unit = x86 ? 8 : 16;
	bool told_previous = false;
	for (unsigned i = 1; i < 4; i++) {
		const char *what = meaning->args[i].text;
		if (meaning->args[i].kind != BC_BUGCHECK_ARG_ADDRESS || !a->params[i] ||
		    (!strstr(what, "pool entry") && !strstr(what, "pool block") &&
		     !strstr(what, "being freed")))
			continue;
		// An entry is its header; a block being freed starts after it.
		uint64_t header_at = a->params[i] - (strstr(what, "entry") ? 0 : unit);
		uint8_t h[8];
		char tag[5];
		struct bc_error *err = bc_target_read(target, header_at, h, sizeof(h));
		if (err) {
			bc_error_destroy(err);
			continue;
		}
		uint32_t word = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
				(uint32_t)h[3] << 24;
		uint32_t previous = x86 ? word & 0x1ff : h[0];
		uint32_t block = x86 ? (word >> 16) & 0x1ff : h[2];
		uint32_t type = x86 ? word >> 25 : h[3];
		if (!pool_tag(h, tag)) {
			bc_analysis_evidence(a, BC_EVIDENCE_POOL,
					     "Arg%u (%s): the POOL_HEADER at %#" PRIx64 " has no "
					     "readable pool tag: the header itself is overwritten",
					     i + 1, what, header_at);
			continue;
		}
		bc_analysis_evidence(a, BC_EVIDENCE_POOL,
				     "Arg%u (%s): the POOL_HEADER at %#" PRIx64 " is tagged '%s' "
				     "(block size %#x, previous size %#x bytes, pool type %#x)",
				     i + 1, what, header_at, tag, block * unit, previous * unit, type);
		if (!previous || told_previous)
			continue;
		uint64_t before = header_at - (uint64_t)previous * unit;
		char before_tag[5];
		err = bc_target_read(target, before, h, sizeof(h));
		if (!err && pool_tag(h, before_tag)) {
			told_previous = true;
			bc_analysis_evidence(a, BC_EVIDENCE_POOL,
					     "the block before it, at %#" PRIx64 ", is tagged '%s': a "
					     "block written past its end damages the next header, so "
					     "that tag's owner is the first suspect",
					     before, before_tag);
			bc_analysis_advise(a, "Find the driver that uses pool tag '%s' (the tag is "
					      "in its image: search the drivers for it, or look it up "
					      "in pooltag.txt) and turn on special pool for it "
					      "(`verifier /flags 0x1 /driver NAME.sys`)", before_tag);
		}
		bc_error_destroy(err);
	}
}

static bool stack_has(const struct bc_analysis *a, const char *prefix)
{
	for (size_t i = 0; i < a->frame_count; i++)
		if (!strcmp(a->frames[i].module, "nt") &&
		    !strncmp(a->frames[i].function, prefix, strlen(prefix)))
			return true;
	return false;
}

// The culprit and the other third-party images on the failing stack that the
// known-problem list names; the culprit's entry goes to *@culprit_ret.
static void known_problems(struct bc_analysis *a, const struct bc_known_drivers *kd,
			   const struct bc_known_driver **culprit_ret)
{
	*culprit_ret = NULL;
	if (a->has_culprit && a->image_name[0] && !a->inbox_image) {
		uint32_t stamp = a->has_image_timestamp && !a->image_timestamp_is_hash
					 ? a->image_timestamp : 0;
		const struct bc_known_driver *k = bc_known_drivers_lookup(kd, a->image_name, stamp);
		if (k) {
			*culprit_ret = k;
			bc_analysis_evidence(a, BC_EVIDENCE_KNOWN_PROBLEM,
					     "%s is on the known-problem list (%s, %s, line %zu): %s%s",
					     a->image_name, k->category, k->vendor, k->line, k->problem,
					     k->old_before_year && !stamp
						     ? " (the list means releases older than that; this "
						       "image's date is unknown)"
						     : "");
		}
	}
	// Others on the stack: named once each, at most a few.
	size_t told = 0;
	for (size_t i = 0; i < a->frame_count && told < 3; i++) {
		const struct bc_analysis_frame *f = &a->frames[i];
		if (!f->has_module || !strcasecmp(f->image, a->image_name) ||
		    bc_analysis_inbox_image(f->image))
			continue;
		bool seen = false;
		for (size_t j = 0; j < i; j++)
			seen = seen || !strcasecmp(a->frames[j].image, f->image);
		if (seen)
			continue;
		const struct bc_known_driver *k = bc_known_drivers_lookup(kd, f->image, 0);
		if (!k)
			continue;
		told++;
		bc_analysis_evidence(a, BC_EVIDENCE_KNOWN_PROBLEM,
				     "%s (frame %zu%s) is also on the known-problem list (%s, %s): %s",
				     f->image, i, f->frame.source == BC_FRAME_SCAN ? ", found by scanning"
										 : "",
				     k->category, k->vendor, k->problem);
		bc_analysis_advise(a, "%s: %s", f->image, k->advice);
	}
}

static void summarize(struct bc_target *target, struct bc_analysis *a, unsigned frozen,
		      unsigned age, const struct tm *tm, const struct bc_known_driver *known,
		      const char *hardware_part)
{
	uint32_t code = bc_analysis_base_code(a->code);
	char what[256];
	if (code == 0x7F && a->params[0] == 8)
		format_into(what, sizeof(what), "A double fault (0x7F, Arg1 8)");
	else
		format_into(what, sizeof(what), "%s (%#" PRIx32 ")", a->has_name ? a->name : "Bug check",
			 a->code);
	char context[256] = "";
	if (stack_has(a, "KiIpiSend") && frozen)
		format_into(context, sizeof(context),
			 " while sending an IPI that %u frozen processor%s could not service", frozen,
			 frozen == 1 ? "" : "s");
	else if (a->has_faulting_ip) {
		char label[300];
		bc_target_format_address(target, a->faulting_ip, label, sizeof(label));
		if (*label)
			format_into(context, sizeof(context), " at %s", label);
	}
	char culprit[768];
	bool windows_own = a->inbox_image;
	enum family family = family_of(a->code);
	if (family == FAMILY_MANUAL) {
		format_into(culprit, sizeof(culprit), "the crash was started on purpose (a key "
			    "combination, a held power button or a debugger): no component failed");
	} else if (family == FAMILY_HARDWARE && *hardware_part) {
		format_into(culprit, sizeof(culprit), "the hardware reported an uncorrectable error "
			    "in %s; suspect it, its cooling and power before any driver",
			    hardware_part);
	} else if (family == FAMILY_HARDWARE) {
		format_into(culprit, sizeof(culprit), "the hardware reported an error; suspect the "
			    "processor, memory, cooling or power before any driver");
	} else if (a->image_name[0] && !windows_own) {
		char dated[16] = "";
		if (age)
			format_into(dated, sizeof(dated), "the %04d ", tm->tm_year + 1900);
		if (known)
			format_into(culprit, sizeof(culprit), "probably caused by %s%s (%s). %s", dated,
				    a->image_name, known->vendor, known->advice);
		else
			format_into(culprit, sizeof(culprit), "probably caused by %s%s", dated,
				    a->image_name);
	} else if (a->image_name[0] && a->has_culprit &&
		   a->culprit.match.verdict == BC_TRIAGE_OWNER && family == FAMILY_FAULT) {
		format_into(culprit, sizeof(culprit), "probably caused by %s, a driver that ships "
			    "with Windows: suspect the hardware or firmware it drives, or a driver "
			    "that handed it bad data", a->image_name);
	} else if (family == FAMILY_WATCHDOG) {
		format_into(culprit, sizeof(culprit), "a processor or DPC stopped making progress; "
			    "the stuck code is on the stack of the processor that hung, which this "
			    "stack may not show");
	} else if (family == FAMILY_CORRUPTION) {
		format_into(culprit, sizeof(culprit), "Windows found its memory damaged; whoever "
			    "damaged it is usually no longer on the stack");
	} else if (a->image_name[0]) {
		format_into(culprit, sizeof(culprit),
			    "in Windows' own %s with no third-party frame on the unwound stack; "
			    "suspect a driver that corrupted memory, or hardware", a->image_name);
	} else {
		format_into(culprit, sizeof(culprit), "no culprit could be named");
	}
	size_t n = strlen(culprit);
	format_into(a->summary, sizeof(a->summary), n && culprit[n - 1] == '.' ? "%s%s%s; %s"
										 : "%s%s%s; %s.", what, context,
		 a->verifier_enabled ? ", under Driver Verifier" : "", culprit);
}

static void advise(struct bc_analysis *a, unsigned age, const struct bc_known_driver *known)
{
	enum family family = family_of(a->code);
	if (family == FAMILY_MANUAL)
		return;
	if (family == FAMILY_HARDWARE)
		bc_analysis_advise(a, "Read the WHEA error record (`!errrec` on Arg2), check "
				      "temperatures and power, undo overclocking, update the BIOS, "
				      "and test the RAM");
	if (family == FAMILY_WATCHDOG)
		bc_analysis_advise(a, "Look at every processor's stack (`!running`, `~Ns; k`): the "
				      "code that kept a processor busy is the culprit");
	if (family == FAMILY_CORRUPTION)
		bc_analysis_advise(a, "Enable Driver Verifier with special pool for third-party "
				      "drivers (`verifier /flags 0x1 /all`, then reproduce) to catch "
				      "the driver at the moment it corrupts memory");
	bool third_party = a->image_name[0] && !a->inbox_image;
	if (third_party && known)
		bc_analysis_advise(a, "%s", known->advice);
	else if (third_party && age)
		bc_analysis_advise(a, "Update %s to its vendor's current release, or remove the "
				      "software that installed it", a->image_name);
	else if (third_party)
		bc_analysis_advise(a, "Check for a newer release of %s from its vendor; if the crash "
				      "recurs, remove or disable the software that installed it",
				   a->image_name);
	if (a->verifier_enabled)
		bc_analysis_advise(a, "Driver Verifier is still on: turn it off with `verifier "
				      "/reset` once the culprit is dealt with");
	if (!third_party && a->image_name[0] && family == FAMILY_FAULT && a->module_index != 0)
		bc_analysis_advise(a, "%s is part of Windows: install Windows updates, and update the "
				      "firmware (BIOS/UEFI) and chipset drivers of the hardware it "
				      "serves; a third-party filter or driver below it can also pass it "
				      "bad data", a->image_name);
	if (!third_party && a->image_name[0] && family == FAMILY_FAULT)
		bc_analysis_advise(a, "Enable Driver Verifier for third-party drivers (`verifier "
				      "/standard /all`) so the next crash names the driver that "
				      "corrupts memory");
	if (a->stack_scanned && a->module_index != SIZE_MAX && a->has_culprit &&
	    (a->culprit.frame.source == BC_FRAME_SCAN || a->culprit_is_fault))
		bc_analysis_advise(a, "Give bugcheck the symbols and images (-y PATH, or --online) so "
				      "the stack can be unwound instead of scanned");
}

void bc_analysis_gather_evidence(struct bc_target *target,
				 const struct bc_bugcheck_info *meaning,
				 struct bc_analysis *a)
{
	bugcheck_meaning(meaning, a);
	bool confirmed = fault_and_parameters(target, meaning, a);
	blamed_frame(a);
	verifier_evidence(a);
	struct tm tm = { 0 };
	unsigned age = image_age(target, a, &tm);
	unsigned frozen = 0;
	if (stack_has(a, "KiIpiSend") || stack_has(a, "KeFlush") || stack_has(a, "KiFlush"))
		processors_evidence(target, a, &frozen);
	bit_flip_evidence(a);

	const struct bc_analysis_frame *f = a->has_culprit ? &a->culprit : NULL;
	if (!f || f->frame.source == BC_FRAME_SCAN)
		a->confidence = BC_CONFIDENCE_LOW;
	else if (confirmed || (a->module_verified && verifier_on_stack(a)))
		a->confidence = BC_CONFIDENCE_HIGH;
	else if (f->match.verdict == BC_TRIAGE_OWNER)
		a->confidence = BC_CONFIDENCE_MEDIUM;
	else
		a->confidence = BC_CONFIDENCE_LOW;
	// A maybe_/last_ owner (Windows' own code) is where the failure surfaced,
	// rarely its cause: never more than medium.
	if (f && f->match.verdict != BC_TRIAGE_OWNER && a->confidence == BC_CONFIDENCE_HIGH)
		a->confidence = BC_CONFIDENCE_MEDIUM;
	if (a->culprit_is_fault && a->confidence == BC_CONFIDENCE_HIGH)
		a->confidence = BC_CONFIDENCE_MEDIUM;  // no unwound frame leads to it
	if (family_of(a->code) == FAMILY_MANUAL)
		a->confidence = BC_CONFIDENCE_HIGH;
	const struct bc_known_driver *known = NULL;
	struct bc_known_drivers *kd = NULL;
	struct bc_error *err = bc_known_drivers_open(&kd);
	if (err) {
		bc_analysis_note(a, "the known-problem list could not be read: %s", err->message);
		bc_error_destroy(err);
	}
	if (kd)
		known_problems(a, kd, &known);
	pool_evidence(target, meaning, a);
	char hardware_part[128] = "";
	whea_evidence(target, a, hardware_part, sizeof(hardware_part));
	summarize(target, a, frozen, age, &tm, known, hardware_part);
	advise(a, age, known);
	bc_known_drivers_close(kd);
}
