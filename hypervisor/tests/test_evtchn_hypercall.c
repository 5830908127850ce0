/*
 * test_evtchn_hypercall.c - unit tests of KILN_HC_EVTCHN_OP as a guest
 * calls it (common/event/evtchn_hypercall.c over the real table and FIFO):
 * the structure copied in and out, who may name which domain, ports of the
 * hypervisor's own consumers out of the guest's reach, priority and vCPU
 * changes with their checks, status of free and live ports, and the weak
 * upcall (a wake-up) reaching a domU vCPU.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/event/evtchn_table.c"
#include "../common/event/evtchn_fifo.c"
#include "../common/event/evtchn_hypercall.c"
#include "../common/hypercall_op.c"

#define RAM_PAGES 32u
#define OP_GPA    0x3000u

#include "fake_domain.h"

static struct fake f0, fa, fb;
static struct fake *const all[NR_FAKES] = { &f0, &fa, &fb };
spinlock_t domlist_lock;

/* The interrupt glue's upcall, recorded: which vCPU got which vector. */
static unsigned int upcalls, upcall_vcpu;
static u8 upcall_vector;
void evtchn_upcall(struct vcpu *v, u8 vector)
{
    upcalls++;
    upcall_vcpu = v->id;
    upcall_vector = vector;
}

static int setup(void **state)
{
    (void)state;
    make(&f0, 0, 2, true);
    make(&fa, 1, 2, false);
    make(&fb, 2, 2, false);
    host_used = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < NR_FAKES; i++)
        evtchn_domain_destroy(&all[i]->d);
    assert_int_equal(host_used, 0);
    return 0;
}

/* One hypercall from vCPU 0 of f with *op, which gets the results. */
static s64 call(struct fake *f, u64 cmd, struct kiln_evtchn_op *op)
{
    memcpy(f->ram + OP_GPA, op, sizeof(*op));
    s64 rc = hypercall_evtchn_op(&f->v[0], cmd, OP_GPA);
    memcpy(op, f->ram + OP_GPA, sizeof(*op));
    return rc;
}

static void test_copy_and_version(void **state)
{
    (void)state;
    struct kiln_evtchn_op op = { 0 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_VERSION, &op), KILN_EVTCHN_VERSION);
    assert_int_equal(call(&fa, 42, &op), -KILN_ENOSYS);
    assert_int_equal(hypercall_evtchn_op(&fa.v[0], KILN_EVTCHNOP_SEND, PAGE_SIZE - 8), -KILN_EINVAL);
    assert_int_equal(hypercall_evtchn_op(&fa.v[0], KILN_EVTCHNOP_SEND, RAM_PAGES * PAGE_SIZE),
                     -KILN_EFAULT);
}

static void test_who_names_whom(void **state)
{
    (void)state;
    struct kiln_evtchn_op op = { .dom = 2, .remote_dom = KILN_DOMID_SELF };
    /* A domU allocates only in its own table... */
    assert_int_equal(call(&fa, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), -KILN_EPERM);
    op.dom = KILN_DOMID_SELF;
    op.remote_dom = 2;
    assert_int_equal(call(&fa, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), 0);
    assert_int_equal(op.port, 1);
    op.dom = 1;                                   /* its own id is SELF */
    assert_int_equal(call(&fa, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), 0);
    assert_int_equal(op.port, 2);
    op.remote_dom = 0x7ff1;
    assert_int_equal(call(&fa, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), -KILN_EINVAL);
    /* ... dom0 in another domain's, for a guest it builds. */
    op = (struct kiln_evtchn_op){ .dom = 2, .remote_dom = KILN_DOMID_SELF };
    assert_int_equal(call(&f0, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), 0);
    struct evtchn *c = evtchn_lookup(&fb.d, op.port);
    assert_non_null(c);
    assert_int_equal(c->remote_dom, 0);
    op.dom = 9;
    assert_int_equal(call(&f0, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), -KILN_ESRCH);
    fb.d.state = KILN_DOMSTATE_DYING;
    op.dom = 2;
    assert_int_equal(call(&f0, KILN_EVTCHNOP_STATUS, &op), -KILN_ESRCH);
    fb.d.state = KILN_DOMSTATE_RUNNING;
    /* Limits: privileged callers only, for others. */
    op = (struct kiln_evtchn_op){ .dom = KILN_DOMID_SELF, .limit = 100000 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_SET_LIMIT, &op), -KILN_EPERM);
    op.dom = 1;
    assert_int_equal(call(&f0, KILN_EVTCHNOP_SET_LIMIT, &op), 0);
    assert_int_equal(fa.d.evtchn->limit, 100000);
    /* Status: any port of one's own, a privileged caller any domain's. */
    op = (struct kiln_evtchn_op){ .dom = KILN_DOMID_SELF, .port = 1 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_STATUS, &op), 0);
    assert_int_equal(op.state, KILN_EVTCHN_STATE_UNBOUND);
    assert_int_equal(op.remote_dom, 2);
    op.port = 50;
    assert_int_equal(call(&fa, KILN_EVTCHNOP_STATUS, &op), 0);
    assert_int_equal(op.state, KILN_EVTCHN_STATE_FREE);
    op.port = 0;
    assert_int_equal(call(&fa, KILN_EVTCHNOP_STATUS, &op), -KILN_EINVAL);
    op = (struct kiln_evtchn_op){ .dom = 2, .port = 1 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_STATUS, &op), -KILN_EPERM);
    assert_int_equal(call(&f0, KILN_EVTCHNOP_STATUS, &op), 0);
    assert_int_equal(op.state, KILN_EVTCHN_STATE_UNBOUND);
    assert_int_equal(op.remote_dom, 0);
}

