/*
 * test_sched_credit.c - unit tests of the credit scheduler, driven by a
 * small discrete-event simulation of N CPUs with explicit time.
 *
 * The simulation plays the hypervisor's part exactly as common/sched/vcpu_sched.c does:
 * each CPU calls sched_schedule() and runs the chosen vCPU until the
 * returned deadline, then calls sched_tick(); kicks make the kicked CPU
 * reschedule at the current instant.  Simulated vCPUs are either
 * CPU-bound or run a burst and then block for a while.  Time each vCPU
 * really ran is measured by the simulation, not taken from the scheduler,
 * so shares are checked end to end.  Every decision is checked against
 * the invariants users rely on (affinity, one CPU at a time, never a
 * sleeping vCPU).
 *
 * Timers can be made to fire late, as QEMU TCG does on a loaded host: a
 * vCPU then runs past its slice, and the time it ran is what counts (the
 * hypervisor's CPU time is TSC time, which runs on whether or not QEMU's
 * thread does).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../common/sched/credit.c"
#include "../common/sched/credit2.c"
#include "../common/sched/ops.c"

#define MS 1000000ull
#define SIM_MAX_CPUS 8
#define SIM_MAX_VCPUS 16

struct tv {
    struct sched_vcpu sv;
    struct sched_dom dom;   /* one domain per test vCPU unless shared */
    u64 runtime;            /* measured by the simulation */
    int on_cpu;             /* -1 when not current anywhere */
    u64 burst, sleep;       /* burst == 0: CPU-bound */
    u64 left;               /* of the current burst */
    u64 wake_at;
    bool asleep;            /* blocked by the simulation's own pattern */
    bool dead;
};

/* xorshift64: deterministic "random" numbers for every test. */
static u64 rng_state = 88172645463325252ull;

static u64 rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

struct sim_cpu {
    struct tv *curr;
    u64 start, deadline;
    bool kicked;
    unsigned int kicks;
};

static struct {
    u64 now;
    unsigned int n;
    struct sim_cpu cpu[SIM_MAX_CPUS];
    struct tv tv[SIM_MAX_VCPUS];
    unsigned int ntv;
    /* Each timer fires late_min..late_max late with probability late_pct
     * percent, else up to 0.5 ms late. 0 = on time. */
    unsigned int late_pct;
    u64 late_min, late_max;
} sim;

static u64 timer_lateness(void)
{
    if (sim.late_max == 0)
        return 0;
    if (rng() % 100 >= sim.late_pct)
        return rng() % (MS / 2);
    return sim.late_min + rng() % (sim.late_max - sim.late_min + 1);
}

static void fake_kick(unsigned int cpu)
{
    assert_true(cpu < sim.n);
    sim.cpu[cpu].kicked = true;
    sim.cpu[cpu].kicks++;
}

static void sim_init(unsigned int ncpus, unsigned int flags)
{
    unsigned int c;

    memset(&sim, 0, sizeof(sim));
    sim.n = ncpus;
    assert_int_equal(sched_init(ncpus, flags, fake_kick), 0);
    for (c = 0; c < ncpus; c++)
        sim.cpu[c].deadline = 0; /* every CPU schedules at time 0 */
}

/* A vCPU in its own domain; starts asleep, like a fresh vCPU. */
static struct tv *sim_vcpu(u32 weight, u32 cap, u32 domflags)
{
    struct tv *t = &sim.tv[sim.ntv++];

    t->on_cpu = -1;
    assert_int_equal(sched_dom_init(&t->dom, weight, cap, domflags), 0);
    assert_int_equal(sched_vcpu_init(&t->sv, &t->dom, 0), 0);
    return t;
}

static struct tv *tv_of(struct sched_vcpu *sv)
{
    return sv ? container_of(sv, struct tv, sv) : NULL;
}

static void sim_charge(unsigned int c)
{
    struct tv *t = sim.cpu[c].curr;
    u64 ran = sim.now - sim.cpu[c].start;

    if (t) {
        t->runtime += ran;
        if (t->burst) {
            assert_true(ran <= t->left);
            t->left -= ran;
        }
    }
    sim.cpu[c].start = sim.now;
}

static void sim_resched(unsigned int c)
{
    struct sched_decision d;
    struct tv *t;

    sim_charge(c);
    if (sim.cpu[c].curr)
        sim.cpu[c].curr->on_cpu = -1;
    d = sched_schedule(c, sim.now);
    t = tv_of(d.vcpu);
    if (t) {
        assert_false(t->dead);
        assert_int_equal(t->on_cpu, -1);            /* one CPU at a time */
        assert_true(sched_get_affinity(&t->sv) & (1ull << c));
        assert_true(t->sv.awake);
        assert_false(t->asleep);
        t->on_cpu = (int)c;
    }
    sim.cpu[c].curr = t;
    assert_true(d.deadline_ns > sim.now);
    sim.cpu[c].deadline = d.deadline_ns + timer_lateness();
}

