/*
 * memtest.c - domain destroy returns every page.  A privileged guest reads
 * the free-page count (sysctl physinfo), then 100 times creates a domain,
 * loads a tiny payload into it with write_mem, starts it, and either lets
 * it run to its own poweroff or destroys it while it spins; after each it
 * waits until the domain is gone.  The free-page count must end where it
 * started.  RAM of 2 MiB + 4 KiB exercises both the 2 MiB and the 4 KiB
 * nested mappings.
 */
#include "kt.h"

#define CYCLES    100
#define CHILD_KIB (2048 + 4)

extern const u8 payload_finish[], payload_finish_end[], payload_spin[], payload_spin_end[];

static u8 buf[4096] __attribute__((aligned(4096)));
static struct kiln_domctl op __attribute__((aligned(256)));

static s64 domctl(u32 cmd, u32 domid)
{
    op.cmd = cmd;
    op.domid = domid;
    return kt_hc_domctl(&op);
}

/* Returns the state of domid, or -1 once it no longer exists. */
static s64 dom_state(u32 domid, u64 *cpu_ns)
{
    kt_memset(&op, 0, sizeof(op));
    s64 rc = domctl(KILN_DOMCTL_GETINFO, domid);
    if (rc < 0 || op.domid != domid)
        return -1;
    if (cpu_ns)
        *cpu_ns = op.u.info.cpu_time_ns;
    return op.u.info.state;
}

/* One cycle; returns a description of the failure or NULL. */
static const char *cycle(int i, bool finish, u64 start)
{
    kt_memset(&op, 0, sizeof(op));
    op.u.create.memory_kib = CHILD_KIB;
    op.u.create.vcpus = 1;
    kt_snprintf(op.u.create.name, sizeof(op.u.create.name), "child%d", i);
    if (domctl(KILN_DOMCTL_CREATE, 0))
        return "create failed";
    u32 child = op.domid;
    if (kt_free_pages() > start - CHILD_KIB / 4)
        return "create did not take the child's RAM from the free pages";

    const u8 *p = finish ? payload_finish : payload_spin;
    size_t len = (size_t)((finish ? payload_finish_end : payload_spin_end) - p);
    kt_memset(buf, 0, sizeof(buf));
    kt_memcpy(buf, p, len);
    if (kt_write_mem(&op, child, 0x1000, buf, sizeof(buf)))
        return "write_mem failed";
    kt_memset(&op.u, 0, sizeof(op.u));
    op.u.vcpu.vcpu = 0;
    op.u.vcpu.rip = 0x1000;
    if (domctl(KILN_DOMCTL_SET_VCPU, child))
        return "set_vcpu failed";
    if (domctl(KILN_DOMCTL_UNPAUSE, child))
        return "unpause failed";

    u64 ran = 0;
    s64 t0 = kt_hc_time();
    if (!finish) {
        /* Let it really run (and fault its pages in) before killing it. */
        while (dom_state(child, &ran) == KILN_DOMSTATE_RUNNING && ran < 1000000) {
            if (kt_hc_time() - t0 > 5000000000ll)
                return "spinning child never ran";
            kt_hc_block((u64)kt_hc_time() + 1000000);
        }
        if (domctl(KILN_DOMCTL_DESTROY, child))
            return "destroy failed";
    }
    while (dom_state(child, NULL) >= 0) {
        if (kt_hc_time() - t0 > 5000000000ll)
            return "child never went away";
        kt_hc_block((u64)kt_hc_time() + 1000000);
    }
    return NULL;
}

void kt_main(void)
{
    kt_plan(4);
    u64 start = kt_free_pages();
    kt_ok(start > 0, "physinfo reports %lu free pages", (unsigned long)start);

    const char *err = NULL;
    int done = 0, leaks = 0;
    for (; done < CYCLES && !err; done++) {
        err = cycle(done, done % 2 == 0, start);
        if (!err && kt_free_pages() != start)
            leaks++;
    }
    kt_ok(!err, "%d create/load/run/destroy cycles%s%s", done, err ? ": " : "", err ? err : "");
    kt_ok(leaks == 0, "free pages back to the start value after every cycle (%d cycles differed)",
          leaks);
    u64 end = kt_free_pages();
    kt_ok(end == start, "free pages after %d cycles: %lu (started with %lu)", done,
          (unsigned long)end, (unsigned long)start);
}
