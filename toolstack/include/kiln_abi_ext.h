/*
 * kiln_abi_ext.h - hypercall ABI the toolstack needs beyond kiln.h.
 *
 * PROPOSED ADDITION to hypervisor/include/public/kiln.h, kept here until the
 * hypervisor implements it so that kiln.h only describes what exists.  The
 * numbers continue enum kiln_domctl_cmd at its end; the structure fits in the
 * 128-byte union of struct kiln_domctl (use u._size).  Nothing existing
 * changes, so no version bump beyond KILN_ABI_MINOR is needed on merge.
 *
 * MAP_FOREIGN: make the caller's own page frame local_gpa show page gfn of
 * domain domid (the caller's nested page table entry for local_gpa is
 * redirected; the caller's original frame stays reserved for it).  dom0 only.
 * UNMAP_FOREIGN: restore the caller's own frame at local_gpa.
 * Errors: ESRCH (no such domain), EFAULT (gfn not in domid, local_gpa not the
 * caller's RAM), EBUSY (local_gpa already redirected), ENOSYS (not supported).
 */
#ifndef KILN_ABI_EXT_H
#define KILN_ABI_EXT_H

#include "kiln.h"

#define KILN_DOMCTL_MAP_FOREIGN   13
#define KILN_DOMCTL_UNMAP_FOREIGN 14

struct kiln_domctl_foreign {
    kiln_u64 gfn;       /* page frame number in the target domain */
    kiln_u64 local_gpa; /* page-aligned address in the caller */
};

#endif /* KILN_ABI_EXT_H */
