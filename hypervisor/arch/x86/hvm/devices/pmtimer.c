/*
 * pmtimer.c - the ACPI power-management timer and the PM1a event and
 * control registers of a PC domU: the clock Linux and kvm-unit-tests read
 * through the FADT, and the way a guest powers itself off.
 *
 * Facts from the ACPI specification (4.8.3): PM_TMR counts at 3.579545
 * MHz, here over 32 bits (the FADT sets TMR_VAL_EXT), and is read-only;
 * TMR_STS sets each time its bit 31 changes and, with TMR_EN, raises the
 * SCI.  PM1_STS bits are write-1-to-clear; PM1_EN is read/write.  There
 * is no SMI command port, so the system is always in ACPI mode and
 * SCI_EN reads 1.  Writing SLP_EN with the SLP_TYP of \_S5 powers off
 * through the hook; other sleep types are ignored (no S1-S4).  The
 * counter runs from now_ns() 0, so every domain's starts somewhere.
 * Accesses of any width land on the bytes they cover; bytes outside the
 * registers read 0xff.  Nothing but the timer sets a status bit: no power
 * button, sleep button, RTC alarm wake, bus master or global lock events.
 */
#include <kiln/devices/dev_util.h>
#include <kiln/devices/pmtimer.h>

#define STS_BITS    0xc731      /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE, WAK */
#define EN_BITS     0x4721      /* TMR, GBL, PWRBTN, SLPBTN, RTC, PCIEXP_WAKE_DIS */
#define CNT_RW_BITS 0x1c02      /* BM_RLD, SLP_TYP */
#define SCI_BITS    0x0721      /* the status bits an enable turns into an SCI */

static u64 ticks(u64 now)
{
    return dev_ns_to_ticks(now, PMTIMER_HZ);
}

static void update_sci(struct pmtimer *pm)
{
    bool level = pm->sts & pm->en & SCI_BITS;
    if (level == pm->sci_level)
        return;
    pm->sci_level = level;
    if (pm->hooks.sci)
        pm->hooks.sci(pm->hooks.ctx, level);
}

/* Sets TMR_STS if bit 31 changed since it was last accounted. */
static void sync(struct pmtimer *pm, u64 now)
{
    u64 carries = ticks(now) >> 31;
    if (carries > pm->carries_seen) {
        pm->carries_seen = carries;
        pm->sts |= PMTIMER_STS_TMR;
    }
    update_sci(pm);
}

void pmtimer_init(struct pmtimer *pm, const struct pmtimer_hooks *hooks, u8 s5_slp_typ,
                  u64 now)
{
    *pm = (struct pmtimer){ .hooks = *hooks, .s5_slp_typ = s5_slp_typ & 7 };
    pm->carries_seen = ticks(now) >> 31;
}

static u8 read_byte(struct pmtimer *pm, u16 port, u64 now)
{
    unsigned int shift = (port & 1) * 8;
    switch (port) {
    case PMTIMER_PM1A_EVT:
    case PMTIMER_PM1A_EVT + 1:
        return (u8)(pm->sts >> shift);
    case PMTIMER_PM1A_EVT + 2:
    case PMTIMER_PM1A_EVT + 3:
        return (u8)(pm->en >> shift);
    case PMTIMER_PM1A_CNT:
    case PMTIMER_PM1A_CNT + 1:
        return (u8)((pm->cnt | PMTIMER_CNT_SCI_EN) >> shift);
    case PMTIMER_TMR:
    case PMTIMER_TMR + 1:
    case PMTIMER_TMR + 2:
    case PMTIMER_TMR + 3:
        return (u8)(ticks(now) >> ((port - PMTIMER_TMR) * 8));
    default:
        return 0xff;
    }
}

u32 pmtimer_io_read(struct pmtimer *pm, u16 port, unsigned int size, u64 now)
{
    if (!dev_port_size_ok(size))
        return ~0u;
    sync(pm, now);
    u32 val = 0;
    for (unsigned int i = 0; i < size; i++)
        val |= (u32)read_byte(pm, (u16)(port + i), now) << (8 * i);
    return val;
}

void pmtimer_io_write(struct pmtimer *pm, u16 port, unsigned int size, u32 val, u64 now)
{
    if (!dev_port_size_ok(size))
        return;
    sync(pm, now);
    /* The bytes written to each 16-bit register: PM1_STS, PM1_EN, PM1_CNT. */
    u16 value[3] = { 0 }, mask[3] = { 0 };
    for (unsigned int i = 0; i < size; i++) {
        u16 p = (u16)(port + i);
        if (p < PMTIMER_PM1A_EVT || p >= PMTIMER_PM1A_CNT + 2)
            continue;
        unsigned int reg = (p - PMTIMER_PM1A_EVT) / 2, shift = (p & 1) * 8;
        value[reg] |= (u16)(((val >> (8 * i)) & 0xff) << shift);
        mask[reg] |= (u16)(0xff << shift);
    }
    pm->sts &= ~(value[0] & mask[0] & STS_BITS);
    pm->en = (pm->en & ~mask[1]) | (value[1] & mask[1] & EN_BITS);
    pm->cnt = (pm->cnt & ~mask[2]) | (value[2] & mask[2] & CNT_RW_BITS);
    update_sci(pm);
    if ((value[2] & mask[2] & PMTIMER_CNT_SLP_EN) &&
        ((pm->cnt >> PMTIMER_CNT_SLP_TYP_SHIFT) & 7) == pm->s5_slp_typ && pm->hooks.power_off)
        pm->hooks.power_off(pm->hooks.ctx);
}

u64 pmtimer_next_deadline(const struct pmtimer *pm)
{
    if (!(pm->en & PMTIMER_EN_TMR) || (pm->sts & PMTIMER_STS_TMR))
        return 0;
    return dev_ticks_to_ns((pm->carries_seen + 1) << 31, PMTIMER_HZ);
}

void pmtimer_advance(struct pmtimer *pm, u64 now)
{
    sync(pm, now);
}
