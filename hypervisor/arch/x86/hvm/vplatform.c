/*
 * vplatform.c - a PC domain's platform: created with the domain (a local
 * APIC per vCPU, the IOAPIC, the 8259 pair, the PIT, their port ranges),
 * freed with it, and the domain's device timers brought up to date before
 * a vCPU enters (the earliest of them bounds the CPU's next timer
 * interrupt, hvm_event.h).
 *
 * The devices are pure models (devices/) under one lock, the domain's;
 * their interrupt lines go to virq.c.
 */
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include "vplatform.h"

unsigned long vplatform_lock(struct vplatform *p)
{
    return spin_lock_irqsave(&p->lock);
}

void vplatform_unlock(struct vplatform *p, unsigned long flags)
{
    u32 mask = p->notify_mask;
    p->notify_mask = 0;
    spin_unlock_irqrestore(&p->lock, flags);
    for (unsigned int i = 0; i < p->nr_cpus; i++)
        if (mask & (1u << i))
            hvm_event_notify(p->cpu[i]->v);
}

u64 vplatform_advance(struct vplatform *p, u64 now)
{
    unsigned long f = vplatform_lock(p);
    vpit_advance(&p->pit, now);
    u64 next = vpit_next_deadline(&p->pit);
    vplatform_unlock(p, f);
    return next;
}

/* ---- the devices' hooks (devices' lock held) ---------------------------- */

static void pic_intr(void *ctx, bool level)
{
    struct vplatform *p = ctx;
    __atomic_store_n(&p->pic_intr, level, __ATOMIC_RELEASE);
    if (level)
        p->notify_mask |= 1u;   /* the 8259 is wired to the BSP */
}

static void pit_irq0(void *ctx, bool level)
{
    virq_isa_line(ctx, 0, level);
}

/* ---- port handlers ------------------------------------------------------ */

static u32 pic_read(void *ctx, u16 port, unsigned int size)
{
    struct vplatform *p = ctx;
    unsigned long f = vplatform_lock(p);
    u32 val = vpic_io_read(&p->pic, port, size);
    vplatform_unlock(p, f);
    return val;
}

static void pic_write(void *ctx, u16 port, unsigned int size, u32 val)
{
    struct vplatform *p = ctx;
    unsigned long f = vplatform_lock(p);
    vpic_io_write(&p->pic, port, size, val);
    vplatform_unlock(p, f);
}

static u32 pit_read(void *ctx, u16 port, unsigned int size)
{
    struct vplatform *p = ctx;
    unsigned long f = vplatform_lock(p);
    u32 val = vpit_io_read(&p->pit, port, size, now_ns());
    vplatform_unlock(p, f);
    return val;
}

static void pit_write(void *ctx, u16 port, unsigned int size, u32 val)
{
    struct vplatform *p = ctx;
    unsigned long f = vplatform_lock(p);
    vpit_io_write(&p->pit, port, size, val, now_ns());
    vplatform_unlock(p, f);
}

static int register_ports(struct domain *d, struct vplatform *p)
{
    int rc;
    if ((rc = hvm_port_register(d, VPIC_MASTER_PORT, 2, pic_read, pic_write, p)) ||
        (rc = hvm_port_register(d, VPIC_SLAVE_PORT, 2, pic_read, pic_write, p)) ||
        (rc = hvm_port_register(d, VPIC_ELCR_PORT, 2, pic_read, pic_write, p)) ||
        (rc = hvm_port_register(d, VPIT_PORT, 4, pit_read, pit_write, p)) ||
        (rc = hvm_port_register(d, VPIT_PORT_61, 1, pit_read, pit_write, p)))
        return rc;
    return 0;
}

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
    const struct vpic_hooks pic_hooks = { .intr = pic_intr, .ctx = p };
    const struct vpit_hooks pit_hooks = { .irq0 = pit_irq0, .ctx = p };
    vioapic_init(&p->ioapic, VPLATFORM_IOAPIC_ID, &ioapic_hooks);
    vpic_init(&p->pic, &pic_hooks);
    vpit_init(&p->pit, &pit_hooks, now_ns());
    d->platform = p;
    int rc = register_ports(d, p);
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
    d->ioports.nr = 0;
    d->platform = NULL;
    free_page(p);
}
