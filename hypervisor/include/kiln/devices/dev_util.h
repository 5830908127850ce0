/*
 * dev_util.h - what every emulated PC device model shares: the mask of an
 * access width, conversion between nanoseconds and the ticks of a device
 * clock, and the shortest period a guest may make a device interrupt at.
 *
 * The models (arch/x86/hvm/devices/) are pure: they take time as an
 * argument on the now_ns() clock and raise interrupts through hooks, so
 * these helpers must not overflow for any 64-bit time.
 */
#ifndef KILN_DEVICES_DEV_UTIL_H
#define KILN_DEVICES_DEV_UTIL_H

#include <kiln/time.h>
#include <kiln/types.h>

/*
 * A guest may program a timer with a period of a few hundred nanoseconds
 * (PIT count 2, RTC rate 3).  Interrupts of such timers are delivered at
 * most once per DEV_MIN_TIMER_PERIOD_NS (what KVM uses by default); ticks
 * missed in between are merged into one interrupt, never queued.  Counters
 * a guest reads stay exact.
 */
#define DEV_MIN_TIMER_PERIOD_NS (200 * NSEC_PER_USEC)

/* The value mask of an access of size bytes (1, 2, 4 or 8); 0 otherwise. */
static inline u64 dev_size_mask(unsigned int size)
{
    switch (size) {
    case 1: return 0xffull;
    case 2: return 0xffffull;
    case 4: return 0xffffffffull;
    case 8: return ~0ull;
    default: return 0;
    }
}

/* Whether size is a width port I/O can have: 1, 2 or 4 bytes. */
static inline bool dev_port_size_ok(unsigned int size)
{
    return size == 1 || size == 2 || size == 4;
}

/* Whole ticks of a clock of hz Hz in ns nanoseconds, rounded down. */
static inline u64 dev_ns_to_ticks(u64 ns, u64 hz)
{
    return (ns / NSEC_PER_SEC) * hz + (ns % NSEC_PER_SEC) * hz / NSEC_PER_SEC;
}

/* The first ns at which dev_ns_to_ticks(ns, hz) reaches ticks (hz < 1e9). */
static inline u64 dev_ticks_to_ns(u64 ticks, u64 hz)
{
    return (ticks / hz) * NSEC_PER_SEC + ((ticks % hz) * NSEC_PER_SEC + hz - 1) / hz;
}

#endif
