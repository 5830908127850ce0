// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_foreign.c - mapping another domain's pages into a dom0 process.
 *
 * A process mmap()s /dev/kiln (shared) to reserve a range, then asks with
 * KILN_IOCTL_MMAP_FOREIGN for foreign pages in it.  For each page, the
 * module gives up one of dom0's own page frames: it allocates a page and asks
 * the hypervisor (KILN_DOMCTL_MAP_FOREIGN, see kiln_abi_ext.h) to make that
 * frame show the foreign page, then maps the frame into the process.  When
 * the mapping goes away the frame is given back (UNMAP_FOREIGN) before the
 * page returns to Linux; a frame the hypervisor will not give back is leaked
 * rather than reused while it still shows another domain's memory.
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/errno.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include "kiln_priv.h"

/* One mmap() may reserve at most 1 GiB: the tracking array is sized by it. */
#define KILN_FOREIGN_MAX_PAGES (1ul << 18)

struct foreign_map {
    unsigned long nr;
    struct page *pages[];   /* NULL where nothing is mapped yet */
};

static long foreign_domctl(kiln_u32 cmd, kiln_u32 domid, kiln_u64 gfn, struct page *pg)
{
    struct kiln_domctl d = { .cmd = cmd, .domid = domid };
    struct kiln_domctl_foreign f = { .gfn = gfn, .local_gpa = page_to_phys(pg) };

    BUILD_BUG_ON(sizeof(f) > sizeof(d.u));
    memcpy(d.u._size, &f, sizeof(f));
    return kiln_domctl_kernel(&d);
}

static void foreign_release(struct page *pg)
{
    long r = foreign_domctl(KILN_DOMCTL_UNMAP_FOREIGN, KILN_DOMID_SELF, 0, pg);

    if (r < 0) {
        pr_err("hypervisor kept frame 0x%llx redirected (%ld): leaking it\n",
               (unsigned long long)page_to_phys(pg), r);
        return;
    }
    __free_page(pg);
}

static void kiln_vma_close(struct vm_area_struct *vma)
{
    struct foreign_map *m = vma->vm_private_data;
    unsigned long i;

    /* The page tables are gone already; now give the frames back. */
    for (i = 0; i < m->nr; i++)
        if (m->pages[i])
            foreign_release(m->pages[i]);
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
    m = kvzalloc(struct_size(m, pages, nr), GFP_KERNEL | __GFP_NOWARN);
    if (!m)
        return -ENOMEM;
    m->nr = nr;
    vma->vm_flags |= VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY;
    vma->vm_private_data = m;
    vma->vm_ops = &kiln_vm_ops;
    return 0;
}

static long map_one(struct vm_area_struct *vma, unsigned long addr,
                    kiln_u32 domid, kiln_u64 gfn, struct page **slot)
{
    struct page *pg = alloc_page(GFP_KERNEL);
    long err;

    if (!pg)
        return -ENOMEM;
    err = foreign_domctl(KILN_DOMCTL_MAP_FOREIGN, domid, gfn, pg);
    if (err < 0) {
        __free_page(pg);
        return err;
    }
    err = remap_pfn_range(vma, addr, page_to_pfn(pg), PAGE_SIZE, vma->vm_page_prot);
    if (err) {
        foreign_release(pg);
        return err;
    }
    *slot = pg;
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
        if (m->pages[first + i]) {
            err = -EBUSY;
            goto out;
        }
    }
    for (i = 0; i < req.nr_pages; i++) {
        err = map_one(vma, req.addr + i * PAGE_SIZE, req.domid, req.gfn + i,
                      &m->pages[first + i]);
        if (err)
            break;
    }
    if (err) {
        /* All or nothing: take back what this request mapped. */
        if (i)
            zap_vma_ptes(vma, req.addr, i * PAGE_SIZE);
        while (i--) {
            foreign_release(m->pages[first + i]);
            m->pages[first + i] = NULL;
        }
    }
out:
    mmap_write_unlock(mm);
    return err;
}
