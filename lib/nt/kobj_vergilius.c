// Choosing the Vergilius layout for a dump's kernel (bugcheck/vergilius.h).
//
// A Vergilius file names a build, not a PDB, so nothing ties it to the exact
// kernel that crashed: revisions of one build can move fields. A file is
// therefore taken only when its architecture and build number are the
// dump's and the kernel's own KDDEBUGGER_DATA64 offsets and sizes, all of
// those the file also knows and at least MIN_COMPARED of them, agree with it.
// Every file looked at leaves a line in the note saying why it was or was
// not taken.
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bugcheck/vergilius.h"
#include "nt/kobj_private.h"
#include "sym/modsyms_private.h"

enum {
	MAX_FILES = 4096,        ///< directory entries considered
	MAX_NOTE = 4096,         ///< bytes of explanation kept
	MIN_COMPARED = 4,        ///< fewer KDDEBUGGER_DATA64 facts than this prove nothing
};

struct note {
	char text[MAX_NOTE];
	size_t length;
};

static void note_add(struct note *n, const char *fmt, ...) BC_PRINTF(2, 3);
static void note_add(struct note *n, const char *fmt, ...)
{
	if (n->length + 3 >= sizeof(n->text))
		return;
	if (n->length) {
		memcpy(n->text + n->length, "; ", 3);
		n->length += 2;
	}
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(n->text + n->length, sizeof(n->text) - n->length, fmt, ap);
	va_end(ap);
	if (w > 0)
		n->length += (size_t)w < sizeof(n->text) - n->length ? (size_t)w
								       : sizeof(n->text) - n->length - 1;
}

static bool is_layout_file(const char *name)
{
	size_t n = strlen(name);
	return (n > 4 && !strcmp(name + n - 4, ".yml")) ||
	       (n > 7 && !strcmp(name + n - 7, ".yml.xz"));
}

static int compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// The file names of @dir that look like layouts, sorted (the choice must not
// depend on the order readdir happens to give).
static struct bc_error *list_files(const char *dir, char ***names_ret, size_t *count_ret)
{
	DIR *d = opendir(dir);
	if (!d)
		return bc_error_create(BC_ERR_NOT_FOUND, "vergilius: cannot open directory %s", dir);
	char **names = NULL;
	size_t count = 0;
	struct dirent *e;
	while ((e = readdir(d)) && count < MAX_FILES) {
		if (!is_layout_file(e->d_name))
			continue;
		char **grown = realloc(names, (count + 1) * sizeof(*names));
		char *copy = strdup(e->d_name);
		if (!grown || !copy) {
			free(copy);
			names = grown ? grown : names;
			for (size_t i = 0; i < count; i++)
				free(names[i]);
			free(names);
			closedir(d);
			return &bc_enomem;
		}
		names = grown;
		names[count++] = copy;
	}
	closedir(d);
	if (count)
		qsort(names, count, sizeof(*names), compare_names);
	*names_ret = names;
	*count_ret = count;
	return NULL;
}

static const char *machine_name(enum bc_machine machine)
{
	return machine == BC_MACHINE_X86 ? "x86" : machine == BC_MACHINE_X64 ? "x64"
		: machine == BC_MACHINE_ARM64 ? "ARM64" : "unknown";
}

// Opens @name and keeps it in *@chosen if it passes; says why in @note.
static void consider(struct bc_target *t, const char *dir, const char *name, struct note *note,
		     struct bc_symtab **chosen)
{
	const struct bc_dump_info *info = bc_target_info(t);
	char path[4096];
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return;
	struct bc_vergilius_info facts;
	struct bc_symtab *tab;
	struct bc_error *err = bc_vergilius_open(path, &tab, &facts);
	if (err) {
		note_add(note, "vergilius %s: %s", name, err->message);
		bc_error_destroy(err);
		return;
	}
	char label[80];
	snprintf(label, sizeof(label), "%s-%s", facts.build, machine_name(facts.machine));
	struct bc_layout_check check;
	if (facts.machine != info->machine) {
		note_add(note, "vergilius %s: for %s, the dump is %s", label,
			 machine_name(facts.machine), machine_name(info->machine));
	} else if (facts.build_number != info->build) {
		note_add(note, "vergilius %s: build %u, the dump's is %u", label, facts.build_number,
			 info->build);
	} else if (bc_kdbg_check_layout(t, tab, &check), check.agreed != check.compared) {
		note_add(note, "vergilius %s: %s", label, check.disagreement);
	} else if (check.compared < MIN_COMPARED) {
		note_add(note, "vergilius %s: KDDEBUGGER_DATA64 confirms only %u offsets or sizes "
			 "(%d needed)", label, check.compared, MIN_COMPARED);
	} else if (*chosen) {
		note_add(note, "vergilius %s: also agrees (%u offsets and sizes), the first is used",
			 label, check.compared);
	} else {
		note_add(note, "vergilius %s: %u KDDEBUGGER_DATA64 offsets and sizes agree", label,
			 check.compared);
		*chosen = tab;
		return;
	}
	bc_symtab_destroy(tab);
}

static struct bc_error *choose(struct bc_target *t, struct bc_modsyms *ms)
{
	if (!ms->vergilius_dir)
		return NULL;
	char **names = NULL;
	size_t count = 0;
	struct bc_error *err = list_files(ms->vergilius_dir, &names, &count);
	if (err == &bc_enomem)
		return err;
	struct note *note = calloc(1, sizeof(*note));
	if (!note) {
		bc_error_destroy(err);
		return &bc_enomem;
	}
	if (err) {
		note_add(note, "%s", err->message);
		bc_error_destroy(err);
		count = 0;
		names = NULL;
	} else if (!count) {
		note_add(note, "vergilius: no *.yml or *.yml.xz files in %s", ms->vergilius_dir);
	}
	for (size_t i = 0; i < count; i++) {
		consider(t, ms->vergilius_dir, names[i], note, &ms->vergilius_tab);
		free(names[i]);
	}
	free(names);
	ms->vergilius_note = strdup(note->text);
	free(note);
	return ms->vergilius_note ? NULL : &bc_enomem;
}

BC_PUBLIC struct bc_error *bc_target_vergilius_kernel(struct bc_target *t,
						      struct bc_symtab **tab_ret,
						      const char **note_ret)
{
	if (note_ret)
		*note_ret = "";
	struct bc_modsyms *ms = bc_modsyms_get(t);
	if (!ms)
		return &bc_enomem;
	if (!ms->vergilius_tried) {
		struct bc_error *err = choose(t, ms);
		if (err)
			return err;
		ms->vergilius_tried = true;
	}
	if (note_ret && ms->vergilius_note)
		*note_ret = ms->vergilius_note;
	if (!ms->vergilius_tab && !ms->vergilius_dir)
		return &bc_not_found;
	if (!ms->vergilius_tab)
		return bc_error_create(BC_ERR_NOT_FOUND, "no Vergilius layout for this kernel%s%s",
				       ms->vergilius_note ? ": " : "",
				       ms->vergilius_note ? ms->vergilius_note : "");
	*tab_ret = ms->vergilius_tab;
	return NULL;
}
