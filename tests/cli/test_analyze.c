// bugcheck analyze / !analyze -v on synthetic dumps with a planted culprit
// (the writer's records are the truth) and on the real dumps in
// ../shared/dumps/kernel (the truth: MANIFEST.tsv's header facts, WinDbg's
// own !analyze -v of eolaruhagen, BlueScreenView's reading of proxyrule, the
// cdb-checked amdppm.sys range of rizintb). Every JSON document is checked
// against docs/analysis.schema.json.
#include <dirent.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mkdump.h"
#include "test.h"

// ---- JSON Schema, the part docs/analysis.schema.json uses ------------------
// type (one or a list), enum, required, properties, additionalProperties:
// false, items, minItems, maxItems, minimum. Writes the first violation's
// path to @why.

static bool type_matches(const json_t *v, const char *type)
{
	if (!strcmp(type, "object")) return json_is_object(v);
	if (!strcmp(type, "array")) return json_is_array(v);
	if (!strcmp(type, "string")) return json_is_string(v);
	if (!strcmp(type, "integer")) return json_is_integer(v);
	if (!strcmp(type, "boolean")) return json_is_boolean(v);
	if (!strcmp(type, "null")) return json_is_null(v);
	return false;
}

static bool validate(const json_t *schema, const json_t *v, const char *path, char *why,
		     size_t size)
{
	const json_t *type = json_object_get(schema, "type");
	if (type) {
		bool ok = false;
		if (json_is_string(type))
			ok = type_matches(v, json_string_value(type));
		for (size_t i = 0; json_is_array(type) && i < json_array_size(type); i++)
			ok = ok || type_matches(v, json_string_value(json_array_get(type, i)));
		if (!ok) {
			snprintf(why, size, "%s: wrong type", path);
			return false;
		}
	}
	const json_t *choices = json_object_get(schema, "enum");
	if (choices) {
		bool ok = false;
		for (size_t i = 0; i < json_array_size(choices); i++)
			ok = ok || json_equal(json_array_get(choices, i), (json_t *)v);
		if (!ok) {
			snprintf(why, size, "%s: not one of the enum's values", path);
			return false;
		}
	}
	const json_t *minimum = json_object_get(schema, "minimum");
	if (minimum && json_is_integer(v) && json_integer_value(v) < json_integer_value(minimum)) {
		snprintf(why, size, "%s: below the minimum", path);
		return false;
	}
	if (json_is_object(v)) {
		const json_t *required = json_object_get(schema, "required");
		for (size_t i = 0; i < json_array_size(required); i++) {
			const char *key = json_string_value(json_array_get(required, i));
			if (!json_object_get(v, key)) {
				snprintf(why, size, "%s: %s is missing", path, key);
				return false;
			}
		}
		const json_t *props = json_object_get(schema, "properties");
		const char *key;
		json_t *member;
		json_object_foreach((json_t *)v, key, member) {
			const json_t *sub = json_object_get(props, key);
			char sub_path[512];
			snprintf(sub_path, sizeof(sub_path), "%s.%s", path, key);
			if (!sub) {
				if (json_is_false(json_object_get(schema, "additionalProperties"))) {
					snprintf(why, size, "%s: not in the schema", sub_path);
					return false;
				}
				continue;
			}
			if (!validate(sub, member, sub_path, why, size))
				return false;
		}
	}
	if (json_is_array(v)) {
		const json_t *min = json_object_get(schema, "minItems"),
			     *max = json_object_get(schema, "maxItems");
		if ((min && json_array_size(v) < (size_t)json_integer_value(min)) ||
		    (max && json_array_size(v) > (size_t)json_integer_value(max))) {
			snprintf(why, size, "%s: wrong number of items", path);
			return false;
		}
		const json_t *items = json_object_get(schema, "items");
		for (size_t i = 0; items && i < json_array_size(v); i++) {
			char sub_path[512];
			snprintf(sub_path, sizeof(sub_path), "%s[%zu]", path, i);
			if (!validate(items, json_array_get(v, i), sub_path, why, size))
				return false;
		}
	}
	return true;
}

// Parses @text and checks it against the schema; NULL after failing the test.
static json_t *parse_and_validate(const char *text)
{
	const char *src = getenv("BC_SOURCE_DIR");
	char path[4200];
	snprintf(path, sizeof(path), "%s/docs/analysis.schema.json", src ? src : ".");
	json_error_t e;
	json_t *schema = json_load_file(path, 0, &e);
	if (!schema) {
		TEST_FAIL_AT("%s: %s", path, e.text);
		return NULL;
	}
	json_t *doc = json_loads(text, 0, &e);
	if (!doc) {
		TEST_FAIL_AT("not JSON (%s, line %d): %.300s", e.text, e.line, text);
		json_decref(schema);
		return NULL;
	}
	char why[600];
	if (!validate(schema, doc, "$", why, sizeof(why))) {
		TEST_FAIL_AT("the analysis does not follow docs/analysis.schema.json: %s", why);
		json_decref(doc);
		doc = NULL;
	}
	json_decref(schema);
	return doc;
}

// ---- Running the CLI ---------------------------------------------------------

