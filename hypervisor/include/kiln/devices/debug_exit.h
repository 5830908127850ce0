/*
 * debug_exit.h - QEMU's isa-debug-exit as kvm-unit-tests use it: ports
 * 0xf4-0xf7, a write ends the domain (arch/x86/hvm/devices/debug_exit.c).
 */
#ifndef KILN_DEVICES_DEBUG_EXIT_H
#define KILN_DEVICES_DEBUG_EXIT_H

#include <kiln/types.h>

#define DEBUG_EXIT_PORT     0xf4
#define DEBUG_EXIT_SIZE     4

struct debug_exit_hooks {
    /* The guest asked to end with this code (the value written, masked to its width). */
    void (*exit)(void *ctx, u32 code);
    void *ctx;
};

struct debug_exit {
    struct debug_exit_hooks hooks;
};

void debug_exit_init(struct debug_exit *d, const struct debug_exit_hooks *hooks);

/* Ports 0xf4-0xf7, size 1, 2 or 4. */
u32 debug_exit_io_read(struct debug_exit *d, u16 port, unsigned int size);
void debug_exit_io_write(struct debug_exit *d, u16 port, unsigned int size, u32 val);

#endif
