/*
 * test_sched_smp.c - the schedulers under real concurrency.
 *
 * test_sched_credit.c checks policy with one thread and simulated time;
 * this one checks the locking, of credit and of credit2: four host threads play four CPUs, calling
 * sched_schedule()/sched_tick() as fast as they can on a shared clock,
 * while two more threads wake, sleeps, yields, re-weights and re-pins vCPUs
 * at random, as interrupt handlers and hypercalls on other CPUs do.  What
 * must hold: a vCPU is never handed to two CPUs at once, a vCPU never runs
 * where its (stable) affinity forbids, nothing deadlocks (an alarm kills a
 * hung run, which then reports no result and counts as failed), and every
 * awake vCPU keeps getting CPU time.
 */
#define _GNU_SOURCE
/* POSIX has a sched_yield(void) of its own: keep it out of the way of
 * Kiln's sched_yield(struct sched_vcpu *). */
#define sched_yield posix_sched_yield
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#undef sched_yield

#include "../common/lib.c"
#include "../common/sched/credit.c"
#include "../common/sched/credit2.c"
#include "../common/sched/ops.c"

#define NCPU   4
#define NVCPU  8
#define PINNED 4          /* vCPUs 0..3 have a fixed affinity to check */
#define ROUNDS 1500       /* per CPU and phase: ticket locks crawl when the
                             * host has fewer cores than threads */
#define ROUNDS_ONE_LOCK 300 /* credit2: every thread takes its one lock */

static unsigned int rounds;

struct tv {
    struct sched_vcpu sv;
    struct sched_dom dom;
    int owner;            /* CPU running it, -1 if none (atomic) */
    u64 fixed_affinity;
    u64 picks;            /* atomic */
};

static struct tv tvs[NVCPU];
static u64 clock_ns;              /* shared simulated clock (atomic) */
static bool kicked[NCPU];         /* atomic */
static bool stop;                 /* atomic */
static u64 double_runs, affinity_violations; /* atomic */

/* A simulated CPU: survives from one phase of the test to the next. */
struct sim_cpu {
    struct tv *curr;
    u64 deadline;
    u64 seed;
};

static struct sim_cpu sim_cpus[NCPU];

static void kick(unsigned int cpu)
{
    __atomic_store_n(&kicked[cpu], true, __ATOMIC_RELEASE);
}

