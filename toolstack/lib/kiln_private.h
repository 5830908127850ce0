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

#include "kiln_ioctl.h"
#include "libkiln.h"

struct kiln_transport {
    /* Performs hc (fills hc->result); 0, or -errno if no call was made. */
    int (*hypercall)(void *ctx, struct kiln_ioctl_hypercall *hc);
    void (*close)(void *ctx);
    /* kiln_map_foreign; NULL where there is no device to mmap. */
    int (*mmap_foreign)(void *ctx, uint32_t domid, uint64_t gfn, size_t nr, void **out);
};

struct kiln_handle {
    const struct kiln_transport *t;
    void *ctx;
};

int kiln_open_transport(const struct kiln_transport *t, void *ctx, kiln_handle **out);
/* One domctl/sysctl: the hypervisor's result, or -errno. */
int kiln_domctl(kiln_handle *h, struct kiln_domctl *d);
int kiln_sysctl(kiln_handle *h, struct kiln_sysctl *s);
/* A hypervisor result (>= 0 or -KILN_E*) as libkiln's (>= 0 or -errno). */
int kiln_hv_errno(int64_t result);

/* For runs of consecutive GFNs in gfns[0..count) (at most
 * KILN_FOREIGN_MAX_PER_DOMAIN pages at a time), maps the run from domid and
 * calls fn(ctx, first, n, map): gfns[first..first + n) are at map.  Stops at
 * the first error (fn's or the mapping's).  lib/foreign.c. */
int kiln_foreign_runs(kiln_handle *h, uint32_t domid, const uint64_t *gfns, size_t count,
                      int (*fn)(void *ctx, size_t first, size_t n, uint8_t *map), void *ctx);

#endif /* KILN_PRIVATE_H */
