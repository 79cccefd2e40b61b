/*
 * bugcheck/known_drivers.h: third-party drivers that are well-known crash causes.
 *
 * This module owns the known-problem driver list that !analyze's advice draws
 * on: for each driver image (an exact file name, "iaStor.sys", or a prefix,
 * "aswSP*"), a category (storage, antivirus, anticheat, vpn-network,
 * graphics, virtualization, monitoring, overclocking-tools, audio, other),
 * the vendor and product, what tends to go wrong, and what to do about it,
 * optionally only for images linked before a given year. The text lives in
 * data/known_drivers.txt (its format is described at its top), is compiled
 * into the library and parsed on demand into a caller-owned object, so
 * nothing is read from disk at run time. The sentences are the project's own
 * words. Microsoft's own drivers are never listed: the parser refuses a
 * pattern that names one (a crash in ntfs.sys or storahci.sys is someone
 * else's doing, or hardware).
 *
 * Timestamps: the age test uses the image's PE TimeDateStamp as a date.
 * Windows 10 and later build many images reproducibly, and their
 * TimeDateStamp is then a hash, not a date; telling the two apart is the
 * caller's concern (pass 0, "unknown", when the value cannot be a date, and
 * say that the age is unknown when an entry with old_before_year matches).
 *
 * All strings returned point into the list and live until it is closed.
 */
#ifndef BUGCHECK_KNOWN_DRIVERS_H
#define BUGCHECK_KNOWN_DRIVERS_H

#include <stddef.h>
#include <stdint.h>

#include "bugcheck/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct bc_known_drivers;

/** One entry of the list, as data/known_drivers.txt wrote it. */
struct bc_known_driver {
	const char *pattern;       ///< as written: "iaStor.sys", or "aswSP*" (a prefix)
	const char *category;      ///< "storage", "antivirus", ... (see above)
	const char *vendor;        ///< "Intel Rapid Storage Technology"
	const char *problem;       ///< one sentence: what tends to go wrong
	const char *advice;        ///< one sentence: what to do
	unsigned old_before_year;  ///< applies to images linked before Jan 1 of this year; 0: any age
	size_t line;               ///< its line in the text
};

/** Parses the compiled-in list (data/known_drivers.txt). Close it with bc_known_drivers_close(). */
BC_PUBLIC struct bc_error *bc_known_drivers_open(struct bc_known_drivers **ret);

/**
 * Parses a list in data/known_drivers.txt's format (for tests and fuzzing).
 * @text is copied and need not be NUL-terminated. @what names it in errors
 * (NULL: "known_drivers.txt"); a bad line gives a BC_ERR_FORMAT error
 * "WHAT line N: problem" whose file_offset is the line's offset.
 */
BC_PUBLIC struct bc_error *bc_known_drivers_parse(const char *text, size_t size, const char *what,
						  struct bc_known_drivers **ret);

BC_PUBLIC void bc_known_drivers_close(struct bc_known_drivers *kd);

/** How many entries the list holds. */
BC_PUBLIC size_t bc_known_drivers_count(const struct bc_known_drivers *kd);
/** Entry @i (0 <= i < count) in the order of the text, or NULL. */
BC_PUBLIC const struct bc_known_driver *bc_known_drivers_entry(const struct bc_known_drivers *kd,
								 size_t i);

/**
 * The entry for image @image_name, or NULL when none applies. @image_name is
 * the file name with its extension as the module list has it ("iaStor.sys",
 * any case; not WinDbg's short module name "iaStor"); a path is cut to its
 * last component.
 * @timestamp is the image's PE TimeDateStamp (0 = unknown): an entry with
 * old_before_year applies only to images stamped before Jan 1 of that year
 * (UTC); with an unknown timestamp it applies, and the caller says the age is
 * unknown. Among the entries that apply, an exact name wins over prefix
 * patterns, and the longest prefix wins among prefixes.
 */
BC_PUBLIC const struct bc_known_driver *bc_known_drivers_lookup(const struct bc_known_drivers *kd,
								  const char *image_name,
								  uint32_t timestamp);

/** The first second of Jan 1 of @year (UTC) as a Unix time, for comparing with PE timestamps. */
BC_PUBLIC uint64_t bc_known_drivers_year_start(unsigned year);

#ifdef __cplusplus
}
#endif
#endif
