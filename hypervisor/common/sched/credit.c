/*
 * credit.c - the credit scheduler (policy described in include/kiln/sched.h),
 * one implementation of struct sched_ops (dispatch in ops.c).
 *
 * Locking, in the order they may be taken:
 *   1. S.acct_lock: the domain list, weights and caps, the accounting pass.
 *   2. rq[n].lock: run queue n, and every field of a vCPU whose `processor`
 *      is n except `credit` (atomic) and `active` (acct_lock).  When two
 *      run queue locks are needed they are taken lowest CPU first; the load
 *      balancer only ever trylocks a second one, so it needs no order.
 * A vCPU changes `processor` only with both the old and the new CPU's lock
 * held, so holding the lock of v->processor pins v.  Every lock is taken
 * with interrupts off because wake-ups come from interrupt handlers.
 */
#include <kiln/compiler.h>
#include <kiln/sched.h>
#include <kiln/spinlock.h>
#include <public/kiln.h>

/*
 * Credit is conserved: a vCPU is debited exactly the time it ran, however
 * late the tick that stops it, and each accounting pass hands out exactly
 * the time elapsed since the previous one.  So among vCPUs that compete
 * for a CPU, what one gains another has lost and shares follow weights
 * even when timers fire tens of milliseconds late (QEMU TCG on a loaded
 * host).  Bounds apply in the accounting pass and cut only what is not
 * owed to or by a competitor; elsewhere credit stays within one timeslice
 * of zero, as in Xen:
 *  - a vCPU that ran while others waited for its CPU owes that time: its
 *    debt is carried (one that ran 80 ms of a 30 ms slice repays 50 ms
 *    later; forgiving it would favour whoever overran most, i.e. the
 *    lowest weights).  A capped vCPU always owes its overruns: the cap is
 *    a limit whether or not anyone competes.
 *  - one that waited for a CPU all period, never sleeping, is owed what
 *    it earned meanwhile.
 *  - one that slept did not want its share; one that had a CPU to itself
 *    took time from nobody: both are bounded by one timeslice.
 * CREDIT_OWED is above the longest stall seen under QEMU TCG on a loaded
 * 2-core host (~300 ms); it bounds how long a vCPU stays OVER after a
 * stall of the whole machine, and the growth of vCPUs that can never use
 * their share (pinned with others, see the header).
 */
#define CREDIT_SLICE ((s64)SCHED_TSLICE_NS)
#define CREDIT_OWED  ((s64)(10 * SCHED_TSLICE_NS))
/* An accounting pass pays for at most this much elapsed time: a longer gap
 * means a jump of the clock, or a machine that ran nothing to be paid for. */
#define ACCT_MAX_NS  (32 * SCHED_ACCT_NS)

#define PRIO_IDLE (-1) /* what an empty CPU compares as when stealing */

struct runq {
    spinlock_t lock;
    struct list_head queue;   /* sorted by prio, highest first; FIFO within */
    struct sched_vcpu *curr;  /* NULL while the CPU runs its idle loop */
    u32 nr_queued;
    u64 slice_end;
    u64 next_tick;
    u64 sorted_gen;           /* S.acct_gen when the queue was last re-sorted */
};

static struct {
    unsigned int nr_cpus;
    unsigned int flags;
    u64 online;
    void (*kick)(unsigned int cpu);
    spinlock_t acct_lock;
    struct list_head doms;
    u64 next_acct;
    u64 last_acct;            /* time of the last accounting pass */
    u64 acct_gen;             /* accounting passes so far (atomic) */
    u64 idle_mask;            /* bit n: CPU n runs its idle loop (atomic) */
    u64 group_cpus[SCHED_MAX_CPUS];   /* scratch of the accounting pass */
    u64 group_weight[SCHED_MAX_CPUS];
    struct runq rq[SCHED_MAX_CPUS];
} S;

static inline u64 cpu_bit(unsigned int cpu)
{
    return 1ull << cpu;
}

