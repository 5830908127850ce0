/*
 * p2m_identity.c - dom0's nested page table: guest-physical == host-
 * physical for every address below 512 GiB except RAM dom0 does not own
 * (the hypervisor's and the domUs').  So dom0 reaches its own RAM, its
 * devices' MMIO and the firmware's tables at their real addresses, and
 * nothing else.  Built once, up front, with the largest pages that cover
 * no foreign RAM (1 GiB, 2 MiB, 4 KiB), so dom0 takes no nested page
 * faults at all.  Pure C (no x86.h) so tests/test_dom0_npt.c checks it.
 */
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/mm.h>
#include "npt.h"

/* Bytes of [a, b) that are firmware RAM dom0 does not own. */
static u64 foreign_ram(const struct p2m *p, u64 a, u64 b)
{
    u64 n = 0;
    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *m = boot_memmap_get(i);
        if (m->type != 1)
            continue;
        u64 s = ALIGN_UP(m->start, PAGE_SIZE), e = ALIGN_DOWN(m->end, PAGE_SIZE);
        s = s > a ? s : a;
        e = e < b ? e : b;
        if (s < e)
            n += e - s;
    }
    for (unsigned int i = 0; i < p->nr_owned; i++) {
        u64 s = p->owned[i].start > a ? p->owned[i].start : a;
        u64 e = p->owned[i].end < b ? p->owned[i].end : b;
        if (s < e)
            n -= e - s;
    }
    return n;
}

/* Fills table (covering from base at this level) with identity entries. */
static int identity_fill(struct p2m *p, u64 *table, int level, u64 base)
{
    u64 size = 1ull << (12 + 9 * (level - 1));
    unsigned int entries = level == 4 ? 1 : 512;   /* 512 GiB in all */
    for (unsigned int i = 0; i < entries; i++) {
        u64 a = base + i * size;
        u64 f = foreign_ram(p, a, a + size);
        if (f == size)
            continue;
        if (!f && level == 1) {
            table[i] = a | NPT_LEAF;
            continue;
        }
        if (!f && level <= 3) {
            table[i] = a | NPT_LEAF | NPT_PS;
            continue;
        }
        u64 *n = alloc_pages_zeroed(0);
        if (!n)
            return -KILN_ENOMEM;
        p->pt_pages++;
        table[i] = virt_to_phys(n) | NPT_TABLE;
        int rc = identity_fill(p, n, level - 1, a);
        if (rc)
            return rc;
    }
    return 0;
}

int p2m_init_identity(struct domain *d, const struct dom0_mem *m)
{
    struct p2m *p = &d->p2m;
    spin_lock_init(&p->lock);
    p->identity = true;
    p->owned = m->r;
    p->nr_owned = m->nr;
    p->nr_pages = m->pages;
    p->root = alloc_pages_zeroed(0);
    if (!p->root)
        return -KILN_ENOMEM;
    p->root_pa = virt_to_phys(p->root);
    p->pt_pages = 1;
    int rc = identity_fill(p, p->root, 4, 0);
    if (rc)
        p2m_destroy(d);
    else
        pr_info("d%u: 1:1 nested page table, %lu table pages\n", d->id,
                (unsigned long)p->pt_pages);
    return rc;
}

