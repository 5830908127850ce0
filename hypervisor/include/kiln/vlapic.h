/*
 * vlapic.h - the virtual local APIC of one domU vCPU (arch/x86/hvm/vlapic.c).
 *
 * A pure model of the Intel SDM vol. 3 ch. 10/11 local APIC, in xAPIC (MMIO)
 * and x2APIC (MSR) modes: it never calls the scheduler, timers or the SVM
 * backend.  Time is an argument (`now`, ns on the now_ns() clock) and
 * everything the model needs from outside comes through struct vlapic_hooks,
 * so the platform glue decides how IPIs travel, how vCPUs are woken and when
 * the per-CPU timer fires, and the unit tests control all of it.
 *
 * The glue serialises all calls on one vlapic (one lock or one CPU).  Hooks
 * are called synchronously from inside the calls; each call has finished
 * updating the model before it calls a hook, so a hook may call back into
 * the same vlapic (send_ipi delivering an all-including-self IPI calls
 * vlapic_accept_irq on the sender).
 *
 * Choices (the SDM leaves them to the implementation):
 *  - Version register 0x00050014: APIC version 0x14 (integrated xAPIC) and
 *    six LVT entries (max LVT index 5: timer, thermal, performance, LINT0,
 *    LINT1, error), as QEMU reports.  There is no CMCI LVT (offset 0x2f0,
 *    MSR 0x82f are reserved) and no EOI-broadcast suppression (bit 24 clear).
 *  - The timer counts at VLAPIC_TIMER_HZ (1 GHz, like QEMU's APIC "bus"),
 *    so one count before the divider is 1 ns.  CPUID may report it.
 *  - A periodic timer never reloads faster than every VLAPIC_MIN_PERIOD_NS
 *    (200 us, KVM's default floor too, so guests see what they see under
 *    KVM): at most 5000 timer interrupts a second per vCPU, whatever the
 *    guest programs, so a hostile guest's 1 us timer slows only itself.  A
 *    clamped timer's current count still falls from the initial count to 0,
 *    just more slowly.  Missed ticks are dropped: at most one timer
 *    interrupt is ever pending (the IRR bit), as on a busy real CPU.
 *  - Masked or not, an expiring one-shot or TSC-deadline timer stops (its
 *    current count / IA32_TSC_DEADLINE read 0); a masked timer sets no IRR
 *    bit and asks for no wake-up (vlapic_next_deadline() is 0).
 *  - A BSP's LINT0 comes out of reset as ExtINT, unmasked (0x700), which is
 *    what a PC BIOS leaves ("virtual wire") and what QEMU and KVM do: domUs
 *    start without firmware and expect 8259 interrupts to reach the BSP.
 *  - ICR writes are delivered at once (the delivery-status bit reads 0).
 *    Only a self-shorthand fixed IPI (and the x2APIC SELF IPI register) is
 *    handled inside the model; every other IPI goes to hooks->send_ipi,
 *    including all-including-self ones and self ones of other delivery
 *    modes (which the SDM calls invalid; the glue may deliver them to the
 *    sender, as KVM does, or drop them).  ICR delivery modes 3 and 7 are
 *    reserved: nothing is sent.  Per the SDM the Pentium 4+ xAPIC sends
 *    every IPI edge-triggered, so receivers accept IPIs as edge; the only
 *    level meaning left is INIT level de-assert (VLAPIC_DM_INIT_DEASSERT),
 *    which receivers ignore.
 *  - A fixed/lowest-priority IPI with vector 0-15 sets "send illegal
 *    vector" in the sender's ESR and is still sent; each receiver sets
 *    "receive illegal vector" and drops it.  An access to a reserved xAPIC
 *    offset sets "illegal register address".  Each error raises the LVT
 *    error interrupt when it is unmasked.
 *  - x2APIC reserved-bit checks: WRMSR #GPs for non-zero bits 63:32 (all
 *    registers but the ICR), a non-zero EOI or ESR value, and SELF IPI bits
 *    31:8; other reserved bits are ignored on write (as in xAPIC mode).
 *  - xAPIC MMIO: a register is the first 4 bytes of its 16-byte slot.
 *    Reads of any size and alignment return the bytes they cover (bytes
 *    4-15 of a slot read 0); only 4-byte writes to a slot's start take
 *    effect, other writes are ignored.  With the APIC disabled or in x2APIC
 *    mode the page is not the APIC's: reads return all ones, writes are
 *    ignored (the glue should treat the page as unassigned then).
 *  - The LVT timer mode 11b (reserved) is ignored on write: the previous
 *    mode stays.  A write switching to or from TSC-deadline mode disarms
 *    the timer (initial count and IA32_TSC_DEADLINE become 0); one between
 *    one-shot and periodic, or a new divide configuration, keeps the
 *    counts left and runs them out at the new rate (an expired one-shot
 *    turned periodic stays expired).
 *  - Disabling the APIC through IA32_APIC_BASE resets every register to
 *    its power-up value, the APIC ID included (the SDM: no state but the
 *    x2APIC ID survives a trip through the disabled state); INIT resets all
 *    but the ID and IA32_APIC_BASE.  Writes to the BSP bit are ignored.
 *  - Software-disabled (SVR bit 8 clear): all LVTs are masked when software
 *    clears the bit and cannot be unmasked while it stays clear; fixed and
 *    lowest-priority interrupts are not accepted; interrupts already in the
 *    IRR stay deliverable (the SDM: "held").  NMI, INIT and SIPI are the
 *    glue's and unaffected.
 *  - The xAPIC ID register is writable (bits 31:24), as on hardware, and
 *    is what xAPIC physical destinations match, aliases included; x2APIC
 *    mode always uses the initial ID.
 *  - The lowest-priority arbitration key is the PPR (lower wins; the glue
 *    breaks ties).
 */
