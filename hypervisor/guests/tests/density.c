/*
 * density.c - many domains alive at once.  A privileged guest reads the
 * free-page count (sysctl physinfo), creates DENSITY_GUESTS domains of
 * 2 MiB, each with one vCPU spinning in a tiny payload, and starts them
 * all once all exist; then checks every one gets CPU time while all are alive, and keeps
 * getting it (progress over a second window); then destroys them all and
 * checks the free-page count is back where it started.  The figures (time
 * to create them, guests per second, the hypervisor's memory per guest
 * beyond its RAM) are in the test names.
 */
#include "kt.h"

#define DENSITY_GUESTS 100
#define CHILD_KIB      2048
#define WAIT_NS        60000000000ll   /* for all to run: 100 x a 30 ms slice, under TCG */

extern const u8 density_payload[], density_payload_end[];

static u8 buf[4096] __attribute__((aligned(4096)));
static struct kiln_domctl op __attribute__((aligned(256)));
static u32 ids[DENSITY_GUESTS];
static u64 ran[DENSITY_GUESTS];

static s64 domctl(u32 cmd, u32 domid)
{
    op.cmd = cmd;
    op.domid = domid;
    return kt_hc_domctl(&op);
}

/* CPU time of domid in ns, or -1 once it no longer exists. */
static s64 cpu_time(u32 domid)
{
    kt_memset(&op, 0, sizeof(op));
    if (domctl(KILN_DOMCTL_GETINFO, domid) < 0 || op.domid != domid)
        return -1;
    return (s64)op.u.info.cpu_time_ns;
}

/* Creates and loads one child, paused; returns its id or -1. */
static s64 start_child(int i)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = CHILD_KIB;
    op.u.create.vcpus = 1;
    kt_snprintf(op.u.create.name, sizeof(op.u.create.name), "tiny%d", i);
    if (domctl(KILN_DOMCTL_CREATE, 0))
        return -1;
    u32 child = op.domid;
    kt_memset(buf, 0, sizeof(buf));
    kt_memcpy(buf, density_payload, (size_t)(density_payload_end - density_payload));
    if (kt_write_mem(&op, child, 0x1000, buf, sizeof(buf)))
        return -1;
    kt_memset(&op.u, 0, sizeof(op.u));
    op.u.vcpu.vcpu = 0;
    op.u.vcpu.rip = 0x1000;
    if (domctl(KILN_DOMCTL_SET_VCPU, child))
        return -1;
    return child;
}

/* Waits until every child's CPU time is above `above` (its own entry);
 * returns how many got there. */
static int wait_all_ran(const u64 *above, s64 deadline)
{
    int ok = 0;
    for (int i = 0; i < DENSITY_GUESTS; i++) {
        s64 t;
        while ((t = cpu_time(ids[i])) >= 0 && (u64)t <= above[i] && kt_hc_time() < deadline)
            kt_hc_block((u64)kt_hc_time() + 10000000);
        if (t >= 0 && (u64)t > above[i])
            ok++;
    }
    return ok;
}

void kt_main(void)
{
    static u64 zero[DENSITY_GUESTS];

    kt_plan(5);
    u64 start = kt_free_pages();
    s64 t0 = kt_hc_time();
    int n = 0;
    for (; n < DENSITY_GUESTS; n++) {
        s64 id = start_child(n);
        if (id < 0)
            break;
        ids[n] = (u32)id;
    }
    /* Started only once all exist: the spinning children would otherwise
     * share the CPUs with their creator and slow it down more and more. */
    for (int i = 0; i < n; i++) {
        if (domctl(KILN_DOMCTL_UNPAUSE, ids[i]))
            n = i;
    }
    s64 dt = kt_hc_time() - t0;
    u64 used = start - kt_free_pages();
    u64 hv_kib = n ? (used * 4 - (u64)n * CHILD_KIB) / (u64)n : 0;
    kt_ok(n == DENSITY_GUESTS, "%d of %d guests of %d KiB created and started in %ld ms "
          "(%ld guests/s), %lu KiB of hypervisor memory per guest", n, DENSITY_GUESTS,
          CHILD_KIB, (long)(dt / 1000000), dt > 0 ? (long)((s64)n * 1000000000ll / dt) : 0,
          (unsigned long)hv_kib);
    if (n < DENSITY_GUESTS) {
        kt_ok(0, "all run (not all created)");
        kt_ok(0, "all make progress (not all created)");
        kt_ok(0, "all destroyed (not all created)");
        kt_ok(0, "free pages back (not all created)");
        return;
    }

    int running = wait_all_ran(zero, kt_hc_time() + WAIT_NS);
    kt_ok(running == n, "%d of %d guests ran while all were alive", running, n);

    for (int i = 0; i < n; i++) {
        s64 t = cpu_time(ids[i]);
        ran[i] = t > 0 ? (u64)t : 0;
    }
    int progressed = wait_all_ran(ran, kt_hc_time() + WAIT_NS);
    kt_ok(progressed == n, "%d of %d guests made progress in a second window", progressed, n);

    int destroyed = 0;
    for (int i = 0; i < n; i++)
        destroyed += domctl(KILN_DOMCTL_DESTROY, ids[i]) == 0;
    s64 deadline = kt_hc_time() + 10000000000ll;
    for (int i = 0; i < n; i++) {
        while (cpu_time(ids[i]) >= 0 && kt_hc_time() < deadline)
            kt_hc_block((u64)kt_hc_time() + 1000000);
    }
    kt_ok(destroyed == n, "%d of %d guests destroyed", destroyed, n);
    u64 end = kt_free_pages();
    kt_ok(end == start, "free pages after destroying all: %lu (started with %lu)",
          (unsigned long)end, (unsigned long)start);
}
