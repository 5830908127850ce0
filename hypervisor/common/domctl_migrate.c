/*
 * domctl_migrate.c - the domctls save/restore and live migration are made
 * of (kiln.h, ABI 1.2): a paused vCPU's whole state out and in, the
 * log-dirty mode of the domain's nested page table, bulk reads of its
 * memory, and its clock (KILN_HC_TIME), which a restore carries on.
 *
 * All but READ_MEM and CLOCK GET need the target stopped: paused (or still being built) with
 * no vCPU left in guest mode, so its VMCBs are nobody's and write
 * protection needs no cross-CPU TLB shootdown (p2m_logdirty.c).  The
 * toolstack pauses, waits for GETINFO to say PAUSED, then calls these.
 * Called from hypercall_ctl.c with domlist_lock held, which also keeps
 * concurrent pause/unpause out.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/hypercall.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>

static bool stopped(const struct domain *t)
{
    return (t->state == KILN_DOMSTATE_BUILDING || t->paused) && !t->running;
}

static s64 get_state(struct vcpu *v, struct kiln_domctl_vcpu_state *vs, struct domain *t)
{
    struct kiln_vcpu_state st;
    if (vs->vcpu >= t->nr_vcpus || vs->size != sizeof(st))
        return -KILN_EINVAL;
    void *buf = p2m_hva(v->domain, vs->buf_gpa, sizeof(st));
    if (!buf)
        return -KILN_EFAULT;
    hvm->get_state(t->vcpus[vs->vcpu], &st);
    kmemcpy(buf, &st, sizeof(st));
    p2m_mark_dirty(v->domain, vs->buf_gpa, sizeof(st));
    return 0;
}

static s64 set_state(struct vcpu *v, struct kiln_domctl_vcpu_state *vs, struct domain *t)
{
    struct kiln_vcpu_state st;
    if (vs->vcpu >= t->nr_vcpus || vs->size != sizeof(st))
        return -KILN_EINVAL;
    /* One copy in, then every check on our copy: the caller's memory may
     * change under us. */
    if (copy_from_guest(v->domain, &st, vs->buf_gpa, sizeof(st)))
        return -KILN_EFAULT;
    if (st.vcpu != vs->vcpu || st.size != sizeof(st))
        return -KILN_EINVAL;
    struct vcpu *tv = t->vcpus[vs->vcpu];
    int rc = hvm->set_state(tv, &st);
    if (rc)
        return rc;
    tv->initialised = true;
    return 0;
}

static s64 log_dirty(struct vcpu *v, struct kiln_domctl_log_dirty *ld, struct domain *t)
{
    switch (ld->op) {
    case KILN_LOG_DIRTY_ENABLE:
        return p2m_logdirty_enable(t);
    case KILN_LOG_DIRTY_DISABLE:
        return p2m_logdirty_disable(t);
    case KILN_LOG_DIRTY_READ_CLEAN: {
        if (!ld->nr || ld->nr > KILN_LOG_DIRTY_BATCH)
            return -KILN_EINVAL;
        u64 bytes = (ld->nr + 7) / 8;
        u8 *buf = p2m_hva(v->domain, ld->buf_gpa, bytes);
        if (!buf)
            return -KILN_EFAULT;
        u64 nr = ld->nr;
        s64 n = p2m_logdirty_read_clean(t, ld->start_gfn, &nr, buf);
        if (n < 0)
            return n;
        p2m_mark_dirty(v->domain, ld->buf_gpa, bytes);
        ld->nr = nr;
        ld->dirty = (u64)n;
        return 0;
    }
    default:
        return -KILN_EINVAL;
    }
}

/* Bulk reads need no stopped target: a page written while it is copied
 * was dirtied, and log-dirty sends it again. */
static s64 read_mem(struct vcpu *v, struct kiln_domctl_read_mem *rm, struct domain *t)
{
    if (!rm->nr || rm->nr > KILN_READ_MEM_MAX || (rm->buf_gpa & (PAGE_SIZE - 1)))
        return -KILN_EINVAL;
    if (rm->gfn >= t->p2m.nr_pages || rm->nr > t->p2m.nr_pages - rm->gfn)
        return -KILN_EFAULT;
    for (u32 i = 0; i < rm->nr; i++) {
        void *dst = p2m_hva(v->domain, rm->buf_gpa + (u64)i * PAGE_SIZE, PAGE_SIZE);
        const void *src = p2m_hva(t, (rm->gfn + i) * PAGE_SIZE, PAGE_SIZE);
        if (!dst || !src)
            return -KILN_EFAULT;
        kmemcpy(dst, src, PAGE_SIZE);
        p2m_mark_dirty(v->domain, rm->buf_gpa + (u64)i * PAGE_SIZE, PAGE_SIZE);
    }
    return 0;
}

u64 domain_clock_ns(const struct domain *d)
{
    return now_ns() + (u64)d->clock_offset_ns;
}

u64 domain_clock_to_host(const struct domain *d, u64 deadline)
{
    if (!deadline)
        return 0;
    u64 host = deadline - (u64)d->clock_offset_ns;
    /* A deadline before the host's boot has passed already. */
    return (s64)host > 0 ? host : 1;
}

static s64 clock(struct kiln_domctl_clock *c, struct domain *t)
{
    if (c->op == KILN_CLOCK_GET) {
        c->time_ns = domain_clock_ns(t);
        return 0;
    }
    if (c->op != KILN_CLOCK_SET)
        return -KILN_EINVAL;
    if (!stopped(t))
        return -KILN_EBUSY;
    t->clock_offset_ns = (s64)(c->time_ns - now_ns());
    return 0;
}

s64 domctl_migrate(struct vcpu *v, struct kiln_domctl *op)
{
    u32 id = op->domid == KILN_DOMID_SELF ? v->domain->id : op->domid;
    struct domain *t = id < KILN_DOMID_SELF ? domain_find((u16)id) : NULL;
    if (!t)
        return -KILN_ESRCH;
    if (t->hardware)
        return -KILN_EPERM;   /* dom0 is never saved or moved */
    if (t->state == KILN_DOMSTATE_DYING)
        return -KILN_EBUSY;
    if (op->cmd == KILN_DOMCTL_READ_MEM)
        return read_mem(v, &op->u.read_mem, t);
    if (op->cmd == KILN_DOMCTL_CLOCK)
        return t == v->domain && op->u.clock.op == KILN_CLOCK_SET ? -KILN_EBUSY
                                                                  : clock(&op->u.clock, t);
    if (t == v->domain || !stopped(t))
        return -KILN_EBUSY;
    switch (op->cmd) {
    case KILN_DOMCTL_GET_VCPU_STATE:
        return get_state(v, &op->u.vcpu_state, t);
    case KILN_DOMCTL_SET_VCPU_STATE:
        return set_state(v, &op->u.vcpu_state, t);
    default:
        return log_dirty(v, &op->u.log_dirty, t);
    }
}