// "bugcheck [OPTIONS] analyze [--json] DUMP" or, with @commands, "bugcheck
// [OPTIONS] DUMP -c COMMANDS"; stdout and stderr (malloc'd).
static char *run(const char *options, const char *dump, bool json, const char *commands,
		 int *status)
{
	char *with = NULL;
	if (asprintf(&with, "%s%s", options,
		     commands ? "" : json ? " analyze --json" : " analyze") < 0)
		return NULL;
	char *out = bc_test_run_bugcheck(with, dump, commands, status);
	free(with);
	return out;
}

static const char *str(const json_t *doc, const char *object, const char *key)
{
	return json_string_value(json_object_get(json_object_get(doc, object), key));
}

static uint64_t hex(const json_t *doc, const char *object, const char *key)
{
	const char *s = str(doc, object, key);
	return s ? strtoull(s, NULL, 16) : 0;
}

// The texts of the analysis's evidence of @kind, one a line, into @buf.
static const char *evidence_of(const json_t *doc, const char *kind, char *buf, size_t size)
{
	const json_t *evidence = json_object_get(doc, "evidence");
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < json_array_size(evidence); i++) {
		const json_t *e = json_array_get(evidence, i);
		const char *text = json_string_value(json_object_get(e, "text"));
		if (strcmp(json_string_value(json_object_get(e, "kind")), kind) || !text)
			continue;
		int n = snprintf(buf + used, size - used, "%s\n", text);
		if (n < 0 || (size_t)n >= size - used)
			break;
		used += (size_t)n;
	}
	return buf;
}

// "-y SHARED/symbols/isf --cache TMPDIR/...": the ISF tables; false without them.
static bool isf_setup(char *table, size_t table_size, char *options, size_t options_size)
{
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared),
				 "symbols/isf/ntkrnlmp.pdb/5278AFF86C341677D7D7835C85B7B844-1.json.xz"))
		return false;
	const char *tmp = getenv("TMPDIR");
	snprintf(table, table_size,
		 "%s/symbols/isf/ntkrnlmp.pdb/5278AFF86C341677D7D7835C85B7B844-1.json.xz", shared);
	snprintf(options, options_size, "-y '%s/symbols/isf' --cache '%s/bugcheck-test-isf-index'",
		 shared, tmp && *tmp ? tmp : "/tmp");
	return true;
}

// "iaStor+0x2a235" -> "iaStor+2a235", as SYMBOL_NAME writes offsets.
static void symbol_name_of(const char *call_site, char *buf, size_t size)
{
	const char *plus = strstr(call_site, "+0x");
	if (plus)
		snprintf(buf, size, "%.*s+%s", (int)(plus - call_site), call_site, plus + 3);
	else
		snprintf(buf, size, "%s", call_site);
}

// The STACK_TEXT lines of an !analyze -v output, which must equal what the
// STACK_COMMAND prints after its header line.
static void check_stack_command_reproduces(const char *options, const char *dump,
					   const char *analysis, const char *stack_command)
{
	const char *text = strstr(analysis, "STACK_TEXT:  \n");
	REQUIRE(text);
	text += strlen("STACK_TEXT:  \n");
	const char *end = strstr(text, "\n\n");
	REQUIRE(end);
	char *out = run(options, dump, false, stack_command, NULL);
	REQUIRE(out);
	const char *frames = strstr(out, "Call Site\n");
	CHECK(frames != NULL);
	if (frames) {
		frames += strlen("Call Site\n");
		if (strncmp(frames, text, (size_t)(end - text) + 1))
			TEST_FAIL_AT("%s does not show STACK_TEXT's frames:\n%.*s\n---\n%s",
				     stack_command, (int)(end - text), text, frames);
	}
	free(out);
}

// ---- Synthetic dumps with a planted culprit ----------------------------------

// Writes the scenario @make lays out from the ISF table (format @format) to
// @dump, its records to *@ex (the caller frees them) and the symbol options
// to @options; false (the test skipped or failed) when it cannot.
static bool write_scenario(void (*make)(struct bc_fixture_spec *, const char *),
			   enum bc_fixture_format format, struct bc_fixture_expect **ex,
			   char dump[BC_FIXTURE_TEMP_PATH], char *options, size_t options_size)
{
	static char table[4300];
	*ex = NULL;
	if (!isf_setup(table, sizeof(table), options, options_size)) {
		bc_test_state.skipped = true;
		bc_test_state.skip_reason = "skipped: ../shared/symbols/isf not found";
		return false;
	}
	struct bc_fixture_spec spec = { .format = format };
	make(&spec, table);
	*ex = calloc(1, sizeof(**ex));
	struct bc_error *err = *ex ? bc_fixture_write_temp(&spec, *ex, dump) : &bc_enomem;
	if (err) {
		TEST_FAIL_AT("writing the scenario: %s", err->message);
		bc_error_destroy(err);
		free(*ex);
		*ex = NULL;
		return false;
	}
	return true;
}

