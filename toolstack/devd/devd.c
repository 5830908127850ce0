/*
 * devd.c - kiln-devd's bus and main loop (see devd.h): requests from the
 * transport go to the device whose window they hit; console and network
 * descriptors are polled beside the transport in one single-threaded loop,
 * so device state needs no locking.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include "consrv.h"
#include "devd.h"
#include "log.h"
#include "virtio.h"

void devd_init(struct devd *d, const struct devd_transport *t)
{
    memset(d, 0, sizeof(*d));
    d->t = *t;
}

static void slot_irq(void *ctx, bool level)
{
    struct devd_slot *s = ctx;
    int r = s->d->t.set_irq(s->d->t.ctx, s->irq, level);

    if (r < 0 && !s->irq_failed)
        devd_log("%s: raising GSI %u failed: %s (said once)", s->m->ops->name, s->irq,
                 strerror(-r));
    s->irq_failed = r < 0;
}

int devd_add(struct devd *d, struct vmmio *m)
{
    struct devd_slot *s;

    if (d->n == DEVD_MAX_DEVICES)
        return -ENOSPC;
    s = &d->slot[d->n];
    s->m = m;
    s->d = d;
    s->base = DEVD_MMIO_BASE + (uint64_t)d->n * DEVD_MMIO_STRIDE;
    s->irq = DEVD_GSI_BASE + (unsigned)d->n;
    m->irq = (struct vmmio_irq){ .set = slot_irq, .ctx = s };
    d->n++;
    return 0;
}

int devd_add_net(struct devd *d, struct vnet *n)
{
    int r;

    if (d->n_nets == DEVD_MAX_NETS)
        return -ENOSPC;
    if ((r = devd_add(d, &n->mmio)))
        return r;
    d->net[d->n_nets++] = n;
    return 0;
}

void devd_handle(struct devd *d, struct devd_ioreq *req)
{
    uint64_t off = req->addr - DEVD_MMIO_BASE;
    size_t i = off / DEVD_MMIO_STRIDE;
    unsigned size = req->size;

    /* The access must lie inside one device's window and have a real width. */
    if (req->addr < DEVD_MMIO_BASE || i >= d->n || (size != 1 && size != 2 && size != 4 &&
        size != 8) || off % DEVD_MMIO_STRIDE + size > DEVD_MMIO_STRIDE) {
        d->stray++;
        if (!req->write)
            req->data = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
        return;
    }
    off %= DEVD_MMIO_STRIDE;
    if (req->write)
        vmmio_write(d->slot[i].m, (uint32_t)off, size, req->data);
    else
        req->data = vmmio_read(d->slot[i].m, (uint32_t)off, size);
}

/* Serves every waiting request; -errno if the transport failed. */
static int serve_requests(struct devd *d)
{
    struct devd_ioreq req;
    int r;

    while ((r = d->t.next(d->t.ctx, &req)) > 0) {
        devd_handle(d, &req);
        if ((r = d->t.complete(d->t.ctx, &req)) < 0)
            break;
    }
    if (r < 0)
        devd_log("transport failed: %s", strerror(-r));
    return r < 0 ? r : 0;
}

enum { P_TRANSPORT, P_LISTEN, P_CLIENT, P_NET };

int devd_poll_once(struct devd *d, int timeout_ms)
{
    struct pollfd pfd[P_NET + DEVD_MAX_NETS];
    struct consrv *cs = d->console;
    size_t n;
    int r;

    for (n = 0; n < P_NET + DEVD_MAX_NETS; n++)
        pfd[n] = (struct pollfd){ .fd = -1, .events = POLLIN };
    pfd[P_TRANSPORT].fd = d->t.poll_fd(d->t.ctx);
    if (cs) {
        pfd[P_LISTEN].fd = cs->listen_fd;
        /* typed input waits in the socket while the guest's buffer is full */
        if (cs->client_fd >= 0 && vcon_input_room(cs->con))
            pfd[P_CLIENT].fd = cs->client_fd;
    }
    /* frames wait in the TAP queue until the guest posts receive buffers */
    for (size_t i = 0; i < d->n_nets; i++)
        if (vnet_rx_ready(d->net[i]))
            pfd[P_NET + i].fd = d->net[i]->fd;
    r = poll(pfd, P_NET + d->n_nets, timeout_ms);
    if (r < 0)
        return errno == EINTR ? 0 : -errno;
    if (pfd[P_TRANSPORT].revents && (r = serve_requests(d)) < 0)
        return r;
    if (cs && pfd[P_LISTEN].revents)
        consrv_accept(cs);
    if (cs && pfd[P_CLIENT].revents && cs->client_fd == pfd[P_CLIENT].fd)
        consrv_input(cs);
    for (size_t i = 0; i < d->n_nets; i++) {
        if (!pfd[P_NET + i].revents)
            continue;
        r = vnet_rx(d->net[i]);
        if (r < 0)
            devd_log("net %zu: reading frames failed: %s", i, strerror(-r));
    }
    return 0;
}

int devd_linux_cmdline(size_t n, char *buf, size_t len)
{
    size_t used = 0;

    if (len)
        buf[0] = '\0';
    for (size_t i = 0; i < n && i < DEVD_MAX_DEVICES; i++) {
        int w = snprintf(buf + used, len - used, "%svirtio_mmio.device=%u@0x%llx:%u",
                         i ? " " : "", DEVD_MMIO_STRIDE,
                         (unsigned long long)(DEVD_MMIO_BASE + i * DEVD_MMIO_STRIDE),
                         DEVD_GSI_BASE + (unsigned)i);

        if (w < 0 || (size_t)w >= len - used)
            return -ENOSPC;
        used += (size_t)w;
    }
    return n > DEVD_MAX_DEVICES ? -ENOSPC : 0;
}

int devd_run(struct devd *d)
{
    int r = 0;

    while (!d->stop && (r = devd_poll_once(d, -1)) == 0)
        ;
    return r;
}
