/*
 * ioreq.c - a domU's device accesses served by a process in dom0
 * (include/public/ioreq.h is the contract, ioreq_proto.c the slot
 * protocol): the server of a domain, its ranges as one more kind of MMIO
 * region (mmio.c) and port handler, and the vCPU sleeping in the
 * scheduler until the answer.
 *
 * A forwarded access cannot finish inside the exit that made it, so the
 * instruction is abandoned (HVM_MMIO_RETRY: nothing written back, RIP on
 * it) and the vCPU blocks with the server's timeout as its deadline.
 * When it runs again it executes the instruction again; this time the
 * access finds its answer.  An instruction may make several forwarded
 * accesses (a read-modify-write, MOVS between two devices): the answered
 * ones are kept, in order, and given back on each new attempt without
 * asking the server twice, until the emulation of that instruction ends
 * (the vCPU's mmio_insns count moves on).
 *
 * Every decision is taken under domlist_lock, the lock under which the
 * server's notifications arrive (event channel consumer), so an answer
 * can never slip between "not answered yet" and the vCPU blocking.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/hvm.h>
#include <kiln/hvm_mmio.h>
#include <kiln/hypercall.h>
#include <kiln/ioreq.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>

struct ioreq_vcpu {
    struct ioreq_proto p;
    u32 port;                       /* its channel in the served domain */
    u64 insn;                       /* v->mmio_insns the record belongs to */
    unsigned int nr_done, pos;      /* answered accesses; next one to give back */
    struct ioreq_access done[IOREQ_REPLAY_MAX];
};

struct ioreq_server {
    u16 server;                     /* the serving domain */
    u64 timeout_ns;
    struct kiln_ioreq *page;        /* in the served domain's RAM */
    unsigned int nr_ports;          /* published last */
    struct { u16 first; u32 count; } ports[KILN_IOREQ_MAX_PORT_RANGES];
    unsigned int order, nr_vcpus;
    struct ioreq_vcpu vcpu[];
};

BUILD_BUG_ON(sizeof(struct kiln_ioreq) != 64);
BUILD_BUG_ON(KILN_IOREQ_MAX_VCPUS < KILN_MAX_VCPUS);

static int consumer_id;

/* ---- the server's notifications (under domlist_lock) --------------------- */

static void on_notify(struct domain *d, u32 port, u32 vcpu)
{
    struct ioreq_server *s = d->ioreq;
    (void)port;
    if (!s || vcpu >= s->nr_vcpus)
        return;
    struct ioreq_vcpu *iv = &s->vcpu[vcpu];
    char why[96];
    switch (ioreq_proto_answer(&iv->p, &s->page[vcpu])) {
    case IOREQ_COMPLETED:
        vcpu_wake(d->vcpus[vcpu]);
        break;
    case IOREQ_BAD_SEQ:
        ksnprintf(why, sizeof(why), "its ioreq server d%u answered v%u with a wrong sequence number",
                  s->server, vcpu);
        domain_kill(d, KILN_SHUTDOWN_CRASH, why);
        break;
    case IOREQ_IGNORED:
        break;
    }
}

static void on_peer_closed(struct domain *d, u32 port, u32 vcpu)
{
    char why[96];
    (void)port;
    ksnprintf(why, sizeof(why), "its ioreq server d%u closed v%u's channel (server gone)",
              d->ioreq ? d->ioreq->server : 0, vcpu);
    domain_kill(d, KILN_SHUTDOWN_CRASH, why);
}

static const struct evtchn_consumer ioreq_consumer = { on_notify, on_peer_closed };

/* ---- forwarding an access ------------------------------------------------- */

static bool same_access(const struct ioreq_access *a, const struct ioreq_access *b)
{
    return a->addr == b->addr && a->size == b->size && a->dir == b->dir && a->type == b->type &&
           (a->dir == KILN_IOREQ_READ || a->data == b->data);
}

/*
 * Returns 0 with *data when a's answer is there, or HVM_MMIO_RETRY when
 * the vCPU now waits for it or its domain was crashed.  replay: a's
 * instruction may be emulated again (MMIO), keep its answers.
 */
