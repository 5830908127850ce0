/*
 * test_evtchn.c - libkiln's event channel and ioreq calls against the fake
 * /dev/kiln: what each call marshals (sub-command, domain, ports, ranges),
 * how results and refusals come back, and the port descriptor's protocol
 * (notify writes, wait polls and reads the count, timeouts).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "fake_kiln.h"

static struct fake F;

static int setup(void **state)
{
    *state = fake_open(&F);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_close(*state, &F);
    return 0;
}

static void bind_gives_descriptor(void **state)
{
    uint32_t port = 0, n = 0;
    int fd = kiln_evtchn_bind(*state, 4, 17, &port);

    assert_true(fd >= 0);
    assert_int_equal(port, 5);
    assert_true(F.evtchn_bound);
    assert_int_equal(F.evtchn_req.remote_dom, 4);
    assert_int_equal(F.evtchn_req.remote_port, 17);
    /* Notifications arrive as counts... */
    uint32_t three = 3;
    assert_int_equal(write(F.evtchn_peer, &three, sizeof(three)), sizeof(three));
    assert_int_equal(kiln_evtchn_wait(fd, 1000, &n), 0);
    assert_int_equal(n, 3);
    /* ... nothing more: a timeout. */
    assert_int_equal(kiln_evtchn_wait(fd, 10, &n), -ETIMEDOUT);
    /* A send is a write of 8 bytes. */
    uint64_t sent = 0;
    assert_int_equal(kiln_evtchn_notify(fd), 0);
    assert_int_equal(read(F.evtchn_peer, &sent, sizeof(sent)), sizeof(sent));
    assert_int_equal(sent, 1);
    /* A zero count is not a notification. */
    uint32_t zero = 0;
    assert_int_equal(write(F.evtchn_peer, &zero, sizeof(zero)), sizeof(zero));
    assert_int_equal(kiln_evtchn_wait(fd, 1000, &n), -EIO);
    close(fd);
    assert_int_equal(kiln_evtchn_notify(fd), -EBADF);
}

static void alloc_and_refusals(void **state)
{
    uint32_t port = 77;
    int fd = kiln_evtchn_alloc(*state, 6, &port);

    assert_true(fd >= 0);
    assert_false(F.evtchn_bound);
    assert_int_equal(F.evtchn_req.remote_dom, 6);
    assert_int_equal(port, 6);
    close(fd);
    F.evtchn_errno = ENOSPC;
    port = 77;
    assert_int_equal(kiln_evtchn_bind(*state, 4, 1, &port), -ENOSPC);
    assert_int_equal(port, 77);                  /* untouched on failure */
    /* The peer closing: wait sees end of file as an error. */
    F.evtchn_errno = 0;
    fd = kiln_evtchn_bind(*state, 4, 1, &port);
    close(F.evtchn_peer);
    F.evtchn_peer = -1;
    uint32_t n;
    assert_int_equal(kiln_evtchn_wait(fd, 1000, &n), -EIO);
    close(fd);
}

static void other_domains_ports(void **state)
{
    uint32_t port = 0;
    struct kiln_evtchn_status st;

    assert_int_equal(kiln_evtchn_alloc_for(*state, 8, 0, &port), 0);
    assert_int_equal(port, 12);
    assert_int_equal(F.calls[0].op, KILN_HC_EVTCHN_OP);
    assert_int_equal(F.calls[0].cmd, KILN_EVTCHNOP_ALLOC_UNBOUND);
    assert_int_equal(F.calls[0].evtchn.dom, 8);
    assert_int_equal(F.calls[0].evtchn.remote_dom, 0);
    assert_int_equal(kiln_evtchn_status(*state, 8, 12, &st), 0);
    assert_int_equal(F.calls[1].cmd, KILN_EVTCHNOP_STATUS);
    assert_int_equal(F.calls[1].evtchn.port, 12);
    assert_int_equal(st.state, KILN_EVTCHN_STATE_INTERDOMAIN);
    assert_int_equal(st.remote_dom, 3);
    assert_int_equal(st.remote_port, 9);
    assert_int_equal(kiln_evtchn_set_limit(*state, 8, 200000), 0);
    assert_int_equal(F.calls[2].evtchn.limit, 200000);
    /* The hypervisor's refusals arrive as errnos. */
    F.hc_op_result = -KILN_ENOSPC;
    assert_int_equal(kiln_evtchn_alloc_for(*state, 8, 0, &port), -ENOSPC);
    F.hc_op_result = -KILN_EPERM;
    assert_int_equal(kiln_evtchn_status(*state, 8, 12, &st), -EPERM);
    F.ioctl_errno = EPERM;                       /* kiln.ko refused it */
    assert_int_equal(kiln_evtchn_set_limit(*state, 0, 5), -EPERM);
}

static void ioreq_calls(void **state)
{
    uint32_t port = 0;

    assert_int_equal(kiln_ioreq_create(*state, 7, 0x3ff, 250), 0);
    assert_int_equal(F.calls[0].op, KILN_HC_IOREQ_OP);
    assert_int_equal(F.calls[0].cmd, KILN_IOREQ_OP_CREATE);
    assert_int_equal(F.calls[0].ioreq.dom, 7);
    assert_int_equal(F.calls[0].ioreq.gfn, 0x3ff);
    assert_int_equal(F.calls[0].ioreq.timeout_ms, 250);
    assert_int_equal(kiln_ioreq_vcpu_port(*state, 7, 1, &port), 0);
    assert_int_equal(F.calls[1].ioreq.vcpu, 1);
    assert_int_equal(port, 41);
    assert_int_equal(kiln_ioreq_map_range(*state, 7, KILN_IOREQ_MMIO, 0xd0000000, 0x2000), 0);
    assert_int_equal(F.calls[2].cmd, KILN_IOREQ_OP_MAP_RANGE);
    assert_int_equal(F.calls[2].ioreq.type, KILN_IOREQ_MMIO);
    assert_int_equal(F.calls[2].ioreq.start, 0xd0000000);
    assert_int_equal(F.calls[2].ioreq.size, 0x2000);
    F.hc_op_result = -KILN_EEXIST;
    assert_int_equal(kiln_ioreq_create(*state, 7, 0x3ff, 250), -EEXIST);
    port = 99;
    assert_int_equal(kiln_ioreq_vcpu_port(*state, 7, 0, &port), -EEXIST);
    assert_int_equal(port, 99);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bind_gives_descriptor, setup, teardown),
        cmocka_unit_test_setup_teardown(alloc_and_refusals, setup, teardown),
        cmocka_unit_test_setup_teardown(other_domains_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(ioreq_calls, setup, teardown),
    };
    return cmocka_run_group_tests_name("libkiln event channels and ioreq", tests, NULL, NULL);
}