static u64 rng_next(u64 *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static u64 advance_clock(u64 *seed)
{
    u64 delta = 100000 + rng_next(seed) % 2000000; /* 0.1 .. 2.1 ms */

    return __atomic_add_fetch(&clock_ns, delta, __ATOMIC_RELAXED);
}

static void *cpu_thread(void *arg)
{
    unsigned int cpu = (unsigned int)(uintptr_t)arg;
    struct sim_cpu *sc = &sim_cpus[cpu];
    unsigned int i;

    for (i = 0; i < rounds; i++) {
        u64 now = advance_clock(&sc->seed);
        bool resched = __atomic_exchange_n(&kicked[cpu], false, __ATOMIC_ACQUIRE);

        if (!resched && now >= sc->deadline)
            resched = sched_tick(cpu, now, &sc->deadline);
        if (!resched)
            continue;
        /* The outgoing vCPU's state is saved before the scheduler runs, so
         * it may be picked elsewhere the moment it is requeued. */
        if (sc->curr)
            __atomic_store_n(&sc->curr->owner, -1, __ATOMIC_RELEASE);
        struct sched_decision d = sched_schedule(cpu, now);
        sc->curr = d.vcpu ? container_of(d.vcpu, struct tv, sv) : NULL;
        sc->deadline = d.deadline_ns;
        if (sc->curr) {
            int expect = -1;

            if (!__atomic_compare_exchange_n(&sc->curr->owner, &expect, (int)cpu, false,
                                             __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
                __atomic_add_fetch(&double_runs, 1, __ATOMIC_RELAXED);
            if ((sc->curr - tvs) < PINNED && !(sc->curr->fixed_affinity & (1ull << cpu)))
                __atomic_add_fetch(&affinity_violations, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&sc->curr->picks, 1, __ATOMIC_RELAXED);
        }
    }
    return NULL;
}

/* Plays interrupt handlers and hypercalls arriving from anywhere. */
static void *chaos_thread(void *arg)
{
    u64 seed = 0x1234567ull + (uintptr_t)arg;

    while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
        struct tv *t = &tvs[rng_next(&seed) % NVCPU];

        switch (rng_next(&seed) % 6) {
        case 0:
        case 1:
        case 2: /* a short block: the wake-up races with the CPUs */
            sched_sleep(&t->sv);
            sched_wake(&t->sv);
            break;
        case 3:
            sched_yield(&t->sv);
            break;
        case 4:
            sched_set_params(&t->dom, 1 + (u32)(rng_next(&seed) % 1000),
                             (u32)(rng_next(&seed) % 3) * 40);
            break;
        default:
            if (t - tvs >= PINNED)
                sched_set_affinity(&t->sv, rng_next(&seed) % 16);
            break;
        }
    }
    return NULL;
}

static void run_cpus(void)
{
    pthread_t cpus[NCPU];
    unsigned int i;

    for (i = 0; i < NCPU; i++)
        assert_int_equal(pthread_create(&cpus[i], NULL, cpu_thread, (void *)(uintptr_t)i), 0);
    for (i = 0; i < NCPU; i++)
        assert_int_equal(pthread_join(cpus[i], NULL), 0);
}

static void concurrent_cpus_and_wakeups(const char *sched)
{
    pthread_t chaos[2];
    unsigned int i;

    memset(tvs, 0, sizeof(tvs));
    memset(sim_cpus, 0, sizeof(sim_cpus));
    memset(kicked, 0, sizeof(kicked));
    clock_ns = 0;
    stop = false;
    rounds = strcmp(sched, "credit2") ? ROUNDS : ROUNDS_ONE_LOCK;
    alarm(120); /* a deadlock kills the run instead of hanging CI */
    assert_int_equal(sched_select(sched), 0);
    assert_int_equal(sched_init(NCPU, 0, kick), 0);
    for (i = 0; i < NCPU; i++)
        sim_cpus[i].seed = 0x9e3779b97f4a7c15ull * (i + 1);
    for (i = 0; i < NVCPU; i++) {
        tvs[i].owner = -1;
        assert_int_equal(sched_dom_init(&tvs[i].dom, 256, 0, 0), 0);
        assert_int_equal(sched_vcpu_init(&tvs[i].sv, &tvs[i].dom, 0), 0);
        tvs[i].fixed_affinity = i < PINNED ? (i % 2 ? 0x3ull : 0x8ull) : 0xfull;
        assert_int_equal(sched_set_affinity(&tvs[i].sv, tvs[i].fixed_affinity), 0);
        sched_wake(&tvs[i].sv);
    }

    /* Phase 1: CPUs and chaos at once. */
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&chaos[i], NULL, chaos_thread, (void *)(uintptr_t)i), 0);
    run_cpus();
    __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_join(chaos[i], NULL), 0);
    assert_int_equal(double_runs, 0);
    assert_int_equal(affinity_violations, 0);

    /* Phase 2: everyone awake with equal weights: a vCPU lost by a race in
     * phase 1 (awake but on no queue) would never run again. */
    for (i = 0; i < NVCPU; i++) {
        assert_int_equal(sched_set_params(&tvs[i].dom, 256, 0), 0);
        assert_int_equal(sched_set_affinity(&tvs[i].sv, tvs[i].fixed_affinity), 0);
        sched_wake(&tvs[i].sv);
        tvs[i].picks = 0;
    }
    run_cpus();
    alarm(0);
    assert_int_equal(double_runs, 0);
    assert_int_equal(affinity_violations, 0);
    for (i = 0; i < NVCPU; i++) {
        if (tvs[i].picks == 0)
            fail_msg("vCPU %u never ran after the chaos (credit %lld awake %d queued %d running %d parked %d)", i, (long long)tvs[i].sv.credit, tvs[i].sv.awake, tvs[i].sv.queued, tvs[i].sv.running, tvs[i].sv.parked);
    }
    /* Quiesced, the structures are consistent: every queued vCPU sits on a
     * queue of its own processor (credit) or the one queue (credit2), and
     * the counts match. */
    if (!strcmp(sched, "credit2")) {
        struct sched_vcpu *v;

        list_for_each_entry(v, &C2.queue, runq_elem) {
            assert_true(v->queued);
            assert_false(v->running);
        }
        return;
    }
    for (i = 0; i < NCPU; i++) {
        struct sched_vcpu *v;
        u32 n = 0;

        list_for_each_entry(v, &S.rq[i].queue, runq_elem) {
            assert_true(v->queued);
            assert_int_equal(v->processor, i);
            assert_false(v->running);
            n++;
        }
        assert_int_equal(n, S.rq[i].nr_queued);
    }
}

static void test_concurrent_cpus_and_wakeups(void **state)
{
    (void)state;
    concurrent_cpus_and_wakeups("credit");
}

static void test_concurrent_cpus_and_wakeups_credit2(void **state)
{
    (void)state;
    concurrent_cpus_and_wakeups("credit2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concurrent_cpus_and_wakeups),
        cmocka_unit_test(test_concurrent_cpus_and_wakeups_credit2),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
