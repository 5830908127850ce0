/*
 * evdom0.c - the guest of the dom0-evtchn scenario, started by a dom0
 * process (toolstack/tests/on-kiln/evtchn.c) with `kl`'s builder: dom0
 * gave it port 1 (connected to a descriptor of that process) and serves
 * its MMIO page at 0xd0000000 as its I/O server.  It plays ping-pong with
 * dom0 over the channel, then uses dom0's device: a register that gives
 * back what was written to it, through reads, writes and a read-modify-
 * write, each answered by the dom0 process.  Its last read is never
 * answered: the dom0 process exits instead, and the hypervisor must crash
 * this domain (its server is gone).
 */
#include "kt_evtchn.h"

#define PINGS 100
#define MMIO  0xd0000000ul
#define MS    1000000ull

static struct kt_evtchn ev;
static struct kiln_evtchn_op op __attribute__((aligned(64)));

static s64 send(void)
{
    kt_memset(&op, 0, sizeof(op));
    op.port = 1;
    return kt_evtchn_op(KILN_EVTCHNOP_SEND, &op);
}

void kt_main(void)
{
    kt_plan(6);
    kt_ok(kt_evtchn_init(&ev, 0x40) == 0, "control block and event array registered");
    kt_memset(&op, 0, sizeof(op));
    op.dom = KILN_DOMID_SELF;
    op.port = 1;
    s64 rc = kt_evtchn_op(KILN_EVTCHNOP_STATUS, &op);
    kt_ok(rc == 0 && op.state == KILN_EVTCHN_STATE_INTERDOMAIN && op.remote_dom == 0,
          "port 1 connected to dom0 (port %u)", op.remote_port);
    kt_ok(kt_evtchn_wait(&ev, 1, 30000 * MS), "dom0's process says it is ready");
    unsigned int n = 0;
    while (n < PINGS && send() == 0 && kt_evtchn_wait(&ev, 1, 5000 * MS))
        n++;
    kt_ok(n == PINGS, "%u of %u round trips with a dom0 process", n, PINGS);

    volatile u32 *reg = (volatile u32 *)MMIO;
    u32 id = reg[0];                                          /* read-only id */
    reg[1] = 0x600dcafe;                                      /* the echo register */
    u32 back = reg[1];
    __asm__ __volatile__("orl $0x11, %0" : "+m"(reg[1]));     /* read, then write */
    u32 ored = reg[1];
    kt_ok(id == 0x4b494c4e, "dom0's device id read through MMIO (0x%x)", id);
    kt_ok(back == 0x600dcafe && ored == 0x600dcaff,
          "dom0's register keeps what the guest wrote (0x%x, then 0x%x)", back, ored);
    send();                                                   /* "done" */
    (void)reg[2];   /* never answered: dom0's process exits */
    kt_printf("# still running after the server died\n");
}
