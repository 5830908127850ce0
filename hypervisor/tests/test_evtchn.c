/*
 * test_evtchn.c - unit tests of event channels (common/event/evtchn_table.c
 * and evtchn_fifo.c): binding, sending and closing between domains, FIFO
 * delivery by priority and in order, masking, the per-domain and host-wide
 * limits, closing while pending, a guest that corrupts its own event
 * array, events that arrive before the array, hypervisor consumers, and a
 * domain's death closing its channels for the peers.
 *
 * Guest memory is a buffer per fake domain; the guest's side of the FIFO
 * protocol (event_channel.h) is played by consume() below, bounded so a
 * corrupted queue cannot hang the test either.
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

#define RAM_PAGES 160u
#define CTL_GPA(v) (0x1000u + (v) * 128u)    /* control blocks in page 1 */
#define ARRAY_GPA(i) ((u64)(16u + (i)) * PAGE_SIZE)

struct fake {
    struct domain d;
    struct vcpu v[2];
    u8 *ram;
};

static struct fake doms[4];
static long pages_out;
spinlock_t domlist_lock;

void *alloc_pages_zeroed(unsigned int order)
{
    void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
    if (p) {
        memset(p, 0, PAGE_SIZE << order);
        pages_out += 1l << order;
    }
    return p;
}
void free_pages(void *p, unsigned int order)
{
    pages_out -= 1l << order;
    free(p);
}

struct domain *domain_find(u16 id)
{
    for (unsigned int i = 0; i < 4; i++)
        if (doms[i].ram && doms[i].d.id == id)
            return &doms[i].d;
    return NULL;
}

static struct fake *fake_of(struct domain *d)
{
    return (struct fake *)d;
}

void *p2m_hva(struct domain *d, u64 gpa, size_t len)
{
    if (gpa >= RAM_PAGES * PAGE_SIZE || len > PAGE_SIZE || (gpa & 4095) + len > PAGE_SIZE)
        return NULL;
    return fake_of(d)->ram + gpa;
}

static unsigned int ipis, upcalls;
static u8 last_vector;
static struct vcpu *last_vcpu;

void smp_send_ipi(unsigned int cpu, u8 vector)
{
    assert_int_equal(cpu, 0);
    ipis++;
    last_vector = vector;
}
void evtchn_upcall(struct vcpu *v, u8 vector)
{
    upcalls++;
    last_vcpu = v;
    last_vector = vector;
}

/* Domains: 0 = dom0 (hardware), 1..3 domUs with two vCPUs. */
static int setup(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < 4; i++) {
        struct fake *f = &doms[i];
        free(f->ram);
        memset(f, 0, sizeof(*f));
        f->d.id = (u16)i;
        f->d.state = KILN_DOMSTATE_RUNNING;
        f->d.hardware = i == 0;
        f->d.nr_vcpus = i == 0 ? 1 : 2;
        for (unsigned int v = 0; v < f->d.nr_vcpus; v++) {
            f->v[v].domain = &f->d;
            f->v[v].id = v;
            f->d.vcpus[v] = &f->v[v];
        }
        f->ram = aligned_alloc(PAGE_SIZE, RAM_PAGES * PAGE_SIZE);
        memset(f->ram, 0, RAM_PAGES * PAGE_SIZE);
    }
    host_used = 0;
    ipis = upcalls = 0;
    pages_out = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < 4; i++)
        evtchn_domain_destroy(&doms[i].d);
    assert_int_equal(host_used, 0);
    assert_int_equal(pages_out, 0);
    return 0;
}

/* The guest registers a control block per vCPU and `pages` array pages. */
static void guest_init(unsigned int dom, unsigned int pages)
{
    struct domain *d = &doms[dom].d;
    for (unsigned int v = 0; v < d->nr_vcpus; v++)
        assert_int_equal(evtchn_fifo_init_control(d, v, CTL_GPA(v), 0x40 + v), 0);
    for (unsigned int i = 0; i < pages; i++)
        assert_int_equal(evtchn_fifo_expand_array(d, ARRAY_GPA(i)),
                         (int)((i + 1) * KILN_EVTCHN_WORDS_PER_PAGE));
}

