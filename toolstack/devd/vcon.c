/*
 * vcon.c - virtio-console: queue 0 receives (host to guest), queue 1
 * transmits (guest to host).  No feature bits: one port, no size or
 * emergency-write fields are offered, so the config space reads as zeros.
 */
#include <string.h>
#include "log.h"
#include "vcon.h"
#include "virtio.h"

#define Q_RX 0
#define Q_TX 1
#define CHUNK 4096

static void config_read(struct vmmio *m, uint32_t off, void *buf, uint32_t len)
{
    (void)m;
    (void)off;
    memset(buf, 0, len);
}

/* Moves held input into as many receive buffers as the guest has posted. */
static void deliver(struct vcon *c)
{
    while (c->n_input) {
        uint64_t n;
        int r = vmmio_pop(&c->mmio, Q_RX, &c->chain);

        if (r <= 0)
            return;
        n = c->chain.in_len < c->n_input ? c->chain.in_len : c->n_input;
        if (virtq_chain_write(&c->mmio.q[Q_RX], &c->chain, 0, c->input, n)) {
            vmmio_fail(&c->mmio, "receive buffer left guest RAM");
            return;
        }
        memmove(c->input, c->input + n, c->n_input - n);
        c->n_input -= n;
        if (vmmio_push(&c->mmio, Q_RX, c->chain.head, (uint32_t)n))
            return;
    }
}

static void transmit(struct vcon *c)
{
    unsigned char buf[CHUNK];
    int r;

    while ((r = vmmio_pop(&c->mmio, Q_TX, &c->chain)) > 0) {
        uint64_t len = c->chain.out_len;

        if (len > VCON_CHAIN_MAX) {
            c->dropped += len - VCON_CHAIN_MAX;
            len = VCON_CHAIN_MAX;
        }
        for (uint64_t off = 0; off < len; off += CHUNK) {
            uint64_t n = len - off < CHUNK ? len - off : CHUNK;

            if (virtq_chain_read(&c->mmio.q[Q_TX], &c->chain, off, buf, n)) {
                vmmio_fail(&c->mmio, "transmit buffer left guest RAM");
                return;
            }
            c->output(c->output_ctx, buf, n);
        }
        if (vmmio_push(&c->mmio, Q_TX, c->chain.head, 0))
            return;
    }
}

static void notify(struct vmmio *m, unsigned q)
{
    struct vcon *c = m->dev;

    if (q == Q_TX)
        transmit(c);
    else
        deliver(c);
}

static const struct vdev_ops vcon_ops = {
    .name = "console",
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .queue_max = 64,
    .features = 1ull << VIRTIO_F_INDIRECT_DESC,
    .config_size = 12,          /* cols, rows, max_nr_ports, emerg_wr */
    .config_read = config_read,
    .notify = notify,
};

void vcon_init(struct vcon *c, struct gram *ram, struct vmmio_irq irq,
               void (*output)(void *ctx, const void *buf, size_t len), void *output_ctx)
{
    memset(c, 0, sizeof(*c));
    vmmio_init(&c->mmio, &vcon_ops, c, ram, irq);
    c->output = output;
    c->output_ctx = output_ctx;
}

size_t vcon_input_room(const struct vcon *c)
{
    return VCON_INPUT_MAX - c->n_input;
}

size_t vcon_input(struct vcon *c, const void *buf, size_t len)
{
    size_t n = len < vcon_input_room(c) ? len : vcon_input_room(c);

    memcpy(c->input + c->n_input, buf, n);
    c->n_input += n;
    deliver(c);
    return n;
}