static unsigned int popcount64(u64 x)
{
    unsigned int n = 0;

    for (; x; x &= x - 1)
        n++;
    return n;
}

static u64 next_multiple(u64 now, u64 period)
{
    return (now / period + 1) * period;
}

/* The CPUs a vCPU of d with affinity mask may actually use: minus CPU 0
 * when that is reserved for dom0. */
static u64 eff_mask(u64 mask, const struct sched_dom *d)
{
    u64 m = mask & S.online;

    if ((S.flags & SCHED_F_CPU0_DOM0) && !(d->flags & SCHED_DOM_F_DOM0))
        m &= ~cpu_bit(0);
    return m;
}

static u64 eff_affinity(const struct sched_vcpu *v)
{
    return eff_mask(v->affinity, v->dom);
}

static s64 credit_read(const struct sched_vcpu *v)
{
    return __atomic_load_n(&v->credit, __ATOMIC_RELAXED);
}

/* Adds earned credit to v's, then bounds it to [min, max].  v's own CPU
 * may debit it concurrently. */
static void credit_earn(struct sched_vcpu *v, s64 delta, s64 min, s64 max)
{
    s64 old = credit_read(v), new;

    do {
        new = old + delta;
        if (new > max)
            new = max;
        if (new < min)
            new = min;
    } while (!__atomic_compare_exchange_n(&v->credit, &old, new, false,
                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED));
}

static enum sched_prio prio_of_credit(const struct sched_vcpu *v, bool boost)
{
    if (credit_read(v) < 0)
        return SCHED_PRIO_OVER;
    return boost ? SCHED_PRIO_BOOST : SCHED_PRIO_UNDER;
}

static bool out_of_cap(const struct sched_vcpu *v)
{
    return v->dom->cap != 0 && credit_read(v) <= 0;
}

/* Charges v, current on cpu, for the time since it was last charged;
 * cpu's lock held.  If others waited for cpu meanwhile, v and they
 * competed: see the credit bounds above. */
static void burn(unsigned int cpu, struct sched_vcpu *v, u64 now)
{
    struct sched_vcpu *w;

    if (now > v->last_burn) {
        __atomic_sub_fetch(&v->credit, (s64)(now - v->last_burn), __ATOMIC_RELAXED);
        v->last_burn = now;
        if (S.rq[cpu].nr_queued) {
            __atomic_store_n(&v->contended, true, __ATOMIC_RELAXED);
            list_for_each_entry(w, &S.rq[cpu].queue, runq_elem)
                __atomic_store_n(&w->contended, true, __ATOMIC_RELAXED);
        }
    }
    __atomic_store_n(&v->ran, true, __ATOMIC_RELAXED);
}

/* Locks the run queue that covers v and returns its CPU. Interrupts must
 * already be off. */
static unsigned int vcpu_lock(const struct sched_vcpu *v)
{
    for (;;) {
        unsigned int cpu = READ_ONCE(v->processor);

        spin_lock(&S.rq[cpu].lock);
        if (READ_ONCE(v->processor) == cpu)
            return cpu;
        spin_unlock(&S.rq[cpu].lock);
    }
}

static void lock_two(unsigned int a, unsigned int b)
{
    if (a == b) {
        spin_lock(&S.rq[a].lock);
        return;
    }
    spin_lock(&S.rq[a < b ? a : b].lock);
    spin_lock(&S.rq[a < b ? b : a].lock);
}

static void unlock_two(unsigned int a, unsigned int b)
{
    spin_unlock(&S.rq[a].lock);
    if (a != b)
        spin_unlock(&S.rq[b].lock);
}

static void runq_insert(unsigned int cpu, struct sched_vcpu *v)
{
    struct runq *rq = &S.rq[cpu];
    struct list_head *pos;

    list_for_each(pos, &rq->queue) {
        if (list_entry(pos, struct sched_vcpu, runq_elem)->prio < v->prio)
            break;
    }
    list_add_tail(&v->runq_elem, pos); /* i.e. just before pos */
    v->queued = true;
    rq->nr_queued++;
}

