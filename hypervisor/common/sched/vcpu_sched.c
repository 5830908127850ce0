/*
 * vcpu_sched.c - the per-CPU loop that drives the credit scheduler: pick
 * a vCPU, arm the one-shot timer for its slice, run it in guest mode until
 * something needs the scheduler, account, repeat.  A CPU with nothing to
 * run halts with interrupts on (the idle vCPU).
 *
 * The scheduler itself (common/sched/) is pure: it reads no clock and arms
 * no timer.  This file gives it time, timers and kicks: its kick callback
 * sets this CPU's "reschedule" flag or sends the kick IPI, which makes a
 * CPU in guest mode exit.  Interrupt handlers only set flags; all real work
 * happens here with interrupts off.
 *
 * Each CPU also keeps the list of vCPUs that blocked on it with a wake-up
 * deadline (sched_block, HLT) and wakes them when the deadline passes.
 *
 * One vCPU may own CPU 0 outright (vcpu_sched_dedicate_cpu0: dom0 does):
 * CPU 0 then runs it and nothing else, outside the scheduler.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/hvm_event.h>
#include <kiln/irq.h>
#include <kiln/percpu.h>
#include <kiln/smp.h>
#include <kiln/time.h>
#include <kiln/x86.h>

struct loop_cpu {
    volatile bool need_resched;
    volatile bool timer_fired;
    volatile bool hvm_up;
    u64 sched_deadline;
    u64 armed;                  /* deadline the timer is set to, 0 = none */
    struct list_head wakeups;   /* under domlist_lock */
};

static struct loop_cpu loop_cpus[NR_CPUS];
/* The vCPU that owns CPU 0, and what to do when its domain ends. */
static struct vcpu *cpu0_owner;
static void (*cpu0_owner_ended)(void);

static struct loop_cpu *this_loop(void)
{
    return &loop_cpus[smp_processor_id()];
}

/* Scheduler callback: scheduler locks held, interrupts off. */
static void kick(unsigned int cpu)
{
    WRITE_ONCE(loop_cpus[cpu].need_resched, true);
    if (cpu != smp_processor_id())
        smp_kick(cpu);
}

static void timer_fired(void)
{
    this_loop()->timer_fired = true;
}

void vcpu_sched_raise(void)
{
    this_loop()->need_resched = true;
}

bool hvm_vcpu_must_leave(struct vcpu *v)
{
    struct loop_cpu *lc = this_loop();
    struct domain *d = v->domain;
    return lc->need_resched || lc->timer_fired || READ_ONCE(v->blocked) ||
           READ_ONCE(v->ev.wait_sipi) || READ_ONCE(d->state) == KILN_DOMSTATE_DYING ||
           READ_ONCE(d->paused);
}

void vcpu_sched_add_wakeup(struct vcpu *v)
{
    vcpu_sched_del_wakeup(v);
    v->wake_cpu = (int)smp_processor_id();
    list_add_tail(&v->wake_elem, &loop_cpus[v->wake_cpu].wakeups);
}

void vcpu_sched_del_wakeup(struct vcpu *v)
{
    if (v->wake_cpu < 0)
        return;
    list_del(&v->wake_elem);
    v->wake_cpu = -1;
}

/* Wakes expired sleepers; returns the earliest remaining deadline (0 = none).
 * domlist_lock held. */
static u64 run_wakeups(struct loop_cpu *lc, u64 now)
{
    struct vcpu *v, *tmp;
    u64 next = 0;
    list_for_each_entry_safe(v, tmp, &lc->wakeups, wake_elem) {
        if (v->wake_deadline <= now) {
            vcpu_wake(v);
            continue;
        }
        if (!next || v->wake_deadline < next)
            next = v->wake_deadline;
    }
    return next;
}

static void arm(u64 sched_deadline, u64 wake)
{
    u64 t = sched_deadline;
    if (wake && (!t || wake < t))
        t = wake;
    this_loop()->armed = t;
    timer_set_deadline(t);
}

void vcpu_sched_guest_deadline(u64 t)
{
    struct loop_cpu *lc = this_loop();
    if (t && (!lc->armed || t < lc->armed)) {
        lc->armed = t;
        timer_set_deadline(t);
    }
}

/* The timer fired: wake sleepers, let the scheduler account.  Returns true
 * when the scheduler wants to pick again. */
static bool handle_timer(struct loop_cpu *lc)
{
    u64 now = now_ns();
    bool resched = false;
    u64 wake = 0;
    lc->timer_fired = false;
    /* Only this CPU adds to its wake list, so an empty list read without
     * the lock cannot miss a sleeper; skipping the global lock on every
     * tick matters when a lock holder's CPU can be preempted (nested). */
    if (!list_empty(&lc->wakeups)) {
        unsigned long flags = spin_lock_irqsave(&domlist_lock);
        wake = run_wakeups(lc, now);
        spin_unlock_irqrestore(&domlist_lock, flags);
    }
    if (lc->sched_deadline && now >= lc->sched_deadline)
        resched = sched_tick(smp_processor_id(), now, &lc->sched_deadline);
    arm(lc->sched_deadline, wake);
    return resched;
}

static void run_vcpu(struct loop_cpu *lc, struct vcpu *v)
{
    struct domain *d = v->domain;
    this_cpu()->curr = v;
    for (;;) {
        hvm->run(v);
        if (lc->timer_fired && !handle_timer(lc) && !lc->need_resched &&
            !hvm_vcpu_must_leave(v))
            continue;
        break;
    }
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    v->run_cpu = -1;
    d->running--;
    hvm_event_put_back(v);
    domain_try_reap(d);
    spin_unlock_irqrestore(&domlist_lock, flags);
}

