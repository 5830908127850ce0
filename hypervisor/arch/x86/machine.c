/*
 * machine.c - leaving the machine.  Under QEMU the isa-debug-exit device
 * at port 0x501 ends the process with status (code << 1) | 1, which is how
 * tests learn whether the hypervisor finished cleanly.  On real hardware
 * the write goes nowhere and the CPU halts.
 */
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/x86.h>

#define DEBUG_EXIT_PORT 0x501

void machine_exit(int code)
{
    pr_info("machine exit, code %d", code);
    outb(DEBUG_EXIT_PORT, (u8)code);
    for (;;) {
        __asm__ __volatile__("cli");
        halt();
    }
}