TEST(ipi_double_fault_verdict)
{
	char options[9000], dump[BC_FIXTURE_TEMP_PATH];
	struct bc_fixture_expect *ex;
	if (!write_scenario(bc_fixture_ipi_double_fault, BC_FIXTURE_BITMAP_KERNEL, &ex, dump,
			    options, sizeof(options)))
		return;
	struct bc_fixture_spec spec = { 0 };
	bc_fixture_ipi_double_fault(&spec, "");  // its modules, to compare with
	REQUIRE(ex->chain_count == 12 && ex->chain[2].trap_frame);
	int status = -1;
	char *out = run(options, dump, true, NULL, &status);
	CHECK_EQ(status, 0);
	json_t *doc = out ? parse_and_validate(out) : NULL;
	free(out);
	if (!doc) {
		unlink(dump);
		free(ex);
		return;
	}
	// The culprit: the first frame outside nt's machinery and the verifier,
	// iaStor.sys's frame 8, as the writer planted it.
	char want[400];
	symbol_name_of(ex->chain[8].call_site, want, sizeof(want));
	CHECK_STR(str(doc, "verdict", "symbol_name"), want);
	CHECK_EQ(json_integer_value(json_object_get(json_object_get(doc, "verdict"), "blamed_frame")),
		 8);
	CHECK_STR(str(doc, "verdict", "module_name"), "iaStor");
	CHECK_STR(str(doc, "verdict", "image_name"), spec.extra_modules[0].name);
	CHECK_EQ(hex(doc, "verdict", "image_timestamp"), spec.extra_modules[0].timestamp);
	snprintf(want, sizeof(want), "0x7f_%" PRIx64 "_VRF_iaStor!unknown_function",
		 ex->bugcheck_parameters[0]);
	CHECK_STR(str(doc, "verdict", "failure_bucket_id"), want);
	CHECK_STR(str(doc, "verdict", "followup"), "MachineOwner");
	CHECK_STR(str(doc, "verdict", "confidence"), "high");
	CHECK(json_is_true(json_object_get(json_object_get(doc, "verdict"), "verifier_enabled")));
	CHECK(json_is_true(json_object_get(json_object_get(doc, "verdict"), "module_verified")));
	// The failing context: the thread's stack, through KiDoubleFaultAbort's
	// trap frame to the instruction it interrupted (the bug check's Arg4).
	CHECK_STR(str(doc, "failing_context", "source"), "thread");
	CHECK_EQ(hex(doc, "failing_context", "trap_frame"), ex->chain[2].trap_frame);
	CHECK_EQ(hex(doc, "failing_context", "faulting_ip"), ex->chain[3].pc);
	CHECK_EQ(ex->chain[3].pc, ex->bugcheck_parameters[3]);
	const json_t *stack = json_object_get(doc, "stack");
	CHECK_EQ(json_array_size(stack), ex->chain_count);
	for (size_t i = 0; i < json_array_size(stack) && i < ex->chain_count; i++) {
		const json_t *f = json_array_get(stack, i);
		CHECK_EQ(strtoull(json_string_value(json_object_get(f, "ip")), NULL, 16), ex->chain[i].pc);
		CHECK_STR(json_string_value(json_object_get(f, "symbol")), ex->chain[i].call_site);
	}
	// What each frame contributed: KeBugCheckEx, the trap handler and the
	// verifier's frames passed over; nt's own code owned only "maybe".
	const char *verdicts[] = { "ignore", "ignore", "ignore", "maybe", "maybe", "maybe",
				   "ignore", "ignore", "owner" };
	for (size_t i = 0; i < 9 && i < json_array_size(stack); i++)
		CHECK_STR(json_string_value(json_object_get(
				  json_object_get(json_array_get(stack, i), "triage"), "verdict")),
			  verdicts[i]);
	const char *summary = str(doc, "verdict", "summary");
	CHECK_CONTAINS(summary, "double fault");
	CHECK_CONTAINS(summary, "7 frozen processors");
	CHECK_CONTAINS(summary, "under Driver Verifier");
	CHECK_CONTAINS(summary, "the 2012 iaStor.sys");
	CHECK_CONTAINS(summary, "storahci.sys");
	char kinds[512] = "";
	const json_t *evidence = json_object_get(doc, "evidence");
	for (size_t i = 0; i < json_array_size(evidence); i++) {
		strcat(kinds, json_string_value(json_object_get(json_array_get(evidence, i), "kind")));
		strcat(kinds, " ");
	}
	CHECK_CONTAINS(kinds, "verifier ");
	CHECK_CONTAINS(kinds, "image_age ");
	CHECK_CONTAINS(kinds, "known_problem ");
	CHECK_CONTAINS(kinds, "processors ");
	char stack_command[200];
	snprintf(stack_command, sizeof(stack_command), "%s",
		 str(doc, "failing_context", "stack_command"));
	json_decref(doc);

	// The same in WinDbg's layout, and its STACK_COMMAND shows the same stack.
	out = run(options, dump, false, NULL, &status);
	REQUIRE(out);
	char a[24];
	snprintf(want, sizeof(want), "TRAP_FRAME:  %016" PRIx64 " -- (.trap 0x%" PRIx64 ")\n",
		 ex->chain[2].trap_frame, ex->chain[2].trap_frame);
	CHECK_CONTAINS(out, want);
	snprintf(a, sizeof(a), "%08" PRIx32 "`%08" PRIx32, (uint32_t)(ex->chain[3].pc >> 32),
		 (uint32_t)ex->chain[3].pc);
	snprintf(want, sizeof(want), "FAULTING_IP: \n%s:\n%s 53              push    rbx\n",
		 ex->chain[3].call_site, a);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "\nBUGCHECK_CODE:  7f\n\nBUGCHECK_P1: 8\n\n");
	CHECK_CONTAINS(out, "\nMODULE_NAME: iaStor\n\nIMAGE_NAME:  iaStor.sys\n\n");
	CHECK_CONTAINS(out, "\nFollowup:     MachineOwner\n---------\n");
	check_stack_command_reproduces(options, dump, out, stack_command);
	free(out);
	// The short form.
	out = run(options, dump, false, "!analyze", NULL);
	REQUIRE(out);
	snprintf(want, sizeof(want), "BugCheck 7F, {8, %" PRIx64 ", %" PRIx64 ", %" PRIx64 "}\n",
		 ex->bugcheck_parameters[1], ex->bugcheck_parameters[2], ex->bugcheck_parameters[3]);
	CHECK_CONTAINS(out, want);
	symbol_name_of(ex->chain[8].call_site, a, sizeof(a));
	snprintf(want, sizeof(want), "Probably caused by : iaStor.sys ( %s )\n", a);
	CHECK_CONTAINS(out, want);
	free(out);
	unlink(dump);
	free(ex);
}

