/*
 * ud2.c - a guest that executes an invalid instruction with no IDT: the
 * #UD cannot be delivered, which ends in a triple fault and the domain's
 * destruction (never the hypervisor's).
 */
#include "kt.h"

void kt_main(void)
{
    kt_printf("ud2: executing ud2 without an IDT\n");
    __asm__ __volatile__("ud2");
    kt_printf("ud2: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
