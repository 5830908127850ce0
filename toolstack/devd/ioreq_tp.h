/*
 * ioreq_tp.h - kiln-devd's transport on the hypervisor's I/O request
 * forwarding (include/public/ioreq.h): the domain's ioreq page (one slot per
 * vCPU, mapped through /dev/kiln) and one event channel per vCPU (kiln.ko
 * descriptors), behind the devd_transport interface.
 *
 * The slots are in the guest's own RAM, so every field is read once and
 * checked; a slot the guest forged is answered like a real request (it can
 * only make devd do what the guest could do with an MMIO access anyway), and
 * each notification lets devd look at each slot at most once, so a guest
 * that keeps its slots READY cannot keep devd busy.
 *
 * Interrupts: the ABI has no call yet for dom0 to assert a domU's GSI, so
 * set_irq fails with -ENOSYS (see devd/README.md).
 */
#ifndef DEVD_IOREQ_TP_H
#define DEVD_IOREQ_TP_H

#include <stdint.h>
#include "ioreq.h"
#include "libkiln.h"
#include "transport.h"

#define IOREQ_MAX_VCPUS KILN_MAX_VCPUS

struct ioreq_tp {
    struct kiln_ioreq *page;    /* the vCPUs' slots (shared with the guest) */
    unsigned nvcpus;
    int fd[IOREQ_MAX_VCPUS];    /* each vCPU's channel */
    int epfd;                   /* readable when any channel is */
    unsigned cursor;            /* next slot of this round; nvcpus: no round */
    unsigned long long ignored; /* slots with impossible contents */
};

/* Serves page (nvcpus slots) with the given channel descriptors (owned from
 * then on).  -EINVAL for a bad count, -errno if epoll fails. */
int ioreq_tp_init(struct ioreq_tp *tp, void *page, unsigned nvcpus, const int *fds);
/* Makes this process domid's I/O server (ioreq page at gfn, answer timeout
 * in ms), binds every vCPU's channel, claims [base, base + size) of MMIO
 * and calls ioreq_tp_init.  -errno of the failing step. */
int ioreq_tp_open(struct ioreq_tp *tp, kiln_handle *h, uint32_t domid, unsigned nvcpus,
                  uint64_t gfn, uint32_t timeout_ms, uint64_t base, uint64_t size);
/* Closes the channels (the hypervisor then crashes the domain if it is
 * still running: its server is gone) and unmaps the page if it was mapped
 * by ioreq_tp_open. */
void ioreq_tp_close(struct ioreq_tp *tp, int unmap);
/* The devd_transport view of tp. */
struct devd_transport ioreq_tp_transport(struct ioreq_tp *tp);

#endif /* DEVD_IOREQ_TP_H */
