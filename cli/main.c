// bugcheck: the command-line program over libbugcheck.
//
//   bugcheck DUMP                  summary (what WinDbg prints on opening, plus the bug check)
//   bugcheck DUMP -c "cmd; cmd"    run WinDbg-syntax commands and exit
//   bugcheck DUMP                  on a terminal with no -c: the interactive kd> prompt
//   bugcheck --json DUMP           the same facts as one JSON document
//   bugcheck analyze DUMP          the verdict (= !analyze -v); with --json as JSON
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "format.h"

int bc_repl(struct bc_session *s);

static void usage(FILE *o)
{
	fputs("usage: bugcheck [options] DUMP | IMAGE.sys | TABLE.json[.xz]\n"
	      "       bugcheck analyze [options] DUMP\n"
	      "Reads a Windows kernel crash dump (MEMORY.DMP, C:\\Windows\\Minidump\\*.dmp); also a\n"
	      "driver or other PE image alone (like windbg -z), or a symbol table alone.\n\n"
	      "  analyze               the verdict on the crash, as !analyze -v (with --json:\n"
	      "                        one JSON document, docs/JSON.md); no network unless\n"
	      "                        --online\n"
	      "  -c, --command \"CMDS\"  run WinDbg-syntax commands (separated by ';') and exit\n"
	      "  -j, --json            print the dump's facts as one JSON document\n"
	      "  -q, --quiet           with -c: do not print the summary first\n"
	      "  -y, --sympath PATH    symbol path, WinDbg syntax (default: $_NT_SYMBOL_PATH)\n"
	      "      --online          allow symbol servers on the network (default: offline);\n"
	      "                        with no symbol path, uses Microsoft's public server\n"
	      "      --cache DIR       symbol cache (default: $XDG_CACHE_HOME/bugcheck or\n"
	      "                        ~/.cache/bugcheck)\n"
	      "      --types DIR       Vergilius Project kernel layouts (*.yml[.xz]): kernel\n"
	      "                        structures of a kernel with no PDB or ISF table\n"
	      "                        (docs/SYMBOLS.md)\n"
	      "      --triage FILE     triage.ini rules (Module[!Function]=Owner) read after\n"
	      "                        bugcheck's own; see !owner and docs/COMMANDS.md\n"
	      "      --base ADDR       for an image or symbol file: where to map it (hex)\n"
	      "  -h, --help            this text\n"
	      "  -V, --version         program version\n\n"
	      "With no -c on a terminal, bugcheck opens an interactive kd> prompt;\n"
	      "type .help there for the commands.\n", o);
}

// bugcheck's default triage rules, then the user's file (at most 1 MiB).
static struct bc_error *load_triage_rules(const char *file, struct bc_triage_rules **ret)
{
	struct bc_error *err = bc_triage_rules_default(ret);
	if (err || !file)
		return err;
	FILE *f = fopen(file, "rb");
	if (!f)
		return bc_error_create(BC_ERR_IO, "%s: cannot open the triage rules (%s)", file,
				       strerror(errno));
	enum { MAX_TRIAGE_FILE = 1 << 20 };
	char *text = malloc(MAX_TRIAGE_FILE);
	size_t n = text ? fread(text, 1, MAX_TRIAGE_FILE, f) : 0;
	bool too_big = text && n == MAX_TRIAGE_FILE && fgetc(f) != EOF;
	fclose(f);
	if (!text)
		return &bc_enomem;
	if (too_big)
		err = bc_error_create(BC_ERR_FORMAT, "%s: triage rules larger than 1 MiB", file);
	else
		err = bc_triage_rules_add(*ret, text, n, file);
	free(text);
	return err;
}

enum input_kind { INPUT_DUMP, INPUT_IMAGE, INPUT_SYMBOLS };

// What the file is, from its first bytes: a PE image ("MZ"), a symbol table
// (JSON, or xz-compressed JSON), else a dump (whose reader names anything else).
static enum input_kind input_kind(const char *path)
{
	unsigned char head[8] = { 0 };
	FILE *f = fopen(path, "rb");
	if (!f)
		return INPUT_DUMP;  // the dump reader reports the open error
	size_t n = fread(head, 1, sizeof(head), f);
	fclose(f);
	if (n >= 2 && head[0] == 'M' && head[1] == 'Z')
		return INPUT_IMAGE;
	if (n >= 6 && !memcmp(head, "\xfd" "7zXZ\0", 6))
		return INPUT_SYMBOLS;
	if (n >= 8 && !memcmp(head, "Microso", 7))
		return INPUT_SYMBOLS;  // "Microsoft C/C++ MSF 7.00": a PDB
	size_t i = 0;
	while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t'))
		i++;
	return i < n && head[i] == '{' ? INPUT_SYMBOLS : INPUT_DUMP;
}

