/*
 * kiln_private.h - libkiln's inside: the handle and the one seam through
 * which every hypercall passes.
 *
 * The seam exists so that unit tests can replace /dev/kiln with a fake and
 * check the requests libkiln marshals; programs only ever get the real
 * device from kiln_open().
 */
#ifndef KILN_PRIVATE_H
#define KILN_PRIVATE_H

#include <stdbool.h>
#include "kiln_ioctl.h"
#include "libkiln.h"

struct kiln_transport {
    /* Performs hc (fills hc->result); 0, or -errno if no call was made. */
    int (*hypercall)(void *ctx, struct kiln_ioctl_hypercall *hc);
    void (*close)(void *ctx);
    /* kiln_map_foreign; NULL where there is no device to mmap. */
    int (*mmap_foreign)(void *ctx, uint32_t domid, uint64_t gfn, size_t nr, void **out);
    /* KILN_IOCTL_EVTCHN_BIND (bind) or _ALLOC: a descriptor or -errno;
     * NULL where there is no device. */
    int (*evtchn)(void *ctx, bool bind, struct kiln_ioctl_evtchn *req);
};

struct kiln_handle {
    const struct kiln_transport *t;
    void *ctx;
};

int kiln_open_transport(const struct kiln_transport *t, void *ctx, kiln_handle **out);
/* One domctl/sysctl: the hypervisor's result, or -errno. */
int kiln_domctl(kiln_handle *h, struct kiln_domctl *d);
int kiln_sysctl(kiln_handle *h, struct kiln_sysctl *s);
/* EVTCHN_OP / IOREQ_OP number cmd on the structure at op. */
int kiln_hc_op(kiln_handle *h, uint64_t hc, uint32_t cmd, void *op);
/* A hypervisor result (>= 0 or -KILN_E*) as libkiln's (>= 0 or -errno). */
int kiln_hv_errno(int64_t result);

#endif /* KILN_PRIVATE_H */
