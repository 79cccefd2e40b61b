// The interactive "N: kd> " prompt, with line editing and history (libedit).
// History is kept in $HOME/.bugcheck_history (or not at all without HOME).
#include <histedit.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"

int bc_repl(struct bc_session *s);

static char *prompt(EditLine *el)
{
	struct bc_session *s = NULL;
	el_get(el, EL_CLIENTDATA, &s);
	return s->prompt;
}

static void history_path(char *buf, size_t size)
{
	const char *home = getenv("HOME");
	buf[0] = 0;
	if (home && *home)
		snprintf(buf, size, "%s/.bugcheck_history", home);
}

int bc_repl(struct bc_session *s)
{
	EditLine *el = el_init("bugcheck", stdin, stdout, stderr);
	History *hist = history_init();
	if (!el || !hist) {
		if (el)
			el_end(el);
		if (hist)
			history_end(hist);
		fputs("bugcheck: cannot start the interactive prompt\n", stderr);
		return 1;
	}
	HistEvent ev;
	char path[PATH_MAX];
	history(hist, &ev, H_SETSIZE, 1000);
	history(hist, &ev, H_SETUNIQUE, 1);
	history_path(path, sizeof(path));
	if (path[0])
		history(hist, &ev, H_LOAD, path);
	el_set(el, EL_CLIENTDATA, s);
	el_set(el, EL_PROMPT, prompt);
	el_set(el, EL_EDITOR, "emacs");
	el_set(el, EL_HIST, history, hist);
	el_set(el, EL_SIGNAL, 1);
	while (!s->quit) {
		snprintf(s->prompt, sizeof(s->prompt), "%u: kd> ", s->processor);
		int count;
		const char *line = el_gets(el, &count);
		if (!line || count <= 0)
			break;
		char *copy = strdup(line);
		if (!copy)
			break;
		copy[strcspn(copy, "\r\n")] = 0;
		if (copy[0])
			history(hist, &ev, H_ENTER, copy);
		bc_cmd_run_line(s, copy);
		free(copy);
	}
	if (path[0])
		history(hist, &ev, H_SAVE, path);
	history_end(hist);
	el_end(el);
	return 0;
}
