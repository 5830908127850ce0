/*
 * test_ioreq.c - unit tests of I/O request forwarding (arch/x86/hvm/ioreq.c
 * over the real event channels and slot protocol): a dom0 server created
 * through the hypercall, MMIO reads and writes forwarded and the vCPU
 * blocked until the answer, a read-modify-write replayed without asking
 * the server twice, port I/O, and every way the served domain dies: no
 * answer in time, a wrong sequence number, the server closing its channel,
 * an instruction that changed while it waited; the hypercall's refusals.
 *
 * The emulator is played by calling the region's ops the way mmio.c does
 * (and counting v->mmio_insns when an instruction ends).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../common/event/evtchn_table.c"
#include "../common/event/evtchn_fifo.c"
#include "../common/ioreq/ioreq_proto.c"
#include "../arch/x86/hvm/ioreq.c"
#include "../common/hypercall_op.c"

#define RAM_PAGES 64u
#define IOREQ_GFN 60u
#define OP_GPA    0x3000u
#define MS        1000000ull

#include "fake_domain.h"

static struct fake f0, fu, fu2;
static struct fake *const all[NR_FAKES] = { &f0, &fu, &fu2 };
spinlock_t domlist_lock;
static u64 clock_ns;
static char killed[160];
static int raises;

void printk(enum log_level level, const char *fmt, ...) { (void)level; (void)fmt; }
u64 now_ns(void) { return clock_ns; }
void evtchn_upcall(struct vcpu *v, u8 vector) { (void)v; (void)vector; }
bool vcpu_block_locked(struct vcpu *v, u64 deadline)
{
    if (deadline <= clock_ns)
        return false;
    v->blocked = true;
    v->wake_deadline = deadline;
    return true;
}
void vcpu_wake(struct vcpu *v) { v->blocked = false; }
void vcpu_sched_raise(void) { raises++; }

void domain_kill(struct domain *d, u32 reason, const char *why)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return;
    assert_int_equal(reason, KILN_SHUTDOWN_CRASH);
    d->state = KILN_DOMSTATE_DYING;
    snprintf(killed, sizeof(killed), "%s", why);
    evtchn_domain_destroy(d);
}

/* The MMIO table: one region is enough to play the emulator. */
static const struct hvm_mmio_ops *region_ops;
static void *region_dev;
static u64 region_base, region_len;
int hvm_mmio_register(struct domain *d, u64 base, u64 len, const struct hvm_mmio_ops *ops, void *dev)
{
    if (base < d->p2m.nr_pages * PAGE_SIZE)
        return -KILN_EINVAL;
    if (region_ops)
        return -KILN_EEXIST;
    region_ops = ops;
    region_dev = dev;
    region_base = base;
    region_len = len;
    return 0;
}

/* dom0's side: its event array, and a hypercall from its vCPU. */
static s64 ioreq_op(struct fake *caller, u32 cmd, struct kiln_ioreq_op *op)
{
    memcpy(caller->ram + OP_GPA, op, sizeof(*op));
    s64 rc = hypercall_ioreq_op(&caller->v[0], cmd, OP_GPA);
    memcpy(op, caller->ram + OP_GPA, sizeof(*op));
    return rc;
}

static u32 server_port[2];

static int setup(void **state)
{
    (void)state;
    make(&f0, 0, 1, true);
    make(&fu, 5, 2, false);
    make(&fu2, 6, 1, false);
    region_ops = NULL;
    clock_ns = 1000;
    killed[0] = 0;
    assert_int_equal(evtchn_fifo_init_control(&f0.d, 0, 0x1000, 0xe0), 0);
    assert_int_equal(evtchn_fifo_expand_array(&f0.d, 0x2000), 1024);
    struct kiln_ioreq_op op = { .dom = 5, .gfn = IOREQ_GFN, .timeout_ms = 50 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), 0);
    for (u32 i = 0; i < 2; i++) {
        op = (struct kiln_ioreq_op){ .dom = 5, .vcpu = i };
        assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_VCPU_PORT, &op), 0);
        assert_int_equal(op.port, ((struct kiln_ioreq *)(fu.ram + IOREQ_GFN * PAGE_SIZE))[i].port);
        assert_int_equal(evtchn_bind_interdomain(&f0.d, 5, op.port, &server_port[i]), 0);
    }
    op = (struct kiln_ioreq_op){ .dom = 5, .type = KILN_IOREQ_MMIO, .start = 0xd0000000,
                                 .size = 0x1000 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), 0);
    op = (struct kiln_ioreq_op){ .dom = 5, .type = KILN_IOREQ_PIO, .start = 0x600, .size = 8 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < NR_FAKES; i++) {
        evtchn_domain_destroy(&all[i]->d);
        ioreq_domain_destroy(&all[i]->d);
    }
    return 0;
}

