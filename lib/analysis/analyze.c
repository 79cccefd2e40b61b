// bc_target_analyze(): the failing context, its stack read frame by frame,
// the triage rules' verdict, and WinDbg's fields for the blamed frame. The
// bucket (bucket.c) and the evidence (evidence.c) follow from these.
//
// Frames found only by scanning the stack for return addresses may be stale
// data, not callers. They never outrank an unwound frame: a definite owner
// among them is reported as an alternative, and decides only when every
// unwound frame is ignored (the verdict is then of low confidence).
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "analysis/analysis_private.h"
#include "bugcheck/kobj.h"
#include "bugcheck/pe.h"
#include "bugcheck/symbols.h"

static void append_line(char (*lines)[BC_ANALYSIS_LINE], size_t *count, const char *fmt,
			va_list ap)
{
	if (*count >= BC_ANALYSIS_MAX_LINES)
		return;
	vsnprintf(lines[*count], BC_ANALYSIS_LINE, fmt, ap);
	(*count)++;
}

void bc_analysis_note(struct bc_analysis *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append_line(a->notes, &a->note_count, fmt, ap);
	va_end(ap);
}

void bc_analysis_advise(struct bc_analysis *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	append_line(a->advice, &a->advice_count, fmt, ap);
	va_end(ap);
}

void bc_analysis_evidence(struct bc_analysis *a, enum bc_evidence_kind kind, const char *fmt, ...)
{
	if (a->evidence_count >= BC_ANALYSIS_MAX_LINES)
		return;
	struct bc_evidence *e = &a->evidence[a->evidence_count++];
	e->kind = kind;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
}

