// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_vmmcall.c - the one instruction that enters the hypervisor, in a file
 * of its own so that the test build of the module (tests/kmod/) can put a
 * pretend hypervisor in its place without touching any other code.
 */
#include "kiln_priv.h"

long kiln_vmmcall(unsigned long nr, unsigned long a1, unsigned long a2,
                  unsigned long a3, unsigned long a4, unsigned long a5)
{
    register unsigned long r10 asm("r10") = a4;
    register unsigned long r8 asm("r8") = a5;
    long ret;

    asm volatile("vmmcall"
                 : "=a"(ret)
                 : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8)
                 : "memory");
    return ret;
}
