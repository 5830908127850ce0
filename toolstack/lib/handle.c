/*
 * handle.c - opening /dev/kiln and issuing hypercalls through it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include "kiln_private.h"

static int dev_hypercall(void *ctx, struct kiln_ioctl_hypercall *hc)
{
    int fd = (int)(intptr_t)ctx;

    if (ioctl(fd, KILN_IOCTL_HYPERCALL, hc) < 0)
        return -errno;
    return 0;
}

static void dev_close(void *ctx)
{
    close((int)(intptr_t)ctx);
}

/* A shared mapping of the device reserves the range; the ioctl fills it. */
static int dev_mmap_foreign(void *ctx, uint32_t domid, uint64_t gfn, size_t nr, void **out)
{
    int fd = (int)(intptr_t)ctx;
    struct kiln_ioctl_mmap_foreign req = { .gfn = gfn, .nr_pages = (uint32_t)nr, .domid = domid };
    void *p;

    if (!nr || nr > UINT32_MAX)
        return -EINVAL;
    p = mmap(NULL, nr * KILN_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        return -errno;
    req.addr = (uint64_t)(uintptr_t)p;
    if (ioctl(fd, KILN_IOCTL_MMAP_FOREIGN, &req) < 0) {
        int err = -errno;

        munmap(p, nr * KILN_PAGE_SIZE);
        return err;
    }
    *out = p;
    return 0;
}

static int dev_evtchn(void *ctx, bool bind, struct kiln_ioctl_evtchn *req)
{
    int fd = ioctl((int)(intptr_t)ctx, bind ? KILN_IOCTL_EVTCHN_BIND : KILN_IOCTL_EVTCHN_ALLOC, req);

    return fd < 0 ? -errno : fd;
}

static const struct kiln_transport dev_transport = {
    .hypercall = dev_hypercall,
    .close = dev_close,
    .mmap_foreign = dev_mmap_foreign,
    .evtchn = dev_evtchn,
};

int kiln_open_transport(const struct kiln_transport *t, void *ctx, kiln_handle **out)
{
    kiln_handle *h = calloc(1, sizeof(*h));

    if (!h)
        return -ENOMEM;
    h->t = t;
    h->ctx = ctx;
    *out = h;
    return 0;
}

int kiln_open(kiln_handle **out)
{
    int fd = open(KILN_DEVICE_PATH, O_RDWR | O_CLOEXEC);
    int err;

    if (fd < 0)
        return -errno;
    err = kiln_open_transport(&dev_transport, (void *)(intptr_t)fd, out);
    if (err)
        close(fd);
    return err;
}

void kiln_close(kiln_handle *h)
{
    if (!h)
        return;
    if (h->t->close)
        h->t->close(h->ctx);
    free(h);
}

int kiln_hv_errno(int64_t r)
{
    return r > INT32_MAX ? INT32_MAX : (int)kiln_hv_result_to_errno(r);
}

static int call(kiln_handle *h, uint64_t op, uint64_t arg0)
{
    struct kiln_ioctl_hypercall hc = { .op = op, .arg = { arg0 } };
    int err = h->t->hypercall(h->ctx, &hc);

    return err ? err : kiln_hv_errno(hc.result);
}

int kiln_hc_op(kiln_handle *h, uint64_t hc_nr, uint32_t cmd, void *op)
{
    struct kiln_ioctl_hypercall hc = { .op = hc_nr, .arg = { cmd, (uint64_t)(uintptr_t)op } };
    int err = h->t->hypercall(h->ctx, &hc);

    return err ? err : kiln_hv_errno(hc.result);
}

int kiln_domctl(kiln_handle *h, struct kiln_domctl *d)
{
    return call(h, KILN_HC_DOMCTL, (uint64_t)(uintptr_t)d);
}

int kiln_sysctl(kiln_handle *h, struct kiln_sysctl *s)
{
    return call(h, KILN_HC_SYSCTL, (uint64_t)(uintptr_t)s);
}

int kiln_version(kiln_handle *h, uint32_t *version)
{
    int r = call(h, KILN_HC_VERSION, 0);

    if (r < 0)
        return r;
    *version = (uint32_t)r;
    return 0;
}
