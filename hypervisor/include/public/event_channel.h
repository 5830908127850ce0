/*
 * event_channel.h - the event channel ABI (hypercall KILN_HC_EVTCHN_OP,
 * kiln.h ABI 1.3), shared unchanged by the hypervisor, guest kernels and
 * dom0 user space like kiln.h.
 *
 * An event channel is a pair of ports, one in each of two domains (or both
 * in one): a send on one end makes the other end pending.  Delivery follows
 * the FIFO idea of Xen's 4.4 design, written here from its facts:
 *
 *  - The event array: guest pages registered with EXPAND_ARRAY, one 32-bit
 *    word per port (page i holds ports 1024*i .. 1024*i+1023):
 *        bit 31 PENDING, bit 30 MASKED, bit 29 LINKED, bits 0-16 LINK
 *    LINK is the next port in the word's queue (0 = end).  The guest sets
 *    and clears MASKED, clears PENDING and LINKED as it consumes; the
 *    hypervisor sets PENDING and LINKED and writes LINK.  Both sides change
 *    words concurrently: every update is an atomic compare-and-swap.
 *  - The control block, one per vCPU (INIT_CONTROL): READY and 16 queue
 *    HEADs.  Priority 0 is the highest, 15 the lowest, 7 the default.
 *    When the hypervisor links an event into an empty queue q of vCPU v it
 *    writes HEAD[q] = port; otherwise it appends it (LINK of the queue's
 *    last word, which the hypervisor remembers itself).  When READY bit q
 *    goes from 0 to 1 the vCPU gets its upcall: the LAPIC vector it named
 *    in INIT_CONTROL.
 *  - The guest consumes its events by taking READY with an atomic exchange
 *    to 0 into its own copy, then, highest priority first, queue by queue:
 *    it keeps its own copy of each queue's head, reloaded from HEAD[q]
 *    only when that copy is 0; for each port it atomically clears LINKED
 *    and reads LINK (the next port), then clears PENDING and handles the
 *    event unless MASKED; a LINK of 0 ends the queue (clear bit q of its
 *    copy of READY).  It repeats while an exchange of READY gives new
 *    bits.  The hypervisor appends to a tail only while the tail is still
 *    LINKED (compare-and-swap); once the guest consumed it, the hypervisor
 *    writes HEAD[q] instead and sets READY bit q again, so no event is lost.
 *  - Masking: the guest sets MASKED itself; an event sent while masked is
 *    only marked PENDING.  To unmask, the guest clears MASKED and, if the
 *    word is PENDING, calls UNMASK so the hypervisor links it.
 *
 * A guest that corrupts its own array or control block (loops, links to
 * ports it never allocated, bits flipped) breaks only its own delivery: the
 * hypervisor never follows LINK fields, it only appends to the tail it
 * tracks itself, with a bounded number of compare-and-swap attempts.
 *
 * Limits: ports are 1 .. KILN_EVTCHN_MAX_PORTS - 1 (port 0 never exists).
 * Each domain has its own limit (SET_LIMIT; default
 * KILN_EVTCHN_DEFAULT_LIMIT ports, dom0 KILN_EVTCHN_MAX_PORTS), and the
 * host at least KILN_EVTCHN_HOST_MIN channels in all (a port is one
 * channel end; the hypervisor keeps 16 bytes per port).  Beyond either:
 * -KILN_ENOSPC.
 *
 * Calling convention: RAX = KILN_HC_EVTCHN_OP, RDI = cmd (KILN_EVTCHNOP_*),
 * RSI = guest-physical address of a struct kiln_evtchn_op (must not cross
 * a page); the structure is copied in, and back with results.
 */
#ifndef KILN_PUBLIC_EVENT_CHANNEL_H
#define KILN_PUBLIC_EVENT_CHANNEL_H

#include "kiln.h"

/* EVTCHNOP_VERSION returns it; bumped on any change here. */
#define KILN_EVTCHN_VERSION         1

#define KILN_EVTCHN_MAX_PORTS       131072u  /* LINK is 17 bits */
#define KILN_EVTCHN_DEFAULT_LIMIT   4096u
#define KILN_EVTCHN_HOST_MIN        131072u
#define KILN_EVTCHN_PRIORITIES      16u
#define KILN_EVTCHN_PRIORITY_DEFAULT 7u
#define KILN_EVTCHN_WORDS_PER_PAGE  1024u
#define KILN_EVTCHN_ARRAY_PAGES     (KILN_EVTCHN_MAX_PORTS / KILN_EVTCHN_WORDS_PER_PAGE)

