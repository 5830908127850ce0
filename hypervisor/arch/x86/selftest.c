/*
 * selftest.c - deliberate failures and platform checks, selected with the
 * selftest= option, so the QEMU scenarios can prove that a fault in the
 * hypervisor gives a full report and a non-zero exit (not a reset), and
 * that every CPU's timer and IPIs work.
 */
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/percpu.h>
#include <kiln/selftest.h>
#include <kiln/smp.h>
#include <kiln/time.h>

/* noinline, and the write after a call so the frame pointer is set up by
 * then (GCC gives leaves no frame): every level shows in the backtrace. */
static __attribute__((noinline)) void selftest_fault_deep(volatile u64 *where)
{
    pr_info("selftest: writing to unmapped address %p", (void *)where);
    *where = 0x6b696c6e;   /* unmapped once the identity map is gone */
}

/* A variable, so the compiler cannot see (and reject) the bad address. */
static volatile uintptr_t fault_address = 0x10;

static __attribute__((noinline)) void selftest_fault(void)
{
    selftest_fault_deep((volatile u64 *)fault_address);
    barrier();
}

static u64 timer_fired_at[NR_CPUS];
static u64 timer_wanted[NR_CPUS];
static unsigned int kicks[NR_CPUS];

static void selftest_timer_fn(void)
{
    timer_fired_at[smp_processor_id()] = now_ns();
}

static void selftest_arm(void *arg)
{
    (void)arg;
    unsigned int cpu = smp_processor_id();
    timer_set_callback(selftest_timer_fn);
    timer_wanted[cpu] = now_ns() + (cpu + 1) * 2 * NSEC_PER_MSEC;
    timer_set_deadline(timer_wanted[cpu]);
}

static void selftest_kicked(void)
{
    __atomic_fetch_add(&kicks[smp_processor_id()], 1, __ATOMIC_RELAXED);
}

static void selftest_timers(void)
{
    unsigned int n = smp_nr_cpus(), ok = 0, kicked = 0;

    smp_set_kick_handler(selftest_kicked);
    for (unsigned int cpu = 0; cpu < n; cpu++) {
        smp_call_function(cpu, selftest_arm, NULL, true);
        if (cpu != smp_processor_id())
            smp_kick(cpu);
    }
    u64 give_up = now_ns() + 500 * NSEC_PER_MSEC;
    while (now_ns() < give_up) {
        ok = kicked = 0;
        for (unsigned int cpu = 0; cpu < n; cpu++) {
            if (READ_ONCE(timer_fired_at[cpu]) >= timer_wanted[cpu] && timer_wanted[cpu])
                ok++;
            if (cpu == smp_processor_id() || READ_ONCE(kicks[cpu]))
                kicked++;
        }
        if (ok == n && kicked == n)
            break;
        __asm__ __volatile__("pause");
    }
    for (unsigned int cpu = 0; cpu < n; cpu++)
        pr_info("selftest timer: CPU %u fired %lld us after its deadline", cpu,
                timer_fired_at[cpu] ? (long long)(timer_fired_at[cpu] - timer_wanted[cpu]) / 1000
                                    : -1ll);
    smp_set_kick_handler(NULL);
    pr_info("selftest timer: %u/%u CPUs took their timer, %u/%u took a kick IPI", ok, n, kicked, n);
}

void selftest_run(const char *what)
{
    if (!what)
        return;
    if (!kstrcmp(what, "fault"))
        selftest_fault();
    else if (!kstrcmp(what, "ud"))
        __asm__ __volatile__("ud2");
    else if (!kstrcmp(what, "panic"))
        panic("selftest=panic requested");
    else if (!kstrcmp(what, "timer"))
        selftest_timers();
    else
        pr_warn("selftest=%s: unknown, ignored", what);
}
