/*
 * test_ioreq_tp.c - kiln-devd's transport on I/O request forwarding, with a
 * pretend ioreq page and socketpairs standing in for kiln.ko's event channel
 * descriptors (the test writes a u32 count as the hypervisor's notification
 * and reads the u64 devd sends): requests are taken only after a
 * notification, each slot at most once per notification, answers follow the
 * protocol (data, DONE, seq kept, a send), impossible slots are ignored, and
 * a whole access through devd's loop reaches a device and back.
 */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "devd.h"
#include "fake_guest.h"
#include "fake_kiln.h"
#include "ioreq_tp.h"
#include "log.h"
#include "virtio.h"

#define NV 2

static struct ioreq_tp tp;
static struct devd_transport t;
static struct kiln_ioreq *page;
static int peer[NV];

static int setup(void **state)
{
    int fds[NV];

    (void)state;
    page = test_calloc(1, 4096);
    for (int v = 0; v < NV; v++) {
        int sv[2];

        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
        fds[v] = sv[0];
        peer[v] = sv[1];
    }
    assert_int_equal(ioreq_tp_init(&tp, page, NV, fds), 0);
    t = ioreq_tp_transport(&tp);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ioreq_tp_close(&tp, 0);
    for (int v = 0; v < NV; v++)
        close(peer[v]);
    test_free(page);
    devd_log_hook = NULL;
    return 0;
}

/* The hypervisor posts a request in vCPU v's slot and notifies. */
static void post(unsigned v, uint64_t addr, uint8_t size, uint8_t dir, uint64_t data, uint32_t seq)
{
    uint32_t one = 1;

    page[v] = (struct kiln_ioreq){ .addr = addr, .size = size, .dir = dir, .data = data,
                                   .type = KILN_IOREQ_MMIO, .seq = seq,
                                   .state = KILN_IOREQ_STATE_READY };
    assert_int_equal(write(peer[v], &one, sizeof(one)), sizeof(one));
}

static bool readable(int fd)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };

    return poll(&p, 1, 0) == 1;
}

static void nothing_without_a_notification(void **state)
{
    struct devd_ioreq req;

    (void)state;
    page[0].state = KILN_IOREQ_STATE_READY;
    page[0].size = 4;
    assert_false(readable(t.poll_fd(t.ctx)));
    assert_int_equal(t.next(t.ctx, &req), 0);
    assert_int_equal(page[0].state, KILN_IOREQ_STATE_READY);
}

static void read_request_answered(void **state)
{
    struct devd_ioreq req;
    uint64_t sent;

    (void)state;
    post(1, 0xfeb00000, 4, KILN_IOREQ_READ, 0, 7);
    assert_true(readable(t.poll_fd(t.ctx)));
    assert_int_equal(t.next(t.ctx, &req), 1);
    assert_int_equal(req.vcpu, 1);
    assert_int_equal(req.addr, 0xfeb00000);
    assert_int_equal(req.size, 4);
    assert_false(req.write);
    assert_int_equal(page[1].state, KILN_IOREQ_STATE_INPROCESS);
    assert_int_equal(t.next(t.ctx, &req), 0);
    req.data = 0x74726976;
    assert_int_equal(t.complete(t.ctx, &req), 0);
    assert_int_equal(page[1].data, 0x74726976);
    assert_int_equal(page[1].state, KILN_IOREQ_STATE_DONE);
    assert_int_equal(page[1].seq, 7);                       /* left as posted */
    assert_int_equal(read(peer[1], &sent, sizeof(sent)), sizeof(sent));
    assert_int_equal(sent, 1);
    assert_false(readable(t.poll_fd(t.ctx)));
}

static void write_data_masked_to_size(void **state)
{
    struct devd_ioreq req;

    (void)state;
    post(0, 0xfeb00070, 2, KILN_IOREQ_WRITE, 0xdeadbeef, 1);
    assert_int_equal(t.next(t.ctx, &req), 1);
    assert_true(req.write);
    assert_int_equal(req.data, 0xbeef);
    req.data = 0x1234;                                      /* ignored for writes */
    assert_int_equal(t.complete(t.ctx, &req), 0);
    assert_int_equal(page[0].data, 0xdeadbeef);
}

static void both_vcpus_in_one_round(void **state)
{
    struct devd_ioreq a, b;

    (void)state;
    post(0, 0xfeb00000, 4, KILN_IOREQ_READ, 0, 1);
    post(1, 0xfeb00200, 4, KILN_IOREQ_READ, 0, 1);
    assert_int_equal(t.next(t.ctx, &a), 1);
    assert_int_equal(t.next(t.ctx, &b), 1);
    assert_int_equal(a.vcpu, 0);
    assert_int_equal(b.vcpu, 1);
    assert_int_equal(t.next(t.ctx, &a), 0);
}

