/*
 * vblk.c - virtio-blk over a raw image file.
 *
 * A request is a 16-byte header {type u32, reserved u32, sector u64} at the
 * start of the readable buffers, data (readable for writes, writable for
 * reads), and a status byte: the last writable byte.  The descriptor layout
 * is not assumed (the spec forbids it), so everything is addressed by byte
 * offset across the chain.  A chain too short for a header and a status byte
 * is a protocol violation that breaks the device; everything else a request
 * can get wrong (sector beyond the disk, odd lengths, unknown type) only
 * fails that request.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "log.h"
#include "vblk.h"
#include "virtio.h"

#define CHUNK (64 * 1024)

struct blk_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

struct discard_seg {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;
};

/* virtio_blk_config (5.2.4), up to the discard fields. */
struct blk_config {
    uint64_t capacity;
    uint32_t size_max;
    uint32_t seg_max;
    uint8_t  geometry[4];
    uint32_t blk_size;
    uint8_t  topology[8];
    uint8_t  writeback;
    uint8_t  unused0;
    uint16_t num_queues;
    uint32_t max_discard_sectors;
    uint32_t max_discard_seg;
    uint32_t discard_sector_alignment;
} __attribute__((packed));
_Static_assert(sizeof(struct blk_config) == 48, "virtio_blk_config through discard fields");

static void config_read(struct vmmio *m, uint32_t off, void *buf, uint32_t len)
{
    struct vblk *b = m->dev;
    struct blk_config c = {
        .capacity = b->sectors,
        .seg_max = VBLK_QUEUE_MAX - 2,
        .blk_size = VBLK_SECTOR,
        .num_queues = 1,
        .max_discard_sectors = b->sectors < UINT32_MAX ? (uint32_t)b->sectors : UINT32_MAX,
        .max_discard_seg = VBLK_MAX_DISCARD_SEG,
        .discard_sector_alignment = 1,
    };

    memcpy(buf, (uint8_t *)&c + off, len);
}

/* The data of a request covers bytes [sector * 512, + len) of the disk? */
static bool in_disk(const struct vblk *b, uint64_t sector, uint64_t len)
{
    return sector <= b->sectors && len / VBLK_SECTOR <= b->sectors - sector &&
           len % VBLK_SECTOR == 0;
}

/* Each helper returns a VIRTIO_BLK_S_* status, or -1 if the guest's memory
 * could not be reached (the device is then broken). */