static struct kiln_evtchn_control *ctl(unsigned int dom, unsigned int v)
{
    return (struct kiln_evtchn_control *)(doms[dom].ram + CTL_GPA(v));
}

static u32 *word(unsigned int dom, u32 port)
{
    return (u32 *)(doms[dom].ram + ARRAY_GPA(port / 1024)) + port % 1024;
}

/* The guest's consumer (event_channel.h): fills out[] with the ports it
 * handles, highest priority first, at most max of them. */
static u32 local_head[4][2][16];
static unsigned int consume(unsigned int dom, unsigned int v, u32 *out, unsigned int max)
{
    struct kiln_evtchn_control *c = ctl(dom, v);
    unsigned int n = 0, steps = 0;
    u32 ready = __atomic_exchange_n(&c->ready, 0, __ATOMIC_ACQ_REL);
    while (ready && steps++ < 4 * max + 64) {
        unsigned int q = (unsigned int)__builtin_ctz(ready);
        u32 port = local_head[dom][v][q];
        if (!port)
            port = __atomic_load_n(&c->head[q], __ATOMIC_ACQUIRE);
        if (!port || port >= KILN_EVTCHN_MAX_PORTS || port / 1024 >= 128) {
            ready &= ~(1u << q);
            continue;
        }
        u32 old = __atomic_fetch_and(word(dom, port), ~KILN_EVTCHN_LINKED, __ATOMIC_ACQ_REL);
        u32 next = old & KILN_EVTCHN_LINK_MASK;
        if (!next)
            ready &= ~(1u << q);
        local_head[dom][v][q] = next;
        if ((old & KILN_EVTCHN_PENDING) && !(old & KILN_EVTCHN_MASKED)) {
            __atomic_fetch_and(word(dom, port), ~KILN_EVTCHN_PENDING, __ATOMIC_ACQ_REL);
            if (n < max)
                out[n++] = port;
        }
        ready |= __atomic_exchange_n(&c->ready, 0, __ATOMIC_ACQ_REL);
    }
    return n;
}

/* A channel dom a port <-> dom b port. */
static void connect(unsigned int a, u32 *pa, unsigned int b, u32 *pb)
{
    assert_int_equal(evtchn_alloc_unbound(&doms[a].d, (u16)b, pa), 0);
    assert_int_equal(evtchn_bind_interdomain(&doms[b].d, (u16)a, *pa, pb), 0);
}

