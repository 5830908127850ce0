/*
 * ioreq_tp.c - the I/O request forwarding transport (see ioreq_tp.h and
 * include/public/ioreq.h for the protocol: READY from the hypervisor, DONE
 * from the server with the seq left as posted, then a send on the channel).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include "ioreq_tp.h"
#include "log.h"

int ioreq_tp_init(struct ioreq_tp *tp, void *page, unsigned nvcpus, const int *fds)
{
    memset(tp, 0, sizeof(*tp));
    tp->epfd = -1;
    if (!nvcpus || nvcpus > IOREQ_MAX_VCPUS || nvcpus > KILN_IOREQ_MAX_VCPUS)
        return -EINVAL;
    tp->page = page;
    tp->nvcpus = nvcpus;
    tp->cursor = nvcpus;
    memcpy(tp->fd, fds, nvcpus * sizeof(int));
    tp->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (tp->epfd < 0)
        return -errno;
    for (unsigned v = 0; v < nvcpus; v++) {
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = v };

        if (epoll_ctl(tp->epfd, EPOLL_CTL_ADD, fds[v], &ev) < 0)
            return -errno;
    }
    return 0;
}

/* Takes the pending notifications of every channel; true if there were any. */
static bool drain(struct ioreq_tp *tp)
{
    struct pollfd p[IOREQ_MAX_VCPUS];
    bool any = false;

    for (unsigned v = 0; v < tp->nvcpus; v++)
        p[v] = (struct pollfd){ .fd = tp->fd[v], .events = POLLIN };
    if (poll(p, tp->nvcpus, 0) <= 0)
        return false;
    for (unsigned v = 0; v < tp->nvcpus; v++) {
        uint32_t count;

        if ((p[v].revents & POLLIN) && read(tp->fd[v], &count, sizeof(count)) == sizeof(count))
            any = true;
    }
    return any;
}

static int tp_poll_fd(void *ctx)
{
    return ((struct ioreq_tp *)ctx)->epfd;
}

static int tp_next(void *ctx, struct devd_ioreq *req)
{
    struct ioreq_tp *tp = ctx;

    /* A round looks at each slot once, and starts only on a notification. */
    if (tp->cursor >= tp->nvcpus) {
        if (!drain(tp))
            return 0;
        tp->cursor = 0;
    }
    for (; tp->cursor < tp->nvcpus; tp->cursor++) {
        struct kiln_ioreq s;
        unsigned v = tp->cursor;

        /* one copy of the guest-writable slot; its state is read first so
         * the fields are those the hypervisor published with READY */
        if (__atomic_load_n(&tp->page[v].state, __ATOMIC_ACQUIRE) != KILN_IOREQ_STATE_READY)
            continue;
        memcpy(&s, &tp->page[v], sizeof(s));
        if (s.type != KILN_IOREQ_MMIO || s.dir > KILN_IOREQ_WRITE ||
            (s.size != 1 && s.size != 2 && s.size != 4 && s.size != 8)) {
            tp->ignored++;
            continue;
        }
        __atomic_store_n(&tp->page[v].state, KILN_IOREQ_STATE_INPROCESS, __ATOMIC_RELAXED);
        *req = (struct devd_ioreq){
            .addr = s.addr, .size = s.size, .vcpu = v, .write = s.dir == KILN_IOREQ_WRITE,
            .data = s.size == 8 ? s.data : s.data & ((1ull << (8 * s.size)) - 1),
        };
        tp->cursor++;
        return 1;
    }
    return 0;
}

static int tp_complete(void *ctx, const struct devd_ioreq *req)
{
    struct ioreq_tp *tp = ctx;
    struct kiln_ioreq *slot;

    if (req->vcpu >= tp->nvcpus)
        return -EINVAL;
    slot = &tp->page[req->vcpu];
    if (!req->write)
        slot->data = req->data;
    /* the answer is visible before DONE, DONE before the notification */
    __atomic_store_n(&slot->state, KILN_IOREQ_STATE_DONE, __ATOMIC_RELEASE);
    return kiln_evtchn_notify(tp->fd[req->vcpu]);
}

static int tp_set_irq(void *ctx, unsigned irq, bool level)
{
    (void)ctx;
    (void)irq;
    (void)level;
    return -ENOSYS;
}

struct devd_transport ioreq_tp_transport(struct ioreq_tp *tp)
{
    return (struct devd_transport){ .ctx = tp, .poll_fd = tp_poll_fd, .next = tp_next,
                                    .complete = tp_complete, .set_irq = tp_set_irq };
}

int ioreq_tp_open(struct ioreq_tp *tp, kiln_handle *h, uint32_t domid, unsigned nvcpus,
                  uint64_t gfn, uint32_t timeout_ms, uint64_t base, uint64_t size)
{
    int fds[IOREQ_MAX_VCPUS];
    unsigned bound = 0;
    void *page = NULL;
    int r;

    memset(tp, 0, sizeof(*tp));
    tp->epfd = -1;
    if (!nvcpus || nvcpus > IOREQ_MAX_VCPUS)
        return -EINVAL;
    if ((r = kiln_ioreq_create(h, domid, gfn, timeout_ms)) < 0) {
        devd_log("becoming d%u's I/O server (ioreq page gfn 0x%llx): %s", domid,
                 (unsigned long long)gfn, strerror(-r));
        return r;
    }
    if ((r = kiln_map_foreign(h, domid, gfn, 1, &page)) < 0) {
        devd_log("mapping the ioreq page: %s", strerror(-r));
        return r;
    }
    for (; bound < nvcpus; bound++) {
        uint32_t remote, local;

        if ((r = kiln_ioreq_vcpu_port(h, domid, bound, &remote)) < 0 ||
            (r = kiln_evtchn_bind(h, domid, remote, &local)) < 0) {
            devd_log("binding vCPU %u's ioreq channel: %s", bound, strerror(-r));
            goto fail;
        }
        fds[bound] = r;
    }
    if ((r = kiln_ioreq_map_range(h, domid, KILN_IOREQ_MMIO, base, size)) < 0) {
        devd_log("claiming MMIO 0x%llx+0x%llx: %s", (unsigned long long)base,
                 (unsigned long long)size, strerror(-r));
        goto fail;
    }
    if ((r = ioreq_tp_init(tp, page, nvcpus, fds)) < 0) {
        bound = 0;          /* tp owns the descriptors now */
        ioreq_tp_close(tp, 0);
        goto fail;
    }
    return 0;
fail:
    while (bound)
        close(fds[--bound]);
    kiln_unmap_foreign(page, 1);
    return r;
}

void ioreq_tp_close(struct ioreq_tp *tp, int unmap)
{
    for (unsigned v = 0; v < tp->nvcpus; v++)
        close(tp->fd[v]);
    if (tp->epfd >= 0)
        close(tp->epfd);
    if (unmap && tp->page)
        kiln_unmap_foreign(tp->page, 1);
    tp->nvcpus = 0;
    tp->epfd = -1;
}
