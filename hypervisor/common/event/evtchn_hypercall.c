/*
 * evtchn_hypercall.c - KILN_HC_EVTCHN_OP: copies the guest's struct
 * kiln_evtchn_op in, checks who may act on which domain, runs the
 * operation under domlist_lock and copies the results back
 * (include/public/event_channel.h is the contract).
 *
 * A domain acts on its own ports; only a privileged domain (dom0) names
 * another one (ALLOC_UNBOUND for a guest it builds, STATUS, SET_LIMIT).
 * Ports whose events the hypervisor itself consumes (ioreq.c's) cannot be
 * sent on, closed or moved by the guest that holds them.
 */
#include <kiln/domain.h>
#include <kiln/evtchn.h>
#include <kiln/hypercall.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

/* The domain a caller names: itself, or any live one if privileged. */
static struct domain *target(struct vcpu *v, u32 dom, s64 *err)
{
    struct domain *self = v->domain;
    if (dom == KILN_DOMID_SELF || dom == self->id)
        return self;
    if (!(self->flags & KILN_CPUID_F_PRIVILEGED)) {
        *err = -KILN_EPERM;
        return NULL;
    }
    struct domain *d = dom < KILN_DOMID_SELF ? domain_find((u16)dom) : NULL;
    if (!d || d->state == KILN_DOMSTATE_DYING) {
        *err = -KILN_ESRCH;
        return NULL;
    }
    return d;
}

/* A port of the caller it may change itself (not a hypervisor consumer's). */
static struct evtchn *own_port(struct domain *d, u32 port, s64 *err)
{
    struct evtchn *c = evtchn_lookup(d, port);
    if (!c)
        *err = -KILN_EINVAL;
    else if (c->consumer)
        *err = -KILN_EPERM;
    return *err ? NULL : c;
}

static s64 status(struct domain *d, struct kiln_evtchn_op *op)
{
    struct evtchn_domain *e = d->evtchn;
    if (!op->port || op->port >= (e ? e->limit : KILN_EVTCHN_DEFAULT_LIMIT))
        return -KILN_EINVAL;
    struct evtchn *c = evtchn_lookup(d, op->port);
    op->state = c ? c->state : KILN_EVTCHN_STATE_FREE;
    op->remote_dom = c ? c->remote_dom : 0;
    op->remote_port = c ? c->remote_port : 0;
    op->vcpu = c ? c->vcpu : 0;
    op->priority = c ? c->priority : 0;
    return 0;
}

static s64 op_locked(struct vcpu *v, u64 cmd, void *arg)
{
    struct kiln_evtchn_op *op = arg;
    struct domain *self = v->domain, *d;
    struct evtchn *c;
    s64 err = 0;

    switch (cmd) {
    case KILN_EVTCHNOP_INIT_CONTROL:
        return evtchn_fifo_init_control(self, op->vcpu, op->control_gpa, op->vector);
    case KILN_EVTCHNOP_EXPAND_ARRAY:
        return evtchn_fifo_expand_array(self, op->array_gpa);
    case KILN_EVTCHNOP_ALLOC_UNBOUND: {
        if (!(d = target(v, op->dom, &err)))
            return err;
        u32 remote = op->remote_dom == KILN_DOMID_SELF ? self->id : op->remote_dom;
        if (remote >= KILN_DOMID_SELF)
            return -KILN_EINVAL;
        return evtchn_alloc_unbound(d, (u16)remote, &op->port);
    }
    case KILN_EVTCHNOP_BIND_INTERDOMAIN: {
        u32 remote = op->remote_dom == KILN_DOMID_SELF ? self->id : op->remote_dom;
        if (remote >= KILN_DOMID_SELF)
            return -KILN_ESRCH;
        return evtchn_bind_interdomain(self, (u16)remote, op->remote_port, &op->port);
    }
    case KILN_EVTCHNOP_SEND:
        return own_port(self, op->port, &err) ? evtchn_send(self, op->port) : err;
    case KILN_EVTCHNOP_CLOSE:
        return own_port(self, op->port, &err) ? evtchn_close(self, op->port) : err;
    case KILN_EVTCHNOP_STATUS:
        if (!(d = target(v, op->dom, &err)))
            return err;
        return status(d, op);
    case KILN_EVTCHNOP_UNMASK:
        return evtchn_fifo_unmask(self, op->port);
    case KILN_EVTCHNOP_SET_PRIORITY:
        if (!(c = own_port(self, op->port, &err)))
            return err;
        if (op->priority >= KILN_EVTCHN_PRIORITIES)
            return -KILN_EINVAL;
        c->priority = (u8)op->priority;
        return 0;
    case KILN_EVTCHNOP_BIND_VCPU:
        if (!(c = own_port(self, op->port, &err)))
            return err;
        if (op->vcpu >= self->nr_vcpus)
            return -KILN_EINVAL;
        c->vcpu = (u16)op->vcpu;
        return 0;
    case KILN_EVTCHNOP_SET_LIMIT:
        if (!(self->flags & KILN_CPUID_F_PRIVILEGED))
            return -KILN_EPERM;
        if (!(d = target(v, op->dom, &err)))
            return err;
        return evtchn_set_limit(d, op->limit);
    default:
        return -KILN_ENOSYS;
    }
}

s64 hypercall_evtchn_op(struct vcpu *v, u64 cmd, u64 gpa)
{
    struct kiln_evtchn_op op;

    if (cmd == KILN_EVTCHNOP_VERSION)
        return KILN_EVTCHN_VERSION;
    return hypercall_struct_op(v, cmd, gpa, &op, sizeof(op), op_locked);
}
