/*
 * port92.c - the two ways a PC guest resets itself without the keyboard
 * controller: system control port A (0x92) and the PIIX reset control
 * register (0xcf9, the FADT's reset register, value 0x06).
 *
 * Port 0x92 reads back what was written.  Bit 1 is the A20 gate, which
 * has no effect here: a domU's memory never wraps at 1 MiB.  A rising bit
 * 0 (fast reset) resets the machine through the hook.  At 0xcf9, bits 1
 * (system reset) and 3 (full reset) read back and a write with bit 2
 * (reset CPU) set resets through the same hook; only byte accesses reach
 * it, as wider ones at 0xcf8-0xcfb are the PCI configuration address
 * register, which this model does not own (they read all ones and are
 * ignored).  What a reset means (rebooting or ending the domain) is the
 * glue's decision.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/port92.h>

void port92_init(struct port92 *p, const struct port92_hooks *hooks)
{
    *p = (struct port92){ .hooks = *hooks, .port_a = PORT92_A20 };
}

static void reset(struct port92 *p)
{
    if (p->hooks.reset)
        p->hooks.reset(p->hooks.ctx);
}

u32 port92_io_read(struct port92 *p, u16 port, unsigned int size)
{
    if (port == PORT92_RESET_PORT)
        return size == 1 ? p->rcr : ~0u;
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 ones = (u32)dev_size_mask(size);
    if (port != PORT92_PORT)
        return ones;
    return (ones & ~0xffu) | p->port_a;    /* ports 0x93-0x95 read 0xff */
}

void port92_io_write(struct port92 *p, u16 port, unsigned int size, u32 val)
{
    if (port == PORT92_RESET_PORT) {
        if (size != 1)
            return;
        p->rcr = (u8)val & (PORT92_RCR_SYS_RST | PORT92_RCR_FULL_RST);
        if (val & PORT92_RCR_RST_CPU)
            reset(p);
        return;
    }
    if (port != PORT92_PORT || !dev_port_size_ok(size))
        return;                         /* ports 0x93-0x95 hold nothing */
    u8 old = p->port_a;
    p->port_a = (u8)val;
    if ((p->port_a & PORT92_FAST_RESET) && !(old & PORT92_FAST_RESET))
        reset(p);
}
