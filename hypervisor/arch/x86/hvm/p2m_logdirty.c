/*
 * p2m_logdirty.c - log-dirty mode of a domU's nested page table, what live
 * migration's pre-copy rounds read: which pages did the guest write since
 * they were last sent?
 *
 * Enabling write-protects every mapped RAM page; the first write to one is
 * a nested page fault that sets the page's bit in the dirty bitmap and
 * makes it writable again, so each page costs one fault per round.  A
 * 2 MiB mapping is split into 512 4 KiB entries first (one dirty byte must
 * not cost 2 MiB of resending), and while logging, pages the guest touches
 * for the first time are mapped 4 KiB at a time the same way.  So a 2 MiB
 * region's level-2 entry is always either absent, a 2 MiB leaf, or a table
 * whose 512 entries are all present: p2m.c's first-touch path, which maps
 * big regions with one leaf, never meets a half-filled one.
 *
 * Write protection only ever takes rights away while the domain is paused
 * with no vCPU in guest mode (the domctl checks it), so flushing each
 * vCPU's TLB at its next entry is enough: no CPU can hold a stale
 * writable translation.  Giving rights back (the fault) needs no flush.
 * Disabling just stops the logging and frees the bitmap: pages still
 * write-protected become writable at their next write fault, and split
 * mappings stay split until the domain dies.
 */
#include <kiln/console.h>
#include <kiln/dirty_bitmap.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include "npt.h"

#define PAGES_2M 512u

static unsigned int bitmap_order(u64 nr_pages)
{
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < dirty_bitmap_bytes(nr_pages))
        order++;
    return order;
}