#ifndef KILN_VLAPIC_H
#define KILN_VLAPIC_H

#include <kiln/types.h>

#define VLAPIC_DEFAULT_BASE   0xfee00000ull
#define VLAPIC_VERSION        0x00050014u
#define VLAPIC_TIMER_HZ       1000000000ull
#define VLAPIC_MIN_PERIOD_NS  200000ull

/* IA32_APIC_BASE bits. */
#define VLAPIC_BASE_BSP       (1ull << 8)
#define VLAPIC_BASE_EXTD      (1ull << 10)
#define VLAPIC_BASE_EN        (1ull << 11)

#define VLAPIC_MSR_APIC_BASE    0x1bu
#define VLAPIC_MSR_TSC_DEADLINE 0x6e0u
#define VLAPIC_MSR_X2APIC_FIRST 0x800u
#define VLAPIC_MSR_X2APIC_LAST  0xbffu   /* the architectural x2APIC range */

/* Returned by the MSR calls when the guest must get #GP(0). */
#define VLAPIC_GP (-1)

/* ESR bits the model raises. */
#define VLAPIC_ESR_SEND_ILLEGAL    0x20u
#define VLAPIC_ESR_RECV_ILLEGAL    0x40u
#define VLAPIC_ESR_ILLEGAL_REG     0x80u

/* The LVT entries, in register order (xAPIC offset 0x320 + 0x10 * i). */
enum vlapic_lvt {
    VLAPIC_LVT_TIMER,
    VLAPIC_LVT_THERMAL,
    VLAPIC_LVT_PERF,
    VLAPIC_LVT_LINT0,
    VLAPIC_LVT_LINT1,
    VLAPIC_LVT_ERROR,
    VLAPIC_NR_LVT
};

/* LVT and ICR fields. */
#define VLAPIC_LVT_VECTOR       0xffu
#define VLAPIC_LVT_DM_SHIFT     8
#define VLAPIC_LVT_DM_MASK      (7u << 8)
#define VLAPIC_LVT_MASKED       (1u << 16)

/* Delivery modes: ICR/LVT bits 10:8, plus one decoded-only value. */
enum vlapic_delivery {
    VLAPIC_DM_FIXED  = 0,
    VLAPIC_DM_LOWEST = 1,
    VLAPIC_DM_SMI    = 2,
    VLAPIC_DM_NMI    = 4,
    VLAPIC_DM_INIT   = 5,
    VLAPIC_DM_SIPI   = 6,
    VLAPIC_DM_EXTINT = 7,           /* LVT only (LINT0/LINT1) */
    VLAPIC_DM_INIT_DEASSERT = 8,    /* ICR: INIT, level trigger, level 0 */
};

/* ICR destination shorthands (bits 19:18). */
enum vlapic_shorthand {
    VLAPIC_SH_NONE,
    VLAPIC_SH_SELF,
    VLAPIC_SH_ALL_INCL,
    VLAPIC_SH_ALL_EXCL,
};

