/*
 * vnet.c - virtio-net without offloads or mergeable buffers.
 *
 * Every frame is preceded by a 12-byte virtio_net_hdr (with num_buffers,
 * always present in virtio 1.x).  Nothing but VIRTIO_NET_F_MAC and
 * VIRTIO_NET_F_STATUS is offered, so the guest sends no checksum or GSO work
 * and each receive chain must hold a whole frame plus the header (5.1.6.3.1:
 * without mergeable buffers the driver posts buffers of at least 1526 bytes).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include "log.h"
#include "virtio.h"
#include "vnet.h"

#define Q_RX 0
#define Q_TX 1

struct net_hdr {
    uint8_t  flags;
    uint8_t  gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
};
_Static_assert(sizeof(struct net_hdr) == VNET_HDR_LEN, "virtio_net_hdr is 12 bytes");

/* virtio_net_config (5.1.4): mac, status, max_virtqueue_pairs. */
static void config_read(struct vmmio *m, uint32_t off, void *buf, uint32_t len)
{
    struct vnet *n = m->dev;
    uint8_t c[10];
    uint16_t status = VIRTIO_NET_S_LINK_UP, pairs = 1;

    memcpy(c, n->mac, 6);
    memcpy(c + 6, &status, 2);
    memcpy(c + 8, &pairs, 2);
    memcpy(buf, c + off, len);
}

static void transmit(struct vnet *n)
{
    struct virtq *vq = &n->mmio.q[Q_TX];
    uint8_t frame[VNET_FRAME_MAX];

    while (vmmio_pop(&n->mmio, Q_TX, &n->chain) > 0) {
        uint64_t len = n->chain.out_len;

        if (len < VNET_HDR_LEN + 14 || len > VNET_HDR_LEN + VNET_FRAME_MAX) {
            /* a bad frame is the guest's loss, not a broken device */
            n->stats.tx_dropped++;
        } else if (virtq_chain_read(vq, &n->chain, VNET_HDR_LEN, frame, len - VNET_HDR_LEN)) {
            vmmio_fail(&n->mmio, "transmit buffer left guest RAM");
            return;
        } else if (write(n->fd, frame, len - VNET_HDR_LEN) < 0) {
            n->stats.tx_dropped++;
        } else {
            n->stats.tx_frames++;
        }
        if (vmmio_push(&n->mmio, Q_TX, n->chain.head, 0))
            return;
    }
}

bool vnet_rx_ready(struct vnet *n)
{
    struct virtq *vq = &n->mmio.q[Q_RX];
    uint16_t idx;

    if (!vmmio_live(&n->mmio) || !vq->enabled)
        return false;
    return gram_read(n->mmio.ram, vq->avail + 2, &idx, sizeof(idx)) == 0 &&
           idx != vq->last_avail;
}

int vnet_deliver(struct vnet *n, const void *frame, size_t len)
{
    struct virtq *vq = &n->mmio.q[Q_RX];
    struct net_hdr h = { .num_buffers = 1 };
    int r = vmmio_pop(&n->mmio, Q_RX, &n->chain);

    if (r <= 0)
        return -EAGAIN;
    if (len > VNET_FRAME_MAX || n->chain.in_len < VNET_HDR_LEN + len) {
        n->stats.rx_dropped++;
        vmmio_push(&n->mmio, Q_RX, n->chain.head, 0);
        return -ENOBUFS;
    }
    if (virtq_chain_write(vq, &n->chain, 0, &h, sizeof(h)) ||
        virtq_chain_write(vq, &n->chain, VNET_HDR_LEN, frame, len)) {
        vmmio_fail(&n->mmio, "receive buffer left guest RAM");
        return -EAGAIN;
    }
    n->stats.rx_frames++;
    vmmio_push(&n->mmio, Q_RX, n->chain.head, (uint32_t)(VNET_HDR_LEN + len));
    return 0;
}

int vnet_rx(struct vnet *n)
{
    uint8_t frame[65536];
    int delivered = 0;

    while (vnet_rx_ready(n)) {
        ssize_t got = read(n->fd, frame, sizeof(frame));

        if (got < 0)
            return errno == EAGAIN || errno == EWOULDBLOCK ? delivered : -errno;
        if (got == 0)
            break;
        if ((size_t)got > VNET_FRAME_MAX) {
            n->stats.rx_dropped++;
            continue;
        }
        if (vnet_deliver(n, frame, (size_t)got) == 0)
            delivered++;
    }
    return delivered;
}

static void notify(struct vmmio *m, unsigned q)
{
    struct vnet *n = m->dev;

    /* New receive buffers need no action here: the main loop polls fd
     * again once vnet_rx_ready says so. */
    if (q == Q_TX)
        transmit(n);
}

static const struct vdev_ops vnet_ops = {
    .name = "net",
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .queue_max = 256,
    .features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_NET_F_MAC) |
                (1ull << VIRTIO_NET_F_STATUS),
    .config_size = 10,
    .config_read = config_read,
    .notify = notify,
};

void vnet_init(struct vnet *n, struct gram *ram, struct vmmio_irq irq, int fd,
               const uint8_t mac[6])
{
    memset(n, 0, sizeof(*n));
    vmmio_init(&n->mmio, &vnet_ops, n, ram, irq);
    n->fd = fd;
    memcpy(n->mac, mac, 6);
}
