/*
 * sched.h - the scheduler's interface.  Implementations sit behind one
 * table of operations (struct sched_ops, dispatched by common/sched/ops.c),
 * chosen once at boot with sched_select() before sched_init(): credit
 * (common/sched/credit.c, the default) and credit2 (common/sched/credit2.c,
 * latency-aware).  Callers use the sched_* functions below whichever is
 * chosen.
 *
 * The policy described next is credit's; credit2's is described at the top
 * of credit2.c.  Every scheduler follows the same contract (below).
 *
 * The scheduler is pure mechanism driven by the hypervisor with explicit
 * time: it never reads a clock, arms a timer or switches context itself.
 * Each CPU calls sched_schedule() to learn what to run next and until when,
 * and sched_tick() when that deadline passes.  This keeps it deterministic
 * and testable on the host with simulated time (tests/test_sched_credit.c).
 *
 * Policy, in the spirit of Xen's credit1:
 *  - credits are nanoseconds of CPU time.  Every SCHED_ACCT_NS one CPU runs
 *    the accounting pass.  The CPUs fall into groups that active vCPUs
 *    compete for (vCPUs whose affinities overlap, directly or through
 *    others, are in one group); each group's pool (the time since the
 *    previous pass, i.e. SCHED_ACCT_NS unless timers fire late, times its
 *    number of CPUs) is shared among its active vCPUs in proportion to
 *    their domains' weights (as in Xen, a domain's weight counts per
 *    vCPU), and no vCPU earns more than one CPU's worth.  An active vCPU
 *    is one that is awake or ran in the period.  The running vCPU is
 *    debited for exactly the time it ran, however late the timer that
 *    stopped it.  So vCPUs pinned to CPU 1 share it by weight whatever
 *    runs on CPU 0; within a group, mixing pinned and unpinned vCPUs gives
 *    approximate shares, as in Xen.
 *  - credit bounds: as in Xen, credit stays within one timeslice of zero,
 *    except between vCPUs competing for a CPU: one kept waiting keeps what
 *    it is owed, and one that ran while others waited (or is capped)
 *    repays its overruns, both within 10 timeslices.  So shares hold when
 *    timer interrupts come late (QEMU TCG on a loaded host), where
 *    clamping at one timeslice would not.
 *  - priorities: BOOST (just woken from sleep with credit left), UNDER
 *    (credit >= 0), OVER (credit < 0).  Higher priority always runs first;
 *    equal priorities round-robin with a SCHED_TSLICE_NS timeslice.
 *  - cap: a domain may use at most cap percent of one CPU in total (split
 *    over its active vCPUs).  A capped vCPU that has used its share is
 *    parked until an accounting pass refills its credit.
 *  - a CPU that would go idle, or has only OVER work, steals better work
 *    from another CPU's queue (respecting affinity).
 *
 * The structures below contain only scheduler state, so the hypervisor's
 * domain and vCPU embed them (container_of gets back to the owner).
 *
 * Contract with the hypervisor:
 *  - boot: sched_init() once, before any other call; pass SCHED_F_CPU0_DOM0
 *    when a dom0 exists and give dom0's sched_dom_init() SCHED_DOM_F_DOM0.
 *  - every CPU loops: d = sched_schedule(cpu, now) on its own CPU, with
 *    the outgoing vCPU's state saved (another CPU may pick it up before
 *    sched_schedule returns); run d.vcpu (or idle when NULL) until
 *    d.deadline_ns or a kick; at the deadline call sched_tick() and
 *    reschedule if it says so, else re-arm at the deadline it returns.
 *  - kick(cpu) means "call sched_schedule() on cpu soon": set a flag, and
 *    send an IPI when cpu is not the calling CPU.
 *  - sched_wake/sleep/yield/set_affinity/set_params may come from any CPU,
 *    also from interrupt handlers.  The scheduler takes its own locks with
 *    interrupts off and calls nothing but kick(), so callers may hold
 *    their own locks around these calls.
 *  - now_ns must be one monotonic clock shared by all CPUs.
 */
