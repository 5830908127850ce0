/*
 * devd.h - kiln-devd's device bus and main loop: up to DEVD_MAX_DEVICES
 * virtio-mmio devices at fixed guest addresses and interrupt lines, I/O
 * requests from the transport dispatched to them, and the host side of the
 * devices (console socket, TAP devices) polled in the same loop.
 *
 * Guest layout (what firmware tables or the Linux command line must say):
 * device i sits at DEVD_MMIO_BASE + i * 0x200 (0x200 bytes) on GSI
 * DEVD_GSI_BASE + i; the console is device 0, then the disks in config
 * order, then the network interfaces.  Linux without firmware tables:
 * `virtio_mmio.device=512@0xfeb00000:16` per device.
 */
#ifndef DEVD_DEVD_H
#define DEVD_DEVD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "transport.h"
#include "vcon.h"
#include "vmmio.h"
#include "vnet.h"

#define DEVD_MAX_DEVICES 8              /* GSIs 16..23 of the IOAPIC */
#define DEVD_MMIO_BASE   0xfeb00000ull
#define DEVD_MMIO_STRIDE 0x200u
#define DEVD_GSI_BASE    16u
#define DEVD_MAX_NETS    3

struct consrv;

struct devd_slot {
    struct vmmio *m;
    struct devd *d;
    uint64_t base;
    unsigned irq;
    bool irq_failed;                    /* said once that raising it fails */
};

struct devd {
    struct devd_transport t;
    size_t n;
    struct devd_slot slot[DEVD_MAX_DEVICES];
    struct consrv *console;             /* host side of the console, or NULL */
    size_t n_nets;
    struct vnet *net[DEVD_MAX_NETS];
    uint64_t stray;                     /* accesses that hit no device */
    volatile sig_atomic_t stop;         /* set (e.g. by a signal) to leave devd_run */
};

void devd_init(struct devd *d, const struct devd_transport *t);
/* Puts m in the next slot (its address and GSI per the layout above) and
 * routes its interrupt to the transport; -ENOSPC when all slots are used. */
int devd_add(struct devd *d, struct vmmio *m);
/* Also polls the network device's fd for frames for the guest. */
int devd_add_net(struct devd *d, struct vnet *n);
/* Handles one I/O request (fills req->data for a read).  Accesses outside
 * every device read as all ones and are counted in d->stray. */
void devd_handle(struct devd *d, struct devd_ioreq *req);
/* One round of the loop: waits up to timeout_ms for the transport, the
 * console or a network device, and serves what is ready.  0, or -errno if
 * the transport failed. */
int devd_poll_once(struct devd *d, int timeout_ms);
/* Loops until d->stop or a transport failure. */
int devd_run(struct devd *d);
/* The Linux command-line words that describe n devices of this layout
 * ("virtio_mmio.device=512@0xfeb00000:16 ..."), for guests booted without
 * firmware tables naming them; -ENOSPC if buf is too small. */
int devd_linux_cmdline(size_t n, char *buf, size_t len);

#endif /* DEVD_DEVD_H */
