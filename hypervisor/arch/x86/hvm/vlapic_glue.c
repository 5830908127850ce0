/*
 * vlapic_glue.c - each vCPU's local APIC (the pure model in vlapic.c)
 * wired into the hypervisor: its lock, its hooks (which only record what
 * they want and leave the doing for after the lock, see vplatform.h), its
 * MSRs, and the interrupt-controller hooks event delivery asks
 * (hvm_event.h): the vector to deliver, its acknowledgement, CR8, timers
 * and INIT.
 *
 * The 8259's INTR reaches vCPU 0 through LINT0 in ExtINT mode (or with
 * the APIC disabled, as on hardware): it is offered after the APIC's own
 * interrupts, and its vector comes from the PIC's INTA cycle when it is
 * injected.
 */
#include <kiln/console.h>
#include <kiln/evtchn.h>
#include <kiln/hvm.h>
#include <kiln/hvm_mmio.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "vplatform.h"

/* ---- the model's hooks: record only (the vLAPIC's lock is held) -------- */

static void hook_send_ipi(void *ctx, const struct vlapic_ipi *ipi)
{
    struct vplatform_vcpu *pv = ctx;
    pv->ipi = *ipi;
    pv->ipi_queued = true;
}

static void hook_eoi(void *ctx, u8 vector)
{
    struct vplatform_vcpu *pv = ctx;
    pv->level_eoi[vector / 32] |= 1u << (vector % 32);
}

static void hook_notify(void *ctx)
{
    struct vplatform_vcpu *pv = ctx;
    pv->notify = true;
}

/* The now_ns() time at which the guest's TSC reads tsc. */
static u64 hook_tsc_to_ns(void *ctx, u64 tsc)
{
    struct vplatform_vcpu *pv = ctx;
    u64 host = tsc - hvm->tsc_offset(pv->v);
    return ns_at_tsc(host) + 1;
}

static const struct vlapic_hooks lapic_hooks = {
    .send_ipi = hook_send_ipi,
    .eoi = hook_eoi,
    .notify = hook_notify,
    .tsc_to_ns = hook_tsc_to_ns,
};

unsigned long vlapic_glue_lock(struct vplatform_vcpu *pv)
{
    return spin_lock_irqsave(&pv->lock);
}

void vlapic_glue_unlock(struct vplatform_vcpu *pv, unsigned long flags, bool in_plat)
{
    bool notify = pv->notify, ipi = pv->ipi_queued;
    struct vlapic_ipi msg = pv->ipi;
    u32 eoi[8];
    bool any_eoi = false;
    for (unsigned int i = 0; i < 8; i++) {
        eoi[i] = pv->level_eoi[i];
        pv->level_eoi[i] = 0;
        any_eoi = any_eoi || eoi[i];
    }
    pv->notify = pv->ipi_queued = false;
    spin_unlock_irqrestore(&pv->lock, flags);

    if (notify) {
        if (in_plat)
            pv->plat->notify_mask |= 1u << pv->v->id;
        else
            hvm_event_notify(pv->v);
    }
    /* Only register accesses queue IPIs and EOIs, and those never happen
     * with the devices' lock held. */
    if (ipi)
        virq_send_ipi(pv, &msg);
    if (any_eoi) {
        struct vplatform *p = pv->plat;
        unsigned long f = vplatform_lock(p);
        for (unsigned int vec = 0; vec < 256; vec++)
            if (eoi[vec / 32] & (1u << (vec % 32)))
                vioapic_eoi(&p->ioapic, (u8)vec);
        vplatform_unlock(p, f);
    }
}

/* ---- event delivery's interrupt controller ------------------------------ */

/* Read-only: leaves no work for vlapic_glue_unlock (and may run under
 * domlist_lock, where notifying is not allowed). */
