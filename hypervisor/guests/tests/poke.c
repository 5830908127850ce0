/*
 * poke.c - a domU that writes at a guest-physical address where, on the
 * host, the hypervisor keeps its own and other domUs' memory (512 MiB, the
 * upper half of a 1 GiB QEMU machine).  The write must end the domain
 * with a log line naming the address; nothing else may change.  Run by
 * tests/qemu/scenarios/dom0-*.sh through `kl create` in dom0.
 */
#include "kt.h"

#define OTHERS_RAM 0x20000000ull

void kt_main(void)
{
    kt_printf("poke: writing GPA %#lx (other domains' memory on the host)\n",
              (unsigned long)OTHERS_RAM);
    *(volatile u64 *)(uintptr_t)OTHERS_RAM = 0x6b696c6e6b696c6eull;
    kt_printf("poke: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
