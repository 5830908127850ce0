/*
 * pmtimer.h - the ACPI PM timer and PM1a event/control registers of a PC
 * domU (arch/x86/hvm/devices/pmtimer.c) at the ports the FADT names.
 */
#ifndef KILN_DEVICES_PMTIMER_H
#define KILN_DEVICES_PMTIMER_H

#include <kiln/types.h>

#define PMTIMER_HZ          3579545ull
#define PMTIMER_PM1A_EVT    0xb000      /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define PMTIMER_PM1A_CNT    0xb004      /* PM1_CNT (2 bytes) */
#define PMTIMER_TMR         0xb008      /* PM_TMR (4 bytes, 32-bit counter) */

#define PMTIMER_STS_TMR     0x0001
#define PMTIMER_EN_TMR      0x0001
#define PMTIMER_CNT_SCI_EN  0x0001
#define PMTIMER_CNT_SLP_TYP_SHIFT 10
#define PMTIMER_CNT_SLP_EN  0x2000

struct pmtimer_hooks {
    void (*sci)(void *ctx, bool level);     /* the SCI line (GSI 9 on a PC domU) */
    void (*power_off)(void *ctx);           /* the guest entered S5 */
    void *ctx;
};

struct pmtimer {
    struct pmtimer_hooks hooks;
    u8 s5_slp_typ;
    u16 sts, en, cnt;
    u64 carries_seen;           /* changes of the counter's bit 31 accounted in TMR_STS */
    bool sci_level;
};

/* s5_slp_typ: the SLP_TYP value the DSDT's \_S5 object gives the OS. */
void pmtimer_init(struct pmtimer *pm, const struct pmtimer_hooks *hooks, u8 s5_slp_typ,
                  u64 now);

/* Ports 0xb000-0xb005 and 0xb008-0xb00b; size 1, 2 or 4. */
u32 pmtimer_io_read(struct pmtimer *pm, u16 port, unsigned int size, u64 now);
void pmtimer_io_write(struct pmtimer *pm, u16 port, unsigned int size, u32 val, u64 now);

/* When TMR_STS will set (if TMR_EN makes it raise the SCI), 0 = never. */
u64 pmtimer_next_deadline(const struct pmtimer *pm);
void pmtimer_advance(struct pmtimer *pm, u64 now);

#endif