static int do_read(struct vblk *b, uint64_t sector, uint64_t len, uint32_t *written)
{
    struct virtq *vq = &b->mmio.q[0];
    unsigned char buf[CHUNK];

    if (!in_disk(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
        ssize_t got = pread(b->fd, buf, n, (off_t)(sector * VBLK_SECTOR + off));

        if (got < 0) {
            devd_log("blk %s: read at sector %llu: %s", b->id, (unsigned long long)sector,
                     strerror(errno));
            return VIRTIO_BLK_S_IOERR;
        }
        /* a file shorter than announced (shrunk under us) reads as zeros */
        memset(buf + got, 0, n - (size_t)got);
        if (virtq_chain_write(vq, &b->chain, off, buf, n))
            return -1;
        *written = (uint32_t)(off + n);
    }
    return VIRTIO_BLK_S_OK;
}

static int do_write(struct vblk *b, uint64_t sector, uint64_t len)
{
    struct virtq *vq = &b->mmio.q[0];
    unsigned char buf[CHUNK];

    if (b->readonly || !in_disk(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t off = 0; off < len; off += CHUNK) {
        size_t n = len - off < CHUNK ? (size_t)(len - off) : CHUNK;

        if (virtq_chain_read(vq, &b->chain, sizeof(struct blk_hdr) + off, buf, n))
            return -1;
        if (pwrite(b->fd, buf, n, (off_t)(sector * VBLK_SECTOR + off)) != (ssize_t)n) {
            devd_log("blk %s: write at sector %llu failed: %s", b->id,
                     (unsigned long long)sector, strerror(errno));
            return VIRTIO_BLK_S_IOERR;
        }
    }
    return VIRTIO_BLK_S_OK;
}

static int do_discard(struct vblk *b, uint64_t len)
{
    struct virtq *vq = &b->mmio.q[0];
    struct discard_seg seg;

    if (b->readonly)
        return VIRTIO_BLK_S_IOERR;
    if (len == 0 || len % sizeof(seg) || len / sizeof(seg) > VBLK_MAX_DISCARD_SEG)
        return VIRTIO_BLK_S_IOERR;
    for (uint64_t off = 0; off < len; off += sizeof(seg)) {
        if (virtq_chain_read(vq, &b->chain, sizeof(struct blk_hdr) + off, &seg, sizeof(seg)))
            return -1;
        /* 5.2.6.2: unknown flags, or unmap on a discard, are unsupported */
        if (seg.flags)
            return VIRTIO_BLK_S_UNSUPP;
        if (!in_disk(b, seg.sector, (uint64_t)seg.num_sectors * VBLK_SECTOR))
            return VIRTIO_BLK_S_IOERR;
    }
    for (uint64_t off = 0; off < len; off += sizeof(seg)) {
        if (virtq_chain_read(vq, &b->chain, sizeof(struct blk_hdr) + off, &seg, sizeof(seg)))
            return -1;
        if (!in_disk(b, seg.sector, (uint64_t)seg.num_sectors * VBLK_SECTOR))
            return VIRTIO_BLK_S_IOERR;   /* changed under us since the check */
        /* Discard is a hint: a file system without hole punching still
         * answers OK, the data simply stays. */
        if (seg.num_sectors &&
            fallocate(b->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(seg.sector * VBLK_SECTOR),
                      (off_t)seg.num_sectors * VBLK_SECTOR) < 0 &&
            errno != EOPNOTSUPP) {
            devd_log("blk %s: discard at sector %llu: %s", b->id,
                     (unsigned long long)seg.sector, strerror(errno));
            return VIRTIO_BLK_S_IOERR;
        }
    }
    return VIRTIO_BLK_S_OK;
}

/* Serves one chain; returns -1 if the device broke. */
static int serve(struct vblk *b)
{
    struct virtq *vq = &b->mmio.q[0];
    struct virtq_chain *ch = &b->chain;
    struct blk_hdr h;
    uint32_t written = 0;
    uint8_t status;
    int s;

    if (ch->out_len < sizeof(h) || ch->in_len < 1) {
        vmmio_fail(&b->mmio, "request without a 16-byte header or a status byte");
        return -1;
    }
    if (virtq_chain_read(vq, ch, 0, &h, sizeof(h))) {
        vmmio_fail(&b->mmio, "request header left guest RAM");
        return -1;
    }
    switch (h.type) {
    case VIRTIO_BLK_T_IN:
        s = do_read(b, h.sector, ch->in_len - 1, &written);
        break;
    case VIRTIO_BLK_T_OUT:
        s = do_write(b, h.sector, ch->out_len - sizeof(h));
        break;
    case VIRTIO_BLK_T_FLUSH:
        s = b->readonly || fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
        break;
    case VIRTIO_BLK_T_GET_ID:
        if (ch->in_len - 1 < VIRTIO_BLK_ID_BYTES) {
            s = VIRTIO_BLK_S_IOERR;
            break;
        }
        s = virtq_chain_write(vq, ch, 0, b->id, VIRTIO_BLK_ID_BYTES) ? -1 : VIRTIO_BLK_S_OK;
        written = VIRTIO_BLK_ID_BYTES;
        break;
    case VIRTIO_BLK_T_DISCARD:
        s = do_discard(b, ch->out_len - sizeof(h));
        break;
    default:
        s = VIRTIO_BLK_S_UNSUPP;
        break;
    }
    if (s < 0) {
        vmmio_fail(&b->mmio, "request buffer left guest RAM");
        return -1;
    }
    status = (uint8_t)s;
    if (virtq_chain_write(vq, ch, ch->in_len - 1, &status, 1)) {
        vmmio_fail(&b->mmio, "status byte left guest RAM");
        return -1;
    }
    return vmmio_push(&b->mmio, 0, ch->head, written + 1);
}

static void notify(struct vmmio *m, unsigned q)
{
    struct vblk *b = m->dev;

    (void)q;
    while (vmmio_pop(m, 0, &b->chain) > 0)
        if (serve(b))
            return;
}

int vblk_init(struct vblk *b, struct gram *ram, struct vmmio_irq irq, int fd,
              uint64_t size, bool readonly, const char *id)
{
    memset(b, 0, sizeof(*b));
    b->ops = (struct vdev_ops){
        .name = "blk",
        .device_id = VIRTIO_ID_BLOCK,
        .num_queues = 1,
        .queue_max = VBLK_QUEUE_MAX,
        .features = (1ull << VIRTIO_F_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_SEG_MAX) |
                    (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) |
                    (readonly ? 1ull << VIRTIO_BLK_F_RO : 0),
        .config_size = sizeof(struct blk_config),
        .config_read = config_read,
        .notify = notify,
    };
    b->fd = fd;
    b->readonly = readonly;
    b->sectors = size / VBLK_SECTOR;
    /* 20 bytes, NUL-terminated only if shorter (5.2.6) */
    memcpy(b->id, id, strnlen(id, sizeof(b->id)));
    vmmio_init(&b->mmio, &b->ops, b, ram, irq);
    return 0;
}

int vblk_open(struct vblk *b, struct gram *ram, struct vmmio_irq irq, const char *path,
              bool readonly, const char *id)
{
    int fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    struct stat st;

    if (fd < 0)
        return -errno;
    if (fstat(fd, &st) < 0) {
        int r = -errno;
        close(fd);
        return r;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return -EINVAL;
    }
    return vblk_init(b, ram, irq, fd, (uint64_t)st.st_size, readonly, id);
}

void vblk_close(struct vblk *b)
{
    if (b->fd >= 0)
        close(b->fd);
    b->fd = -1;
}
