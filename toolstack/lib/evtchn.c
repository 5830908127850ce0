/*
 * evtchn.c - libkiln's event channels and I/O request forwarding: ports of
 * dom0 as file descriptors (kiln.ko's KILN_IOCTL_EVTCHN_*), the event
 * channel calls a process may make for other domains, and becoming a
 * domain's I/O server (include/public/ioreq.h).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "kiln_private.h"

static int evtchn_fd(kiln_handle *h, bool bind, uint32_t remote_dom, uint32_t remote_port,
                     uint32_t *port)
{
    struct kiln_ioctl_evtchn req = { .remote_dom = remote_dom, .remote_port = remote_port };
    int fd;

    if (!h->t->evtchn)
        return -ENOSYS;
    fd = h->t->evtchn(h->ctx, bind, &req);
    if (fd >= 0)
        *port = req.port;
    return fd;
}

int kiln_evtchn_bind(kiln_handle *h, uint32_t remote_dom, uint32_t remote_port, uint32_t *port)
{
    return evtchn_fd(h, true, remote_dom, remote_port, port);
}

int kiln_evtchn_alloc(kiln_handle *h, uint32_t remote_dom, uint32_t *port)
{
    return evtchn_fd(h, false, remote_dom, 0, port);
}

int kiln_evtchn_notify(int fd)
{
    uint64_t one = 1;
    ssize_t n = write(fd, &one, sizeof(one));

    if (n < 0)
        return -errno;
    return n == sizeof(one) ? 0 : -EIO;
}

int kiln_evtchn_wait(int fd, int timeout_ms, uint32_t *count)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    uint32_t n;
    ssize_t got;
    int r;

    do
        r = poll(&p, 1, timeout_ms);
    while (r < 0 && errno == EINTR);
    if (r < 0)
        return -errno;
    if (r == 0)
        return -ETIMEDOUT;
    if (!(p.revents & POLLIN))
        return -EIO;
    got = read(fd, &n, sizeof(n));
    if (got < 0)
        return -errno;
    if (got != sizeof(n) || n == 0)
        return -EIO;
    *count = n;
    return 0;
}

static int evtchn_op(kiln_handle *h, uint32_t cmd, struct kiln_evtchn_op *op)
{
    return kiln_hc_op(h, KILN_HC_EVTCHN_OP, cmd, op);
}

int kiln_evtchn_alloc_for(kiln_handle *h, uint32_t dom, uint32_t remote_dom, uint32_t *port)
{
    struct kiln_evtchn_op op = { .dom = dom, .remote_dom = remote_dom };
    int r = evtchn_op(h, KILN_EVTCHNOP_ALLOC_UNBOUND, &op);

    if (r >= 0)
        *port = op.port;
    return r < 0 ? r : 0;
}

int kiln_evtchn_status(kiln_handle *h, uint32_t dom, uint32_t port, struct kiln_evtchn_status *out)
{
    struct kiln_evtchn_op op = { .dom = dom, .port = port };
    int r = evtchn_op(h, KILN_EVTCHNOP_STATUS, &op);

    if (r < 0)
        return r;
    *out = (struct kiln_evtchn_status){ .state = op.state, .remote_dom = op.remote_dom,
        .remote_port = op.remote_port, .vcpu = op.vcpu, .priority = op.priority };
    return 0;
}

int kiln_evtchn_set_limit(kiln_handle *h, uint32_t dom, uint32_t limit)
{
    struct kiln_evtchn_op op = { .dom = dom, .limit = limit };
    int r = evtchn_op(h, KILN_EVTCHNOP_SET_LIMIT, &op);

    return r < 0 ? r : 0;
}

static int ioreq_op(kiln_handle *h, uint32_t cmd, struct kiln_ioreq_op *op)
{
    int r = kiln_hc_op(h, KILN_HC_IOREQ_OP, cmd, op);

    return r < 0 ? r : 0;
}

int kiln_ioreq_create(kiln_handle *h, uint32_t domid, uint64_t gfn, uint32_t timeout_ms)
{
    struct kiln_ioreq_op op = { .dom = domid, .gfn = gfn, .timeout_ms = timeout_ms };

    return ioreq_op(h, KILN_IOREQ_OP_CREATE, &op);
}

int kiln_ioreq_vcpu_port(kiln_handle *h, uint32_t domid, uint32_t vcpu, uint32_t *port)
{
    struct kiln_ioreq_op op = { .dom = domid, .vcpu = vcpu };
    int r = ioreq_op(h, KILN_IOREQ_OP_VCPU_PORT, &op);

    if (!r)
        *port = op.port;
    return r;
}

int kiln_ioreq_map_range(kiln_handle *h, uint32_t domid, uint32_t type, uint64_t start,
                         uint64_t size)
{
    struct kiln_ioreq_op op = { .dom = domid, .type = type, .start = start, .size = size };

    return ioreq_op(h, KILN_IOREQ_OP_MAP_RANGE, &op);
}
