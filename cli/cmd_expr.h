/*
 * cli/cmd_expr.h: expression and address helpers shared by ?, r and d*.
 *
 * Commands evaluate their address arguments with the session's target and
 * register context, print library errors as one escaped line, and name
 * addresses WinDbg's way ("nt!KeBugCheckEx+0x10", or "amdppm+0x334c" without symbols).
 */
#ifndef BC_CLI_CMD_EXPR_H
#define BC_CLI_CMD_EXPR_H

#include "session.h"

/** bc_expr_eval_prefix() with the session's target and registers. */
struct bc_error *bc_cmd_eval_prefix(struct bc_session *s, const char *text, size_t *len_ret,
				    uint64_t *ret);

/** Prints "@cmd: <message>" as one line (escaped) and destroys @err. */
void bc_cmd_print_error(struct bc_session *s, const char *cmd, struct bc_error *err);

/**
 * Writes "module!symbol+0xoffset" when the module has symbols, else
 * "module+0xoffset" ("module" at offset 0; "nt" for the kernel) for
 * an address inside a loaded module and returns true; false otherwise.
 * The name comes from the dump: print it with bc_put_escaped().
 */
bool bc_cmd_module_label(struct bc_session *s, uint64_t address, char *buf, size_t size);

#endif
