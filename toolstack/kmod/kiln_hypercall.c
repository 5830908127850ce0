// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_hypercall.c - KILN_IOCTL_HYPERCALL: the VMMCALL itself and the
 * marshalling of user-space arguments into what the hypervisor accepts.
 *
 * The hypervisor reads guest-physical addresses, and a user pointer is not
 * one.  So every structure goes into a freshly allocated kernel page (a page
 * can never straddle a boundary, as kiln.h requires) and every "buffer in the
 * caller" is bounced through another page.  Only calls whose arguments we
 * know how to marshal are let through.
 */
#include <linux/errno.h>
#include <linux/gfp.h>
#include <linux/math.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include "kiln_priv.h"

long kiln_domctl_kernel(struct kiln_domctl *d)
{
    struct page *pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
    long r;

    if (!pg)
        return -ENOMEM;
    /* The caller's copy may sit on a virtually mapped stack. */
    memcpy(page_address(pg), d, sizeof(*d));
    r = kiln_vmmcall(KILN_HC_DOMCTL, page_to_phys(pg), 0, 0, 0, 0);
    memcpy(d, page_address(pg), sizeof(*d));
    __free_page(pg);
    return kiln_hv_result_to_errno(r);
}

/* kiln_u64 is unsigned long, not the u64 that u64_to_user_ptr() insists on. */
static void __user *user_ptr(kiln_u64 v)
{
    return (void __user *)(uintptr_t)v;
}

/* A user buffer standing in for a "gpa in the caller" field: one page,
 * or for READ_MEM up to KILN_READ_MEM_MAX physically contiguous pages. */
struct bounce {
    kiln_u64 *field;    /* the field, in the kernel copy of the structure */
    kiln_u64 user;      /* what user space had put there */
    struct page *page;
    unsigned int order;
};

static long bounce_setup(struct bounce *b, kiln_u64 *field, kiln_u64 len, bool copy_in)
{
    if (len > (kiln_u64)KILN_READ_MEM_MAX * PAGE_SIZE)
        return -E2BIG;
    b->order = len > PAGE_SIZE ? get_order(len) : 0;
    /* A READ_MEM buffer is wholly overwritten before anything is copied
     * out (a failed call copies nothing), and zeroing it would be one more
     * pass over every page a save reads.  Single pages stay zeroed. */
    b->page = alloc_pages(GFP_KERNEL | (b->order ? 0 : __GFP_ZERO), b->order);
    if (!b->page)
        return -ENOMEM;
    b->field = field;
    b->user = *field;
    if (copy_in && copy_from_user(page_address(b->page), user_ptr(b->user), len)) {
        __free_pages(b->page, b->order);
        b->page = NULL;
        return -EFAULT;
    }
    *field = page_to_phys(b->page);
    return 0;
}

/* Puts the user's pointer back and hands it the first out_len bytes. */
static long bounce_finish(struct bounce *b, kiln_u64 out_len)
{
    long err = 0;

    if (!b->page)
        return 0;
    *b->field = b->user;
    if (out_len && copy_to_user(user_ptr(b->user), page_address(b->page),
                                min_t(kiln_u64, out_len, PAGE_SIZE << b->order)))
        err = -EFAULT;
    __free_pages(b->page, b->order);
    b->page = NULL;
    return err;
}

/* A console-shaped read (domain console or hypervisor log): one page at most. */
static long bounce_console(struct bounce *b, struct kiln_domctl_console *c)
{
    c->len = min_t(kiln_u64, c->len, PAGE_SIZE);
    return bounce_setup(b, &c->buf_gpa, c->len, false);
}

/* Bytes a successful domctl (other than a console read) wrote into its
 * bounced buffer. */
static kiln_u64 domctl_out_len(const struct kiln_domctl *d)
{
    if (!d)
        return 0;
    if (d->cmd == KILN_DOMCTL_GET_VCPU_STATE)
        return d->u.vcpu_state.size;
    if (d->cmd == KILN_DOMCTL_READ_MEM)
        return (kiln_u64)d->u.read_mem.nr * PAGE_SIZE;
    if (d->cmd == KILN_DOMCTL_LOG_DIRTY && d->u.log_dirty.op == KILN_LOG_DIRTY_READ_CLEAN)
        return DIV_ROUND_UP(d->u.log_dirty.nr, 8);
    return 0;
}