static void test_bind_send_close(void **state)
{
    (void)state;
    u32 pa, pb, out[8];
    guest_init(1, 1);
    guest_init(2, 1);
    assert_int_equal(evtchn_alloc_unbound(&doms[1].d, 2, &pa), 0);
    assert_int_equal(pa, 1);
    struct evtchn *c = evtchn_lookup(&doms[1].d, pa);
    assert_int_equal(c->state, KILN_EVTCHN_STATE_UNBOUND);
    assert_int_equal(c->remote_dom, 2);
    /* Only the named domain may bind, only an unbound port. */
    assert_int_equal(evtchn_bind_interdomain(&doms[3].d, 1, pa, &pb), -KILN_EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 1, pa + 1, &pb), -KILN_EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 9, pa, &pb), -KILN_ESRCH);
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 1, pa, &pb), 0);
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 1, pa, &pb), -KILN_EINVAL);
    assert_int_equal(c->state, KILN_EVTCHN_STATE_INTERDOMAIN);
    assert_int_equal(c->remote_port, pb);
    /* The new port starts pending (an event sent before the bind). */
    assert_int_equal(consume(2, 0, out, 8), 1);
    assert_int_equal(out[0], pb);

    upcalls = 0;
    assert_int_equal(evtchn_send(&doms[1].d, pa), 0);
    assert_int_equal(upcalls, 1);
    assert_ptr_equal(last_vcpu, &doms[2].v[0]);
    assert_int_equal(last_vector, 0x40);
    assert_int_equal(consume(2, 0, out, 8), 1);
    assert_int_equal(out[0], pb);
    assert_int_equal(consume(2, 0, out, 8), 0);
    assert_int_equal(evtchn_send(&doms[2].d, pb), 0);
    assert_int_equal(consume(1, 0, out, 8), 1);
    assert_int_equal(out[0], pa);

    /* Two sends before the guest looks: one event (the word is linked). */
    evtchn_send(&doms[1].d, pa);
    evtchn_send(&doms[1].d, pa);
    assert_int_equal(consume(2, 0, out, 8), 1);

    /* Close: the peer's port goes unbound (allowing us again), pending. */
    assert_int_equal(evtchn_close(&doms[2].d, pb), 0);
    assert_null(evtchn_lookup(&doms[2].d, pb));
    assert_int_equal(c->state, KILN_EVTCHN_STATE_UNBOUND);
    assert_int_equal(c->remote_dom, 2);
    assert_int_equal(consume(1, 0, out, 8), 1);
    assert_int_equal(out[0], pa);
    assert_int_equal(evtchn_send(&doms[2].d, pb), -KILN_EINVAL);
    assert_int_equal(evtchn_close(&doms[2].d, pb), -KILN_EINVAL);
    assert_int_equal(evtchn_send(&doms[1].d, pa), 0);   /* unbound: nothing */
    assert_int_equal(consume(2, 0, out, 8), 0);
    /* A restarted peer binds again and gets the lowest free port back. */
    u32 pb2;
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 1, pa, &pb2), 0);
    assert_int_equal(pb2, pb);
    assert_int_equal(evtchn_send(&doms[0].d, 0), -KILN_EINVAL);
    assert_int_equal(evtchn_send(&doms[1].d, KILN_EVTCHN_MAX_PORTS + 5), -KILN_EINVAL);
}

static void test_loopback_and_dom0_upcall(void **state)
{
    (void)state;
    u32 p1, p2, out[4];
    guest_init(0, 1);
    /* A domain may connect two of its own ports. */
    assert_int_equal(evtchn_alloc_unbound(&doms[0].d, 0, &p1), 0);
    assert_int_equal(evtchn_bind_interdomain(&doms[0].d, 0, p1, &p2), 0);
    ipis = 0;
    consume(0, 0, out, 4);
    assert_int_equal(evtchn_send(&doms[0].d, p1), 0);
    /* dom0's upcall is an IPI to CPU 0 with its vector, not the glue's. */
    assert_int_equal(ipis, 1);
    assert_int_equal(last_vector, 0x40);
    assert_int_equal(consume(0, 0, out, 4), 1);
    assert_int_equal(out[0], p2);
}

static void test_polling_vcpu(void **state)
{
    (void)state;
    u32 a, b, out[4];
    guest_init(1, 1);
    /* dom0's kernel module polls: no vector, no upcall, events queued. */
    assert_int_equal(evtchn_fifo_init_control(&doms[0].d, 0, CTL_GPA(0), KILN_EVTCHN_VECTOR_NONE), 0);
    assert_int_equal(evtchn_fifo_expand_array(&doms[0].d, ARRAY_GPA(0)), 1024);
    connect(1, &a, 0, &b);
    consume(0, 0, out, 4);
    ipis = upcalls = 0;
    evtchn_send(&doms[1].d, a);
    assert_int_equal(ipis + upcalls, 0);
    assert_int_equal(ctl(0, 0)->ready, 1u << KILN_EVTCHN_PRIORITY_DEFAULT);
    assert_int_equal(consume(0, 0, out, 4), 1);
    assert_int_equal(out[0], b);
}

