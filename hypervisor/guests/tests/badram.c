/*
 * badram.c - a guest that reads guest-physical memory beyond its RAM.
 * Its page tables map the address; the nested page table cannot, and the
 * hypervisor must destroy the domain and name the address in its log.
 */
#include "kt.h"

void kt_main(void)
{
    u64 gpa = kt_boot_arg * 1024 + 0x10000;
    kt_printf("badram: reading GPA %#lx, past the end of my RAM\n", (unsigned long)gpa);
    (void)*(volatile u64 *)(uintptr_t)gpa;
    kt_printf("badram: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
