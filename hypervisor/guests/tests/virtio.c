/*
 * virtio.c - the guest of the dom0-devd scenario: a minimal polling
 * virtio-mmio driver for the devices kiln-devd serves it from dom0 (its
 * layout: device 0, the console, at 0xfeb00000; device 1, the disk, 0x200
 * further).  Console: identification registers, VIRTIO_F_VERSION_1
 * negotiation, the transmit queue, a line that must appear in devd's
 * console log.  Disk: capacity, a sector written and read back (dom0 checks
 * the image file too), a flush.  Then each device gets a corrupt ring (a
 * descriptor loop, a buffer outside this guest's RAM) and must report
 * DEVICE_NEEDS_RESET instead of devd hanging, crashing or touching other
 * memory, and a reset brings it back.  Last it keeps reading a register
 * until the scenario kills devd with SIGKILL: the hypervisor must then crash
 * this domain (its I/O server is gone).  Completions are polled: dom0
 * cannot raise a domU's interrupt yet.
 */
#include "kt.h"

#define CONSOLE     0xfeb00000ul
#define DISK        0xfeb00200ul
#define R(b, off)   (*(volatile u32 *)((b) + (off)))
#define MAGIC       0x000
#define VERSION     0x004
#define DEVICE_ID   0x008
#define VENDOR_ID   0x00c
#define DEV_FEAT    0x010
#define DEV_FEAT_SEL 0x014
#define DRV_FEAT    0x020
#define DRV_FEAT_SEL 0x024
#define QUEUE_SEL   0x030
#define QUEUE_MAX   0x034
#define QUEUE_NUM   0x038
#define QUEUE_READY 0x044
#define QUEUE_NOTIFY 0x050
#define INT_STATUS  0x060
#define INT_ACK     0x064
#define STATUS      0x070
#define DESC_LO     0x080
#define DESC_HI     0x084
#define DRIVER_LO   0x090
#define DRIVER_HI   0x094
#define DEVICE_LO   0x0a0
#define DEVICE_HI   0x0a4
#define CONFIG      0x100
#define NEEDS_RESET 0x40

#define QSIZE 8
#define MS    1000000ull
#define F_NEXT  1
#define F_WRITE 2

struct desc { u64 addr; u32 len; u16 flags, next; };
struct avail { u16 flags, idx, ring[QSIZE], event; };
struct used { u16 flags, idx; struct { u32 id, len; } ring[QSIZE]; u16 event; };

/* One queue's rings.  Identity-mapped: addresses are guest-physical. */
struct ring {
    struct desc desc[QSIZE] __attribute__((aligned(16)));
    struct avail avail __attribute__((aligned(4)));
    struct used used __attribute__((aligned(4)));
};

static struct ring con_ring, disk_ring;
static char line[] = "hello from the guest through virtio-console\n";
static struct { u32 type, reserved; u64 sector; } hdr;
static u8 out[512], in[512];
static volatile u8 status;

/* Status handshake up to FEATURES_OK, queue q ready, DRIVER_OK. */
static bool start(unsigned long b, unsigned q, struct ring *r)
{
    R(b, STATUS) = 0;
    R(b, STATUS) = 1;
    R(b, STATUS) = 3;
    R(b, DRV_FEAT_SEL) = 1;
    R(b, DRV_FEAT) = 1;                 /* VIRTIO_F_VERSION_1 */
    R(b, DRV_FEAT_SEL) = 0;
    R(b, DRV_FEAT) = 0;
    R(b, STATUS) = 0xb;
    if (R(b, STATUS) != 0xb)
        return false;
    kt_memset(r, 0, sizeof(*r));
    R(b, QUEUE_SEL) = q;
    R(b, QUEUE_NUM) = QSIZE;
    R(b, DESC_LO) = (u32)(u64)r->desc;
    R(b, DESC_HI) = 0;
    R(b, DRIVER_LO) = (u32)(u64)&r->avail;
    R(b, DRIVER_HI) = 0;
    R(b, DEVICE_LO) = (u32)(u64)&r->used;
    R(b, DEVICE_HI) = 0;
    R(b, QUEUE_READY) = 1;
    R(b, STATUS) = 0xf;
    return R(b, QUEUE_READY) == 1 && R(b, STATUS) == 0xf;
}

/* Publishes head on queue q and waits for the device to use it. */
static bool submit(unsigned long b, unsigned q, struct ring *r, u16 head)
{
    u16 want = r->avail.idx + 1;
    u64 until = (u64)kt_hc_time() + 5000 * MS;

    r->avail.ring[r->avail.idx % QSIZE] = head;
    __asm__ __volatile__("" ::: "memory");
    *(volatile u16 *)&r->avail.idx = want;
    R(b, QUEUE_NOTIFY) = q;
    while (*(volatile u16 *)&r->used.idx != want && !(R(b, STATUS) & NEEDS_RESET)) {
        u64 now = (u64)kt_hc_time();
        if (now >= until)
            return false;
        kt_hc_block(now + MS);
    }
    R(b, INT_ACK) = R(b, INT_STATUS);
    return *(volatile u16 *)&r->used.idx == want;
}