/* Enables the backend on this CPU and takes over its timer; interrupts off. */
static void cpu_init(struct loop_cpu *lc)
{
    if (lc->hvm_up)
        return;
    int rc = hvm->cpu_up();
    if (rc)
        panic("cpu%u: cannot enable %s (%d)", smp_processor_id(), hvm->name, rc);
    timer_set_callback(timer_fired);
    lc->hvm_up = true;
}

/*
 * CPU 0 with an owner (dom0): its vCPU and nothing else, forever.  From
 * here on CPU 0's local APIC is the owner's (Linux reprograms it), so the
 * hypervisor's timer is disarmed, host interrupts stay off on this CPU
 * (the owner's own go to its IDT in guest mode; the scheduler never sends
 * CPU 0 work with SCHED_F_CPU0_DOM0), and an exit is only ever a CPUID,
 * MSR, hypercall, nested page fault, NMI or fatal event of the owner's.
 */
static __noreturn void dedicated_cpu0_loop(struct loop_cpu *lc, struct vcpu *v)
{
    timer_set_deadline(0);
    /* A timer interrupt or kick already pending is the hypervisor's: take
     * it here, not in dom0. */
    local_irq_enable();
    cpu_relax();
    local_irq_disable();
    this_cpu()->curr = v;
    for (;;) {
        lc->need_resched = false;
        lc->timer_fired = false;
        hvm->run(v);
        if (READ_ONCE(v->domain->state) == KILN_DOMSTATE_DYING)
            cpu0_owner_ended();
    }
}

void vcpu_sched_dedicate_cpu0(struct vcpu *v, void (*ended)(void))
{
    cpu0_owner_ended = ended;
    WRITE_ONCE(cpu0_owner, v);
}

static void cpu_loop(void)
{
    struct loop_cpu *lc = this_loop();
    unsigned int cpu = smp_processor_id();

    local_irq_disable();
    cpu_init(lc);
    if (cpu == 0 && READ_ONCE(cpu0_owner))
        dedicated_cpu0_loop(lc, cpu0_owner);
    for (;;) {
        lc->need_resched = false;
        lc->timer_fired = false;

        unsigned long flags = spin_lock_irqsave(&domlist_lock);
        /* The clock is read once the lock is ours: time spent waiting for
         * it must not count as the next vCPU's slice. */
        u64 now = now_ns();
        u64 wake = run_wakeups(lc, now);
        struct sched_decision dec = sched_schedule(cpu, now);
        struct vcpu *v = dec.vcpu ? container_of(dec.vcpu, struct vcpu, sv) : NULL;
        BUG_ON(v && v->domain->hardware);   /* dom0 runs on CPU 0 only, never scheduled */
        if (v) {
            if (v->run_cpu >= 0)
                panic("d%u v%u picked on CPU %u while CPU %d runs it", v->domain->id, v->id,
                      cpu, v->run_cpu);
            v->run_cpu = (int)cpu;
            v->domain->running++;
        }
        spin_unlock_irqrestore(&domlist_lock, flags);
        local_irq_disable();

        lc->sched_deadline = dec.deadline_ns;
        arm(dec.deadline_ns, wake);
        if (v) {
            run_vcpu(lc, v);
            continue;
        }
        this_cpu()->curr = NULL;
        /* Idle: halt until a kick or the timer; sti;hlt cannot lose one. */
        for (;;) {
            if (lc->need_resched)
                break;
            if (lc->timer_fired) {
                if (handle_timer(lc))
                    break;
                continue;
            }
            safe_halt();
            local_irq_disable();
        }
    }
}

static void kick_handler(void)
{
    /* The flag was set by the sender; taking the interrupt was the point. */
}

int vcpu_sched_start(bool cpu0_dedicated)
{
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++)
        list_init(&loop_cpus[cpu].wakeups);
    /* CPU 0 will be one vCPU's own and the scheduler uses the others. */
    unsigned int sflags = 0;
    if (cpu0_dedicated) {
        if (smp_nr_cpus() >= 2)
            sflags = SCHED_F_CPU0_DOM0;
        else
            pr_warn("CPU 0 is dedicated and the only CPU: domUs will never run\n");
    }
    const char *name = cmdline_get("sched");
    if (name && sched_select(name) < 0)
        pr_warn("sched=%s: no such scheduler, using %s\n", name, sched_name());
    pr_info("scheduler: %s\n", sched_name());
    int rc = sched_init(smp_nr_cpus(), sflags, kick);
    if (rc)
        return rc;
    smp_set_kick_handler(kick_handler);
    unsigned long flags = local_irq_save();
    cpu_init(this_loop());
    local_irq_restore(flags);
    smp_set_main_loop(cpu_loop);
    /* Every CPU's one-time allocations happen before any domain exists,
     * so free-page counts taken by guests are stable from the start. */
    for (unsigned int cpu = 0; cpu < smp_nr_cpus(); cpu++) {
        u64 deadline = now_ns() + NSEC_PER_SEC;
        while (!READ_ONCE(loop_cpus[cpu].hvm_up) && now_ns() < deadline)
            cpu_relax();
        if (!READ_ONCE(loop_cpus[cpu].hvm_up))
            pr_warn("cpu%u has not enabled %s after 1 s\n", cpu, hvm->name);
    }
    return 0;
}
