/*
 * smp.h - the other CPUs: how many, interrupting them, running code on them.
 *
 * After boot every CPU sits in cpu_idle_loop(): interrupts on, HLT.  The
 * scheduler takes the CPUs over with smp_set_main_loop().
 */
#ifndef KILN_SMP_H
#define KILN_SMP_H

#include <kiln/compiler.h>
#include <kiln/types.h>

/* Interrupt vectors the hypervisor uses for itself. */
#define VEC_TIMER      0xf0  /* LAPIC timer: per-CPU timer_fn */
#define VEC_KICK       0xf1  /* "reschedule": kick handler */
#define VEC_CALL_FUNC  0xf2  /* smp_call_function */
#define VEC_SPURIOUS   0xff

/* Number of CPUs online (they are numbered 0..nr_cpus()-1). */
unsigned int smp_nr_cpus(void);

/* Sends a fixed-vector IPI to one CPU. */
void smp_send_ipi(unsigned int cpu, u8 vector);

/*
 * Makes cpu take an interrupt soon: a CPU in guest mode exits, an idle CPU
 * wakes up; then the kick handler (if set) runs there in interrupt context.
 */
void smp_kick(unsigned int cpu);
void smp_set_kick_handler(void (*fn)(void));

/*
 * Runs fn(arg) on cpu in interrupt context (on this CPU: directly).  With
 * wait, returns after fn has finished.  Returns 0, or -1 if cpu is offline.
 * Callers must have interrupts enabled when wait is set (or target this CPU).
 */
int smp_call_function(unsigned int cpu, void (*fn)(void *), void *arg, bool wait);

/*
 * Hands every CPU to fn: each idle CPU (including the boot CPU once it
 * reaches its idle loop) calls fn(); if fn returns, the CPU goes back to
 * halting and calls fn again after its next interrupt.
 */
void smp_set_main_loop(void (*fn)(void));

/* Halts every other online CPU for good (NMI), whatever it is doing, and
 * waits (up to 100 ms) until they have stopped.  For panic(). */
void smp_stop_others(void);
/* An NMI to every other online CPU, not waiting: lets the first NMI from
 * outside (QEMU's inject-nmi reaches CPU 0 only) show every CPU's state.
 * Called from the NMI handler, it may spoil an IPI the interrupted code
 * was sending: for wedged machines. */
void smp_nmi_others(void);
/* The NMI handler's end during a panic: counts this CPU stopped, halts. */
__noreturn void smp_stop_self(void);

/* The idle loop every CPU ends up in; never returns. */
__noreturn void cpu_idle_loop(void);

#endif