/* A disk request: header, 512 data bytes (device-writable for reads), status. */
static bool disk_request(u32 type, u64 sector, u8 *data)
{
    struct desc *d = disk_ring.desc;

    hdr.type = type;
    hdr.sector = sector;
    status = 0xff;
    d[0] = (struct desc){ .addr = (u64)&hdr, .len = 16, .flags = F_NEXT, .next = 1 };
    d[1] = (struct desc){ .addr = (u64)data, .len = 512,
                          .flags = F_NEXT | (type == 0 ? F_WRITE : 0), .next = 2 };
    d[2] = (struct desc){ .addr = (u64)&status, .len = 1, .flags = F_WRITE };
    if (!data)
        d[0].next = 2;                  /* flush: no data */
    return submit(DISK, 0, &disk_ring, 0) && status == 0;
}

static bool same(const u8 *a, const u8 *b, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static bool broken_after(unsigned long b, unsigned q, struct ring *r, struct desc bad)
{
    r->desc[3] = bad;
    submit(b, q, r, 3);
    return R(b, STATUS) & NEEDS_RESET;
}

void kt_main(void)
{
    kt_plan(13);
    kt_ok(R(CONSOLE, MAGIC) == 0x74726976 && R(CONSOLE, VERSION) == 2,
          "virtio-mmio magic and version 2 (0x%x, %u)", R(CONSOLE, MAGIC), R(CONSOLE, VERSION));
    kt_ok(R(CONSOLE, DEVICE_ID) == 3 && R(CONSOLE, VENDOR_ID) == 0x4e4c494b,
          "device 0: a console from vendor KILN (device %u, vendor 0x%x)",
          R(CONSOLE, DEVICE_ID), R(CONSOLE, VENDOR_ID));
    R(CONSOLE, DEV_FEAT_SEL) = 1;
    u32 hi = R(CONSOLE, DEV_FEAT);
    R(CONSOLE, QUEUE_SEL) = 1;
    kt_ok((hi & 1) && R(CONSOLE, QUEUE_MAX) >= QSIZE, "VERSION_1 offered (0x%x), queue max %u",
          hi, R(CONSOLE, QUEUE_MAX));
    kt_ok(start(CONSOLE, 1, &con_ring), "console: features accepted, transmit queue ready");

    con_ring.desc[0] = (struct desc){ .addr = (u64)line, .len = sizeof(line) - 1 };
    kt_ok(submit(CONSOLE, 1, &con_ring, 0) && con_ring.used.ring[0].id == 0,
          "console: the line came back as used");
    kt_ok(broken_after(CONSOLE, 1, &con_ring,
                       (struct desc){ .addr = (u64)line, .len = 4, .flags = F_NEXT, .next = 3 }),
          "console: a descriptor loop gives DEVICE_NEEDS_RESET (status 0x%x)", R(CONSOLE, STATUS));
    kt_ok(start(CONSOLE, 1, &con_ring), "console: a reset brings it back");

    u64 capacity = R(DISK, CONFIG) | (u64)R(DISK, CONFIG + 4) << 32;
    kt_ok(R(DISK, DEVICE_ID) == 2 && capacity == 2048,
          "device 1: a disk of 2048 sectors (device %u, %llu sectors)", R(DISK, DEVICE_ID),
          (unsigned long long)capacity);
    kt_ok(start(DISK, 0, &disk_ring), "disk: features accepted, request queue ready");
    for (unsigned i = 0; i < sizeof(out); i++)
        out[i] = (u8)(i * 7);
    kt_ok(disk_request(1, 5, out), "disk: sector 5 written (status %u)", status);
    kt_ok(disk_request(0, 5, in) && same(in, out, sizeof(in)),
          "disk: sector 5 read back the same (status %u, first bytes %02x %02x)", status,
          in[0], in[1]);
    kt_ok(disk_request(4, 0, 0), "disk: flush (status %u)", status);
    kt_ok(broken_after(DISK, 0, &disk_ring,
                       (struct desc){ .addr = 0x10000000, .len = 512 }),
          "disk: a buffer outside the guest's RAM gives DEVICE_NEEDS_RESET (status 0x%x)",
          R(DISK, STATUS));

    kt_printf("# reading the console's status until devd goes away\n");
    u64 until = (u64)kt_hc_time() + 120000 * MS;
    while ((u64)kt_hc_time() < until) {
        (void)R(CONSOLE, STATUS);
        kt_hc_block((u64)kt_hc_time() + 5 * MS);
    }
    kt_printf("# still running two minutes later\n");
}