static void test_priorities_and_order(void **state)
{
    (void)state;
    u32 a[6], b[6], out[16];
    guest_init(1, 1);
    guest_init(2, 1);
    for (unsigned int i = 0; i < 6; i++)
        connect(1, &a[i], 2, &b[i]);
    consume(2, 0, out, 16);
    /* b[0], b[1]: priority 9; b[2], b[3]: 2; b[4]: 0; b[5]: default 7. */
    evtchn_lookup(&doms[2].d, b[0])->priority = 9;
    evtchn_lookup(&doms[2].d, b[1])->priority = 9;
    evtchn_lookup(&doms[2].d, b[2])->priority = 2;
    evtchn_lookup(&doms[2].d, b[3])->priority = 2;
    evtchn_lookup(&doms[2].d, b[4])->priority = 0;
    upcalls = 0;
    const unsigned int order_sent[] = { 1, 0, 3, 5, 2, 4 };
    for (unsigned int i = 0; i < 6; i++)
        evtchn_send(&doms[1].d, a[order_sent[i]]);
    /* One upcall per queue that became ready: 9, 2, 7, 0. */
    assert_int_equal(upcalls, 4);
    assert_int_equal(ctl(2, 0)->ready, (1u << 9) | (1u << 2) | (1u << 7) | 1u);
    assert_int_equal(consume(2, 0, out, 16), 6);
    const unsigned int want[] = { 4, 3, 2, 5, 1, 0 };   /* by priority, FIFO within */
    for (unsigned int i = 0; i < 6; i++)
        assert_int_equal(out[i], b[want[i]]);
    assert_int_equal(ctl(2, 0)->ready, 0);

    /* An event appended while the guest is consuming its queue. */
    evtchn_send(&doms[1].d, a[0]);
    evtchn_send(&doms[1].d, a[1]);
    __atomic_fetch_and(word(2, b[0]), ~KILN_EVTCHN_LINKED, __ATOMIC_ACQ_REL);  /* guest took b[0] */
    upcalls = 0;
    evtchn_send(&doms[1].d, a[0]);   /* b[0] pending again: relinked after b[1] */
    assert_int_equal(*word(2, b[1]) & KILN_EVTCHN_LINK_MASK, b[0]);
    assert_int_equal(upcalls, 0);

    /* Another vCPU's queues. */
    struct evtchn *c = evtchn_lookup(&doms[2].d, b[5]);
    c->vcpu = 1;
    evtchn_send(&doms[1].d, a[5]);
    assert_ptr_equal(last_vcpu, &doms[2].v[1]);
    assert_int_equal(last_vector, 0x41);
    assert_int_equal(consume(2, 1, out, 16), 1);
    assert_int_equal(out[0], b[5]);
}

static void test_masking(void **state)
{
    (void)state;
    u32 a, b, out[4];
    guest_init(1, 1);
    guest_init(2, 1);
    connect(1, &a, 2, &b);
    consume(2, 0, out, 4);
    __atomic_fetch_or(word(2, b), KILN_EVTCHN_MASKED, __ATOMIC_ACQ_REL);
    upcalls = 0;
    evtchn_send(&doms[1].d, a);
    assert_int_equal(upcalls, 0);
    assert_int_equal(*word(2, b), KILN_EVTCHN_PENDING | KILN_EVTCHN_MASKED);
    assert_int_equal(consume(2, 0, out, 4), 0);
    /* Unmask: the guest clears MASKED, the hypervisor links what is pending. */
    __atomic_fetch_and(word(2, b), ~KILN_EVTCHN_MASKED, __ATOMIC_ACQ_REL);
    assert_int_equal(evtchn_fifo_unmask(&doms[2].d, b), 0);
    assert_int_equal(upcalls, 1);
    assert_int_equal(consume(2, 0, out, 4), 1);
    assert_int_equal(out[0], b);
    /* Unmasking a port with nothing pending links nothing. */
    assert_int_equal(evtchn_fifo_unmask(&doms[2].d, b), 0);
    assert_int_equal(upcalls, 1);
    assert_int_equal(evtchn_fifo_unmask(&doms[2].d, 77), -KILN_EINVAL);
}

