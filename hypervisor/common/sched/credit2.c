/*
 * credit2.c - a latency-aware scheduler in the spirit of Xen's credit2,
 * one implementation of struct sched_ops (chosen with sched=credit2).
 *
 * Why beside credit: credit hands out credit in 30 ms accounting periods
 * and orders vCPUs in three coarse priorities, so a vCPU that wakes often
 * for little work is only sure to run at once while it is BOOST or ahead
 * of everything in UNDER; when it is not, it waits behind a 30 ms slice.
 * Here every decision compares credits directly, so a vCPU that used
 * less than its share is always ahead of one that used more.
 *
 * Policy:
 *  - credit is CPU time scaled by weight: a vCPU that runs t ns loses
 *    t * max_weight / weight (max_weight: the highest weight of any
 *    domain), so the heaviest vCPUs burn credit in real time and lighter
 *    ones faster.  Shares follow weights because every vCPU gets the same
 *    credit at each reset.
 *  - reset: when the vCPU a CPU would pick next (the leader, the highest
 *    credit it may run) has no credit left, every vCPU that may run on
 *    that CPU gets C2_CREDIT_INIT more (as many times as the leader
 *    needs).  A sleeping vCPU keeps at most C2_CREDIT_INIT: what it did not
 *    want is not banked.  An awake one keeps what it is owed and debts
 *    (a slice overrun by a late timer) are carried, both up to
 *    C2_CREDIT_OWED, so shares hold exactly among competing vCPUs.
 *  - one run queue for all CPUs, sorted by credit (Xen's credit2 with
 *    runqueue=all): a CPU runs the highest-credit vCPU its affinity allows,
 *    so load balances by itself and shares hold across CPUs.  The price
 *    is one lock for all CPUs, fine for the few CPUs Kiln runs on; per-
 *    socket queues with balancing between them would be the next step.
 *  - a running vCPU keeps its CPU until its credit falls C2_MARGIN below
 *    the best waiting vCPU's (so two equal vCPUs alternate every 2 *
 *    C2_MARGIN, not at every comparison), at most C2_MAX_SLICE.
 *  - wake-up preemption: a vCPU that wakes goes to an idle CPU it may use,
 *    else preempts the CPU whose current vCPU has the least credit, if
 *    that is less than its own.  Ratelimit: a vCPU that has run less than
 *    C2_RATELIMIT is not preempted before then, so wake-up storms cannot
 *    turn into a context-switch storm.
 *  - cap: a capped domain has a budget of cap% of C2_CAP_PERIOD per
 *    period, which all its vCPUs draw from; one that finds it empty is
 *    parked until the next period boundary refills it.  An overrun is
 *    carried into the next period.
 *  - yield: the yielding vCPU runs again only if nothing else may run.
 *
 * Of struct sched_vcpu it uses runq_elem, dom_elem, dom, credit, affinity,
 * last_burn, processor, id, awake, queued, running, parked and yielded;
 * of struct sched_dom all but nr_active.  Everything is under one lock
 * (C2.lock, with interrupts off since wake-ups come from interrupt
 * handlers); kick() is called with it held.  processor is the CPU a vCPU
 * runs on, or last ran on.
 */
#include <kiln/compiler.h>
#include <kiln/sched.h>
#include <kiln/spinlock.h>
#include <public/kiln.h>

#define C2_CREDIT_INIT  ((s64)10000000)   /* 10 ms at the highest weight */
#define C2_CREDIT_OWED  (4 * C2_CREDIT_INIT)
#define C2_MARGIN       ((s64)2000000)    /* 2 ms of credit */
#define C2_MAX_SLICE    10000000ull       /* 10 ms */
#define C2_MIN_SLICE      200000ull       /* 0.2 ms */
#define C2_RATELIMIT      500000ull       /* 0.5 ms */
#define C2_CAP_PERIOD   10000000ull       /* 10 ms */
/* An idle CPU looks at the queue this often (work it was not kicked for,
 * e.g. after a lost race, is found within a tick). */
#define C2_IDLE_TICK    10000000ull       /* 10 ms */
/* A refill pays for at most this many periods: a longer gap is a jump of
 * the clock, not time the domain was owed. */
#define C2_CAP_MAX_PERIODS 4u
#define C2_CAP_MAX_DEBT    10u