TEST(a_triage_override_changes_the_verdict)
{
	char options[9000], dump[BC_FIXTURE_TEMP_PATH], rules[BC_FIXTURE_TEMP_PATH];
	struct bc_fixture_expect *ex;
	if (!write_scenario(bc_fixture_ipi_double_fault, BC_FIXTURE_BITMAP_KERNEL, &ex, dump,
			    options, sizeof(options)))
		return;
	snprintf(rules, sizeof(rules), "%s", dump);
	strcat(rules, ".ini");
	static const struct {
		const char *text, *followup, *bucket_culprit;
		size_t frame;
		bool user_rule;  // the deciding rule is the user's, not bugcheck's default
	} cases[] = {
		// A team owns the driver: the same frame, their name.
		{ "iaStor=StorageTeam\n", "StorageTeam", "VRF_iaStor!unknown_function", 8, true },
		// The driver passed over: the first frame nt owns "maybe" decides.
		{ "iaStor=ignore\n", "MachineOwner", "nt!KiIpiSendRequest", 3, false },
		// ... unless a definite owner is lower down.
		{ "iaStor=ignore\nnt!ExpWorkerThread=Executive\n", "Executive",
		  "nt!ExpWorkerThread", 10, true },
	};
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		FILE *f = fopen(rules, "w");
		REQUIRE(f);
		fputs(cases[c].text, f);
		fclose(f);
		char with_rules[sizeof(options) + sizeof(rules) + 16];
		snprintf(with_rules, sizeof(with_rules), "%s --triage '%s'", options, rules);
		char *out = run(with_rules, dump, true, NULL, NULL);
		json_t *doc = out ? parse_and_validate(out) : NULL;
		free(out);
		if (!doc)
			continue;
		CHECK_STR(str(doc, "verdict", "followup"), cases[c].followup);
		char want[200];
		snprintf(want, sizeof(want), "0x7f_8_%s", cases[c].bucket_culprit);
		CHECK_STR(str(doc, "verdict", "failure_bucket_id"), want);
		CHECK_EQ(json_integer_value(
				 json_object_get(json_object_get(doc, "verdict"), "blamed_frame")),
			 cases[c].frame);
		const json_t *frame =
			json_array_get(json_object_get(doc, "stack"), cases[c].frame);
		CHECK_STR(json_string_value(json_object_get(json_object_get(frame, "triage"),
							     "source")),
			  cases[c].user_rule ? rules : "bugcheck's default triage.ini");
		json_decref(doc);
	}
	unlink(rules);
	unlink(dump);
	free(ex);
}

// The same NULL-pointer read in contosonet.sys, raised as the bug checks a
// page fault can end in: each names the faulting instruction in its own
// parameter and buckets the culprit with its own prefix.
static void page_fault_as_0a(struct bc_fixture_spec *spec, const char *table)
{
	bc_fixture_page_fault_in_driver(spec, table);
	spec->bugcheck_code = 0x0a;  // same parameters as 0xD1: Arg4 the instruction
}

static void page_fault_as_50(struct bc_fixture_spec *spec, const char *table)
{
	bc_fixture_page_fault_in_driver(spec, table);
	spec->bugcheck_code = 0x50;  // Arg1 the address, Arg2 0 (read), Arg3 the instruction
	spec->bugcheck_parameters[0] = 0xffffa00000000028ull;
	spec->bugcheck_parameters[1] = 0;
	spec->bugcheck_parameters[2] = BC_FIXTURE_INTERRUPTED_PC;
	spec->bugcheck_parameters[3] = 2;
}

static void page_fault_as_1e(struct bc_fixture_spec *spec, const char *table)
{
	bc_fixture_page_fault_in_driver(spec, table);
	spec->bugcheck_code = 0x1e;  // Arg1 the exception code, Arg2 its address
	spec->bugcheck_parameters[0] = 0xffffffffc0000005ull;
	spec->bugcheck_parameters[1] = BC_FIXTURE_INTERRUPTED_PC;
	spec->bugcheck_parameters[2] = 0;
	spec->bugcheck_parameters[3] = 0x28;
}

