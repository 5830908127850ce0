/*
 * test_devd.c - kiln-devd's bus and main loop with an in-memory transport:
 * requests reach the right device or read as all ones, every request is
 * answered, interrupts reach the transport on the device's GSI, a failed
 * transport ends the loop; the console server (log file and `kl console`
 * socket) end to end; and a TAP device on a bridge inside a network
 * namespace of the test's own (skipped where namespaces are not allowed).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "consrv.h"
#include "devd.h"
#include "fake_guest.h"
#include "log.h"
#include "tap.h"
#include "virtio.h"

/* ---- an in-memory transport ---------------------------------------------- */

#define FT_MAX 16

struct ftrans {
    int pipe[2];                    /* a byte per queued request: makes poll wake */
    struct devd_ioreq q[FT_MAX];
    size_t head, tail;
    struct devd_ioreq answer;       /* last completed */
    unsigned completed;
    unsigned irq_calls, irq;
    bool level;
    int fail;                       /* next() returns this when non-zero */
};

static int ft_poll_fd(void *ctx)
{
    return ((struct ftrans *)ctx)->pipe[0];
}

static int ft_next(void *ctx, struct devd_ioreq *req)
{
    struct ftrans *t = ctx;
    char c;

    if (t->fail)
        return t->fail;
    if (t->head == t->tail)
        return 0;
    assert_int_equal(read(t->pipe[0], &c, 1), 1);
    *req = t->q[t->head++ % FT_MAX];
    return 1;
}

static int ft_complete(void *ctx, const struct devd_ioreq *req)
{
    struct ftrans *t = ctx;

    t->answer = *req;
    t->completed++;
    return 0;
}

static int ft_set_irq(void *ctx, unsigned irq, bool level)
{
    struct ftrans *t = ctx;

    t->irq_calls++;
    t->irq = irq;
    t->level = level;
    return 0;
}

static struct ftrans ft;
static struct devd d;
static struct fguest g;
static struct vcon *con0, *con1;

static void quiet(const char *line)
{
    (void)line;
}

static void discard(void *ctx, const void *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    (void)len;
}

static int setup(void **state)
{
    struct devd_transport t = { .ctx = &ft, .poll_fd = ft_poll_fd, .next = ft_next,
                                .complete = ft_complete, .set_irq = ft_set_irq };

    (void)state;
    memset(&ft, 0, sizeof(ft));
    assert_int_equal(pipe(ft.pipe), 0);
    fg_init(&g);
    devd_init(&d, &t);
    con0 = test_malloc(sizeof(*con0));
    con1 = test_malloc(sizeof(*con1));
    vcon_init(con0, &g.ram, (struct vmmio_irq){ 0 }, NULL, NULL);
    vcon_init(con1, &g.ram, (struct vmmio_irq){ 0 }, NULL, NULL);
    assert_int_equal(devd_add(&d, &con0->mmio), 0);
    assert_int_equal(devd_add(&d, &con1->mmio), 0);
    devd_log_hook = quiet;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    close(ft.pipe[0]);
    close(ft.pipe[1]);
    test_free(con0);
    test_free(con1);
    fg_free(&g);
    devd_log_hook = NULL;
    return 0;
}

/* One guest access through the transport and the loop; returns the answer. */
static uint64_t guest_access(uint64_t addr, unsigned size, bool is_write, uint64_t data)
{
    unsigned before = ft.completed;

    ft.q[ft.tail++ % FT_MAX] = (struct devd_ioreq){ .addr = addr, .size = size, .write = is_write,
                                                    .data = data, .vcpu = 1 };
    assert_int_equal(write(ft.pipe[1], "x", 1), 1);
    assert_int_equal(devd_poll_once(&d, 1000), 0);
    assert_int_equal(ft.completed, before + 1);
    assert_int_equal(ft.answer.vcpu, 1);
    return ft.answer.data;
}

