// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_foreign.c - mapping another domain's pages into a dom0 process.
 *
 * The hypervisor gives dom0 a foreign window (kiln.h, physinfo
 * foreign_base/foreign_pages): physical addresses that are neither dom0's
 * RAM nor MMIO, reserved in its e820, where KILN_DOMCTL_MAP_FOREIGN puts
 * another domain's page.  A process mmap()s /dev/kiln (shared) to reserve a
 * range, then asks with KILN_IOCTL_MMAP_FOREIGN for foreign pages in it: for
 * each page the module takes a free window page (a bit in `window.used`),
 * asks the hypervisor to show the foreign page there, and maps that window
 * pfn into the process with remap_pfn_range.  No dom0 RAM is involved, so
 * Linux never reuses anything while another domain's memory shows through.
 * When the VMA goes (munmap, exit) every window page is unmapped again
 * (UNMAP_FOREIGN) and returned to the pool.  If the foreign domain is
 * destroyed first, the hypervisor has already pointed the window page at a
 * zeroed page of its own: the process reads zeros, never freed memory.
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/bitmap.h>
#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include "kiln_priv.h"

/* One mmap() may reserve at most 1 GiB: the tracking array is sized by it. */
#define KILN_FOREIGN_MAX_PAGES (1ul << 18)

static struct {
    struct mutex lock;
    bool probed;
    u64 base;
    u32 pages;          /* 0: the hypervisor offers no window */
    unsigned long *used;
} window = { .lock = __MUTEX_INITIALIZER(window.lock) };

struct foreign_map {
    unsigned long nr;
    u64 gpa[];          /* window address shown at each page, 0 = none */
};

/* Asks the hypervisor for the window once; -ENOSYS when it has none. */
static long window_probe(void)
{
    struct page *pg;
    struct kiln_sysctl *s;
    long r;

    if (window.probed)
        return window.pages ? 0 : -ENOSYS;
    pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
    if (!pg)
        return -ENOMEM;
    s = page_address(pg);
    s->cmd = KILN_SYSCTL_PHYSINFO;
    r = kiln_hv_result_to_errno(kiln_vmmcall(KILN_HC_SYSCTL, page_to_phys(pg), 0, 0, 0, 0));
    if (r >= 0 && s->u.physinfo.foreign_pages && !(s->u.physinfo.foreign_base & ~PAGE_MASK)) {
        window.used = bitmap_zalloc(s->u.physinfo.foreign_pages, GFP_KERNEL);
        if (!window.used)
            r = -ENOMEM;
        else {
            window.base = s->u.physinfo.foreign_base;
            window.pages = s->u.physinfo.foreign_pages;
        }
    }
    __free_page(pg);
    if (r < 0)
        return r;
    window.probed = true;
    return window.pages ? 0 : -ENOSYS;
}

static long foreign_domctl(kiln_u32 cmd, kiln_u32 domid, kiln_u64 gfn, u64 gpa)
{
    struct kiln_domctl d = { .cmd = cmd, .domid = domid };

    d.u.foreign.gfn = gfn;
    d.u.foreign.local_gpa = gpa;
    return kiln_domctl_kernel(&d);
}

/* Window lock held.  Unmaps one window page and frees its slot; a page
 * the hypervisor refuses to unmap keeps its slot (never handed out again,
 * so no process sees what it still shows). */
static void window_put(u64 gpa)
{
    long r = foreign_domctl(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, gpa);

    /* ENOENT: unmapped behind our back (a raw domctl): the slot is free. */
    if (r < 0 && r != -ENOENT) {
        pr_err("hypervisor kept window page 0x%llx mapped (%ld): not reusing it\n",
               (unsigned long long)gpa, r);
        return;
    }
    clear_bit((gpa - window.base) >> PAGE_SHIFT, window.used);
}

/* Window lock held.  Takes a free window page and maps gfn of domid there. */
static long window_get(kiln_u32 domid, kiln_u64 gfn, u64 *gpa)
{
    unsigned long i = 0;
    long r;

    for (;;) {
        i = find_next_zero_bit(window.used, window.pages, i);
        if (i >= window.pages)
            return -ENOMEM;
        set_bit(i, window.used);
        *gpa = window.base + ((u64)i << PAGE_SHIFT);
        r = foreign_domctl(KILN_DOMCTL_MAP_FOREIGN, domid, gfn, *gpa);
        /* EEXIST: a raw domctl holds this page; leave it to its owner. */
        if (r != -EEXIST)
            break;
        i++;
    }
    if (r < 0)
        clear_bit(i, window.used);
    return r;
}

