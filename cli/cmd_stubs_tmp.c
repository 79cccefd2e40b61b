// TEMPORARY: placeholders until cmd_regs.c / cmd_mem.c / cmd_expr.c land.
#include "cmd.h"
int cmd_registers(struct bc_session *s, const char *c, const char *a) { (void)c; (void)a; fputs("r: not implemented yet\n", s->out); return 1; }
int cmd_display(struct bc_session *s, const char *c, const char *a) { (void)c; (void)a; fputs("d*: not implemented yet\n", s->out); return 1; }
int cmd_evaluate(struct bc_session *s, const char *c, const char *a) { (void)c; (void)a; fputs("?: not implemented yet\n", s->out); return 1; }
