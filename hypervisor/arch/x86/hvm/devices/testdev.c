/*
 * testdev.c - the parts of QEMU's pc-testdev that kvm-unit-tests use, for
 * domains whose configuration says "testdev".
 *
 * Facts from QEMU's hw/misc/pc-testdev.c and the tests that use it:
 * - 0xe0-0xe3 and 0xe8-0xeb are one 32-bit scratch register that reads
 *   back what was written, each byte at its own port (emulator, realmode
 *   and amd_sev write then read it at every width; emulator also streams
 *   it with REP INSB);
 * - a byte write of V to 0x2000 + n drives interrupt line n (0-23, the
 *   GSIs) to V != 0 (ioapic; the glue routes it as QEMU's ISA IRQ n);
 * - a 32-bit write to 0xe4 asks the host to make a page briefly
 *   inaccessible (eventinj uses it to force exits); the guest cannot
 *   observe anything, so it does nothing here;
 * - 64 KiB of RAM-like MMIO at 0xff000000 (emulator, lam), read and written
 *   at any width.
 * Not done: nothing else of pc-testdev exists.  Reads of the IRQ and flush
 * ports, bytes past the end of a register or of the MMIO window, and
 * accesses of unsupported widths read all ones and write nothing.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/testdev.h>

void testdev_init(struct testdev *t, const struct testdev_hooks *hooks, u8 *iomem)
{
    *t = (struct testdev){ .hooks = *hooks, .iomem = iomem };
    for (unsigned int i = 0; i < TESTDEV_IOMEM_SIZE; i++)
        iomem[i] = 0;
}

/* The byte of the scratch register behind port p, or -1. */
static int data_byte(u16 p)
{
    if (p >= TESTDEV_PORT_DATA && p < TESTDEV_PORT_DATA + 4)
        return p - TESTDEV_PORT_DATA;
    if (p >= TESTDEV_PORT_DATA_BYTE && p < TESTDEV_PORT_DATA_BYTE + 4)
        return p - TESTDEV_PORT_DATA_BYTE;
    return -1;
}

/* An access stays within the register its first port belongs to. */
static bool same_register(u16 port, u16 p)
{
    return (port & ~3u) == (p & ~3u);
}

u32 testdev_io_read(struct testdev *t, u16 port, unsigned int size)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        int b = same_register(port, p) ? data_byte(p) : -1;
        val |= (b < 0 ? 0xffu : (t->data >> (8 * b)) & 0xff) << (8 * i);
    }
    return val;
}

void testdev_io_write(struct testdev *t, u16 port, unsigned int size, u32 val)
{
    if (!dev_port_size_ok(size))
        return;
    if (port >= TESTDEV_PORT_IRQ && port < TESTDEV_PORT_IRQ + TESTDEV_IRQ_LINES) {
        if (size == 1 && t->hooks.set_irq)
            t->hooks.set_irq(t->hooks.ctx, port - TESTDEV_PORT_IRQ, (u8)val != 0);
        return;
    }
    for (unsigned int i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        int b = same_register(port, p) ? data_byte(p) : -1;
        if (b >= 0)
            t->data = (t->data & ~(0xffu << (8 * b))) | ((val >> (8 * i)) & 0xff) << (8 * b);
    }
}

u64 testdev_mmio_read(struct testdev *t, u64 offset, unsigned int size)
{
    if (!dev_size_mask(size))
        return ~0ull;
    u64 val = 0;
    for (unsigned int i = 0; i < size; i++) {
        u64 at = offset + i;
        u64 byte = at >= offset && at < TESTDEV_IOMEM_SIZE ? t->iomem[at] : 0xff;
        val |= byte << (8 * i);
    }
    return val;
}

void testdev_mmio_write(struct testdev *t, u64 offset, unsigned int size, u64 val)
{
    if (!dev_size_mask(size))
        return;
    for (unsigned int i = 0; i < size; i++) {
        u64 at = offset + i;
        if (at >= offset && at < TESTDEV_IOMEM_SIZE)
            t->iomem[at] = (u8)(val >> (8 * i));
    }
}
