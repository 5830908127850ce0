/*
 * vmmio.h - the virtio-mmio transport (virtio 1.2 section 4.2, version 2
 * only), one instance per device: the register file a guest driver reads and
 * writes, the device status state machine, feature negotiation, queue setup,
 * notifications and the interrupt line.
 *
 * The device models (console, blk, net) plug in through struct vdev_ops; the
 * transport checks every register access (width, alignment, state) before a
 * device sees anything, so devices get only queue notifications for enabled
 * queues of a driver that reached DRIVER_OK, and config accesses inside their
 * config space.
 */
#ifndef DEVD_VMMIO_H
#define DEVD_VMMIO_H

#include <stdbool.h>
#include <stdint.h>
#include "gram.h"
#include "virtq.h"

#define VMMIO_MAX_QUEUES 4
#define VMMIO_VENDOR_ID  0x4e4c494bu    /* "KILN" */

struct vmmio;

struct vdev_ops {
    const char *name;           /* for messages: "console", "blk", "net" */
    uint32_t device_id;         /* VIRTIO_ID_* */
    unsigned num_queues;        /* 1..VMMIO_MAX_QUEUES */
    uint16_t queue_max;         /* QueueNumMax, power of two <= VIRTQ_MAX_SIZE */
    uint64_t features;          /* offered besides VIRTIO_F_VERSION_1 */
    uint32_t config_size;       /* bytes of device config space (<= 0x100) */
    /* Config space access; off + len <= config_size is checked. */
    void (*config_read)(struct vmmio *m, uint32_t off, void *buf, uint32_t len);
    void (*config_write)(struct vmmio *m, uint32_t off, const void *buf, uint32_t len);
    /* The driver notified queue q (enabled, status DRIVER_OK, not broken). */
    void (*notify)(struct vmmio *m, unsigned q);
    /* The driver reset the device (status written 0); queues are already
     * cleared.  May be NULL. */
    void (*reset)(struct vmmio *m);
};

/* How the device raises its interrupt: set(ctx, true) for every new
 * interrupt, set(ctx, false) when InterruptStatus drops back to 0 (a level
 * line follows it; an edge or event-channel binding ignores false). */
struct vmmio_irq {
    void (*set)(void *ctx, bool level);
    void *ctx;
};

struct vmmio {
    const struct vdev_ops *ops;
    void *dev;                  /* the device model's state */
    struct gram *ram;
    struct vmmio_irq irq;
    uint32_t status;
    uint32_t dev_features_sel, drv_features_sel, queue_sel, shm_sel;
    uint64_t driver_features;
    uint32_t interrupt_status;
    uint32_t config_generation;
    bool broken;                /* DEVICE_NEEDS_RESET set until reset */
    struct virtq q[VMMIO_MAX_QUEUES];
};

void vmmio_init(struct vmmio *m, const struct vdev_ops *ops, void *dev, struct gram *ram,
                struct vmmio_irq irq);
/* A guest access at offset off (0..VIRTIO_MMIO_SIZE-1) of size 1, 2, 4 or 8.
 * Anything the spec does not allow is logged and ignored (reads give 0). */
uint64_t vmmio_read(struct vmmio *m, uint32_t off, unsigned size);
void vmmio_write(struct vmmio *m, uint32_t off, unsigned size, uint64_t val);

/* Offered features, VIRTIO_F_VERSION_1 included. */
uint64_t vmmio_offered(const struct vmmio *m);
bool vmmio_negotiated(const struct vmmio *m, unsigned bit);
/* True when the driver is running (DRIVER_OK) and the device not broken. */
bool vmmio_live(const struct vmmio *m);
/* Takes the next chain of queue q: 1, 0 if none, -1 if the queue is corrupt
 * (the device is then broken, see vmmio_fail). */
int vmmio_pop(struct vmmio *m, unsigned q, struct virtq_chain *ch);
/* Completes a chain on queue q and interrupts the guest if it wants. */
int vmmio_push(struct vmmio *m, unsigned q, uint16_t head, uint32_t len);
/* Marks the device broken: DEVICE_NEEDS_RESET, a config-change interrupt if
 * the driver is running, and a log line with the reason.  Nothing more is
 * processed until the driver resets the device. */
void vmmio_fail(struct vmmio *m, const char *why);
/* The device's config space changed: bumps ConfigGeneration and interrupts. */
void vmmio_config_changed(struct vmmio *m);

#endif /* DEVD_VMMIO_H */