static void runq_remove(unsigned int cpu, struct sched_vcpu *v)
{
    list_del(&v->runq_elem);
    v->queued = false;
    S.rq[cpu].nr_queued--;
}

static struct sched_vcpu *runq_head(unsigned int cpu)
{
    struct runq *rq = &S.rq[cpu];

    if (list_empty(&rq->queue))
        return NULL;
    return list_first_entry(&rq->queue, struct sched_vcpu, runq_elem);
}

/*
 * Credits changed in an accounting pass, so queued vCPUs may have crossed
 * between UNDER and OVER: recompute their priorities (BOOST stays) and
 * re-sort, once per pass, on the CPU's next tick or schedule.  lock held.
 */
static void runq_resort(unsigned int cpu)
{
    struct runq *rq = &S.rq[cpu];
    u64 gen = __atomic_load_n(&S.acct_gen, __ATOMIC_RELAXED);
    struct list_head old;
    struct list_head *pos, *tmp;

    if (rq->sorted_gen == gen)
        return;
    rq->sorted_gen = gen;
    if (list_empty(&rq->queue))
        return;
    /* Move the queue aside and insert back in order; equal priorities keep
     * their relative order, so round-robin is not disturbed. */
    old = rq->queue;
    old.next->prev = &old;
    old.prev->next = &old;
    list_init(&rq->queue);
    rq->nr_queued = 0;
    list_for_each_safe(pos, tmp, &old) {
        struct sched_vcpu *v = list_entry(pos, struct sched_vcpu, runq_elem);

        list_del(pos);
        v->prio = (s8)prio_of_credit(v, v->prio == SCHED_PRIO_BOOST);
        runq_insert(cpu, v);
    }
}

static bool cpu_is_idle(unsigned int cpu)
{
    return (__atomic_load_n(&S.idle_mask, __ATOMIC_RELAXED) & cpu_bit(cpu)) &&
           READ_ONCE(S.rq[cpu].nr_queued) == 0;
}

/* First CPU of mask at or after `from`, wrapping around; mask != 0. */
static unsigned int first_cpu_from(u64 mask, unsigned int from)
{
    u64 high = mask & ~(cpu_bit(from) - 1);

    return (unsigned int)__builtin_ctzll(high ? high : mask);
}

/* Where a vCPU that becomes runnable should queue: stay put if that CPU is
 * idle, else take any idle CPU it may use, else stay put if allowed. */
static unsigned int pick_cpu(const struct sched_vcpu *v, unsigned int cur)
{
    u64 allowed = eff_affinity(v);
    u64 idle = 0;
    unsigned int cpu;

    if ((allowed & cpu_bit(cur)) && cpu_is_idle(cur))
        return cur;
    for (cpu = 0; cpu < S.nr_cpus; cpu++) {
        if ((allowed & cpu_bit(cpu)) && cpu_is_idle(cpu))
            idle |= cpu_bit(cpu);
    }
    if (idle)
        return first_cpu_from(idle, (cur + 1) % S.nr_cpus);
    if (allowed & cpu_bit(cur))
        return cur;
    return first_cpu_from(allowed, (cur + 1) % S.nr_cpus);
}

/* Kicks one idle CPU in mask (other than self) so it comes to steal. */
static void kick_idler(unsigned int self, u64 mask)
{
    u64 idle = __atomic_load_n(&S.idle_mask, __ATOMIC_RELAXED) & mask & ~cpu_bit(self);

    if (idle)
        S.kick(first_cpu_from(idle, (self + 1) % S.nr_cpus));
}

/* Queues v on cpu (lock held) and kicks that CPU if v should preempt what
 * it runs now. */
static void enqueue_and_tickle(unsigned int cpu, struct sched_vcpu *v, bool boost)
{
    struct sched_vcpu *curr = S.rq[cpu].curr;

    v->prio = (s8)prio_of_credit(v, boost);
    runq_insert(cpu, v);
    if (curr == NULL || v->prio > curr->prio)
        S.kick(cpu);
    else
        kick_idler(cpu, eff_affinity(v));
}

