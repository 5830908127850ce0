/*
 * ksyms.c - address to function name, for backtraces and fault reports.
 *
 * The table is generated from the image's own symbols at build time
 * (tools/ksyms.sh) and linked after .data, where its size cannot move any
 * function: the first link (with an empty table) and the final one have
 * identical code addresses, which the Makefile verifies.
 */
#include <kiln/ksyms.h>

extern const u64 ksyms_count;
extern const u64 ksyms_addrs[];
extern const u32 ksyms_name_offsets[];
extern const char ksyms_names[];

const char *ksym_lookup(u64 addr, u64 *offset)
{
    u64 lo = 0, hi = ksyms_count;

    if (!hi || addr < ksyms_addrs[0])
        return NULL;
    /* Last symbol whose address is <= addr. */
    while (hi - lo > 1) {
        u64 mid = lo + (hi - lo) / 2;
        if (ksyms_addrs[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    *offset = addr - ksyms_addrs[lo];
    return ksyms_names + ksyms_name_offsets[lo];
}