static struct kiln_ioreq *slot(unsigned int vcpu)
{
    return (struct kiln_ioreq *)(fu.ram + IOREQ_GFN * PAGE_SIZE) + vcpu;
}

/* dom0's process: sees the notification, answers, notifies back. */
static bool server_notified(unsigned int vcpu)
{
    u32 *w = (u32 *)(f0.ram + 0x2000) + server_port[vcpu];
    bool pending = *w & KILN_EVTCHN_PENDING;
    *w &= ~(KILN_EVTCHN_PENDING | KILN_EVTCHN_LINKED);
    ((struct kiln_evtchn_control *)(f0.ram + 0x1000))->ready = 0;
    ((struct kiln_evtchn_control *)(f0.ram + 0x1000))->head[7] = 0;
    return pending;
}

static void answer(unsigned int vcpu, u64 data)
{
    struct kiln_ioreq *s = slot(vcpu);
    assert_int_equal(s->state, KILN_IOREQ_STATE_READY);
    if (s->dir == KILN_IOREQ_READ)
        s->data = data;
    s->state = KILN_IOREQ_STATE_DONE;
    assert_int_equal(evtchn_send(&f0.d, server_port[vcpu]), 0);
}

static int mread(unsigned int vcpu, u64 gpa, unsigned int size, u64 *val)
{
    return region_ops->read(region_dev, &fu.v[vcpu], gpa, size, val);
}
static int mwrite(unsigned int vcpu, u64 gpa, unsigned int size, u64 val)
{
    return region_ops->write(region_dev, &fu.v[vcpu], gpa, size, val);
}

static void test_mmio_read_write(void **state)
{
    (void)state;
    u64 val = 0;
    server_notified(0);
    /* The read goes to the server; the vCPU sleeps with the timeout. */
    assert_int_equal(mread(0, 0xd0000010, 4, &val), HVM_MMIO_RETRY);
    assert_true(fu.v[0].blocked);
    assert_int_equal(fu.v[0].wake_deadline, 1000 + 50 * MS);
    assert_true(server_notified(0));
    assert_int_equal(slot(0)->addr, 0xd0000010);
    assert_int_equal(slot(0)->size, 4);
    assert_int_equal(slot(0)->dir, KILN_IOREQ_READ);
    assert_int_equal(slot(0)->type, KILN_IOREQ_MMIO);
    answer(0, 0xcafef00d);
    assert_false(fu.v[0].blocked);             /* woken by the answer */
    /* The instruction runs again and completes with the answer. */
    assert_int_equal(mread(0, 0xd0000010, 4, &val), 0);
    assert_int_equal(val, 0xcafef00d);
    fu.v[0].mmio_insns++;
    /* A write, from the other vCPU, through its own slot and channel. */
    assert_int_equal(mwrite(1, 0xd0000020, 2, 0x1234), HVM_MMIO_RETRY);
    assert_true(server_notified(1));
    assert_false(server_notified(0));
    assert_int_equal(slot(1)->data, 0x1234);
    assert_int_equal(slot(1)->dir, KILN_IOREQ_WRITE);
    answer(1, 0);
    assert_int_equal(mwrite(1, 0xd0000020, 2, 0x1234), 0);
    fu.v[1].mmio_insns++;
    assert_string_equal(killed, "");
}

static void test_rmw_replayed(void **state)
{
    (void)state;
    u64 val;
    server_notified(0);
    /* OR [reg], 0x80: a read, then a write, each answered in turn. */
    assert_int_equal(mread(0, 0xd0000100, 4, &val), HVM_MMIO_RETRY);
    answer(0, 0x5);
    assert_int_equal(mread(0, 0xd0000100, 4, &val), 0);
    assert_int_equal(val, 0x5);
    assert_int_equal(mwrite(0, 0xd0000100, 4, 0x85), HVM_MMIO_RETRY);
    u32 seq = slot(0)->seq;
    answer(0, 0);
    /* Third attempt: the read is given back, not asked again. */
    assert_int_equal(mread(0, 0xd0000100, 4, &val), 0);
    assert_int_equal(val, 0x5);
    assert_int_equal(mwrite(0, 0xd0000100, 4, 0x85), 0);
    assert_int_equal(slot(0)->seq, seq);
    fu.v[0].mmio_insns++;
    /* The next instruction reading the same register asks again. */
    assert_int_equal(mread(0, 0xd0000100, 4, &val), HVM_MMIO_RETRY);
    assert_int_equal(slot(0)->seq, seq + 1);
}