struct c2_cpu {
    struct sched_vcpu *curr;  /* NULL while the CPU runs its idle loop */
    u64 started;              /* when curr started running here */
    u64 slice_end;
};

static struct {
    spinlock_t lock;
    unsigned int nr_cpus;
    unsigned int flags;
    u64 online;
    void (*kick)(unsigned int cpu);
    struct list_head doms;
    struct list_head queue;   /* runnable, not running: credit, highest first */
    u32 max_weight;
    u32 nr_parked;
    u64 next_refill;          /* next cap period boundary */
    u64 idle_mask;            /* bit n: CPU n runs its idle loop */
    struct c2_cpu cpu[SCHED_MAX_CPUS];
} C2;

static inline u64 c2_bit(unsigned int cpu)
{
    return 1ull << cpu;
}

static u64 c2_next_multiple(u64 now, u64 period)
{
    return (now / period + 1) * period;
}

/* First CPU of mask at or after `from`, wrapping around; mask != 0. */
static unsigned int c2_first_from(u64 mask, unsigned int from)
{
    u64 high = from < 64 ? mask & ~(c2_bit(from) - 1) : 0;

    return (unsigned int)__builtin_ctzll(high ? high : mask);
}

/* The CPUs a vCPU of d with affinity mask may use: minus CPU 0 when that
 * is reserved for dom0. */
static u64 c2_eff_mask(u64 mask, const struct sched_dom *d)
{
    u64 m = mask & C2.online;

    if ((C2.flags & SCHED_F_CPU0_DOM0) && !(d->flags & SCHED_DOM_F_DOM0))
        m &= ~c2_bit(0);
    return m;
}

static bool c2_allowed(const struct sched_vcpu *v, unsigned int cpu)
{
    return (c2_eff_mask(v->affinity, v->dom) & c2_bit(cpu)) != 0;
}

static s64 c2_quota(const struct sched_dom *d)
{
    return (s64)(C2_CAP_PERIOD * d->cap / 100);
}

static bool c2_out_of_budget(const struct sched_vcpu *v)
{
    return v->dom->cap != 0 && v->dom->budget <= 0;
}

static void c2_update_max_weight(void)
{
    const struct sched_dom *d;
    u32 max = SCHED_WEIGHT_MIN;

    list_for_each_entry(d, &C2.doms, elem) {
        if (d->weight > max)
            max = d->weight;
    }
    C2.max_weight = max;
}

/* Charges v, current on its CPU, for the time since it was last charged. */
static void c2_burn(struct sched_vcpu *v, u64 now)
{
    u64 t;

    if (now <= v->last_burn)
        return;
    t = now - v->last_burn;
    v->last_burn = now;
    v->credit -= (s64)(t * C2.max_weight / v->dom->weight);
    /* A debt is repaid up to C2_CREDIT_OWED: beyond that it is one slice
     * of a very light vCPU (weight 1 against 65535 burns a minimal slice
     * into seconds of credit) or a timer seconds late, neither worth
     * starving the vCPU for. */
    if (v->credit < -C2_CREDIT_OWED)
        v->credit = -C2_CREDIT_OWED;
    if (v->dom->cap) {
        /* An overrun (a timer late by hundreds of ms under QEMU) is repaid
         * over at most C2_CAP_MAX_DEBT periods, not for minutes. */
        v->dom->budget -= (s64)t;
        if (v->dom->budget < -(s64)C2_CAP_MAX_DEBT * c2_quota(v->dom))
            v->dom->budget = -(s64)C2_CAP_MAX_DEBT * c2_quota(v->dom);
    }
}

/* Real time in which v burns `credit` (for slice lengths). */
static u64 c2_credit_to_ns(const struct sched_vcpu *v, s64 credit)
{
    if (credit <= 0)
        return 0;
    return (u64)credit * v->dom->weight / C2.max_weight;
}

/* ---- the run queue --------------------------------------------------------- */

/* Queues v by credit: after the vCPUs with as much (FIFO among equals),
 * or before them when `woken`: of equals, the one that just woke has used
 * least CPU lately, and a wake-up is what must not wait. */
static void c2_enqueue_at(struct sched_vcpu *v, bool woken)
{
    struct list_head *pos;

    list_for_each(pos, &C2.queue) {
        s64 c = list_entry(pos, struct sched_vcpu, runq_elem)->credit;

        if (c < v->credit || (woken && c == v->credit))
            break;
    }
    list_add_tail(&v->runq_elem, pos); /* i.e. just before pos */
    v->queued = true;
}

