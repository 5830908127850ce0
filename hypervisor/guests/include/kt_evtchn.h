/*
 * kt_evtchn.h - the guest's side of event channels for test guests: the
 * hypercall wrapper and a FIFO consumer that follows the protocol of
 * include/public/event_channel.h (READY taken by exchange, a private copy
 * of each queue's head, LINKED cleared atomically), bounded so that a
 * corrupted queue cannot hang a test.  One vCPU only, like the runtime.
 */
#ifndef KT_EVTCHN_H
#define KT_EVTCHN_H

#include "kt.h"
#include "../../include/public/event_channel.h"

struct kt_evtchn {
    struct kiln_evtchn_control ctl __attribute__((aligned(64)));
    u32 head[KILN_EVTCHN_PRIORITIES];
    u32 words[KILN_EVTCHN_WORDS_PER_PAGE] __attribute__((aligned(4096)));
};

static inline s64 kt_evtchn_op(u32 cmd, struct kiln_evtchn_op *op)
{
    return kt_hypercall(KILN_HC_EVTCHN_OP, cmd, (u64)(uintptr_t)op, 0, 0, 0);
}

/* Registers vCPU 0's control block and one array page (ports < 1024). */
static inline s64 kt_evtchn_init(struct kt_evtchn *e, u32 vector)
{
    static struct kiln_evtchn_op op __attribute__((aligned(64)));
    kt_memset(&op, 0, sizeof(op));
    op.vcpu = 0;
    op.vector = vector;
    op.control_gpa = (u64)(uintptr_t)&e->ctl;
    s64 rc = kt_evtchn_op(KILN_EVTCHNOP_INIT_CONTROL, &op);
    if (rc)
        return rc;
    op.array_gpa = (u64)(uintptr_t)e->words;
    rc = kt_evtchn_op(KILN_EVTCHNOP_EXPAND_ARRAY, &op);
    return rc == KILN_EVTCHN_WORDS_PER_PAGE ? 0 : (rc < 0 ? rc : -1);
}

/* Handles every queued event: calls fn(port) for each pending, unmasked
 * one, highest priority first; returns how many. */
static inline unsigned int kt_evtchn_consume(struct kt_evtchn *e, void (*fn)(u32 port))
{
    unsigned int n = 0, steps = 0;
    u32 ready = __atomic_exchange_n(&e->ctl.ready, 0, __ATOMIC_ACQ_REL);
    while (ready && steps++ < 4096) {
        unsigned int q = (unsigned int)__builtin_ctz(ready);
        u32 port = e->head[q];
        if (!port)
            port = __atomic_load_n(&e->ctl.head[q], __ATOMIC_ACQUIRE);
        if (!port || port >= KILN_EVTCHN_WORDS_PER_PAGE) {
            ready &= ~(1u << q);
            continue;
        }
        u32 old = __atomic_fetch_and(&e->words[port], ~KILN_EVTCHN_LINKED, __ATOMIC_ACQ_REL);
        u32 next = old & KILN_EVTCHN_LINK_MASK;
        e->head[q] = next;
        if (!next)
            ready &= ~(1u << q);
        if ((old & KILN_EVTCHN_PENDING) && !(old & KILN_EVTCHN_MASKED)) {
            __atomic_fetch_and(&e->words[port], ~KILN_EVTCHN_PENDING, __ATOMIC_ACQ_REL);
            fn(port);
            n++;
        }
        ready |= __atomic_exchange_n(&e->ctl.ready, 0, __ATOMIC_ACQ_REL);
    }
    return n;
}

/* kt_evtchn_wait()'s port and the events seen on it but not yet taken
 * (a guest waits on one port; events on others are dropped). */
static u32 kt_evtchn_wait_port;
static unsigned int kt_evtchn_waiting;

static inline void kt_evtchn_count(u32 port)
{
    if (port == kt_evtchn_wait_port)
        kt_evtchn_waiting++;
}

/* Waits up to timeout_ns for one event on port, asleep in between: the
 * upcall (without a vLAPIC, a wake-up) ends the sleep, and the 2 ms
 * deadline covers an event that lands between the check and the sleep.
 * Returns whether an event came; each event is taken once. */
static inline bool kt_evtchn_wait(struct kt_evtchn *e, u32 port, u64 timeout_ns)
{
    const u64 tick = 2000000;
    u64 until = (u64)kt_hc_time() + timeout_ns;
    kt_evtchn_wait_port = port;
    for (;;) {
        kt_evtchn_consume(e, kt_evtchn_count);
        if (kt_evtchn_waiting) {
            kt_evtchn_waiting--;
            return true;
        }
        u64 now = (u64)kt_hc_time();
        if (now >= until)
            return false;
        kt_hc_block(now + tick < until ? now + tick : until);
    }
}

#endif