static void test_early_wake_keeps_waiting(void **state)
{
    (void)state;
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 1, &val), HVM_MMIO_RETRY);
    u32 seq = slot(0)->seq;
    fu.v[0].blocked = false;                   /* woken by something else */
    clock_ns += 10 * MS;
    assert_int_equal(mread(0, 0xd0000000, 1, &val), HVM_MMIO_RETRY);
    assert_true(fu.v[0].blocked);
    assert_int_equal(slot(0)->seq, seq);       /* not posted twice */
    /* A notification before DONE changes nothing. */
    slot(0)->state = KILN_IOREQ_STATE_INPROCESS;
    evtchn_send(&f0.d, server_port[0]);
    assert_true(fu.v[0].blocked);
    assert_string_equal(killed, "");
}

static void test_timeout(void **state)
{
    (void)state;
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 8, &val), HVM_MMIO_RETRY);
    clock_ns += 50 * MS;                       /* the deadline wakes the vCPU */
    assert_int_equal(mread(0, 0xd0000000, 8, &val), HVM_MMIO_RETRY);
    assert_int_equal(fu.d.state, KILN_DOMSTATE_DYING);
    assert_string_equal(killed, "its ioreq server d0 did not answer within 50 ms");
    /* Only that domain: dom0 and the other domU go on. */
    assert_int_equal(f0.d.state, KILN_DOMSTATE_RUNNING);
    assert_int_equal(fu2.d.state, KILN_DOMSTATE_RUNNING);
    /* dom0's ends of the channels are unbound now. */
    assert_int_equal(evtchn_lookup(&f0.d, server_port[0])->state, KILN_EVTCHN_STATE_UNBOUND);
}

static void test_wrong_seq(void **state)
{
    (void)state;
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 4, &val), HVM_MMIO_RETRY);
    slot(0)->seq += 3;
    slot(0)->state = KILN_IOREQ_STATE_DONE;
    evtchn_send(&f0.d, server_port[0]);
    assert_int_equal(fu.d.state, KILN_DOMSTATE_DYING);
    assert_string_equal(killed, "its ioreq server d0 answered v0 with a wrong sequence number");
}

static void test_double_answer(void **state)
{
    (void)state;
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 4, &val), HVM_MMIO_RETRY);
    answer(0, 1);
    slot(0)->state = KILN_IOREQ_STATE_DONE;    /* and again */
    slot(0)->data = 2;
    evtchn_send(&f0.d, server_port[0]);
    evtchn_send(&f0.d, server_port[1]);        /* and on an idle vCPU's channel */
    assert_int_equal(mread(0, 0xd0000000, 4, &val), 0);
    assert_int_equal(val, 1);
    assert_string_equal(killed, "");
}

static void test_server_death(void **state)
{
    (void)state;
    /* dom0's process exits: its kernel module closes the channels. */
    assert_int_equal(evtchn_close(&f0.d, server_port[1]), 0);
    assert_int_equal(fu.d.state, KILN_DOMSTATE_DYING);
    assert_string_equal(killed, "its ioreq server d0 closed v1's channel (server gone)");
    assert_int_equal(fu2.d.state, KILN_DOMSTATE_RUNNING);
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 4, &val), HVM_MMIO_RETRY);   /* dying: nothing sent */
}

static void test_instruction_changed(void **state)
{
    (void)state;
    u64 val;
    assert_int_equal(mread(0, 0xd0000000, 4, &val), HVM_MMIO_RETRY);
    answer(0, 1);
    /* Another vCPU rewrote the code: the retry reads elsewhere. */
    assert_int_equal(mread(0, 0xd0000004, 4, &val), HVM_MMIO_RETRY);
    assert_string_equal(killed, "its instruction changed while a forwarded access waited");
}

static void test_too_many_accesses(void **state)
{
    (void)state;
    u64 val;
    /* REP MOVSB from a served range: each element one more access. */
    for (unsigned int i = 0; i <= IOREQ_REPLAY_MAX; i++) {
        for (unsigned int j = 0; j < i; j++)
            assert_int_equal(mread(0, 0xd0000000 + j, 1, &val), 0);
        assert_int_equal(mread(0, 0xd0000000 + i, 1, &val), HVM_MMIO_RETRY);
        if (i < IOREQ_REPLAY_MAX)
            answer(0, i);
    }
    assert_int_equal(fu.d.state, KILN_DOMSTATE_RUNNING);
    answer(0, 9);
    for (unsigned int j = 0; j < IOREQ_REPLAY_MAX; j++)
        assert_int_equal(mread(0, 0xd0000000 + j, 1, &val), 0);
    assert_int_equal(mread(0, 0xd0000000 + IOREQ_REPLAY_MAX, 1, &val), HVM_MMIO_RETRY);
    assert_int_equal(fu.d.state, KILN_DOMSTATE_DYING);
}

