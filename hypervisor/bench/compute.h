/*
 * compute.h - the compute loop `make bench` runs twice: natively in the
 * hypervisor at boot and inside a guest.  It is inline assembly so both
 * builds execute exactly the same instructions whatever their compiler
 * flags, and register-only so memory virtualisation does not enter into
 * it: the ratio measures what guest mode itself costs.
 */
#ifndef KILN_BENCH_COMPUTE_H
#define KILN_BENCH_COMPUTE_H

#define BENCH_COMPUTE_ITERS 30000000ull

static inline __UINT64_TYPE__ bench_compute(__UINT64_TYPE__ iters)
{
    __UINT64_TYPE__ x = 1;
    __asm__ __volatile__("1:\n\t"
                         "imulq %[m], %[x]\n\t"
                         "addq %[a], %[x]\n\t"
                         "decq %[i]\n\t"
                         "jnz 1b"
                         : [x] "+r"(x), [i] "+r"(iters)
                         : [m] "r"(6364136223846793005ull), [a] "r"(1442695040888963407ull)
                         : "cc");
    return x;
}

#endif
