/*
 * vnet.h - virtio-net (virtio 1.2 section 5.1): one receive and one transmit
 * queue, a MAC address and link status, no offloads.  Frames go to and come
 * from a file descriptor that carries one Ethernet frame per read or write:
 * a TAP device in dom0 (tap.c), or in tests one end of a datagram socketpair.
 */
#ifndef DEVD_VNET_H
#define DEVD_VNET_H

#include <stdbool.h>
#include <stdint.h>
#include "vmmio.h"

#define VIRTIO_NET_F_MAC     5
#define VIRTIO_NET_F_STATUS  16
#define VIRTIO_NET_S_LINK_UP 1

#define VNET_HDR_LEN   12           /* struct virtio_net_hdr with num_buffers */
#define VNET_FRAME_MAX 1518         /* Ethernet frame with a VLAN tag, no FCS */

struct vnet_stats {
    uint64_t rx_frames, tx_frames;
    uint64_t rx_dropped;            /* guest had no (big enough) buffer */
    uint64_t tx_dropped;            /* bad size, or the fd refused it */
};

struct vnet {
    struct vmmio mmio;
    int fd;
    uint8_t mac[6];
    struct vnet_stats stats;
    struct virtq_chain chain;
};

/* fd: the frame device, owned by the caller. */
void vnet_init(struct vnet *n, struct gram *ram, struct vmmio_irq irq, int fd,
               const uint8_t mac[6]);
/* Whether the guest has posted receive buffers (poll fd for input only
 * then: frames wait in the TAP queue instead of being dropped). */
bool vnet_rx_ready(struct vnet *n);
/* Reads frames from fd into receive buffers while both are available;
 * returns the number delivered, or -errno of a failed read. */
int vnet_rx(struct vnet *n);
/* Delivers one frame; 0 delivered, -EAGAIN no buffer posted (not taken),
 * -ENOBUFS dropped (buffer too small or frame too big). */
int vnet_deliver(struct vnet *n, const void *frame, size_t len);

#endif /* DEVD_VNET_H */