static void copy_string(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

// Module, symbol and the deciding triage rule of each frame.
static void read_frame(struct bc_target *target, const struct bc_triage_rules *rules,
		       const struct bc_stack_frame *sf, struct bc_analysis_frame *f)
{
	f->frame = *sf;
	struct bc_address_symbol as;
	bc_target_describe_address(target, sf->ip, &as);
	if (as.module) {
		f->has_module = true;
		copy_string(f->module, sizeof(f->module), as.module_name);
		copy_string(f->image, sizeof(f->image), as.module->name);
		copy_string(f->function, sizeof(f->function), as.symbol);
		f->displacement = as.symbol ? as.displacement : sf->ip - as.module->base;
	}
	bc_triage_rules_match(rules, f->has_module ? f->module : NULL,
			      f->function[0] ? f->function : NULL, &f->match);
	copy_string(f->owner, sizeof(f->owner), f->match.owner);
	copy_string(f->rule, sizeof(f->rule), f->match.rule);
	copy_string(f->rule_source, sizeof(f->rule_source), f->match.source);
	// The match's strings belong to the rules; the frame keeps its own copies.
	f->match.owner = f->match.rule = f->match.source = NULL;
}

// Runs bc_triage_blame() over frames [@from, @to); the index in the whole stack or SIZE_MAX.
static size_t blame_range(const struct bc_triage_rules *rules, const struct bc_analysis *a,
			  size_t from, size_t to, struct bc_triage_match *match)
{
	struct bc_triage_frame tf[BC_ANALYSIS_MAX_FRAMES];
	for (size_t i = from; i < to; i++) {
		const struct bc_analysis_frame *f = &a->frames[i];
		tf[i - from].module = f->has_module ? f->module : NULL;
		tf[i - from].function = f->function[0] ? f->function : NULL;
	}
	size_t k = bc_triage_blame(rules, tf, to - from, match);
	return k == SIZE_MAX ? SIZE_MAX : from + k;
}

static void walk_failing_stack(struct bc_target *target, const struct bc_triage_rules *rules,
			       struct bc_analysis *a)
{
	if (a->source == BC_FAILURE_NONE)
		return;
	struct bc_stack st;
	struct bc_error *err = bc_target_stack(target, &a->context, BC_ANALYSIS_MAX_FRAMES, &st);
	if (err) {
		bc_analysis_note(a, "the failing stack could not be walked: %s", err->message);
		bc_error_destroy(err);
		return;
	}
	a->frames = calloc(st.count ? st.count : 1, sizeof(*a->frames));
	if (!a->frames) {
		bc_stack_free(&st);
		return;
	}
	a->frame_count = st.count;
	copy_string(a->stack_note, sizeof(a->stack_note), st.note);
	for (size_t i = 0; i < st.count; i++) {
		read_frame(target, rules, &st.frames[i], &a->frames[i]);
		if (st.frames[i].source == BC_FRAME_SCAN)
			a->stack_scanned = true;
		// The first trap frame the walk crosses (kept by the handler's frame)
		// is TRAP_FRAME, and the instruction it interrupted, the next
		// frame's, is the faulting one.
		if (st.frames[i].trap_frame && !a->trap_frame && a->source == BC_FAILURE_THREAD) {
			a->trap_frame = st.frames[i].trap_frame;
			if (i + 1 < st.count && st.frames[i + 1].source == BC_FRAME_TRAP) {
				a->has_faulting_ip = true;
				a->faulting_ip = st.frames[i + 1].ip;
			}
		}
	}
	bc_stack_free(&st);
}

static void decide_blame(struct bc_target *target, const struct bc_triage_rules *rules,
			 struct bc_analysis *a)
{
	a->blamed = SIZE_MAX;
	size_t unwound = 0;
	while (unwound < a->frame_count && a->frames[unwound].frame.source != BC_FRAME_SCAN)
		unwound++;
	struct bc_triage_match match = { 0 };
	size_t k = blame_range(rules, a, 0, unwound, &match);
	if (k != SIZE_MAX && match.verdict != BC_TRIAGE_OWNER && unwound < a->frame_count) {
		struct bc_triage_match scan_match;
		size_t alt = blame_range(rules, a, unwound, a->frame_count, &scan_match);
		if (alt != SIZE_MAX && scan_match.verdict == BC_TRIAGE_OWNER &&
		    strcmp(a->frames[alt].module, a->frames[k].module))
			a->scan_alternative = alt;
	}
	// The stack did not reach the faulting instruction (no trap frame was
	// crossed: nothing to unwind Windows' own frames with). Where the fault
	// lies in code a rule owns outright, that code is the culprit, as it
	// would be on the stack WinDbg unwinds with the kernel's image.
	if ((k == SIZE_MAX || match.verdict != BC_TRIAGE_OWNER) && a->has_faulting_ip &&
	    a->source == BC_FAILURE_THREAD && !a->trap_frame) {
		struct bc_stack_frame fault = { .ip = a->faulting_ip, .source = BC_FRAME_TRAP };
		struct bc_analysis_frame f;
		memset(&f, 0, sizeof(f));
		read_frame(target, rules, &fault, &f);
		if (f.has_module && f.match.verdict == BC_TRIAGE_OWNER) {
			a->has_culprit = a->culprit_is_fault = true;
			a->culprit = f;
			copy_string(a->followup, sizeof(a->followup), f.owner);
			return;
		}
	}
	if (k == SIZE_MAX && unwound < a->frame_count)
		k = blame_range(rules, a, unwound, a->frame_count, &match);
	if (k == SIZE_MAX)
		return;
	a->blamed = k;
	a->has_culprit = true;
	a->culprit = a->frames[k];
	copy_string(a->followup, sizeof(a->followup), match.owner);
}

// IMAGE_NAME: the name the image was built as. The kernel's file is
// ntoskrnl.exe but WinDbg names it by its PDB (ntkrnlmp.exe on multiprocessor kernels).
static void image_name(struct bc_target *target, size_t index, const struct bc_module *m, char *buf,
		       size_t size)
{
	copy_string(buf, size, m->name);
	if (index != 0)
		return;
	const struct bc_module_symbols *ms = bc_target_module_symbols(target, index);
	const char *pdb = ms->has_identity ? ms->identity.name : "";
	const char *base = strrchr(pdb, '\\');
	base = base ? base + 1 : pdb;
	size_t n = strlen(base);
	if (n > 4 && n < size && !strcasecmp(base + n - 4, ".pdb")) {
		snprintf(buf, size, "%.*s.exe", (int)(n - 4), base);
		return;
	}
	// Windows 8 and later ship only the multiprocessor kernel; before, a
	// machine with one processor ran the uniprocessor one.
	const struct bc_dump_info *info = bc_target_info(target);
	bool mp = info->processors > 1 || info->build >= 9200;
	if (mp && !strcasecmp(m->name, "ntoskrnl.exe"))
		copy_string(buf, size, "ntkrnlmp.exe");
	else if (mp && !strcasecmp(m->name, "ntkrnlpa.exe"))
		copy_string(buf, size, "ntkrpamp.exe");
}

// "10.0.19041.3803" from the image's FileVersion, "" when it has no version resource.
static void image_version(struct bc_target *target, size_t index, char *buf, size_t size)
{
	buf[0] = 0;
	struct bc_pe *pe = bc_target_module_image(target, index, NULL);
	const struct bc_pe_version *v;
	if (!pe)
		return;
	struct bc_error *err = bc_pe_version(pe, &v);
	if (err) {
		bc_error_destroy(err);
		return;
	}
	if (v->has_fixed)
		snprintf(buf, size, "%u.%u.%u.%u", v->file_version[0], v->file_version[1],
			 v->file_version[2], v->file_version[3]);
}

// The image's version resource names Microsoft as its company.
static bool microsoft_image(struct bc_target *target, size_t index)
{
	struct bc_pe *pe = bc_target_module_image(target, index, NULL);
	const struct bc_pe_version *v;
	struct bc_error *err = pe ? bc_pe_version(pe, &v) : &bc_not_found;
	if (err) {
		bc_error_destroy(err);
		return false;
	}
	const char *company = bc_pe_version_string(v, "CompanyName");
	return company && strstr(company, "Microsoft");
}

static void describe_blamed(struct bc_target *target, struct bc_analysis *a)
{
	a->module_index = SIZE_MAX;
	if (!a->has_culprit) {
		if (!a->followup[0])
			copy_string(a->followup, sizeof(a->followup), "MachineOwner");
		return;
	}
	const struct bc_analysis_frame *f = &a->culprit;
	if (!a->followup[0])
		copy_string(a->followup, sizeof(a->followup), "MachineOwner");
	if (!f->has_module) {
		snprintf(a->symbol_name, sizeof(a->symbol_name), "0x%" PRIx64, f->frame.ip);
		return;
	}
	if (f->function[0])
		snprintf(a->symbol_name, sizeof(a->symbol_name), "%s!%s+%" PRIx64, f->module,
			 f->function, f->displacement);
	else
		snprintf(a->symbol_name, sizeof(a->symbol_name), "%s+%" PRIx64, f->module,
			 f->displacement);
	copy_string(a->module_name, sizeof(a->module_name), f->module);
	a->has_func_offset = true;
	a->func_offset = f->displacement;
	for (size_t i = 0; i < bc_target_module_count(target); i++) {
		const struct bc_module *m = bc_target_module(target, i);
		if (f->frame.ip >= m->base && f->frame.ip - m->base < m->size) {
			a->module_index = i;
			image_name(target, i, m, a->image_name, sizeof(a->image_name));
			a->has_image_timestamp = m->has_timestamp;
			a->image_timestamp = m->timestamp;
			a->image_timestamp_is_hash =
				m->has_timestamp && bc_target_timestamp_kind(target, m->timestamp) ==
							    BC_TIMESTAMP_NOT_A_DATE;
			image_version(target, i, a->image_version, sizeof(a->image_version));
			a->inbox_image = i == 0 || bc_analysis_inbox_image(m->name) ||
					 microsoft_image(target, i);
			break;
		}
	}
}

// OS_VERSION: "major.minor.build" from the build number, with the kernel
// image's revision when its version resource is available.
static void os_version(struct bc_target *target, struct bc_analysis *a)
{
	uint32_t build = bc_target_info(target)->build;
	const char *nt = build >= 10240 ? "10.0" : build >= 9600 ? "6.3" : build >= 9200 ? "6.2"
		       : build >= 7600 ? "6.1" : build >= 6000 ? "6.0" : build >= 3790 ? "5.2"
		       : build >= 2600 ? "5.1" : "5.0";
	char kernel[48] = "";
	if (bc_target_module_count(target))
		image_version(target, 0, kernel, sizeof(kernel));
	unsigned major, minor, kbuild, revision;
	if (sscanf(kernel, "%u.%u.%u.%u", &major, &minor, &kbuild, &revision) == 4 && kbuild == build)
		snprintf(a->os_version, sizeof(a->os_version), "%s.%" PRIu32 ".%u", nt, build,
			 revision);
	else
		snprintf(a->os_version, sizeof(a->os_version), "%s.%" PRIu32, nt, build);
}

static void process_and_thread(struct bc_target *target, struct bc_analysis *a)
{
	a->thread = bc_target_current_thread(target);
	a->process = bc_target_current_process(target);
	if (!a->process)
		return;
	struct bc_process_info pi;
	struct bc_error *err = bc_target_process_info(target, a->process, &pi);
	if (!err && pi.has_image && !pi.image_unreadable)
		copy_string(a->process_name, sizeof(a->process_name), pi.image);
	else
		bc_analysis_note(a, "PROCESS_NAME: the process's image name could not be read%s%s",
				 err ? ": " : "", err ? err->message : "");
	bc_error_destroy(err);
}

static void verifier_state(struct bc_target *target, struct bc_analysis *a)
{
	struct bc_verifier_info *vi = calloc(1, sizeof(*vi));
	if (!vi)
		return;
	struct bc_error *err = bc_target_verifier(target, vi);
	if (!err && vi->level) {
		a->verifier_enabled = true;
		a->verifier_level = vi->level;
		for (size_t i = 0; i < vi->driver_count && a->image_name[0]; i++)
			if (!strcasecmp(vi->drivers[i], a->image_name))
				a->module_verified = true;
	}
	bc_error_destroy(err);
	free(vi);
}

static void stack_command(struct bc_analysis *a)
{
	switch (a->source) {
	case BC_FAILURE_CONTEXT_RECORD:
		snprintf(a->stack_command, sizeof(a->stack_command), ".cxr 0x%" PRIx64 " ; kb",
			 a->source_address);
		break;
	case BC_FAILURE_TRAP_FRAME:
		snprintf(a->stack_command, sizeof(a->stack_command), ".trap 0x%" PRIx64 " ; kb",
			 a->source_address);
		break;
	case BC_FAILURE_THREAD:
		if (a->thread)
			snprintf(a->stack_command, sizeof(a->stack_command),
				 ".thread 0x%" PRIx64 " ; kb", a->thread);
		else
			snprintf(a->stack_command, sizeof(a->stack_command), ".cxr ; kb");
		break;
	case BC_FAILURE_NONE:
		break;
	}
}

BC_PUBLIC struct bc_error *bc_target_analyze(struct bc_target *target,
					     const struct bc_triage_rules *rules,
					     const struct bc_bugcheck_kb *kb,
					     struct bc_analysis **ret)
{
	*ret = NULL;
	struct bc_analysis *a = calloc(1, sizeof(*a));
	if (!a)
		return &bc_enomem;
	const struct bc_dump_info *info = bc_target_info(target);
	a->code = info->bugcheck_code;
	memcpy(a->params, info->bugcheck_parameters, sizeof(a->params));
	a->machine = info->machine;
	a->blamed = SIZE_MAX;
	a->module_index = SIZE_MAX;
	a->scan_alternative = SIZE_MAX;
	// What the bug check and its parameters mean: looked up once, for every step.
	struct bc_bugcheck_info bi;
	const struct bc_bugcheck_info *meaning = NULL;
	struct bc_error *err = kb ? bc_bugcheck_kb_lookup(kb, a->code, a->params, &bi) : NULL;
	if (kb && !err) {
		meaning = &bi;
		a->has_name = true;
		copy_string(a->name, sizeof(a->name), bi.name);
	} else if (kb) {
		bc_analysis_note(a, "bug check %#" PRIx32 " is not in the knowledge base", a->code);
	}
	bc_error_destroy(err);

	process_and_thread(target, a);
	bc_analysis_failing_context(target, meaning, a);
	walk_failing_stack(target, rules, a);
	decide_blame(target, rules, a);
	describe_blamed(target, a);
	verifier_state(target, a);
	stack_command(a);
	os_version(target, a);
	bc_analysis_compose_bucket(a);
	bc_analysis_gather_evidence(target, meaning, a);
	*ret = a;
	return NULL;
}

BC_PUBLIC void bc_analysis_free(struct bc_analysis *analysis)
{
	if (!analysis)
		return;
	free(analysis->frames);
	free(analysis);
}