static bool wants_queue(const struct sched_vcpu *v)
{
    return v->awake && !v->queued && !v->running && !v->parked;
}

/*
 * Puts an awake vCPU that is neither queued, running nor parked on the run
 * queue of a suitable CPU.  Takes run queue locks itself: the caller holds
 * none (acct_lock is fine), with interrupts off.
 */
static void make_runnable(struct sched_vcpu *v, bool boost)
{
    for (;;) {
        unsigned int cpu = vcpu_lock(v), target;

        if (!wants_queue(v)) {
            spin_unlock(&S.rq[cpu].lock);
            return;
        }
        target = pick_cpu(v, cpu);
        if (target == cpu) {
            enqueue_and_tickle(cpu, v, boost);
            spin_unlock(&S.rq[cpu].lock);
            return;
        }
        spin_unlock(&S.rq[cpu].lock);
        lock_two(cpu, target);
        if (READ_ONCE(v->processor) == cpu) {
            if (wants_queue(v)) {
                WRITE_ONCE(v->processor, target);
                enqueue_and_tickle(target, v, boost);
            }
            unlock_two(cpu, target);
            return;
        }
        unlock_two(cpu, target); /* moved meanwhile: look again */
    }
}

/* ---- accounting ---------------------------------------------------------- */

static void unpark(struct sched_vcpu *v)
{
    unsigned int cpu = vcpu_lock(v);
    bool refilled = v->parked && (v->dom->cap == 0 || credit_read(v) > 0);

    if (refilled)
        v->parked = false;
    spin_unlock(&S.rq[cpu].lock);
    if (refilled)
        make_runnable(v, false);
}

/* Whether v competed for a CPU since the last pass: marked by burn(), or
 * competing right now (another CPU may run this pass between two ticks of
 * v's CPU).  A racy snapshot is fine: it only picks a credit bound. */
static bool competed(struct sched_vcpu *v)
{
    bool marked = __atomic_exchange_n(&v->contended, false, __ATOMIC_RELAXED);

    if (marked || READ_ONCE(v->queued))
        return true;
    return READ_ONCE(v->running) && READ_ONCE(S.rq[READ_ONCE(v->processor)].nr_queued) != 0;
}

/*
 * Groups the CPUs into the sets that active vCPUs compete for: two vCPUs
 * whose affinities overlap, directly or through others, are in one group.
 * Fills S.group_cpus/group_weight (a domain's weight counts once per active
 * vCPU, as in Xen) and returns the number of groups; acct_lock held.
 */
static unsigned int find_groups(void)
{
    const struct sched_dom *d;
    const struct sched_vcpu *v;
    unsigned int n = 0, i;

    list_for_each_entry(d, &S.doms, elem) {
        list_for_each_entry(v, &d->vcpus, dom_elem) {
            u64 m = eff_affinity(v);

            if (!v->active)
                continue;
            /* Merge every group m touches into m; groups stay disjoint, so
             * there are at most SCHED_MAX_CPUS of them. */
            for (i = 0; i < n;) {
                if (S.group_cpus[i] & m) {
                    m |= S.group_cpus[i];
                    S.group_cpus[i] = S.group_cpus[--n];
                } else {
                    i++;
                }
            }
            S.group_cpus[n++] = m;
        }
    }
    for (i = 0; i < n; i++)
        S.group_weight[i] = 0;
    list_for_each_entry(d, &S.doms, elem) {
        list_for_each_entry(v, &d->vcpus, dom_elem) {
            for (i = 0; v->active && i < n; i++) {
                if (S.group_cpus[i] & eff_affinity(v)) {
                    S.group_weight[i] += d->weight;
                    break;
                }
            }
        }
    }
    return n;
}