static void c2_enqueue(struct sched_vcpu *v)
{
    c2_enqueue_at(v, false);
}

static void c2_dequeue(struct sched_vcpu *v)
{
    list_del(&v->runq_elem);
    v->queued = false;
}

/* The highest-credit queued vCPU that may run on cpu, other than skip. */
static struct sched_vcpu *c2_best(unsigned int cpu, const struct sched_vcpu *skip)
{
    struct sched_vcpu *v;

    list_for_each_entry(v, &C2.queue, runq_elem) {
        if (v != skip && c2_allowed(v, cpu))
            return v;
    }
    return NULL;
}

/* A reset changed credits of some queued vCPUs and not others: sort the
 * queue again (equal credits keep their order). */
static void c2_resort(void)
{
    struct list_head old = C2.queue;
    struct list_head *pos, *tmp;

    if (list_empty(&C2.queue))
        return;
    old.next->prev = &old;
    old.prev->next = &old;
    list_init(&C2.queue);
    list_for_each_safe(pos, tmp, &old) {
        list_del(pos);
        c2_enqueue(list_entry(pos, struct sched_vcpu, runq_elem));
    }
}

/*
 * The leader of cpu has no credit left: every vCPU that may run on cpu
 * (the others compete elsewhere) gets C2_CREDIT_INIT, as many times as the
 * leader needs to get some back.  A sleeping vCPU keeps at most
 * C2_CREDIT_INIT: it does not bank the time it did not want.  An awake one
 * keeps what it is owed, as the vCPUs it competes with keep their debts,
 * or shares would drift to whoever ran when the reset came; the bound
 * C2_CREDIT_OWED only stops growth where affinities keep a vCPU from
 * using its credit.
 */
static void c2_reset(unsigned int cpu, s64 leader_credit)
{
    s64 add = ((-leader_credit) / C2_CREDIT_INIT + 1) * C2_CREDIT_INIT;
    struct sched_dom *d;
    struct sched_vcpu *v;

    list_for_each_entry(d, &C2.doms, elem) {
        list_for_each_entry(v, &d->vcpus, dom_elem) {
            s64 c = v->credit + add, max = v->awake ? C2_CREDIT_OWED : C2_CREDIT_INIT;

            if (!c2_allowed(v, cpu))
                continue;
            v->credit = c < max ? c : max;
        }
    }
    c2_resort();
}

/* Kicks an idle CPU (other than self) that could run some queued vCPU. */
static void c2_kick_idler(unsigned int self)
{
    struct sched_vcpu *v;
    u64 want = 0, idle;

    list_for_each_entry(v, &C2.queue, runq_elem)
        want |= c2_eff_mask(v->affinity, v->dom);
    idle = C2.idle_mask & want & ~c2_bit(self);
    if (idle) {
        unsigned int cpu = c2_first_from(idle, self + 1);

        C2.idle_mask &= ~c2_bit(cpu); /* claimed: not chosen twice */
        C2.kick(cpu);
    }
}

/*
 * Credit a running vCPU will have at the end of its slice.  Wake-ups have
 * no clock (sched.h), so the running vCPUs' credit is only known as of
 * their last charge; a vCPU woken with more than this may be ahead of one
 * by now, and the CPU's c2_schedule() decides with the exact figure.
 */
static s64 c2_credit_at_slice_end(const struct c2_cpu *c)
{
    const struct sched_vcpu *v = c->curr;
    u64 left = c->slice_end > v->last_burn ? c->slice_end - v->last_burn : 0;

    return v->credit - (s64)(left * C2.max_weight / v->dom->weight);
}

/* v was just queued: send it to an idle CPU it may use, else preempt the
 * CPU running the least credit, if it may be less than v's. */
static void c2_tickle(struct sched_vcpu *v)
{
    u64 mask = c2_eff_mask(v->affinity, v->dom);
    u64 idle = C2.idle_mask & mask;
    unsigned int cpu, target = SCHED_MAX_CPUS;
    s64 lowest = v->credit;

    if (idle) {
        cpu = (idle & c2_bit(v->processor)) ? v->processor : c2_first_from(idle, v->processor);
        C2.idle_mask &= ~c2_bit(cpu);
        C2.kick(cpu);
        return;
    }
    for (cpu = 0; cpu < C2.nr_cpus; cpu++) {
        const struct c2_cpu *c = &C2.cpu[cpu];

        if ((mask & c2_bit(cpu)) && c->curr && c2_credit_at_slice_end(c) < lowest) {
            lowest = c2_credit_at_slice_end(c);
            target = cpu;
        }
    }
    if (target < C2.nr_cpus)
        C2.kick(target);
}