static void sim_process_kicks(void)
{
    unsigned int rounds = 0, c;
    bool any;

    do {
        any = false;
        for (c = 0; c < sim.n; c++) {
            if (sim.cpu[c].kicked) {
                sim.cpu[c].kicked = false;
                sim_resched(c);
                any = true;
            }
        }
        assert_true(++rounds < 100); /* kicks must settle */
    } while (any);
}

static void sim_run_until(u64 end)
{
    for (;;) {
        u64 t = UINT64_MAX;
        unsigned int c, i;

        sim_process_kicks();
        for (c = 0; c < sim.n; c++) {
            struct tv *cur = sim.cpu[c].curr;

            if (sim.cpu[c].deadline < t)
                t = sim.cpu[c].deadline;
            if (cur && cur->burst && sim.cpu[c].start + cur->left < t)
                t = sim.cpu[c].start + cur->left;
        }
        for (i = 0; i < sim.ntv; i++) {
            if (sim.tv[i].asleep && sim.tv[i].wake_at < t)
                t = sim.tv[i].wake_at;
        }
        if (t > end) {
            sim.now = end;
            for (c = 0; c < sim.n; c++)
                sim_charge(c);
            return;
        }
        assert_true(t >= sim.now);
        sim.now = t;

        for (i = 0; i < sim.ntv; i++) {
            struct tv *tv = &sim.tv[i];

            if (tv->asleep && tv->wake_at <= sim.now) {
                tv->asleep = false;
                tv->left = tv->burst;
                sched_wake(&tv->sv);
            }
        }
        for (c = 0; c < sim.n; c++) {
            struct tv *cur = sim.cpu[c].curr;

            if (cur && cur->burst && sim.cpu[c].start + cur->left <= sim.now) {
                sim_charge(c);
                cur->asleep = true;
                cur->wake_at = sim.now + cur->sleep;
                sched_sleep(&cur->sv);
            }
        }
        sim_process_kicks();
        for (c = 0; c < sim.n; c++) {
            u64 dl;

            if (sim.cpu[c].deadline > sim.now)
                continue;
            if (sched_tick(c, sim.now, &dl)) {
                sim_resched(c);
            } else {
                assert_true(dl > sim.now);
                sim.cpu[c].deadline = dl + timer_lateness();
            }
        }
    }
}

static void reset_runtimes(void)
{
    unsigned int i;

    for (i = 0; i < sim.ntv; i++)
        sim.tv[i].runtime = 0;
}

/* After 100 ms to settle, each of the n vCPUs must run > 99% of the next
 * second: only true when every one has a CPU of its own. */
static void assert_each_gets_a_whole_cpu(struct tv **v, unsigned int n)
{
    unsigned int i;

    sim_run_until(100 * MS);
    reset_runtimes();
    sim_run_until(1100 * MS);
    for (i = 0; i < n; i++)
        assert_true(v[i]->runtime > 990 * MS);
}

/* Asserts got is within pct percent of want. */
static void assert_near(double got, double want, double pct)
{
    double lo = want * (1.0 - pct / 100.0), hi = want * (1.0 + pct / 100.0);

    if (got < lo || got > hi)
        fail_msg("got %.4f, want %.4f +/- %.0f%%", got, want, pct);
}

/* ---- parameters -------------------------------------------------------------- */

static void test_init_validation(void **state)
{
    (void)state;
    assert_int_equal(sched_init(0, 0, fake_kick), -KILN_EINVAL);
    assert_int_equal(sched_init(SCHED_MAX_CPUS + 1, 0, fake_kick), -KILN_EINVAL);
    assert_int_equal(sched_init(2, 0, NULL), -KILN_EINVAL);
    assert_int_equal(sched_init(1, SCHED_F_CPU0_DOM0, fake_kick), -KILN_EINVAL);
    assert_int_equal(sched_init(2, 0x80, fake_kick), -KILN_EINVAL);
    assert_int_equal(sched_init(SCHED_MAX_CPUS, 0, fake_kick), 0);
    assert_int_equal(sched_init(2, SCHED_F_CPU0_DOM0, fake_kick), 0);
}

static void test_weight_cap_validation(void **state)
{
    struct sched_dom d;
    u32 w, c;

    (void)state;
    sim_init(4, 0);
    assert_int_equal(sched_dom_init(&d, 0, 0, 0), -KILN_EINVAL);
    assert_int_equal(sched_dom_init(&d, 65536, 0, 0), -KILN_EINVAL);
    assert_int_equal(sched_dom_init(&d, 256, 401, 0), -KILN_EINVAL);
    assert_int_equal(sched_dom_init(&d, 256, 0, 0x2), -KILN_EINVAL);
    assert_int_equal(sched_dom_init(&d, SCHED_WEIGHT_DEFAULT, 0, 0), 0);

    assert_int_equal(sched_set_params(&d, 0, 0), -KILN_EINVAL);
    assert_int_equal(sched_set_params(&d, 65536, 0), -KILN_EINVAL);
    assert_int_equal(sched_set_params(&d, 100, 401), -KILN_EINVAL);
    sched_get_params(&d, &w, &c);
    assert_int_equal(w, SCHED_WEIGHT_DEFAULT); /* failed calls change nothing */
    assert_int_equal(c, 0);

    assert_int_equal(sched_set_params(&d, 1, 0), 0);
    assert_int_equal(sched_set_params(&d, 65535, 400), 0); /* 100% of 4 CPUs */
    sched_get_params(&d, &w, &c);
    assert_int_equal(w, 65535);
    assert_int_equal(c, 400);
    assert_int_equal(sched_dom_destroy(&d), 0);
}

