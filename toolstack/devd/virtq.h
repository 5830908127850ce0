/*
 * virtq.h - split virtqueues (virtio 1.2 section 2.7), device side, for a
 * hostile driver.
 *
 * The driver owns the descriptor table and the available ring and may write
 * anything there at any time, so everything read from them is copied once
 * (gram_read) and checked before use: the avail index may advance by at most
 * the queue size, heads and next indices must be inside their table, a chain
 * may not visit more descriptors than its table holds (which catches loops),
 * indirect tables must be negotiated, not nested, a whole number of
 * descriptors and in guest RAM, every buffer must lie in guest RAM, and
 * device-writable buffers must follow the readable ones.  Any violation marks
 * the queue broken (with a message saying why); a broken queue does nothing
 * until the driver resets the device.
 *
 * The used ring is written from devd's own copy of the used index, never
 * read back, so a guest scribbling over it only confuses itself.
 */
#ifndef DEVD_VIRTQ_H
#define DEVD_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include "gram.h"

#define VIRTQ_DESC_F_NEXT       1
#define VIRTQ_DESC_F_WRITE      2
#define VIRTQ_DESC_F_INDIRECT   4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1

/* Largest queue size devd offers (QueueNumMax), and the most buffers one
 * chain may have (indirect tables can hold more than the queue size). */
#define VIRTQ_MAX_SIZE 1024
#define VIRTQ_MAX_SEGS 1024

struct virtq_seg {
    uint64_t gpa;
    uint32_t len;
};

/* One popped request: out (device-readable) buffers first, then in
 * (device-writable) ones. */
struct virtq_chain {
    uint16_t head;
    unsigned n_out, n_in;
    uint64_t out_len, in_len;       /* total bytes of each kind */
    struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

struct virtq {
    struct gram *ram;
    uint16_t size;                  /* power of two, 1..VIRTQ_MAX_SIZE */
    uint64_t desc, avail, used;     /* guest-physical addresses of the parts */
    bool indirect_ok;               /* VIRTIO_F_INDIRECT_DESC negotiated */
    bool enabled;                   /* set by virtq_enable */
    bool broken;
    uint16_t last_avail;            /* next available entry to take */
    uint16_t used_idx;              /* devd's used index (the ring's copy is written, never read) */
    char error[160];                /* why it broke */
};

/* Clears the queue (as after a device reset) and binds it to ram. */
void virtq_reset(struct virtq *vq, struct gram *ram);
/* Checks the size and the three parts' alignment and placement in guest RAM
 * and makes the queue usable; on failure returns -EINVAL with vq->error set
 * (the queue stays disabled, not broken: nothing was read yet). */
int virtq_enable(struct virtq *vq);
/* Takes the next available chain: 1 and *ch filled, 0 if none is pending
 * (or the queue is disabled or broken), -EIO if the guest's ring is corrupt
 * (the queue is now broken; vq->error says why). */
int virtq_pop(struct virtq *vq, struct virtq_chain *ch);
/* Returns chain head to the driver with len bytes written into its in
 * buffers.  -EIO if the queue is broken or disabled. */
int virtq_push(struct virtq *vq, uint16_t head, uint32_t len);
/* Whether the driver wants an interrupt for what was pushed (it can say no
 * with VIRTQ_AVAIL_F_NO_INTERRUPT; the device may still send one). */
bool virtq_want_interrupt(struct virtq *vq);
/* Marks the queue broken with a message (for device-level protocol errors). */
void virtq_break(struct virtq *vq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Copies len bytes at byte offset off of the chain's out (readable) buffers
 * into buf, or buf into its in (writable) buffers.  -EFAULT if the range is
 * beyond the chain's buffers (or, for a changed memory map, not RAM). */
int virtq_chain_read(const struct virtq *vq, const struct virtq_chain *ch, uint64_t off,
                     void *buf, uint64_t len);
int virtq_chain_write(const struct virtq *vq, const struct virtq_chain *ch, uint64_t off,
                      const void *buf, uint64_t len);

#endif /* DEVD_VIRTQ_H */
