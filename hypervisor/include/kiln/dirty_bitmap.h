/*
 * dirty_bitmap.h - the log-dirty bitmap of a domain's RAM, one bit per
 * guest page (common/dirty_bitmap.c), kept pure so its rules are unit
 * tested on the host (tests/test_dirty_bitmap.c).
 *
 * Bits are set from any CPU (a vCPU's write fault, the hypervisor writing
 * into the domain) while dom0 reads and clears batches of them, so both
 * sides use atomic word operations: a bit set while a batch is taken is
 * either in that batch or stays for the next one, never lost.
 */
#ifndef KILN_DIRTY_BITMAP_H
#define KILN_DIRTY_BITMAP_H

#include <kiln/types.h>

/* Bytes of a bitmap of nbits bits (whole 64-bit words). */
u64 dirty_bitmap_bytes(u64 nbits);

/* Marks bit (ignored when bit >= nbits: the caller checked the range). */
void dirty_bitmap_set(u64 *bm, u64 nbits, u64 bit);
/* Marks every page that [first_byte, first_byte + len) touches. */
void dirty_bitmap_set_range(u64 *bm, u64 nbits, u64 first_byte, u64 len);

/*
 * Takes the bits [start, start + *nr) (cut to nbits): copies them into out
 * (bit i of out[i / 8] is start + i; out holds at least (*nr + 7) / 8
 * bytes, bits past *nr are zero), clears them, calls fn(ctx, bit) for each
 * set one, and returns how many were set.  *nr becomes the count covered
 * (0 when start >= nbits).
 */
u64 dirty_bitmap_take(u64 *bm, u64 nbits, u64 start, u64 *nr, u8 *out,
                      void (*fn)(void *ctx, u64 bit), void *ctx);

#endif