static void test_priority_vcpu_and_upcall(void **state)
{
    (void)state;
    struct kiln_evtchn_op op = { .vcpu = 1, .vector = 0x51, .control_gpa = 0x1000 };
    assert_int_equal(call(&fb, KILN_EVTCHNOP_INIT_CONTROL, &op), 0);
    op = (struct kiln_evtchn_op){ .array_gpa = 0x2000 };
    assert_int_equal(call(&fb, KILN_EVTCHNOP_EXPAND_ARRAY, &op), 1024);
    op = (struct kiln_evtchn_op){ .dom = KILN_DOMID_SELF, .remote_dom = 2 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_ALLOC_UNBOUND, &op), 0);
    u32 pa = op.port;
    op = (struct kiln_evtchn_op){ .remote_dom = 1, .remote_port = pa };
    assert_int_equal(call(&fb, KILN_EVTCHNOP_BIND_INTERDOMAIN, &op), 0);
    u32 pb = op.port;
    op = (struct kiln_evtchn_op){ .port = pb, .priority = 16 };
    assert_int_equal(call(&fb, KILN_EVTCHNOP_SET_PRIORITY, &op), -KILN_EINVAL);
    op.priority = 3;
    assert_int_equal(call(&fb, KILN_EVTCHNOP_SET_PRIORITY, &op), 0);
    op.vcpu = 2;
    assert_int_equal(call(&fb, KILN_EVTCHNOP_BIND_VCPU, &op), -KILN_EINVAL);
    op.vcpu = 1;
    assert_int_equal(call(&fb, KILN_EVTCHNOP_BIND_VCPU, &op), 0);
    op.port = 77;
    assert_int_equal(call(&fb, KILN_EVTCHNOP_SET_PRIORITY, &op), -KILN_EINVAL);
    /* A send from dom 1 lands in vCPU 1's queue 3 and raises its vector. */
    upcalls = 0;
    op = (struct kiln_evtchn_op){ .port = pa };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_SEND, &op), 0);
    struct kiln_evtchn_control *ctl = (struct kiln_evtchn_control *)(fb.ram + 0x1000);
    assert_int_equal(ctl->ready, 1u << 3);
    assert_int_equal(ctl->head[3], pb);
    assert_int_equal(upcalls, 1);
    assert_int_equal(upcall_vcpu, 1);
    assert_int_equal(upcall_vector, 0x51);
    /* Unmask and close through the hypercall. */
    op = (struct kiln_evtchn_op){ .port = pb };
    assert_int_equal(call(&fb, KILN_EVTCHNOP_UNMASK, &op), 0);
    assert_int_equal(call(&fb, KILN_EVTCHNOP_CLOSE, &op), 0);
    assert_int_equal(call(&fb, KILN_EVTCHNOP_CLOSE, &op), -KILN_EINVAL);
}

static unsigned int consumer_calls;
static void k_notify(struct domain *d, u32 port, u32 ctx)
{
    (void)d;
    (void)port;
    (void)ctx;
    consumer_calls++;
}
static const struct evtchn_consumer kcons = { k_notify, NULL };

static void test_consumer_ports_out_of_reach(void **state)
{
    (void)state;
    u32 hp;
    int id = evtchn_consumer_register(&kcons);
    assert_int_equal(evtchn_alloc_consumer(&fa.d, 0, id, 0, &hp), 0);
    struct kiln_evtchn_op op = { .port = hp, .priority = 1, .vcpu = 1 };
    assert_int_equal(call(&fa, KILN_EVTCHNOP_SEND, &op), -KILN_EPERM);
    assert_int_equal(call(&fa, KILN_EVTCHNOP_CLOSE, &op), -KILN_EPERM);
    assert_int_equal(call(&fa, KILN_EVTCHNOP_SET_PRIORITY, &op), -KILN_EPERM);
    assert_int_equal(call(&fa, KILN_EVTCHNOP_BIND_VCPU, &op), -KILN_EPERM);
    assert_non_null(evtchn_lookup(&fa.d, hp));
    /* Its server (dom0) reaches it. */
    op = (struct kiln_evtchn_op){ .remote_dom = 1, .remote_port = hp };
    assert_int_equal(call(&f0, KILN_EVTCHNOP_BIND_INTERDOMAIN, &op), 0);
    consumer_calls = 0;
    assert_int_equal(call(&f0, KILN_EVTCHNOP_SEND, &op), 0);
    assert_int_equal(consumer_calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_copy_and_version, setup, teardown),
        cmocka_unit_test_setup_teardown(test_who_names_whom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priority_vcpu_and_upcall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_ports_out_of_reach, setup, teardown),
    };
    return cmocka_run_group_tests_name("evtchn_hypercall", tests, NULL, NULL);
}