static void c2_make_runnable(struct sched_vcpu *v, bool woken)
{
    if (v->awake && !v->queued && !v->running && !v->parked) {
        c2_enqueue_at(v, woken);
        c2_tickle(v);
    }
}

static void c2_park(struct sched_vcpu *v)
{
    v->parked = true;
    C2.nr_parked++;
}

static void c2_unpark(struct sched_vcpu *v)
{
    if (!v->parked)
        return;
    v->parked = false;
    C2.nr_parked--;
    c2_make_runnable(v, false);
}

/* At each cap period boundary: refill every capped domain's budget (a debt
 * is repaid first) and release its parked vCPUs if that left some. */
static void c2_maybe_refill(u64 now)
{
    struct sched_dom *d;
    struct sched_vcpu *v;
    u64 periods;

    if (now < C2.next_refill)
        return;
    periods = (now - C2.next_refill) / C2_CAP_PERIOD + 1;
    if (periods > C2_CAP_MAX_PERIODS)
        periods = C2_CAP_MAX_PERIODS;
    C2.next_refill = c2_next_multiple(now, C2_CAP_PERIOD);
    list_for_each_entry(d, &C2.doms, elem) {
        s64 quota = c2_quota(d);

        if (d->cap == 0)
            continue;
        d->budget += (s64)periods * quota;
        if (d->budget > quota)
            d->budget = quota;
        if (d->budget <= 0)
            continue;
        list_for_each_entry(v, &d->vcpus, dom_elem)
            c2_unpark(v);
    }
}

/* ---- set-up and parameters ----------------------------------------------- */

static int c2_init(unsigned int nr_cpus, unsigned int flags, void (*kick)(unsigned int cpu))
{
    unsigned int cpu;

    if (nr_cpus == 0 || nr_cpus > SCHED_MAX_CPUS || kick == NULL ||
        (flags & ~SCHED_F_CPU0_DOM0) != 0 ||
        ((flags & SCHED_F_CPU0_DOM0) && nr_cpus < 2))
        return -KILN_EINVAL;
    spin_lock_init(&C2.lock);
    C2.nr_cpus = nr_cpus;
    C2.flags = flags;
    C2.online = nr_cpus == 64 ? ~0ull : c2_bit(nr_cpus) - 1;
    C2.kick = kick;
    list_init(&C2.doms);
    list_init(&C2.queue);
    C2.max_weight = SCHED_WEIGHT_MIN;
    C2.nr_parked = 0;
    C2.next_refill = C2_CAP_PERIOD;
    C2.idle_mask = C2.online;
    for (cpu = 0; cpu < SCHED_MAX_CPUS; cpu++) {
        C2.cpu[cpu].curr = NULL;
        C2.cpu[cpu].started = 0;
        C2.cpu[cpu].slice_end = 0;
    }
    return 0;
}

static int c2_dom_init(struct sched_dom *d)
{
    unsigned long irq;

    d->budget = c2_quota(d);
    irq = spin_lock_irqsave(&C2.lock);
    list_add_tail(&d->elem, &C2.doms);
    c2_update_max_weight();
    spin_unlock_irqrestore(&C2.lock, irq);
    return 0;
}

static int c2_set_params(struct sched_dom *d, u32 weight, u32 cap)
{
    struct sched_vcpu *v;
    unsigned long irq;

    irq = spin_lock_irqsave(&C2.lock);
    d->weight = weight;
    if (cap != d->cap) {
        d->cap = cap;
        d->budget = c2_quota(d);
        /* Lifting the cap releases parked vCPUs now, not a period later. */
        if (cap == 0) {
            list_for_each_entry(v, &d->vcpus, dom_elem)
                c2_unpark(v);
        }
    }
    c2_update_max_weight();
    spin_unlock_irqrestore(&C2.lock, irq);
    return 0;
}

