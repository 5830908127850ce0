/*
 * test_vdev.c - the three device models driven by a pretend guest through
 * their rings: virtio-blk against a temporary image file (read, write,
 * flush, discard, get-id, read-only disks, requests beyond the disk),
 * virtio-console (output and input), virtio-net through a datagram
 * socketpair standing in for the TAP device.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "fake_guest.h"
#include "log.h"
#include "vblk.h"
#include "vcon.h"
#include "virtio.h"
#include "vnet.h"

static const uint64_t VERSION_1 = 1ull << VIRTIO_F_VERSION_1;
static struct fguest g;
static struct fq qs[2];
static char image[] = "/tmp/kiln-vblk-XXXXXX";
static int image_fd = -1;

static void quiet(const char *line)
{
    (void)line;
}

static int setup(void **state)
{
    (void)state;
    fg_init(&g);
    devd_log_hook = quiet;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fg_free(&g);
    devd_log_hook = NULL;
    if (image_fd >= 0) {
        close(image_fd);
        unlink(image);
        strcpy(image, "/tmp/kiln-vblk-XXXXXX");
        image_fd = -1;
    }
    return 0;
}

/* ---- virtio-blk ---------------------------------------------------------- */

static struct vblk *blk;

/* A 1 MiB image whose sector n is filled with byte n & 0xff. */
static void make_disk(bool readonly)
{
    uint8_t sec[512];

    image_fd = mkstemp(image);
    assert_true(image_fd >= 0);
    for (int n = 0; n < 2048; n++) {
        memset(sec, n & 0xff, sizeof(sec));
        assert_int_equal(write(image_fd, sec, sizeof(sec)), 512);
    }
    blk = test_malloc(sizeof(*blk));
    assert_int_equal(vblk_open(blk, &g.ram, fg_irq(&g), image, readonly, "kiln-vda"), 0);
    fg_start(&g, &blk->mmio, VERSION_1 | (1ull << VIRTIO_F_INDIRECT_DESC), qs, 1, 16);
}

static void free_disk(void)
{
    vblk_close(blk);
    test_free(blk);
}

#define HDR    (FG_DATA)
#define DATA   (FG_DATA + 0x1000)
#define STATUS (FG_DATA + 0x20000)

/* Submits header + data (readable for OUT/DISCARD, writable otherwise) +
 * status byte as three descriptors, and returns the status; *used gets the
 * used length. */
static int blk_request(uint32_t type, uint64_t sector, uint32_t data_len, bool data_writable,
                       uint32_t *used)
{
    uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
    uint16_t before = fq_used_idx(&g, &qs[0]);
    uint32_t id;

    memcpy(g.mem + HDR, hdr, 16);
    g.mem[STATUS] = 0xee;
    fq_desc(&g, &qs[0], 0, HDR, 16, VIRTQ_DESC_F_NEXT, data_len ? 1 : 2);
    fq_desc(&g, &qs[0], 1, DATA, data_len,
            VIRTQ_DESC_F_NEXT | (data_writable ? VIRTQ_DESC_F_WRITE : 0), 2);
    fq_desc(&g, &qs[0], 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 0);
    fg_wr(&blk->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(fq_used_idx(&g, &qs[0]), (uint16_t)(before + 1));
    fq_used(&g, &qs[0], before, &id, used);
    assert_int_equal(id, 0);
    return g.mem[STATUS];
}

static void blk_config_and_features(void **state)
{
    (void)state;
    make_disk(false);
    assert_int_equal(fg_rd(&blk->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_int_equal(vmmio_read(&blk->mmio, VIRTIO_MMIO_CONFIG, 8), 2048);   /* capacity */
    fg_wr(&blk->mmio, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t f = fg_rd(&blk->mmio, VIRTIO_MMIO_DEVICE_FEATURES);
    assert_true(f & (1u << VIRTIO_BLK_F_FLUSH));
    assert_true(f & (1u << VIRTIO_BLK_F_DISCARD));
    assert_false(f & (1u << VIRTIO_BLK_F_RO));
    assert_int_equal(vmmio_read(&blk->mmio, VIRTIO_MMIO_CONFIG + 40, 4), VBLK_MAX_DISCARD_SEG);
    free_disk();
}

static void blk_read(void **state)
{
    uint32_t used;

    (void)state;
    make_disk(false);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 5, 1024, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1025);
    assert_int_equal(g.mem[DATA], 5);
    assert_int_equal(g.mem[DATA + 1023], 6);
    assert_true(g.irq_raised > 0);
    free_disk();
}

static void blk_write_then_read_back(void **state)
{
    uint32_t used;
    uint8_t back[512];

    (void)state;
    make_disk(false);
    memset(g.mem + DATA, 0x5a, 512);
    assert_int_equal(blk_request(VIRTIO_BLK_T_OUT, 100, 512, false, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 1);
    assert_int_equal(pread(image_fd, back, 512, 100 * 512), 512);
    assert_int_equal(back[0], 0x5a);
    assert_int_equal(back[511], 0x5a);
    assert_int_equal(blk_request(VIRTIO_BLK_T_FLUSH, 0, 0, false, &used), VIRTIO_BLK_S_OK);
    memset(g.mem + DATA, 0, 512);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 100, 512, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(g.mem[DATA + 300], 0x5a);
    free_disk();
}

static void blk_beyond_the_disk(void **state)
{
    uint32_t used;

    (void)state;
    make_disk(false);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 2047, 1024, true, &used), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, ~0ull, 512, true, &used), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_request(VIRTIO_BLK_T_OUT, 2048, 512, false, &used), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 0, 100, true, &used), VIRTIO_BLK_S_IOERR);
    assert_int_equal(blk_request(99, 0, 0, false, &used), VIRTIO_BLK_S_UNSUPP);
    /* only that request failed: the device still works */
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 2047, 512, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(g.mem[DATA], 2047 & 0xff);
    free_disk();
}