static void test_ports(void **state)
{
    (void)state;
    u32 val = 0xffffffff;
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x5ff, 1, true, &val), HVM_IOREQ_NOT_MINE);
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x608, 1, true, &val), HVM_IOREQ_NOT_MINE);
    assert_int_equal(hvm_ioreq_port(&fu2.v[0], 0x600, 1, true, &val), HVM_IOREQ_NOT_MINE);
    assert_true(hvm_ioreq_port_claimed(&fu.d, 0x607));
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x604, 2, true, &val), HVM_IOREQ_RETRY);
    assert_int_equal(slot(0)->type, KILN_IOREQ_PIO);
    assert_int_equal(slot(0)->addr, 0x604);
    answer(0, 0xbeef);
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x604, 2, true, &val), HVM_IOREQ_DONE);
    assert_int_equal(val, 0xbeef);
    val = 0x11223344;
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x600, 4, false, &val), HVM_IOREQ_RETRY);
    assert_int_equal(slot(0)->data, 0x11223344);
    answer(0, 0);
    assert_int_equal(hvm_ioreq_port(&fu.v[0], 0x600, 4, false, &val), HVM_IOREQ_DONE);
}

static void test_hypercall_refusals(void **state)
{
    (void)state;
    struct kiln_ioreq_op op = { .dom = 6, .gfn = IOREQ_GFN, .timeout_ms = 10 };
    assert_int_equal(ioreq_op(&fu, KILN_IOREQ_OP_CREATE, &op), -KILN_EPERM);   /* not privileged */
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_VERSION, &op), KILN_IOREQ_VERSION);
    assert_int_equal(ioreq_op(&f0, 99, &op), -KILN_ENOSYS);
    op.dom = 0;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EPERM);   /* dom0 itself */
    op.dom = 9;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_ESRCH);
    op.dom = 5;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EEXIST);
    op.dom = 6;
    op.gfn = RAM_PAGES;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EFAULT);
    op.gfn = ~0ull;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EFAULT);
    op.gfn = 1;
    op.timeout_ms = 0;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EINVAL);
    op.timeout_ms = KILN_IOREQ_TIMEOUT_MAX_MS + 1;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_CREATE, &op), -KILN_EINVAL);
    op = (struct kiln_ioreq_op){ .dom = 6, .type = KILN_IOREQ_PIO, .start = 0x600, .size = 1 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_ENOENT);
    op = (struct kiln_ioreq_op){ .dom = 6, .vcpu = 0 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_VCPU_PORT, &op), -KILN_ENOENT);
    op = (struct kiln_ioreq_op){ .dom = 5, .vcpu = 2 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_VCPU_PORT, &op), -KILN_EINVAL);
    /* Ranges: bad, overlapping, too many. */
    op = (struct kiln_ioreq_op){ .dom = 5, .type = KILN_IOREQ_PIO, .start = 0x607, .size = 2 };
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EEXIST);
    op.start = 0xffff;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EINVAL);
    op.start = 0x700;
    op.size = 0;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EINVAL);
    op.type = 7;
    op.size = 1;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EINVAL);
    op.type = KILN_IOREQ_MMIO;
    op.start = 0xe0000800;
    op.size = 0x1000;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EINVAL);
    op.start = 0;                                  /* RAM */
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_EINVAL);
    op.type = KILN_IOREQ_PIO;
    op.size = 1;
    for (unsigned int i = 1; i < KILN_IOREQ_MAX_PORT_RANGES; i++) {
        op.start = 0x1000 + i;
        assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), 0);
    }
    op.start = 0x2000;
    assert_int_equal(ioreq_op(&f0, KILN_IOREQ_OP_MAP_RANGE, &op), -KILN_E2BIG);
    /* The op structure must not cross a page, and must be the caller's. */
    assert_int_equal(hypercall_ioreq_op(&f0.v[0], KILN_IOREQ_OP_CREATE, 0xff8), -KILN_EINVAL);
    assert_int_equal(hypercall_ioreq_op(&f0.v[0], KILN_IOREQ_OP_CREATE, RAM_PAGES * PAGE_SIZE),
                     -KILN_EFAULT);
    /* The served guest cannot send on, close or move its server's ports:
     * that is the hypercall layer's check (evtchn_hypercall.c), here the
     * ports are hypervisor consumers. */
    assert_true(evtchn_lookup(&fu.d, slot(0)->port)->consumer != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mmio_read_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rmw_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_wake_keeps_waiting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_seq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_server_death, setup, teardown),
        cmocka_unit_test_setup_teardown(test_instruction_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_accesses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hypercall_refusals, setup, teardown),
    };
    return cmocka_run_group_tests_name("ioreq", tests, NULL, NULL);
}