/*
 * Shares `elapsed` ns of CPU time among the active vCPUs; acct_lock held.
 * A vCPU is active if it wants to run or ran during the period, so blocked
 * vCPUs do not dilute the shares of the ones competing.  Each group of
 * CPUs (find_groups) hands out its CPUs' time to its vCPUs by weight, and
 * no vCPU earns more than one CPU's worth.  So three vCPUs pinned to CPU 1
 * share CPU 1 by weight whatever runs on the others.  Within a group,
 * mixing pinned and unpinned vCPUs gives approximate shares, as in Xen.
 */
static void distribute_credit(u64 elapsed)
{
    struct sched_dom *d;
    struct sched_vcpu *v;
    unsigned int groups, i;

    list_for_each_entry(d, &S.doms, elem) {
        d->nr_active = 0;
        list_for_each_entry(v, &d->vcpus, dom_elem) {
            bool ran = __atomic_exchange_n(&v->ran, false, __ATOMIC_RELAXED);

            v->active = READ_ONCE(v->awake) || ran;
            if (v->active)
                d->nr_active++;
        }
    }
    groups = find_groups();

    list_for_each_entry(d, &S.doms, elem) {
        /* A cap bounds the whole domain, split evenly over its vCPUs. */
        u64 cap_each = d->nr_active ? (elapsed * d->cap / 100 + d->nr_active - 1) / d->nr_active : 0;

        list_for_each_entry(v, &d->vcpus, dom_elem) {
            bool slept = __atomic_exchange_n(&v->slept, false, __ATOMIC_RELAXED);
            bool contended = competed(v);
            bool waited = contended && !slept && READ_ONCE(v->awake);
            u64 each = 0;

            if (!v->active)
                continue;
            for (i = 0; i < groups; i++) {
                if (S.group_cpus[i] & eff_affinity(v)) {
                    each = elapsed * popcount64(S.group_cpus[i]) * d->weight / S.group_weight[i];
                    break;
                }
            }
            if (each > elapsed)
                each = elapsed;
            if (d->cap != 0 && each > cap_each)
                each = cap_each;
            credit_earn(v, (s64)each, contended || d->cap ? -CREDIT_OWED : -CREDIT_SLICE,
                        waited ? CREDIT_OWED : CREDIT_SLICE);
            if (READ_ONCE(v->parked))
                unpark(v);
        }
    }
}

/* Runs the accounting pass if a period boundary has passed; whichever CPU
 * gets here first does it. */
static void maybe_account(u64 now)
{
    if (now < __atomic_load_n(&S.next_acct, __ATOMIC_RELAXED))
        return;
    spin_lock(&S.acct_lock);
    if (now >= S.next_acct) {
        /* A late pass pays for all the time since the last one: the
         * running vCPUs were debited for all of it. */
        u64 elapsed = now - S.last_acct;

        S.last_acct = now;
        __atomic_store_n(&S.next_acct, next_multiple(now, SCHED_ACCT_NS), __ATOMIC_RELAXED);
        distribute_credit(elapsed < ACCT_MAX_NS ? elapsed : ACCT_MAX_NS);
        __atomic_fetch_add(&S.acct_gen, 1, __ATOMIC_RELAXED);
    }
    spin_unlock(&S.acct_lock);
}

/* ---- set-up and parameters ----------------------------------------------- */

static int credit_init(unsigned int nr_cpus, unsigned int flags, void (*kick)(unsigned int cpu))
{
    unsigned int cpu;

    if (nr_cpus == 0 || nr_cpus > SCHED_MAX_CPUS || kick == NULL ||
        (flags & ~SCHED_F_CPU0_DOM0) != 0 ||
        ((flags & SCHED_F_CPU0_DOM0) && nr_cpus < 2))
        return -KILN_EINVAL;
    S.nr_cpus = nr_cpus;
    S.flags = flags;
    S.online = nr_cpus == 64 ? ~0ull : cpu_bit(nr_cpus) - 1;
    S.kick = kick;
    spin_lock_init(&S.acct_lock);
    list_init(&S.doms);
    S.next_acct = SCHED_ACCT_NS;
    S.last_acct = 0;
    S.acct_gen = 0;
    S.idle_mask = S.online;
    for (cpu = 0; cpu < SCHED_MAX_CPUS; cpu++) {
        struct runq *rq = &S.rq[cpu];

        spin_lock_init(&rq->lock);
        list_init(&rq->queue);
        rq->curr = NULL;
        rq->nr_queued = 0;
        rq->slice_end = 0;
        rq->next_tick = SCHED_TICK_NS;
        rq->sorted_gen = 0;
    }
    return 0;
}

