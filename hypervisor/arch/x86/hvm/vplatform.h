/*
 * vplatform.h - the pieces of a PC domain's emulated platform, shared by
 * the glue files in this directory (vplatform.c: creation and the
 * domain's devices; vlapic_glue.c: each vCPU's local APIC; virq.c:
 * interrupt routing).  The device models themselves (devices/, vlapic.c)
 * are pure and know nothing of this.
 *
 * Locks, in the only order they are ever taken:
 *   domlist_lock -> vplatform.lock -> vplatform_vcpu.lock
 * The models' hooks run with a model's lock held, so they only record
 * what they want done (an IPI, a level EOI, a vCPU to notify); the glue
 * does it once it dropped the lock.  hvm_event_notify() (which may take
 * domlist_lock) is only ever called with no platform lock held.
 */
#ifndef KILN_HVM_VPLATFORM_H
#define KILN_HVM_VPLATFORM_H

#include <kiln/devices/debug_exit.h>
#include <kiln/devices/fwcfg.h>
#include <kiln/devices/pmtimer.h>
#include <kiln/devices/port92.h>
#include <kiln/devices/testdev.h>
#include <kiln/devices/vioapic.h>
#include <kiln/devices/vpic.h>
#include <kiln/devices/vpit.h>
#include <kiln/devices/vrtc.h>
#include <kiln/devices/vuart.h>
#include <kiln/domain.h>
#include <kiln/spinlock.h>
#include <kiln/vlapic.h>
#include <kiln/vplatform.h>

/* One vCPU's local APIC and the work its hooks left for after the lock. */
struct vplatform_vcpu {
    spinlock_t lock;
    struct vlapic lapic;
    struct vcpu *v;
    struct vplatform *plat;
    bool notify;                /* an interrupt may have become deliverable */
    bool ipi_queued;            /* an ICR write to route (one per call) */
    struct vlapic_ipi ipi;
    u32 level_eoi[8];           /* level-triggered vectors EOI'd */
};

/* What ends the domain, recorded by a device (vplatform_end). */
enum vplatform_end {
    VPLATFORM_END_NONE,
    VPLATFORM_END_EXIT_CODE,    /* isa-debug-exit */
    VPLATFORM_END_RESET,        /* port 0x92 / 0xcf9 */
    VPLATFORM_END_POWEROFF,     /* ACPI S5 */
};

#define VDEVS_TESTDEV_ORDER 4   /* 64 KiB: pc-testdev's MMIO window */

struct vplatform {
    struct domain *d;
    spinlock_t lock;            /* the devices below */
    struct vioapic ioapic;
    struct vpic pic;
    struct vpit pit;
    struct vrtc rtc;
    struct vuart uart;
    struct pmtimer pm;
    struct port92 port92;
    struct debug_exit debug_exit;
    struct testdev testdev;
    struct fwcfg fwcfg;
    u8 *testdev_mem;
    enum vplatform_end end;
    bool ended;                 /* end_domain() was called */
    u32 exit_code;
    bool pic_intr;              /* the 8259's INT output (atomic reads) */
    u32 notify_mask;            /* vCPUs to notify once the lock is dropped */
    unsigned int lowest_rr;     /* lowest-priority ties: next to try first */
    unsigned int nr_cpus;
    struct vplatform_vcpu *cpu[VPLATFORM_MAX_VCPUS];
};

static inline struct vplatform_vcpu *vplatform_vcpu_of(struct vcpu *v)
{
    struct vplatform *p = v->domain->platform;
    return p && v->id < p->nr_cpus ? p->cpu[v->id] : NULL;
}

/* ---- vplatform.c -------------------------------------------------------- */

/* Takes the devices' lock / drops it and notifies the vCPUs it marked. */
unsigned long vplatform_lock(struct vplatform *p);
void vplatform_unlock(struct vplatform *p, unsigned long flags);
/* Brings the domain's device timers to now; the earliest deadline still
 * ahead (0 none). */
u64 vplatform_advance(struct vplatform *p, u64 now);
/* A device ends the domain (lock held): done by vplatform_unlock. */
void vplatform_end(struct vplatform *p, enum vplatform_end why, u32 code);

/* ---- vdevs.c: the ISA devices on their ports and lines (lock held for
 * vdevs_advance) ------------------------------------------------------- */

int vdevs_init(struct vplatform *p);
void vdevs_free(struct vplatform *p);
u64 vdevs_advance(struct vplatform *p, u64 now);

/* ---- vlapic_glue.c ------------------------------------------------------ */

int vlapic_glue_init(struct vplatform *p, struct vcpu *v);
/* The xAPIC MMIO page at the default APIC base, for all vCPUs. */
int vlapic_glue_mmio_init(struct vplatform *p);
void vlapic_glue_free(struct vplatform_vcpu *pv);
/* Locks v's vLAPIC / unlocks it and does what its hooks recorded.  With
 * the devices' lock held (in_plat), notifications go to p->notify_mask. */
unsigned long vlapic_glue_lock(struct vplatform_vcpu *pv);
void vlapic_glue_unlock(struct vplatform_vcpu *pv, unsigned long flags, bool in_plat);

/* ---- virq.c ------------------------------------------------------------- */

/* Routes an IPI from `from` (the vCPU whose ICR was written). */
void virq_send_ipi(struct vplatform_vcpu *from, const struct vlapic_ipi *ipi);
/* An ISA IRQ line (0-15) changed level: the PIC pin and the IOAPIC pin
 * (IRQ0 on GSI 2, as the MADT's override says).  Devices' lock held. */
void virq_isa_line(struct vplatform *p, unsigned int irq, bool level);
/* A GSI (0-23) changed level: its IOAPIC pin, and the PIC's for 0-15. */
void virq_gsi_line(struct vplatform *p, unsigned int gsi, bool level);
/* The IOAPIC's message (its deliver hook): devices' lock held. */
void virq_ioapic_deliver(void *ctx, u8 dest, bool logical, u8 mode, u8 vector, bool level);

#endif
