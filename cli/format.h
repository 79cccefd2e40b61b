/*
 * cli/format.h: WinDbg-style text formatting and safe output of dump strings.
 *
 * Every string that comes from a dump (module names, paths, memory shown as
 * text) is hostile: it may carry terminal escape sequences. bc_put_escaped()
 * is the only way such strings reach the output; it shows control characters
 * (C0, DEL, C1 and bidirectional overrides) as \xNN or \u{NNNN}.
 */
#ifndef BC_CLI_FORMAT_H
#define BC_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Room every time formatter below needs. */
enum { BC_FMT_TIME_SIZE = 128 };

/** "fffff804`8b580000" (pointer_size 8) or "8b580000" (4). @buf >= 20 bytes. */
const char *bc_fmt_ptr(char *buf, uint64_t value, unsigned pointer_size);

/** "0xfffff804`8b580000" / "0x804d7000" as in WinDbg's "Kernel base = ..." line. */
const char *bc_fmt_ptr0x(char *buf, uint64_t value, unsigned pointer_size);

/** FILETIME as WinDbg's "Sun Feb 21 01:38:22.987 2021 (UTC + 0:00)". @buf >= BC_FMT_TIME_SIZE. */
const char *bc_fmt_filetime(char *buf, uint64_t filetime);

/** FILETIME as ISO 8601 UTC "2021-02-21T01:38:22.987Z". @buf >= BC_FMT_TIME_SIZE. */
const char *bc_fmt_filetime_iso(char *buf, uint64_t filetime);

/** 100 ns ticks as "0 days 0:10:12.345". @buf >= BC_FMT_TIME_SIZE. */
const char *bc_fmt_uptime(char *buf, uint64_t ticks);

/** A PE TimeDateStamp as "Fri Sep 29 11:45:20 2023". @buf >= BC_FMT_TIME_SIZE. */
const char *bc_fmt_unix_time(char *buf, uint32_t seconds);

/**
 * Writes @s to @out with control characters made visible, padded with
 * spaces to @width display columns (0 = no padding).
 */
void bc_put_escaped(FILE *out, const char *s, int width);

/** Writes @s as a JSON string literal (with quotes). */
void bc_put_json_string(FILE *out, const char *s);

#endif
