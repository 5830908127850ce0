/*
 * vblk.h - virtio-blk (virtio 1.2 section 5.2) backed by a raw image file:
 * read, write, flush, discard and get-id.  A read-only disk offers
 * VIRTIO_BLK_F_RO and answers writes and discards with VIRTIO_BLK_S_IOERR.
 * Requests are served synchronously when the guest notifies the queue.
 */
#ifndef DEVD_VBLK_H
#define DEVD_VBLK_H

#include <stdbool.h>
#include <stdint.h>
#include "vmmio.h"

#define VIRTIO_BLK_F_SEG_MAX  2
#define VIRTIO_BLK_F_RO       5
#define VIRTIO_BLK_F_FLUSH    9
#define VIRTIO_BLK_F_DISCARD  13

#define VIRTIO_BLK_T_IN       0
#define VIRTIO_BLK_T_OUT      1
#define VIRTIO_BLK_T_FLUSH    4
#define VIRTIO_BLK_T_GET_ID   8
#define VIRTIO_BLK_T_DISCARD  11

#define VIRTIO_BLK_S_OK       0
#define VIRTIO_BLK_S_IOERR    1
#define VIRTIO_BLK_S_UNSUPP   2

#define VIRTIO_BLK_ID_BYTES   20
#define VBLK_SECTOR           512
#define VBLK_QUEUE_MAX        256
#define VBLK_MAX_DISCARD_SEG  16

struct vblk {
    struct vmmio mmio;
    struct vdev_ops ops;        /* per disk: RO differs */
    int fd;
    bool readonly;
    uint64_t sectors;           /* capacity in 512-byte sectors */
    char id[VIRTIO_BLK_ID_BYTES];
    struct virtq_chain chain;
};

/* Serves the image open at fd (kept open; closed by vblk_close) of the
 * given size in bytes (rounded down to sectors); id is what GET_ID returns
 * (truncated to 20 bytes). */
int vblk_init(struct vblk *b, struct gram *ram, struct vmmio_irq irq, int fd,
              uint64_t size, bool readonly, const char *id);
/* Opens path (O_RDONLY for a read-only disk) and calls vblk_init. */
int vblk_open(struct vblk *b, struct gram *ram, struct vmmio_irq irq, const char *path,
              bool readonly, const char *id);
void vblk_close(struct vblk *b);

#endif /* DEVD_VBLK_H */