TEST(page_fault_in_a_driver_verdict)
{
	static const struct {
		void (*make)(struct bc_fixture_spec *, const char *);
		unsigned ip_param;  // 0-3: the parameter naming the faulting instruction
		const char *bucket;
	} families[] = {
		{ bc_fixture_page_fault_in_driver, 3, "AV_contosonet!unknown_function" },
		{ page_fault_as_0a, 3, "AV_contosonet!unknown_function" },
		{ page_fault_as_50, 2, "AV_R_INVALID_contosonet!unknown_function" },
		{ page_fault_as_1e, 1, "AV_contosonet!unknown_function" },
	};
	for (size_t k = 0; k < sizeof(families) / sizeof(families[0]); k++) {
		char options[9000], dump[BC_FIXTURE_TEMP_PATH];
		struct bc_fixture_expect *ex;
		if (!write_scenario(families[k].make, BC_FIXTURE_FULL, &ex, dump, options,
				    sizeof(options)))
			return;
		char *out = run(options, dump, true, NULL, NULL);
		unlink(dump);
		json_t *doc = out ? parse_and_validate(out) : NULL;
		free(out);
		if (!doc) {
			free(ex);
			continue;
		}
		// The trap frame interrupted contosonet.sys at the instruction the
		// parameter names.
		char want[200];
		symbol_name_of(ex->chain[3].call_site, want, sizeof(want));
		CHECK_STR(str(doc, "verdict", "symbol_name"), want);
		CHECK_STR(str(doc, "verdict", "failure_bucket_id"), families[k].bucket);
		CHECK_STR(str(doc, "verdict", "culprit_from"), "frame");
		CHECK_EQ(hex(doc, "failing_context", "trap_frame"), ex->chain[2].trap_frame);
		CHECK_EQ(ex->bugcheck_parameters[families[k].ip_param], ex->chain[3].pc);
		CHECK_EQ(hex(doc, "failing_context", "faulting_ip"), ex->chain[3].pc);
		CHECK_STR(str(doc, "verdict", "confidence"), "high");
		CHECK_CONTAINS(str(doc, "verdict", "summary"), "probably caused by contosonet.sys");
		json_decref(doc);
		free(ex);
	}
}

TEST(bad_parameters_give_a_partial_verdict)
{
	// 0x7E whose context record points at memory no page maps: the analysis
	// says so and falls back to the bug-checking thread.
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL,
					.bugcheck_code = 0x7e,
					.bugcheck_parameters = { 0xffffffffc0000005ull,
								 0xfffff80000001000ull, 0,
								 0xfffff80000002000ull } };
	char dump[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, NULL, dump));
	int status = -1;
	char *out = run("", dump, true, NULL, &status);
	unlink(dump);
	CHECK_EQ(status, 0);
	json_t *doc = out ? parse_and_validate(out) : NULL;
	free(out);
	if (!doc)
		return;
	CHECK_STR(str(doc, "failing_context", "source"), "thread");
	const json_t *notes = json_object_get(doc, "notes");
	bool said = false;
	for (size_t i = 0; i < json_array_size(notes); i++)
		said = said || strstr(json_string_value(json_array_get(notes, i)),
				      "context record in Arg4 (0xfffff80000002000) could not be read");
	CHECK(said);
	CHECK(strlen(str(doc, "verdict", "summary")) > 0);
	json_decref(doc);
}

TEST(a_machine_check_names_the_hardware)
{
	// 0x124 with its WHEA record (Arg2) in pool memory: a fatal cache error.
	static uint8_t page[4096];
	static const struct bc_fixture_whea w = {
		.severity = 1, .error_type = 1, .operation = 1, .level = 2, .processor_id = 6,
		.physical_address = 0x23a5f6040ull, .memory_error_type = 3, .card = 1, .module = 2,
		.bank = 5,
	};
	const uint64_t va = 0xffffb60420000000ull, record = va + 0x30;
	REQUIRE(bc_fixture_whea_record(&w, page + 0x30, sizeof(page) - 0x30));
	struct bc_fixture_blob blob = { va, page, sizeof(page) };
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL,
					.bugcheck_code = 0x124,
					.bugcheck_parameters = { 0, record, 0xbe000000, 0x100110a },
					.blobs = &blob,
					.blob_count = 1 };
	char dump[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, NULL, dump));
	char *out = run("", dump, true, NULL, NULL);
	json_t *doc = out ? parse_and_validate(out) : NULL;
	free(out);
	if (doc) {
		char all[4096];
		evidence_of(doc, "hardware", all, sizeof(all));
		CHECK_CONTAINS(all, "Fatal, 2 sections");
		CHECK_CONTAINS(all, "section 0: Processor Generic (Fatal, primary): Cache error, "
				    "Data Read, cache level 2, processor id 0x6");
		CHECK_CONTAINS(all, "section 1: Platform Memory (Fatal): Multi-bit ECC at physical "
				    "address 0x23a5f6040, node 0 card 1 module 2 bank 5");
		CHECK_CONTAINS(str(doc, "verdict", "summary"),
			       "uncorrectable error in the processor (Cache error)");
		json_decref(doc);
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "!errrec %" PRIx64, record);
	out = run("", dump, false, cmd, NULL);
	unlink(dump);
	REQUIRE(out);
	char want[200];
	snprintf(want, sizeof(want), "Common Platform Error Record @ %016" PRIx64 "\n", record);
	CHECK_CONTAINS(out, want);
	CHECK_CONTAINS(out, "Severity      : Fatal (1)\nLength        : 544\n");
	CHECK_CONTAINS(out, "Timestamp     : 11/24/2026 12:34:56 (UTC)\n");
	CHECK_CONTAINS(out, "Section 0     : Processor Generic\n");
	CHECK_CONTAINS(out, "Flags         : 0x00000001 Primary\n");
	CHECK_CONTAINS(out, "Error Type    : Cache error\nOperation     : Data Read\nLevel         : 2\n");
	CHECK_CONTAINS(out, "Section 1     : Platform Memory\n");
	CHECK_CONTAINS(out, "Physical Addr : 0x000000023a5f6040\n");
	CHECK_CONTAINS(out, "Error Type    : Multi-bit ECC\n");
	free(out);
}

