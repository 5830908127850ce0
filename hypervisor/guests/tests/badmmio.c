/*
 * badmmio.c - a guest that writes to the physical address of the host's
 * local APIC, which belongs to the hypervisor.  Guest-physical addresses
 * never reach host memory outside the guest's RAM: the domain is destroyed.
 */
#include "kt.h"

#define HOST_LAPIC 0xfee00000ull

void kt_main(void)
{
    kt_printf("badmmio: writing the hypervisor's LAPIC at GPA %#lx\n", (unsigned long)HOST_LAPIC);
    *(volatile u32 *)(uintptr_t)(HOST_LAPIC + 0xb0) = 0;
    kt_printf("badmmio: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
