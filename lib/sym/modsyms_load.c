// Finding one module's symbols through the symbol path (sym/modsyms_private.h).
#include "sym/modsyms_private.h"
#include "target_private.h"

void bc_modsyms_load(struct bc_target *t, struct bc_modsyms *ms, size_t index,
		     struct bc_module_slot *slot)
{
	(void)t;
	(void)index;
	slot->pub.state = BC_SYMBOLS_NONE;
	if (!ms->symbol_path)
		bc_modsyms_note(slot, "no symbol path (use -y PATH, _NT_SYMBOL_PATH or .sympath)");
	else
		bc_modsyms_note(slot, "no symbol provider is built in yet");
}

struct bc_pe *bc_modsyms_file_image(struct bc_target *t, size_t index)
{
	(void)t;
	(void)index;
	return NULL;  // image files come with the symbol path support
}