static void test_affinity_validation(void **state)
{
    struct tv *u, *z;

    (void)state;
    sim_init(4, SCHED_F_CPU0_DOM0);
    z = sim_vcpu(256, 0, SCHED_DOM_F_DOM0);
    u = sim_vcpu(256, 0, 0);
    assert_int_equal(sched_set_affinity(&u->sv, 1ull << 9), -KILN_EINVAL); /* offline */
    assert_int_equal(sched_set_affinity(&u->sv, 1ull << 0), -KILN_EINVAL); /* dom0's */
    assert_int_equal(sched_get_affinity(&u->sv), 0xfull);                  /* unchanged */
    assert_int_equal(sched_set_affinity(&z->sv, 1ull << 0), 0);
    assert_int_equal(sched_set_affinity(&u->sv, 0x6), 0);
    assert_int_equal(sched_get_affinity(&u->sv), 0x6);
    assert_int_equal(sched_set_affinity(&u->sv, 0), 0); /* 0 = any */
    assert_int_equal(sched_get_affinity(&u->sv), 0xfull);
}

static void test_dom_destroy_needs_no_vcpus(void **state)
{
    struct tv *t;

    (void)state;
    sim_init(1, 0);
    t = sim_vcpu(256, 0, 0);
    assert_int_equal(sched_dom_destroy(&t->dom), -KILN_EBUSY);
    sched_vcpu_destroy(&t->sv);
    assert_int_equal(sched_dom_destroy(&t->dom), 0);
}

/* ---- shares ------------------------------------------------------------------ */