TEST(a_bad_pool_header_names_the_tags)
{
	// 0x19 with Arg1 7 (a pool header's size is corrupt), Arg4 the bad entry:
	// a 0x40-byte block tagged "Ovr!" written over the next block's header,
	// whose tag "Vctm" survived. x64 POOL_HEADER: PreviousSize, PoolIndex,
	// BlockSize, PoolType (16-byte units), then the tag.
	static uint8_t page[4096];
	memset(page, 0xaa, sizeof(page));
	static const uint8_t overrunner[8] = { 0x00, 0x00, 0x04, 0x02, 'O', 'v', 'r', '!' };
	static const uint8_t victim[8] = { 0x04, 0x00, 0x00, 0x02, 'V', 'c', 't', 'm' };
	memcpy(page + 0x100, overrunner, 8);
	memcpy(page + 0x140, victim, 8);
	const uint64_t va = 0xffffb60420010000ull;
	struct bc_fixture_blob blob = { va, page, sizeof(page) };
	struct bc_fixture_spec spec = { .format = BC_FIXTURE_BITMAP_KERNEL,
					.bugcheck_code = 0x19,
					.bugcheck_parameters = { 7, 0, 0, va + 0x140 },
					.blobs = &blob,
					.blob_count = 1 };
	char dump[BC_FIXTURE_TEMP_PATH];
	REQUIRE_OK(bc_fixture_write_temp(&spec, NULL, dump));
	char *out = run("", dump, true, NULL, NULL);
	unlink(dump);
	json_t *doc = out ? parse_and_validate(out) : NULL;
	free(out);
	if (!doc)
		return;
	char pool[2048];
	evidence_of(doc, "pool", pool, sizeof(pool));
	char want[300];
	snprintf(want, sizeof(want), "Arg4 (the bad pool entry): the POOL_HEADER at %#" PRIx64
		 " is tagged 'Vctm' (block size 0, previous size 0x40 bytes, pool type 0x2)",
		 va + 0x140);
	CHECK_CONTAINS(pool, want);
	snprintf(want, sizeof(want), "the block before it, at %#" PRIx64 ", is tagged 'Ovr!'",
		 va + 0x100);
	CHECK_CONTAINS(pool, want);
	const json_t *advice = json_object_get(doc, "advice");
	bool told = false;
	for (size_t i = 0; i < json_array_size(advice); i++)
		told = told || strstr(json_string_value(json_array_get(advice, i)), "pool tag 'Ovr!'");
	CHECK(told);
	json_decref(doc);
}

// ---- Real dumps ----------------------------------------------------------------

// MANIFEST.tsv's row for @name: the bug check code and parameters.
static bool manifest_row(const char *shared, const char *name, uint64_t *code, uint64_t params[4])
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/dumps/MANIFEST.tsv", shared);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	char line[8192];
	bool found = false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *fields[20] = { 0 };
		size_t n = 0;
		for (char *p = line, *tab; n < 20 && p; p = tab ? tab + 1 : NULL) {
			tab = strchr(p, '\t');
			if (tab)
				*tab = 0;
			fields[n++] = p;
		}
		// local_name kind ... BugCheckCode P1 P2 P3 P4 (columns 13-17, 1-based)
		if (n >= 17 && !strcmp(fields[0], name)) {
			*code = strtoull(fields[12], NULL, 16);
			for (int i = 0; i < 4; i++)
				params[i] = strtoull(fields[13 + i], NULL, 16);
			found = true;
		}
	}
	fclose(f);
	return found;
}

static json_t *analyze_real(const char *shared, const char *name, const char *extra)
{
	char dump[4300], options[9000];
	snprintf(dump, sizeof(dump), "%s/dumps/kernel/%s", shared, name);
	const char *tmp = getenv("TMPDIR");
	snprintf(options, sizeof(options), "-y '%s/symbols/isf' --cache '%s/bugcheck-test-isf-index' %s",
		 shared, tmp && *tmp ? tmp : "/tmp", extra);
	int status = -1;
	char *out = run(options, dump, true, NULL, &status);
	if (status != 0)
		TEST_FAIL_AT("%s: analyze exited with %d: %.400s", name, status, out ? out : "");
	json_t *doc = out && status == 0 ? parse_and_validate(out) : NULL;
	free(out);
	return doc;
}

