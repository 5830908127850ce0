/*
 * time.h - time since boot and the per-CPU one-shot timer.
 *
 * now_ns() comes from the TSC (invariant on the hosts we target, and real
 * time under TCG), calibrated at boot from CPUID 0x15/0x16 or the PIT.
 * Each CPU has one one-shot deadline on its LAPIC timer (TSC-deadline mode
 * when offered); the scheduler multiplexes its own timers on top.
 */
#ifndef KILN_TIME_H
#define KILN_TIME_H

#include <kiln/percpu.h>
#include <kiln/types.h>

#define NSEC_PER_USEC 1000ull
#define NSEC_PER_MSEC 1000000ull
#define NSEC_PER_SEC  1000000000ull

/* Nanoseconds since the hypervisor started (monotonic, same on all CPUs). */
u64 now_ns(void);

#ifndef KILN_UNIT_TEST
u64 tsc_hz(void);
u64 ns_to_tsc(u64 ns);
u64 tsc_to_ns(u64 tsc);
/* The now_ns() time at which the TSC reads tsc. */
u64 ns_at_tsc(u64 tsc);
void udelay(u64 us);

/* Sets the function this CPU's timer interrupt calls (interrupts off). */
void timer_set_callback(timer_fn_t fn);
/*
 * Arms this CPU's one-shot timer for absolute time deadline_ns (now_ns()
 * clock); a deadline in the past fires at once; 0 disarms.  Re-arming
 * replaces the previous deadline.  Call with interrupts off or from the
 * timer callback itself.
 */
void timer_set_deadline(u64 deadline_ns);
#endif

#endif