/* DOMCTL and SYSCTL: copy in, bounce buffers, call, copy results back. */
static long kiln_hc_struct(struct kiln_ioctl_hypercall *hc)
{
    void __user *uptr = user_ptr(hc->arg[0]);
    bool is_domctl = hc->op == KILN_HC_DOMCTL;
    size_t size = is_domctl ? sizeof(struct kiln_domctl) : sizeof(struct kiln_sysctl);
    struct kiln_domctl_console *console = NULL;
    struct kiln_domctl *domctl = NULL;
    struct bounce b = { 0 };
    struct page *pg;
    long err = 0, r;

    pg = alloc_page(GFP_KERNEL | __GFP_ZERO);
    if (!pg)
        return -ENOMEM;
    if (copy_from_user(page_address(pg), uptr, size)) {
        err = -EFAULT;
        goto out;
    }
    if (is_domctl) {
        struct kiln_domctl *d = page_address(pg);

        switch (d->cmd) {
        case KILN_DOMCTL_WRITE_MEM:
            err = d->u.write_mem.len > PAGE_SIZE ? -E2BIG :
                  bounce_setup(&b, &d->u.write_mem.src_gpa, d->u.write_mem.len, true);
            break;
        case KILN_DOMCTL_READ_MEM:
            err = d->u.read_mem.nr > KILN_READ_MEM_MAX ? -E2BIG :
                  bounce_setup(&b, &d->u.read_mem.buf_gpa,
                               (kiln_u64)d->u.read_mem.nr * PAGE_SIZE, false);
            break;
        case KILN_DOMCTL_CONSOLE_READ:
            console = &d->u.console;
            err = bounce_console(&b, console);
            break;
        case KILN_DOMCTL_GET_VCPU_STATE:
        case KILN_DOMCTL_SET_VCPU_STATE:
            err = d->u.vcpu_state.size > PAGE_SIZE ? -E2BIG :
                  bounce_setup(&b, &d->u.vcpu_state.buf_gpa, d->u.vcpu_state.size,
                               d->cmd == KILN_DOMCTL_SET_VCPU_STATE);
            break;
        case KILN_DOMCTL_LOG_DIRTY:
            if (d->u.log_dirty.op == KILN_LOG_DIRTY_READ_CLEAN)
                err = d->u.log_dirty.nr > KILN_LOG_DIRTY_BATCH ? -E2BIG :
                      bounce_setup(&b, &d->u.log_dirty.buf_gpa,
                                   DIV_ROUND_UP(d->u.log_dirty.nr, 8), false);
            break;
        case KILN_DOMCTL_PC_BOOT:
            err = bounce_setup(&b, &d->u.pc_boot.cmdline_gpa, d->u.pc_boot.cmdline_len, true);
            break;
        }
        domctl = d;
    } else {
        struct kiln_sysctl *s = page_address(pg);

        if (s->cmd == KILN_SYSCTL_LOG_READ) {
            console = &s->u.log;
            err = bounce_console(&b, console);
        }
    }
    if (err)
        goto out;

    r = kiln_vmmcall(hc->op, page_to_phys(pg), 0, 0, 0, 0);
    hc->result = r;
    err = bounce_finish(&b, r < 0 ? 0 : console ? console->len : domctl_out_len(domctl));
    if (!err && copy_to_user(uptr, page_address(pg), size))
        err = -EFAULT;
out:
    bounce_finish(&b, 0);
    __free_page(pg);
    return err;
}

static long kiln_hc_console_write(struct kiln_ioctl_hypercall *hc)
{
    kiln_u64 buf = hc->arg[0];
    struct bounce b = { 0 };
    long err;

    if (hc->arg[1] > KILN_CONSOLE_MAX)
        return -E2BIG;
    err = bounce_setup(&b, &buf, hc->arg[1], true);
    if (err)
        return err;
    hc->result = kiln_vmmcall(KILN_HC_CONSOLE_WRITE, buf, hc->arg[1], 0, 0, 0);
    return bounce_finish(&b, 0);
}

/* EVTCHN_OP and IOREQ_OP: cmd in arg[0], a structure at user arg[1] with
 * no buffer inside it.  dom0's own ports belong to kiln_evtchn.c: of the
 * event channel calls a process may only ask the status of any port, set
 * another domain's limit and allocate a port in another domain (one the
 * domain it builds will bind). */
static long kiln_hc_op(struct kiln_ioctl_hypercall *hc)
{
    bool evtchn = hc->op == KILN_HC_EVTCHN_OP;
    size_t size = evtchn ? sizeof(struct kiln_evtchn_op) : sizeof(struct kiln_ioreq_op);
    void __user *uptr = user_ptr(hc->arg[1]);
    void *k = kzalloc(size, GFP_KERNEL);
    long err = 0;

    if (!k)
        return -ENOMEM;
    if (copy_from_user(k, uptr, size)) {
        err = -EFAULT;
        goto out;
    }
    if (evtchn) {
        struct kiln_evtchn_op *e = k;
        bool other = e->dom != KILN_DOMID_SELF && e->dom != 0;

        if (hc->arg[0] != KILN_EVTCHNOP_STATUS && hc->arg[0] != KILN_EVTCHNOP_VERSION &&
            !(other && (hc->arg[0] == KILN_EVTCHNOP_SET_LIMIT ||
                        hc->arg[0] == KILN_EVTCHNOP_ALLOC_UNBOUND))) {
            err = -EPERM;
            goto out;
        }
    }
    hc->result = kiln_vmmcall(hc->op, hc->arg[0], virt_to_phys(k), 0, 0, 0);
    if (copy_to_user(uptr, k, size))
        err = -EFAULT;
out:
    kfree(k);
    return err;
}

long kiln_ioctl_hypercall(void __user *uarg)
{
    struct kiln_ioctl_hypercall hc;
    long err = 0;

    if (copy_from_user(&hc, uarg, sizeof(hc)))
        return -EFAULT;
    switch (hc.op) {
    case KILN_HC_VERSION:
    case KILN_HC_SCHED_YIELD:
    case KILN_HC_TIME:
    case KILN_HC_VCPU_RUNTIME:
        hc.result = kiln_vmmcall(hc.op, 0, 0, 0, 0, 0);
        break;
    case KILN_HC_CONSOLE_WRITE:
        err = kiln_hc_console_write(&hc);
        break;
    case KILN_HC_DOMCTL:
    case KILN_HC_SYSCTL:
        err = kiln_hc_struct(&hc);
        break;
    case KILN_HC_EVTCHN_OP:
    case KILN_HC_IOREQ_OP:
        err = kiln_hc_op(&hc);
        break;
    case KILN_HC_SHUTDOWN:
    case KILN_HC_SCHED_BLOCK:
        /* These act on dom0's own vCPU: the kernel's business, not a process's. */
        return -EPERM;
    default:
        return -ENOSYS;
    }
    if (err)
        return err;
    if (copy_to_user(uarg, &hc, sizeof(hc)))
        return -EFAULT;
    return 0;
}
