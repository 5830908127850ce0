/*
 * transport.h - how kiln-devd meets the hypervisor: the guest's accesses to
 * devd's MMIO range arrive as I/O requests, each answered once handled, and
 * devd raises interrupts in the guest.
 *
 * This is the seam for the hypervisor's I/O request forwarding (a shared page
 * per vCPU plus an event channel, as a pollable fd from kiln.ko): a binding
 * implements these four calls; the main loop (devd.c) uses nothing else.
 * Tests bind it to an in-memory queue.
 */
#ifndef DEVD_TRANSPORT_H
#define DEVD_TRANSPORT_H

#include <stdbool.h>
#include <stdint.h>

struct devd_ioreq {
    uint64_t addr;      /* guest-physical address of the access */
    uint64_t data;      /* a write's value; a read's answer, filled by devd */
    uint32_t size;      /* 1, 2, 4 or 8 bytes */
    uint32_t vcpu;      /* the vCPU blocked on it (the binding answers there) */
    bool     write;
};

struct devd_transport {
    void *ctx;
    /* A descriptor that polls readable (POLLIN) when requests may be
     * waiting, e.g. the event channel fd(s) behind an epoll fd. */
    int (*poll_fd)(void *ctx);
    /* Takes the next waiting request: 1 and *req, 0 if none, -errno if the
     * binding failed (devd then exits: the hypervisor crashes the domain). */
    int (*next)(void *ctx, struct devd_ioreq *req);
    /* Answers req (for a read, req->data holds the value) and lets its
     * vCPU run on. */
    int (*complete)(void *ctx, const struct devd_ioreq *req);
    /* Drives the guest interrupt line irq (a GSI of its IOAPIC, or an event
     * channel): level true for every new interrupt, false when the device's
     * InterruptStatus drops to 0. */
    int (*set_irq)(void *ctx, unsigned irq, bool level);
};

#endif /* DEVD_TRANSPORT_H */
