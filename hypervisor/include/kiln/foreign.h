/*
 * foreign.h - dom0's mappings of other domains' pages (KILN_DOMCTL_MAP_FOREIGN).
 *
 * dom0 gets a "foreign window": FOREIGN_WINDOW_PAGES pages of its physical
 * address space that are neither its RAM nor MMIO (firmware RAM it does not
 * own, so reserved in its e820 and absent from its 1:1 nested page table).
 * A mapping points one window page at one page of another domain; a window
 * page with no mapping shows a zeroed hypervisor page (the sink), so dom0
 * touching a stale window page never faults and never sees freed memory.
 * The slot table in foreign.c is the record of which domain's pages dom0
 * holds: a domain's destroy unmaps them (and flushes dom0's TLB) before its
 * pages go back to the allocator.  Everything runs under domlist_lock.
 */
#ifndef KILN_FOREIGN_H
#define KILN_FOREIGN_H

#include <kiln/dom0.h>
#include <kiln/types.h>

struct domain;

#define FOREIGN_WINDOW_PAGES 1024u   /* 4 MiB, aligned to its size */

/* ---- common/foreign.c ---------------------------------------------------- */

/* dom0's window, built on first use; pages 0 when there is none (no dom0,
 * no RAM-sized gap it does not own, or no memory for its tables). */
void foreign_window(u64 *base, u32 *pages);
/* Highest FOREIGN_WINDOW_PAGES-aligned run of firmware RAM below 4 GiB
 * with no page in owned[]: 0 when there is none.  Pure. */
u64 foreign_window_pick(const struct mem_range *owned, unsigned int nr);
/* MAP_FOREIGN / UNMAP_FOREIGN for dom0 (KILN_* codes as in kiln.h); t is
 * the target found by id, NULL when there is none. */
s64 foreign_map(struct domain *dom0, struct domain *t, u64 gfn, u64 local_gpa);
s64 foreign_unmap(struct domain *dom0, u64 local_gpa);
/* dom0 pages of d currently mapped. */
unsigned int foreign_count(u16 domid);
/* d's pages are about to be freed: every dom0 mapping of them now shows
 * the sink and dom0's TLB is flushed before it runs again.  Must run on
 * dom0's CPU (it is then out of guest mode).  Returns how many went. */
unsigned int foreign_release(struct domain *d);

/* ---- arch/x86/hvm/p2m_foreign.c: dom0's nested page table side --------- */

/* Allocates the sink and the table pages under the window and points every
 * window page at the sink.  0, -KILN_ENOMEM, or -KILN_EEXIST when part of
 * the window is mapped already (then nothing is left allocated). */
int p2m_foreign_init(struct domain *dom0, u64 base, u32 pages);
/* Points the window page at gpa to host page hpa, or to the sink (0). */
void p2m_foreign_set(struct domain *dom0, u64 gpa, paddr_t hpa);
/* Zeroes the sink (dom0 may have written to it through a dead mapping). */
void p2m_foreign_sink_clear(void);
/* dom0's next VMRUN flushes its TLB (it runs on this CPU, out of guest
 * mode: it is the caller). */
void p2m_foreign_flush(struct domain *dom0);

#endif
