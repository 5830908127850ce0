/*
 * domctl_pc_boot.c - KILN_DOMCTL_PC_BOOT: dom0's toolstack loads a PC
 * domain it created through the very loaders that boot modules go through
 * (hvm/firmware/pc_boot.c), so a kernel started by `kl create` finds the
 * same platform, tables and hand-over as one started from the hypervisor's
 * boot modules.
 *
 * The toolstack has already copied the kernel image into the domain's own
 * RAM (it has no other way to hand over megabytes); the loaders want one
 * contiguous image that is not inside the RAM they write, so it is copied
 * out into hypervisor pages first and the staging pages are zeroed again
 * (the loaders rely on new RAM being zero: a bss there must read 0).  The
 * image is hostile input: its size is bounded here, its layout is checked
 * by the loader (mb_plan_load) before anything is written.
 *
 * Runs under domlist_lock like every domctl (the target cannot go away);
 * the bound on the image keeps that bounded too.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/firmware.h>
#include <kiln/hvm.h>
#include <kiln/hypercall.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

/* Smallest order whose pages hold len bytes. */
static unsigned int order_for(u64 len)
{
    unsigned int order = 0;
    while (((u64)PAGE_SIZE << order) < len)
        order++;
    return order;
}

/* Zeroes the pages [gpa, gpa + len) of t, page by page. */
static int zero_staging(struct domain *t, u64 gpa, u64 len)
{
    for (u64 off = 0; off < len; off += PAGE_SIZE) {
        void *p = p2m_hva(t, gpa + off, PAGE_SIZE);
        if (!p)
            return -KILN_EFAULT;
        kmemset(p, 0, PAGE_SIZE);
    }
    return 0;
}

s64 domctl_pc_boot(struct vcpu *v, const struct kiln_domctl_pc_boot *b, struct domain *t)
{
    static char cmdline[KILN_PC_CMDLINE_MAX + 1];   /* under domlist_lock */
    u64 ram = t->p2m.nr_pages * PAGE_SIZE;

    if (!t->pc_platform || b->kind != KILN_PC_BOOT_MULTIBOOT || b->_pad)
        return -KILN_EINVAL;
    if (t->state != KILN_DOMSTATE_BUILDING || t->running || t->vcpus[0]->initialised)
        return -KILN_EBUSY;
    if (b->image_len > KILN_PC_IMAGE_MAX)
        return -KILN_E2BIG;
    if (!b->image_len || (b->image_gpa & (PAGE_SIZE - 1)) || b->cmdline_len > KILN_PC_CMDLINE_MAX ||
        (b->cmdline_gpa & (PAGE_SIZE - 1)) + b->cmdline_len > PAGE_SIZE)
        return -KILN_EINVAL;
    if (b->image_gpa >= ram || b->image_len > ram - b->image_gpa)
        return -KILN_EFAULT;

    /* The command line first: it is the caller's, one page at most. */
    if (b->cmdline_len) {
        const char *src = p2m_hva(v->domain, b->cmdline_gpa, b->cmdline_len);
        if (!src)
            return -KILN_EFAULT;
        kmemcpy(cmdline, src, b->cmdline_len);
    }
    cmdline[b->cmdline_len] = '\0';

    unsigned int order = order_for(b->image_len);
    void *image = alloc_pages(order);
    if (!image)
        return -KILN_ENOMEM;
    int rc = copy_from_guest(t, image, b->image_gpa, b->image_len);
    if (!rc)
        rc = zero_staging(t, b->image_gpa, b->image_len);
    struct pc_boot_args args = { .cmdline = cmdline };
    struct hvm_boot_state bs;
    if (!rc)
        rc = pc_boot_multiboot(t, image, b->image_len, &args, &bs);
    free_pages(image, order);
    if (!rc)
        vcpu_set_boot_regs(t->vcpus[0], &bs);
    return rc;
}
