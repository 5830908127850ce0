/*
 * vioapic.c - the IOAPIC of a PC domU: 24 pins, each routed by its
 * redirection entry to the local APICs as an interrupt message.
 *
 * Facts from the 82093AA data sheet, with the version 0x20 EOI register
 * that later IOAPICs (and QEMU's default) have, so a guest may EOI a
 * level-triggered pin directly.  The guest sees a 4 KiB MMIO page; only
 * IOREGSEL (+0x00), IOWIN (+0x10) and EOI (+0x40) exist, everything else
 * reads 0 and ignores writes, at any width or alignment (the bytes of an
 * access that fall on a register act on that register alone).
 *
 * Edge pins deliver on a rising edge of the asserted level (the line level
 * after the polarity bit) while unmasked; an edge while masked is lost, as
 * on hardware.  Level pins deliver while asserted, unmasked and without
 * remote IRR; delivery sets remote IRR, the EOI of that vector clears it
 * and delivers again if the pin is still asserted.  Remote IRR exists only
 * for fixed and lowest-priority delivery: an SMI, NMI, INIT or ExtINT pin
 * never gets an EOI, so it is treated as edge-triggered whatever its
 * trigger bit says.  Entries with the reserved delivery modes 3 and 6 are
 * never delivered.  Delivery status is always 0: delivery is immediate.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/vioapic.h>

#define RTE_WRITABLE_LOW  0x1afffull    /* vector..dest mode, polarity, trigger, mask */
#define RTE_WRITABLE_HIGH 0xff000000ull /* destination */

void vioapic_init(struct vioapic *io, u8 id, const struct vioapic_hooks *hooks)
{
    *io = (struct vioapic){ .hooks = *hooks, .id = id & 0xf };
    for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++)
        io->rte[pin] = VIOAPIC_RTE_MASKED;
}

static u8 rte_mode(u64 rte)
{
    return (rte >> VIOAPIC_RTE_DM_SHIFT) & 7;
}

/* Whether the pin uses remote IRR: level-triggered and ended by an EOI. */
static bool rte_level(u64 rte)
{
    u8 mode = rte_mode(rte);
    return (rte & VIOAPIC_RTE_LEVEL) &&
           (mode == VIOAPIC_DM_FIXED || mode == VIOAPIC_DM_LOWEST);
}

static bool pin_asserted(const struct vioapic *io, unsigned int pin)
{
    bool line = io->lines & (1u << pin);
    return line != !!(io->rte[pin] & VIOAPIC_RTE_POL_LOW);
}

static void deliver(struct vioapic *io, unsigned int pin)
{
    u64 rte = io->rte[pin];
    u8 mode = rte_mode(rte);
    if (mode == 3 || mode == 6)
        return;
    bool level = rte_level(rte);
    if (level)
        io->rte[pin] |= VIOAPIC_RTE_REMOTE_IRR;
    if (io->hooks.deliver)
        io->hooks.deliver(io->hooks.ctx, (u8)(rte >> VIOAPIC_RTE_DEST_SHIFT),
                          rte & VIOAPIC_RTE_DEST_LOG, mode,
                          (u8)(rte & VIOAPIC_RTE_VECTOR), level);
}

/* Delivers a level pin that is asserted, unmasked and not awaiting an EOI. */
static void service_level(struct vioapic *io, unsigned int pin)
{
    u64 rte = io->rte[pin];
    if (rte_level(rte) && !(rte & (VIOAPIC_RTE_MASKED | VIOAPIC_RTE_REMOTE_IRR)) &&
        pin_asserted(io, pin))
        deliver(io, pin);
}

void vioapic_set_line(struct vioapic *io, unsigned int gsi, bool level)
{
    if (gsi >= VIOAPIC_PINS)
        return;
    bool was = pin_asserted(io, gsi);
    if (level)
        io->lines |= 1u << gsi;
    else
        io->lines &= ~(1u << gsi);

    u64 rte = io->rte[gsi];
    if (rte_level(rte))
        service_level(io, gsi);
    else if (!was && pin_asserted(io, gsi) && !(rte & VIOAPIC_RTE_MASKED))
        deliver(io, gsi);
}

