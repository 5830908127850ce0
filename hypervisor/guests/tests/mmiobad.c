/*
 * mmiobad.c - a LOCK CMPXCHG on the MMIO scratch registers, a form the
 * instruction emulator does not support.  With `mmiotest` the domain must
 * be destroyed with the instruction's bytes in the log; without it the
 * address is nobody's and the domain is destroyed as for any access
 * outside its RAM (the test registers are no way in for other guests).
 */
#include "kt.h"

void kt_main(void)
{
    volatile u32 *reg = (volatile u32 *)(uintptr_t)KT_MMIO_SCRATCH;
    u32 old = 0;

    kt_printf("mmiobad: lock cmpxchg on the MMIO scratch registers\n");
    __asm__ __volatile__("lock cmpxchgl %2, %1" : "+a"(old), "+m"(*reg) : "r"(1u) : "memory");
    kt_printf("mmiobad: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
