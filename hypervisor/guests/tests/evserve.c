/*
 * evserve.c - the privileged server of the evtchn-ioreq scenario (d1): for
 * each client d2..d4 it allocates the client's port 1 and binds it, becomes
 * the client's I/O server (ioreq page at gfn IOREQ_GFN, an MMIO page and
 * four ports), binds the client's vCPU 0 ioreq channel, and says "ready".
 * Then it echoes every ping and serves d2's device accesses.  It cannot
 * read d2's memory (only dom0 maps foreign pages), so it answers blind
 * through write_mem: seq n gets data 0x1000 + n, which the client checks.
 * d3's requests are never answered (timeout 300 ms) and d4's channel is
 * closed at its first request (server death): both must be crashed, alone.
 */
#include "kt_evtchn.h"
#include "../../include/public/ioreq.h"

#define NCLIENTS  3
#define IOREQ_GFN 0x300
#define MS        1000000ull

enum mode { ANSWER, SILENT, DIE };

struct client {
    u32 id;
    enum mode mode;
    u32 ping, io;         /* our ports */
    u32 seq, pings;
    bool done;
};

static struct kt_evtchn ev;
static struct kiln_evtchn_op op __attribute__((aligned(64)));
static struct kiln_ioreq_op iop __attribute__((aligned(64)));
static struct kiln_domctl dop __attribute__((aligned(256)));
static struct kiln_ioreq slot __attribute__((aligned(64)));
static struct client clients[NCLIENTS] = {
    { .id = 2, .mode = ANSWER }, { .id = 3, .mode = SILENT }, { .id = 4, .mode = DIE },
};
static bool serving;
static unsigned int answered, ignored;

static s64 ioreq(u32 cmd)
{
    return kt_hypercall(KILN_HC_IOREQ_OP, cmd, (u64)(uintptr_t)&iop, 0, 0, 0);
}

static s64 evop(u32 cmd, u32 dom, u32 remote_dom, u32 port)
{
    kt_memset(&op, 0, sizeof(op));
    op.dom = dom;
    op.remote_dom = remote_dom;
    op.remote_port = port;
    op.port = port;
    return kt_evtchn_op(cmd, &op);
}

static void on_event(u32 port)
{
    if (!serving)
        return;   /* the pending state every fresh bind starts with */
    for (unsigned int i = 0; i < NCLIENTS; i++) {
        struct client *c = &clients[i];
        if (port == c->ping) {
            c->pings++;
            evop(KILN_EVTCHNOP_SEND, KILN_DOMID_SELF, 0, c->ping);
        } else if (port == c->io && c->mode == ANSWER) {
            c->seq++;
            kt_memset(&slot, 0, sizeof(slot));
            slot.seq = c->seq;
            slot.data = 0x1000 + c->seq;
            slot.state = KILN_IOREQ_STATE_DONE;
            if (kt_write_mem(&dop, c->id, (u64)IOREQ_GFN << 12, &slot, sizeof(slot)) == 0 &&
                evop(KILN_EVTCHNOP_SEND, KILN_DOMID_SELF, 0, c->io) == 0)
                answered++;
        } else if (port == c->io && c->mode == DIE && c->io) {
            evop(KILN_EVTCHNOP_CLOSE, KILN_DOMID_SELF, 0, c->io);
            c->io = 0;
        } else if (port == c->io) {
            ignored++;
        }
    }
}

static s64 setup(struct client *c)
{
    s64 rc;
    u64 until = (u64)kt_hc_time() + 5000 * MS;
    /* The client's port 1, waiting for us; retried until it exists. */
    while ((rc = evop(KILN_EVTCHNOP_ALLOC_UNBOUND, c->id, KILN_DOMID_SELF, 0)) == -KILN_ESRCH &&
           (u64)kt_hc_time() < until)
        kt_sleep_ns(MS);
    if (rc || op.port != 1)
        return rc ? rc : -1000;
    if ((rc = evop(KILN_EVTCHNOP_BIND_INTERDOMAIN, KILN_DOMID_SELF, c->id, 1)))
        return rc;
    c->ping = op.port;
    kt_memset(&iop, 0, sizeof(iop));
    iop.dom = c->id;
    iop.gfn = IOREQ_GFN;
    iop.timeout_ms = c->mode == SILENT ? 300 : 5000;
    if ((rc = ioreq(KILN_IOREQ_OP_CREATE)))
        return rc;
    iop.vcpu = 0;
    if ((rc = ioreq(KILN_IOREQ_OP_VCPU_PORT)))
        return rc;
    if ((rc = evop(KILN_EVTCHNOP_BIND_INTERDOMAIN, KILN_DOMID_SELF, c->id, iop.port)))
        return rc;
    c->io = op.port;
    iop.type = KILN_IOREQ_MMIO;
    iop.start = 0xd0000000;
    iop.size = 0x1000;
    if ((rc = ioreq(KILN_IOREQ_OP_MAP_RANGE)))
        return rc;
    iop.type = KILN_IOREQ_PIO;
    iop.start = 0x700;
    iop.size = 4;
    return ioreq(KILN_IOREQ_OP_MAP_RANGE);
}

/* True once the client is gone or dying. */
static bool gone(u32 id)
{
    kt_memset(&dop, 0, sizeof(dop));
    dop.cmd = KILN_DOMCTL_GETINFO;
    dop.domid = id;
    return kt_hc_domctl(&dop) != 0 || dop.domid != id || dop.u.info.state == KILN_DOMSTATE_DYING;
}

void kt_main(void)
{
    kt_plan(4 + NCLIENTS);
    kt_ok(kt_evtchn_init(&ev, 0x41) == 0, "control block and event array registered");
    for (unsigned int i = 0; i < NCLIENTS; i++) {
        s64 rc = setup(&clients[i]);
        kt_ok(rc == 0, "d%u: channel (our port %u), ioreq server (channel %u), MMIO and ports (%ld)",
              clients[i].id, clients[i].ping, clients[i].io, (long)rc);
    }
    kt_evtchn_consume(&ev, on_event);   /* drop what the binds left pending */
    serving = true;
    for (unsigned int i = 0; i < NCLIENTS; i++)
        evop(KILN_EVTCHNOP_SEND, KILN_DOMID_SELF, 0, clients[i].ping);

    u64 until = (u64)kt_hc_time() + 60000 * MS;
    unsigned int left = NCLIENTS;
    while (left && (u64)kt_hc_time() < until) {
        kt_evtchn_consume(&ev, on_event);
        left = 0;
        for (unsigned int i = 0; i < NCLIENTS; i++)
            if (!(clients[i].done = clients[i].done || gone(clients[i].id)))
                left++;
        if (left)
            kt_hc_block((u64)kt_hc_time() + 2 * MS);   /* an upcall ends it sooner */
    }
    kt_ok(left == 0, "every client gone");
    kt_ok(answered == 7, "d2's 7 device accesses answered (%u)", answered);
    kt_ok(clients[0].pings >= 201 && clients[1].pings >= 200 && clients[2].pings >= 200,
          "pings echoed: d2 %u, d3 %u, d4 %u", clients[0].pings, clients[1].pings,
          clients[2].pings);
}
