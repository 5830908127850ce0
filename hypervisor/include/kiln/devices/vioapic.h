/*
 * vioapic.h - the emulated IOAPIC of a PC domU (arch/x86/hvm/devices/vioapic.c).
 *
 * An 82093AA-style IOAPIC with 24 input pins and the version 0x20 EOI
 * register, as a pure model: the platform glue maps its 4 KiB MMIO page,
 * drives its pins from the devices and hands it the EOIs of level-triggered
 * vectors from the local APICs; it delivers through a hook.
 */
#ifndef KILN_DEVICES_VIOAPIC_H
#define KILN_DEVICES_VIOAPIC_H

#include <kiln/types.h>

#define VIOAPIC_PINS        24
#define VIOAPIC_VERSION     0x20
#define VIOAPIC_MMIO_SIZE   0x1000

/* Registers of the MMIO window (byte offsets). */
#define VIOAPIC_REGSEL      0x00
#define VIOAPIC_WINDOW      0x10
#define VIOAPIC_EOI         0x40

/* Indirect registers (selected through VIOAPIC_REGSEL). */
#define VIOAPIC_REG_ID      0x00
#define VIOAPIC_REG_VER     0x01
#define VIOAPIC_REG_ARB     0x02
#define VIOAPIC_REG_REDIR   0x10    /* pin n: low dword 0x10 + 2n, high 0x11 + 2n */

/* Redirection entry bits. */
#define VIOAPIC_RTE_VECTOR      0xffull
#define VIOAPIC_RTE_DM_SHIFT    8
#define VIOAPIC_RTE_DEST_LOG    (1ull << 11)
#define VIOAPIC_RTE_STATUS      (1ull << 12)
#define VIOAPIC_RTE_POL_LOW     (1ull << 13)
#define VIOAPIC_RTE_REMOTE_IRR  (1ull << 14)
#define VIOAPIC_RTE_LEVEL       (1ull << 15)
#define VIOAPIC_RTE_MASKED      (1ull << 16)
#define VIOAPIC_RTE_DEST_SHIFT  56

/* Delivery modes (redirection entry bits 10:8). */
#define VIOAPIC_DM_FIXED    0
#define VIOAPIC_DM_LOWEST   1
#define VIOAPIC_DM_SMI      2
#define VIOAPIC_DM_NMI      4
#define VIOAPIC_DM_INIT     5
#define VIOAPIC_DM_EXTINT   7

struct vioapic_hooks {
    /*
     * Sends an interrupt message to the local APICs: dest is the 8-bit
     * destination (an APIC id, or a logical mask when dest_logical),
     * delivery_mode one of VIOAPIC_DM_*.  Must not call back into the model.
     */
    void (*deliver)(void *ctx, u8 dest, bool dest_logical, u8 delivery_mode,
                    u8 vector, bool level_triggered);
    void *ctx;
};

struct vioapic {
    struct vioapic_hooks hooks;
    u8 id;                          /* 4 bits, register bits 27:24 */
    u8 regsel;
    u32 lines;                      /* the electrical level of each pin */
    u64 rte[VIOAPIC_PINS];
};

/* Reset state: every pin masked, id as given (bits 3:0 kept). */
void vioapic_init(struct vioapic *io, u8 id, const struct vioapic_hooks *hooks);

/* An access of size bytes (1-8) at offset in the MMIO page. */
u64 vioapic_mmio_read(struct vioapic *io, u64 offset, unsigned int size);
void vioapic_mmio_write(struct vioapic *io, u64 offset, unsigned int size, u64 val);

/* Drives pin gsi to level (before polarity); gsi >= VIOAPIC_PINS is ignored. */
void vioapic_set_line(struct vioapic *io, unsigned int gsi, bool level);

/* A local APIC's EOI of a level-triggered vector (the EOI broadcast). */
void vioapic_eoi(struct vioapic *io, u8 vector);

#endif
