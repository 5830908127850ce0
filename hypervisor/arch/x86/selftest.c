/*
 * selftest.c - deliberate failures and platform checks, selected with the
 * selftest= option, so the QEMU scenarios can prove that a fault in the
 * hypervisor gives a full report and a non-zero exit (not a reset), and
 * that every CPU's timer and IPIs work.
 */
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>
#include <kiln/selftest.h>
#include <kiln/smp.h>
#include <kiln/spinlock.h>
#include <kiln/time.h>
#include <kiln/x86.h>

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

/* Recurses until the stack's guard page stops it. */
static __attribute__((noinline)) unsigned long selftest_recurse(volatile unsigned long depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    if (depth == ~0ul)   /* never: the guard page ends this first */
        return 0;
    return selftest_recurse(depth + 1) + frame[0];
}

static unsigned int alive_lines;

static void selftest_panic_here(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&alive_lines, __ATOMIC_ACQUIRE) < 3)   /* CPU 0 is busy */
        cpu_relax();
    panic("selftest=appanic requested");
}

static u64 timer_fired_at[NR_CPUS];
static u64 timer_wanted[NR_CPUS];
static unsigned int kicks[NR_CPUS];
static u64 cr0_seen[NR_CPUS];

static void selftest_timer_fn(void)
{
    timer_fired_at[smp_processor_id()] = now_ns();
}

static void selftest_arm(void *arg)
{
    (void)arg;
    unsigned int cpu = smp_processor_id();
    cr0_seen[cpu] = read_cr0();
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
    /* CD and NW come set out of INIT: a CPU that kept them runs uncached. */
    unsigned int cached = 0;
    for (unsigned int cpu = 0; cpu < n; cpu++)
        cached += !(cr0_seen[cpu] & (CR0_CD | CR0_NW));
    pr_info("selftest cpus: %u/%u run with caches on (CR0.CD and NW clear)", cached, n);
}

/*
 * Takes every free page (2 MiB blocks first, then single pages), writes a
 * tag at both ends of each through the direct map, checks the tags, gives
 * everything back and checks the free count is where it started.  Proves
 * the allocator hands out only RAM that is really mapped, all of it.
 */
static void selftest_mm(void)
{
    u64 baseline = mm_free_pages(), pages = 0, bad = 0;
    paddr_t top = 0;
    u64 *chain[2] = { NULL, NULL };   /* order 9 and order 0 lists */
    const unsigned int orders[2] = { ORDER_2M, 0 };

    for (int k = 0; k < 2; k++) {
        u64 *p;
        size_t last = (PAGE_SIZE << orders[k]) / sizeof(u64) - 1;
        while ((p = alloc_pages(orders[k])) != NULL) {
            p[0] = (u64)chain[k];
            p[1] = virt_to_phys(p) ^ 0x6b696c6eull;
            p[last] = virt_to_phys(p);
            chain[k] = p;
            pages += 1ull << orders[k];
            if (virt_to_phys(p) > top)
                top = virt_to_phys(p);
        }
    }
    u64 held = pages;
    for (int k = 0; k < 2; k++) {
        size_t last = (PAGE_SIZE << orders[k]) / sizeof(u64) - 1;
        while (chain[k]) {
            u64 *p = chain[k];
            chain[k] = (u64 *)p[0];
            if (p[1] != (virt_to_phys(p) ^ 0x6b696c6eull) || p[last] != virt_to_phys(p))
                bad++;
            free_pages(p, orders[k]);
        }
    }
    pr_info("selftest mm: took %llu pages (highest at %llx), %llu corrupted, free count %s baseline",
            (unsigned long long)held, (unsigned long long)top, (unsigned long long)bad,
            mm_free_pages() == baseline ? "back to" : "NOT back to");
    if (held != baseline || bad || mm_free_pages() != baseline)
        pr_err("selftest mm: FAILED (held %llu of %llu free pages)",
               (unsigned long long)held, (unsigned long long)baseline);
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
    else if (!kstrcmp(what, "appanic")) {
        /* The last CPU panics while this one keeps logging: the panic must
         * stop this CPU before its report, so no "alive" line follows it. */
        smp_call_function(smp_nr_cpus() - 1, selftest_panic_here, NULL, false);
        for (unsigned int i = 0; i < 1000; i++) {
            pr_info("selftest: CPU %u alive (%u)", smp_processor_id(), i);
            __atomic_fetch_add(&alive_lines, 1, __ATOMIC_RELEASE);
            udelay(1000);
        }
    }
    else if (!kstrcmp(what, "timer"))
        selftest_timers();
    else if (!kstrcmp(what, "mm"))
        selftest_mm();
    else if (!kstrcmp(what, "stack"))
        pr_err("selftest: recursion ended?! %lu", selftest_recurse(0));
    else
        pr_warn("selftest=%s: unknown, ignored", what);
}