static int credit_dom_init(struct sched_dom *d)
{
    unsigned long irq;

    irq = spin_lock_irqsave(&S.acct_lock);
    list_add_tail(&d->elem, &S.doms);
    spin_unlock_irqrestore(&S.acct_lock, irq);
    return 0;
}

static int credit_set_params(struct sched_dom *d, u32 weight, u32 cap)
{
    struct sched_vcpu *v;
    unsigned long irq;

    irq = spin_lock_irqsave(&S.acct_lock);
    d->weight = weight;
    d->cap = cap;
    /* Lifting the cap releases parked vCPUs now, not a period later. */
    if (cap == 0) {
        list_for_each_entry(v, &d->vcpus, dom_elem) {
            if (READ_ONCE(v->parked))
                unpark(v);
        }
    }
    spin_unlock_irqrestore(&S.acct_lock, irq);
    return 0;
}

static int credit_dom_destroy(struct sched_dom *d)
{
    unsigned long irq = spin_lock_irqsave(&S.acct_lock);
    int rc = 0;

    if (!list_empty(&d->vcpus))
        rc = -KILN_EBUSY;
    else
        list_del(&d->elem);
    spin_unlock_irqrestore(&S.acct_lock, irq);
    return rc;
}

static int credit_vcpu_init(struct sched_vcpu *v, struct sched_dom *d, u32 id)
{
    unsigned long irq;

    list_init(&v->runq_elem);
    v->dom = d;
    v->credit = 0;
    v->affinity = S.online;
    v->last_burn = 0;
    v->id = id;
    v->prio = SCHED_PRIO_UNDER;
    v->awake = false;
    v->queued = false;
    v->running = false;
    v->parked = false;
    v->yielded = false;
    v->ran = false;
    v->slept = true;
    v->contended = false;
    v->active = false;
    if (eff_affinity(v) == 0)
        return -KILN_EINVAL;
    v->processor = first_cpu_from(eff_affinity(v), 0);
    irq = spin_lock_irqsave(&S.acct_lock);
    list_add_tail(&v->dom_elem, &d->vcpus);
    spin_unlock_irqrestore(&S.acct_lock, irq);
    return 0;
}

static void credit_vcpu_destroy(struct sched_vcpu *v)
{
    unsigned long irq = spin_lock_irqsave(&S.acct_lock);
    unsigned int cpu = vcpu_lock(v);

    v->awake = false;
    v->parked = false;
    if (v->queued)
        runq_remove(cpu, v);
    if (v->running) {
        /* The CPU may still be in guest mode with v: it forgets v now and
         * reschedules on the kick. */
        S.rq[cpu].curr = NULL;
        v->running = false;
        S.kick(cpu);
    }
    spin_unlock(&S.rq[cpu].lock);
    list_del(&v->dom_elem);
    spin_unlock_irqrestore(&S.acct_lock, irq);
}

/* ---- state changes --------------------------------------------------------- */

static void credit_wake(struct sched_vcpu *v)
{
    unsigned long irq = local_irq_save();
    unsigned int cpu = vcpu_lock(v);
    bool was_awake = v->awake;

    v->awake = true;
    spin_unlock(&S.rq[cpu].lock);
    /* BOOST is for a vCPU coming back from sleep, not for repeated wakes. */
    make_runnable(v, !was_awake);
    local_irq_restore(irq);
}