#ifndef KILN_SCHED_H
#define KILN_SCHED_H

#include <kiln/list.h>
#include <kiln/types.h>

#define SCHED_MAX_CPUS        64
#define SCHED_TSLICE_NS       30000000ull  /* 30 ms */
#define SCHED_TICK_NS         10000000ull  /* 10 ms: debit and BOOST expiry */
#define SCHED_ACCT_NS         30000000ull  /* 30 ms: credit distribution */
/* A capped vCPU is never given a slice shorter than this, so a few
 * nanoseconds of credit do not turn into a storm of reschedules; the
 * overrun is debited and repaid in the next period. */
#define SCHED_MIN_SLICE_NS      500000ull  /* 0.5 ms */

#define SCHED_WEIGHT_MIN      1u
#define SCHED_WEIGHT_MAX      65535u
#define SCHED_WEIGHT_DEFAULT  256u

/* sched_init() flags */
#define SCHED_F_CPU0_DOM0     (1u << 0) /* CPU 0 runs only dom0 vCPUs */

/* sched_dom_init() flags */
#define SCHED_DOM_F_DOM0      (1u << 0) /* this is dom0 (may use CPU 0) */

enum sched_prio {
    SCHED_PRIO_OVER  = 0,
    SCHED_PRIO_UNDER = 1,
    SCHED_PRIO_BOOST = 2,
};

/* Embedded in the hypervisor's domain. */
struct sched_dom {
    struct list_head elem;     /* in the scheduler's domain list */
    struct list_head vcpus;    /* struct sched_vcpu.dom_elem */
    u32 weight;                /* SCHED_WEIGHT_MIN..MAX */
    u32 cap;                   /* percent of one CPU for the whole domain, 0 = none */
    u32 flags;                 /* SCHED_DOM_F_* */
    u32 nr_active;             /* credit: scratch of the accounting pass */
    s64 budget;                /* credit2: ns of the cap left this period */
};

/* Embedded in the hypervisor's vCPU.  Fields are private to the
 * schedulers; credit2 uses a subset of them (see credit2.c). */
struct sched_vcpu {
    struct list_head runq_elem;   /* in rq[processor] while queued */
    struct list_head dom_elem;
    struct sched_dom *dom;
    s64 credit;                   /* ns; atomically updated */
    u64 affinity;                 /* bit n = may run on CPU n (never 0) */
    u64 last_burn;                /* time up to which credit was debited */
    u32 processor;                /* CPU whose run queue lock covers us */
    u32 id;                       /* vCPU number inside the domain */
    s8  prio;                     /* enum sched_prio */
    bool awake;                   /* wants to run (sched_wake/sleep) */
    bool queued;                  /* on rq[processor]'s run queue */
    bool running;                 /* current vCPU of rq[processor] */
    bool parked;                  /* capped and out of credit */
    bool yielded;                 /* asked to step aside once */
    bool ran;                     /* debited since the last accounting */
    bool slept;                   /* went to sleep since the last accounting */
    bool contended;               /* shared a CPU with waiting vCPUs since then */
    bool active;                  /* earns credit this period (acct_lock) */
};

/* What a CPU should run next. */
struct sched_decision {
    struct sched_vcpu *vcpu;  /* NULL: run this CPU's idle loop */
    u64 deadline_ns;          /* absolute; call sched_tick() at (or after) it */
};

/* One scheduler: the operations behind the sched_* functions below, which
 * document them.  The queries and sched_get_* need no operation: they read
 * fields both schedulers keep. */
