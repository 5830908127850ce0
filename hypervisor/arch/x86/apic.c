/*
 * apic.c - the local APIC: x2APIC when offered (MSR access), else xAPIC
 * (MMIO through the uncached part of the direct map); EOI, IPIs and the
 * per-CPU one-shot timer behind timer_set_deadline().
 *
 * The timer uses TSC-deadline mode when CPUID says so: the deadline is then
 * an absolute TSC value and never drifts.  Otherwise one-shot mode with a
 * count derived from the LAPIC timer frequency measured against the TSC.
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/irq.h>
#include <kiln/mm.h>
#include <kiln/smp.h>
#include <kiln/time.h>
#include <kiln/traps.h>
#include <kiln/x86.h>

#define APIC_ID       0x020
#define APIC_TPR      0x080
#define APIC_EOI      0x0b0
#define APIC_SVR      0x0f0
#define APIC_ICR_LOW  0x300
#define APIC_ICR_HIGH 0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR  0x390
#define APIC_TIMER_DIV  0x3e0

#define APIC_BASE_EN   (1ul << 11)
#define APIC_BASE_EXTD (1ul << 10)
#define SVR_ENABLE     (1u << 8)
#define LVT_MASKED     (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)
#define ICR_BUSY       (1u << 12)
#define X2APIC_MSR(reg) (0x800 + ((reg) >> 4))

static bool use_x2apic;
static bool use_tsc_deadline;
static volatile u32 *xapic_mmio;
static u64 lapic_timer_hz;      /* one-shot mode only */
static u64 lapic_ticks_mult;    /* ticks = (ns * lapic_ticks_mult) >> 32 */

static u32 apic_read(u32 reg)
{
    return use_x2apic ? (u32)rdmsr(X2APIC_MSR(reg)) : xapic_mmio[reg / 4];
}

static void apic_write(u32 reg, u32 v)
{
    if (use_x2apic)
        wrmsr(X2APIC_MSR(reg), v);
    else
        xapic_mmio[reg / 4] = v;
}