static void credit_sleep(struct sched_vcpu *v)
{
    unsigned long irq = local_irq_save();
    unsigned int cpu = vcpu_lock(v);

    if (v->awake)
        __atomic_store_n(&v->slept, true, __ATOMIC_RELAXED);
    v->awake = false;
    if (v->queued)
        runq_remove(cpu, v);
    if (v->running)
        S.kick(cpu);
    spin_unlock(&S.rq[cpu].lock);
    local_irq_restore(irq);
}

static void credit_yield(struct sched_vcpu *v)
{
    unsigned long irq = local_irq_save();
    unsigned int cpu = vcpu_lock(v);

    if (v->running)
        v->yielded = true;
    spin_unlock(&S.rq[cpu].lock);
    local_irq_restore(irq);
}

static int credit_set_affinity(struct sched_vcpu *v, u64 mask)
{
    unsigned long irq;
    unsigned int cpu;
    bool move = false;

    if (mask == 0)
        mask = S.online;
    if (eff_mask(mask, v->dom) == 0)
        return -KILN_EINVAL;
    irq = local_irq_save();
    cpu = vcpu_lock(v);
    v->affinity = mask;
    if (!(eff_affinity(v) & cpu_bit(cpu))) {
        if (v->queued) {
            runq_remove(cpu, v);
            move = true;
        }
        if (v->running)
            S.kick(cpu); /* sched_schedule() moves it elsewhere */
    }
    spin_unlock(&S.rq[cpu].lock);
    if (move)
        make_runnable(v, false);
    local_irq_restore(irq);
    return 0;
}

/* ---- the per-CPU decisions ----------------------------------------------- */

/* Moves to cpu's queue the best vCPU queued elsewhere that beats `prio`
 * and may run here.  cpu's lock is held; peers are only trylocked. */
static bool steal(unsigned int cpu, int prio)
{
    unsigned int i;

    for (i = 1; i < S.nr_cpus; i++) {
        unsigned int peer = (cpu + i) % S.nr_cpus;
        struct sched_vcpu *v, *found = NULL;

        if (READ_ONCE(S.rq[peer].nr_queued) == 0 || !spin_trylock(&S.rq[peer].lock))
            continue;
        list_for_each_entry(v, &S.rq[peer].queue, runq_elem) {
            if (v->prio <= prio)
                break;
            if (eff_affinity(v) & cpu_bit(cpu)) {
                found = v;
                break;
            }
        }
        if (found) {
            runq_remove(peer, found);
            WRITE_ONCE(found->processor, cpu);
            runq_insert(cpu, found);
        }
        spin_unlock(&S.rq[peer].lock);
        if (found)
            return true;
    }
    return false;
}

/* Union of the CPUs the vCPUs waiting on cpu's queue could run on. */
static u64 queued_affinity(unsigned int cpu)
{
    struct sched_vcpu *v;
    u64 mask = 0;

    list_for_each_entry(v, &S.rq[cpu].queue, runq_elem)
        mask |= eff_affinity(v);
    return mask;
}

static u64 deadline_of(const struct runq *rq)
{
    if (rq->curr && rq->slice_end < rq->next_tick)
        return rq->slice_end;
    return rq->next_tick;
}

static u64 slice_for(const struct sched_vcpu *v)
{
    s64 c;

    if (v->dom->cap == 0)
        return SCHED_TSLICE_NS;
    /* Stop a capped vCPU when its credit runs out, so it gets its share
     * to within a fraction of a tick. */
    c = credit_read(v);
    if (c < (s64)SCHED_MIN_SLICE_NS)
        return SCHED_MIN_SLICE_NS;
    return (u64)c < SCHED_TSLICE_NS ? (u64)c : SCHED_TSLICE_NS;
}

static struct sched_decision credit_schedule(unsigned int cpu, u64 now)
{
    struct runq *rq = &S.rq[cpu];
    struct sched_vcpu *prev, *next;
    struct sched_decision d;
    bool migrate = false, yielded = false;
    unsigned long irq = local_irq_save();