static void kiln_vma_close(struct vm_area_struct *vma)
{
    struct foreign_map *m = vma->vm_private_data;
    unsigned long i;

    /* The process's page tables are gone already: now the window pages. */
    mutex_lock(&window.lock);
    for (i = 0; i < m->nr; i++)
        if (m->gpa[i])
            window_put(m->gpa[i]);
    mutex_unlock(&window.lock);
    kvfree(m);
}

/* The tracking array covers exactly one VMA: refuse to split or move it. */
static int kiln_vma_may_split(struct vm_area_struct *vma, unsigned long addr)
{
    return -EINVAL;
}

static int kiln_vma_mremap(struct vm_area_struct *vma)
{
    return -EINVAL;
}

static const struct vm_operations_struct kiln_vm_ops = {
    .close     = kiln_vma_close,
    .may_split = kiln_vma_may_split,
    .mremap    = kiln_vma_mremap,
};

int kiln_mmap(struct file *file, struct vm_area_struct *vma)
{
    unsigned long nr = vma_pages(vma);
    struct foreign_map *m;

    if (!(vma->vm_flags & VM_SHARED) || vma->vm_pgoff || nr > KILN_FOREIGN_MAX_PAGES)
        return -EINVAL;
    m = kvzalloc(struct_size(m, gpa, nr), GFP_KERNEL | __GFP_NOWARN);
    if (!m)
        return -ENOMEM;
    m->nr = nr;
    vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY;
    vma->vm_private_data = m;
    vma->vm_ops = &kiln_vm_ops;
    return 0;
}

/* Window lock held. */
static long map_one(struct vm_area_struct *vma, unsigned long addr,
                    kiln_u32 domid, kiln_u64 gfn, u64 *slot)
{
    u64 gpa;
    long err = window_get(domid, gfn, &gpa);

    if (err < 0)
        return err;
    err = remap_pfn_range(vma, addr, gpa >> PAGE_SHIFT, PAGE_SIZE, vma->vm_page_prot);
    if (err) {
        window_put(gpa);
        return err;
    }
    *slot = gpa;
    return 0;
}

long kiln_ioctl_mmap_foreign(void __user *uarg)
{
    struct kiln_ioctl_mmap_foreign req;
    struct mm_struct *mm = current->mm;
    struct vm_area_struct *vma;
    struct foreign_map *m;
    unsigned long first, i;
    long err = 0;

    if (copy_from_user(&req, uarg, sizeof(req)))
        return -EFAULT;
    if (!req.nr_pages || (req.addr & ~PAGE_MASK) || req.gfn + req.nr_pages < req.gfn)
        return -EINVAL;

    mmap_write_lock(mm);
    vma = find_vma(mm, req.addr);
    if (!vma || vma->vm_ops != &kiln_vm_ops || req.addr < vma->vm_start ||
        req.nr_pages > (vma->vm_end - req.addr) >> PAGE_SHIFT) {
        err = -EINVAL;
        goto out;
    }
    m = vma->vm_private_data;
    first = (req.addr - vma->vm_start) >> PAGE_SHIFT;
    for (i = 0; i < req.nr_pages; i++) {
        if (m->gpa[first + i]) {
            err = -EBUSY;
            goto out;
        }
    }
    mutex_lock(&window.lock);
    err = window_probe();
    for (i = 0; !err && i < req.nr_pages; i++) {
        err = map_one(vma, req.addr + i * PAGE_SIZE, req.domid, req.gfn + i, &m->gpa[first + i]);
        if (err)
            break;
    }
    if (err) {
        /* All or nothing: take back what this request mapped. */
        if (i)
            zap_vma_ptes(vma, req.addr, i * PAGE_SIZE);
        while (i--) {
            window_put(m->gpa[first + i]);
            m->gpa[first + i] = 0;
        }
    }
    mutex_unlock(&window.lock);
out:
    mmap_write_unlock(mm);
    return err;
}

void kiln_foreign_exit(void)
{
    bitmap_free(window.used);
}
