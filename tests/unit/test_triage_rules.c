// Triage rules (bugcheck/triage.h) against what Microsoft's "Specifying
// Module and Function Owners" says of triage.ini: its sample file and the
// owners it says !owner and !analyze find with it, "default" as a wildcard,
// ignore, and the maybe_/last_ priorities; plus our default rules on the
// demo's stack and malformed lines refused with their line number.
#include <stdint.h>
#include <string.h>

#include "bugcheck/triage.h"
#include "test.h"

// The documentation's sample triage.ini.
static const char sample[] = "module1=Person1\n"
			     "module2!functionA=Person2\n"
			     "module2!functionB=Person3\n"
			     "module2!funct*=Person4\n"
			     "module2!*=Person5\n"
			     "module3!singleFunction=Person6\n"
			     "mod*!functionC=Person7\n";

static const char *owner_of(const struct bc_triage_rules *r, const char *module,
			    const char *function)
{
	struct bc_triage_match m;
	bc_triage_rules_match(r, module, function, &m);
	return m.verdict == BC_TRIAGE_UNMATCHED ? "(none)" : m.owner;
}

TEST(documented_sample_precedence)
{
	struct bc_triage_rules *r;
	REQUIRE_OK(bc_triage_rules_parse(sample, strlen(sample), "sample", &r));
	// "!owner module2!functionB" says Person3: the exact match beats funct*.
	CHECK_STR(owner_of(r, "module2", "functionB"), "Person3");
	// module2!functionC: no exact match, the trimmed funct* gives Person4.
	CHECK_STR(owner_of(r, "module2", "functionC"), "Person4");
	// module1 covers all of its functions.
	CHECK_STR(owner_of(r, "module1", "anything"), "Person1");
	// module3 names only singleFunction: anotherFunction has no owner.
	CHECK_STR(owner_of(r, "module3", "anotherFunction"), "(none)");
	CHECK_STR(owner_of(r, "module3", "singleFunction"), "Person6");
	CHECK_STR(owner_of(r, "MyModule", "someFunction"), "(none)");
	// A module prefix with an exact function applies to other modules.
	CHECK_STR(owner_of(r, "modX", "functionC"), "Person7");
	bc_triage_rules_free(r);
	// Without funct*, module2!* (a module name match) wins over mod*!functionC;
	// without both, mod*!functionC is chosen.
	static const char without_prefix[] = "module2!*=Person5\nmod*!functionC=Person7\n";
	REQUIRE_OK(bc_triage_rules_parse(without_prefix, strlen(without_prefix), "t", &r));
	CHECK_STR(owner_of(r, "module2", "functionC"), "Person5");
	bc_triage_rules_free(r);
	static const char only_wildcard_module[] = "mod*!functionC=Person7\n";
	REQUIRE_OK(bc_triage_rules_parse(only_wildcard_module, strlen(only_wildcard_module), "t",
					 &r));
	CHECK_STR(owner_of(r, "module2", "functionC"), "Person7");
	bc_triage_rules_free(r);
}

// The documented !analyze walk over the sample: MyModule!someFunction (no
// entry), module3!anotherFunction (no match), module2!functionC: Person4.
TEST(documented_analyze_walk)
{
	struct bc_triage_rules *r;
	REQUIRE_OK(bc_triage_rules_parse(sample, strlen(sample), "sample", &r));
	const struct bc_triage_frame frames[] = {
		{ "MyModule", "someFunction" },
		{ "module3", "anotherFunction" },
		{ "module2", "functionC" },
	};
	struct bc_triage_match m;
	CHECK(bc_triage_blame(r, frames, 3, &m) == 2);
	CHECK_STR(m.owner, "Person4");
	CHECK_STR(m.rule, "module2!funct*");
	CHECK(m.line == 4);
	CHECK(bc_triage_blame(r, frames, 2, NULL) == SIZE_MAX);
	bc_triage_rules_free(r);
}