static void run_weights_124(unsigned int ncpus, unsigned int pin_cpu)
{
    struct tv *v[3];
    const u32 w[3] = { 256, 512, 1024 };
    double total;
    unsigned int i;

    sim_init(ncpus, 0);
    for (i = 0; i < 3; i++) {
        v[i] = sim_vcpu(w[i], 0, 0);
        assert_int_equal(sched_set_affinity(&v[i]->sv, 1ull << pin_cpu), 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(300 * MS); /* settle */
    reset_runtimes();
    sim_run_until(3300 * MS);
    total = (double)(v[0]->runtime + v[1]->runtime + v[2]->runtime);
    assert_near(total, 3000.0 * MS, 1); /* the CPU never idles */
    for (i = 0; i < 3; i++)
        assert_near((double)v[i]->runtime / total, w[i] / 1792.0, 10);
}

static void test_weights_one_cpu(void **state)
{
    (void)state;
    run_weights_124(1, 0);
}

static void test_weights_pinned_in_larger_machine(void **state)
{
    (void)state;
    run_weights_124(4, 2);
}

/* As in Xen, a domain's weight counts for each of its active vCPUs. */
static void test_weight_counts_per_vcpu(void **state)
{
    struct tv *a0, *a1, *b;

    (void)state;
    sim_init(1, 0);
    a0 = sim_vcpu(256, 0, 0);
    a1 = &sim.tv[sim.ntv++];
    a1->on_cpu = -1;
    assert_int_equal(sched_vcpu_init(&a1->sv, &a0->dom, 1), 0);
    b = sim_vcpu(512, 0, 0);
    sched_wake(&a0->sv);
    sched_wake(&a1->sv);
    sched_wake(&b->sv);
    sim_run_until(300 * MS);
    reset_runtimes();
    sim_run_until(3300 * MS);
    /* 2 x 256 against 1 x 512: half the CPU each. */
    assert_near((double)(a0->runtime + a1->runtime), 1500.0 * MS, 10);
    assert_near((double)b->runtime, 1500.0 * MS, 10);
    assert_near((double)a0->runtime, (double)a1->runtime, 10);
}

static void test_lone_uncapped_gets_whole_cpu(void **state)
{
    struct tv *t;

    (void)state;
    sim_init(1, 0);
    t = sim_vcpu(256, 0, 0);
    sched_wake(&t->sv);
    sim_run_until(3000 * MS);
    assert_true((double)t->runtime > 0.95 * 3000 * MS);
}

static void test_cap_alone(void **state)
{
    struct tv *t;

    (void)state;
    sim_init(1, 0);
    t = sim_vcpu(256, 25, 0);
    sched_wake(&t->sv);
    sim_run_until(300 * MS);
    reset_runtimes();
    sim_run_until(3300 * MS);
    assert_near((double)t->runtime / (3000.0 * MS), 0.25, 20); /* 25% +/- 5 */
}

static void test_cap_with_competitor(void **state)
{
    struct tv *capped, *other;

    (void)state;
    sim_init(1, 0);
    capped = sim_vcpu(1024, 25, 0); /* its weight alone would earn 80% */
    other = sim_vcpu(256, 0, 0);
    sched_wake(&capped->sv);
    sched_wake(&other->sv);
    sim_run_until(300 * MS);
    reset_runtimes();
    sim_run_until(3300 * MS);
    assert_near((double)capped->runtime / (3000.0 * MS), 0.25, 20);
    assert_near((double)other->runtime / (3000.0 * MS), 0.75, 7);
}

static void test_cap_multi_vcpu_domain(void **state)
{
    struct tv *a, *b;

    (void)state;
    /* Two vCPUs of one domain capped at 50% of one CPU in total. */
    sim_init(2, 0);
    a = sim_vcpu(256, 50, 0);
    b = &sim.tv[sim.ntv++];
    b->on_cpu = -1;
    assert_int_equal(sched_vcpu_init(&b->sv, &a->dom, 1), 0);
    sched_wake(&a->sv);
    sched_wake(&b->sv);
    sim_run_until(300 * MS);
    reset_runtimes();
    sim_run_until(3300 * MS);
    assert_near((double)(a->runtime + b->runtime) / (3000.0 * MS), 0.50, 10);
    assert_near((double)a->runtime / (double)b->runtime, 1.0, 15);
}

static void test_lifting_cap_unparks_now(void **state)
{
    struct tv *t;

    (void)state;
    sim_init(1, 0);
    t = sim_vcpu(256, 10, 0);
    sched_wake(&t->sv);
    sim_run_until(95 * MS);
    assert_true(t->sv.parked);        /* used its 3 ms of this period */
    assert_int_equal(sim.cpu[0].curr, NULL);
    assert_int_equal(sched_set_params(&t->dom, 256, 0), 0);
    sim_process_kicks();
    assert_ptr_equal(sim.cpu[0].curr, t); /* runs at once */
}

/* ---- placement and balancing ------------------------------------------------ */

static void test_four_spread_on_four_cpus(void **state)
{
    struct tv *v[4];
    unsigned int i;

    (void)state;
    sim_init(4, 0);
    for (i = 0; i < 4; i++) {
        v[i] = sim_vcpu(256, 0, 0);
        sched_wake(&v[i]->sv);
    }
    assert_each_gets_a_whole_cpu(v, 4);
}

/* All four start queued on CPU 0; only stealing can spread them. */
static void test_idle_cpus_steal_queued_work(void **state)
{
    struct tv *v[4];
    unsigned int i;

    (void)state;
    sim_init(4, 0);
    for (i = 0; i < 4; i++) {
        v[i] = sim_vcpu(256, 0, 0);
        assert_int_equal(sched_set_affinity(&v[i]->sv, 1), 0);
        sched_wake(&v[i]->sv);
    }
    for (i = 0; i < 4; i++)
        assert_int_equal(sched_vcpu_cpu(&v[i]->sv), 0);
    for (i = 0; i < 4; i++)
        assert_int_equal(sched_set_affinity(&v[i]->sv, 0), 0); /* queued on CPU 0 still */
    assert_each_gets_a_whole_cpu(v, 4);
}

/* Three equal vCPUs on two CPUs: a CPU running OVER work steals UNDER work
 * from the other, so the three rotate and share fairly. */
static void test_three_on_two_cpus_share_fairly(void **state)
{
    struct tv *v[3];
    unsigned int i;

    (void)state;
    sim_init(2, 0);
    for (i = 0; i < 3; i++) {
        v[i] = sim_vcpu(256, 0, 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(300 * MS);
    reset_runtimes();
    sim_run_until(3300 * MS);
    for (i = 0; i < 3; i++)
        assert_near((double)v[i]->runtime, 2000.0 * MS, 10);
}

/* Weights never hold a vCPU below a whole CPU when CPUs are free. */
static void test_weights_do_not_idle_cpus(void **state)
{
    struct tv *a, *b;

    (void)state;
    sim_init(2, 0);
    a = sim_vcpu(256, 0, 0);
    b = sim_vcpu(4096, 0, 0);
    sched_wake(&a->sv);
    sched_wake(&b->sv);
    sim_run_until(1000 * MS);
    assert_true(a->runtime > 990 * MS);
    assert_true(b->runtime > 990 * MS);
}

static void test_cpu0_reserved_for_dom0(void **state)
{
    struct tv *dom0, *u[3];
    unsigned int i;

    (void)state;
    sim_init(3, SCHED_F_CPU0_DOM0);
    dom0 = sim_vcpu(256, 0, SCHED_DOM_F_DOM0);
    assert_int_equal(sched_set_affinity(&dom0->sv, 1), 0);
    for (i = 0; i < 3; i++) {
        u[i] = sim_vcpu(256, 0, 0);
        sched_wake(&u[i]->sv);
    }
    /* dom0 is asleep, CPU 0 idles: still no domU may use it. */
    for (i = 0; i < 20; i++) {
        sim_run_until((i + 1) * 50 * MS);
        assert_true(sim.cpu[0].curr == NULL || sim.cpu[0].curr == dom0);
    }
    assert_near((double)(u[0]->runtime + u[1]->runtime + u[2]->runtime), 2000.0 * MS, 2);
    sched_wake(&dom0->sv);
    sim_run_until(2000 * MS);
    assert_true(dom0->runtime > 990 * MS);
}

/* ---- priorities and state changes ------------------------------------------- */

static void test_woken_vcpu_boosts_ahead_of_under(void **state)
{
    struct tv *hog, *io;

    (void)state;
    sim_init(1, 0);
    hog = sim_vcpu(256, 0, 0);
    io = sim_vcpu(256, 0, 0);
    sched_wake(&hog->sv);
    sim_run_until(62 * MS);               /* credits handed out at 30, 60 */
    assert_ptr_equal(sim.cpu[0].curr, hog);
    sim.cpu[0].kicks = 0;
    sched_wake(&io->sv);
    assert_int_equal(sched_vcpu_prio(&io->sv), SCHED_PRIO_BOOST);
    assert_true(sim.cpu[0].kicks > 0);    /* preempts without waiting */
    sim_process_kicks();
    assert_ptr_equal(sim.cpu[0].curr, io);
    /* The boost ends at the next tick (io earned no credit while asleep,
     * so it is OVER like the hog), and the hog gets the CPU back no later
     * than the end of io's slice. */
    sim_run_until(71 * MS);
    assert_int_not_equal(sched_vcpu_prio(&io->sv), SCHED_PRIO_BOOST);
    sim_run_until(62 * MS + SCHED_TSLICE_NS + 1);
    assert_ptr_equal(sim.cpu[0].curr, hog);
}

static void test_wake_of_awake_vcpu_does_not_boost(void **state)
{
    struct tv *a, *b;

    (void)state;
    sim_init(1, 0);
    a = sim_vcpu(256, 0, 0);
    b = sim_vcpu(256, 0, 0);
    sched_wake(&a->sv);
    sched_wake(&b->sv);
    sim_run_until(5 * MS);
    assert_int_equal(sched_vcpu_prio(&b->sv), SCHED_PRIO_BOOST); /* first wake */
    sim_run_until(65 * MS);
    assert_int_not_equal(sched_vcpu_prio(&b->sv), SCHED_PRIO_BOOST);
    sched_wake(&b->sv);
    sched_wake(&a->sv);
    assert_int_not_equal(sched_vcpu_prio(&a->sv), SCHED_PRIO_BOOST);
    assert_int_not_equal(sched_vcpu_prio(&b->sv), SCHED_PRIO_BOOST);
}

/* An I/O-bound vCPU keeps its latency low next to CPU hogs: it runs within
 * a fraction of a millisecond of each wake-up. */
static void test_io_bound_vcpu_gets_its_bursts(void **state)
{
    struct tv *hog[2], *io;

    (void)state;
    sim_init(1, 0);
    hog[0] = sim_vcpu(256, 0, 0);
    hog[1] = sim_vcpu(256, 0, 0);
    io = sim_vcpu(256, 0, 0);
    io->burst = 1 * MS;
    io->sleep = 9 * MS;
    io->left = io->burst;
    sched_wake(&hog[0]->sv);
    sched_wake(&hog[1]->sv);
    sched_wake(&io->sv);
    sim_run_until(2000 * MS);
    /* It wants 10% of the CPU and gets all of it. */
    assert_near((double)io->runtime, 200.0 * MS, 5);
    assert_near((double)hog[0]->runtime, (double)hog[1]->runtime, 10);
}

static void test_yield(void **state)
{
    struct tv *a, *b;

    (void)state;
    sim_init(1, 0);
    a = sim_vcpu(256, 0, 0);
    sched_wake(&a->sv);
    sim_run_until(1 * MS);
    assert_ptr_equal(sim.cpu[0].curr, a);
    sched_yield(&a->sv);
    sim_resched(0);
    assert_ptr_equal(sim.cpu[0].curr, a); /* nothing else: keeps running */

    b = sim_vcpu(256, 0, 0);
    sched_wake(&b->sv);
    sim_process_kicks();                  /* boosted b preempts */
    assert_ptr_equal(sim.cpu[0].curr, b);
    sched_yield(&b->sv);
    sim_resched(0);
    assert_ptr_equal(sim.cpu[0].curr, a);
}

static void test_sleep_running_vcpu(void **state)
{
    struct tv *a, *b;

    (void)state;
    sim_init(2, 0);
    a = sim_vcpu(256, 0, 0);
    b = sim_vcpu(256, 0, 0);
    sched_wake(&a->sv);
    sched_wake(&b->sv);
    sim_run_until(5 * MS);
    assert_int_equal(a->on_cpu >= 0 && b->on_cpu >= 0, 1);
    sim.cpu[a->on_cpu].kicks = 0;
    sched_sleep(&a->sv);
    assert_true(sim.cpu[a->on_cpu].kicks > 0);
    sim_process_kicks();
    assert_int_equal(a->on_cpu, -1);
    a->runtime = 0;
    sim_run_until(500 * MS);
    assert_int_equal(a->runtime, 0);
    assert_false(sched_vcpu_running(&a->sv));
}

static void test_destroy_queued_and_running(void **state)
{
    struct tv *a, *b, *c;

    (void)state;
    sim_init(1, 0);
    a = sim_vcpu(256, 0, 0);
    b = sim_vcpu(256, 0, 0);
    c = sim_vcpu(256, 0, 0);
    sched_wake(&a->sv);
    sched_wake(&b->sv);
    sched_wake(&c->sv);
    sim_run_until(5 * MS);
    assert_non_null(sim.cpu[0].curr);
    /* Destroy one that waits in the queue. */
    {
        struct tv *queued = sim.cpu[0].curr == a ? b : a;

        assert_true(queued->sv.queued);
        sched_vcpu_destroy(&queued->sv);
        queued->dead = true;
        assert_int_equal(sched_dom_destroy(&queued->dom), 0);
    }
    /* Destroy the running one: its CPU is kicked and forgets it. */
    {
        struct tv *run = sim.cpu[0].curr;

        sim.cpu[0].kicks = 0;
        sched_vcpu_destroy(&run->sv);
        assert_true(sim.cpu[0].kicks > 0);
        assert_false(sched_vcpu_running(&run->sv));
        sim_charge(0);
        sim.cpu[0].curr = NULL; /* the hypervisor stops running it */
        run->dead = true;
        run->on_cpu = -1;
        assert_int_equal(sched_dom_destroy(&run->dom), 0);
    }
    /* The survivor gets the whole CPU; the dead never run again. */
    sim_run_until(1000 * MS);
    assert_true(c->dead || a->dead || b->dead);
    {
        struct tv *alive = !a->dead ? a : !b->dead ? b : c;

        assert_false(alive->dead);
        assert_true(alive->runtime > 900 * MS);
    }
}

static void test_destroy_parked_vcpu(void **state)
{
    struct tv *t;

    (void)state;
    sim_init(1, 0);
    t = sim_vcpu(256, 10, 0);
    sched_wake(&t->sv);
    sim_run_until(95 * MS);
    assert_true(t->sv.parked);
    sched_vcpu_destroy(&t->sv);
    t->dead = true;
    assert_int_equal(sched_dom_destroy(&t->dom), 0);
    sim_run_until(500 * MS); /* accounting must not touch it any more */
    assert_null(sim.cpu[0].curr);
}

static void test_affinity_change_moves_running_vcpu(void **state)
{
    struct tv *t;
    unsigned int from;

    (void)state;
    sim_init(2, 0);
    t = sim_vcpu(256, 0, 0);
    sched_wake(&t->sv);
    sim_run_until(5 * MS);
    assert_true(t->on_cpu >= 0);
    from = (unsigned int)t->on_cpu;
    assert_int_equal(sched_set_affinity(&t->sv, 1ull << (1 - from)), 0);
    sim_process_kicks();
    assert_int_equal(t->on_cpu, (int)(1 - from));
    t->runtime = 0;
    sim_run_until(505 * MS);
    assert_true(t->runtime > 495 * MS);
}

/* ---- a long random run: the invariants in sim_resched must always hold ---- */

static void test_random_operations_keep_invariants(void **state)
{
    struct tv *v[8];
    unsigned int i, step;

    (void)state;
    sim_init(4, 0);
    for (i = 0; i < 8; i++) {
        v[i] = sim_vcpu(256, 0, 0);
        if (i >= 6) { /* two I/O-bound ones */
            v[i]->burst = (1 + i) * MS / 2;
            v[i]->sleep = 3 * MS;
            v[i]->left = v[i]->burst;
        }
        sched_wake(&v[i]->sv);
    }
    for (step = 0; step < 600; step++) {
        struct tv *t = v[rng() % 8];

        switch (rng() % 5) {
        case 0:
            assert_int_equal(sched_set_affinity(&t->sv, rng() % 16), 0);
            break;
        case 1:
            if (!t->asleep)
                sched_sleep(&t->sv);
            break;
        case 2:
            if (!t->asleep)
                sched_wake(&t->sv);
            break;
        case 3:
            assert_int_equal(sched_set_params(&t->dom, 1 + rng() % 2000,
                                              (u32)(rng() % 3) * 30), 0);
            break;
        default:
            if (t->on_cpu >= 0)
                sched_yield(&t->sv);
            sim_resched(t->on_cpu >= 0 ? (unsigned int)t->on_cpu : 0);
            break;
        }
        sim_run_until(sim.now + rng() % (7 * MS));
    }
    /* Back to six equal CPU hogs on four CPUs: they share fairly again. */
    for (i = 0; i < 8; i++) {
        if (i >= 6) {
            sched_vcpu_destroy(&v[i]->sv);
            v[i]->dead = true;
            if (v[i]->on_cpu >= 0) {
                sim_charge((unsigned int)v[i]->on_cpu);
                sim.cpu[v[i]->on_cpu].curr = NULL;
                v[i]->on_cpu = -1;
            }
            v[i]->asleep = false;
            continue;
        }
        assert_int_equal(sched_set_affinity(&v[i]->sv, 0), 0);
        assert_int_equal(sched_set_params(&v[i]->dom, 256, 0), 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(sim.now + 300 * MS);
    reset_runtimes();
    {
        u64 start = sim.now;

        sim_run_until(start + 3000 * MS);
    }
    for (i = 0; i < 6; i++)
        assert_near((double)v[i]->runtime, 2000.0 * MS, 15);
}


/* Weights compete only among vCPUs that share CPUs: a busy vCPU pinned
 * to CPU 0 (here waking every 10 ms, like the scenarios' observer) does
 * not change how three vCPUs pinned to CPU 1 share that CPU. */
static void test_weights_next_to_busy_pinned_cpu(void **state)
{
    struct tv *v[3], *obs;
    const u32 w[3] = { 256, 512, 1024 };
    double total;
    unsigned int i;

    (void)state;
    sim_init(2, 0);
    obs = sim_vcpu(256, 0, 0);
    obs->burst = 1 * MS;
    obs->sleep = 9 * MS;
    obs->left = obs->burst;
    assert_int_equal(sched_set_affinity(&obs->sv, 1), 0);
    sched_wake(&obs->sv);
    for (i = 0; i < 3; i++) {
        v[i] = sim_vcpu(w[i], 0, 0);
        assert_int_equal(sched_set_affinity(&v[i]->sv, 2), 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(500 * MS);
    reset_runtimes();
    sim_run_until(4500 * MS);
    assert_near((double)obs->runtime, 400.0 * MS, 5);
    total = (double)(v[0]->runtime + v[1]->runtime + v[2]->runtime);
    assert_near(total, 4000.0 * MS, 1);
    for (i = 0; i < 3; i++)
        assert_near((double)v[i]->runtime / total, w[i] / 1792.0, 10);
}

/* ---- shares when timers fire late ------------------------------------------ */

/* 1:2:4 pinned to the last of ncpus CPUs over 4 s while timers fire
 * late (the other CPUs idle, and run accounting passes between that
 * CPU's ticks).  Seeds and lateness vary so that no lucky sequence can
 * pass for all of them. */
static void run_late_weights(unsigned int ncpus, unsigned int late_pct, u64 seed)
{
    struct tv *v[3];
    const u32 w[3] = { 256, 512, 1024 };
    double total;
    unsigned int i;

    sim_init(ncpus, 0);
    rng_state = seed;
    sim.late_pct = late_pct;
    sim.late_min = 5 * MS;
    sim.late_max = 50 * MS;
    for (i = 0; i < 3; i++) {
        v[i] = sim_vcpu(w[i], 0, 0);
        assert_int_equal(sched_set_affinity(&v[i]->sv, 1ull << (ncpus - 1)), 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(500 * MS);
    reset_runtimes();
    sim_run_until(4500 * MS);
    total = (double)(v[0]->runtime + v[1]->runtime + v[2]->runtime);
    assert_near(total, 4000.0 * MS, 1);
    for (i = 0; i < 3; i++)
        assert_near((double)v[i]->runtime / total, w[i] / 1792.0, 10);
}

static void test_weights_with_some_late_ticks(void **state)
{
    (void)state;
    run_late_weights(1, 10, 1);
    run_late_weights(1, 10, 2);
    run_late_weights(1, 30, 3);
}

static void test_weights_with_every_tick_late(void **state)
{
    (void)state;
    run_late_weights(1, 100, 4);
    run_late_weights(1, 100, 5);
}

/* As in the QEMU scenario: the observer's CPU 0 mostly idles. */
static void test_weights_late_ticks_next_to_idle_cpu(void **state)
{
    (void)state;
    run_late_weights(2, 30, 10);
    run_late_weights(2, 100, 11);
    run_late_weights(4, 50, 12);
}

/* A CPU-bound vCPU capped at 25% gets 25%, not less (accounting passes
 * that come late still pay for all the time since the last one) and not
 * more (a slice that overran its credit is repaid), alone or not. */
static void run_late_cap(bool competitor, u64 seed)
{
    struct tv *capped, *other = NULL;

    sim_init(1, 0);
    rng_state = seed;
    sim.late_pct = 50;
    sim.late_min = 5 * MS;
    sim.late_max = 50 * MS;
    capped = sim_vcpu(1024, 25, 0);
    sched_wake(&capped->sv);
    if (competitor) {
        other = sim_vcpu(256, 0, 0);
        sched_wake(&other->sv);
    }
    sim_run_until(500 * MS);
    reset_runtimes();
    sim_run_until(4500 * MS);
    /* 25% +/- 1.5 points: the simulation is exact, the slack is only the
     * window's edges. */
    assert_near((double)capped->runtime / (4000.0 * MS), 0.25, 6);
    if (other)
        assert_near((double)other->runtime / (4000.0 * MS), 0.75, 3);
}

static void test_cap_with_late_ticks(void **state)
{
    (void)state;
    run_late_cap(false, 6);
    run_late_cap(false, 7);
    run_late_cap(true, 8);
    run_late_cap(true, 9);
}

/* The whole CPU stalls for 200 ms (the host descheduled QEMU) while the
 * lightest vCPU runs: it owes that time and repays it, so shares over the
 * next 4 s still follow the weights. */
static void test_stall_debt_is_repaid(void **state)
{
    struct tv *v[3];
    const u32 w[3] = { 256, 512, 1024 };
    double total;
    unsigned int i;

    (void)state;
    sim_init(1, 0);
    for (i = 0; i < 3; i++) {
        v[i] = sim_vcpu(w[i], 0, 0);
        sched_wake(&v[i]->sv);
    }
    sim_run_until(500 * MS);
    while (sim.cpu[0].curr != v[0])
        sim_run_until(sim.cpu[0].deadline);
    reset_runtimes();
    sim.cpu[0].deadline += 200 * MS;
    sim_run_until(sim.now + 4000 * MS);
    total = (double)(v[0]->runtime + v[1]->runtime + v[2]->runtime);
    assert_true(v[0]->runtime > 200 * MS); /* the stall counted */
    for (i = 0; i < 3; i++)
        assert_near((double)v[i]->runtime / total, w[i] / 1792.0, 10);
}

/* As in Xen, a vCPU that sleeps does not bank more than one timeslice of
 * credit, however long it slept: its wake-up cannot claim a long burst. */
static void test_sleeper_banks_one_slice(void **state)
{
    struct tv *hog, *io;

    (void)state;
    sim_init(1, 0);
    hog = sim_vcpu(256, 0, 0);
    io = sim_vcpu(65535, 0, 0);
    io->burst = 1 * MS;
    io->sleep = 20 * MS;
    io->left = io->burst;
    sched_wake(&hog->sv);
    sched_wake(&io->sv);
    sim_run_until(2000 * MS);
    assert_true(credit_read(&io->sv) <= (s64)SCHED_TSLICE_NS);
    assert_true(io->runtime > 90 * MS); /* it did get its bursts */
}

/* Running alone on a CPU nobody else wants takes time from nobody: when
 * two vCPUs that each had a CPU to themselves (the light one earning far
 * less than it ran, the heavy one far more) are then pinned together, the
 * light one gets its weight's share from the start, give or take the one
 * timeslice of credit Xen also lets either side keep. */
static void test_uncontended_past_is_not_owed(void **state)
{
    struct tv *light, *heavy;

    (void)state;
    sim_init(2, 0);
    light = sim_vcpu(256, 0, 0);
    heavy = sim_vcpu(4096, 0, 0);
    sched_wake(&light->sv);
    sched_wake(&heavy->sv);
    sim_run_until(2000 * MS);
    assert_true(light->runtime > 1990 * MS && heavy->runtime > 1990 * MS);
    assert_int_equal(sched_set_affinity(&light->sv, 1), 0);
    assert_int_equal(sched_set_affinity(&heavy->sv, 1), 0);
    sim_process_kicks();
    reset_runtimes();
    sim_run_until(3000 * MS);
    /* 256 / 4352 of one CPU for 1 s is 59 ms. */
    assert_true(light->runtime + SCHED_TSLICE_NS >= 1000 * MS * 256 / 4352);
    assert_true(light->runtime <= 1000 * MS * 256 / 4352 + SCHED_TSLICE_NS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_validation),
        cmocka_unit_test(test_weight_cap_validation),
        cmocka_unit_test(test_affinity_validation),
        cmocka_unit_test(test_dom_destroy_needs_no_vcpus),
        cmocka_unit_test(test_weights_one_cpu),
        cmocka_unit_test(test_weights_pinned_in_larger_machine),
        cmocka_unit_test(test_weights_next_to_busy_pinned_cpu),
        cmocka_unit_test(test_weight_counts_per_vcpu),
        cmocka_unit_test(test_lone_uncapped_gets_whole_cpu),
        cmocka_unit_test(test_cap_alone),
        cmocka_unit_test(test_cap_with_competitor),
        cmocka_unit_test(test_cap_multi_vcpu_domain),
        cmocka_unit_test(test_lifting_cap_unparks_now),
        cmocka_unit_test(test_four_spread_on_four_cpus),
        cmocka_unit_test(test_idle_cpus_steal_queued_work),
        cmocka_unit_test(test_three_on_two_cpus_share_fairly),
        cmocka_unit_test(test_weights_do_not_idle_cpus),
        cmocka_unit_test(test_cpu0_reserved_for_dom0),
        cmocka_unit_test(test_woken_vcpu_boosts_ahead_of_under),
        cmocka_unit_test(test_wake_of_awake_vcpu_does_not_boost),
        cmocka_unit_test(test_io_bound_vcpu_gets_its_bursts),
        cmocka_unit_test(test_yield),
        cmocka_unit_test(test_sleep_running_vcpu),
        cmocka_unit_test(test_destroy_queued_and_running),
        cmocka_unit_test(test_destroy_parked_vcpu),
        cmocka_unit_test(test_affinity_change_moves_running_vcpu),
        cmocka_unit_test(test_random_operations_keep_invariants),
        cmocka_unit_test(test_weights_with_some_late_ticks),
        cmocka_unit_test(test_weights_with_every_tick_late),
        cmocka_unit_test(test_weights_late_ticks_next_to_idle_cpu),
        cmocka_unit_test(test_cap_with_late_ticks),
        cmocka_unit_test(test_stall_debt_is_repaid),
        cmocka_unit_test(test_sleeper_banks_one_slice),
        cmocka_unit_test(test_uncontended_past_is_not_owed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
