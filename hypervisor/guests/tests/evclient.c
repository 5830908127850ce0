/*
 * evclient.c - a domU served by the evserve guest (d1), run as d2, d3 and
 * d4 of the evtchn-ioreq scenario: it registers its event array, waits
 * for the channel d1 binds to its port 1 and for d1's "ready" event, plays
 * ping-pong over it (each round trip timed), then touches the MMIO page
 * and the ports d1 serves: a read, a write, a read-modify-write and port
 * I/O, each answered by d1 with 0x1000 + the request's sequence number.
 * d3's server never answers and d4's closes its channel: those two are
 * crashed by the hypervisor in the middle of their first MMIO read.
 */
#include "kt_evtchn.h"

#define SERVER   1
#define PINGS    200
#define MMIO     0xd0000000ul
#define PIO      0x700
#define MS       1000000ull

static struct kt_evtchn ev;
static struct kiln_evtchn_op op __attribute__((aligned(64)));

static s64 status(u32 port)
{
    kt_memset(&op, 0, sizeof(op));
    op.dom = KILN_DOMID_SELF;
    op.port = port;
    s64 rc = kt_evtchn_op(KILN_EVTCHNOP_STATUS, &op);
    return rc ? rc : (s64)op.state;
}

static s64 send(u32 port)
{
    kt_memset(&op, 0, sizeof(op));
    op.port = port;
    return kt_evtchn_op(KILN_EVTCHNOP_SEND, &op);
}

void kt_main(void)
{
    kt_plan(9);
    kt_ok(kt_evtchn_op(KILN_EVTCHNOP_VERSION, &op) == KILN_EVTCHN_VERSION, "event channel ABI version %u",
          KILN_EVTCHN_VERSION);
    kt_ok(kt_evtchn_init(&ev, 0x40) == 0, "control block and event array registered");

    u64 until = (u64)kt_hc_time() + 20000 * MS;
    while (status(1) != KILN_EVTCHN_STATE_INTERDOMAIN && (u64)kt_hc_time() < until)
        kt_sleep_ns(MS);
    s64 st = status(1);
    kt_ok(st == KILN_EVTCHN_STATE_INTERDOMAIN && op.remote_dom == SERVER,
          "port 1 connected to d%u port %u", op.remote_dom, op.remote_port);
    kt_ok(kt_evtchn_wait(&ev, 1, 20000 * MS), "d1 says its I/O server is ready");

    u64 t0 = (u64)kt_hc_time();
    unsigned int n = 0;
    while (n < PINGS && send(1) == 0 && kt_evtchn_wait(&ev, 1, 2000 * MS))
        n++;
    u64 t1 = (u64)kt_hc_time();
    kt_ok(n == PINGS, "%u of %u event channel round trips with d1", n, PINGS);
    if (n)
        kt_diag("round trip %lu ns on average (QEMU TCG)", (unsigned long)((t1 - t0) / n));

    /* The vCPU sleeps in each access until d1 answers. */
    volatile u32 *reg = (volatile u32 *)MMIO;
    u32 a = reg[4];                                   /* seq 1: read */
    reg[8] = 0xabcd;                                  /* seq 2: write */
    __asm__ __volatile__("orl $0x80, %0" : "+m"(reg[64]));   /* seq 3 read, 4 write */
    u32 b = kt_inl(PIO);                              /* seq 5 */
    kt_outb(PIO + 1, 0x5a);                           /* seq 6 */
    u32 c = reg[4];                                   /* seq 7 */
    kt_ok(a == 0x1001 && c == 0x1007, "MMIO reads answered by d1 (0x%x, 0x%x)", a, c);
    kt_ok(b == 0x1005, "port read answered by d1 (0x%x)", b);

    /* The server's channel is not the guest's to use. */
    u32 io = 0;
    for (u32 p = 2; p < 8 && !io; p++)
        if (status(p) == KILN_EVTCHN_STATE_INTERDOMAIN)
            io = p;
    kt_ok(io && send(io) == -KILN_EPERM, "sending on the ioreq channel (port %u) is refused", io);
    kt_ok(send(1) == 0, "done: tell d1");
}