static void test_domain_limit(void **state)
{
    (void)state;
    u32 p;
    struct domain *d = &doms[1].d;
    for (u32 i = 1; i < KILN_EVTCHN_DEFAULT_LIMIT; i++) {
        assert_int_equal(evtchn_alloc_unbound(d, 0, &p), 0);
        assert_int_equal(p, i);
    }
    assert_int_equal(evtchn_alloc_unbound(d, 0, &p), -KILN_ENOSPC);
    assert_int_equal(d->evtchn->used, KILN_EVTCHN_DEFAULT_LIMIT - 1);
    /* 16 bytes a port: 16 bucket pages for 4096 ports. */
    assert_int_equal(pages_out, 16 + (1 << d->evtchn->alloc_order));
    assert_int_equal(evtchn_set_limit(d, 100), -KILN_EBUSY);
    assert_int_equal(evtchn_set_limit(d, 1), -KILN_EINVAL);
    assert_int_equal(evtchn_set_limit(d, KILN_EVTCHN_MAX_PORTS + 1), -KILN_EINVAL);
    assert_int_equal(evtchn_close(d, 17), 0);
    assert_int_equal(evtchn_alloc_unbound(d, 0, &p), 0);
    assert_int_equal(p, 17);     /* the lowest free port */
    assert_int_equal(evtchn_set_limit(d, 8192), 0);
    assert_int_equal(evtchn_alloc_unbound(d, 0, &p), 0);
    assert_int_equal(p, KILN_EVTCHN_DEFAULT_LIMIT);
    for (u32 i = 4000; i <= KILN_EVTCHN_DEFAULT_LIMIT; i++)
        assert_int_equal(evtchn_close(d, i), 0);
    assert_int_equal(evtchn_set_limit(d, 4000), 0);
    assert_int_equal(evtchn_alloc_unbound(d, 0, &p), -KILN_ENOSPC);
    /* dom0's default is the most the ABI has. */
    assert_int_equal(evtchn_alloc_unbound(&doms[0].d, 1, &p), 0);
    assert_int_equal(doms[0].d.evtchn->limit, KILN_EVTCHN_MAX_PORTS);
}

static void test_host_limit(void **state)
{
    (void)state;
    u32 p;
    /* dom0 fills its whole port space: 131,071 channels ... */
    for (u32 i = 1; i < KILN_EVTCHN_MAX_PORTS; i++)
        assert_int_equal(evtchn_alloc_unbound(&doms[0].d, 1, &p), 0);
    assert_int_equal(evtchn_alloc_unbound(&doms[0].d, 1, &p), -KILN_ENOSPC);
    /* ... and other domains take the host past 131,072 up to its limit. */
    for (unsigned int i = 1; i < 4; i++)
        assert_int_equal(evtchn_set_limit(&doms[i].d, KILN_EVTCHN_MAX_PORTS), 0);
    unsigned int dom = 1;
    while (evtchn_host_used() < EVTCHN_HOST_MAX) {
        int rc = evtchn_alloc_unbound(&doms[dom].d, 0, &p);
        if (rc == -KILN_ENOSPC) {
            dom++;
            assert_true(dom < 4);
            continue;
        }
        assert_int_equal(rc, 0);
    }
    assert_true(evtchn_host_used() >= KILN_EVTCHN_HOST_MIN);
    assert_int_equal(evtchn_alloc_unbound(&doms[3].d, 0, &p), -KILN_ENOSPC);
    /* Memory: 16 bytes per port (pages of 256) plus each domain's state. */
    long state_pages = 0;
    for (unsigned int i = 0; i < 4; i++)
        state_pages += 1l << doms[i].d.evtchn->alloc_order;
    assert_true(pages_out - state_pages <= (long)(EVTCHN_HOST_MAX / EVTCHN_BUCKET_PORTS + 4));
    /* A freed port is available to any domain again. */
    assert_int_equal(evtchn_close(&doms[0].d, 5), 0);
    assert_int_equal(evtchn_alloc_unbound(&doms[3].d, 0, &p), 0);
}