/* Event word bits. */
#define KILN_EVTCHN_PENDING   (1u << 31)
#define KILN_EVTCHN_MASKED    (1u << 30)
#define KILN_EVTCHN_LINKED    (1u << 29)
#define KILN_EVTCHN_LINK_MASK 0x1ffffu

/* Upcall vectors a vCPU may name (the LAPIC's fixed vectors below the
 * hypervisor's own, which start at 0xf0), or KILN_EVTCHN_VECTOR_NONE: no
 * upcall, the vCPU polls READY itself (dom0's kernel module does, as a
 * module cannot claim an interrupt vector of its own in Linux). */
#define KILN_EVTCHN_VECTOR_NONE 0u
#define KILN_EVTCHN_VECTOR_MIN 0x20u
#define KILN_EVTCHN_VECTOR_MAX 0xefu

/* Per-vCPU control block in guest memory, 8-byte aligned, within a page. */
struct kiln_evtchn_control {
    kiln_u32 ready;                         /* bit q: queue q non-empty */
    kiln_u32 _pad;
    kiln_u32 head[KILN_EVTCHN_PRIORITIES];  /* first port of each queue */
};

/* Port states (STATUS). */
#define KILN_EVTCHN_STATE_FREE        0
#define KILN_EVTCHN_STATE_UNBOUND     1  /* waits for remote_dom to bind */
#define KILN_EVTCHN_STATE_INTERDOMAIN 2  /* connected to remote_dom:remote_port */

enum kiln_evtchn_cmd {
    KILN_EVTCHNOP_VERSION          = 0,  /* returns KILN_EVTCHN_VERSION */
    /* vcpu, control_gpa, vector (or VECTOR_NONE): registers that vCPU's
     * control block (once;
     * EEXIST after).  EINVAL bad vCPU, alignment or vector; EFAULT not RAM. */
    KILN_EVTCHNOP_INIT_CONTROL     = 1,
    /* array_gpa: the next array page (page aligned, in the caller's RAM);
     * returns the number of ports the array covers now.  E2BIG when all
     * KILN_EVTCHN_ARRAY_PAGES are registered. */
    KILN_EVTCHNOP_EXPAND_ARRAY     = 2,
    /* dom (SELF, or another domain for a privileged caller), remote_dom
     * (SELF allowed): out port, a fresh port of dom that remote_dom may bind. */
    KILN_EVTCHNOP_ALLOC_UNBOUND    = 3,
    /* remote_dom, remote_port (UNBOUND, allowing the caller): out port, a
     * fresh port of the caller connected to it.  ESRCH no such domain,
     * EINVAL the remote port is not waiting for the caller. */
    KILN_EVTCHNOP_BIND_INTERDOMAIN = 4,
    /* port: makes the other end pending (nothing if unbound). */
    KILN_EVTCHNOP_SEND             = 5,
    /* port: frees it; a connected peer's port becomes UNBOUND (allowing
     * this domain again) and is made pending so its owner notices. */
    KILN_EVTCHNOP_CLOSE            = 6,
    /* dom (SELF, or any for a privileged caller), port: out state,
     * remote_dom, remote_port, vcpu, priority. */
    KILN_EVTCHNOP_STATUS           = 7,
    /* port: links it if PENDING and no longer MASKED. */
    KILN_EVTCHNOP_UNMASK           = 8,
    /* port, priority (0..15): queue of its next events. */
    KILN_EVTCHNOP_SET_PRIORITY     = 9,
    /* port, vcpu: vCPU whose queues its next events go to (default 0). */
    KILN_EVTCHNOP_BIND_VCPU        = 10,
    /* dom (privileged caller only), limit: ports dom may have (2 ..
     * KILN_EVTCHN_MAX_PORTS); EBUSY if it has a port >= limit. */
    KILN_EVTCHNOP_SET_LIMIT        = 11,
};

struct kiln_evtchn_op {
    kiln_u32 dom;             /* KILN_DOMID_SELF or a domain id */
    kiln_u32 port;            /* in or out */
    kiln_u32 remote_dom;
    kiln_u32 remote_port;
    kiln_u32 vcpu;
    kiln_u32 priority;
    kiln_u32 vector;
    kiln_u32 state;           /* out (STATUS): KILN_EVTCHN_STATE_* */
    kiln_u32 limit;
    kiln_u32 _pad;
    kiln_u64 control_gpa;
    kiln_u64 array_gpa;
};

#endif /* KILN_PUBLIC_EVENT_CHANNEL_H */
