/*
 * p2m.c - a domain's RAM and its nested page tables (guest-physical to
 * host-physical).
 *
 * All RAM is allocated when the domain is created (so creation fails
 * cleanly instead of a guest failing later) and zeroed (a guest must never
 * see another's or the hypervisor's data).  Mappings are made on demand:
 * the first touch of a page is a nested page fault that maps it, with one
 * 2 MiB entry when the region is backed by one aligned 2 MiB block and
 * 4 KiB entries otherwise.  A touch outside the RAM is emulated when a
 * device claims the address (mmio.c) and destroys the domain otherwise.
 * Entries carry U/S at every level: the CPU model checks nested entries as
 * user accesses, and without it every guest access faults.
 *
 * The entry format is the backend's: AMD's nested page tables use the
 * long-mode format (NPT_*), Intel's EPT its own (EPT_*, chosen once at boot
 * by p2m_use_ept()).  Both keep "present" (NPT P, EPT R) in bit 0 and the
 * large-page bit in bit 7, so walking and freeing need not know which.
 *
 * dom0 is different (p2m_init_identity): its RAM is a set of host ranges
 * seen at their own addresses, mapped up front with the largest pages that
 * do not cover RAM it does not own, together with every non-RAM address
 * (its devices' MMIO, firmware tables).  A touch of any other RAM is fatal
 * for dom0 and is logged like a domU's.
 */
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/x86.h>
#include "npt.h"

#define PAGES_2M   512u

/* Flags of an intermediate entry and of a leaf in the format in use. */
static u64 table_flags = NPT_TABLE;
static u64 leaf_flags = NPT_LEAF;

void p2m_use_ept(bool ad)
{
    table_flags = EPT_TABLE;
    /* Without A/D bits enabled in the EPTP, bits 8 and 9 are ignored. */
    leaf_flags = EPT_LEAF | (ad ? EPT_A | EPT_D : 0);
}

