/*
 * steady.c - the well-behaved neighbour: runs for about two seconds,
 * alternating spinning and sleeping, and checks time and its own runtime
 * keep moving, while misbehaving domains are destroyed around it.
 */
#include "kt.h"

#define ROUNDS 10

void kt_main(void)
{
    kt_plan(ROUNDS + 1);
    s64 start = kt_hc_time();
    for (int i = 0; i < ROUNDS; i++) {
        s64 t0 = kt_hc_time(), r0 = kt_hc_vcpu_runtime();
        while (kt_hc_time() - t0 < 100000000)
            ;
        kt_sleep_ns(100000000);
        s64 dt = kt_hc_time() - t0, ran = kt_hc_vcpu_runtime() - r0;
        kt_ok(dt >= 200000000 && ran > 0, "round %d: 100 ms spin + 100 ms sleep took %ld ms, ran %ld ms",
              i + 1, (long)(dt / 1000000), (long)(ran / 1000000));
    }
    kt_ok(kt_hc_time() - start >= ROUNDS * 200000000ll, "still alive after %ld ms",
          (long)((kt_hc_time() - start) / 1000000));
}
