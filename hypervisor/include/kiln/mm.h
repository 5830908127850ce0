/*
 * mm.h - physical memory: the page allocator and the direct map.
 *
 * Address space (see README.md, "Memory layout"):
 *   0xffff800000000000 + pa   direct map of all RAM (and the low 4 GiB of
 *                             MMIO), so the hypervisor can touch any page
 *   0xffffc00000000000        per-CPU stacks, 4 KiB pages with guard pages
 *   0xffffffff80000000 + pa   the hypervisor image (-mcmodel=kernel), first GiB
 * There is no identity map once the APs are up: dereferencing a physical
 * address, or NULL, faults.
 *
 * The allocator is a binary buddy system over every usable RAM range of the
 * Multiboot map, minus the image, the Multiboot data and the modules.
 * Order n = 2^n contiguous, naturally aligned pages (order 9 = 2 MiB).
 * All functions are SMP-safe and may be called with interrupts off.
 */
#ifndef KILN_MM_H
#define KILN_MM_H

#include <kiln/types.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1ul << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))
#define MM_MAX_ORDER 18   /* 1 GiB: the largest block ever handed out */
#define ORDER_2M 9

#define DIRECTMAP_BASE 0xffff800000000000ul
#define IMAGE_BASE     0xffffffff80000000ul

#ifdef KILN_UNIT_TEST
/* Host tests stand a buffer in for physical memory: pa 0 is this pointer. */
extern unsigned char *kiln_test_phys_base;
static inline void *phys_to_virt(paddr_t pa) { return kiln_test_phys_base + pa; }
static inline paddr_t virt_to_phys(const void *va)
{
    return (paddr_t)((const unsigned char *)va - kiln_test_phys_base);
}
#else
static inline void *phys_to_virt(paddr_t pa)
{
    return (void *)(DIRECTMAP_BASE + pa);
}

/* Accepts direct-map and image addresses (static data, the boot stacks). */
static inline paddr_t virt_to_phys(const void *va)
{
    vaddr_t v = (vaddr_t)va;
    return v >= IMAGE_BASE ? v - IMAGE_BASE : v - DIRECTMAP_BASE;
}
#endif

/* Returns 2^order pages (direct-map address) or NULL when none is free.
 * Contents are undefined; see alloc_pages_zeroed. */
void *alloc_pages(unsigned int order);
void *alloc_pages_zeroed(unsigned int order);
/* order must be the one used at allocation; freeing twice panics. */
void free_pages(void *p, unsigned int order);

/*
 * Marks an allocated page as never to be freed (a CPU's VMRUN host save
 * area: a page freed while the CPU still saves its state there would come
 * back as, say, a VMCB, and a #VMEXIT would then load a guest's state as
 * the host's).  Freeing a pinned page panics with the freer's backtrace.
 * At most MM_MAX_PINNED pages.
 */
#define MM_MAX_PINNED 128
void mm_pin_page(void *p);

static inline void *alloc_page(void) { return alloc_pages(0); }
static inline void free_page(void *p) { free_pages(p, 0); }

/*
 * Gives [start, end) (whole pages inside it) to the allocator: for boot
 * memory that was kept out of it, e.g. a module once its domain is built.
 */
void mm_release_range(paddr_t start, paddr_t end);

/*
 * Takes every page that is free in [start, end) out of the allocator (pages
 * in use or not RAM are skipped) and calls fn(start_pfn, end_pfn, arg) for
 * each maximal run taken, in ascending order, never under the allocator's
 * lock (fn may allocate).  Returns the number of pages taken.  For memory that must sit at
 * given physical addresses, e.g. a domain mapped 1:1 (dom0).
 */
typedef void (*claim_fn_t)(u64 start_pfn, u64 end_pfn, void *arg);
u64 mm_claim_range(paddr_t start, paddr_t end, claim_fn_t fn, void *arg);
/* Frees every page of [start, end) (page aligned), which must all be in
 * use, e.g. runs taken with mm_claim_range; freeing twice panics. */
void mm_free_range(paddr_t start, paddr_t end);

u64 mm_free_pages(void);   /* pages currently free in the allocator */
u64 mm_total_pages(void);  /* pages the allocator manages (free + in use) */

#endif