static unsigned int order_for(u64 bytes)
{
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

static void free_ram(struct p2m *p)
{
    u64 regions = (p->nr_pages + PAGES_2M - 1) / PAGES_2M;
    for (u64 r = 0; r < regions; r++) {
        u64 first = r * PAGES_2M;
        if (p->big[r]) {
            free_pages(phys_to_virt(p->frames[first]), ORDER_2M);
            continue;
        }
        for (u64 i = first; i < p->nr_pages && i < first + PAGES_2M; i++)
            if (p->frames[i])
                free_page(phys_to_virt(p->frames[i]));
    }
}

int p2m_init(struct domain *d, u64 kib)
{
    struct p2m *p = &d->p2m;
    spin_lock_init(&p->lock);
    p->nr_pages = kib / 4;
    u64 regions = (p->nr_pages + PAGES_2M - 1) / PAGES_2M;
    p->frames_order = order_for(p->nr_pages * sizeof(paddr_t) + regions);
    if (p->frames_order > MM_MAX_ORDER)
        return -KILN_ENOMEM;
    p->frames = alloc_pages_zeroed(p->frames_order);
    if (!p->frames)
        return -KILN_ENOMEM;
    p->big = (u8 *)(p->frames + p->nr_pages);
    p->root = alloc_pages_zeroed(0);
    if (!p->root)
        goto fail;
    p->root_pa = virt_to_phys(p->root);
    p->pt_pages = 1;

    for (u64 r = 0; r < regions; r++) {
        u64 first = r * PAGES_2M;
        if (p->nr_pages - first >= PAGES_2M) {
            void *blk = alloc_pages_zeroed(ORDER_2M);
            if (blk) {
                p->big[r] = 1;
                for (u64 i = 0; i < PAGES_2M; i++)
                    p->frames[first + i] = virt_to_phys(blk) + i * PAGE_SIZE;
                continue;
            }
        }
        for (u64 i = first; i < p->nr_pages && i < first + PAGES_2M; i++) {
            void *pg = alloc_pages_zeroed(0);
            if (!pg)
                goto fail;
            p->frames[i] = virt_to_phys(pg);
        }
    }
    return 0;

fail:
    p2m_destroy(d);
    return -KILN_ENOMEM;
}

static void free_table(u64 *t, int level)
{
    if (level > 1) {
        for (unsigned int i = 0; i < 512; i++) {
            if (!(t[i] & PTE_P) || (t[i] & PTE_PS))
                continue;
            free_table(phys_to_virt(t[i] & PTE_ADDR_MASK), level - 1);
        }
    }
    free_page(t);
}

void p2m_destroy(struct domain *d)
{
    struct p2m *p = &d->p2m;
    if (p->root)
        free_table(p->root, 4);
    p->root = NULL;
    p2m_logdirty_free(d);
    if (p->identity)
        return;   /* its RAM was never ours to free here */
    if (p->frames) {
        free_ram(p);
        free_pages(p->frames, p->frames_order);
    }
    p->frames = NULL;
}

/* Returns the entry for gpa at `level` (1 = 4 KiB, 2 = 2 MiB), creating
 * intermediate tables; NULL when out of memory.  Lock held. */
u64 *p2m_walk_create(struct p2m *p, u64 gpa, int level)
{
    u64 *t = p->root;
    for (int l = 4; l > level; l--) {
        u64 *e = &t[(gpa >> (12 + 9 * (l - 1))) & 511];
        if (!(*e & PTE_P)) {
            u64 *n = alloc_pages_zeroed(0);
            if (!n)
                return NULL;
            p->pt_pages++;
            *e = virt_to_phys(n) | table_flags;
        }
        t = phys_to_virt(*e & PTE_ADDR_MASK);
    }
    return &t[(gpa >> (12 + 9 * (level - 1))) & 511];
}

int hvm_nested_fault(struct vcpu *v, u64 gpa, u64 error_code)
{
    struct domain *d = v->domain;
    struct p2m *p = &d->p2m;
    struct hvm_regs r;

    if (p->identity) {
        /* Everything dom0 may touch is mapped already. */
        hvm->get_regs(v, &r);
        domain_crash(d, "access to 0x%lx (error 0x%lx), memory that is not dom0's, at rip=0x%lx",
                     (unsigned long)gpa, (unsigned long)error_code, (unsigned long)r.rip);
        return -1;
    }
    if (gpa >= p->nr_pages * PAGE_SIZE) {
        if (hvm_mmio_claimed(d, gpa))
            return hvm_mmio_fault(v, gpa, error_code);
        hvm->get_regs(v, &r);
        domain_crash(d, "access to GPA 0x%lx outside its RAM (%lu KiB) at rip=0x%lx",
                     (unsigned long)gpa, (unsigned long)(p->nr_pages * 4),
                     (unsigned long)r.rip);
        return -1;
    }
    /* Write-protected pages, and first touches while logging dirty pages,
     * are p2m_logdirty.c's. */
    int ld = p2m_logdirty_fault(v, gpa, error_code);
    if (ld)
        return ld > 0 ? 0 : -1;
    u64 gfn = gpa >> PAGE_SHIFT;
    bool big = p->big[gfn / PAGES_2M];
    int err = 0;

    spin_lock(&p->lock);
    u64 *e = p2m_walk_create(p, gpa, big ? 2 : 1);
    if (!e)
        err = -KILN_ENOMEM;
    else if (*e & PTE_P)
        err = -KILN_EEXIST;   /* mapped already, yet it faulted */
    else if (big)
        *e = p->frames[gfn & ~(u64)(PAGES_2M - 1)] | leaf_flags | PTE_PS;
    else
        *e = p->frames[gfn] | leaf_flags;
    spin_unlock(&p->lock);

    if (err == -KILN_EEXIST && !(error_code & 1)) {
        /* Two vCPUs raced to map the same page: the other one won. */
        return 0;
    }
    if (err) {
        hvm->get_regs(v, &r);
        domain_crash(d, "nested page fault at GPA 0x%lx (error 0x%lx) cannot be resolved%s, rip=0x%lx",
                     (unsigned long)gpa, (unsigned long)error_code,
                     err == -KILN_ENOMEM ? " (out of memory)" : "", (unsigned long)r.rip);
        return -1;
    }
    return 0;
}

static int copy_guest(struct domain *d, u64 gpa, void *buf, size_t len, bool to_guest)
{
    struct p2m *p = &d->p2m;
    u64 limit = p->nr_pages * PAGE_SIZE;
    if (p->identity) {
        if (gpa + len < gpa || !dom0_mem_covers(p->owned, p->nr_owned, gpa, gpa + len))
            return -KILN_EFAULT;
        if (to_guest)
            kmemcpy(phys_to_virt(gpa), buf, len);
        else
            kmemcpy(buf, phys_to_virt(gpa), len);
        return 0;
    }
    if (!p->frames || gpa >= limit || len > limit - gpa)
        return -KILN_EFAULT;
    if (to_guest)
        p2m_mark_dirty(d, gpa, len);
    u8 *b = buf;
    while (len) {
        size_t off = gpa & (PAGE_SIZE - 1);
        size_t n = PAGE_SIZE - off < len ? PAGE_SIZE - off : len;
        u8 *hva = (u8 *)phys_to_virt(p->frames[gpa >> PAGE_SHIFT]) + off;
        if (to_guest)
            kmemcpy(hva, b, n);
        else
            kmemcpy(b, hva, n);
        gpa += n;
        b += n;
        len -= n;
    }
    return 0;
}

void *p2m_hva(struct domain *d, u64 gpa, size_t len)
{
    struct p2m *p = &d->p2m;
    if (p->identity) {
        if (len > PAGE_SIZE || (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE ||
            !dom0_mem_covers(p->owned, p->nr_owned, gpa, gpa + len))
            return NULL;
        return phys_to_virt(gpa);
    }
    if (!p->frames || gpa >= p->nr_pages * PAGE_SIZE || len > PAGE_SIZE ||
        (gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
        return NULL;
    return (u8 *)phys_to_virt(p->frames[gpa >> PAGE_SHIFT]) + (gpa & (PAGE_SIZE - 1));
}

int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len)
{
    return copy_guest(d, gpa, dst, len, false);
}

int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    return copy_guest(d, gpa, (void *)src, len, true);
}
