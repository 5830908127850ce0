// SPDX-License-Identifier: GPL-2.0
/*
 * kiln_platform.c - the load-time check that we run as Kiln's control
 * domain.  Loading off Kiln must fail loudly rather than leave a device whose
 * every call would execute VMMCALL on bare metal (#UD) or under another
 * hypervisor.  A file of its own so the test build can replace it.
 */
#define pr_fmt(fmt) "kiln: " fmt

#include <linux/errno.h>
#include <linux/printk.h>
#include <asm/processor.h>
#include "kiln_priv.h"

/* 0 when CPUID says we are Kiln's privileged domain with a known ABI. */
int kiln_check_platform(void)
{
    unsigned int eax, ebx, ecx, edx;

    cpuid(KILN_CPUID_SIGNATURE, &eax, &ebx, &ecx, &edx);
    if (ebx != KILN_CPUID_SIG_EBX || ecx != KILN_CPUID_SIG_ECX ||
        edx != KILN_CPUID_SIG_EDX || eax < KILN_CPUID_VERSION) {
        pr_err("not running on Kiln (CPUID 0x%x: %08x %08x %08x %08x), refusing to load\n",
               KILN_CPUID_SIGNATURE, eax, ebx, ecx, edx);
        return -ENODEV;
    }
    cpuid(KILN_CPUID_VERSION, &eax, &ebx, &ecx, &edx);
    if ((eax >> 16) != KILN_ABI_MAJOR) {
        pr_err("Kiln ABI %u.%u, this module speaks %u.x, refusing to load\n",
               eax >> 16, eax & 0xffff, KILN_ABI_MAJOR);
        return -ENODEV;
    }
    if (!(ecx & KILN_CPUID_F_PRIVILEGED)) {
        pr_err("domain %u is not Kiln's control domain, refusing to load\n", ebx);
        return -ENODEV;
    }
    pr_info("Kiln ABI %u.%u, control domain %u\n", eax >> 16, eax & 0xffff, ebx);
    return 0;
}
