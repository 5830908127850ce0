/*
 * evtchn.h - event channels inside the hypervisor (common/event/).
 *
 * The guest-visible contract is include/public/event_channel.h.  Here:
 * the port table (evtchn_table.c), FIFO delivery into the guest's event
 * array (evtchn_fifo.c), and the hypercall (evtchn_hypercall.c).
 *
 * Locking: every operation runs under domlist_lock, the lock that already
 * pins domains (see domain.h), so a channel's two ends, in two domains,
 * never change under each other and a peer cannot be freed half-way
 * through a send.  The guest changes its event words at any time; those
 * are only touched with atomic operations.
 *
 * Memory: 16 bytes per port in pages of 256 ports (allocated when the
 * first port in them is), plus one struct evtchn_domain per domain that
 * uses channels (about 5 KiB plus 80 bytes per vCPU).
 */
#ifndef KILN_EVTCHN_H
#define KILN_EVTCHN_H

#include <kiln/types.h>
#include <public/event_channel.h>

struct domain;
struct vcpu;

/* Host-wide number of ports (all domains), at least KILN_EVTCHN_HOST_MIN. */
#define EVTCHN_HOST_MAX       (2u * KILN_EVTCHN_HOST_MIN)
#define EVTCHN_BUCKET_PORTS   256u
#define EVTCHN_NR_BUCKETS     (KILN_EVTCHN_MAX_PORTS / EVTCHN_BUCKET_PORTS)
/* Compare-and-swap attempts on one event word before the hypervisor gives
 * up on a guest that keeps changing it (the event stays pending, unlinked). */
#define EVTCHN_CAS_TRIES      16u

struct evtchn {
    u8 state;               /* KILN_EVTCHN_STATE_* */
    u8 priority;
    u8 consumer;            /* 0: the guest's queues; else evtchn_consumer id */
    u8 early;               /* sent before its event word was registered */
    u16 remote_dom;
    u16 vcpu;               /* notified vCPU */
    u32 remote_port;
    u32 consumer_ctx;
};

struct evtchn_vcpu {
    struct kiln_evtchn_control *control;   /* NULL until INIT_CONTROL */
    u32 tail[KILN_EVTCHN_PRIORITIES];      /* last port linked, 0 = none */
    u8 vector;
};

struct evtchn_domain {
    u32 limit;              /* ports 1 .. limit-1 may exist */
    u32 used;               /* ports allocated */
    u32 hint;               /* no free port below it */
    u32 array_pages;
    u32 *array[KILN_EVTCHN_ARRAY_PAGES];
    struct evtchn *bucket[EVTCHN_NR_BUCKETS];
    unsigned int nr_vcpus;
    unsigned int alloc_order;
    struct evtchn_vcpu vcpu[];
};

/*
 * A hypervisor-side consumer of a port: events sent to that port are not
 * queued in the guest's array but handed to notify(); peer_closed() is
 * called when the other end closes (its owner died, or closed it).  Both
 * run under domlist_lock and must not take it.  ioreq.c is one.
 */
struct evtchn_consumer {
    void (*notify)(struct domain *d, u32 port, u32 ctx);
    void (*peer_closed)(struct domain *d, u32 port, u32 ctx);
};

/* ---- evtchn_table.c ---------------------------------------------------- */

/* Ports in use on the whole host. */
u32 evtchn_host_used(void);
/* Registers a consumer (at most 4; the same one again returns its id):
 * its id (>0) or -KILN_E2BIG. */
int evtchn_consumer_register(const struct evtchn_consumer *c);
/* The domain's state, allocated on first use: NULL on -KILN_ENOMEM. */
struct evtchn_domain *evtchn_domain_get(struct domain *d);
/* The channel at port of d, NULL when port is out of range or free. */
struct evtchn *evtchn_lookup(struct domain *d, u32 port);
/* A fresh port of d in state UNBOUND allowing remote; 0 or -KILN_E*. */
int evtchn_alloc_unbound(struct domain *d, u16 remote, u32 *port);
/* Connects a fresh port of d to remote:rport (which must be UNBOUND and
 * allow d). */
int evtchn_bind_interdomain(struct domain *d, u16 remote, u32 rport, u32 *port);
/* Same, for a port whose events go to a hypervisor consumer. */
int evtchn_alloc_consumer(struct domain *d, u16 remote, int consumer, u32 ctx, u32 *port);
int evtchn_send(struct domain *d, u32 port);
int evtchn_close(struct domain *d, u32 port);
int evtchn_set_limit(struct domain *d, u32 limit);
/* Closes every port of d (peers see their ports unbound and pending) and
 * frees its state.  Called when d dies; idempotent. */
void evtchn_domain_destroy(struct domain *d);

/* ---- evtchn_fifo.c ------------------------------------------------------ */

/* INIT_CONTROL / EXPAND_ARRAY (checks as in event_channel.h); expanding
 * returns the number of ports the array covers now. */
int evtchn_fifo_init_control(struct domain *d, u32 vcpu, u64 gpa, u32 vector);
int evtchn_fifo_expand_array(struct domain *d, u64 gpa);
/* Marks port pending in d's array and links it to its queue, raising the
 * upcall when the queue's READY bit goes up.  Without a word or a control
 * block yet, the event waits in c->early until they are registered. */
void evtchn_fifo_set_pending(struct domain *d, u32 port, struct evtchn *c);
int evtchn_fifo_unmask(struct domain *d, u32 port);
/* The word of port, NULL when its array page is not registered. */
u32 *evtchn_fifo_word(struct evtchn_domain *e, u32 port);

/*
 * The upcall of a domU vCPU: an event reached vector's queue on v.  The
 * interrupt glue (vLAPIC) implements it by raising vector in v's LAPIC and
 * kicking v; the weak default in evtchn_hypercall.c only wakes a blocked
 * v.  Called under domlist_lock.  dom0's upcalls never come here: its
 * vCPU owns CPU 0's real LAPIC, so they are an IPI with that vector.
 */
void evtchn_upcall(struct vcpu *v, u8 vector);

/* ---- evtchn_hypercall.c ------------------------------------------------- */

s64 hypercall_evtchn_op(struct vcpu *v, u64 cmd, u64 gpa);

#endif