static void requests_reach_their_device(void **state)
{
    (void)state;
    assert_int_equal(guest_access(DEVD_MMIO_BASE + VIRTIO_MMIO_MAGIC_VALUE, 4, false, 0), VIRTIO_MMIO_MAGIC);
    assert_int_equal(guest_access(DEVD_MMIO_BASE + 0x200 + VIRTIO_MMIO_DEVICE_ID, 4, false, 0),
                     VIRTIO_ID_CONSOLE);
    guest_access(DEVD_MMIO_BASE + 0x200 + VIRTIO_MMIO_STATUS, 4, true, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_int_equal(con1->mmio.status, VIRTIO_STATUS_ACKNOWLEDGE);
    assert_int_equal(con0->mmio.status, 0);
    assert_int_equal(d.stray, 0);
}

static void stray_accesses_read_all_ones(void **state)
{
    (void)state;
    assert_int_equal(guest_access(DEVD_MMIO_BASE + 0x400, 4, false, 0), 0xffffffffu);    /* no device 2 */
    assert_int_equal(guest_access(DEVD_MMIO_BASE - 4, 2, false, 0), 0xffff);
    assert_int_equal(guest_access(DEVD_MMIO_BASE + 0x1fe, 4, false, 0), 0xffffffffu);   /* straddles */
    assert_int_equal(guest_access(DEVD_MMIO_BASE, 3, false, 0), 0xffffff);              /* odd width */
    assert_int_equal(guest_access(~0ull - 1, 8, false, 0), ~0ull);
    guest_access(DEVD_MMIO_BASE + 0x400 + VIRTIO_MMIO_STATUS, 4, true, 1);
    assert_int_equal(d.stray, 6);
}

static void interrupts_go_out_on_the_device_gsi(void **state)
{
    struct fq qs[2];

    (void)state;
    fg_start(&g, &con1->mmio, 1ull << VIRTIO_F_VERSION_1, qs, 2, 8);
    con1->output = discard;
    fq_desc(&g, &qs[1], 0, FG_DATA, 0, 0, 0);
    fq_publish(&g, &qs[1], 0);
    guest_access(DEVD_MMIO_BASE + 0x200 + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, 1);
    assert_int_equal(ft.irq, DEVD_GSI_BASE + 1);
    assert_true(ft.level);
    assert_int_equal(guest_access(DEVD_MMIO_BASE + 0x200 + VIRTIO_MMIO_INTERRUPT_STATUS, 4, false, 0), 1);
    guest_access(DEVD_MMIO_BASE + 0x200 + VIRTIO_MMIO_INTERRUPT_ACK, 4, true, 1);
    assert_false(ft.level);
}

static void transport_failure_ends_the_loop(void **state)
{
    (void)state;
    ft.fail = -EIO;
    assert_int_equal(write(ft.pipe[1], "x", 1), 1);
    assert_int_equal(devd_run(&d), -EIO);
}

static void slots_run_out(void **state)
{
    struct vcon *more = test_malloc(sizeof(*more));

    (void)state;
    vcon_init(more, &g.ram, (struct vmmio_irq){ 0 }, NULL, NULL);
    for (int i = 2; i < DEVD_MAX_DEVICES; i++)
        assert_int_equal(devd_add(&d, &more->mmio), 0);
    assert_int_equal(devd_add(&d, &more->mmio), -ENOSPC);
    assert_int_equal(d.slot[DEVD_MAX_DEVICES - 1].irq, DEVD_GSI_BASE + DEVD_MAX_DEVICES - 1);
    assert_int_equal(d.slot[DEVD_MAX_DEVICES - 1].base,
                     DEVD_MMIO_BASE + (DEVD_MAX_DEVICES - 1) * DEVD_MMIO_STRIDE);
    test_free(more);
}

static void linux_cmdline_names_each_device(void **state)
{
    char buf[512];

    (void)state;
    assert_int_equal(devd_linux_cmdline(2, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "virtio_mmio.device=512@0xfeb00000:16 "
                             "virtio_mmio.device=512@0xfeb00200:17");
    assert_int_equal(devd_linux_cmdline(8, buf, 100), -ENOSPC);
    assert_int_equal(devd_linux_cmdline(DEVD_MAX_DEVICES + 1, buf, sizeof(buf)), -ENOSPC);
}

/* ---- the console server ---------------------------------------------------- */

static int attach(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    strcpy(sa.sun_path, path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(devd_poll_once(&d, 1000), 0);          /* accept */
    return fd;
}

static void console_log_and_socket(void **state)
{
    struct consrv *cs = test_malloc(sizeof(*cs));
    char dir[] = "/tmp/kiln-consrv-XXXXXX", sock[128], logp[128], buf[128];
    struct fq qs[2];
    int c1, c2, logfd;
    ssize_t n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(sock, sizeof(sock), "%s/console.sock", dir);
    snprintf(logp, sizeof(logp), "%s/console.log", dir);
    assert_int_equal(consrv_open(cs, con0, sock, logp), 0);
    d.console = cs;
    fg_start(&g, &con0->mmio, 1ull << VIRTIO_F_VERSION_1, qs, 2, 8);
    c1 = attach(sock);
    /* the guest writes: the client and the log both get it */
    memcpy(g.mem + FG_DATA, "login: ", 7);
    fq_desc(&g, &qs[1], 0, FG_DATA, 7, 0, 0);
    fq_publish(&g, &qs[1], 0);
    guest_access(DEVD_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, 1);
    n = recv(c1, buf, sizeof(buf), 0);
    assert_int_equal(n, 7);
    assert_memory_equal(buf, "login: ", 7);
    logfd = open(logp, O_RDONLY);
    assert_int_equal(read(logfd, buf, sizeof(buf)), 7);
    close(logfd);
    /* the client types: the guest's receive buffer gets it */
    fq_desc(&g, &qs[0], 0, FG_DATA + 0x100, 32, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &qs[0], 0);
    guest_access(DEVD_MMIO_BASE + VIRTIO_MMIO_QUEUE_NOTIFY, 4, true, 0);
    assert_int_equal(send(c1, "root\n", 5, 0), 5);
    assert_int_equal(devd_poll_once(&d, 1000), 0);
    assert_int_equal(fq_used_idx(&g, &qs[0]), 1);
    assert_memory_equal(g.mem + FG_DATA + 0x100, "root\n", 5);
    /* a second client is turned away */
    c2 = attach(sock);
    n = recv(c2, buf, sizeof(buf) - 1, 0);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "console already attached"));
    close(c2);
    /* when the first leaves, a new one can attach */
    close(c1);
    assert_int_equal(devd_poll_once(&d, 1000), 0);
    assert_int_equal(cs->client_fd, -1);
    c2 = attach(sock);
    assert_true(cs->client_fd >= 0);
    close(c2);
    consrv_close(cs);
    assert_int_equal(access(sock, F_OK), -1);               /* socket removed */
    unlink(logp);
    rmdir(dir);
    test_free(cs);
}

/* ---- TAP on a bridge, in a private network namespace ------------------------ */

#define ETH_TEST 0x88b5                /* IEEE local experimental ethertype */

static int if_up(int s, const char *name)
{
    struct ifreq ifr = { 0 };

    strcpy(ifr.ifr_name, name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        return -1;
    ifr.ifr_flags |= IFF_UP;
    return ioctl(s, SIOCSIFFLAGS, &ifr);
}

/* A broadcast test frame with a marker byte. */
static void test_frame(uint8_t f[60], uint8_t marker)
{
    memset(f, 0, 60);
    memset(f, 0xff, 6);
    memcpy(f + 6, "\x02\x00\x00\x00\x00\x07", 6);
    f[12] = ETH_TEST >> 8;
    f[13] = ETH_TEST & 0xff;
    f[14] = marker;
}

/* Runs in a child (the namespace is per process): 0 ok, 77 skipped, else a
 * step number, with a message on fd err. */
static int tap_child(int err)
{
    static const uint8_t mac[6] = { 0x02, 0x4b, 0x4c, 0, 0, 1 };
    struct vnet *n = calloc(1, sizeof(*n));
    struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_TEST) };
    char ifname[16];
    uint8_t frame[60], got[2048];
    struct fq qs[2];
    int s, fd, pk;

#define FAIL(step, ...) do { dprintf(err, __VA_ARGS__); return step; } while (0)
    if (unshare(CLONE_NEWNET) < 0)
        FAIL(77, "unshare(CLONE_NEWNET): %s", strerror(errno));
    /* no IPv6 chatter (router solicitations) on the new interfaces */
    fd = open("/proc/sys/net/ipv6/conf/default/disable_ipv6", O_WRONLY);
    if (fd >= 0) {
        if (write(fd, "1", 1) != 1)
            dprintf(err, "(IPv6 stays on) ");
        close(fd);
    }
    s = socket(AF_INET, SOCK_DGRAM, 0);
    if (ioctl(s, SIOCBRADDBR, "kbr0") < 0 || if_up(s, "kbr0") < 0)
        FAIL(77, "no bridge support: %s", strerror(errno));
    fd = tap_open("ktap%d", ifname);
    if (fd == -ENOENT || fd == -ENODEV)
        FAIL(77, "no /dev/net/tun");
    if (fd < 0)
        FAIL(1, "tap_open: %s", strerror(-fd));
    if (strcmp(ifname, "ktap0"))
        FAIL(2, "tap name %s", ifname);
    if (tap_attach(ifname, "nosuchbr") >= 0)
        FAIL(3, "attached to a bridge that does not exist");
    if (tap_attach(ifname, "kbr0") < 0)
        FAIL(4, "tap_attach failed");
    /* a packet socket on the bridge sees what the guest sends, and sends
     * what the guest should receive */
    pk = socket(AF_PACKET, SOCK_RAW, htons(ETH_TEST));
    sll.sll_ifindex = (int)if_nametoindex("kbr0");
    if (pk < 0 || bind(pk, (struct sockaddr *)&sll, sizeof(sll)) < 0)
        FAIL(5, "packet socket: %s", strerror(errno));
    vnet_init(n, &g.ram, (struct vmmio_irq){ 0 }, fd, mac);
    fg_start(&g, &n->mmio, (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_NET_F_MAC), qs, 2, 8);
    test_frame(frame, 0xa1);
    memset(g.mem + FG_DATA, 0, VNET_HDR_LEN);
    memcpy(g.mem + FG_DATA + VNET_HDR_LEN, frame, 60);
    fq_desc(&g, &qs[1], 0, FG_DATA, VNET_HDR_LEN + 60, 0, 0);
    fq_publish(&g, &qs[1], 0);
    vmmio_write(&n->mmio, VIRTIO_MMIO_QUEUE_NOTIFY, 4, 1);
    if (n->stats.tx_frames != 1)
        FAIL(6, "frame not written to the TAP device");
    for (;;) {
        struct pollfd p = { .fd = pk, .events = POLLIN };
        ssize_t r;

        if (poll(&p, 1, 2000) != 1)
            FAIL(7, "the guest's frame never reached the bridge");
        r = recv(pk, got, sizeof(got), 0);
        if (r >= 15 && got[14] == 0xa1)
            break;
    }
    /* the other way: posted receive buffers, a frame sent on the bridge */
    for (unsigned i = 0; i < 4; i++) {
        fq_desc(&g, &qs[0], i, FG_DATA + 0x1000 + 0x800 * i, 1526, VIRTQ_DESC_F_WRITE, 0);
        fq_publish(&g, &qs[0], (uint16_t)i);
    }
    test_frame(frame, 0xb2);
    if (send(pk, frame, 60, 0) != 60)
        FAIL(8, "send on the bridge: %s", strerror(errno));
    for (uint16_t seen = 0, tries = 0; tries < 200; tries++) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        poll(&p, 1, 10);
        vnet_rx(n);
        for (; seen != fq_used_idx(&g, &qs[0]); seen++) {
            uint32_t id, len;

            fq_used(&g, &qs[0], seen, &id, &len);
            if (len == VNET_HDR_LEN + 60 &&
                g.mem[FG_DATA + 0x1000 + 0x800 * id + VNET_HDR_LEN + 14] == 0xb2)
                return 0;
            fq_publish(&g, &qs[0], (uint16_t)id);     /* someone else's frame: repost */
        }
    }
    FAIL(9, "the bridge's frame never reached the guest (%llu received)",
         (unsigned long long)n->stats.rx_frames);
#undef FAIL
}

static void tap_on_a_bridge_in_a_netns(void **state)
{
    int p[2], status;
    char msg[256] = "";
    pid_t pid;

    (void)state;
    assert_int_equal(pipe(p), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(p[0]);
        _exit(tap_child(p[1]));
    }
    close(p[1]);
    if (read(p[0], msg, sizeof(msg) - 1) < 0)
        msg[0] = '\0';
    close(p[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    if (WEXITSTATUS(status) == 77) {
        print_message("TAP test skipped: %s\n", msg);
        skip();
    }
    if (WEXITSTATUS(status))
        fail_msg("TAP test step %d: %s", WEXITSTATUS(status), msg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(requests_reach_their_device),
        T(stray_accesses_read_all_ones),
        T(interrupts_go_out_on_the_device_gsi),
        T(transport_failure_ends_the_loop),
        T(slots_run_out),
        T(linux_cmdline_names_each_device),
        T(console_log_and_socket),
        T(tap_on_a_bridge_in_a_netns),
    };
    return cmocka_run_group_tests_name("devd", tests, NULL, NULL);
}