static int c2_dom_destroy(struct sched_dom *d)
{
    unsigned long irq = spin_lock_irqsave(&C2.lock);
    int rc = 0;

    if (!list_empty(&d->vcpus)) {
        rc = -KILN_EBUSY;
    } else {
        list_del(&d->elem);
        c2_update_max_weight();
    }
    spin_unlock_irqrestore(&C2.lock, irq);
    return rc;
}

static int c2_vcpu_init(struct sched_vcpu *v, struct sched_dom *d, u32 id)
{
    unsigned long irq;

    list_init(&v->runq_elem);
    v->dom = d;
    v->credit = C2_CREDIT_INIT;
    v->affinity = C2.online;
    v->last_burn = 0;
    v->id = id;
    v->prio = SCHED_PRIO_UNDER;
    v->awake = false;
    v->queued = false;
    v->running = false;
    v->parked = false;
    v->yielded = false;
    if (c2_eff_mask(v->affinity, d) == 0)
        return -KILN_EINVAL;
    v->processor = c2_first_from(c2_eff_mask(v->affinity, d), 0);
    irq = spin_lock_irqsave(&C2.lock);
    list_add_tail(&v->dom_elem, &d->vcpus);
    spin_unlock_irqrestore(&C2.lock, irq);
    return 0;
}

static void c2_vcpu_destroy(struct sched_vcpu *v)
{
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    v->awake = false;
    if (v->parked) {
        v->parked = false;
        C2.nr_parked--;
    }
    if (v->queued)
        c2_dequeue(v);
    if (v->running) {
        /* The CPU may still be in guest mode with v: it forgets v now and
         * reschedules on the kick. */
        C2.cpu[v->processor].curr = NULL;
        v->running = false;
        C2.kick(v->processor);
    }
    list_del(&v->dom_elem);
    spin_unlock_irqrestore(&C2.lock, irq);
}

/* ---- state changes --------------------------------------------------------- */

static void c2_wake(struct sched_vcpu *v)
{
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    v->awake = true;
    c2_make_runnable(v, true);
    spin_unlock_irqrestore(&C2.lock, irq);
}

static void c2_sleep(struct sched_vcpu *v)
{
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    v->awake = false;
    if (v->queued)
        c2_dequeue(v);
    if (v->running)
        C2.kick(v->processor);
    spin_unlock_irqrestore(&C2.lock, irq);
}

static void c2_yield(struct sched_vcpu *v)
{
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    if (v->running)
        v->yielded = true;
    spin_unlock_irqrestore(&C2.lock, irq);
}

static int c2_set_affinity(struct sched_vcpu *v, u64 mask)
{
    unsigned long irq;

    if (mask == 0)
        mask = C2.online;
    if (c2_eff_mask(mask, v->dom) == 0)
        return -KILN_EINVAL;
    irq = spin_lock_irqsave(&C2.lock);
    v->affinity = mask;
    if (v->running && !c2_allowed(v, v->processor))
        C2.kick(v->processor); /* c2_schedule() puts it back in the queue */
    else if (v->queued)
        c2_tickle(v);          /* it may run somewhere new */
    spin_unlock_irqrestore(&C2.lock, irq);
    return 0;
}

/* ---- the per-CPU decisions ----------------------------------------------- */

/* Whether prev, still runnable on cpu, keeps it against next (NULL: no
 * other candidate).  On a tie next, which waited, wins. */
static bool c2_keeps_cpu(const struct c2_cpu *c, const struct sched_vcpu *prev,
                         const struct sched_vcpu *next, u64 now)
{
    if (next == NULL || prev->credit > next->credit)
        return true;
    /* Ratelimit: not preempted before it ran C2_RATELIMIT, unless its
     * credit is gone (then a reset is due, see below). */
    return prev->credit > 0 && now - c->started < C2_RATELIMIT;
}

/* Until when v, starting or going on at `now` on cpu, should run. */
static u64 c2_slice_end(unsigned int cpu, const struct sched_vcpu *v, u64 now, bool ratelimited)
{
    const struct c2_cpu *c = &C2.cpu[cpu];
    const struct sched_vcpu *rival = c2_best(cpu, NULL);
    u64 slice = C2_MAX_SLICE;

    if (ratelimited)
        return c->started + C2_RATELIMIT;
    if (rival) {
        slice = c2_credit_to_ns(v, v->credit - rival->credit + C2_MARGIN);
        if (slice > C2_MAX_SLICE)
            slice = C2_MAX_SLICE;
    }
    if (v->dom->cap && (u64)v->dom->budget < slice)
        slice = (u64)v->dom->budget;
    if (slice < C2_MIN_SLICE)
        slice = C2_MIN_SLICE;
    return now + slice;
}