/* A decoded ICR write (xAPIC ICR low with ICR high, or x2APIC ICR MSR). */
struct vlapic_ipi {
    u32 dest;            /* 8-bit xAPIC or 32-bit x2APIC destination */
    bool x2apic;         /* dest is 32 bits wide (sent in x2APIC mode) */
    bool logical;        /* destination mode: logical (else physical) */
    u8 shorthand;        /* enum vlapic_shorthand; dest unused unless NONE */
    u8 mode;             /* enum vlapic_delivery */
    u8 vector;           /* fixed/lowest: the vector; SIPI: start page */
    bool level;          /* ICR bit 14 (assert), as written */
    bool trigger_level;  /* ICR bit 15, as written (see choices above) */
};

struct vlapic_hooks {
    /* Delivers an IPI to its targets (see the choices above). */
    void (*send_ipi)(void *ctx, const struct vlapic_ipi *ipi);
    /* A level-triggered vector (TMR bit set) was EOI'd: clear remote IRR. */
    void (*eoi)(void *ctx, u8 vector);
    /* An interrupt may have become deliverable: kick or wake the vCPU. */
    void (*notify)(void *ctx);
    /* The now_ns() time at which the guest's TSC reads `tsc`, rounded down
     * as now_ns() itself is, so a deadline the guest's TSC has passed is
     * never in the future (the SDM fires it at once; 0 for any TSC value
     * before boot). */
    u64 (*tsc_to_ns)(void *ctx, u64 tsc);
};

struct vlapic_config {
    u32 apic_id;         /* initial (x2)APIC ID: the vCPU id */
    bool bsp;            /* IA32_APIC_BASE.BSP */
    bool x2apic;         /* CPUID offers x2APIC (else EXTD=1 is #GP) */
    bool tsc_deadline;   /* CPUID offers TSC-deadline (else mode and MSR absent) */
    u8 maxphyaddr;       /* guest physical address bits (CPUID 0x80000008), 32..52 */
};

/* The model's state; only vlapic.c touches the fields. */
struct vlapic {
    struct vlapic_config cfg;
    const struct vlapic_hooks *hooks;
    void *ctx;

    u64 apic_base;
    u8 xapic_id;                /* xAPIC ID register bits 31:24 */
    u32 tpr, ldr, dfr, svr;
    u32 esr, esr_pending;       /* latched value / errors since the last write */
    u32 icr_lo, icr_hi;
    u32 irr[8], isr[8], tmr[8];
    u32 lvt[VLAPIC_NR_LVT];
    u32 timer_icr, timer_dcr;
    u64 timer_deadline;         /* absolute ns of the next expiry, 0 = stopped */
    u64 timer_period;           /* ns of one full count (clamped if periodic) */
    u64 tsc_deadline;           /* IA32_TSC_DEADLINE as the guest wrote it */
};

/* ---- life cycle --------------------------------------------------------- */

/* Power-up: APIC_BASE = 0xfee00000 | EN | (BSP), xAPIC mode, reset values.
 * hooks (all four required) and ctx are kept for the vlapic's lifetime. */
void vlapic_init(struct vlapic *l, const struct vlapic_config *cfg,
                 const struct vlapic_hooks *hooks, void *ctx);
/* An INIT signal (INIT IPI): resets all registers but the APIC ID and
 * IA32_APIC_BASE (the mode is kept).  The glue handles the vCPU side. */
void vlapic_init_signal(struct vlapic *l);

/* ---- mode queries (CPUID, MMIO routing) --------------------------------- */

bool vlapic_hw_enabled(const struct vlapic *l);     /* APIC_BASE.EN */
bool vlapic_x2apic_mode(const struct vlapic *l);    /* EN and EXTD */
/* True when the xAPIC MMIO page is live (EN set, EXTD clear); *base is
 * then its guest-physical address.  Re-check after every MSR write. */
bool vlapic_mmio_active(const struct vlapic *l, u64 *base);
/* The initial APIC ID (CPUID leaf 1 EBX[31:24], leaf 0xb EDX). */
u32 vlapic_initial_id(const struct vlapic *l);

/* ---- register access ---------------------------------------------------- */

/* xAPIC MMIO at page offset `offset` (0..0xfff), size 1, 2, 4 or 8. */
u64 vlapic_mmio_read(struct vlapic *l, u32 offset, unsigned int size, u64 now);
void vlapic_mmio_write(struct vlapic *l, u32 offset, unsigned int size,
                       u64 value, u64 now);

/* True for the MSRs the two calls below implement: IA32_APIC_BASE,
 * IA32_TSC_DEADLINE and 0x800-0xbff. */
