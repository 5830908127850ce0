/*
 * triple.c - a guest that triple-faults on purpose: it loads an empty IDT
 * and raises a breakpoint, so #BP cannot be delivered, nor the #GP that
 * follows, nor the double fault.  The hypervisor must destroy it alone.
 */
#include "kt.h"

void kt_main(void)
{
    kt_printf("triple: loading an empty IDT and raising #BP\n");
    struct { u16 limit; u64 base; } __attribute__((packed)) idt = { 0, 0 };
    __asm__ __volatile__("lidt %0; int3" :: "m"(idt));
    kt_printf("triple: still alive, which is wrong\n");
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}