TEST(every_real_dump_gets_a_verdict_with_evidence)
{
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared), "dumps/kernel"))
		SKIP("skipped: ../shared/dumps not found");
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/dumps/kernel", shared);
	DIR *d = opendir(dir);
	REQUIRE(d);
	size_t analyzed = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		uint64_t code, params[4];
		if (n < 5 || strcmp(e->d_name + n - 4, ".dmp") ||
		    !manifest_row(shared, e->d_name, &code, params))
			continue;
		json_t *doc = analyze_real(shared, e->d_name, "");
		if (!doc)
			continue;
		analyzed++;
		const json_t *bug = json_object_get(doc, "bugcheck");
		CHECK_EQ(json_integer_value(json_object_get(bug, "code")), code);
		for (int i = 0; i < 4; i++)
			CHECK_EQ(strtoull(json_string_value(json_array_get(
						  json_object_get(bug, "parameters"), (size_t)i)),
					  NULL, 16),
				 params[i]);
		const char *summary = str(doc, "verdict", "summary");
		if (!summary || strlen(summary) < 20)
			TEST_FAIL_AT("%s: no verdict", e->d_name);
		if (json_array_size(json_object_get(doc, "evidence")) == 0)
			TEST_FAIL_AT("%s: a verdict without evidence", e->d_name);
		if (!str(doc, "verdict", "failure_bucket_id"))
			TEST_FAIL_AT("%s: no bucket", e->d_name);
		json_decref(doc);
	}
	closedir(d);
	CHECK(analyzed >= 10);
}

TEST(rizintb_blames_amdppm)
{
	// The fault address (Arg2) lies in amdppm.sys (cdb: base fffff804`8b580000,
	// size 0x3b000, in the ground-truth notes); the context record is Arg4.
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared), "dumps/kernel/rizintb__triage_x64.dmp"))
		SKIP("skipped: ../shared/dumps not found");
	uint64_t code, params[4];
	REQUIRE(manifest_row(shared, "rizintb__triage_x64.dmp", &code, params));
	const uint64_t amdppm_base = 0xfffff8048b580000ull;
	REQUIRE(params[1] - amdppm_base < 0x3b000);
	json_t *doc = analyze_real(shared, "rizintb__triage_x64.dmp", "");
	REQUIRE(doc);
	char want[64];
	snprintf(want, sizeof(want), "amdppm+%" PRIx64, params[1] - amdppm_base);
	CHECK_STR(str(doc, "verdict", "symbol_name"), want);
	CHECK_STR(str(doc, "verdict", "image_name"), "amdppm.sys");
	CHECK_STR(str(doc, "verdict", "failure_bucket_id"), "AV_amdppm!unknown_function");
	CHECK_STR(str(doc, "failing_context", "source"), "context record");
	CHECK_EQ(hex(doc, "failing_context", "address"), params[3]);
	CHECK_EQ(hex(doc, "failing_context", "exception_record"), params[2]);
	CHECK_EQ(hex(doc, "failing_context", "faulting_ip"), params[1]);
	CHECK_STR(str(doc, "verdict", "confidence"), "high");
	json_decref(doc);
}

TEST(proxyrule_is_decided_as_windbg_rules_would)
{
	// The fault (Arg2) lies in ntoskrnl.exe; BlueScreenView's raw-stack scan
	// named winhvr.sys. Under the rules nt is only a "maybe" owner, but the
	// frames below it were found by scanning, so they cannot outrank it:
	// the verdict is nt, with winhvr.sys shown as the scan's alternative.
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared),
				 "dumps/kernel/proxyrule__011620-8250-01.dmp.bluescreenview.txt"))
		SKIP("skipped: ../shared/dumps not found");
	char path[4300], line[1024], bsv_driver[64] = "";
	uint64_t nt_base = 0;
	snprintf(path, sizeof(path), "%s/dumps/kernel/proxyrule__011620-8250-01.dmp.bluescreenview.txt",
		 shared);
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	while (fgets(line, sizeof(line), f)) {
		sscanf(line, "Caused By Driver  : %63s", bsv_driver);
		unsigned hi, lo;
		if (!strncmp(line, "ntoskrnl.exe ", 13) &&
		    sscanf(line + 13, " ntoskrnl.exe+%*s %8x`%8x", &hi, &lo) == 2)
			nt_base = (uint64_t)hi << 32 | lo;
	}
	fclose(f);
	REQUIRE(*bsv_driver && nt_base);
	uint64_t code, params[4];
	REQUIRE(manifest_row(shared, "proxyrule__011620-8250-01.dmp", &code, params));
	json_t *doc = analyze_real(shared, "proxyrule__011620-8250-01.dmp", "");
	REQUIRE(doc);
	char want[64];
	snprintf(want, sizeof(want), "nt+%" PRIx64, params[1] - nt_base);
	CHECK_STR(str(doc, "verdict", "symbol_name"), want);
	CHECK_STR(str(doc, "verdict", "module_name"), "nt");
	CHECK_STR(str(doc, "verdict", "image_name"), "ntkrnlmp.exe");
	CHECK_STR(str(doc, "verdict", "failure_bucket_id"), "AV_nt!unknown_function");
	const json_t *stack = json_object_get(doc, "stack");
	REQUIRE(json_array_size(stack) > 2);
	// Every frame shows what it contributed; BSV's driver is there, found by scanning.
	bool bsv_frame = false;
	for (size_t i = 0; i < json_array_size(stack); i++) {
		const json_t *fr = json_array_get(stack, i);
		CHECK(json_string_value(json_object_get(json_object_get(fr, "triage"), "verdict")));
		char image[80];
		snprintf(image, sizeof(image), "%s.sys",
			 json_string_value(json_object_get(fr, "module")) ?: "");
		if (!strcasecmp(image, bsv_driver))
			bsv_frame = bsv_frame ||
				    !strcmp(json_string_value(json_object_get(fr, "found_by")), "scan");
	}
	CHECK(bsv_frame);
	char scanned[4096];
	bool named = strstr(evidence_of(doc, "scan", scanned, sizeof(scanned)), bsv_driver);
	CHECK(named);
	json_decref(doc);
}

