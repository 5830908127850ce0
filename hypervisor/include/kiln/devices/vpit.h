/*
 * vpit.h - the 8254 programmable interval timer of a PC domU and the
 * system control port B at 0x61 (arch/x86/hvm/devices/vpit.c).
 *
 * Channel 0 drives ISA IRQ0 through the hook; channel 2's gate is port
 * 0x61 bit 0 and its output port 0x61 bit 5.  The glue arms a timer for
 * vpit_next_deadline() and calls vpit_advance() when it expires.
 */
#ifndef KILN_DEVICES_VPIT_H
#define KILN_DEVICES_VPIT_H

#include <kiln/types.h>

#define VPIT_HZ             1193182ull
#define VPIT_PORT           0x40    /* channels 0-2 at 0x40-0x42, control word 0x43 */
#define VPIT_PORT_CONTROL   0x43
#define VPIT_PORT_61        0x61

struct vpit_hooks {
    /* ISA IRQ0: the level of channel 0's interrupt output. */
    void (*irq0)(void *ctx, bool level);
    void *ctx;
};

struct vpit_channel {
    u8 ctrl;            /* bits 5:0 of the last control word: access, mode, BCD */
    bool gate;
    bool running;       /* counting from start_count since start_tick */
    bool tc_done;       /* one-shot modes: terminal count passed before start_tick */
    bool null_count;    /* a count was written but not loaded yet */
    bool out_held;      /* OUT while not running */
    u32 reload;         /* the count written: 1..65536 (binary) or 1..10000 (BCD) */
    u32 start_count;
    u32 held;           /* the counter while not running */
    u64 start_tick;     /* in ticks of VPIT_HZ since time 0 */
    u8 write_lsb;
    bool write_msb_next, read_msb_next;
    bool count_latched, latch_msb_next, status_latched;
    u16 latched_count;
    u8 latched_status;
};

struct vpit {
    struct vpit_hooks hooks;
    struct vpit_channel ch[3];
    u8 port61;          /* bits 3:0 as written: gate 2, speaker, parity/IOCHK enables */
    bool irq_level;
    u64 irq_done;       /* IRQ0 edges due so far that were delivered (see vpit.c) */
    u64 irq_next_ok;    /* no IRQ0 edge before this (DEV_MIN_TIMER_PERIOD_NS apart) */
};

/*
 * Every channel as PC firmware leaves it: mode 3, LSB then MSB, count
 * 65536 (channel 0 ticks at 18.2 Hz); channel 2's gate low.
 */
void vpit_init(struct vpit *pit, const struct vpit_hooks *hooks, u64 now);

/* Ports 0x40-0x43 and 0x61; size 1, 2 or 4 (wider accesses span ports). */
u32 vpit_io_read(struct vpit *pit, u16 port, unsigned int size, u64 now);
void vpit_io_write(struct vpit *pit, u16 port, unsigned int size, u32 val, u64 now);

/* When vpit_advance() has an IRQ0 edge to deliver (absolute ns), 0 = never. */
u64 vpit_next_deadline(const struct vpit *pit);
void vpit_advance(struct vpit *pit, u64 now);

#endif
