/*
 * vpic.h - the two cascaded 8259A PICs of a PC domU
 * (arch/x86/hvm/devices/vpic.c): master at ports 0x20/0x21, slave at
 * 0xa0/0xa1 on the master's IR2, edge/level control (ELCR) at 0x4d0/0x4d1.
 */
#ifndef KILN_DEVICES_VPIC_H
#define KILN_DEVICES_VPIC_H

#include <kiln/types.h>

#define VPIC_MASTER_PORT    0x20
#define VPIC_SLAVE_PORT     0xa0
#define VPIC_ELCR_PORT      0x4d0
#define VPIC_CASCADE_IRQ    2

struct vpic_hooks {
    /* The master's INT output changed: an interrupt is (no longer) pending. */
    void (*intr)(void *ctx, bool level);
    void *ctx;
};

struct vpic_chip {
    u8 irr;             /* edge-triggered requests latched */
    u8 lines;           /* input levels */
    u8 isr, imr, elcr, elcr_mask;
    u8 base;            /* vector of IR0 (ICW2, bits 7:3) */
    u8 lowest;          /* the IR that has the lowest priority (rotation) */
    u8 init_step;       /* 0: operating; 1-3: waiting for ICW2-ICW4 */
    bool icw4, single, auto_eoi, rotate_on_aeoi, special_mask, read_isr, poll;
    bool fully_nested;
};

struct vpic {
    struct vpic_hooks hooks;
    struct vpic_chip chip[2];   /* 0 master, 1 slave */
    bool intr;                  /* the master's INT output */
};

/*
 * Both chips as a PC BIOS leaves them (a domU boots with no BIOS): vectors
 * 0x08 and 0x70, slave on IR2, every IR but the cascade masked, all edge.
 */
void vpic_init(struct vpic *pic, const struct vpic_hooks *hooks);

/* Port access (0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1); size 1, 2 or 4. */
u32 vpic_io_read(struct vpic *pic, u16 port, unsigned int size);
void vpic_io_write(struct vpic *pic, u16 port, unsigned int size, u32 val);

/* Drives ISA IRQ irq (0-15; 2 is the cascade and ignored) to level. */
void vpic_set_line(struct vpic *pic, unsigned int irq, bool level);

/* The INT output: whether vpic_ack() would return a real interrupt. */
bool vpic_intr(const struct vpic *pic);

/*
 * The INTA cycle: returns the vector to deliver and moves it from IRR to
 * ISR (unless auto-EOI).  With nothing pending it returns the spurious
 * vector of IR7 (master) or IR15 (slave) and sets no ISR bit for it.
 */
u8 vpic_ack(struct vpic *pic);

#endif
