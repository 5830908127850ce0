/*
 * churn.c - a privileged guest that creates and destroys small domains as
 * fast as it can for CHURN_NS, to shake out races between a domain's
 * teardown on one CPU and its vCPUs running, blocking or being picked on
 * others (run two or more of these with -smp 4; see domain-churn.sh).
 * The children (churn-payload.S) cycle through every way a domain ends:
 * destroyed while spinning, halted, yielding, paused or never started,
 * powering itself off, triple-faulting; spinners and halters have two
 * vCPUs.  Checked: every control call succeeds, DESTROY returns only once
 * the domain is gone (it is not listed any more), a self-ending child ends
 * (and is gone, or is destroyed when a dom0 keeps it), and many cycles were
 * done.  Works with and without a dom0.
 */
#include "kt.h"

#define CHURN_NS   10000000000ll
#define CHILD_KIB  (2048 + 4)
#define WAIT_NS    5000000000ll

extern const u8 churn_spin[], churn_spin_end[], churn_halt[], churn_halt_end[];
extern const u8 churn_yield[], churn_yield_end[], churn_finish[], churn_finish_end[];
extern const u8 churn_triple[], churn_triple_end[];

enum kind { SPIN, HALT, YIELD, PAUSED, BUILDING, FINISH, TRIPLE, NR_KINDS };

static const struct {
    const u8 *start, *end;
    u32 vcpus;
    bool self_ending;
} kinds[NR_KINDS] = {
    [SPIN] = { churn_spin, churn_spin_end, 2, false },
    [HALT] = { churn_halt, churn_halt_end, 2, false },
    [YIELD] = { churn_yield, churn_yield_end, 1, false },
    [PAUSED] = { churn_spin, churn_spin_end, 1, false },
    [BUILDING] = { churn_spin, churn_spin_end, 1, false },
    [FINISH] = { churn_finish, churn_finish_end, 1, true },
    [TRIPLE] = { churn_triple, churn_triple_end, 1, true },
};

static u8 buf[4096] __attribute__((aligned(4096)));
static struct kiln_domctl op __attribute__((aligned(256)));

static s64 domctl(u32 cmd, u32 domid)
{
    op.cmd = cmd;
    op.domid = domid;
    return kt_hc_domctl(&op);
}

/* domid's state, or -1 once it is not listed any more. */
static s64 state_of(u32 domid)
{
    kt_memset(&op, 0, sizeof(op));
    if (domctl(KILN_DOMCTL_GETINFO, domid) != 0 || op.domid != domid)
        return -1;
    return op.u.info.state;
}

/* A few hundred microseconds to a few milliseconds, varied per cycle, so
 * destroys land at every point of the children's lives. */
static void short_wait(unsigned int i)
{
    kt_hc_block((u64)kt_hc_time() + 200000ull * (i % 13));
}

/* One child's life; NULL or what went wrong. */
static const char *cycle(u32 self, unsigned int i, enum kind k)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = CHILD_KIB;
    op.u.create.vcpus = kinds[k].vcpus;
    kt_snprintf(op.u.create.name, sizeof(op.u.create.name), "churn%u-%u", self, i);
    if (domctl(KILN_DOMCTL_CREATE, 0))
        return "create failed";
    u32 child = op.domid;

    size_t len = (size_t)(kinds[k].end - kinds[k].start);
    kt_memset(buf, 0, sizeof(buf));
    kt_memcpy(buf, kinds[k].start, len);
    if (kt_write_mem(&op, child, 0x1000, buf, sizeof(buf)))
        return "write_mem failed";
    for (u32 v = 0; v < kinds[k].vcpus; v++) {
        kt_memset(&op.u, 0, sizeof(op.u));
        op.u.vcpu.vcpu = v;
        op.u.vcpu.rip = 0x1000;
        op.u.vcpu.rsi = v;
        if (domctl(KILN_DOMCTL_SET_VCPU, child))
            return "set_vcpu failed";
    }
    if (k != BUILDING && domctl(KILN_DOMCTL_UNPAUSE, child))
        return "unpause failed";

    s64 t0 = kt_hc_time();
    if (kinds[k].self_ending) {
        /* Without a dom0 it is freed as it ends; with one it stays DYING
         * until destroyed, as under a toolstack. */
        s64 st;
        while ((st = state_of(child)) == KILN_DOMSTATE_RUNNING) {
            if (kt_hc_time() - t0 > WAIT_NS)
                return "a child that ends itself never did";
            kt_hc_block((u64)kt_hc_time() + 500000);
        }
        if (st < 0)
            return NULL;
    } else {
        short_wait(i);
        if (k == PAUSED && domctl(KILN_DOMCTL_PAUSE, child))
            return "pause failed";
    }
    s64 rc = domctl(KILN_DOMCTL_DESTROY, child);
    if (rc && !(kinds[k].self_ending && rc == -KILN_ESRCH))
        return "destroy failed";
    if (state_of(child) >= 0)
        return "DESTROY returned while the domain was still listed";
    return NULL;
}

void kt_main(void)
{
    u32 self = kt_cpuid(KILN_CPUID_VERSION, 0).b;
    kt_plan(2);
    const char *err = NULL;
    unsigned int done = 0;
    s64 end = kt_hc_time() + CHURN_NS;
    while (!err && kt_hc_time() < end) {
        err = cycle(self, done, (enum kind)(done % NR_KINDS));
        if (!err)
            done++;
    }
    kt_ok(!err, "d%u: %u create/run/destroy cycles without an error%s%s", self, done,
          err ? ": " : "", err ? err : "");
    /* Even a slow host does a few per second; fewer means something stalls. */
    kt_ok(done >= 2 * NR_KINDS, "d%u: at least %u cycles in %lld s (did %u)", self,
          2 * NR_KINDS, CHURN_NS / 1000000000ll, done);
}