static u64 c2_deadline(unsigned int cpu, u64 now)
{
    const struct c2_cpu *c = &C2.cpu[cpu];
    u64 d = c->curr ? c->slice_end : c2_next_multiple(now, C2_IDLE_TICK);

    /* Parked vCPUs come back at the next period boundary: some CPU must
     * be there to refill. */
    if (C2.nr_parked && C2.next_refill < d)
        d = C2.next_refill;
    return d;
}

static struct sched_decision c2_schedule(unsigned int cpu, u64 now)
{
    struct c2_cpu *c = &C2.cpu[cpu];
    struct sched_vcpu *prev, *next;
    struct sched_decision dec;
    bool stay = false, yielded = false, ratelimited = false;
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    c2_maybe_refill(now);
    prev = c->curr;     /* read under the lock: a destroy may have cleared it */
    c->curr = NULL;
    if (prev) {
        c2_burn(prev, now);
        prev->running = false;
        yielded = prev->yielded;
        prev->yielded = false;
        if (!prev->awake)
            ;                               /* asleep: nothing to do */
        else if (c2_out_of_budget(prev))
            c2_park(prev);
        else if (!c2_allowed(prev, cpu))
            c2_enqueue(prev);               /* another CPU takes it */
        else
            stay = true;
    }

    for (;;) {
        next = c2_best(cpu, NULL);
        if (next == NULL || !c2_out_of_budget(next))
            break;
        c2_dequeue(next);                   /* its domain's budget ran out */
        c2_park(next);
    }
    if (stay) {
        if (yielded) {
            if (next == NULL)
                next = prev;
            else
                c2_enqueue(prev);
        } else if (c2_keeps_cpu(c, prev, next, now)) {
            ratelimited = next && next->credit >= prev->credit;
            next = prev;
        } else {
            c2_enqueue(prev);
        }
    }
    if (next && next->credit <= 0)
        c2_reset(cpu, next->credit);

    if (next) {
        if (next->queued)
            c2_dequeue(next);
        if (next != prev || !stay)
            c->started = now;
        next->running = true;
        next->processor = cpu;
        next->last_burn = now;
        c->curr = next;
        c->slice_end = c2_slice_end(cpu, next, now, ratelimited);
        C2.idle_mask &= ~c2_bit(cpu);
    } else {
        C2.idle_mask |= c2_bit(cpu);
    }
    if (!list_empty(&C2.queue))
        c2_kick_idler(cpu);
    dec.vcpu = next;
    dec.deadline_ns = c2_deadline(cpu, now);
    spin_unlock_irqrestore(&C2.lock, irq);
    return dec;
}

static bool c2_tick(unsigned int cpu, u64 now, u64 *deadline_ns)
{
    struct c2_cpu *c = &C2.cpu[cpu];
    struct sched_vcpu *v, *best;
    bool resched;
    unsigned long irq = spin_lock_irqsave(&C2.lock);

    c2_maybe_refill(now);
    v = c->curr;
    best = c2_best(cpu, NULL);
    if (v == NULL) {
        resched = best != NULL;
    } else {
        c2_burn(v, now);
        resched = now >= c->slice_end || !v->awake || c2_out_of_budget(v) ||
                  !c2_allowed(v, cpu) || v->credit <= 0 ||
                  (best && best->credit >= v->credit && now - c->started >= C2_RATELIMIT);
    }
    *deadline_ns = c2_deadline(cpu, now);
    spin_unlock_irqrestore(&C2.lock, irq);
    return resched;
}

const struct sched_ops sched_credit2_ops = {
    .name = "credit2",
    .init = c2_init,
    .dom_init = c2_dom_init,
    .set_params = c2_set_params,
    .dom_destroy = c2_dom_destroy,
    .vcpu_init = c2_vcpu_init,
    .vcpu_destroy = c2_vcpu_destroy,
    .wake = c2_wake,
    .sleep = c2_sleep,
    .yield = c2_yield,
    .set_affinity = c2_set_affinity,
    .schedule = c2_schedule,
    .tick = c2_tick,
};
