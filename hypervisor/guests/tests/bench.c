/*
 * bench.c - the guest half of `make bench`.  It reports raw numbers (TSC
 * cycles) as "bench: key=value" lines; bench/run.sh turns them into
 * microseconds and ratios with the TSC frequency printed here too.
 *   first_insn_tsc   TSC at the guest's first instruction (QEMU's TSC starts
 *                    at 0 at power-on, so this is the time to get here)
 *   cpuid/vmmcall/pio_tsc_per_exit   one intercepted instruction, round trip
 *   loop_tsc_per_iter                the same loop without the exiting
 *                                    instruction (the baseline)
 *   compute_run=i tsc=T   bench/compute.h's loop, PAIRS times, each next
 *                    to a native run the hypervisor times and logs
 *                    (KT_PORT_BENCH): before it on even i, after it on odd
 *                    i, so a trend in the host's load favours neither side;
 *                    run.sh takes the median of the PAIRS paired ratios
 *   compute_exits    exits during all guest runs (timer interrupts)
 */
#include "kt.h"
#include "../../bench/compute.h"

#define BATCHES 20
#define EXITS   100
#define PAIRS   31

static struct kiln_sysctl sc __attribute__((aligned(256)));

/* The best of several batches: the machine is shared, and the minimum is
 * the figure least disturbed by other load. */
static u64 per_iter(int kind)
{
    u64 best = ~0ull;
    for (int b = 0; b < BATCHES; b++) {
        u64 t0 = kt_rdtsc();
        for (int i = 0; i < EXITS; i++) {
            switch (kind) {
            case 0: kt_cpuid(0, 0); break;
            case 1: kt_hc_version(); break;
            case 2: kt_outb(KT_PORT_NULL, 0); break;
            default: __asm__ __volatile__("" ::: "memory"); break;
            }
        }
        u64 t = (kt_rdtsc() - t0) / EXITS;
        if (t < best)
            best = t;
    }
    return best;
}

void kt_main(void)
{
    u64 first = kt_boot_tsc;
    sc.cmd = KILN_SYSCTL_PHYSINFO;
    if (kt_hc_sysctl(&sc) == 0)
        kt_printf("bench: tsc_khz=%lu\n", (unsigned long)sc.u.physinfo.cpu_khz);
    kt_printf("bench: first_insn_tsc=%lu\n", (unsigned long)first);
    per_iter(0);   /* warm up: translation caches, mappings */
    kt_printf("bench: cpuid_tsc_per_exit=%lu\n", (unsigned long)per_iter(0));
    kt_printf("bench: vmmcall_tsc_per_exit=%lu\n", (unsigned long)per_iter(1));
    kt_printf("bench: pio_tsc_per_exit=%lu\n", (unsigned long)per_iter(2));
    kt_printf("bench: loop_tsc_per_iter=%lu\n", (unsigned long)per_iter(3));
    bench_compute(BENCH_COMPUTE_ITERS / 10);
    u64 x = 0;
    u32 exits = 0;
    for (int r = 0; r < PAIRS; r++) {
        if (r % 2 == 0)
            kt_outl(KT_PORT_BENCH, 0);
        u32 e0 = kt_stat(KT_STAT_TOTAL);
        u64 t0 = kt_rdtsc();
        x = bench_compute(BENCH_COMPUTE_ITERS);
        u64 t = kt_rdtsc() - t0;
        /* The second read's own two port exits are not the loop's. */
        exits += kt_stat(KT_STAT_TOTAL) - e0 - 2;
        if (r % 2 == 1)
            kt_outl(KT_PORT_BENCH, 0);
        kt_printf("bench: compute_run=%d tsc=%lu x=%lx\n", r, (unsigned long)t, (unsigned long)x);
    }
    kt_printf("bench: compute_exits=%u\n", exits);
}
