/*
 * sym/modsyms_private.h: the target's per-module symbol slots.
 *
 * struct bc_target holds a `struct bc_modsyms *` (NULL until symbols are first
 * used). sym/modsyms.c owns options, slots and address/name resolution;
 * sym/modsyms_load.c finds one module's symbols through the symbol path.
 */
#ifndef BC_SYM_MODSYMS_PRIVATE_H
#define BC_SYM_MODSYMS_PRIVATE_H

#include "bugcheck/symbols.h"

struct bc_pe;

struct bc_module_slot {
	struct bc_module_symbols pub;
	// Owned storage behind pub's strings.
	char *image_path, *symbol_file, *note;
	char short_name[64];
	// The module's image: as mapped in dump memory, and as a file found
	// through the symbol path (for what a small memory dump lacks). Looked
	// for once each; kept across .reload (the dump and files do not change
	// meaning), dropped when the symbol path changes.
	struct bc_pe *memory_image, *file_image;
	bool memory_image_tried, file_image_tried;
	bool preloaded;  ///< symbols given with the target (a symbol file), never reloaded
	// What memory_image reads through (the slot outlives its images).
	struct bc_target *target;
	uint64_t base;
};

struct bc_modsyms {
	char *symbol_path;
	char *cache_dir;
	bool allow_network;
	bc_symbol_progress_fn *progress;
	void *progress_arg;
	struct bc_module_slot *slots;  ///< one per module, same order as the target's modules
	size_t slot_count;
	// The Vergilius layout chosen for the kernel (nt/kobj_vergilius.c): looked
	// for once per set of options; the note says what was taken or rejected.
	char *vergilius_dir;
	struct bc_symtab *vergilius_tab;
	char *vergilius_note;
	bool vergilius_tried;
};

/** Forgets the Vergilius choice (options changed, target closed). */
void bc_modsyms_clear_vergilius(struct bc_modsyms *ms);

void bc_modsyms_destroy(struct bc_modsyms *ms);
/** Releases one slot's symbols and strings, back to DEFERRED. */
void bc_modsyms_clear_slot(struct bc_module_slot *slot);
/**
 * Fills @slot for module @index (sym/modsyms_load.c). Never fails: a module
 * without symbols ends in BC_SYMBOLS_NONE with a note saying what was tried.
 */
void bc_modsyms_load(struct bc_target *t, struct bc_modsyms *ms, size_t index,
		     struct bc_module_slot *slot);
/** The module's PE headers read from dump memory at its base; NULL when not in the dump. */
struct bc_pe *bc_modsyms_memory_image(struct bc_target *t, size_t index);
/**
 * The module's image file from the symbol path, matching its TimeDateStamp
 * and SizeOfImage; NULL when none is found (sym/modsyms_load.c).
 */
struct bc_pe *bc_modsyms_file_image(struct bc_target *t, size_t index);
/** Drops both images of a slot (symbol path changes). */
void bc_modsyms_clear_images(struct bc_module_slot *slot);
/** The slots, created on first use; NULL on allocation failure. */
struct bc_modsyms *bc_modsyms_get(struct bc_target *t);

/**
 * Gives module @index the symbols @tab (ownership passes on success), as if
 * found by the loader: for targets that are a symbol file.
 */
struct bc_error *bc_modsyms_preload(struct bc_target *t, size_t index, struct bc_symtab *tab,
				    enum bc_symbol_state state, const char *file);

/**
 * Fetches every module's symbol file (or image) along the path at once, so
 * downloads overlap (`.reload /f`); the loads that follow find them cached.
 */
void bc_modsyms_prefetch(struct bc_target *t, struct bc_modsyms *ms);

/** Sets slot->note (printf-style); allocation failure leaves the old note. */
void bc_modsyms_note(struct bc_module_slot *slot, const char *fmt, ...) BC_PRINTF(2, 3);

#endif
