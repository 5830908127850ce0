// SPDX-License-Identifier: GPL-2.0
/*
 * fake_hv.c - a pretend hypervisor linked into a TEST build of kiln.ko
 * (kiln_fakehv.ko) in place of kiln_vmmcall.c and kiln_platform.c, so that
 * the real module code (device permissions, argument bouncing, foreign-map
 * bookkeeping), libkiln and kl can be exercised inside dom0's real Linux
 * before the hypervisor can boot dom0.  Never part of the dom0 image.
 *
 * It reads and writes the guest-physical addresses kiln.ko passes the same
 * way Kiln will (they are dom0 physical addresses), and keeps just enough
 * state to answer consistently: a domain table, the pages WRITE_MEM gave
 * each domain, and vCPU 0's registers.  A domain's "console" is its command
 * line as the builder stored it (found through vCPU 0's RSP), which proves
 * that WRITE_MEM, SET_VCPU and CONSOLE_READ data all crossed intact; a
 * command line containing "poweroff" or "crash" makes the domain shut down
 * that way as soon as it is unpaused.
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "kiln_priv.h"

#define FAKE_DOMS  8
#define FAKE_PAGES 64
#define FAKE_TOTAL_PAGES 65536

struct fake_dom {
    bool used;
    u32 state, vcpus, weight, cap;
    u64 memory_kib;
    char name[KILN_NAME_MAX];
    u64 cmdline;                   /* vCPU 0's RSP: the builder's command line */
    u32 shutdown_reason;
    u64 gpa[FAKE_PAGES];
    void *page[FAKE_PAGES];
};

static DEFINE_MUTEX(fake_lock);
static struct fake_dom doms[FAKE_DOMS] = {
    [0] = { .used = true, .state = KILN_DOMSTATE_RUNNING, .vcpus = 1,
            .weight = 256, .memory_kib = 512 << 10, .name = "Domain-0" },
};
static const char fake_log[] = "(kiln) fake hypervisor log: test build of kiln.ko\n";

int kiln_check_platform(void)
{
    pr_warn("TEST BUILD with a fake hypervisor: no hypercall reaches Kiln\n");
    return 0;
}

static u64 fake_free_pages(void)
{
    u64 used = 0;

    for (int i = 1; i < FAKE_DOMS; i++)
        if (doms[i].used)
            used += doms[i].memory_kib / 4;
    return FAKE_TOTAL_PAGES - used;
}

static void drop_pages(struct fake_dom *d)
{
    for (int i = 0; i < FAKE_PAGES; i++) {
        kfree(d->page[i]);
        d->page[i] = NULL;
    }
}

/* The stored copy of guest page gpa (page aligned), or NULL. */
static void **find_page(struct fake_dom *d, u64 gpa, bool create)
{
    for (int i = 0; i < FAKE_PAGES; i++)
        if (d->page[i] && d->gpa[i] == gpa)
            return &d->page[i];
    if (!create)
        return NULL;
    for (int i = 0; i < FAKE_PAGES; i++) {
        if (!d->page[i]) {
            d->gpa[i] = gpa;
            return &d->page[i];
        }
    }
    return NULL;
}

static long ring_copy(const char *ring, size_t size, struct kiln_domctl_console *c)
{
    size_t n;

    if (c->offset > size)
        return -KILN_EINVAL;
    n = min_t(size_t, size - c->offset, c->len);
    memcpy(phys_to_virt(c->buf_gpa), ring + c->offset, n);
    c->offset += n;
    c->len = n;
    return 0;
}


static const char *cmdline_of(struct fake_dom *d)
{
    void **pg = find_page(d, d->cmdline & PAGE_MASK, false);

    return pg ? (const char *)*pg + (d->cmdline & ~PAGE_MASK) : "";
}

static bool cmdline_says(struct fake_dom *d, const char *word)
{
    return strnstr(cmdline_of(d), word, PAGE_SIZE - (d->cmdline & ~PAGE_MASK)) != NULL;
}

