/*
 * vcon.h - virtio-console (virtio 1.2 section 5.3), one port, no multiport:
 * the guest's console.  Bytes the guest transmits go to an output callback
 * (devd's console server: the log and an attached `kl console`); bytes typed
 * into the console are handed in with vcon_input and delivered through the
 * receive queue as buffers become available.
 */
#ifndef DEVD_VCON_H
#define DEVD_VCON_H

#include <stddef.h>
#include "vmmio.h"

#define VCON_INPUT_MAX 4096     /* input held while the guest has no buffer */
/* Output taken from one transmit chain; the rest is dropped.  A chain may
 * name the same guest memory up to VIRTQ_MAX_SEGS times, so without a cap
 * one request could make devd write hundreds of GiB into the console log. */
#define VCON_CHAIN_MAX (64 * 1024)

struct vcon {
    struct vmmio mmio;
    void (*output)(void *ctx, const void *buf, size_t len);
    void *output_ctx;
    unsigned long long dropped;     /* output bytes beyond VCON_CHAIN_MAX */
    size_t n_input;
    unsigned char input[VCON_INPUT_MAX];
    struct virtq_chain chain;
};

void vcon_init(struct vcon *c, struct gram *ram, struct vmmio_irq irq,
               void (*output)(void *ctx, const void *buf, size_t len), void *output_ctx);
/* Queues up to len input bytes for the guest and delivers what buffers
 * allow; returns how many bytes were taken (less than len when the input
 * buffer is full: read more only after vcon_input_room is non-zero). */
size_t vcon_input(struct vcon *c, const void *buf, size_t len);
size_t vcon_input_room(const struct vcon *c);

#endif /* DEVD_VCON_H */
