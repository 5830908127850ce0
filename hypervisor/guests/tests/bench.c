/*
 * bench.c - the guest half of `make bench`.  It reports raw numbers (TSC
 * cycles) as "bench: key=value" lines; bench/run.sh turns them into
 * microseconds and ratios with the TSC frequency printed here too.
 *   first_insn_tsc   TSC at the guest's first instruction (QEMU's TSC starts
 *                    at 0 at power-on, so this is the time to get here)
 *   cpuid/vmmcall/pio_tsc_per_exit   one intercepted instruction, round trip
 *   loop_tsc_per_iter                the same loop without the exiting
 *                                    instruction (the baseline)
 *   compute_tsc      bench/compute.h's loop, to compare with the native run
 */
#include "kt.h"
#include "../../bench/compute.h"

#define EXITS 2000

static struct kiln_sysctl sc __attribute__((aligned(256)));

static u64 per_iter(int kind)
{
    u64 t0 = kt_rdtsc();
    for (int i = 0; i < EXITS; i++) {
        switch (kind) {
        case 0: kt_cpuid(0, 0); break;
        case 1: kt_hc_version(); break;
        case 2: kt_outb(KT_PORT_NULL, 0); break;
        default: __asm__ __volatile__("" ::: "memory"); break;
        }
    }
    return (kt_rdtsc() - t0) / EXITS;
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
    u64 t0 = kt_rdtsc();
    u64 x = bench_compute(BENCH_COMPUTE_ITERS);
    kt_printf("bench: compute_tsc=%lu x=%lx\n", (unsigned long)(kt_rdtsc() - t0), (unsigned long)x);
}
