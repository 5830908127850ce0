/*
 * peek.c - a domU that looks for other domains' memory and then reads at
 * a guest-physical address where, on the host, dom0's RAM lies (16 MiB:
 * dom0's kernel under QEMU).  Its own RAM must hold nothing but zeros
 * above its image (no page of dom0's or a dead domU's data reaches it), and
 * the read must end the domain: guest-physical addresses outside a domU's
 * RAM never reach host memory.  Run by tests/qemu/scenarios/dom0-*.sh
 * through `kl create` in dom0.
 */
#include "kt.h"

#define SCAN_FROM  0x200000ull          /* the image lives in the 2nd MiB */
#define DOM0_RAM   0x1000000ull

void kt_main(void)
{
    u64 ram = kt_boot_arg * 1024, dirty = 0;
    /* The last page holds the builder's command line. */
    for (u64 a = SCAN_FROM; a + 8 <= ram - 4096; a += 8)
        if (*(volatile u64 *)(uintptr_t)a)
            dirty++;
    kt_printf("peek: %lu non-zero words in my RAM from %#lx to %#lx\n", (unsigned long)dirty,
              (unsigned long)SCAN_FROM, (unsigned long)(ram - 4096));
    kt_printf("peek: reading GPA %#lx (dom0's memory on the host)\n", (unsigned long)DOM0_RAM);
    u64 v = *(volatile u64 *)(uintptr_t)DOM0_RAM;
    kt_printf("peek: still alive, read %#lx, which is wrong\n", (unsigned long)v);
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
