/*
 * ioreq_proto.c - the ioreq protocol of one vCPU's slot (include/public/
 * ioreq.h), as a pure state machine: no locks, no domain, time passed in,
 * so every misbehaviour of a server (silence, double answers, answers with
 * the wrong seq, answers before DONE) is unit-tested without a guest.
 *
 * The slot lives in memory both the served guest and the server write, so
 * the answer is read once, each field once, into a local copy and judged
 * there.  Only a DONE state with the seq that was posted completes a
 * request; the data is cut to the access's size.
 */
#include <kiln/ioreq.h>

static u64 size_mask(unsigned int size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

int ioreq_proto_post(struct ioreq_proto *p, struct kiln_ioreq *slot, const struct ioreq_access *a,
                     u64 now, u64 timeout)
{
    if (p->state != IOREQ_IDLE)
        return -KILN_EBUSY;
    p->seq++;
    p->req = *a;
    p->req.data = a->dir == KILN_IOREQ_WRITE ? a->data & size_mask(a->size) : 0;
    p->deadline = now + timeout;
    p->state = IOREQ_WAITING;
    /* Fields first, state last: a server that sees READY sees them all. */
    __atomic_store_n(&slot->addr, a->addr, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->data, p->req.data, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->size, a->size, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->dir, a->dir, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->type, a->type, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->seq, p->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&slot->state, (u8)KILN_IOREQ_STATE_READY, __ATOMIC_RELEASE);
    return 0;
}

enum ioreq_verdict ioreq_proto_answer(struct ioreq_proto *p, struct kiln_ioreq *slot)
{
    if (p->state != IOREQ_WAITING)
        return IOREQ_IGNORED;      /* a repeated or stray notification */
    u8 state = __atomic_load_n(&slot->state, __ATOMIC_ACQUIRE);
    if (state != KILN_IOREQ_STATE_DONE)
        return IOREQ_IGNORED;      /* not answered yet */
    u32 seq = __atomic_load_n(&slot->seq, __ATOMIC_RELAXED);
    u64 data = __atomic_load_n(&slot->data, __ATOMIC_RELAXED);
    if (seq != p->seq)
        return IOREQ_BAD_SEQ;
    if (p->req.dir == KILN_IOREQ_READ)
        p->req.data = data & size_mask(p->req.size);
    __atomic_store_n(&slot->state, (u8)KILN_IOREQ_STATE_NONE, __ATOMIC_RELEASE);
    p->state = IOREQ_ANSWERED;
    return IOREQ_COMPLETED;
}

bool ioreq_proto_timed_out(const struct ioreq_proto *p, u64 now)
{
    return p->state == IOREQ_WAITING && now >= p->deadline;
}

bool ioreq_proto_take(struct ioreq_proto *p, const struct ioreq_access *a, u64 *data, int *err)
{
    *err = 0;
    if (p->state != IOREQ_ANSWERED)
        return false;
    p->state = IOREQ_IDLE;
    if (a->addr != p->req.addr || a->size != p->req.size || a->dir != p->req.dir ||
        a->type != p->req.type ||
        (a->dir == KILN_IOREQ_WRITE && (a->data & size_mask(a->size)) != p->req.data)) {
        *err = -KILN_EINVAL;
        return false;
    }
    *data = p->req.data;
    return true;
}
