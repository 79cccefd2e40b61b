/*
 * analysis/analysis_private.h: the steps of bc_target_analyze() that live in
 * files of their own (failing context, bucket, evidence), and the helpers
 * they share.
 */
#ifndef BC_ANALYSIS_PRIVATE_H
#define BC_ANALYSIS_PRIVATE_H

#include <stdarg.h>

#include "bugcheck/analysis.h"

/** The base code of an "_M" variant (0x1000007E -> 0x7E); other codes as they are. */
uint32_t bc_analysis_base_code(uint32_t code);

/**
 * Chooses the failing context (a CONTEXT or KTRAP_FRAME a parameter points
 * at, as @meaning describes the parameters, else the dump's own context) and
 * fills source, source_address, source_param, context, exception_record,
 * faulting_ip. What could not be read goes to the notes. @meaning is the
 * knowledge base's entry for the bug check, NULL when it has none.
 */
void bc_analysis_failing_context(struct bc_target *target,
				 const struct bc_bugcheck_info *meaning,
				 struct bc_analysis *a);

/** FAILURE_BUCKET_ID and FAILURE_ID_HASH from the verdict's fields. */
void bc_analysis_compose_bucket(struct bc_analysis *a);

/** Evidence, confidence, summary and advice for the verdict already reached. */
void bc_analysis_gather_evidence(struct bc_target *target,
				 const struct bc_bugcheck_info *meaning,
				 struct bc_analysis *a);

/** Whether @image_name ("Ntfs.sys") is one of Windows' own images (data/inbox_drivers.txt). */
bool bc_analysis_inbox_image(const char *image_name);
/**
 * Whether the @length characters at @pattern name one of Windows' own images
 * (any case), or with @prefix begin one; its name, as listed, goes to @name.
 */
bool bc_analysis_inbox_match(const char *pattern, size_t length, bool prefix, char *name,
			     size_t size);

/** Appends a note (what the analysis lacked); silently drops it when full. */
void bc_analysis_note(struct bc_analysis *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Appends a fact of the evidence. */
void bc_analysis_evidence(struct bc_analysis *a, enum bc_evidence_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/** Appends a piece of advice. */
void bc_analysis_advise(struct bc_analysis *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
