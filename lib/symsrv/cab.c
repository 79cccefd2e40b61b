// Compressed store files ("amdppm.pd_"): Microsoft Cabinet archives holding
// one file, decompressed with libmspack (bugcheck/sympath.h).
#include <mspack.h>

#include "symsrv/symsrv_private.h"

BC_PUBLIC struct bc_error *bc_cab_extract(const char *cab_path, const char *out_path)
{
	struct mscab_decompressor *d = mspack_create_cab_decompressor(NULL);
	if (!d)
		return &bc_enomem;
	struct mscabd_cabinet *cab = d->open(d, (char *)cab_path);
	struct bc_error *err = NULL;
	if (!cab) {
		err = bc_error_format(0, "%s: not a readable CAB archive (libmspack error %d)",
				      cab_path, d->last_error(d));
	} else if (!cab->files) {
		err = bc_error_format(0, "%s: the CAB archive holds no file", cab_path);
	} else if (d->extract(d, cab->files, (char *)out_path) != MSPACK_ERR_OK) {
		err = bc_error_format(0, "%s: the CAB archive's file cannot be decompressed "
				      "(libmspack error %d)", cab_path, d->last_error(d));
	}
	if (cab)
		d->close(d, cab);
	mspack_destroy_cab_decompressor(d);
	return err;
}