// The value after "NAME:" on its line in WinDbg's output (spaces trimmed).
static bool windbg_field(const char *text, const char *name, char *buf, size_t size)
{
	char key[80];
	snprintf(key, sizeof(key), "\n%s:", name);
	const char *p = strstr(text, key);
	if (!p)
		return false;
	p += strlen(key);
	p += strspn(p, " ");
	size_t n = strcspn(p, "\r\n");
	while (n && p[n - 1] == ' ')
		n--;
	snprintf(buf, size, "%.*s", (int)n, p);
	return true;
}

TEST(eolaruhagen_fields_match_windbg)
{
	char shared[4096];
	if (!bc_test_find_shared(shared, sizeof(shared),
				 "dumps/kernel/eolaruhagen__083125-14875-01.dmp.windbg-analyze-v.txt") ||
	    !bc_test_find_shared(shared, sizeof(shared), "symbols/vergilius"))
		SKIP("skipped: ../shared/dumps or ../shared/symbols/vergilius not found");
	char path[4300];
	snprintf(path, sizeof(path),
		 "%s/dumps/kernel/eolaruhagen__083125-14875-01.dmp.windbg-analyze-v.txt", shared);
	FILE *f = fopen(path, "r");
	REQUIRE(f);
	static char text[1 << 16];
	size_t n = fread(text + 1, 1, sizeof(text) - 2, f);
	fclose(f);
	text[0] = '\n';
	text[n + 1] = 0;
	char types[4300];
	snprintf(types, sizeof(types), "--types '%s/symbols/vergilius'", shared);
	json_t *doc = analyze_real(shared, "eolaruhagen__083125-14875-01.dmp", types);
	REQUIRE(doc);
	char v[256];
	REQUIRE(windbg_field(text, "PROCESS_NAME", v, sizeof(v)));
	CHECK_STR(str(doc, "failing_context", "process_name"), v);
	REQUIRE(windbg_field(text, "MODULE_NAME", v, sizeof(v)));
	CHECK_STR(str(doc, "verdict", "module_name"), v);
	REQUIRE(windbg_field(text, "IMAGE_NAME", v, sizeof(v)));
	CHECK_STR(str(doc, "verdict", "image_name"), v);
	REQUIRE(windbg_field(text, "Followup", v, sizeof(v)));
	CHECK_STR(str(doc, "verdict", "followup"), v);
	// WinDbg's bucket names nt's function, which takes the kernel's symbols
	// (no ISF table covers this build): the bucket up to the module matches.
	REQUIRE(windbg_field(text, "FAILURE_BUCKET_ID", v, sizeof(v)));
	char *bang = strchr(v, '!');
	REQUIRE(bang);
	bang[1] = 0;
	const char *ours = str(doc, "verdict", "failure_bucket_id");
	CHECK(ours && !strncmp(ours, v, strlen(v)));
	json_decref(doc);
	// WinDbg's layout: the fields as its own output has them.
	char dump[4300], options[9000];
	snprintf(dump, sizeof(dump), "%s/dumps/kernel/eolaruhagen__083125-14875-01.dmp", shared);
	snprintf(options, sizeof(options), "%s", types);
	char *out = run(options, dump, false, NULL, NULL);
	REQUIRE(out);
	static const char *const fields[] = { "BUGCHECK_CODE", "BUGCHECK_P1", "BUGCHECK_P2",
					      "BUGCHECK_P3",   "BUGCHECK_P4", "PROCESS_NAME",
					      "MODULE_NAME",   "IMAGE_NAME",  "OSPLATFORM_TYPE",
					      "OSNAME",        "DUMP_FILE_ATTRIBUTES" };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		char theirs[256], mine[256];
		REQUIRE(windbg_field(text, fields[i], theirs, sizeof(theirs)));
		if (!windbg_field(out, fields[i], mine, sizeof(mine)))
			TEST_FAIL_AT("%s is missing from our !analyze -v", fields[i]);
		else
			CHECK_STR(mine, theirs);
	}
	CHECK_CONTAINS(out, "IRQL_GT_ZERO_AT_SYSTEM_SERVICE (4a)\n");
	CHECK_CONTAINS(out, "DUMP_FILE_ATTRIBUTES: 0x8\n  Kernel Generated Triage Dump\n");
	free(out);
}

TEST_MAIN()
