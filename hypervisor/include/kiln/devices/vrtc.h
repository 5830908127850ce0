/*
 * vrtc.h - the MC146818 real-time clock and CMOS memory of a PC domU
 * (arch/x86/hvm/devices/vrtc.c): index port 0x70 (bit 7 masks NMIs),
 * data port 0x71, IRQ8 through the hook.
 */
#ifndef KILN_DEVICES_VRTC_H
#define KILN_DEVICES_VRTC_H

#include <kiln/types.h>

#define VRTC_PORT_INDEX     0x70
#define VRTC_PORT_DATA      0x71
#define VRTC_CMOS_SIZE      128

/* Register indexes. */
#define VRTC_SECONDS        0x00
#define VRTC_SECONDS_ALARM  0x01
#define VRTC_MINUTES        0x02
#define VRTC_MINUTES_ALARM  0x03
#define VRTC_HOURS          0x04
#define VRTC_HOURS_ALARM    0x05
#define VRTC_WEEKDAY        0x06
#define VRTC_DAY            0x07
#define VRTC_MONTH          0x08
#define VRTC_YEAR           0x09
#define VRTC_REG_A          0x0a
#define VRTC_REG_B          0x0b
#define VRTC_REG_C          0x0c
#define VRTC_REG_D          0x0d
#define VRTC_CENTURY        0x32

#define VRTC_A_UIP          0x80
#define VRTC_B_SET          0x80
#define VRTC_B_PIE          0x40
#define VRTC_B_AIE          0x20
#define VRTC_B_UIE          0x10
#define VRTC_B_BINARY       0x04
#define VRTC_B_24H          0x02
#define VRTC_C_IRQF         0x80
#define VRTC_C_PF           0x40
#define VRTC_C_AF           0x20
#define VRTC_C_UF           0x10

/* UIP is set this long before each update of the time registers. */
#define VRTC_UIP_NS         244140ull

struct vrtc_hooks {
    void (*irq8)(void *ctx, bool level);
    void *ctx;
};

struct vrtc {
    struct vrtc_hooks hooks;
    u8 cmos[VRTC_CMOS_SIZE];    /* time registers only meaningful while frozen */
    u8 index;
    bool nmi_masked;
    bool frozen;                /* SET, or the divider held in reset: no updates */
    bool irq_level;
    s64 base_secs;              /* the time (Unix seconds) at base_ns */
    u64 base_ns;                /* updates happen at base_ns + k seconds */
    u64 updates_seen;           /* k of the last update accounted in reg C */
    u64 div_ns;                 /* the periodic interrupt's phase */
    u64 periods_seen;
    u64 irq_next_ok;            /* no IRQ8 before this (DEV_MIN_TIMER_PERIOD_NS apart) */
};

/*
 * The clock reads unix_secs at time base_ns (now_ns() clock) and runs from
 * there; 24-hour BCD format, 32.768 kHz time base, 1024 Hz rate selected
 * (as PC firmware leaves it), interrupts disabled.  The CMOS memory-size
 * bytes are filled from the RAM below and above 4 GiB, as SeaBIOS expects.
 */
void vrtc_init(struct vrtc *rtc, const struct vrtc_hooks *hooks, s64 unix_secs,
               u64 base_ns, u64 ram_below_4g, u64 ram_above_4g);

/* Ports 0x70 and 0x71; size 1, 2 or 4 (wider accesses span ports). */
u32 vrtc_io_read(struct vrtc *rtc, u16 port, unsigned int size, u64 now);
void vrtc_io_write(struct vrtc *rtc, u16 port, unsigned int size, u32 val, u64 now);

/* Bit 7 of the last index written to port 0x70: NMIs are to be held back. */
bool vrtc_nmi_masked(const struct vrtc *rtc);

/* The current time as Unix seconds (e.g. after the guest set the clock). */
s64 vrtc_unix_time(const struct vrtc *rtc, u64 now);

/* When vrtc_advance() has an interrupt to raise (absolute ns), 0 = never. */
u64 vrtc_next_deadline(const struct vrtc *rtc);
void vrtc_advance(struct vrtc *rtc, u64 now);

#endif
