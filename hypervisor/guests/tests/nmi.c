/*
 * nmi.c - NMIs in a PC domain (boot option `pc`), sent to itself through
 * the x2APIC ICR: one arrives at once even with IF clear, and one sent
 * from inside the NMI handler waits for the handler's IRET (NMIs do not
 * nest) and then arrives.  This is what a backend's NMI delivery must
 * track: SVM with its IRET intercept, VT-x with virtual-NMI blocking and
 * the NMI-window exit.
 */
#include "kt.h"

#define MSR_APIC_BASE     0x1b
#define BASE_EXTD         (1u << 10)
#define X2APIC_SVR        0x80f
#define X2APIC_ICR        0x830
#define ICR_NMI           (4u << 8)
#define ICR_SELF          (1u << 18)
#define WAIT_SPINS        1000000

static volatile unsigned int nmis, depth, max_depth, seen_in_handler;

static void self_nmi(void)
{
    kt_wrmsr(X2APIC_ICR, ICR_SELF | ICR_NMI);
}

/* Spins until nmis reaches want (or WAIT_SPINS passed). */
static void wait_for(unsigned int want)
{
    for (unsigned int i = 0; i < WAIT_SPINS && nmis < want; i++)
        __asm__ __volatile__("pause" ::: "memory");
}

static void on_nmi(u8 vector)
{
    (void)vector;
    if (++depth > max_depth)
        max_depth = depth;
    nmis++;
    if (nmis == 2) {
        /* Pending now, but blocked until this handler's IRET. */
        self_nmi();
        wait_for(3);
        seen_in_handler = nmis;
    }
    depth--;
}

void kt_main(void)
{
    kt_plan(4);
    kt_idt_install();
    kt_irq_set(2, on_nmi);
    kt_wrmsr(MSR_APIC_BASE, kt_rdmsr(MSR_APIC_BASE) | BASE_EXTD);
    kt_wrmsr(X2APIC_SVR, 0x1ff);

    __asm__ __volatile__("cli" ::: "memory");
    self_nmi();
    wait_for(1);
    kt_ok(nmis == 1, "a self NMI arrives with IF clear (%u)", nmis);

    self_nmi();
    wait_for(3);
    kt_ok(seen_in_handler == 2, "an NMI sent from the handler waits for its IRET (%u seen inside)",
          seen_in_handler);
    kt_ok(nmis == 3, "then it arrives (%u NMIs)", nmis);
    kt_ok(max_depth == 1, "NMIs never nested (depth %u)", max_depth);
}
