/*
 * schedobs.c - the privileged observer of the scheduler tests.  It finds
 * the other domains by name, lets them run for a warm-up, then measures
 * each one's CPU time (DOMCTL_GETINFO cpu_time_ns) over one window and
 * checks the shares the credit scheduler promises, by the names present:
 *   w256, w512, w1024  (pinned together)  shares within 10% of 1:2:4
 *   cap25                                 25% +/- 5% of a CPU
 *   alone                                 more than 95% of a CPU
 *   par0..par3         (-smp 4)           more than 90% each (spread out)
 * The measured numbers are in the test names.  Finally it destroys the
 * CPU burners so the machine can exit.
 */
#include "kt.h"

#define MAX_DOMS   16
#define WARMUP_NS  1000000000ll
/*
 * Shares that depend on repayment (weights: vCPUs competing for a CPU;
 * a cap: parking) are measured over one 20 s window.  On a loaded host a
 * timer interrupt can come 50-500 ms late; the guest running meanwhile
 * gets that time and the scheduler makes it repay it within about a
 * second, so only a window edge that splits an overrun from its repayment
 * is off, and one long window has just two edges.  A guest alone on its
 * CPU (alone, par*) repays nothing: 4 s measure it as well.
 */
#define WINDOW_NS       20000000000ll
#define SHORT_WINDOW_NS  4000000000ll

struct dom {
    u32 id;
    char name[KILN_NAME_MAX];
    u64 t0, t1;
    s64 permille;     /* share of one CPU over the window, in 1/1000 */
};

static struct kiln_domctl op __attribute__((aligned(256)));
static struct dom doms[MAX_DOMS];
static unsigned int nr;

static s64 getinfo(u32 from)
{
    kt_memset(&op, 0, sizeof(op));
    op.cmd = KILN_DOMCTL_GETINFO;
    op.domid = from;
    return kt_hc_domctl(&op);
}

static void find_domains(u32 self)
{
    for (u32 id = 1; nr < MAX_DOMS && getinfo(id) == 0; id = op.domid + 1) {
        if (op.domid == self)
            continue;
        doms[nr].id = op.domid;
        kt_memcpy(doms[nr].name, op.u.info.name, KILN_NAME_MAX);
        nr++;
    }
}

static void sample(bool second)
{
    for (unsigned int i = 0; i < nr; i++) {
        u64 t = (getinfo(doms[i].id) == 0 && op.domid == doms[i].id) ? op.u.info.cpu_time_ns : 0;
        if (second)
            doms[i].t1 = t;
        else
            doms[i].t0 = t;
    }
}

static struct dom *by_name(const char *name)
{
    for (unsigned int i = 0; i < nr; i++)
        if (!kt_strcmp(doms[i].name, name))
            return &doms[i];
    return NULL;
}

/* "12.3%" style text of a per-mille value. */
static const char *pct(s64 pm, char *buf)
{
    kt_snprintf(buf, 16, "%ld.%ld%%", (long)(pm / 10), (long)(pm % 10));
    return buf;
}

static void check_weights(void)
{
    struct dom *a = by_name("w256"), *b = by_name("w512"), *c = by_name("w1024");
    if (!a || !b || !c)
        return;
    s64 sum = a->permille + b->permille + c->permille;
    static const s64 w[3] = { 256, 512, 1024 };
    struct dom *d[3] = { a, b, c };
    char p1[16], p2[16];
    for (int i = 0; i < 3; i++) {
        /* share of the three, vs. weight / 1792, both in 1/10000 */
        s64 got = sum ? d[i]->permille * 10000 / sum : 0, want = w[i] * 10000 / 1792;
        s64 dev = (got - want) * 1000 / want;
        kt_ok(dev >= -100 && dev <= 100,
              "weight %ld gets %s of the pinned CPU's time (want %s +/- 10%%, off by %s%ld.%ld%%)",
              (long)w[i], pct(got / 10, p1), pct(want / 10, p2), dev < 0 ? "-" : "+",
              (long)((dev < 0 ? -dev : dev) / 10), (long)((dev < 0 ? -dev : dev) % 10));
    }
    kt_diag("ratio w512/w256 = %ld.%02ld, w1024/w256 = %ld.%02ld", (long)(b->permille / a->permille),
            (long)(b->permille * 100 / a->permille % 100), (long)(c->permille / a->permille),
            (long)(c->permille * 100 / a->permille % 100));
}

static void check_one(const char *name, s64 lo, s64 hi, const char *what)
{
    struct dom *d = by_name(name);
    char p[16];
    if (d)
        kt_ok(d->permille >= lo && d->permille <= hi, "%s: %s got %s of a CPU", what, name,
              pct(d->permille, p));
}

static unsigned int planned(void)
{
    unsigned int n = 1;
    if (by_name("w256") && by_name("w512") && by_name("w1024"))
        n += 3;
    n += by_name("cap25") != NULL;
    n += by_name("alone") != NULL;
    for (unsigned int i = 0; i < nr; i++)
        n += doms[i].name[0] == 'p' && doms[i].name[1] == 'a' && doms[i].name[2] == 'r';
    return n;
}

void kt_main(void)
{
    u32 self = kt_cpuid(KILN_CPUID_VERSION, 0).b;
    find_domains(self);
    kt_plan(planned());
    kt_ok(nr > 0, "found %u domain(s) to observe", nr);

    bool repaid = by_name("w256") || by_name("w512") || by_name("w1024") || by_name("cap25");
    kt_sleep_ns(WARMUP_NS);
    s64 t0 = kt_hc_time();
    sample(false);
    kt_sleep_ns(repaid ? WINDOW_NS : SHORT_WINDOW_NS);
    sample(true);
    s64 dt = kt_hc_time() - t0;
    for (unsigned int i = 0; i < nr; i++) {
        char p[16];
        doms[i].permille = (s64)(doms[i].t1 - doms[i].t0) * 1000 / dt;
        kt_diag("d%u %s: %lu ms of CPU in %ld ms = %s", doms[i].id, doms[i].name,
                (unsigned long)((doms[i].t1 - doms[i].t0) / 1000000), (long)(dt / 1000000),
                pct(doms[i].permille, p));
    }

    check_weights();
    check_one("cap25", 200, 300, "cap 25%");
    check_one("alone", 951, 1000, "uncapped and alone");
    for (unsigned int i = 0; i < nr; i++)
        if (doms[i].name[0] == 'p' && doms[i].name[1] == 'a' && doms[i].name[2] == 'r')
            check_one(doms[i].name, 901, 1000, "-smp 4, four CPU-bound guests");

    for (unsigned int i = 0; i < nr; i++) {
        kt_memset(&op, 0, sizeof(op));
        op.cmd = KILN_DOMCTL_DESTROY;
        op.domid = doms[i].id;
        kt_hc_domctl(&op);
    }
}
