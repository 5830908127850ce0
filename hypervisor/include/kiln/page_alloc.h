/*
 * page_alloc.h - the buddy allocator's setup interface (common/page_alloc.c).
 * Everyone else allocates through mm.h.
 */
#ifndef KILN_PAGE_ALLOC_H
#define KILN_PAGE_ALLOC_H

#include <kiln/mm.h>
#include <kiln/types.h>

/* Bytes of bitmap needed to manage frames 0..max_pfn-1. */
size_t page_alloc_metadata_size(u64 max_pfn);
/* Starts empty; metadata must hold page_alloc_metadata_size(max_pfn) bytes. */
void page_alloc_init(u64 max_pfn, void *metadata);
/* Hands frames [start_pfn, end_pfn) to the allocator (counted in total). */
void page_alloc_add_range(u64 start_pfn, u64 end_pfn);

/* Frame-number interface underneath alloc_pages/free_pages. */
long long page_alloc_pfn(unsigned int order);   /* -1 when exhausted */
void page_free_pfn(u64 pfn, unsigned int order);

/* Frame-number forms of mm_claim_range / mm_free_range (mm.h). */
u64 page_claim_range(u64 start_pfn, u64 end_pfn, claim_fn_t fn, void *arg);
void page_free_range(u64 start_pfn, u64 end_pfn);

/* Free blocks of exactly this order (for the boot log and tests). */
u64 page_alloc_free_blocks(unsigned int order);

#endif
