/*
 * evtchn_table.c - the ports of each domain and the channels between them:
 * allocation against the per-domain and host-wide limits, binding two
 * domains' ports, sending, closing, and closing everything when a domain
 * dies (its peers see their ports unbound, and pending so they notice).
 *
 * A domain's ports live in pages of EVTCHN_BUCKET_PORTS 16-byte entries,
 * allocated when first needed, so a domain with a handful of channels
 * costs one bucket page, and 131,072 channels about 2 MiB.  Every function
 * runs under domlist_lock (see evtchn.h); delivery into the guest's array
 * is evtchn_fifo.c's.
 */
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

#define MAX_CONSUMERS 4u

static u32 host_used;
static const struct evtchn_consumer *consumers[MAX_CONSUMERS];

BUILD_BUG_ON(sizeof(struct evtchn) != 16);
BUILD_BUG_ON(EVTCHN_BUCKET_PORTS * sizeof(struct evtchn) != PAGE_SIZE);
BUILD_BUG_ON(EVTCHN_HOST_MAX < KILN_EVTCHN_HOST_MIN);

u32 evtchn_host_used(void)
{
    return host_used;
}

int evtchn_consumer_register(const struct evtchn_consumer *c)
{
    for (unsigned int i = 0; i < MAX_CONSUMERS; i++) {
        if (consumers[i] == c)
            return (int)i + 1;
        if (!consumers[i]) {
            consumers[i] = c;
            return (int)i + 1;
        }
    }
    return -KILN_E2BIG;
}

static unsigned int order_for(size_t bytes)
{
    unsigned int order = 0;
    while ((PAGE_SIZE << order) < bytes)
        order++;
    return order;
}

struct evtchn_domain *evtchn_domain_get(struct domain *d)
{
    if (d->evtchn)
        return d->evtchn;
    if (d->state == KILN_DOMSTATE_DYING)
        return NULL;   /* its channels are gone for good */
    size_t size = sizeof(struct evtchn_domain) + d->nr_vcpus * sizeof(struct evtchn_vcpu);
    unsigned int order = order_for(size);
    struct evtchn_domain *e = alloc_pages_zeroed(order);
    if (!e)
        return NULL;
    e->alloc_order = order;
    e->nr_vcpus = d->nr_vcpus;
    e->limit = d->hardware ? KILN_EVTCHN_MAX_PORTS : KILN_EVTCHN_DEFAULT_LIMIT;
    e->hint = 1;
    d->evtchn = e;
    return e;
}

struct evtchn *evtchn_lookup(struct domain *d, u32 port)
{
    struct evtchn_domain *e = d->evtchn;
    if (!e || port == 0 || port >= e->limit)
        return NULL;
    struct evtchn *b = e->bucket[port / EVTCHN_BUCKET_PORTS];
    if (!b)
        return NULL;
    struct evtchn *c = &b[port % EVTCHN_BUCKET_PORTS];
    return c->state == KILN_EVTCHN_STATE_FREE ? NULL : c;
}

/* Takes the lowest free port of d and marks it UNBOUND for remote. */
static int alloc_port(struct domain *d, u16 remote, u32 *port)
{
    struct evtchn_domain *e = evtchn_domain_get(d);
    if (!e)
        return d->state == KILN_DOMSTATE_DYING ? -KILN_ESRCH : -KILN_ENOMEM;
    if (host_used >= EVTCHN_HOST_MAX)
        return -KILN_ENOSPC;
    for (u32 p = e->hint; p < e->limit; p++) {
        struct evtchn **b = &e->bucket[p / EVTCHN_BUCKET_PORTS];
        if (!*b && !(*b = alloc_pages_zeroed(0)))
            return -KILN_ENOMEM;
        struct evtchn *c = &(*b)[p % EVTCHN_BUCKET_PORTS];
        if (c->state != KILN_EVTCHN_STATE_FREE)
            continue;
        *c = (struct evtchn){
            .state = KILN_EVTCHN_STATE_UNBOUND,
            .priority = KILN_EVTCHN_PRIORITY_DEFAULT,
            .remote_dom = remote,
        };
        e->hint = p + 1;
        e->used++;
        host_used++;
        *port = p;
        return 0;
    }
    e->hint = e->limit;
    return -KILN_ENOSPC;
}

static void free_port(struct domain *d, u32 port, struct evtchn *c)
{
    struct evtchn_domain *e = d->evtchn;
    *c = (struct evtchn){ 0 };
    e->used--;
    host_used--;
    if (port < e->hint)
        e->hint = port;
}

/* A live domain other code may still address by id. */
static struct domain *find_live(u32 id)
{
    struct domain *d = id < KILN_DOMID_SELF ? domain_find((u16)id) : NULL;
    return d && d->state != KILN_DOMSTATE_DYING ? d : NULL;
}

/* Hands an event to the owner of port (guest queues or a consumer). */
static void deliver(struct domain *d, u32 port, struct evtchn *c)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return;   /* nobody will read it */
    if (c->consumer) {
        const struct evtchn_consumer *k = consumers[c->consumer - 1];
        if (k && k->notify)
            k->notify(d, port, c->consumer_ctx);
        return;
    }
    evtchn_fifo_set_pending(d, port, c);
}

