/*
 * fuzz_virtq.c - libFuzzer target for the virtqueue walker and the device
 * models on top of it.  The input is a hostile guest's RAM: the first bytes
 * choose the queue size, whether indirect tables were negotiated and which
 * device serves the queue; the rest is copied into two RAM regions with a
 * hole between them (so range checks across regions are exercised).  The
 * rings are packed at the start of RAM (descriptor table at 0, available ring
 * right after it, used ring after that) so small inputs reach every part.  Every chain that comes out must lie in guest
 * RAM; AddressSanitizer catches any access outside it, and the loops must end.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "log.h"
#include "vblk.h"
#include "vcon.h"
#include "virtio.h"
#include "virtq.h"
#include "vnet.h"

#define LOW   0x8000u           /* region 1: [0, LOW) */
#define HOLE  0x1000u           /* then a hole */
#define HIGH  0x8000u           /* region 2: [LOW + HOLE, + HIGH) */
#define DESC  0x0000u
/* the available and used rings follow the table of a queue of n entries */
#define AVAIL(n) (16u * (n))
#define USED(n)  ((AVAIL(n) + 6u + 2u * (n) + 3u) & ~3u)

static uint8_t *low, *high;
static struct gram ram;
static int disk_fd = -1, net_fd[2] = { -1, -1 };

static void quiet(const char *line)
{
    (void)line;
}

static void sink(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
}

static void init_once(void)
{
    char path[] = "/tmp/kiln-fuzz-disk-XXXXXX";

    low = malloc(LOW);
    high = malloc(HIGH);
    gram_init(&ram);
    if (!low || !high || gram_add(&ram, 0, LOW, low) || gram_add(&ram, LOW + HOLE, HIGH, high))
        abort();
    disk_fd = mkstemp(path);
    if (disk_fd < 0 || ftruncate(disk_fd, 64 * 1024) < 0)
        abort();
    unlink(path);
    if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, net_fd) < 0)
        abort();
    devd_log_hook = quiet;
}

static void fill(const uint8_t *data, size_t size)
{
    size_t a = size < LOW ? size : LOW;

    memset(low, 0, LOW);
    memset(high, 0, HIGH);
    memcpy(low, data, a);
    if (size > a)
        memcpy(high, data + a, size - a < HIGH ? size - a : HIGH);
}

/* Walks chains straight off the queue and checks what comes out. */
static void walk_queue(uint16_t qsize, bool indirect)
{
    static struct virtq_chain ch;
    static uint8_t scratch[LOW + HIGH];
    struct virtq vq;

    virtq_reset(&vq, &ram);
    vq.size = qsize;
    vq.desc = DESC;
    vq.avail = AVAIL(qsize);
    vq.used = USED(qsize);
    vq.indirect_ok = indirect;
    if (virtq_enable(&vq))
        return;
    /* at most a ring's worth of chains can be pending */
    for (int i = 0; i <= qsize; i++) {
        int r = virtq_pop(&vq, &ch);

        if (r <= 0)
            break;
        assert(ch.n_out + ch.n_in <= VIRTQ_MAX_SEGS);
        for (unsigned s = 0; s < ch.n_out + ch.n_in; s++)
            assert(gram_valid(&ram, ch.seg[s].gpa, ch.seg[s].len));
        if (ch.out_len <= sizeof(scratch))
            assert(virtq_chain_read(&vq, &ch, 0, scratch, ch.out_len) == 0);
        if (ch.in_len <= sizeof(scratch))
            assert(virtq_chain_write(&vq, &ch, 0, scratch, ch.in_len) == 0);
        virtq_push(&vq, ch.head, (uint32_t)ch.in_len);
    }
}

/* Brings a device up on queue q with the rings above and kicks it. */
static void run_device(struct vmmio *m, unsigned q, uint16_t qsize, bool indirect)
{
    uint64_t f = (1ull << VIRTIO_F_VERSION_1) | (indirect ? 1ull << VIRTIO_F_INDIRECT_DESC : 0);

    vmmio_write(m, VIRTIO_MMIO_STATUS, 4, VIRTIO_STATUS_ACKNOWLEDGE);
    vmmio_write(m, VIRTIO_MMIO_STATUS, 4, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vmmio_write(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
    vmmio_write(m, VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)f);
    vmmio_write(m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
    vmmio_write(m, VIRTIO_MMIO_DRIVER_FEATURES, 4, (uint32_t)(f >> 32));
    vmmio_write(m, VIRTIO_MMIO_STATUS, 4, 0xb);
    vmmio_write(m, VIRTIO_MMIO_QUEUE_SEL, 4, q);
    vmmio_write(m, VIRTIO_MMIO_QUEUE_NUM, 4, qsize);
    vmmio_write(m, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, DESC);
    vmmio_write(m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, AVAIL(qsize));
    vmmio_write(m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, USED(qsize));
    vmmio_write(m, VIRTIO_MMIO_QUEUE_READY, 4, 1);
    vmmio_write(m, VIRTIO_MMIO_STATUS, 4, 0xf);
    vmmio_write(m, VIRTIO_MMIO_QUEUE_NOTIFY, 4, q);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct vblk blk;
    static struct vcon con;
    static struct vnet net;
    static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
    struct vmmio_irq no_irq = { 0 };
    uint8_t frame[64] = { 0 }, drain[2048];
    uint16_t qsize;
    bool indirect;

    if (!low)
        init_once();
    if (size < 2)
        return 0;
    qsize = (uint16_t)(1u << (data[0] % 7));         /* 1..64 */
    indirect = data[1] & 1;
    fill(data + 2, size - 2);
    switch ((data[1] >> 1) % 5) {
    case 0:
        walk_queue(qsize, indirect);
        break;
    case 1:
        vblk_init(&blk, &ram, no_irq, disk_fd, 64 * 1024, data[1] & 0x80, "fuzz");
        run_device(&blk.mmio, 0, qsize, indirect);
        break;
    case 2:
        vcon_init(&con, &ram, no_irq, sink, NULL);
        run_device(&con.mmio, 1, qsize, indirect);
        break;
    case 3:
        vcon_init(&con, &ram, no_irq, sink, NULL);
        run_device(&con.mmio, 0, qsize, indirect);
        vcon_input(&con, data, size < 100 ? size : 100);
        break;
    case 4:
        vnet_init(&net, &ram, no_irq, net_fd[0], mac);
        run_device(&net.mmio, data[1] & 0x80 ? 0 : 1, qsize, indirect);
        if (write(net_fd[1], frame, sizeof(frame)) == (ssize_t)sizeof(frame))
            vnet_rx(&net);
        while (read(net_fd[1], drain, sizeof(drain)) > 0)
            ;
        while (read(net_fd[0], drain, sizeof(drain)) > 0)
            ;
        break;
    }
    return 0;
}
