/*
 * domain_bench.c - the native half of `make bench`: with `bench` on the
 * command line, the hypervisor times bench/compute.h's loop on the boot
 * CPU before any guest exists (warm-up), and again whenever the bench
 * guest asks through KT_PORT_BENCH, so native and guest runs interleave
 * and a burst of load on the shared machine cannot favour either side.
 * Interrupts are on while the loop runs, as they are for the guest's (its
 * timer interrupts exit and come back), so both pay for the same ticks.
 * Without `bench` nothing here runs: a guest cannot make the hypervisor
 * spin in its exit handler.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/irq.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "../bench/compute.h"

void domain_bench_native(bool at_boot)
{
    if (!cmdline_has("bench"))
        return;
    /* The port handler runs with interrupts off; they only set flags the
     * loop acts on once the exit is handled. */
    unsigned long flags = local_irq_save();
    local_irq_enable();
    u64 start = rdtsc();
    if (at_boot)
        bench_compute(BENCH_COMPUTE_ITERS / 10);   /* warm up, as the guest does */
    u64 t0 = rdtsc();
    u64 x = bench_compute(BENCH_COMPUTE_ITERS);
    u64 t1 = rdtsc();
    local_irq_restore(flags);
    /* "spent" lets the script take the boot-time run out of the
     * power-on-to-guest figure. */
    pr_info("bench: native compute %lu iterations: %lu tsc (x=%lx), tsc %lu kHz, spent %lu tsc\n",
            (unsigned long)BENCH_COMPUTE_ITERS, (unsigned long)(t1 - t0), (unsigned long)x,
            (unsigned long)(tsc_hz() / 1000), (unsigned long)(t1 - start));
}
