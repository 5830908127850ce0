/*
 * debug_exit.c - the isa-debug-exit port test kernels end themselves with
 * (QEMU's device with iobase=0xf4, iosize=4, as kvm-unit-tests run it).
 *
 * A write of value V of any width to any of its four ports reports V,
 * masked to the width, through the exit hook: the glue ends the domain
 * with that code (under QEMU the same write exits with (V << 1) | 1).
 * Reads return all ones (no register behind them).
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/debug_exit.h>

void debug_exit_init(struct debug_exit *d, const struct debug_exit_hooks *hooks)
{
    *d = (struct debug_exit){ .hooks = *hooks };
}

static bool valid(u16 port, unsigned int size)
{
    return port >= DEBUG_EXIT_PORT && port < DEBUG_EXIT_PORT + DEBUG_EXIT_SIZE &&
           dev_port_size_ok(size);
}

u32 debug_exit_io_read(struct debug_exit *d, u16 port, unsigned int size)
{
    (void)d;
    if (!valid(port, size))
        return ~0u;
    return (u32)dev_size_mask(size);
}

void debug_exit_io_write(struct debug_exit *d, u16 port, unsigned int size, u32 val)
{
    if (!valid(port, size) || !d->hooks.exit)
        return;
    d->hooks.exit(d->hooks.ctx, (u32)(val & dev_size_mask(size)));
}