// "default" is a wildcard (nt!default = nt!*, default = *!*); ignore passes a
// frame over; a definite owner lower down beats a maybe_ higher up, and a
// maybe_ beats a last_.
TEST(default_ignore_maybe_last)
{
	static const char text[] = "default=Everyone\n"
				   "nt!default=KernelTeam\n"
				   "nt!KeBugCheck*=ignore\n"
				   "hal=maybe_HalTeam\n"
				   "pci=last_PciTeam\n"
				   "acme!Helper*=  maybe_ Acme Team \n";
	struct bc_triage_rules *r;
	REQUIRE_OK(bc_triage_rules_parse(text, strlen(text), "t", &r));
	CHECK_STR(owner_of(r, "foo", "bar"), "Everyone");
	CHECK_STR(owner_of(r, "nt", "KiPageFault"), "KernelTeam");
	CHECK_STR(owner_of(r, "acme", "HelperRun"), "AcmeTeam");  // spaces dropped
	struct bc_triage_match m;
	bc_triage_rules_match(r, "nt", "KeBugCheckEx", &m);
	CHECK(m.verdict == BC_TRIAGE_IGNORE);
	const struct bc_triage_frame stack[] = {
		{ "nt", "KeBugCheckEx" }, { "pci", "Thing" }, { "hal", "HalpX" }, { "foo", "bar" },
	};
	CHECK(bc_triage_blame(r, stack, 4, &m) == 3 && !strcmp(m.owner, "Everyone"));
	CHECK(bc_triage_blame(r, stack, 3, &m) == 2 && m.verdict == BC_TRIAGE_MAYBE);
	CHECK(bc_triage_blame(r, stack, 2, &m) == 1 && m.verdict == BC_TRIAGE_LAST);
	CHECK(bc_triage_blame(r, stack, 1, NULL) == SIZE_MAX);
	// A frame without a module (a bare address) has no owner.
	const struct bc_triage_frame bare[] = { { NULL, NULL } };
	CHECK(bc_triage_blame(r, bare, 1, NULL) == SIZE_MAX);
	bc_triage_rules_free(r);
}

// A user's rules replace ours for the same Module!Function.
TEST(user_rules_override_defaults)
{
	struct bc_triage_rules *r;
	REQUIRE_OK(bc_triage_rules_default(&r));
	const struct bc_triage_frame frames[] = {
		{ "nt", "KeBugCheckEx" },
		{ "nt", "KiBugCheckDispatch" },
		{ "nt", "KiDoubleFaultAbort" },
		{ "nt", "KiIpiSendRequest" },
		{ "nt", "KeFlushMultipleRangeTb" },
		{ "nt", "MiEmptyWorkingSet" },
		{ "nt", "MmVerifierTrimMemory" },
		{ "nt", "VerifierKeAcquireSpinLockRaiseToDpc" },
		{ "iaStor", NULL },
		{ "nt", "ExpWorkerThread" },
	};
	struct bc_triage_match m;
	// The demo's double fault: the driver under the kernel and verifier frames.
	CHECK(bc_triage_blame(r, frames, 10, &m) == 8);
	CHECK_STR(m.owner, "MachineOwner");
	// Without the driver, the first kernel frame that is not machinery.
	CHECK(bc_triage_blame(r, frames, 8, &m) == 3 && m.verdict == BC_TRIAGE_MAYBE);
	static const char user[] = "iaStor=ignore\nnt!KiIpi*=IntelSupport\n";
	REQUIRE_OK(bc_triage_rules_add(r, user, strlen(user), "my triage.ini"));
	CHECK(bc_triage_blame(r, frames, 10, &m) == 3);
	CHECK_STR(m.owner, "IntelSupport");
	CHECK_STR(m.source, "my triage.ini");
	static const char again[] = "nt!KiIpi*=Someone\n";  // same pattern: replaces
	REQUIRE_OK(bc_triage_rules_add(r, again, strlen(again), "again"));
	CHECK_STR(owner_of(r, "nt", "KiIpiSendRequest"), "Someone");
	bc_triage_rules_free(r);
}

TEST(malformed_lines_are_refused_with_their_line)
{
	static const struct {
		const char *text, *message;
	} bad[] = {
		{ "; ok\nnt!KiTrap\n", "t line 2: no '='" },
		{ "=Owner\n", "t line 1: no module name" },
		{ "nt!=Owner\n", "t line 1: no function name after '!'" },
		{ "nt!Ke*=   \n", "t line 1: no owner after '='" },
		{ "nt=maybe_\n", "t line 1: no owner after the maybe_ or last_ prefix" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		struct bc_triage_rules *r = NULL;
		struct bc_error *err = bc_triage_rules_parse(bad[i].text, strlen(bad[i].text), "t", &r);
		CHECK(err && err->code == BC_ERR_FORMAT && r == NULL);
		if (err)
			CHECK_CONTAINS(err->message, bad[i].message);
		bc_error_destroy(err);
	}
	// A '*' inside a name is a literal character, not a wildcard.
	struct bc_triage_rules *r;
	static const char literal[] = "mo*d=Star\n[Section]\r\n# comment\n";
	REQUIRE_OK(bc_triage_rules_parse(literal, strlen(literal), "t", &r));
	CHECK_STR(owner_of(r, "mo*d", "f"), "Star");
	CHECK_STR(owner_of(r, "mod", "f"), "(none)");
	bc_triage_rules_free(r);
}

TEST_MAIN()
