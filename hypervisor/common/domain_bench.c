/*
 * domain_bench.c - the native half of `make bench`: with `bench` on the
 * command line, the hypervisor times bench/compute.h's loop on the boot
 * CPU before any guest exists, so the bench script can compare the same
 * loop run inside a guest (guests/tests/bench.c) in the same QEMU run.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/irq.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "../bench/compute.h"

void domain_bench_native(void)
{
    if (!cmdline_has("bench"))
        return;
    unsigned long flags = local_irq_save();
    bench_compute(BENCH_COMPUTE_ITERS / 10);   /* warm up, as the guest does */
    u64 best = ~0ull, x = 0;
    /* Best of three, like the guest: the host machine is shared. */
    for (int r = 0; r < 3; r++) {
        u64 t0 = rdtsc();
        x = bench_compute(BENCH_COMPUTE_ITERS);
        u64 t = rdtsc() - t0;
        if (t < best)
            best = t;
    }
    local_irq_restore(flags);
    pr_info("bench: native compute %lu iterations: %lu tsc (x=%lx), tsc %lu kHz\n",
            (unsigned long)BENCH_COMPUTE_ITERS, (unsigned long)best, (unsigned long)x,
            (unsigned long)(tsc_hz() / 1000));
}