static void blk_get_id(void **state)
{
    uint32_t used;

    (void)state;
    make_disk(false);
    assert_int_equal(blk_request(VIRTIO_BLK_T_GET_ID, 0, 20, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(used, 21);
    assert_string_equal((char *)g.mem + DATA, "kiln-vda");
    assert_int_equal(blk_request(VIRTIO_BLK_T_GET_ID, 0, 8, true, &used), VIRTIO_BLK_S_IOERR);
    free_disk();
}

static void blk_discard(void **state)
{
    uint32_t used, seg[4] = { 8, 0, 16, 0 };   /* sectors 8..23 */
    uint8_t back[512];
    struct stat before, after;

    (void)state;
    make_disk(false);
    assert_int_equal(fstat(image_fd, &before), 0);
    memcpy(g.mem + DATA, seg, 16);
    assert_int_equal(blk_request(VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(fstat(image_fd, &after), 0);
    assert_int_equal(after.st_size, before.st_size);
    /* on a file system that punches holes the range now reads zeros */
    if (after.st_blocks < before.st_blocks) {
        assert_int_equal(pread(image_fd, back, 512, 8 * 512), 512);
        assert_int_equal(back[0], 0);
    }
    assert_int_equal(pread(image_fd, back, 512, 24 * 512), 512);
    assert_int_equal(back[0], 24);                                   /* untouched */
    seg[0] = 2040;                                                   /* runs off the end */
    memcpy(g.mem + DATA, seg, 16);
    assert_int_equal(blk_request(VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_IOERR);
    seg[0] = 8, seg[3] = 1;                                          /* unmap flag */
    memcpy(g.mem + DATA, seg, 16);
    assert_int_equal(blk_request(VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(blk_request(VIRTIO_BLK_T_DISCARD, 0, 12, false, &used), VIRTIO_BLK_S_IOERR);
    free_disk();
}

static void blk_read_only(void **state)
{
    uint32_t used, seg[4] = { 0, 0, 1, 0 };
    uint8_t back[512];

    (void)state;
    make_disk(true);
    fg_wr(&blk->mmio, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_true(fg_rd(&blk->mmio, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
    memset(g.mem + DATA, 0x77, 512);
    assert_int_equal(blk_request(VIRTIO_BLK_T_OUT, 3, 512, false, &used), VIRTIO_BLK_S_IOERR);
    memcpy(g.mem + DATA, seg, 16);
    assert_int_equal(blk_request(VIRTIO_BLK_T_DISCARD, 0, 16, false, &used), VIRTIO_BLK_S_IOERR);
    assert_int_equal(pread(image_fd, back, 512, 3 * 512), 512);
    assert_int_equal(back[0], 3);
    assert_int_equal(blk_request(VIRTIO_BLK_T_IN, 3, 512, true, &used), VIRTIO_BLK_S_OK);
    assert_int_equal(g.mem[DATA], 3);
    free_disk();
}

static void blk_split_header_and_indirect(void **state)
{
    struct fq t = { .size = 16, .desc = FG_DATA + 0x30000 };
    uint32_t hdr[4] = { VIRTIO_BLK_T_IN, 0, 7, 0 }, id, used;

    (void)state;
    make_disk(false);
    /* the header in two pieces, data and status in one writable buffer, all
     * through an indirect table: devd may not assume any layout */
    memcpy(g.mem + HDR, hdr, 16);
    fq_desc(&g, &t, 0, HDR, 5, VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &t, 1, HDR + 5, 11, VIRTQ_DESC_F_NEXT, 2);
    fq_desc(&g, &t, 2, DATA, 513, VIRTQ_DESC_F_WRITE, 0);
    fq_desc(&g, &qs[0], 4, t.desc, 48, VIRTQ_DESC_F_INDIRECT, 0);
    fq_publish(&g, &qs[0], 4);
    fg_wr(&blk->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    fq_used(&g, &qs[0], 0, &id, &used);
    assert_int_equal(id, 4);
    assert_int_equal(used, 513);
    assert_int_equal(g.mem[DATA], 7);
    assert_int_equal(g.mem[DATA + 512], VIRTIO_BLK_S_OK);
    free_disk();
}

static void blk_request_without_status_breaks(void **state)
{
    (void)state;
    make_disk(false);
    fq_desc(&g, &qs[0], 0, HDR, 16, 0, 0);
    fq_publish(&g, &qs[0], 0);
    fg_wr(&blk->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_true(fg_rd(&blk->mmio, VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(fq_used_idx(&g, &qs[0]), 0);
    free_disk();
}

static void blk_corrupt_ring_never_touches_the_disk(void **state)
{
    uint32_t hdr[4] = { VIRTIO_BLK_T_OUT, 0, 0, 0 };
    uint8_t back[512];

    (void)state;
    make_disk(false);
    memcpy(g.mem + HDR, hdr, 16);
    memset(g.mem + FG_RAM - 256, 0x99, 256);
    fq_desc(&g, &qs[0], 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &qs[0], 1, FG_RAM - 256, 512, VIRTQ_DESC_F_NEXT, 2);   /* leaves RAM */
    fq_desc(&g, &qs[0], 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 0);
    fg_wr(&blk->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_true(blk->mmio.broken);
    assert_int_equal(pread(image_fd, back, 512, 0), 512);
    assert_int_equal(back[0], 0);       /* sector 0 as made, not 0x99 */
    assert_int_equal(back[255], 0);
    free_disk();
}

/* ---- virtio-console -------------------------------------------------------- */

static char out[256];
static size_t n_out, n_out_total;
static bool out_limit = true;       /* output must fit in out[] */

static void con_output(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    n_out_total += len;
    if (!out_limit)
        return;
    assert_true(n_out + len <= sizeof(out));
    memcpy(out + n_out, buf, len);
    n_out += len;
}

static void console_output_and_input(void **state)
{
    struct vcon *c = test_malloc(sizeof(*c));
    uint32_t id, len;

    (void)state;
    n_out = n_out_total = 0;
    out_limit = true;
    vcon_init(c, &g.ram, fg_irq(&g), con_output, NULL);
    /* input typed before the driver runs is held */
    assert_int_equal(vcon_input(c, "ls\n", 3), 3);
    fg_start(&g, &c->mmio, VERSION_1, qs, 2, 8);
    assert_int_equal(fg_rd(&c->mmio, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_CONSOLE);
    memcpy(g.mem + FG_DATA, "hello, ", 7);
    memcpy(g.mem + FG_DATA + 0x100, "world\n", 6);
    fq_desc(&g, &qs[1], 0, FG_DATA, 7, VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &qs[1], 1, FG_DATA + 0x100, 6, 0, 0);
    fq_publish(&g, &qs[1], 0);
    fg_wr(&c->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(n_out, 13);
    assert_memory_equal(out, "hello, world\n", 13);
    /* the driver posts a 2-byte receive buffer, then another */
    fq_desc(&g, &qs[0], 0, FG_DATA + 0x200, 2, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 0);
    fg_wr(&c->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    fq_used(&g, &qs[0], 0, &id, &len);
    assert_int_equal(len, 2);
    assert_memory_equal(g.mem + FG_DATA + 0x200, "ls", 2);
    fq_desc(&g, &qs[0], 1, FG_DATA + 0x300, 64, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 1);
    fg_wr(&c->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    fq_used(&g, &qs[0], 1, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, 1);
    assert_int_equal(g.mem[FG_DATA + 0x300], '\n');
    /* input when a buffer is waiting goes straight in */
    fq_desc(&g, &qs[0], 2, FG_DATA + 0x400, 64, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 2);
    fg_wr(&c->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_int_equal(vcon_input(c, "pwd\n", 4), 4);
    assert_int_equal(fq_used_idx(&g, &qs[0]), 3);
    assert_memory_equal(g.mem + FG_DATA + 0x400, "pwd\n", 4);
    /* one chain yields at most VCON_CHAIN_MAX bytes however often it names
     * the same memory */
    n_out_total = 0;
    for (unsigned i = 0; i < 8; i++)
        fq_desc(&g, &qs[1], i, FG_DATA, 0x10000, i < 7 ? VIRTQ_DESC_F_NEXT : 0, (uint16_t)(i + 1));
    fq_publish(&g, &qs[1], 0);
    out_limit = false;
    fg_wr(&c->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(n_out_total, VCON_CHAIN_MAX);
    assert_int_equal(c->dropped, 8 * 0x10000 - VCON_CHAIN_MAX);
    /* held input is bounded */
    assert_int_equal(vcon_input_room(c), VCON_INPUT_MAX);
    test_free(c);
}

/* ---- virtio-net ---------------------------------------------------------- */

static void net_through_socketpair(void **state)
{
    static const uint8_t mac[6] = { 0x02, 0x4b, 0x4c, 0, 1, 0 };
    struct vnet *n = test_malloc(sizeof(*n));
    uint8_t frame[60], got[2000];
    uint32_t id, len;
    int sv[2];

    (void)state;
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0, sv), 0);
    vnet_init(n, &g.ram, fg_irq(&g), sv[0], mac);
    fg_start(&g, &n->mmio, VERSION_1 | (1ull << VIRTIO_NET_F_MAC), qs, 2, 8);
    for (int i = 0; i < 6; i++)
        assert_int_equal(vmmio_read(&n->mmio, VIRTIO_MMIO_CONFIG + i, 1), mac[i]);
    assert_int_equal(vmmio_read(&n->mmio, VIRTIO_MMIO_CONFIG + 6, 2), VIRTIO_NET_S_LINK_UP);

    /* transmit: header + frame, split over two descriptors */
    for (int i = 0; i < 60; i++)
        frame[i] = (uint8_t)(i + 1);
    memset(g.mem + FG_DATA, 0, VNET_HDR_LEN);
    memcpy(g.mem + FG_DATA + 0x100, frame, 60);
    fq_desc(&g, &qs[1], 0, FG_DATA, VNET_HDR_LEN, VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &qs[1], 1, FG_DATA + 0x100, 60, 0, 0);
    fq_publish(&g, &qs[1], 0);
    fg_wr(&n->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(read(sv[1], got, sizeof(got)), 60);
    assert_memory_equal(got, frame, 60);
    assert_int_equal(n->stats.tx_frames, 1);

    /* receive: nothing posted yet, so devd does not read the fd */
    assert_false(vnet_rx_ready(n));
    frame[0] = 0xff;
    assert_int_equal(write(sv[1], frame, 60), 60);
    assert_int_equal(vnet_rx(n), 0);
    fq_desc(&g, &qs[0], 3, FG_DATA + 0x1000, 1526, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 3);
    fg_wr(&n->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    assert_true(vnet_rx_ready(n));
    assert_int_equal(vnet_rx(n), 1);
    fq_used(&g, &qs[0], 0, &id, &len);
    assert_int_equal(id, 3);
    assert_int_equal(len, VNET_HDR_LEN + 60);
    assert_int_equal(g.mem[FG_DATA + 0x1000 + 10], 1);                 /* num_buffers */
    assert_memory_equal(g.mem + FG_DATA + 0x1000 + VNET_HDR_LEN, frame, 60);

    /* a receive buffer too small for the frame: dropped, buffer returned */
    fq_desc(&g, &qs[0], 4, FG_DATA + 0x2000, 40, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 4);
    assert_int_equal(write(sv[1], frame, 60), 60);
    assert_int_equal(vnet_rx(n), 0);
    assert_int_equal(n->stats.rx_dropped, 1);
    fq_used(&g, &qs[0], 1, &id, &len);
    assert_int_equal(id, 4);
    assert_int_equal(len, 0);

    /* a runt frame from the guest is dropped, the device keeps working */
    fq_desc(&g, &qs[1], 2, FG_DATA, VNET_HDR_LEN + 4, 0, 0);
    fq_publish(&g, &qs[1], 2);
    fg_wr(&n->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 1);
    assert_int_equal(n->stats.tx_dropped, 1);
    assert_false(n->mmio.broken);
    assert_int_equal(read(sv[1], got, sizeof(got)), -1);
    close(sv[0]);
    close(sv[1]);
    test_free(n);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(blk_config_and_features),
        T(blk_read),
        T(blk_write_then_read_back),
        T(blk_beyond_the_disk),
        T(blk_get_id),
        T(blk_discard),
        T(blk_read_only),
        T(blk_split_header_and_indirect),
        T(blk_request_without_status_breaks),
        T(blk_corrupt_ring_never_touches_the_disk),
        T(console_output_and_input),
        T(net_through_socketpair),
    };
    return cmocka_run_group_tests_name("vdev", tests, NULL, NULL);
}
