/*
 * migrate_ctl.c - libkiln's calls for save/restore and migration: pausing
 * until a domain has really stopped, vCPU state out and in, bulk memory
 * reads, the domain's clock and log-dirty mode (ABI 1.2 domctls, buffers bounced by kiln.ko as
 * kiln_ioctl.h says).
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include "kiln_private.h"

int kiln_domain_pause_wait(kiln_handle *h, uint32_t domid, unsigned int timeout_ms)
{
    struct timespec pause = { 0, 200000 };   /* 0.2 ms between polls */
    struct timespec t0, now;
    struct kiln_dominfo info;
    int r = kiln_domain_pause(h, domid);

    if (r < 0)
        return r;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        r = kiln_domain_info(h, domid, &info);
        if (r < 0)
            return r;
        if (info.state == KILN_DOMSTATE_PAUSED)
            return 0;
        if (info.state != KILN_DOMSTATE_RUNNING)
            return -EBUSY;   /* dying, or never started */
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000 >
            (long)timeout_ms)
            return -ETIMEDOUT;
        nanosleep(&pause, NULL);
    }
}

static int vcpu_state(kiln_handle *h, uint32_t cmd, uint32_t domid, uint32_t vcpu,
                      struct kiln_vcpu_state *buf)
{
    struct kiln_domctl d = { .cmd = cmd, .domid = domid };
    int r;

    d.u.vcpu_state.vcpu = vcpu;
    d.u.vcpu_state.size = sizeof(*buf);
    d.u.vcpu_state.buf_gpa = (uint64_t)(uintptr_t)buf;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

int kiln_vcpu_state_get(kiln_handle *h, uint32_t domid, uint32_t vcpu,
                        struct kiln_vcpu_state *out)
{
    int r;

    memset(out, 0, sizeof(*out));
    r = vcpu_state(h, KILN_DOMCTL_GET_VCPU_STATE, domid, vcpu, out);
    if (r < 0)
        return r;
    /* A hypervisor of another ABI would leave these wrong. */
    if (out->size != sizeof(*out) || out->vcpu != vcpu)
        return -EIO;
    return 0;
}

int kiln_vcpu_state_set(kiln_handle *h, uint32_t domid, const struct kiln_vcpu_state *s)
{
    struct kiln_vcpu_state copy = *s;

    if (s->size != sizeof(*s))
        return -EINVAL;
    return vcpu_state(h, KILN_DOMCTL_SET_VCPU_STATE, domid, s->vcpu, &copy);
}

static int log_dirty(kiln_handle *h, uint32_t domid, struct kiln_domctl *d, uint32_t op)
{
    d->cmd = KILN_DOMCTL_LOG_DIRTY;
    d->domid = domid;
    d->u.log_dirty.op = op;
    return kiln_domctl(h, d);
}

int kiln_log_dirty_enable(kiln_handle *h, uint32_t domid)
{
    struct kiln_domctl d;
    int r;

    memset(&d, 0, sizeof(d));
    r = log_dirty(h, domid, &d, KILN_LOG_DIRTY_ENABLE);
    return r < 0 ? r : 0;
}

int kiln_log_dirty_disable(kiln_handle *h, uint32_t domid)
{
    struct kiln_domctl d;
    int r;

    memset(&d, 0, sizeof(d));
    r = log_dirty(h, domid, &d, KILN_LOG_DIRTY_DISABLE);
    return r < 0 ? r : 0;
}

int kiln_log_dirty_read_clean(kiln_handle *h, uint32_t domid, uint64_t start, uint64_t nr,
                              uint8_t *bits, uint64_t *covered)
{
    struct kiln_domctl d;
    int r;

    if (!nr || nr > KILN_LOG_DIRTY_BATCH)
        return -EINVAL;
    memset(&d, 0, sizeof(d));
    d.u.log_dirty.start_gfn = start;
    d.u.log_dirty.nr = nr;
    d.u.log_dirty.buf_gpa = (uint64_t)(uintptr_t)bits;
    r = log_dirty(h, domid, &d, KILN_LOG_DIRTY_READ_CLEAN);
    if (r < 0)
        return r;
    if (d.u.log_dirty.nr > nr || d.u.log_dirty.dirty > d.u.log_dirty.nr)
        return -EIO;
    *covered = d.u.log_dirty.nr;
    return (int)d.u.log_dirty.dirty;
}

int kiln_read_mem(kiln_handle *h, uint32_t domid, uint64_t gfn, uint32_t nr, void *buf)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_READ_MEM, .domid = domid };
    int r;

    if (!nr || nr > KILN_READ_MEM_MAX)
        return -EINVAL;
    d.u.read_mem.gfn = gfn;
    d.u.read_mem.nr = nr;
    d.u.read_mem.buf_gpa = (uint64_t)(uintptr_t)buf;
    r = kiln_domctl(h, &d);
    return r < 0 ? r : 0;
}

static int clock_op(kiln_handle *h, uint32_t domid, uint32_t op, uint64_t *ns)
{
    struct kiln_domctl d = { .cmd = KILN_DOMCTL_CLOCK, .domid = domid };
    int r;

    d.u.clock.op = op;
    d.u.clock.time_ns = *ns;
    r = kiln_domctl(h, &d);
    if (r < 0)
        return r;
    *ns = d.u.clock.time_ns;
    return 0;
}

int kiln_domain_clock_get(kiln_handle *h, uint32_t domid, uint64_t *ns)
{
    *ns = 0;
    return clock_op(h, domid, KILN_CLOCK_GET, ns);
}

int kiln_domain_clock_set(kiln_handle *h, uint32_t domid, uint64_t ns)
{
    return clock_op(h, domid, KILN_CLOCK_SET, &ns);
}