// One line on stderr, redrawn, while a symbol file downloads.
static void show_progress(void *arg, const char *name, uint64_t done, uint64_t total)
{
	(void)arg;
	if (!isatty(STDERR_FILENO))
		return;
	fputs("\rDownloading ", stderr);
	bc_put_escaped(stderr, name, 0);
	if (total)
		fprintf(stderr, ": %llu of %llu KiB  ", (unsigned long long)(done >> 10),
			(unsigned long long)(total >> 10));
	else
		fprintf(stderr, ": %llu KiB  ", (unsigned long long)(done >> 10));
	if (total && done >= total)
		fputc('\n', stderr);
}

// $XDG_CACHE_HOME/bugcheck, else ~/.cache/bugcheck, else none.
static const char *default_cache_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;
	if (xdg && *xdg == '/')
		n = snprintf(buf, size, "%s/bugcheck", xdg);
	else if (home && *home == '/')
		n = snprintf(buf, size, "%s/.cache/bugcheck", home);
	else
		return NULL;
	return n > 0 && (size_t)n < size ? buf : NULL;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "command", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "sympath", required_argument, NULL, 'y' },
		{ "online", no_argument, NULL, 'O' },
		{ "cache", required_argument, NULL, 'C' },
		{ "base", required_argument, NULL, 'B' },
		{ "types", required_argument, NULL, 'T' },
		{ "triage", required_argument, NULL, 'R' },
		{ 0 },
	};
	const char *commands = NULL, *sympath = getenv("_NT_SYMBOL_PATH"), *cache = NULL;
	const char *types_dir = NULL, *triage_file = NULL;
	bool json = false, quiet = false, online = false;
	uint64_t base = 0;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:jqhVy:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': commands = optarg; break;
		case 'j': json = true; break;
		case 'q': quiet = true; break;
		case 'y': sympath = optarg; break;
		case 'O': online = true; break;
		case 'C': cache = optarg; break;
		case 'T': types_dir = optarg; break;
		case 'R': triage_file = optarg; break;
		case 'B': {
			char *end;
			base = strtoull(optarg, &end, 16);
			if (*end) {
				fprintf(stderr, "bugcheck: --base wants a hex address, not %s\n", optarg);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': puts("bugcheck 0.1.0"); return 0;
		default: usage(stderr); return 2;
		}
	}
	bool analyze = argc - optind == 2 && !strcmp(argv[optind], "analyze");
	if (analyze)
		optind++;
	if (optind != argc - 1 || (analyze && commands)) {
		usage(stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct bc_session s = { .out = stdout };
	struct bc_error *err = load_triage_rules(triage_file, &s.triage);
	if (err) {
		fputs("bugcheck: ", stderr);
		bc_put_escaped(stderr, err->message, 0);
		fputc('\n', stderr);
		bc_error_destroy(err);
		return 2;
	}
	switch (input_kind(path)) {
	case INPUT_IMAGE: err = bc_target_open_image(path, base, &s.target); break;
	case INPUT_SYMBOLS: err = bc_target_open_symbols(path, base, &s.target); break;
	default: err = bc_target_open(path, &s.target); break;
	}
	if (err) {
		fputs("bugcheck: ", stderr);
		bc_put_escaped(stderr, path, 0);
		fputs(": ", stderr);
		bc_put_escaped(stderr, err->message, 0);
		fputc('\n', stderr);
		bc_error_destroy(err);
		bc_triage_rules_free(s.triage);
		return 1;
	}
	char cache_buf[4096];
	if (!cache)
		cache = default_cache_dir(cache_buf, sizeof(cache_buf));
	s.symbol_options = (struct bc_symbol_options){
		.symbol_path = sympath && *sympath ? sympath : online ? "srv*" : NULL,
		.cache_dir = cache,
		.allow_network = online,
		.vergilius_dir = types_dir,
		.progress = show_progress,
	};
	err = bc_target_set_symbol_options(s.target, &s.symbol_options);
	if (err) {
		fputs("bugcheck: symbol options: ", stderr);
		bc_put_escaped(stderr, err->message, 0);
		fputc('\n', stderr);
		bc_error_destroy(err);
	}
	s.processor = bc_target_current_processor(s.target);
	const struct bc_context *ctx = bc_target_context(s.target);
	if (ctx) {
		s.context = *ctx;
		s.has_context = true;
	}
	int status = 0;
	if (analyze) {
		status = bc_cmd_analyze_dump(&s, json);
	} else if (json) {
		bc_print_json(&s);
	} else if (commands) {
		if (!quiet) {
			bc_print_summary(&s);
			fputc('\n', s.out);
		}
		status = bc_cmd_run_line(&s, commands);
	} else {
		bc_print_summary(&s);
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO))
			status = bc_repl(&s);
	}
	bc_target_close(s.target);
	bc_triage_rules_free(s.triage);
	return status ? 1 : 0;
}
