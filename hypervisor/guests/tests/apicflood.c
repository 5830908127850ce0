/*
 * apicflood.c - a hostile PC domain: programs its local APIC timer
 * periodic at 1 ns (the model clamps it) and floods itself with IPIs
 * through the ICR and the SELF IPI register, interrupts on, for 3 s.  It
 * checks the clamp held (at most one timer interrupt per 200 us) and that
 * its IPIs arrived; the neighbour in the same scenario (pacer.c) checks it
 * kept its share of the CPU meanwhile.
 */
#include "kt.h"

#define MSR_APIC_BASE 0x1b
#define X2APIC(reg)   (0x800 + ((reg) >> 4))
#define RUN_NS        3000000000ll

static volatile u64 count[256];

static void on_irq(u8 vec)
{
    count[vec]++;
    kt_wrmsr(X2APIC(0xb0), 0);     /* EOI */
}

void kt_main(void)
{
    kt_plan(3);
    kt_idt_install();
    kt_irq_set(0x40, on_irq);
    kt_irq_set(0x50, on_irq);
    kt_irq_set(0x51, on_irq);
    kt_wrmsr(MSR_APIC_BASE, kt_rdmsr(MSR_APIC_BASE) | (1u << 10));
    kt_wrmsr(X2APIC(0xf0), 0x1ff);                 /* SVR: enabled */
    kt_wrmsr(X2APIC(0x3e0), 0xb);                  /* divide by 1 */
    kt_wrmsr(X2APIC(0x320), 0x40 | (1u << 17));    /* periodic, vector 0x40 */
    kt_wrmsr(X2APIC(0x380), 1);                    /* every nanosecond, it asks */
    __asm__ __volatile__("sti" ::: "memory");
    s64 t0 = kt_hc_time(), dt;
    u64 sent = 0;
    do {
        for (int i = 0; i < 100; i++, sent += 2) {
            kt_wrmsr(X2APIC(0x3f0), 0x50);                     /* SELF IPI */
            kt_wrmsr(X2APIC(0x300), 0x51 | (2u << 18));        /* ICR, all incl. self */
        }
        dt = kt_hc_time() - t0;
    } while (dt < RUN_NS);
    __asm__ __volatile__("cli" ::: "memory");
    kt_wrmsr(X2APIC(0x380), 0);
    u64 ticks = count[0x40], max_ticks = (u64)dt / 200000 + 2;
    kt_ok(ticks > 0 && ticks <= max_ticks, "a 1 ns periodic timer gave %lu interrupts in %ld ms "
          "(at most %lu: one per 200 us)", (unsigned long)ticks, (long)(dt / 1000000),
          (unsigned long)max_ticks);
    kt_ok(count[0x50] + count[0x51] > 0 && count[0x50] + count[0x51] <= sent,
          "%lu IPIs sent, %lu taken", (unsigned long)sent,
          (unsigned long)(count[0x50] + count[0x51]));
    kt_ok(kt_failures() == 0, "flood over");
}
