/*
 * p2m_foreign.c - the nested page table side of dom0's foreign window
 * (include/kiln/foreign.h): 4 KiB entries under the window, each pointing
 * at another domain's page or at the sink, a zeroed hypervisor page.
 *
 * The table pages under the window are allocated once, when the window is
 * built, and kept for dom0's lifetime: mapping and unmapping then only
 * rewrite one entry, never allocate, and cannot fail half-way.  The window
 * lies in RAM dom0 does not own, so the 1:1 table has no leaf there (a
 * 2 MiB or 1 GiB leaf would have had to cover RAM that is not dom0's);
 * finding one means the window was chosen wrongly and it is refused.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/foreign.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/hvm.h>
#include "npt.h"

static void *sink;

/* The 4 KiB entry for gpa, creating tables on the way when asked; NULL
 * when a table is missing (and not created: out of memory, or not asked)
 * or a large leaf is in the way (*large set). */
static u64 *entry_4k(struct p2m *p, u64 gpa, bool create, bool *large)
{
    u64 *t = p->root;
    *large = false;
    for (int l = 4; l > 1; l--) {
        u64 *e = &t[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (*e & NPT_P) {
            if (*e & NPT_PS) {
                *large = true;
                return NULL;
            }
        } else {
            if (!create)
                return NULL;
            u64 *n = alloc_pages_zeroed(0);
            if (!n)
                return NULL;
            p->pt_pages++;
            *e = virt_to_phys(n) | NPT_TABLE;
        }
        t = phys_to_virt(*e & NPT_ADDR_MASK);
    }
    return &t[(gpa >> PAGE_SHIFT) & 511];
}

int p2m_foreign_init(struct domain *dom0, u64 base, u32 pages)
{
    struct p2m *p = &dom0->p2m;
    /* Check first, so a refusal leaves the table as it was. */
    bool large;
    for (u32 i = 0; i < pages; i++) {
        u64 *e = entry_4k(p, base + (u64)i * PAGE_SIZE, false, &large);
        if (large || (e && (*e & NPT_P)))
            return -KILN_EEXIST;
    }
    sink = alloc_pages_zeroed(0);
    if (!sink)
        return -KILN_ENOMEM;
    spin_lock(&p->lock);
    int rc = 0;
    for (u32 i = 0; i < pages && !rc; i++) {
        u64 *e = entry_4k(p, base + (u64)i * PAGE_SIZE, true, &large);
        if (!e)
            rc = -KILN_ENOMEM;
        else
            *e = virt_to_phys(sink) | NPT_LEAF;
    }
    spin_unlock(&p->lock);
    /* Table pages already added stay (they belong to dom0's table and are
     * freed with it); the sink is only needed with a window. */
    if (rc) {
        for (u32 i = 0; i < pages; i++) {
            u64 *e = entry_4k(p, base + (u64)i * PAGE_SIZE, false, &large);
            if (e)
                *e = 0;
        }
        free_page(sink);
        sink = NULL;
    }
    return rc;
}

void p2m_foreign_set(struct domain *dom0, u64 gpa, paddr_t hpa)
{
    struct p2m *p = &dom0->p2m;
    bool large;
    spin_lock(&p->lock);
    u64 *e = entry_4k(p, gpa, false, &large);
    BUG_ON(!e || !sink);
    *e = (hpa ? hpa : virt_to_phys(sink)) | NPT_LEAF;
    spin_unlock(&p->lock);
}

void p2m_foreign_sink_clear(void)
{
    if (sink)
        kmemset(sink, 0, PAGE_SIZE);
}

void p2m_foreign_flush(struct domain *dom0)
{
    hvm->flush_tlb(dom0->vcpus[0]);
}