u32 lapic_id(void)
{
    return use_x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void lapic_eoi(void)
{
    apic_write(APIC_EOI, 0);
}

/*
 * The mode the calling CPU's LAPIC is in now.  Boot puts every LAPIC in
 * x2APIC mode when offered, but CPU 0's is dom0's from then on, and Linux
 * may switch it back to xAPIC (it does without interrupt remapping):
 * sending an IPI from CPU 0, as dom0's DESTROY does to kick a vCPU, must
 * use whichever mode its LAPIC is in or the x2APIC write faults.
 */
static bool x2apic_now(void)
{
    return rdmsr(MSR_APIC_BASE) & APIC_BASE_EXTD;
}

void lapic_send_ipi(u32 apic_id, u32 icr_low)
{
    if (x2apic_now()) {
        /* x2APIC ICR writes are not serialising: order earlier stores. */
        __asm__ __volatile__("mfence" ::: "memory");
        wrmsr(X2APIC_MSR(APIC_ICR_LOW), ((u64)apic_id << 32) | icr_low);
        return;
    }
    unsigned long flags = local_irq_save();
    xapic_mmio[APIC_ICR_HIGH / 4] = apic_id << 24;
    xapic_mmio[APIC_ICR_LOW / 4] = icr_low;
    while (xapic_mmio[APIC_ICR_LOW / 4] & ICR_BUSY)
        __asm__ __volatile__("pause");
    local_irq_restore(flags);
}

void lapic_init(void)
{
    u64 base = rdmsr(MSR_APIC_BASE);
    bool bsp = smp_processor_id() == 0;

    if (bsp) {
        use_x2apic = (cpuid(1).ecx >> 21) & 1;
        use_tsc_deadline = (cpuid(1).ecx >> 24) & 1;
        xapic_mmio = phys_to_virt(base & PAGE_MASK & 0xffffffffful);
    }
    base |= APIC_BASE_EN;
    if (use_x2apic) {
        wrmsr(MSR_APIC_BASE, base);           /* xAPIC first, then x2APIC */
        base |= APIC_BASE_EXTD;
    }
    wrmsr(MSR_APIC_BASE, base);

    apic_write(APIC_TPR, 0);
    apic_write(APIC_LVT_TIMER, LVT_MASKED);
    apic_write(APIC_LVT_LINT0, LVT_MASKED);
    apic_write(APIC_LVT_ERROR, LVT_MASKED);
    if (!bsp)
        apic_write(APIC_LVT_LINT1, LVT_MASKED);
    apic_write(APIC_SVR, SVR_ENABLE | VEC_SPURIOUS);
    this_cpu()->apic_id = lapic_id();
    if (bsp)
        pr_info("LAPIC: %s mode, id %u, timer in %s mode", use_x2apic ? "x2APIC" : "xAPIC",
                this_cpu()->apic_id, use_tsc_deadline ? "TSC-deadline" : "one-shot");
}

/* Programs the hardware for this CPU's timer_deadline_ns (0 = stop). */
static void timer_program(u64 deadline_ns)
{
    if (use_tsc_deadline) {
        /* A past or zero-distance deadline fires at once; 0 disarms. */
        wrmsr(MSR_TSC_DEADLINE, deadline_ns ? tsc_at_ns(deadline_ns) : 0);
        return;
    }
    if (!deadline_ns) {
        apic_write(APIC_TIMER_INIT, 0);
        return;
    }
    u64 now = now_ns();
    u64 delta = deadline_ns > now ? deadline_ns - now : 0;
    u64 count = (u64)(((unsigned __int128)delta * lapic_ticks_mult) >> 32);
    if (count == 0)
        count = 1;
    if (count > 0xffffffffull)
        count = 0xffffffffull;   /* the interrupt handler re-arms for the rest */
    apic_write(APIC_TIMER_INIT, (u32)count);
}

static void timer_interrupt(struct cpu_regs *regs)
{
    struct percpu *p = this_cpu();
    u64 deadline = p->timer_deadline_ns;

    (void)regs;
    if (!deadline)
        return;    /* disarmed after the interrupt was already raised */
    if (!use_tsc_deadline && now_ns() < deadline) {
        timer_program(deadline);   /* one-shot count was clamped: keep waiting */
        return;
    }
    p->timer_deadline_ns = 0;
    if (p->timer_fn)
        p->timer_fn();
}

void timer_set_callback(timer_fn_t fn)
{
    this_cpu()->timer_fn = fn;
}

void timer_set_deadline(u64 deadline_ns)
{
    unsigned long flags = local_irq_save();
    this_cpu()->timer_deadline_ns = deadline_ns;
    timer_program(deadline_ns);
    local_irq_restore(flags);
}

/* Measures the LAPIC timer against the TSC over 10 ms (divide by 1). */
static void calibrate_lapic_timer(void)
{
    apic_write(APIC_TIMER_DIV, 0xb);
    apic_write(APIC_LVT_TIMER, LVT_MASKED);
    apic_write(APIC_TIMER_INIT, 0xffffffffu);
    udelay(10000);
    u32 left = apic_read(APIC_TIMER_CUR);
    apic_write(APIC_TIMER_INIT, 0);
    lapic_timer_hz = (u64)(0xffffffffu - left) * 100;
    lapic_ticks_mult = (lapic_timer_hz << 32) / NSEC_PER_SEC;
    pr_info("LAPIC timer: %llu kHz", (unsigned long long)(lapic_timer_hz / 1000));
}

void lapic_timer_init(void)
{
    if (smp_processor_id() == 0) {
        if (!use_tsc_deadline)
            calibrate_lapic_timer();
        irq_set_handler(VEC_TIMER, timer_interrupt);
    }
    if (use_tsc_deadline) {
        apic_write(APIC_LVT_TIMER, VEC_TIMER | LVT_TSC_DEADLINE);
        /* SDM: fence so the MSR write sees TSC-deadline mode. */
        __asm__ __volatile__("mfence" ::: "memory");
    } else {
        apic_write(APIC_TIMER_DIV, 0xb);
        apic_write(APIC_LVT_TIMER, VEC_TIMER);
    }
}