/* The level-2 entry of gpa, or NULL when no table leads to it. */
static u64 *l2_entry(struct p2m *p, u64 gpa)
{
    u64 *t = p->root;
    for (int l = 4; l > 2; l--) {
        u64 e = t[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (!(e & NPT_P) || (e & NPT_PS))
            return NULL;
        t = phys_to_virt(e & NPT_ADDR_MASK);
    }
    return &t[(gpa >> 21) & 511];
}

/* The 4 KiB table under a present, non-leaf level-2 entry. */
static u64 *l1_table(u64 l2)
{
    return phys_to_virt(l2 & NPT_ADDR_MASK);
}

/* Replaces whatever *l2 holds for 2 MiB region `region` with a table of
 * 512 read-only entries (a 2 MiB leaf is split; an absent entry filled).
 * Lock held.  0 or -KILN_ENOMEM (entry unchanged). */
static int fill_region(struct p2m *p, u64 *l2, u64 region)
{
    u64 *t = alloc_pages_zeroed(0);
    if (!t)
        return -KILN_ENOMEM;
    p->pt_pages++;
    for (u64 i = 0; i < PAGES_2M; i++)
        t[i] = p->frames[region * PAGES_2M + i] | (NPT_LEAF & ~NPT_W);
    *l2 = virt_to_phys(t) | NPT_TABLE;
    return 0;
}

static void flush_all(struct domain *d)
{
    for (unsigned int i = 0; i < d->nr_vcpus; i++)
        hvm->tlb_flush(d->vcpus[i]);
}

int p2m_logdirty_enable(struct domain *d)
{
    struct p2m *p = &d->p2m;
    if (p->identity || !p->frames)
        return -KILN_EINVAL;
    if (p->dirty)
        return -KILN_EEXIST;
    unsigned int order = bitmap_order(p->nr_pages);
    u64 *bm = alloc_pages_zeroed(order);
    if (!bm)
        return -KILN_ENOMEM;

    int rc = 0;
    u64 regions = (p->nr_pages + PAGES_2M - 1) / PAGES_2M;
    spin_lock(&p->lock);
    for (u64 r = 0; r < regions && !rc; r++) {
        u64 *l2 = l2_entry(p, r * PAGES_2M * PAGE_SIZE);
        if (!l2 || !(*l2 & NPT_P))
            continue;
        if (*l2 & NPT_PS) {
            rc = fill_region(p, l2, r);
            continue;
        }
        u64 *t = l1_table(*l2);
        for (unsigned int i = 0; i < PAGES_2M; i++)
            t[i] &= ~NPT_W;
    }
    if (!rc) {
        p->dirty = bm;
        p->dirty_order = order;
    }
    spin_unlock(&p->lock);
    /* Even a failed enable may have write-protected pages: the fault path
     * gives them back their rights. */
    flush_all(d);
    if (rc)
        free_pages(bm, order);
    return rc;
}

void p2m_logdirty_free(struct domain *d)
{
    struct p2m *p = &d->p2m;
    if (p->dirty)
        free_pages(p->dirty, p->dirty_order);
    p->dirty = NULL;
}

int p2m_logdirty_disable(struct domain *d)
{
    if (!d->p2m.dirty)
        return -KILN_ENOENT;
    spin_lock(&d->p2m.lock);
    p2m_logdirty_free(d);
    spin_unlock(&d->p2m.lock);
    return 0;
}

/* Write-protects one page again (the bitmap walk's callback). */
static void protect(void *ctx, u64 gfn)
{
    struct p2m *p = ctx;
    u64 *l2 = l2_entry(p, gfn * PAGE_SIZE);
    if (l2 && (*l2 & NPT_P) && !(*l2 & NPT_PS))
        l1_table(*l2)[gfn % PAGES_2M] &= ~NPT_W;
}

s64 p2m_logdirty_read_clean(struct domain *d, u64 start, u64 *nr, u8 *out)
{
    struct p2m *p = &d->p2m;
    if (!p->dirty)
        return -KILN_ENOENT;
    if (start >= p->nr_pages)
        return -KILN_EINVAL;
    spin_lock(&p->lock);
    u64 n = dirty_bitmap_take(p->dirty, p->nr_pages, start, nr, out, protect, p);
    spin_unlock(&p->lock);
    if (n)
        flush_all(d);
    return (s64)n;
}

void p2m_mark_dirty(struct domain *d, u64 gpa, u64 len)
{
    struct p2m *p = &d->p2m;
    u64 *bm = READ_ONCE(p->dirty);
    if (bm && !p->identity)
        dirty_bitmap_set_range(bm, p->nr_pages, gpa, len);
}

int p2m_logdirty_fault(struct vcpu *v, u64 gpa, u64 error_code)
{
    struct domain *d = v->domain;
    struct p2m *p = &d->p2m;
    u64 gfn = gpa >> PAGE_SHIFT;
    bool write = error_code & 2;
    int handled = 0;

    spin_lock(&p->lock);
    u64 *l2 = l2_entry(p, gpa);
    if (l2 && (*l2 & NPT_P) && !(*l2 & NPT_PS)) {
        u64 *e = &l1_table(*l2)[gfn % PAGES_2M];
        if (*e & NPT_P) {
            /* Write-protected (logging, or left so by a disable), or
             * already made writable by another vCPU's fault. */
            if (!(*e & NPT_W) && p->dirty)
                dirty_bitmap_set(p->dirty, p->nr_pages, gfn);
            *e |= NPT_W;
            handled = 1;
        }
    }
    if (!handled && p->dirty) {
        /* First touch while logging: 4 KiB entries, writable only if this
         * is the write that dirties the page. */
        u64 region = gfn / PAGES_2M;
        u64 *e = NULL;
        if (p->big[region]) {
            l2 = p2m_walk_create(p, gpa, 2);
            if (l2 && (*l2 & NPT_P) && !(*l2 & NPT_PS))
                e = &l1_table(*l2)[gfn % PAGES_2M];
            else if (l2 && !fill_region(p, l2, region))
                e = &l1_table(*l2)[gfn % PAGES_2M];
        } else {
            e = p2m_walk_create(p, gpa, 1);
            if (e && !(*e & NPT_P))
                *e = p->frames[gfn] | (NPT_LEAF & ~NPT_W);
        }
        handled = e ? 1 : -1;
        if (e && write) {
            dirty_bitmap_set(p->dirty, p->nr_pages, gfn);
            *e |= NPT_W;
        }
    }
    spin_unlock(&p->lock);
    if (handled < 0)
        domain_crash(d, "out of memory for nested page tables at GPA 0x%lx (log-dirty)",
                     (unsigned long)gpa);
    return handled;
}
