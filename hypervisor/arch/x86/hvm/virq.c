/*
 * virq.c - interrupt routing inside a PC domain: interrupt messages to the
 * local APICs (IPIs from an ICR write, the IOAPIC's redirections) and the
 * ISA IRQ lines of the devices to the 8259 pair and the IOAPIC.
 *
 * A message names its targets by destination (physical APIC id or logical
 * mask, matched by each vLAPIC) or by shorthand; fixed interrupts go to
 * every target, lowest priority to the target with the lowest arbitration
 * priority (ties rotate), NMI, INIT and SIPI to the vCPUs' event state.
 * The IOAPIC's INIT, SMI and ExtINT redirections are not supported (no
 * guest of ours uses them): such a message is dropped.
 *
 * Every loop here runs over the domain's vCPUs (at most 8): a guest that
 * floods IPIs pays one exit per ICR write and can make no loop longer.
 */
#include <kiln/hvm_event.h>
#include "vplatform.h"

struct virq_msg {
    u32 dest;
    bool logical, wide;
    u8 shorthand;           /* enum vlapic_shorthand */
    u8 mode;                /* enum vlapic_delivery */
    u8 vector;
    bool level;
};

/* Bit n: vCPU n is a target. */
static u32 targets(struct vplatform *p, const struct virq_msg *m, unsigned int from)
{
    u32 mask = 0;
    for (unsigned int i = 0; i < p->nr_cpus; i++) {
        struct vplatform_vcpu *pv = p->cpu[i];
        bool hit;
        switch (m->shorthand) {
        case VLAPIC_SH_SELF:
            hit = i == from;
            break;
        case VLAPIC_SH_ALL_INCL:
            hit = true;
            break;
        case VLAPIC_SH_ALL_EXCL:
            hit = i != from;
            break;
        default: {
            unsigned long f = vlapic_glue_lock(pv);
            hit = vlapic_match_dest(&pv->lapic, m->dest, m->logical, m->wide);
            spin_unlock_irqrestore(&pv->lock, f);
            break;
        }
        }
        if (hit)
            mask |= 1u << i;
    }
    return mask;
}

/* The target with the lowest arbitration priority; ties go round. */
static unsigned int lowest_priority(struct vplatform *p, u32 mask)
{
    unsigned int best = 0, start = READ_ONCE(p->lowest_rr) % p->nr_cpus;
    int best_prio = 256;
    for (unsigned int k = 0; k < p->nr_cpus; k++) {
        unsigned int i = (start + k) % p->nr_cpus;
        if (!(mask & (1u << i)))
            continue;
        struct vplatform_vcpu *pv = p->cpu[i];
        unsigned long f = vlapic_glue_lock(pv);
        int prio = vlapic_arb_priority(&pv->lapic);
        spin_unlock_irqrestore(&pv->lock, f);
        if (prio < best_prio) {
            best_prio = prio;
            best = i;
        }
    }
    WRITE_ONCE(p->lowest_rr, (best + 1) % p->nr_cpus);   /* a hint: races are harmless */
    return best;
}

static void accept(struct vplatform_vcpu *pv, u8 vector, bool level, bool in_plat)
{
    unsigned long f = vlapic_glue_lock(pv);
    vlapic_accept_irq(&pv->lapic, vector, level);
    vlapic_glue_unlock(pv, f, in_plat);
}

/* in_plat: the devices' lock is held (an IOAPIC message). */
static void route(struct vplatform *p, const struct virq_msg *m, unsigned int from, bool in_plat)
{
    u32 mask = targets(p, m, from);
    if (!mask)
        return;
    switch (m->mode) {
    case VLAPIC_DM_FIXED:
        for (unsigned int i = 0; i < p->nr_cpus; i++)
            if (mask & (1u << i))
                accept(p->cpu[i], m->vector, m->level, in_plat);
        break;
    case VLAPIC_DM_LOWEST:
        accept(p->cpu[lowest_priority(p, mask)], m->vector, m->level, in_plat);
        break;
    case VLAPIC_DM_NMI:
        for (unsigned int i = 0; i < p->nr_cpus; i++) {
            if (!(mask & (1u << i)))
                continue;
            struct vcpu *v = p->cpu[i]->v;
            if (in_plat) {
                __atomic_store_n(&v->ev.nmi_pending, true, __ATOMIC_RELEASE);
                p->notify_mask |= 1u << i;
            } else {
                hvm_event_nmi(v);
            }
        }
        break;
    case VLAPIC_DM_INIT:
    case VLAPIC_DM_SIPI:
        if (in_plat)
            break;      /* not from the IOAPIC (domlist_lock comes first) */
        for (unsigned int i = 0; i < p->nr_cpus; i++) {
            if (!(mask & (1u << i)))
                continue;
            if (m->mode == VLAPIC_DM_INIT)
                hvm_event_init(p->cpu[i]->v);
            else
                hvm_event_sipi(p->cpu[i]->v, m->vector);
        }
        break;
    default:
        /* SMI, ExtINT, INIT level de-assert: nothing to do. */
        break;
    }
}

void virq_send_ipi(struct vplatform_vcpu *from, const struct vlapic_ipi *ipi)
{
    struct virq_msg m = {
        .dest = ipi->dest, .logical = ipi->logical, .wide = ipi->x2apic,
        .shorthand = ipi->shorthand, .mode = ipi->mode, .vector = ipi->vector,
        .level = false,     /* IPIs are edge-triggered (vlapic.h) */
    };
    route(from->plat, &m, from->v->id, false);
}

void virq_ioapic_deliver(void *ctx, u8 dest, bool logical, u8 mode, u8 vector, bool level)
{
    struct vplatform *p = ctx;
    struct virq_msg m = {
        .dest = dest, .logical = logical, .wide = false, .shorthand = VLAPIC_SH_NONE,
        .mode = mode, .vector = vector, .level = level,
    };
    /* Delivery modes 0-5 mean the same in the IOAPIC as in the ICR. */
    if (mode == VIOAPIC_DM_INIT || mode == VIOAPIC_DM_SMI || mode == VIOAPIC_DM_EXTINT)
        return;
    route(p, &m, VPLATFORM_MAX_VCPUS, true);
}

void virq_gsi_line(struct vplatform *p, unsigned int gsi, bool level)
{
    if (gsi < 16)
        vpic_set_line(&p->pic, gsi, level);
    vioapic_set_line(&p->ioapic, gsi, level);
}

void virq_isa_line(struct vplatform *p, unsigned int irq, bool level)
{
    if (irq >= 16)
        return;
    vpic_set_line(&p->pic, irq, level);
    /* The MADT's interrupt source override: ISA IRQ 0 is GSI 2 (and IRQ 2,
     * the 8259's cascade, has no pin of its own). */
    if (irq != 2)
        vioapic_set_line(&p->ioapic, irq == 0 ? 2 : irq, level);
}
