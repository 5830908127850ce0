/*
 * apic.c - the local APIC of a PC domain (boot option `pc`), driven in
 * x2APIC mode: CPUID advertises it and the timing leaf, the LVT timer
 * fires one-shot, periodic and TSC-deadline interrupts while the vCPU
 * halts in between (HLT blocks, the timer wakes it), self IPIs arrive
 * through the SELF IPI register and the ICR, the ISR holds a vector until
 * its EOI, and the TPR (as an MSR and as CR8) holds back lower classes.
 */
#include "kt.h"

#define MSR_APIC_BASE     0x1b
#define MSR_TSC_DEADLINE  0x6e0
#define X2APIC(reg)       (0x800 + ((reg) >> 4))
#define APIC_ID           0x20
#define APIC_VERSION      0x30
#define APIC_TPR          0x80
#define APIC_EOI          0xb0
#define APIC_SVR          0xf0
#define APIC_ISR          0x100
#define APIC_IRR          0x200
#define APIC_ICR          0x300
#define APIC_LVT_TIMER    0x320
#define APIC_TIMER_ICR    0x380
#define APIC_TIMER_CCR    0x390
#define APIC_TIMER_DCR    0x3e0
#define APIC_SELF_IPI     0x3f0

#define BASE_EN           (1u << 11)
#define BASE_EXTD         (1u << 10)
#define LVT_PERIODIC      (1u << 17)
#define LVT_TSC_DEADLINE  (2u << 17)
#define LVT_MASKED        (1u << 16)

#define VEC_TIMER 0x40
#define VEC_SELF  0x50
#define VEC_ICR   0x51
#define VEC_ISR   0x52
#define VEC_LOW   0x55

static volatile unsigned int count[256];
static volatile bool isr_set_in_handler;

static u64 apic_read(u32 reg) { return kt_rdmsr(X2APIC(reg)); }
static void apic_write(u32 reg, u64 v) { kt_wrmsr(X2APIC(reg), v); }

static bool in_isr(u8 vec)
{
    return (apic_read(APIC_ISR + (vec / 32) * 0x10) >> (vec % 32)) & 1;
}

static void on_irq(u8 vec)
{
    count[vec]++;
    if (vec == VEC_ISR)
        isr_set_in_handler = in_isr(vec);
    apic_write(APIC_EOI, 0);
}

/* Halts with interrupts on until `want` interrupts of vec arrived or
 * timeout_ns passed; returns how many arrived. */
static unsigned int wait_irqs(u8 vec, unsigned int want, u64 timeout_ns)
{
    s64 t0 = kt_hc_time();
    while (count[vec] < want && (u64)(kt_hc_time() - t0) < timeout_ns)
        __asm__ __volatile__("sti; hlt; cli" ::: "memory");
    return count[vec];
}

static void test_cpuid(u32 *tsc_khz)
{
    struct kt_cpuid l1 = kt_cpuid(1, 0), sig = kt_cpuid(0x40000000, 0);
    struct kt_cpuid timing = kt_cpuid(0x40000010, 0);
    kt_ok((l1.c >> 21) & 1, "CPUID offers x2APIC");
    kt_ok((l1.c >> 24) & 1, "CPUID offers the TSC-deadline timer");
    kt_ok(sig.a >= 0x40000010 && timing.a > 0 && timing.b == 1000000,
          "timing leaf: TSC %u kHz, APIC timer %u kHz", timing.a, timing.b);
    *tsc_khz = timing.a;
}

static void test_enable(void)
{
    u64 base = kt_rdmsr(MSR_APIC_BASE);
    kt_ok((base & ~0xfffull) == 0xfee00000 && (base & BASE_EN) && (base & (1u << 8)),
          "APIC_BASE: 0xfee00000, enabled, BSP (%#lx)", (unsigned long)base);
    kt_wrmsr(MSR_APIC_BASE, base | BASE_EXTD);
    apic_write(APIC_SVR, 0x1ff);
    kt_ok(apic_read(APIC_ID) == 0 && (apic_read(APIC_VERSION) & 0xff) == 0x14,
          "x2APIC mode: ID 0, version %#lx", (unsigned long)apic_read(APIC_VERSION));
}

static void test_oneshot(void)
{
    u32 halts = kt_stat(KT_STAT_HLT);
    apic_write(APIC_TIMER_DCR, 0xb);                /* divide by 1: 1 ns a count */
    apic_write(APIC_LVT_TIMER, VEC_TIMER);
    s64 t0 = kt_hc_time();
    apic_write(APIC_TIMER_ICR, 2000000);            /* 2 ms */
    unsigned int n = wait_irqs(VEC_TIMER, 1, 1000000000);
    s64 dt = kt_hc_time() - t0;
    kt_ok(n == 1 && dt >= 2000000, "one-shot timer: one interrupt after %ld us", (long)(dt / 1000));
    kt_ok(kt_stat(KT_STAT_HLT) > halts, "the vCPU halted while it waited (%u HLT exits)",
          kt_stat(KT_STAT_HLT) - halts);
    kt_ok(apic_read(APIC_TIMER_CCR) == 0, "its current count is 0 once it fired");
    kt_sleep_ns(5000000);
    kt_ok(count[VEC_TIMER] == 1, "a one-shot timer fires once");
}

