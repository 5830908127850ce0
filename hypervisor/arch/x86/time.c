/*
 * time.c - the TSC as the hypervisor's clock.
 *
 * Frequency from CPUID 0x15 (crystal ratio) or 0x16 (base MHz) when the CPU
 * reports them, otherwise measured against PIT channel 2 for 50 ms.  Before
 * calibration now_ns() returns 0, so the first log lines read 0.000000.
 */
#include <kiln/console.h>
#include <kiln/time.h>
#include <kiln/x86.h>

#define PIT_HZ 1193182ull
#define PIT_CAL_MS 25ull

static u64 tsc_freq;        /* Hz, 0 until calibrated */
static u64 tsc_at_boot;
static u64 ns_mult;         /* ns = (tsc * ns_mult) >> 32 */
static u64 tsc_mult;        /* tsc = (ns * tsc_mult) >> 32 */

static u64 mul_shr32(u64 a, u64 b)
{
    return (u64)(((unsigned __int128)a * b) >> 32);
}

static u64 tsc_from_cpuid(const char **how)
{
    struct cpuid_regs r = cpuid(0);
    u32 max_leaf = r.eax;

    if (max_leaf >= 0x15) {
        r = cpuid(0x15);
        if (r.eax && r.ebx && r.ecx) {
            *how = "CPUID 0x15";
            return (u64)r.ecx * r.ebx / r.eax;
        }
    }
    if (max_leaf >= 0x16) {
        r = cpuid(0x16);
        if (r.eax & 0xffff) {
            *how = "CPUID 0x16";
            return (u64)(r.eax & 0xffff) * 1000000ull;
        }
    }
    return 0;
}

/* Counts TSC ticks while PIT channel 2 counts down PIT_CAL_MS in mode 0. */
static u64 tsc_from_pit(void)
{
    u16 latch = (u16)(PIT_HZ * PIT_CAL_MS / 1000);
    u8 gate = inb(0x61);

    outb(0x61, (u8)((gate & ~0x02) | 0x01));   /* gate on, speaker off */
    outb(0x43, 0xb0);                          /* ch2, lo/hi byte, mode 0 */
    outb(0x42, (u8)latch);
    outb(0x42, (u8)(latch >> 8));
    u64 t0 = rdtsc();
    while (!(inb(0x61) & 0x20))                /* OUT2 goes high at zero */
        ;
    u64 t1 = rdtsc();
    outb(0x61, gate);
    return (t1 - t0) * 1000ull / PIT_CAL_MS;
}

void time_init(void)
{
    const char *how = "PIT";

    tsc_at_boot = rdtsc();
    u64 hz = tsc_from_cpuid(&how);
    if (!hz)
        hz = tsc_from_pit();
    ns_mult = (NSEC_PER_SEC << 32) / hz;
    tsc_mult = (hz << 32) / NSEC_PER_SEC;
    tsc_freq = hz;
    pr_info("TSC: %llu.%03llu MHz (%s)", (unsigned long long)(hz / 1000000),
            (unsigned long long)(hz / 1000 % 1000), how);
}

u64 tsc_hz(void)
{
    return tsc_freq;
}

u64 tsc_to_ns(u64 tsc)
{
    return mul_shr32(tsc, ns_mult);
}

u64 ns_to_tsc(u64 ns)
{
    return mul_shr32(ns, tsc_mult);
}

/* TSC value at absolute time ns (for TSC-deadline timers). */
u64 tsc_at_ns(u64 ns)
{
    return tsc_at_boot + ns_to_tsc(ns);
}

/* The now_ns() time at which the TSC reads tsc (0 before boot). */
u64 ns_at_tsc(u64 tsc)
{
    return tsc > tsc_at_boot ? tsc_to_ns(tsc - tsc_at_boot) : 0;
}

u64 now_ns(void)
{
    if (!tsc_freq)
        return 0;
    return tsc_to_ns(rdtsc() - tsc_at_boot);
}

void udelay(u64 us)
{
    u64 end = rdtsc() + ns_to_tsc(us * NSEC_PER_USEC);
    while ((s64)(rdtsc() - end) < 0)
        __asm__ __volatile__("pause");
}