static void impossible_slots_ignored(void **state)
{
    struct devd_ioreq req;

    (void)state;
    post(0, 0xfeb00000, 3, KILN_IOREQ_READ, 0, 1);          /* size 3 */
    post(1, 0xfeb00000, 4, 9, 0, 1);                        /* no such direction */
    assert_int_equal(t.next(t.ctx, &req), 0);
    assert_int_equal(tp.ignored, 2);
    page[1].state = KILN_IOREQ_STATE_NONE;
    post(0, 0x80, 1, KILN_IOREQ_READ, 0, 1);
    page[0].type = KILN_IOREQ_PIO;                          /* devd claims no ports */
    assert_int_equal(t.next(t.ctx, &req), 0);
    assert_int_equal(tp.ignored, 3);
}

static void slot_kept_ready_does_not_spin(void **state)
{
    struct devd_ioreq req;

    (void)state;
    post(0, 0xfeb00000, 4, KILN_IOREQ_READ, 0, 1);
    assert_int_equal(t.next(t.ctx, &req), 1);
    /* a hostile guest flips its slot back to READY: served again only after
     * another notification, never in a loop */
    page[0].state = KILN_IOREQ_STATE_READY;
    assert_int_equal(t.next(t.ctx, &req), 0);
    assert_int_equal(t.next(t.ctx, &req), 0);
}

static void whole_access_through_devd(void **state)
{
    struct devd *d = test_malloc(sizeof(*d));
    struct vcon *c = test_malloc(sizeof(*c));
    struct fguest g;
    uint64_t sent;

    (void)state;
    fg_init(&g);
    devd_init(d, &t);
    vcon_init(c, &g.ram, (struct vmmio_irq){ 0 }, NULL, NULL);
    assert_int_equal(devd_add(d, &c->mmio), 0);
    post(1, DEVD_MMIO_BASE + VIRTIO_MMIO_DEVICE_ID, 4, KILN_IOREQ_READ, 0, 42);
    assert_int_equal(devd_poll_once(d, 1000), 0);
    assert_int_equal(page[1].state, KILN_IOREQ_STATE_DONE);
    assert_int_equal(page[1].data, VIRTIO_ID_CONSOLE);
    assert_int_equal(page[1].seq, 42);
    assert_int_equal(read(peer[1], &sent, sizeof(sent)), sizeof(sent));
    fg_free(&g);
    test_free(c);
    test_free(d);
}

static void bad_vcpu_counts(void **state)
{
    struct ioreq_tp other;
    int fds[1] = { -1 };

    (void)state;
    assert_int_equal(ioreq_tp_init(&other, page, 0, fds), -EINVAL);
    assert_int_equal(ioreq_tp_init(&other, page, IOREQ_MAX_VCPUS + 1, fds), -EINVAL);
}

/* The setup sequence against the pretend /dev/kiln: the server is created
 * with the page and timeout asked for, and a step that fails is reported
 * (the fake has no foreign mappings, so mapping the page fails). */
static void quiet(const char *line)
{
    (void)line;
}

static void open_reports_each_step(void **state)
{
    static struct fake F;
    struct ioreq_tp other;
    kiln_handle *h;
    size_t n;

    (void)state;
    devd_log_hook = quiet;
    memset(&F, 0, sizeof(F));
    h = fake_open(&F);
    assert_non_null(h);
    F.hc_op_result = -KILN_EEXIST;
    n = F.n_calls;
    assert_int_equal(ioreq_tp_open(&other, h, 3, 2, 0x9f, 5000, 0xfeb00000, 4096), -EEXIST);
    assert_int_equal(F.calls[n].op, KILN_HC_IOREQ_OP);
    assert_int_equal(F.calls[n].cmd, KILN_IOREQ_OP_CREATE);
    assert_int_equal(F.calls[n].ioreq.dom, 3);
    assert_int_equal(F.calls[n].ioreq.gfn, 0x9f);
    assert_int_equal(F.calls[n].ioreq.timeout_ms, 5000);
    F.hc_op_result = 0;
    assert_int_equal(ioreq_tp_open(&other, h, 3, 2, 0x9f, 5000, 0xfeb00000, 4096), -ENOSYS);
    assert_int_equal(ioreq_tp_open(&other, h, 3, 0, 0x9f, 5000, 0xfeb00000, 4096), -EINVAL);
    fake_close(h, &F);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(nothing_without_a_notification),
        T(read_request_answered),
        T(write_data_masked_to_size),
        T(both_vcpus_in_one_round),
        T(impossible_slots_ignored),
        T(slot_kept_ready_does_not_spin),
        T(whole_access_through_devd),
        T(bad_vcpu_counts),
        T(open_reports_each_step),
    };
    return cmocka_run_group_tests_name("ioreq transport", tests, NULL, NULL);
}
