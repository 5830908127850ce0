/*
 * evtchn_fifo.c - delivery of events into a guest's own memory, FIFO style
 * (the layout and the guest's side are in include/public/event_channel.h):
 * the event array pages and per-vCPU control blocks a guest registers, and
 * linking a pending event at the tail of its priority queue.
 *
 * The guest writes the same words at the same time, so each word changes
 * only by compare-and-swap, a bounded number of times (EVTCHN_CAS_TRIES):
 * a guest that keeps flipping bits loses its own event, nothing more.  The
 * hypervisor never follows a LINK the guest could have corrupted; the tail
 * of each queue is remembered here, in hypervisor memory, and is always a
 * port below the domain's limit.
 *
 * An event for a port whose word or vCPU control block is not registered
 * yet is kept in the channel (early) and linked once both exist.
 */
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/smp.h>

u32 *evtchn_fifo_word(struct evtchn_domain *e, u32 port)
{
    u32 page = port / KILN_EVTCHN_WORDS_PER_PAGE;
    if (port >= KILN_EVTCHN_MAX_PORTS || page >= e->array_pages)
        return NULL;
    return &e->array[page][port % KILN_EVTCHN_WORDS_PER_PAGE];
}

static void upcall(struct domain *d, u32 vcpu, u8 vector)
{
    if (vector == KILN_EVTCHN_VECTOR_NONE)
        return;   /* it polls */
    /* dom0's one vCPU owns CPU 0 and its real LAPIC: the vector reaches
     * its IDT directly, now or at its next VMRUN. */
    if (d->hardware)
        smp_send_ipi(0, vector);
    else if (vcpu < d->nr_vcpus && d->vcpus[vcpu])
        evtchn_upcall(d->vcpus[vcpu], vector);
}

/* Sets LINKED (and clears LINK) on a pending, unmasked, unlinked word;
 * false when it is not one, or the guest kept changing it (its event then
 * stays pending, unlinked, until the next send or unmask). */
static bool claim_word(u32 *w)
{
    for (unsigned int i = 0; i < EVTCHN_CAS_TRIES; i++) {
        u32 old = __atomic_load_n(w, __ATOMIC_ACQUIRE);
        if (!(old & KILN_EVTCHN_PENDING) || (old & (KILN_EVTCHN_MASKED | KILN_EVTCHN_LINKED)))
            return false;
        u32 new = (old | KILN_EVTCHN_LINKED) & ~KILN_EVTCHN_LINK_MASK;
        if (__atomic_compare_exchange_n(w, &old, new, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            return true;
    }
    return false;
}

/* Points the tail's LINK at port while the tail is still LINKED (not yet
 * consumed); false when the guest has consumed it. */
static bool append(u32 *tail, u32 port)
{
    for (unsigned int i = 0; i < EVTCHN_CAS_TRIES; i++) {
        u32 old = __atomic_load_n(tail, __ATOMIC_ACQUIRE);
        if (!(old & KILN_EVTCHN_LINKED))
            return false;
        u32 new = (old & ~KILN_EVTCHN_LINK_MASK) | port;
        if (__atomic_compare_exchange_n(tail, &old, new, false, __ATOMIC_ACQ_REL,
                                        __ATOMIC_ACQUIRE))
            return true;
    }
    return false;
}

static void link(struct domain *d, struct evtchn_domain *e, u32 port, const struct evtchn *c,
                 u32 *w)
{
    struct evtchn_vcpu *ev = &e->vcpu[c->vcpu];
    u32 q = c->priority, t = ev->tail[q];

    if (!claim_word(w))
        return;
    u32 *tw = t && t != port ? evtchn_fifo_word(e, t) : NULL;
    bool appended = tw && append(tw, port);
    ev->tail[q] = port;
    if (appended)
        return;   /* the queue is non-empty: READY is up already */
    __atomic_store_n(&ev->control->head[q], port, __ATOMIC_RELEASE);
    u32 ready = __atomic_fetch_or(&ev->control->ready, 1u << q, __ATOMIC_ACQ_REL);
    if (!(ready & (1u << q)))
        upcall(d, c->vcpu, ev->vector);
}

void evtchn_fifo_set_pending(struct domain *d, u32 port, struct evtchn *c)
{
    struct evtchn_domain *e = d->evtchn;
    u32 *w = evtchn_fifo_word(e, port);
    if (!w || !e->vcpu[c->vcpu].control) {
        c->early = 1;
        return;
    }
    c->early = 0;
    __atomic_fetch_or(w, KILN_EVTCHN_PENDING, __ATOMIC_ACQ_REL);
    link(d, e, port, c, w);
}

int evtchn_fifo_unmask(struct domain *d, u32 port)
{
    struct evtchn *c = evtchn_lookup(d, port);
    if (!c)
        return -KILN_EINVAL;
    struct evtchn_domain *e = d->evtchn;
    u32 *w = evtchn_fifo_word(e, port);
    if (w && e->vcpu[c->vcpu].control)
        link(d, e, port, c, w);
    return 0;
}

/* Links the events that arrived before [first, end) had words or their
 * vCPU a control block. */
static void deliver_early(struct domain *d, u32 first, u32 end)
{
    for (u32 p = first; p < end; p++) {
        struct evtchn *c = evtchn_lookup(d, p);
        if (c && c->early)
            evtchn_fifo_set_pending(d, p, c);
    }
}

int evtchn_fifo_init_control(struct domain *d, u32 vcpu, u64 gpa, u32 vector)
{
    struct evtchn_domain *e = evtchn_domain_get(d);
    if (!e)
        return d->state == KILN_DOMSTATE_DYING ? -KILN_ESRCH : -KILN_ENOMEM;
    if (vcpu >= e->nr_vcpus || (gpa & 7) ||
        (vector != KILN_EVTCHN_VECTOR_NONE &&
         (vector < KILN_EVTCHN_VECTOR_MIN || vector > KILN_EVTCHN_VECTOR_MAX)))
        return -KILN_EINVAL;
    struct evtchn_vcpu *ev = &e->vcpu[vcpu];
    if (ev->control)
        return -KILN_EEXIST;
    struct kiln_evtchn_control *ctl = p2m_hva(d, gpa, sizeof(*ctl));
    if (!ctl)
        return -KILN_EFAULT;
    ev->control = ctl;
    ev->vector = (u8)vector;
    deliver_early(d, 1, e->limit);
    return 0;
}

int evtchn_fifo_expand_array(struct domain *d, u64 gpa)
{
    struct evtchn_domain *e = evtchn_domain_get(d);
    if (!e)
        return d->state == KILN_DOMSTATE_DYING ? -KILN_ESRCH : -KILN_ENOMEM;
    if (gpa & (PAGE_SIZE - 1))
        return -KILN_EINVAL;
    if (e->array_pages == KILN_EVTCHN_ARRAY_PAGES)
        return -KILN_E2BIG;
    u32 *page = p2m_hva(d, gpa, PAGE_SIZE);
    if (!page)
        return -KILN_EFAULT;
    u32 first = e->array_pages * KILN_EVTCHN_WORDS_PER_PAGE;
    e->array[e->array_pages++] = page;
    u32 end = first + KILN_EVTCHN_WORDS_PER_PAGE;
    deliver_early(d, first, end < e->limit ? end : e->limit);
    return (s32)(e->array_pages * KILN_EVTCHN_WORDS_PER_PAGE);
}
