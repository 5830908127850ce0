/*
 * ioreq.h - forwarding a domU's device accesses to an I/O server in dom0
 * (the guest-visible contract is include/public/ioreq.h).
 *
 * common/ioreq/ioreq_proto.c is the protocol of one vCPU's slot as a pure
 * state machine (time passed in, no locks, no domain): posting a request,
 * judging a notification from the server, the timeout, taking the answer.
 * arch/x86/hvm/ioreq.c is the rest: the server of a domain, its ranges as
 * an MMIO region / port handler, blocking the vCPU, the hypercall.
 */
#ifndef KILN_IOREQ_H
#define KILN_IOREQ_H

#include <kiln/types.h>
#include <public/ioreq.h>

struct domain;
struct vcpu;

/* One device access, as the vCPU made it. */
struct ioreq_access {
    u64 addr;
    u64 data;               /* writes: the value */
    u8 size, dir, type;     /* as in struct kiln_ioreq */
};

enum ioreq_pstate {
    IOREQ_IDLE,             /* nothing outstanding */
    IOREQ_WAITING,          /* posted, no valid answer yet */
    IOREQ_ANSWERED,         /* answered, the vCPU has not taken it yet */
};

struct ioreq_proto {
    u8 state;               /* enum ioreq_pstate */
    u32 seq;                /* of the request outstanding or answered */
    u64 deadline;           /* ns: WAITING ends in a timeout then */
    struct ioreq_access req;
};

enum ioreq_verdict {
    IOREQ_IGNORED,          /* nothing outstanding, or not answered yet */
    IOREQ_COMPLETED,        /* a valid answer: wake the vCPU */
    IOREQ_BAD_SEQ,          /* answered with another seq: crash the domain */
};

/* Writes a into slot (state READY, seq + 1) and starts waiting until now
 * + timeout.  -KILN_EBUSY when a request is outstanding or not taken. */
int ioreq_proto_post(struct ioreq_proto *p, struct kiln_ioreq *slot, const struct ioreq_access *a,
                     u64 now, u64 timeout);
/* The server notified: reads slot once and judges it. */
enum ioreq_verdict ioreq_proto_answer(struct ioreq_proto *p, struct kiln_ioreq *slot);
/* True when the request is still unanswered at now, past its deadline. */
bool ioreq_proto_timed_out(const struct ioreq_proto *p, u64 now);
/* Takes the answer to a (reads: *data, masked to its size); false when
 * none is there.  -KILN_EINVAL (through *err) when the answer is for
 * another access: the instruction changed while it waited. */
bool ioreq_proto_take(struct ioreq_proto *p, const struct ioreq_access *a, u64 *data, int *err);

/* ---- arch/x86/hvm/ioreq.c ------------------------------------------------ */

#define IOREQ_REPLAY_MAX 8   /* forwarded accesses of one instruction */

/* Results of hvm_ioreq_port(). */
#define HVM_IOREQ_NOT_MINE  0   /* not a forwarded port: emulate it */
#define HVM_IOREQ_DONE      1   /* answered: *val holds an IN's value */
#define HVM_IOREQ_RETRY     2   /* the vCPU waits (or its domain died):
                                   leave RIP on the instruction */

/* A single IN or OUT of v (not INS/OUTS) at a port the domain's server
 * claimed. */
int hvm_ioreq_port(struct vcpu *v, u16 port, unsigned int size, bool in, u32 *val);
/* True when the domain's server claimed port (string I/O to it is refused). */
bool hvm_ioreq_port_claimed(struct domain *d, u16 port);
s64 hypercall_ioreq_op(struct vcpu *v, u64 cmd, u64 gpa);
/* Frees d's server state (d is being freed). */
void ioreq_domain_destroy(struct domain *d);

#endif