static int forward(struct vcpu *v, const struct ioreq_access *a, bool replay, u64 *data)
{
    struct domain *d = v->domain;
    const char *why = NULL;
    bool block = false;
    int rc = HVM_MMIO_RETRY, err;
    char buf[128];

    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    struct ioreq_server *s = d->ioreq;
    if (!s || d->state == KILN_DOMSTATE_DYING || v->id >= s->nr_vcpus)
        goto out;
    struct ioreq_vcpu *iv = &s->vcpu[v->id];
    if (replay) {
        if (iv->insn != v->mmio_insns) {
            iv->insn = v->mmio_insns;
            iv->nr_done = iv->pos = 0;
        }
        if (iv->pos < iv->nr_done) {
            const struct ioreq_access *r = &iv->done[iv->pos++];
            if (same_access(r, a)) {
                *data = r->data;
                rc = 0;
            } else {
                why = "its instruction changed while a forwarded access waited";
            }
            goto out;
        }
    }
    if (ioreq_proto_take(&iv->p, a, data, &err)) {
        rc = 0;
        if (replay) {
            if (iv->nr_done == IOREQ_REPLAY_MAX) {
                why = "more forwarded accesses in one instruction than the hypervisor keeps";
                rc = HVM_MMIO_RETRY;
                goto out;
            }
            iv->done[iv->nr_done] = *a;
            iv->done[iv->nr_done++].data = *data;
            iv->pos++;
        }
        goto out;
    }
    if (err) {
        why = "its instruction changed while a forwarded access waited";
        goto out;
    }
    u64 now = now_ns();
    if (iv->p.state == IOREQ_WAITING) {
        if (ioreq_proto_timed_out(&iv->p, now)) {
            ksnprintf(buf, sizeof(buf), "its ioreq server d%u did not answer within %lu ms",
                      s->server, (unsigned long)(s->timeout_ns / 1000000));
            why = buf;
            goto out;
        }
    } else {
        ioreq_proto_post(&iv->p, &s->page[v->id], a, now, s->timeout_ns);
        evtchn_send(d, iv->port);
    }
    iv->pos = 0;   /* the next attempt starts the instruction again */
    /* The caller raises the scheduler once the lock is dropped; a deadline
     * already past leaves the vCPU running into its timeout. */
    block = vcpu_block_locked(v, iv->p.deadline);
out:
    if (why)
        domain_kill(d, KILN_SHUTDOWN_CRASH, why);
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (block)
        vcpu_sched_raise();
    return rc;
}

static int mmio_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)dev;
    struct ioreq_access a = { .addr = gpa, .size = (u8)size, .dir = KILN_IOREQ_READ,
                              .type = KILN_IOREQ_MMIO };
    return forward(v, &a, true, val);
}

static int mmio_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)dev;
    u64 ignored;
    struct ioreq_access a = { .addr = gpa, .data = val, .size = (u8)size,
                              .dir = KILN_IOREQ_WRITE, .type = KILN_IOREQ_MMIO };
    return forward(v, &a, true, &ignored);
}

static const struct hvm_mmio_ops ioreq_mmio_ops = { mmio_read, mmio_write, NULL };

bool hvm_ioreq_port_claimed(struct domain *d, u16 port)
{
    const struct ioreq_server *s = d->ioreq;
    if (!s)
        return false;
    unsigned int n = __atomic_load_n(&s->nr_ports, __ATOMIC_ACQUIRE);
    for (unsigned int i = 0; i < n; i++)
        if (port >= s->ports[i].first && (u32)(port - s->ports[i].first) < s->ports[i].count)
            return true;
    return false;
}

int hvm_ioreq_port(struct vcpu *v, u16 port, unsigned int size, bool in, u32 *val)
{
    if (!hvm_ioreq_port_claimed(v->domain, port))
        return HVM_IOREQ_NOT_MINE;
    u64 data = 0;
    struct ioreq_access a = { .addr = port, .data = in ? 0 : *val, .size = (u8)size,
                              .dir = in ? KILN_IOREQ_READ : KILN_IOREQ_WRITE,
                              .type = KILN_IOREQ_PIO };
    if (forward(v, &a, false, &data))
        return HVM_IOREQ_RETRY;
    if (in)
        *val = (u32)data;
    return HVM_IOREQ_DONE;
}

/* ---- the hypercall ---------------------------------------------------------- */