static void test_periodic(void)
{
    count[VEC_TIMER] = 0;
    apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_PERIODIC);
    s64 t0 = kt_hc_time();
    apic_write(APIC_TIMER_ICR, 1000000);            /* 1 ms */
    unsigned int n = wait_irqs(VEC_TIMER, 20, 2000000000);
    s64 dt = kt_hc_time() - t0;
    apic_write(APIC_TIMER_ICR, 0);
    kt_ok(n >= 20 && dt >= 19000000, "periodic timer: %u interrupts in %ld us", n,
          (long)(dt / 1000));
    unsigned int after = count[VEC_TIMER];
    kt_sleep_ns(5000000);
    kt_ok(count[VEC_TIMER] == after, "writing initial count 0 stops it");
}

static void test_tsc_deadline(u32 tsc_khz)
{
    /* A periodic tick that fired just before it was stopped may still be
     * pending: take it before counting. */
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    count[VEC_TIMER] = 0;
    apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_TSC_DEADLINE);
    s64 t0 = kt_hc_time();
    kt_wrmsr(MSR_TSC_DEADLINE, kt_rdtsc() + (u64)tsc_khz * 3);   /* 3 ms */
    unsigned int n = wait_irqs(VEC_TIMER, 1, 1000000000);
    s64 dt = kt_hc_time() - t0;
    kt_ok(n == 1 && dt >= 2500000, "TSC-deadline timer: one interrupt after %ld us",
          (long)(dt / 1000));
    kt_ok(kt_rdmsr(MSR_TSC_DEADLINE) == 0, "IA32_TSC_DEADLINE reads 0 once it fired");
    apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_MASKED);
}

static void test_self_ipi(void)
{
    apic_write(APIC_SELF_IPI, VEC_SELF);
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_SELF] == 1, "SELF IPI register: the interrupt arrives once IF is set");
    apic_write(APIC_ICR, VEC_ICR | (1u << 18));     /* fixed, shorthand self */
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_ICR] == 1, "ICR with the self shorthand");
    /* All-including-self reaches us too (the only vCPU running). */
    apic_write(APIC_ICR, VEC_ICR | (2u << 18));
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_ICR] == 2, "ICR with the all-including-self shorthand");
    apic_write(APIC_ICR, VEC_ICR | (3u << 18));     /* all excluding self: nobody */
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_ICR] == 2, "ICR all-excluding-self does not come back");
}

static void test_isr_eoi(void)
{
    apic_write(APIC_SELF_IPI, VEC_ISR);
    kt_ok((apic_read(APIC_IRR + (VEC_ISR / 32) * 0x10) >> (VEC_ISR % 32)) & 1,
          "a pending vector is in the IRR while IF is clear");
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_ISR] == 1 && isr_set_in_handler, "in its handler the vector is in the ISR");
    kt_ok(!in_isr(VEC_ISR), "EOI cleared it from the ISR");
}

static void test_tpr(void)
{
    apic_write(APIC_TPR, 0x60);
    apic_write(APIC_SELF_IPI, VEC_LOW);             /* class 5 < 6 */
    __asm__ __volatile__("sti; nop; nop; cli" ::: "memory");
    kt_ok(count[VEC_LOW] == 0, "TPR 0x60 holds back vector 0x55");
    apic_write(APIC_TPR, 0);
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_LOW] == 1, "TPR 0 lets it in");

    u64 cr8 = 6;
    __asm__ __volatile__("mov %0, %%cr8" :: "r"(cr8) : "memory");
    kt_ok(apic_read(APIC_TPR) == 0x60, "CR8 = 6 is TPR 0x60 (read %#lx)",
          (unsigned long)apic_read(APIC_TPR));
    apic_write(APIC_SELF_IPI, VEC_LOW);
    __asm__ __volatile__("sti; nop; nop; cli" ::: "memory");
    kt_ok(count[VEC_LOW] == 1, "CR8 holds it back too");
    cr8 = 0;
    __asm__ __volatile__("mov %0, %%cr8" :: "r"(cr8) : "memory");
    /* The CR8 write exits nowhere: the next exit (this CPUID) brings it to
     * the vLAPIC, and the entry after it delivers. */
    kt_cpuid(0, 0);
    __asm__ __volatile__("sti; nop; cli" ::: "memory");
    kt_ok(count[VEC_LOW] == 2, "CR8 = 0 lets it in");
}

void kt_main(void)
{
    u32 tsc_khz = 0;
    kt_plan(26);
    kt_idt_install();
    for (unsigned int v = 32; v < 256; v++)
        kt_irq_set((u8)v, on_irq);
    test_cpuid(&tsc_khz);
    test_enable();
    test_oneshot();
    test_periodic();
    test_tsc_deadline(tsc_khz);
    test_self_ipi();
    test_isr_eoi();
    test_tpr();
    kt_ok(kt_failures() == 0, "all local APIC checks passed");
}