static void test_close_while_pending(void **state)
{
    (void)state;
    u32 a[3], b[3], out[8];
    guest_init(1, 1);
    guest_init(2, 1);
    for (unsigned int i = 0; i < 3; i++)
        connect(1, &a[i], 2, &b[i]);
    consume(2, 0, out, 8);
    for (unsigned int i = 0; i < 3; i++)
        evtchn_send(&doms[1].d, a[i]);
    /* The sender closes the middle one, then the receiver its last one,
     * both with their events still queued. */
    assert_int_equal(evtchn_close(&doms[1].d, a[1]), 0);
    assert_int_equal(evtchn_close(&doms[2].d, b[2]), 0);
    /* The queue still ends: the guest sees what was queued. */
    unsigned int n = consume(2, 0, out, 8);
    assert_true(n >= 2 && n <= 3);
    assert_int_equal(out[0], b[0]);
    assert_int_equal(out[1], b[1]);
    /* The freed port is reused and delivers normally. */
    u32 a2, b2;
    connect(1, &a2, 2, &b2);
    assert_int_equal(b2, b[2]);
    consume(2, 0, out, 8);
    evtchn_send(&doms[1].d, a2);
    assert_int_equal(consume(2, 0, out, 8), 1);
    assert_int_equal(out[0], b2);
}

static void test_corrupted_array(void **state)
{
    (void)state;
    u32 a[3], b[3], out[8];
    guest_init(1, 1);
    guest_init(2, 1);
    for (unsigned int i = 0; i < 3; i++)
        connect(1, &a[i], 2, &b[i]);
    consume(2, 0, out, 8);
    /* A queue that loops on itself, and a tail linked to a port that does
     * not exist: the hypervisor only appends to the tail it remembers. */
    evtchn_send(&doms[1].d, a[0]);
    evtchn_send(&doms[1].d, a[1]);
    *word(2, b[1]) = KILN_EVTCHN_PENDING | KILN_EVTCHN_LINKED | b[0];
    *word(2, b[0]) = KILN_EVTCHN_PENDING | KILN_EVTCHN_LINKED | b[1];
    evtchn_send(&doms[1].d, a[2]);
    assert_int_equal(*word(2, b[1]) & KILN_EVTCHN_LINK_MASK, b[2]);
    /* Every word set: pending, masked, linked, link 0x1ffff.  Sends are
     * dropped by the guest's own masking; nothing is read from LINK. */
    for (u32 p = 0; p < 1024; p++)
        *word(2, p) = 0xffffffffu;
    ctl(2, 0)->head[7] = 0x1ffff;
    upcalls = 0;
    for (unsigned int i = 0; i < 3; i++)
        assert_int_equal(evtchn_send(&doms[1].d, a[i]), 0);
    assert_int_equal(upcalls, 0);
    /* Garbage in the control block: READY all ones, heads out of range. */
    for (unsigned int q = 0; q < 16; q++)
        ctl(2, 0)->head[q] = 0xffffffffu;
    ctl(2, 0)->ready = 0xffffffffu;
    assert_int_equal(consume(2, 0, out, 8), 0);    /* bounded, finds nothing */
    /* The guest repairs its array: delivery works again. */
    memset(word(2, 0), 0, PAGE_SIZE);
    memset(ctl(2, 0), 0, sizeof(struct kiln_evtchn_control));
    memset(local_head, 0, sizeof(local_head));
    evtchn_send(&doms[1].d, a[1]);
    assert_int_equal(consume(2, 0, out, 8), 1);
    assert_int_equal(out[0], b[1]);
    /* The other domain never noticed. */
    evtchn_send(&doms[2].d, b[0]);
    assert_int_equal(consume(1, 0, out, 8), 1);
    assert_int_equal(out[0], a[0]);
}