static unsigned int pages_order(size_t bytes)
{
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

static s64 create(struct domain *self, struct domain *d, const struct kiln_ioreq_op *op)
{
    if (d->ioreq)
        return -KILN_EEXIST;
    if (!op->timeout_ms || op->timeout_ms > KILN_IOREQ_TIMEOUT_MAX_MS)
        return -KILN_EINVAL;
    if (op->gfn >= d->p2m.nr_pages)
        return -KILN_EFAULT;
    struct kiln_ioreq *page = p2m_hva(d, op->gfn << PAGE_SHIFT, PAGE_SIZE);
    if (!page)
        return -KILN_EFAULT;
    if (!consumer_id) {
        int id = evtchn_consumer_register(&ioreq_consumer);
        if (id < 0)
            return id;
        consumer_id = id;
    }
    unsigned int order = pages_order(sizeof(struct ioreq_server) +
                                   d->nr_vcpus * sizeof(struct ioreq_vcpu));
    struct ioreq_server *s = alloc_pages_zeroed(order);
    if (!s)
        return -KILN_ENOMEM;
    s->order = order;
    s->nr_vcpus = d->nr_vcpus;
    s->server = self->id;
    s->timeout_ns = (u64)op->timeout_ms * 1000000;
    s->page = page;
    for (unsigned int i = 0; i < s->nr_vcpus; i++) {
        int rc = evtchn_alloc_consumer(d, self->id, consumer_id, i, &s->vcpu[i].port);
        if (rc) {
            while (i--)
                evtchn_close(d, s->vcpu[i].port);
            free_pages(s, order);
            return rc;
        }
    }
    kmemset(page, 0, PAGE_SIZE);
    for (unsigned int i = 0; i < s->nr_vcpus; i++)
        page[i].port = s->vcpu[i].port;
    d->ioreq = s;
    pr_info("d%u: ioreq server d%u, page gfn 0x%lx, timeout %u ms\n", d->id, self->id,
            (unsigned long)op->gfn, op->timeout_ms);
    return 0;
}

static s64 map_range(struct domain *d, const struct kiln_ioreq_op *op)
{
    struct ioreq_server *s = d->ioreq;
    if (!s)
        return -KILN_ENOENT;
    if (op->type == KILN_IOREQ_MMIO) {
        if (!op->size || ((op->start | op->size) & (PAGE_SIZE - 1)))
            return -KILN_EINVAL;
        return hvm_mmio_register(d, op->start, op->size, &ioreq_mmio_ops, s);
    }
    if (op->type != KILN_IOREQ_PIO || !op->size || op->start >= 0x10000 ||
        op->size > 0x10000 - op->start)
        return -KILN_EINVAL;
    for (unsigned int i = 0; i < s->nr_ports; i++)
        if (op->start < (u64)s->ports[i].first + s->ports[i].count &&
            s->ports[i].first < op->start + op->size)
            return -KILN_EEXIST;
    if (s->nr_ports == KILN_IOREQ_MAX_PORT_RANGES)
        return -KILN_E2BIG;
    s->ports[s->nr_ports].first = (u16)op->start;
    s->ports[s->nr_ports].count = (u32)op->size;
    /* vCPUs look ranges up without the lock: the entry first. */
    __atomic_store_n(&s->nr_ports, s->nr_ports + 1, __ATOMIC_RELEASE);
    return 0;
}

static s64 op_locked(struct vcpu *v, u64 cmd, void *arg)
{
    struct kiln_ioreq_op *op = arg;
    struct domain *self = v->domain;
    struct domain *d = op->dom < KILN_DOMID_SELF ? domain_find((u16)op->dom) : NULL;
    if (!d || d->state == KILN_DOMSTATE_DYING)
        return -KILN_ESRCH;
    if (d == self || d->hardware)
        return -KILN_EPERM;
    switch (cmd) {
    case KILN_IOREQ_OP_CREATE:
        return create(self, d, op);
    case KILN_IOREQ_OP_VCPU_PORT:
        if (!d->ioreq)
            return -KILN_ENOENT;
        if (op->vcpu >= d->ioreq->nr_vcpus)
            return -KILN_EINVAL;
        op->port = d->ioreq->vcpu[op->vcpu].port;
        return 0;
    case KILN_IOREQ_OP_MAP_RANGE:
        return map_range(d, op);
    default:
        return -KILN_ENOSYS;
    }
}

s64 hypercall_ioreq_op(struct vcpu *v, u64 cmd, u64 gpa)
{
    struct kiln_ioreq_op op;

    if (!(v->domain->flags & KILN_CPUID_F_PRIVILEGED))
        return -KILN_EPERM;
    if (cmd == KILN_IOREQ_OP_VERSION)
        return KILN_IOREQ_VERSION;
    return hypercall_struct_op(v, cmd, gpa, &op, sizeof(op), op_locked);
}

void ioreq_domain_destroy(struct domain *d)
{
    struct ioreq_server *s = d->ioreq;
    if (!s)
        return;
    d->ioreq = NULL;
    free_pages(s, s->order);
}