static int ctrl_pending(struct vcpu *v)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    unsigned long f = vlapic_glue_lock(pv);
    int vec = vlapic_pending_vector(&pv->lapic);
    bool pic = v->id == 0 && vlapic_accepts_pic_intr(&pv->lapic);
    spin_unlock_irqrestore(&pv->lock, f);
    if (vec < 0 && pic && __atomic_load_n(&pv->plat->pic_intr, __ATOMIC_ACQUIRE))
        vec = HVM_INTR_EXTINT;
    return vec;
}

static u8 ctrl_ack(struct vcpu *v, int intr)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (intr == HVM_INTR_EXTINT) {
        struct vplatform *p = pv->plat;
        unsigned long f = vplatform_lock(p);
        u8 vec = vpic_ack(&p->pic);
        vplatform_unlock(p, f);
        return vec;
    }
    unsigned long f = vlapic_glue_lock(pv);
    vlapic_ack(&pv->lapic, (u8)intr);
    vlapic_glue_unlock(pv, f, false);
    return (u8)intr;
}

static u8 ctrl_get_cr8(struct vcpu *v)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    unsigned long f = vlapic_glue_lock(pv);
    u8 cr8 = vlapic_get_cr8(&pv->lapic);
    spin_unlock_irqrestore(&pv->lock, f);
    return cr8;
}

static void ctrl_set_cr8(struct vcpu *v, u8 cr8)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    unsigned long f = vlapic_glue_lock(pv);
    vlapic_set_cr8(&pv->lapic, cr8 & 0xf);
    vlapic_glue_unlock(pv, f, false);
}

static u64 ctrl_advance(struct vcpu *v, u64 now)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    unsigned long f = vlapic_glue_lock(pv);
    vlapic_advance(&pv->lapic, now);
    u64 next = vlapic_next_deadline(&pv->lapic);
    vlapic_glue_unlock(pv, f, false);
    u64 dev = vplatform_advance(pv->plat, now);
    return !next || (dev && dev < next) ? dev : next;
}

/* Called under domlist_lock (hvm_event.c): the vLAPIC's lock comes after. */
static void ctrl_init(struct vcpu *v)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    unsigned long f = vlapic_glue_lock(pv);
    vlapic_init_signal(&pv->lapic);
    pv->notify = false;
    spin_unlock_irqrestore(&pv->lock, f);
}

static const struct hvm_intr_ctrl lapic_ctrl = {
    .pending = ctrl_pending,
    .ack = ctrl_ack,
    .get_cr8 = ctrl_get_cr8,
    .set_cr8 = ctrl_set_cr8,
    .advance = ctrl_advance,
    .init = ctrl_init,
};

int vlapic_glue_init(struct vplatform *p, struct vcpu *v)
{
    BUILD_BUG_ON(sizeof(struct vplatform_vcpu) > PAGE_SIZE);
    struct vplatform_vcpu *pv = alloc_pages_zeroed(0);
    if (!pv)
        return -KILN_ENOMEM;
    /* The guest's physical address width is the host's (cpuid_policy.c). */
    u8 phys = (u8)(cpuid(0x80000008u).eax & 0xff);
    struct vlapic_config cfg = {
        .apic_id = v->id, .bsp = v->id == 0, .x2apic = true, .tsc_deadline = true,
        .maxphyaddr = phys ? phys : 36,
    };
    spin_lock_init(&pv->lock);
    pv->v = v;
    pv->plat = p;
    vlapic_init(&pv->lapic, &cfg, &lapic_hooks, pv);
    p->cpu[v->id] = pv;
    v->ev.ctrl = &lapic_ctrl;
    return 0;
}

void vlapic_glue_free(struct vplatform_vcpu *pv)
{
    pv->v->ev.ctrl = NULL;
    free_page(pv);
}

/* ---- the local APIC's MSRs ---------------------------------------------- */

bool vplatform_msr_read(struct vcpu *v, u32 msr, u64 *val, int *rc)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv || !vlapic_msr_is_ours(msr))
        return false;
    unsigned long f = vlapic_glue_lock(pv);
    *rc = vlapic_msr_read(&pv->lapic, msr, val, now_ns()) ? -1 : 0;
    vlapic_glue_unlock(pv, f, false);
    return true;
}