void vioapic_eoi(struct vioapic *io, u8 vector)
{
    for (unsigned int pin = 0; pin < VIOAPIC_PINS; pin++) {
        u64 rte = io->rte[pin];
        if (!(rte & VIOAPIC_RTE_REMOTE_IRR) || (rte & VIOAPIC_RTE_VECTOR) != vector)
            continue;
        io->rte[pin] = rte & ~VIOAPIC_RTE_REMOTE_IRR;
        service_level(io, pin);
    }
}

static u32 read_reg(const struct vioapic *io, u8 reg)
{
    switch (reg) {
    case VIOAPIC_REG_ID:
    case VIOAPIC_REG_ARB:       /* the arbitration id is loaded from the id */
        return (u32)io->id << 24;
    case VIOAPIC_REG_VER:
        return ((VIOAPIC_PINS - 1) << 16) | VIOAPIC_VERSION;
    default:
        break;
    }
    if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
        return 0;
    u64 rte = io->rte[(reg - VIOAPIC_REG_REDIR) / 2];
    return (reg & 1) ? (u32)(rte >> 32) : (u32)rte;
}

static void write_reg(struct vioapic *io, u8 reg, u32 val)
{
    if (reg == VIOAPIC_REG_ID) {
        io->id = (val >> 24) & 0xf;
        return;
    }
    if (reg < VIOAPIC_REG_REDIR || reg >= VIOAPIC_REG_REDIR + 2 * VIOAPIC_PINS)
        return;     /* version, arbitration and reserved registers are read-only */

    unsigned int pin = (reg - VIOAPIC_REG_REDIR) / 2;
    u64 rte = io->rte[pin];
    if (reg & 1) {
        rte = (rte & ~(RTE_WRITABLE_HIGH << 32)) | (((u64)val & RTE_WRITABLE_HIGH) << 32);
    } else {
        rte = (rte & ~RTE_WRITABLE_LOW) | (val & RTE_WRITABLE_LOW);
        if (!rte_level(rte))
            rte &= ~VIOAPIC_RTE_REMOTE_IRR;
    }
    io->rte[pin] = rte;
    service_level(io, pin);     /* e.g. unmasking an asserted level pin */
}

/*
 * Merges the bytes of an access that fall on the 32-bit register at base
 * into *reg; returns whether any did.
 */
static bool merge_lanes(u64 offset, unsigned int size, u64 val, u64 base, u32 *reg)
{
    bool hit = false;
    for (unsigned int i = 0; i < size; i++) {
        u64 at = offset + i;
        if (at < base || at >= base + 4)
            continue;
        unsigned int shift = (unsigned int)(at - base) * 8;
        *reg = (*reg & ~(0xffu << shift)) | (u32)((val >> (i * 8)) & 0xff) << shift;
        hit = true;
    }
    return hit;
}

u64 vioapic_mmio_read(struct vioapic *io, u64 offset, unsigned int size)
{
    if (!dev_size_mask(size) || offset >= VIOAPIC_MMIO_SIZE)
        return 0;
    u32 regsel = io->regsel;
    u32 window = read_reg(io, io->regsel);
    u64 val = 0;
    for (unsigned int i = 0; i < size; i++) {
        u64 at = offset + i;
        u32 byte = 0;
        if (at < VIOAPIC_REGSEL + 4)
            byte = regsel >> ((at - VIOAPIC_REGSEL) * 8);
        else if (at >= VIOAPIC_WINDOW && at < VIOAPIC_WINDOW + 4)
            byte = window >> ((at - VIOAPIC_WINDOW) * 8);
        val |= (u64)(byte & 0xff) << (i * 8);
    }
    return val;
}

void vioapic_mmio_write(struct vioapic *io, u64 offset, unsigned int size, u64 val)
{
    if (!dev_size_mask(size) || offset >= VIOAPIC_MMIO_SIZE)
        return;
    u32 regsel = io->regsel;
    if (merge_lanes(offset, size, val, VIOAPIC_REGSEL, &regsel))
        io->regsel = (u8)regsel;
    u32 window = read_reg(io, io->regsel);
    if (merge_lanes(offset, size, val, VIOAPIC_WINDOW, &window))
        write_reg(io, io->regsel, window);
    if (offset <= VIOAPIC_EOI && offset + size > VIOAPIC_EOI)     /* the vector byte */
        vioapic_eoi(io, (u8)(val >> ((VIOAPIC_EOI - offset) * 8)));
}
