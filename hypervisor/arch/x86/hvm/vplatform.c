/*
 * vplatform.c - a PC domain's platform: created with the domain (a local
 * APIC per vCPU, the IOAPIC, the 8259 pair, the PIT, their port ranges),
 * freed with it, and the domain's device timers brought up to date before
 * a vCPU enters (the earliest of them bounds the CPU's next timer
 * interrupt, hvm_event.h), and ending the domain when a device asks.
 *
 * The devices are pure models (devices/, wired in vdevs.c) under one
 * lock, the domain's; their interrupt lines go to virq.c.
 */
#include <kiln/console.h>
#include <kiln/firmware.h>
#include <kiln/hvm_mmio.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include "vplatform.h"

unsigned long vplatform_lock(struct vplatform *p)
{
    return spin_lock_irqsave(&p->lock);
}

static void end_domain(struct vplatform *p);

void vplatform_unlock(struct vplatform *p, unsigned long flags)
{
    u32 mask = p->notify_mask;
    bool end = p->end != VPLATFORM_END_NONE && !p->ended;
    p->notify_mask = 0;
    p->ended = p->ended || end;
    spin_unlock_irqrestore(&p->lock, flags);
    for (unsigned int i = 0; i < p->nr_cpus; i++)
        if (mask & (1u << i))
            hvm_event_notify(p->cpu[i]->v);
    if (end)
        end_domain(p);
}

u64 vplatform_advance(struct vplatform *p, u64 now)
{
    unsigned long f = vplatform_lock(p);
    u64 next = vdevs_advance(p, now);
    vplatform_unlock(p, f);
    return next;
}

void vplatform_end(struct vplatform *p, enum vplatform_end why, u32 code)
{
    if (p->end == VPLATFORM_END_NONE) {
        p->end = why;
        p->exit_code = code;
    }
}

/* The domain ends as a device asked (no platform lock held).  A reset
 * destroys it: Kiln restarts no domain (a toolstack may build it again). */
static void end_domain(struct vplatform *p)
{
    char why[40];
    u32 reason = KILN_SHUTDOWN_POWEROFF;
    switch (p->end) {
    case VPLATFORM_END_EXIT_CODE:
        ksnprintf(why, sizeof(why), "exit code %u", p->exit_code);
        if (p->exit_code)
            reason = KILN_SHUTDOWN_CRASH;
        break;
    case VPLATFORM_END_RESET:
        kstrlcpy(why, "reset", sizeof(why));
        reason = KILN_SHUTDOWN_REBOOT;
        break;
    default:
        kstrlcpy(why, "shutdown (poweroff)", sizeof(why));
        break;
    }
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    p->d->exit_code = p->exit_code;
    domain_kill(p->d, reason, why);
    spin_unlock_irqrestore(&domlist_lock, flags);
}

/* ---- the IOAPIC's page ------------------------------------------------- */

static int ioapic_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)v;
    struct vplatform *p = dev;
    unsigned long f = vplatform_lock(p);
    *val = vioapic_mmio_read(&p->ioapic, gpa - FW_IOAPIC_BASE, size);
    vplatform_unlock(p, f);
    return 0;
}

static int ioapic_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)v;
    struct vplatform *p = dev;
    unsigned long f = vplatform_lock(p);
    vioapic_mmio_write(&p->ioapic, gpa - FW_IOAPIC_BASE, size, val);
    vplatform_unlock(p, f);
    return 0;
}

static const struct hvm_mmio_ops ioapic_mmio_ops = {
    .read = ioapic_read,
    .write = ioapic_write,
};

/* ---- life cycle --------------------------------------------------------- */

int vplatform_create(struct domain *d)
{
    BUILD_BUG_ON(sizeof(struct vplatform) > PAGE_SIZE);
    if (d->nr_vcpus > VPLATFORM_MAX_VCPUS)
        return -KILN_EINVAL;
    struct vplatform *p = alloc_pages_zeroed(0);
    if (!p)
        return -KILN_ENOMEM;
    p->d = d;
    spin_lock_init(&p->lock);
    const struct vioapic_hooks ioapic_hooks = { .deliver = virq_ioapic_deliver, .ctx = p };
    vioapic_init(&p->ioapic, VPLATFORM_IOAPIC_ID, &ioapic_hooks);
    d->platform = p;
    int rc = vdevs_init(p);
    if (!rc)
        rc = hvm_mmio_register(d, FW_IOAPIC_BASE, VIOAPIC_MMIO_SIZE, &ioapic_mmio_ops, p);
    if (!rc)
        rc = vlapic_glue_mmio_init(p);
    for (unsigned int i = 0; !rc && i < d->nr_vcpus; i++) {
        rc = vlapic_glue_init(p, d->vcpus[i]);
        if (!rc)
            p->nr_cpus = i + 1;
    }
    if (rc) {
        vplatform_destroy(d);
        return rc;
    }
    /* As on a PC: only the BSP runs; the others wait for INIT-SIPI-SIPI. */
    for (unsigned int i = 1; i < d->nr_vcpus; i++)
        d->vcpus[i]->ev.wait_sipi = true;
    return 0;
}

void vplatform_destroy(struct domain *d)
{
    struct vplatform *p = d->platform;
    if (!p)
        return;
    for (unsigned int i = 0; i < p->nr_cpus; i++)
        vlapic_glue_free(p->cpu[i]);
    vdevs_free(p);
    d->ioports.nr = 0;
    d->platform = NULL;
    free_page(p);
}
