/*
 * hello.c - the smallest useful guest: proves a domain boots, prints TAP
 * and powers off cleanly.  Used as the "well-behaved" companion in scenarios.
 */
#include "kt.h"

void kt_main(void)
{
    kt_plan(2);
    s64 v = kt_hc_version();
    kt_ok(v == ((KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR), "version hypercall returns %d.%d",
          (int)(v >> 16), (int)(v & 0xffff));
    kt_ok(kt_boot_arg > 0, "boot argument gives RAM size (%lu KiB)", (unsigned long)kt_boot_arg);
}