static void test_registration(void **state)
{
    (void)state;
    struct domain *d = &doms[1].d;
    assert_int_equal(evtchn_fifo_init_control(d, 2, CTL_GPA(0), 0x40), -KILN_EINVAL);
    assert_int_equal(evtchn_fifo_init_control(d, 0, CTL_GPA(0) + 4, 0x40), -KILN_EINVAL);
    assert_int_equal(evtchn_fifo_init_control(d, 0, CTL_GPA(0), 0x1f), -KILN_EINVAL);
    assert_int_equal(evtchn_fifo_init_control(d, 0, CTL_GPA(0), 0xf0), -KILN_EINVAL);
    assert_int_equal(evtchn_fifo_init_control(d, 0, RAM_PAGES * PAGE_SIZE, 0x40), -KILN_EFAULT);
    assert_int_equal(evtchn_fifo_init_control(d, 0, PAGE_SIZE - 8, 0x40), -KILN_EFAULT);
    assert_int_equal(evtchn_fifo_init_control(d, 0, CTL_GPA(0), 0x40), 0);
    assert_int_equal(evtchn_fifo_init_control(d, 0, CTL_GPA(1), 0x40), -KILN_EEXIST);
    assert_int_equal(evtchn_fifo_expand_array(d, ARRAY_GPA(0) + 8), -KILN_EINVAL);
    assert_int_equal(evtchn_fifo_expand_array(d, RAM_PAGES * PAGE_SIZE), -KILN_EFAULT);
    for (unsigned int i = 0; i < KILN_EVTCHN_ARRAY_PAGES; i++)
        assert_int_equal(evtchn_fifo_expand_array(d, ARRAY_GPA(i % 16)), (int)((i + 1) * 1024));
    assert_int_equal(evtchn_fifo_expand_array(d, ARRAY_GPA(0)), -KILN_E2BIG);
}

static void test_early_events(void **state)
{
    (void)state;
    u32 a, b, out[4];
    guest_init(1, 1);
    /* dom 2 has no array yet: its events wait in the hypervisor. */
    connect(1, &a, 2, &b);
    evtchn_send(&doms[1].d, a);
    assert_true(evtchn_lookup(&doms[2].d, b)->early);
    assert_int_equal(evtchn_fifo_init_control(&doms[2].d, 0, CTL_GPA(0), 0x50), 0);
    assert_int_equal(evtchn_fifo_init_control(&doms[2].d, 1, CTL_GPA(1), 0x51), 0);
    upcalls = 0;
    assert_int_equal(evtchn_fifo_expand_array(&doms[2].d, ARRAY_GPA(0)), 1024);
    assert_int_equal(upcalls, 1);
    assert_int_equal(last_vector, 0x50);
    assert_false(evtchn_lookup(&doms[2].d, b)->early);
    assert_int_equal(consume(2, 0, out, 4), 1);
    assert_int_equal(out[0], b);
}

static unsigned int notified, closed_seen;
static u32 consumer_port, consumer_ctx;
static void k_notify(struct domain *d, u32 port, u32 ctx)
{
    assert_ptr_equal(d, &doms[2].d);
    notified++;
    consumer_port = port;
    consumer_ctx = ctx;
}
static void k_closed(struct domain *d, u32 port, u32 ctx)
{
    (void)d;
    (void)ctx;
    closed_seen++;
    consumer_port = port;
}
static const struct evtchn_consumer kcons = { k_notify, k_closed };