static long domctl(struct kiln_domctl *c)
{
    struct fake_dom *d = c->domid < FAKE_DOMS && doms[c->domid].used ? &doms[c->domid] : NULL;

    /* Like a hypervisor without them: unknown before anything else. */
    if (c->cmd < KILN_DOMCTL_CREATE || c->cmd > KILN_DOMCTL_CONSOLE_READ)
        return -KILN_ENOSYS;
    switch (c->cmd) {
    case KILN_DOMCTL_CREATE:
        for (u32 i = 1; i < FAKE_DOMS; i++) {
            if (doms[i].used)
                continue;
            if (c->u.create.memory_kib / 4 > fake_free_pages())
                return -KILN_ENOMEM;
            doms[i] = (struct fake_dom){ .used = true, .state = KILN_DOMSTATE_BUILDING,
                .vcpus = c->u.create.vcpus, .weight = 256,
                .memory_kib = c->u.create.memory_kib };
            memcpy(doms[i].name, c->u.create.name, KILN_NAME_MAX - 1);
            c->domid = i;
            return 0;
        }
        return -KILN_ENOMEM;
    case KILN_DOMCTL_GETINFO:
        for (u32 i = c->domid; i < FAKE_DOMS; i++) {
            if (!doms[i].used)
                continue;
            c->domid = i;
            memset(&c->u.info, 0, sizeof(c->u.info));
            c->u.info.memory_kib = doms[i].memory_kib;
            c->u.info.vcpus = doms[i].vcpus;
            c->u.info.state = doms[i].state;
            c->u.info.shutdown_reason = doms[i].shutdown_reason;
            memcpy(c->u.info.name, doms[i].name, KILN_NAME_MAX);
            return 0;
        }
        return -KILN_ESRCH;   /* past the last domain: as Kiln answers */
    }
    if (!d)
        return -KILN_ESRCH;
    switch (c->cmd) {
    case KILN_DOMCTL_DESTROY:
        if (c->domid == 0)
            return -KILN_EPERM;
        drop_pages(d);
        d->used = false;
        return 0;
    case KILN_DOMCTL_PAUSE:
        d->state = KILN_DOMSTATE_PAUSED;
        return 0;
    case KILN_DOMCTL_UNPAUSE:
        d->state = KILN_DOMSTATE_RUNNING;
        /* A "guest" whose command line says so shuts down at once. */
        if (cmdline_says(d, "poweroff") || cmdline_says(d, "crash")) {
            d->state = KILN_DOMSTATE_DYING;
            d->shutdown_reason = cmdline_says(d, "crash") ? KILN_SHUTDOWN_CRASH
                                                          : KILN_SHUTDOWN_POWEROFF;
        }
        return 0;
    case KILN_DOMCTL_WRITE_MEM: {
        struct kiln_domctl_write_mem *w = &c->u.write_mem;
        void **pg;

        if ((w->dest_gpa & ~PAGE_MASK) || w->len > PAGE_SIZE ||
            w->dest_gpa + w->len > d->memory_kib * 1024)
            return -KILN_EINVAL;
        pg = find_page(d, w->dest_gpa, true);
        if (!pg)
            return -KILN_ENOMEM;
        if (!*pg && !(*pg = kzalloc(PAGE_SIZE, GFP_KERNEL)))
            return -KILN_ENOMEM;
        memcpy(*pg, phys_to_virt(w->src_gpa), w->len);
        return 0;
    }
    case KILN_DOMCTL_SET_VCPU:
        if (c->u.vcpu.vcpu >= d->vcpus)
            return -KILN_EINVAL;
        if (c->u.vcpu.vcpu == 0)
            d->cmdline = c->u.vcpu.rsp;
        return 0;
    case KILN_DOMCTL_SCHED_GET:
        c->u.sched.weight = d->weight;
        c->u.sched.cap = d->cap;
        return 0;
    case KILN_DOMCTL_SCHED_SET:
        if (c->u.sched.weight < 1 || c->u.sched.weight > 65535)
            return -KILN_EINVAL;
        d->weight = c->u.sched.weight;
        d->cap = c->u.sched.cap;
        return 0;
    case KILN_DOMCTL_VCPU_PIN:
        return c->u.pin.vcpu < d->vcpus ? 0 : -KILN_EINVAL;
    case KILN_DOMCTL_SET_CPUID:
        return 0;
    case KILN_DOMCTL_CONSOLE_READ: {
        const char *text = cmdline_of(d);
        return ring_copy(text, strnlen(text, PAGE_SIZE - (d->cmdline & ~PAGE_MASK)), &c->u.console);
    }
    }
    return -KILN_ENOSYS;
}

static long sysctl(struct kiln_sysctl *s)
{
    u32 n = 0;

    switch (s->cmd) {
    case KILN_SYSCTL_PHYSINFO:
        for (int i = 0; i < FAKE_DOMS; i++)
            n += doms[i].used;
        s->u.physinfo = (struct kiln_sysctl_physinfo){ .total_pages = FAKE_TOTAL_PAGES,
            .free_pages = fake_free_pages(), .cpu_khz = 1000000, .nr_cpus = 2, .nr_domains = n };
        return 0;
    case KILN_SYSCTL_LOG_READ:
        return ring_copy(fake_log, sizeof(fake_log) - 1, &s->u.log);
    }
    return -KILN_ENOSYS;
}

long kiln_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2,
                  unsigned long a3, unsigned long a4, unsigned long a5)
{
    long r;

    mutex_lock(&fake_lock);
    switch (nr) {
    case KILN_HC_VERSION:
        r = (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR;
        break;
    case KILN_HC_TIME:
        r = ktime_get_ns();
        break;
    case KILN_HC_CONSOLE_WRITE:
        pr_info("console_write from dom0: %.*s\n", (int)min_t(unsigned long, a2, 200),
                (const char *)phys_to_virt(a1));
        r = 0;
        break;
    case KILN_HC_DOMCTL:
        r = domctl(phys_to_virt(a1));
        break;
    case KILN_HC_SYSCTL:
        r = sysctl(phys_to_virt(a1));
        break;
    default:
        r = -KILN_ENOSYS;
    }
    mutex_unlock(&fake_lock);
    return r;
}
