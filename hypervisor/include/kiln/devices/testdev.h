/*
 * testdev.h - what kvm-unit-tests expect of QEMU's pc-testdev, for
 * domains that ask for it (arch/x86/hvm/devices/testdev.c).
 */
#ifndef KILN_DEVICES_TESTDEV_H
#define KILN_DEVICES_TESTDEV_H

#include <kiln/types.h>

#define TESTDEV_PORT_DATA       0xe0    /* 4 bytes: a scratch register */
#define TESTDEV_PORT_FLUSH      0xe4    /* 4 bytes: "flush this page" (a no-op here) */
#define TESTDEV_PORT_DATA_BYTE  0xe8    /* 4 bytes: the same register, byte-wise */
#define TESTDEV_PORT_IRQ        0x2000  /* 0x2000 + n: byte write sets IRQ line n */
#define TESTDEV_IRQ_LINES       24
#define TESTDEV_IOMEM_BASE      0xff000000ull
#define TESTDEV_IOMEM_SIZE      0x10000

struct testdev_hooks {
    /* Drive interrupt line (GSI) 0-23 to level. */
    void (*set_irq)(void *ctx, unsigned int line, bool level);
    void *ctx;
};

struct testdev {
    struct testdev_hooks hooks;
    u32 data;
    u8 *iomem;                  /* TESTDEV_IOMEM_SIZE bytes, the caller's */
};

/* iomem: TESTDEV_IOMEM_SIZE bytes the caller allocated (zeroed here). */
void testdev_init(struct testdev *t, const struct testdev_hooks *hooks, u8 *iomem);

/* Ports 0xe0-0xeb and 0x2000-0x2017; size 1, 2 or 4. */
u32 testdev_io_read(struct testdev *t, u16 port, unsigned int size);
void testdev_io_write(struct testdev *t, u16 port, unsigned int size, u32 val);

/* The RAM-like MMIO window at TESTDEV_IOMEM_BASE: offset in it, size 1-8. */
u64 testdev_mmio_read(struct testdev *t, u64 offset, unsigned int size);
void testdev_mmio_write(struct testdev *t, u64 offset, unsigned int size, u64 val);

#endif