bool vplatform_msr_write(struct vcpu *v, u32 msr, u64 val, int *rc)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv || !vlapic_msr_is_ours(msr))
        return false;
    unsigned long f = vlapic_glue_lock(pv);
    *rc = vlapic_msr_write(&pv->lapic, msr, val, now_ns()) ? -1 : 0;
    vlapic_glue_unlock(pv, f, false);
    return true;
}

/* ---- the xAPIC page ----------------------------------------------------- */

/* The region covers the default APIC base, for every vCPU of the domain:
 * each access goes to the accessing vCPU's own vLAPIC, and reads as all
 * ones where that one has no live page there (disabled, x2APIC mode, or
 * moved: relocating the page elsewhere is not supported). */
static struct vplatform_vcpu *mmio_lapic(struct vcpu *v, u64 gpa, u32 *offset)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    u64 base;
    if (!pv || !vlapic_mmio_active(&pv->lapic, &base) || gpa - base >= PAGE_SIZE)
        return NULL;
    *offset = (u32)(gpa - base);
    return pv;
}

static int lapic_mmio_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)dev;
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv)
        return -KILN_EINVAL;
    unsigned long f = vlapic_glue_lock(pv);
    u32 offset;
    *val = mmio_lapic(v, gpa, &offset) ? vlapic_mmio_read(&pv->lapic, offset, size, now_ns())
                                       : ~0ull;
    vlapic_glue_unlock(pv, f, false);
    return 0;
}

static int lapic_mmio_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)dev;
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv)
        return -KILN_EINVAL;
    unsigned long f = vlapic_glue_lock(pv);
    u32 offset;
    if (mmio_lapic(v, gpa, &offset))
        vlapic_mmio_write(&pv->lapic, offset, size, val, now_ns());
    vlapic_glue_unlock(pv, f, false);
    return 0;
}

static const struct hvm_mmio_ops lapic_mmio_ops = {
    .read = lapic_mmio_read,
    .write = lapic_mmio_write,
};

int vlapic_glue_mmio_init(struct vplatform *p)
{
    return hvm_mmio_register(p->d, VLAPIC_DEFAULT_BASE, PAGE_SIZE, &lapic_mmio_ops, p);
}

/* ---- event channels' upcall --------------------------------------------- */

/*
 * A domU's event channel queue became ready: its vCPU gets the vector it
 * asked for, as an edge-triggered fixed interrupt of its local APIC.  The
 * event channel code holds domlist_lock (the outermost lock), so this
 * takes only the vCPU's APIC lock and does the notification itself rather
 * than through vlapic_glue_unlock (whose hvm_event_notify takes
 * domlist_lock).  Accepting a fixed interrupt queues no IPI or EOI work.
 * A domain without the platform (Kiln's test guests) has no APIC: a
 * blocked vCPU is woken and finds its READY bits itself.
 */
void evtchn_upcall(struct vcpu *v, u8 vector)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv) {
        vcpu_wake(v);
        return;
    }
    unsigned long flags = spin_lock_irqsave(&pv->lock);
    bool accepted = vlapic_accept_irq(&pv->lapic, vector, false);
    pv->notify = false;
    spin_unlock_irqrestore(&pv->lock, flags);
    if (accepted)
        hvm_event_notify_locked(v);
}

bool vplatform_apic_enabled(struct vcpu *v)
{
    struct vplatform_vcpu *pv = vplatform_vcpu_of(v);
    if (!pv)
        return false;
    unsigned long f = vlapic_glue_lock(pv);
    bool en = vlapic_hw_enabled(&pv->lapic);
    spin_unlock_irqrestore(&pv->lock, f);
    return en;
}

u32 vplatform_apic_khz(void)
{
    return (u32)(VLAPIC_TIMER_HZ / 1000);
}
