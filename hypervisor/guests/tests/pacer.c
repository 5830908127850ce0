/*
 * pacer.c - the well-behaved neighbour of a hostile domain on the same CPU:
 * spins for 3 s of wall time and checks it got a fair part of the CPU (at
 * least 30% where equal weights give 50%), so the other domain's timer
 * and IPI storm slowed only that domain.
 */
#include "kt.h"

void kt_main(void)
{
    kt_plan(2);
    s64 t0 = kt_hc_time(), r0 = kt_hc_vcpu_runtime();
    u64 loops = 0;
    while (kt_hc_time() - t0 < 3000000000ll)
        for (int i = 0; i < 10000; i++, loops++)
            __asm__ __volatile__("" ::: "memory");
    s64 dt = kt_hc_time() - t0, ran = kt_hc_vcpu_runtime() - r0;
    kt_ok(ran * 10 >= dt * 3, "ran %ld ms of %ld ms beside the flood", (long)(ran / 1000000),
          (long)(dt / 1000000));
    kt_ok(loops > 0, "kept its pace: %lu loops", (unsigned long)loops);
}
