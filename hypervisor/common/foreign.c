/*
 * foreign.c - dom0's mappings of other domains' pages: the window, the
 * slot table that records which domain's page each window page shows, the
 * checks of MAP/UNMAP_FOREIGN, and the teardown a domain's destroy needs
 * before its pages are freed (see foreign.h).
 *
 * The slot table is indexed by window page, so "is local_gpa mapped" is one
 * lookup and a domain's record is the slots carrying its id; at 1024 slots
 * a scan on destroy costs nothing next to freeing the domain.  A slot whose
 * domain was destroyed stays DEAD (showing the sink) until dom0 unmaps it,
 * so dom0's kernel never finds a window page it thinks it holds reused.
 */
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/foreign.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>

#define WINDOW_BYTES ((u64)FOREIGN_WINDOW_PAGES * PAGE_SIZE)
#define LOW_4G       0x100000000ull

enum slot_state { SLOT_FREE, SLOT_LIVE, SLOT_DEAD };

struct slot {
    u8 state;
    u16 domid;
    u64 gfn;
};

static struct slot slots[FOREIGN_WINDOW_PAGES];
static u64 window_base;
static bool window_tried, window_ok;

static bool overlaps_owned(const struct mem_range *owned, unsigned int nr, u64 s, u64 e)
{
    for (unsigned int i = 0; i < nr; i++)
        if (owned[i].start < e && s < owned[i].end)
            return true;
    return false;
}

u64 foreign_window_pick(const struct mem_range *owned, unsigned int nr)
{
    u64 best = 0;
    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *m = boot_memmap_get(i);
        u64 end = m->end < LOW_4G ? m->end : LOW_4G;
        if (m->type != 1 || end < WINDOW_BYTES)
            continue;
        /* Highest candidate first: dom0 claims RAM from the bottom up. */
        for (u64 a = ALIGN_DOWN(end - WINDOW_BYTES, WINDOW_BYTES);
             a >= m->start && a > best; a -= WINDOW_BYTES) {
            if (!overlaps_owned(owned, nr, a, a + WINDOW_BYTES)) {
                best = a;
                break;
            }
            if (a < WINDOW_BYTES)
                break;
        }
    }
    return best;
}

void foreign_window(u64 *base, u32 *pages)
{
    struct domain *d0 = dom0_domain();
    if (d0 && !window_tried) {
        window_tried = true;
        u64 b = foreign_window_pick(d0->p2m.owned, d0->p2m.nr_owned);
        int rc = b ? p2m_foreign_init(d0, b, FOREIGN_WINDOW_PAGES) : -KILN_ENOMEM;
        if (rc) {
            pr_warn("dom0: no foreign window (error %d): MAP_FOREIGN unavailable\n", rc);
        } else {
            window_base = b;
            window_ok = true;
            pr_info("dom0: foreign window at 0x%lx, %u pages\n", (unsigned long)b,
                    FOREIGN_WINDOW_PAGES);
        }
    }
    *base = window_ok ? window_base : 0;
    *pages = window_ok ? FOREIGN_WINDOW_PAGES : 0;
}

unsigned int foreign_count(u16 domid)
{
    unsigned int n = 0;
    for (unsigned int i = 0; i < FOREIGN_WINDOW_PAGES; i++)
        if (slots[i].state == SLOT_LIVE && slots[i].domid == domid)
            n++;
    return n;
}

/* The slot of local_gpa, or a negated KILN_EINVAL. */
static s64 slot_of(u64 local_gpa)
{
    u64 base;
    u32 pages;
    foreign_window(&base, &pages);
    if (!pages)
        return -KILN_ENOSYS;
    if ((local_gpa & (PAGE_SIZE - 1)) || local_gpa < base || local_gpa - base >= WINDOW_BYTES)
        return -KILN_EINVAL;
    return (s64)((local_gpa - base) >> PAGE_SHIFT);
}

s64 foreign_map(struct domain *dom0, struct domain *t, u64 gfn, u64 local_gpa)
{
    if (!dom0->hardware)
        return -KILN_EPERM;
    if (!t)
        return -KILN_ESRCH;
    if (t->hardware)
        return -KILN_EPERM;   /* dom0 reaches its own RAM at its own addresses */
    if (t->state == KILN_DOMSTATE_DYING)
        return -KILN_EBUSY;
    if (!t->p2m.frames || gfn >= t->p2m.nr_pages)
        return -KILN_EFAULT;
    s64 s = slot_of(local_gpa);
    if (s < 0)
        return s;
    if (slots[s].state != SLOT_FREE)
        return -KILN_EEXIST;
    if (foreign_count(t->id) >= KILN_FOREIGN_MAX_PER_DOMAIN)
        return -KILN_E2BIG;
    slots[s] = (struct slot){ .state = SLOT_LIVE, .domid = t->id, .gfn = gfn };
    /* A window page with no mapping shows the sink, which dom0 may have
     * cached: its TLB must forget that before it reads the new page. */
    p2m_foreign_set(dom0, local_gpa, t->p2m.frames[gfn]);
    p2m_foreign_flush(dom0);
    return 0;
}

s64 foreign_unmap(struct domain *dom0, u64 local_gpa)
{
    if (!dom0->hardware)
        return -KILN_EPERM;
    s64 s = slot_of(local_gpa);
    if (s < 0)
        return s;
    if (slots[s].state == SLOT_FREE)
        return -KILN_ENOENT;
    if (slots[s].state == SLOT_LIVE) {
        p2m_foreign_set(dom0, local_gpa, 0);
        p2m_foreign_flush(dom0);
    }
    slots[s].state = SLOT_FREE;
    return 0;
}

unsigned int foreign_release(struct domain *d)
{
    struct domain *d0 = dom0_domain();
    unsigned int n = 0;
    if (!d0 || !window_ok)
        return 0;
    for (unsigned int i = 0; i < FOREIGN_WINDOW_PAGES; i++) {
        if (slots[i].state != SLOT_LIVE || slots[i].domid != d->id)
            continue;
        p2m_foreign_set(d0, window_base + (u64)i * PAGE_SIZE, 0);
        slots[i].state = SLOT_DEAD;
        n++;
    }
    if (!n)
        return 0;
    /* Only on dom0's CPU is dom0 sure to be out of guest mode now, so that
     * the flush at its next VMRUN comes before it can touch a page again. */
    BUG_ON(smp_processor_id() != 0);
    p2m_foreign_sink_clear();
    p2m_foreign_flush(d0);
    pr_info("d%u: %u page(s) mapped by dom0 unmapped before freeing\n", d->id, n);
    return n;
}