    maybe_account(now);
    spin_lock(&rq->lock);
    if (rq->next_tick <= now)
        rq->next_tick = next_multiple(now, SCHED_TICK_NS);
    runq_resort(cpu);

    prev = rq->curr;
    rq->curr = NULL;
    if (prev) {
        burn(cpu, prev, now);
        prev->running = false;
        yielded = prev->yielded;
        prev->yielded = false;
        if (!prev->awake)
            yielded = false;
        else if (out_of_cap(prev))
            prev->parked = true;
        else if (!(eff_affinity(prev) & cpu_bit(cpu)))
            migrate = true;
        else if (!yielded) {
            prev->prio = (s8)prio_of_credit(prev, false);
            runq_insert(cpu, prev);
        }
        if (prev->parked || migrate)
            yielded = false;
    }

    next = runq_head(cpu);
    if ((next == NULL || next->prio < SCHED_PRIO_UNDER) &&
        steal(cpu, next ? next->prio : PRIO_IDLE))
        next = runq_head(cpu);

    if (yielded) {
        /* prev goes behind everything else that can run here now. */
        prev->prio = (s8)prio_of_credit(prev, false);
        if (next == NULL) {
            next = prev;
        } else {
            runq_insert(cpu, prev);
        }
    }
    if (next && next->queued)
        runq_remove(cpu, next);

    if (next) {
        next->running = true;
        next->last_burn = now;
        rq->curr = next;
        rq->slice_end = now + slice_for(next);
        __atomic_fetch_and(&S.idle_mask, ~cpu_bit(cpu), __ATOMIC_RELAXED);
    } else {
        __atomic_fetch_or(&S.idle_mask, cpu_bit(cpu), __ATOMIC_RELAXED);
    }
    if (rq->nr_queued)
        kick_idler(cpu, queued_affinity(cpu));
    d.vcpu = next;
    d.deadline_ns = deadline_of(rq);
    spin_unlock(&rq->lock);

    if (migrate)
        make_runnable(prev, false);
    local_irq_restore(irq);
    return d;
}

static bool credit_tick(unsigned int cpu, u64 now, u64 *deadline_ns)
{
    struct runq *rq = &S.rq[cpu];
    struct sched_vcpu *v, *head;
    bool tick_due, resched;
    unsigned long irq = local_irq_save();

    maybe_account(now);
    spin_lock(&rq->lock);
    runq_resort(cpu);
    tick_due = now >= rq->next_tick;
    if (tick_due)
        rq->next_tick = next_multiple(now, SCHED_TICK_NS);
    v = rq->curr;
    head = runq_head(cpu);
    if (v == NULL) {
        /* An idle CPU looks for work to steal at every tick. */
        resched = tick_due || head != NULL;
    } else {
        burn(cpu, v, now);
        /* BOOST lasts until the first tick that finds the vCPU running. */
        if (tick_due || v->prio != SCHED_PRIO_BOOST)
            v->prio = (s8)prio_of_credit(v, false);
        resched = now >= rq->slice_end || !v->awake || out_of_cap(v) ||
                  !(eff_affinity(v) & cpu_bit(cpu)) ||
                  (head != NULL && head->prio > v->prio);
    }
    *deadline_ns = deadline_of(rq);
    spin_unlock(&rq->lock);
    local_irq_restore(irq);
    return resched;
}

/* ---- queries ----------------------------------------------------------------- */

enum sched_prio sched_vcpu_prio(const struct sched_vcpu *v)
{
    return (enum sched_prio)READ_ONCE(v->prio);
}

const struct sched_ops sched_credit_ops = {
    .name = "credit",
    .init = credit_init,
    .dom_init = credit_dom_init,
    .set_params = credit_set_params,
    .dom_destroy = credit_dom_destroy,
    .vcpu_init = credit_vcpu_init,
    .vcpu_destroy = credit_vcpu_destroy,
    .wake = credit_wake,
    .sleep = credit_sleep,
    .yield = credit_yield,
    .set_affinity = credit_set_affinity,
    .schedule = credit_schedule,
    .tick = credit_tick,
};
