/*
 * percpu.h - per-CPU data.
 *
 * Each CPU's GS base points at its struct percpu, so this_cpu() is a single
 * %gs-relative load.  The scheduler and the SVM code keep their per-CPU
 * state behind the `sched` and `hvm` pointers; `curr` is the vCPU this CPU
 * runs (NULL while idle).
 */
#ifndef KILN_PERCPU_H
#define KILN_PERCPU_H

#include <kiln/types.h>

#define NR_CPUS 64

struct vcpu;

typedef void (*timer_fn_t)(void);

struct percpu {
    struct percpu *self;        /* must stay first: this_cpu() reads %gs:0 */
    unsigned int cpu_id;        /* 0..nr_cpus-1, 0 is the boot CPU */
    u32 apic_id;
    bool online;

    struct vcpu *curr;          /* vCPU running (or last run) here */
    void *sched;                /* owned by common/sched/ */
    void *hvm;                  /* owned by arch/x86/hvm/ (host save area, ...) */

    timer_fn_t timer_fn;        /* called from the LAPIC timer interrupt */
    u64 timer_deadline_ns;      /* 0 = no timer armed */

    void *stack_top;            /* top of this CPU's hypervisor stack */
    volatile int in_guest;      /* set by the SVM code around VMRUN */
};

#ifdef KILN_UNIT_TEST
/* Unit tests that reach this_cpu() define it. */
struct percpu *kiln_test_this_cpu(void);
static inline struct percpu *this_cpu(void) { return kiln_test_this_cpu(); }
#else
static inline struct percpu *this_cpu(void)
{
    struct percpu *p;
    __asm__ __volatile__("movq %%gs:0, %0" : "=r"(p));
    return p;
}
#endif

static inline unsigned int smp_processor_id(void)
{
    return this_cpu()->cpu_id;
}

/* Per-CPU area of any CPU (cpu < NR_CPUS), online or not. */
struct percpu *percpu_of(unsigned int cpu);

#endif
