/*
 * virtiocon.c - the guest of the dom0-devd scenario: a minimal virtio-mmio
 * driver for the console kiln-devd serves from dom0 (device 0 of its layout,
 * at 0xfeb00000).  It checks the identification registers, negotiates
 * VIRTIO_F_VERSION_1, sets up the transmit queue, sends a line that must
 * appear in devd's console log, then corrupts its own ring (a descriptor
 * that links to itself) and expects the device to report
 * DEVICE_NEEDS_RESET instead of devd hanging or crashing, and a reset to
 * bring it back.  Completions are polled: dom0 cannot raise a domU's
 * interrupt yet.
 */
#include "kt.h"

#define VBASE       0xfeb00000ul
#define R(off)      (*(volatile u32 *)(VBASE + (off)))
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

#define QSIZE 8
#define MS    1000000ull

struct desc { u64 addr; u32 len; u16 flags, next; };
struct avail { u16 flags, idx, ring[QSIZE], event; };
struct used { u16 flags, idx; struct { u32 id, len; } ring[QSIZE]; u16 event; };

/* identity-mapped: these addresses are guest-physical addresses */
static struct desc desc[QSIZE] __attribute__((aligned(16)));
static struct avail avail __attribute__((aligned(2)));
static struct used used __attribute__((aligned(4)));
static char line[] = "hello from the guest through virtio-console\n";

static bool wait_used(u16 want)
{
    u64 until = (u64)kt_hc_time() + 5000 * MS;

    while (*(volatile u16 *)&used.idx != want) {
        u64 now = (u64)kt_hc_time();
        if (now >= until)
            return false;
        kt_hc_block(now + MS);
    }
    return true;
}

/* Status handshake up to FEATURES_OK and the transmit queue (1) ready. */
static bool start(void)
{
    R(STATUS) = 0;
    R(STATUS) = 1;
    R(STATUS) = 3;
    R(DRV_FEAT_SEL) = 1;
    R(DRV_FEAT) = 1;                    /* VIRTIO_F_VERSION_1 */
    R(DRV_FEAT_SEL) = 0;
    R(DRV_FEAT) = 0;
    R(STATUS) = 0xb;
    if (R(STATUS) != 0xb)
        return false;
    kt_memset(desc, 0, sizeof(desc));
    kt_memset(&avail, 0, sizeof(avail));
    kt_memset(&used, 0, sizeof(used));
    R(QUEUE_SEL) = 1;
    R(QUEUE_NUM) = QSIZE;
    R(DESC_LO) = (u32)(u64)desc;
    R(DESC_HI) = 0;
    R(DRIVER_LO) = (u32)(u64)&avail;
    R(DRIVER_HI) = 0;
    R(DEVICE_LO) = (u32)(u64)&used;
    R(DEVICE_HI) = 0;
    R(QUEUE_READY) = 1;
    R(STATUS) = 0xf;
    return R(QUEUE_READY) == 1 && R(STATUS) == 0xf;
}

static void publish(u16 head)
{
    avail.ring[avail.idx % QSIZE] = head;
    __asm__ __volatile__("" ::: "memory");
    *(volatile u16 *)&avail.idx = avail.idx + 1;
    R(QUEUE_NOTIFY) = 1;
}

void kt_main(void)
{
    kt_plan(7);
    kt_ok(R(MAGIC) == 0x74726976 && R(VERSION) == 2,
          "virtio-mmio magic and version 2 (0x%x, %u)", R(MAGIC), R(VERSION));
    kt_ok(R(DEVICE_ID) == 3 && R(VENDOR_ID) == 0x4e4c494b,
          "a console from vendor KILN (device %u, vendor 0x%x)", R(DEVICE_ID), R(VENDOR_ID));
    R(DEV_FEAT_SEL) = 1;
    u32 hi = R(DEV_FEAT);
    R(QUEUE_SEL) = 1;
    kt_ok((hi & 1) && R(QUEUE_MAX) >= QSIZE, "VERSION_1 offered (0x%x), queue max %u",
          hi, R(QUEUE_MAX));
    kt_ok(start(), "features accepted, transmit queue ready, DRIVER_OK (status 0x%x)", R(STATUS));

    desc[0] = (struct desc){ .addr = (u64)line, .len = sizeof(line) - 1 };
    publish(0);
    kt_ok(wait_used(1) && used.ring[0].id == 0 && (R(INT_STATUS) & 1),
          "the line came back as used (used idx %u, interrupt status 0x%x)",
          used.idx, R(INT_STATUS));
    R(INT_ACK) = 1;

    desc[1] = (struct desc){ .addr = (u64)line, .len = 4, .flags = 1, .next = 1 };
    publish(1);
    u64 until = (u64)kt_hc_time() + 5000 * MS;
    while (!(R(STATUS) & 0x40) && (u64)kt_hc_time() < until)
        kt_hc_block((u64)kt_hc_time() + MS);
    kt_ok(R(STATUS) & 0x40, "a descriptor loop: DEVICE_NEEDS_RESET (status 0x%x), devd alive",
          R(STATUS));
    kt_ok(start(), "a reset brings the device back (status 0x%x)", R(STATUS));
}
