/*
 * ksyms.h - the hypervisor's symbol table (common/ksyms.c).
 */
#ifndef KILN_KSYMS_H
#define KILN_KSYMS_H

#include <kiln/types.h>

/* Name of the function containing addr and the offset into it, or NULL. */
const char *ksym_lookup(u64 addr, u64 *offset);

#endif