/* The other end of an interdomain channel, if it still points back. */
static struct evtchn *peer_of(struct domain *d, u32 port, const struct evtchn *c,
                              struct domain **peer)
{
    if (c->state != KILN_EVTCHN_STATE_INTERDOMAIN)
        return NULL;
    struct domain *rd = domain_find(c->remote_dom);
    struct evtchn *rc = rd ? evtchn_lookup(rd, c->remote_port) : NULL;
    if (!rc || rc->state != KILN_EVTCHN_STATE_INTERDOMAIN || rc->remote_dom != d->id ||
        rc->remote_port != port)
        return NULL;
    *peer = rd;
    return rc;
}

int evtchn_alloc_unbound(struct domain *d, u16 remote, u32 *port)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return -KILN_ESRCH;
    return alloc_port(d, remote, port);
}

int evtchn_alloc_consumer(struct domain *d, u16 remote, int consumer, u32 ctx, u32 *port)
{
    if (consumer <= 0 || consumer > (int)MAX_CONSUMERS || !consumers[consumer - 1])
        return -KILN_EINVAL;
    int rc = evtchn_alloc_unbound(d, remote, port);
    if (rc)
        return rc;
    struct evtchn *c = evtchn_lookup(d, *port);
    c->consumer = (u8)consumer;
    c->consumer_ctx = ctx;
    return 0;
}

int evtchn_bind_interdomain(struct domain *d, u16 remote, u32 rport, u32 *port)
{
    if (d->state == KILN_DOMSTATE_DYING)
        return -KILN_ESRCH;
    struct domain *rd = find_live(remote);
    if (!rd)
        return -KILN_ESRCH;
    struct evtchn *rc = evtchn_lookup(rd, rport);
    if (!rc || rc->state != KILN_EVTCHN_STATE_UNBOUND || rc->remote_dom != d->id)
        return -KILN_EINVAL;
    u32 lport;
    int err = alloc_port(d, rd->id, &lport);
    if (err)
        return err;
    struct evtchn *lc = evtchn_lookup(d, lport);
    lc->state = KILN_EVTCHN_STATE_INTERDOMAIN;
    lc->remote_port = rport;
    rc->state = KILN_EVTCHN_STATE_INTERDOMAIN;
    rc->remote_port = lport;
    /* An event the other side sent before the bind is not lost: the new
     * port starts pending, as in Xen. */
    deliver(d, lport, lc);
    *port = lport;
    return 0;
}

int evtchn_send(struct domain *d, u32 port)
{
    struct evtchn *c = evtchn_lookup(d, port);
    if (!c)
        return -KILN_EINVAL;
    struct domain *rd;
    struct evtchn *rc = peer_of(d, port, c, &rd);
    if (rc)
        deliver(rd, c->remote_port, rc);
    return 0;
}

int evtchn_close(struct domain *d, u32 port)
{
    struct evtchn *c = evtchn_lookup(d, port);
    if (!c)
        return -KILN_EINVAL;
    struct domain *rd;
    struct evtchn *rc = peer_of(d, port, c, &rd);
    u32 rport = c->remote_port;
    free_port(d, port, c);
    if (!rc)
        return 0;
    /* The peer may bind again (a restarted server); until then it sees
     * an unbound port, made pending so a poller wakes up to find out. */
    rc->state = KILN_EVTCHN_STATE_UNBOUND;
    rc->remote_dom = d->id;
    rc->remote_port = 0;
    if (rd->state == KILN_DOMSTATE_DYING)
        return 0;
    if (rc->consumer) {
        const struct evtchn_consumer *k = consumers[rc->consumer - 1];
        if (k && k->peer_closed)
            k->peer_closed(rd, rport, rc->consumer_ctx);
    } else {
        evtchn_fifo_set_pending(rd, rport, rc);
    }
    return 0;
}

int evtchn_set_limit(struct domain *d, u32 limit)
{
    if (limit < 2 || limit > KILN_EVTCHN_MAX_PORTS)
        return -KILN_EINVAL;
    struct evtchn_domain *e = evtchn_domain_get(d);
    if (!e)
        return d->state == KILN_DOMSTATE_DYING ? -KILN_ESRCH : -KILN_ENOMEM;
    for (u32 p = limit; p < e->limit; p++)
        if (evtchn_lookup(d, p))
            return -KILN_EBUSY;
    e->limit = limit;
    if (e->hint > limit)
        e->hint = limit;
    return 0;
}

void evtchn_domain_destroy(struct domain *d)
{
    struct evtchn_domain *e = d->evtchn;
    if (!e)
        return;
    for (u32 b = 0; b < EVTCHN_NR_BUCKETS; b++) {
        if (!e->bucket[b])
            continue;
        for (u32 i = 0; i < EVTCHN_BUCKET_PORTS; i++) {
            u32 port = b * EVTCHN_BUCKET_PORTS + i;
            if (e->bucket[b][i].state != KILN_EVTCHN_STATE_FREE)
                evtchn_close(d, port);
        }
        free_page(e->bucket[b]);
    }
    d->evtchn = NULL;
    free_pages(e, e->alloc_order);
}