bool vlapic_msr_is_ours(u32 msr);
/*
 * RDMSR/WRMSR of one of those MSRs: 0, or VLAPIC_GP for #GP(0).
 *  - IA32_APIC_BASE: reserved bits (0-7, 9, >= maxphyaddr), EXTD without
 *    x2APIC support, EN=0 with EXTD=1, x2APIC -> xAPIC and disabled ->
 *    x2APIC are #GP.
 *  - IA32_TSC_DEADLINE: #GP unless CPUID offers it; outside TSC-deadline
 *    mode it reads 0 and writes are ignored; writing 0 disarms; a deadline
 *    already past fires during the write.
 *  - 0x800-0xbff: #GP outside x2APIC mode, for reserved MSRs, writes to
 *    read-only and reads of write-only registers, and the reserved bits
 *    listed above.  ID is the 32-bit x2APIC ID, LDR is read-only
 *    ((id >> 4) << 16 | 1 << (id & 0xf)), there is no DFR, the ICR is one
 *    64-bit MSR (0x830) and SELF IPI (0x83f) exists.
 */
int vlapic_msr_read(struct vlapic *l, u32 msr, u64 *value, u64 now);
int vlapic_msr_write(struct vlapic *l, u32 msr, u64 value, u64 now);

/* CR8 = TPR[7:4].  vlapic_set_cr8 returns VLAPIC_GP for bits 63:4 set. */
u8 vlapic_get_cr8(const struct vlapic *l);
int vlapic_set_cr8(struct vlapic *l, u64 value);

/* ---- interrupt delivery ------------------------------------------------- */

/*
 * A fixed or lowest-priority interrupt arriving (IOAPIC, MSI, IPI): sets
 * its IRR bit and its TMR bit to `level`.  Returns false when dropped: the
 * APIC is disabled (hardware or software) or the vector is 0-15 (then
 * "receive illegal vector" is raised).  NMI, INIT, SIPI, SMI and ExtINT
 * are the glue's: they are not LAPIC register state.
 */
bool vlapic_accept_irq(struct vlapic *l, u8 vector, bool level);
/* The vector the vCPU should take next: the highest IRR vector whose
 * priority class is above the PPR's, or -1 (none, or APIC disabled). */
int vlapic_pending_vector(const struct vlapic *l);
/* The CPU took `vector` (the one vlapic_pending_vector returned): IRR ->
 * ISR.  A vector not in the IRR is ignored. */
void vlapic_ack(struct vlapic *l, u8 vector);

/*
 * Whether this APIC is a target of a message to `dest` (physical APIC ID
 * or logical destination).  wide: dest is a 32-bit x2APIC destination
 * (vlapic_ipi.x2apic); else it is 8 bits (xAPIC ICR, IOAPIC, MSI).
 * Physical: ID match or broadcast (0xff; 0xffffffff when wide).  Logical:
 * broadcast, else flat (LDR[31:24] & dest) or cluster (same cluster
 * nibble, LDR[27:24] & dest[3:0]) per the DFR in xAPIC mode; cluster
 * (dest[31:16] == LDR[31:16], LDR[15:0] & dest[15:0]) in x2APIC mode.
 * A hardware-disabled APIC matches nothing.
 */
bool vlapic_match_dest(const struct vlapic *l, u32 dest, bool logical, bool wide);
/* Lowest-priority arbitration key: the PPR (the lowest wins). */
u8 vlapic_arb_priority(const struct vlapic *l);

/* An LVT entry as the guest reads it (LINT0/LINT1 tell the glue how the
 * 8259's INTR and NMI reach the vCPU). */
u32 vlapic_lvt(const struct vlapic *l, enum vlapic_lvt which);
/* Whether the 8259's INTR reaches the vCPU: the APIC is hardware-disabled
 * (the pin goes straight to the CPU) or LINT0 is unmasked ExtINT. */
bool vlapic_accepts_pic_intr(const struct vlapic *l);

/* ---- timer -------------------------------------------------------------- */

/* When vlapic_advance must next run (absolute ns), 0 = never.  Changes
 * after any call above that writes state, so re-read it after each. */
u64 vlapic_next_deadline(const struct vlapic *l);
/* Expires the timer if due at `now`: sets the LVT timer vector in the IRR
 * (unless masked), reloads a periodic timer (dropping missed periods). */
void vlapic_advance(struct vlapic *l, u64 now);

#endif