struct sched_ops {
    const char *name;       /* as given to sched= on the command line */
    int (*init)(unsigned int nr_cpus, unsigned int flags, void (*kick)(unsigned int cpu));
    /* weight, cap, flags, nr_active and vcpus already set by ops.c */
    int (*dom_init)(struct sched_dom *d);
    /* weight and cap already checked by ops.c */
    int (*set_params)(struct sched_dom *d, u32 weight, u32 cap);
    int (*dom_destroy)(struct sched_dom *d);
    int (*vcpu_init)(struct sched_vcpu *v, struct sched_dom *d, u32 id);
    void (*vcpu_destroy)(struct sched_vcpu *v);
    void (*wake)(struct sched_vcpu *v);
    void (*sleep)(struct sched_vcpu *v);
    void (*yield)(struct sched_vcpu *v);
    int (*set_affinity)(struct sched_vcpu *v, u64 mask);
    struct sched_decision (*schedule)(unsigned int cpu, u64 now_ns);
    bool (*tick)(unsigned int cpu, u64 now_ns, u64 *deadline_ns);
};

extern const struct sched_ops sched_credit_ops;
extern const struct sched_ops sched_credit2_ops;

/*
 * Chooses the scheduler by name ("credit", "credit2"); before sched_init()
 * only.  Returns 0, or -KILN_EINVAL for an unknown name (the choice is then
 * unchanged: credit unless chosen otherwise before).
 */
int sched_select(const char *name);
/* Name of the chosen scheduler. */
const char *sched_name(void);

/*
 * Resets all scheduler state for CPUs 0..nr_cpus-1.  kick(cpu) is called
 * whenever CPU `cpu` should call sched_schedule() soon (an IPI, or a
 * "reschedule pending" flag when cpu is the caller's own CPU).  kick is
 * called with scheduler locks held and interrupts off: it must not call
 * back into the scheduler.  Returns 0 or -KILN_EINVAL.
 */
int sched_init(unsigned int nr_cpus, unsigned int flags, void (*kick)(unsigned int cpu));

/* Domains: weight 1..65535, cap 0..100*nr_cpus.  Return 0 or -KILN_EINVAL. */
int sched_dom_init(struct sched_dom *d, u32 weight, u32 cap, u32 flags);
int sched_set_params(struct sched_dom *d, u32 weight, u32 cap);
void sched_get_params(const struct sched_dom *d, u32 *weight, u32 *cap);
/* -KILN_EBUSY while the domain still has vCPUs. */
int sched_dom_destroy(struct sched_dom *d);

/* A new vCPU starts asleep with affinity "any allowed CPU". */
int sched_vcpu_init(struct sched_vcpu *v, struct sched_dom *d, u32 id);
/*
 * Removes v from the scheduler wherever it is (asleep, queued, parked or
 * current).  On return the scheduler holds no reference to v.  If v was
 * current on some CPU, that CPU is kicked and its next sched_schedule()
 * has no outgoing vCPU; the caller must still make sure that CPU has left
 * guest mode with v before freeing v's owner.
 */
void sched_vcpu_destroy(struct sched_vcpu *v);

/* Runnable / not runnable.  Both may be called from any CPU and from
 * interrupt context; both are idempotent. */
void sched_wake(struct sched_vcpu *v);
void sched_sleep(struct sched_vcpu *v);
/* v (current on this CPU) gives up the rest of its slice: the caller then
 * calls sched_schedule(), which runs anything else runnable first. */
void sched_yield(struct sched_vcpu *v);
/* mask 0 = every CPU.  -KILN_EINVAL if no allowed, online CPU remains. */
int sched_set_affinity(struct sched_vcpu *v, u64 mask);
u64 sched_get_affinity(const struct sched_vcpu *v);

/* Called by CPU `cpu` only, with the outgoing vCPU's state fully saved. */
struct sched_decision sched_schedule(unsigned int cpu, u64 now_ns);
/*
 * Called by CPU `cpu` when its deadline passed.  Returns true if the CPU
 * must call sched_schedule() now; otherwise the current vCPU continues
 * and *deadline_ns is the next time to call sched_tick().
 */
bool sched_tick(unsigned int cpu, u64 now_ns, u64 *deadline_ns);

/* Queries (racy snapshots, for reporting and tests). */
bool sched_vcpu_running(const struct sched_vcpu *v);
unsigned int sched_vcpu_cpu(const struct sched_vcpu *v);
/* credit only: the vCPU's priority. */
enum sched_prio sched_vcpu_prio(const struct sched_vcpu *v);

#endif