static void test_consumer_ports(void **state)
{
    (void)state;
    u32 hp, sp, out[4];
    int id = evtchn_consumer_register(&kcons);
    assert_true(id > 0);
    assert_int_equal(evtchn_consumer_register(&kcons), id);
    guest_init(0, 1);
    guest_init(2, 1);
    /* A port of dom 2 consumed by the hypervisor, served by dom0. */
    assert_int_equal(evtchn_alloc_consumer(&doms[2].d, 0, id, 7, &hp), 0);
    assert_int_equal(evtchn_alloc_consumer(&doms[2].d, 0, 99, 7, &hp), -KILN_EINVAL);
    assert_int_equal(evtchn_bind_interdomain(&doms[0].d, 2, hp, &sp), 0);
    notified = 0;   /* the bind's own pending went to dom0's new port */
    consume(0, 0, out, 4);
    assert_int_equal(evtchn_send(&doms[0].d, sp), 0);
    assert_int_equal(notified, 1);
    assert_int_equal(consumer_port, hp);
    assert_int_equal(consumer_ctx, 7);
    /* Nothing reached dom 2's own queues. */
    assert_int_equal(consume(2, 0, out, 4), 0);
    /* The hypervisor notifies the server through the same channel. */
    assert_int_equal(evtchn_send(&doms[2].d, hp), 0);
    assert_int_equal(consume(0, 0, out, 4), 1);
    assert_int_equal(out[0], sp);
    /* The server closes (its process died): the consumer hears of it. */
    closed_seen = 0;
    assert_int_equal(evtchn_close(&doms[0].d, sp), 0);
    assert_int_equal(closed_seen, 1);
    assert_int_equal(consumer_port, hp);
}

static void test_domain_death(void **state)
{
    (void)state;
    u32 a[3], b[3], out[8], c0, c1;
    guest_init(1, 1);
    guest_init(2, 1);
    for (unsigned int i = 0; i < 3; i++)
        connect(1, &a[i], 2, &b[i]);
    connect(1, &c1, 0, &c0);
    consume(2, 0, out, 8);
    u32 before = evtchn_host_used();
    assert_int_equal(before, 8);
    /* Domain 1 dies: domain_kill marks it dying, then closes its ports. */
    doms[1].d.state = KILN_DOMSTATE_DYING;
    evtchn_domain_destroy(&doms[1].d);
    assert_null(doms[1].d.evtchn);
    assert_int_equal(evtchn_host_used(), 4);
    for (unsigned int i = 0; i < 3; i++) {
        struct evtchn *c = evtchn_lookup(&doms[2].d, b[i]);
        assert_int_equal(c->state, KILN_EVTCHN_STATE_UNBOUND);
        assert_int_equal(c->remote_dom, 1);
    }
    assert_int_equal(evtchn_lookup(&doms[0].d, c0)->state, KILN_EVTCHN_STATE_UNBOUND);
    /* The peers are told: each port pending once. */
    assert_int_equal(consume(2, 0, out, 8), 3);
    /* No channel to a dead domain can be made again, none of its own. */
    assert_int_equal(evtchn_bind_interdomain(&doms[2].d, 1, a[0], &b[0]), -KILN_ESRCH);
    assert_int_equal(evtchn_alloc_unbound(&doms[1].d, 2, &a[0]), -KILN_ESRCH);
    assert_int_equal(evtchn_send(&doms[2].d, b[0]), 0);
    evtchn_domain_destroy(&doms[1].d);   /* idempotent */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bind_send_close, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback_and_dom0_upcall, setup, teardown),
        cmocka_unit_test_setup_teardown(test_polling_vcpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_priorities_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_masking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_while_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_array, setup, teardown),
        cmocka_unit_test_setup_teardown(test_registration, setup, teardown),
        cmocka_unit_test_setup_teardown(test_early_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_consumer_ports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_death, setup, teardown),
    };
    return cmocka_run_group_tests_name("evtchn", tests, NULL, NULL);
}
