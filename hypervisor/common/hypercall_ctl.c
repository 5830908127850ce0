/*
 * hypercall_ctl.c - domctl and sysctl: what a privileged domain (dom0, or a
 * privileged test guest) may do to other domains and ask of the hypervisor.
 *
 * The structure has already been copied in by hypercall.c; every field is
 * still checked here before use.  All domctls run under domlist_lock, so
 * the target cannot be freed half-way through.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/foreign.h>
#include <kiln/hypercall.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/smp.h>
#include <kiln/time.h>

static bool canonical(u64 a)
{
    return (u64)((s64)(a << 16) >> 16) == a;
}

static s64 dom_create(struct kiln_domctl *op)
{
    struct kiln_domctl_create *c = &op->u.create;
    const u32 platform = KILN_DOMCTL_CREATE_F_PC | KILN_DOMCTL_CREATE_F_TESTDEV;
    if (kstrnlen(c->name, KILN_NAME_MAX) >= KILN_NAME_MAX)
        return -KILN_EINVAL;
    if ((c->flags & KILN_DOMCTL_CREATE_F_TESTDEV) && !(c->flags & KILN_DOMCTL_CREATE_F_PC))
        return -KILN_EINVAL;
    /* The other flags are the guest's (domain_build checks them). */
    struct domain_config cfg = {
        .name = c->name, .memory_kib = c->memory_kib, .vcpus = c->vcpus,
        .flags = c->flags & ~platform, .weight = SCHED_WEIGHT_DEFAULT, .cap = 0, .domid = -1,
        .pc_platform = c->flags & KILN_DOMCTL_CREATE_F_PC,
        .testdev = c->flags & KILN_DOMCTL_CREATE_F_TESTDEV,
    };
    struct domain *d;
    int rc = domain_create(&cfg, &d);
    if (rc)
        return rc;
    op->domid = d->id;
    return 0;
}

static void dom_getinfo(struct kiln_domctl *op, struct domain *t)
{
    struct kiln_domctl_info *i = &op->u.info;
    kmemset(i, 0, sizeof(*i));
    op->domid = t->id;
    i->memory_kib = t->memory_kib;
    i->cpu_time_ns = domain_cpu_time(t);
    i->vcpus = t->nr_vcpus;
    i->state = t->state;
    /* PAUSED only once no vCPU is left in guest mode, so a caller that
     * waits for it knows the domain has really stopped. */
    if (t->state == KILN_DOMSTATE_RUNNING && t->paused && !t->running)
        i->state = KILN_DOMSTATE_PAUSED;
    i->shutdown_reason = t->shutdown_reason;
    i->flags = t->flags;
    kstrlcpy(i->name, t->name, sizeof(i->name));
    i->exit_code = t->exit_code;
}

static s64 dom_write_mem(struct vcpu *v, struct kiln_domctl *op, struct domain *t)
{
    struct kiln_domctl_write_mem *w = &op->u.write_mem;
    if (w->len > PAGE_SIZE || (w->dest_gpa & (PAGE_SIZE - 1)))
        return -KILN_EINVAL;
    if ((w->src_gpa & (PAGE_SIZE - 1)) + w->len > PAGE_SIZE)
        return -KILN_EINVAL;
    if (!w->len)
        return 0;
    const void *src = p2m_hva(v->domain, w->src_gpa, w->len);
    void *dst = p2m_hva(t, w->dest_gpa, w->len);
    if (!src || !dst)
        return -KILN_EFAULT;
    kmemmove(dst, src, w->len);   /* source and target may be the same domain */
    p2m_mark_dirty(t, w->dest_gpa, w->len);
    return 0;
}

static s64 dom_set_vcpu(struct kiln_domctl *op, struct domain *t)
{
    struct kiln_domctl_vcpu *s = &op->u.vcpu;
    if (s->vcpu >= t->nr_vcpus)
        return -KILN_EINVAL;
    /* The VMCB must not be in use on another CPU while we rewrite it. */
    if (t->running || (t->state != KILN_DOMSTATE_BUILDING && !t->paused))
        return -KILN_EBUSY;
    if (s->cr3 == 0) {
        if (s->rip > 0xffffffffu || s->rsp > 0xffffffffu)
            return -KILN_EINVAL;
    } else {
        if ((s->cr3 & (PAGE_SIZE - 1)) || s->cr3 >= t->p2m.nr_pages * PAGE_SIZE ||
            !canonical(s->rip) || !canonical(s->rsp))
            return -KILN_EINVAL;
    }
    vcpu_set_boot_state(t->vcpus[s->vcpu], s);
    return 0;
}

static s64 dom_console_read(struct vcpu *v, struct kiln_domctl_console *c, struct domain *t)
{
    if ((c->buf_gpa & (PAGE_SIZE - 1)) + c->len > PAGE_SIZE || c->len > PAGE_SIZE)
        return -KILN_EINVAL;
    char *buf = c->len ? p2m_hva(v->domain, c->buf_gpa, c->len) : NULL;
    if (c->len && !buf)
        return -KILN_EFAULT;
    c->len = t ? domain_console_read(t, buf, c->len, &c->offset)
               : console_ring_read(buf, c->len, &c->offset);
    p2m_mark_dirty(v->domain, c->buf_gpa, c->len);
    return 0;
}

/* Foreign mappings are dom0's own window: checked in foreign.c, the
 * target looked up here (dom0 itself and DOMID_SELF are refused there). */
static s64 dom_foreign(struct vcpu *v, struct kiln_domctl *op)
{
    struct kiln_domctl_foreign *f = &op->u.foreign;
    if (op->cmd == KILN_DOMCTL_UNMAP_FOREIGN)
        return op->domid == KILN_DOMID_SELF ? foreign_unmap(v->domain, f->local_gpa) : -KILN_EINVAL;
    u32 id = op->domid == KILN_DOMID_SELF ? v->domain->id : op->domid;
    struct domain *t = id < KILN_DOMID_SELF ? domain_find((u16)id) : NULL;
    return foreign_map(v->domain, t, f->gfn, f->local_gpa);
}

static s64 domctl_locked(struct vcpu *v, struct kiln_domctl *op)
{
    if (op->cmd == KILN_DOMCTL_CREATE)
        return dom_create(op);
    if (op->cmd == KILN_DOMCTL_GETINFO) {
        struct domain *t = domain_find_from(op->domid == KILN_DOMID_SELF ? v->domain->id
                                                                          : (u16)op->domid);
        if (op->domid > KILN_DOMID_SELF || !t)
            return -KILN_ESRCH;
        dom_getinfo(op, t);
        return 0;
    }
    if (op->cmd == KILN_DOMCTL_MAP_FOREIGN || op->cmd == KILN_DOMCTL_UNMAP_FOREIGN)
        return dom_foreign(v, op);
    if (op->cmd >= KILN_DOMCTL_GET_VCPU_STATE && op->cmd <= KILN_DOMCTL_CLOCK)
        return domctl_migrate(v, op);
    if (op->cmd < KILN_DOMCTL_CREATE ||
        (op->cmd > KILN_DOMCTL_CONSOLE_READ && op->cmd != KILN_DOMCTL_PC_BOOT))
        return -KILN_ENOSYS;

    u32 id = op->domid == KILN_DOMID_SELF ? v->domain->id : op->domid;
    struct domain *t = id < KILN_DOMID_SELF ? domain_find((u16)id) : NULL;
    if (!t)
        return -KILN_ESRCH;
    if (t->state == KILN_DOMSTATE_DYING && op->cmd != KILN_DOMCTL_CONSOLE_READ &&
        op->cmd != KILN_DOMCTL_SCHED_GET && op->cmd != KILN_DOMCTL_DESTROY)
        return -KILN_EBUSY;

    /* dom0 is not built, paused or moved by anyone: it runs the
     * toolstack that would have to undo it, and it owns CPU 0. */
    if (t->hardware && op->cmd != KILN_DOMCTL_SCHED_GET && op->cmd != KILN_DOMCTL_CONSOLE_READ &&
        op->cmd != KILN_DOMCTL_SET_CPUID)
        return -KILN_EPERM;

    switch (op->cmd) {
    case KILN_DOMCTL_DESTROY: {
        /* dom0's mappings of t's pages go first, on dom0's CPU where its
         * TLB flush is sure to precede its next access; anyone else
         * destroying a domain dom0 has mapped could not guarantee that. */
        if (!v->domain->hardware && foreign_count(t->id))
            return -KILN_EBUSY;
        foreign_release(t);
        char why[48];
        ksnprintf(why, sizeof(why), "destroyed by d%u (domctl)", v->domain->id);
        t->destroyed = true;
        if (t->state == KILN_DOMSTATE_DYING)
            domain_try_reap(t);   /* shut down already: free it now */
        else
            domain_kill(t, KILN_SHUTDOWN_POWEROFF, why);
        return 0;
    }
    case KILN_DOMCTL_PAUSE:
        return domain_pause(t);
    case KILN_DOMCTL_UNPAUSE:
        return domain_unpause(t);
    case KILN_DOMCTL_WRITE_MEM:
        return dom_write_mem(v, op, t);
    case KILN_DOMCTL_SET_VCPU:
        return dom_set_vcpu(op, t);
    case KILN_DOMCTL_SCHED_GET:
        sched_get_params(&t->sd, &op->u.sched.weight, &op->u.sched.cap);
        return 0;
    case KILN_DOMCTL_SCHED_SET:
        return sched_set_params(&t->sd, op->u.sched.weight, op->u.sched.cap);
    case KILN_DOMCTL_VCPU_PIN:
        if (op->u.pin.vcpu >= t->nr_vcpus)
            return -KILN_EINVAL;
        return vcpu_set_affinity(t->vcpus[op->u.pin.vcpu], op->u.pin.cpumask);
    case KILN_DOMCTL_SET_CPUID:
        return domain_set_cpuid(t, &op->u.cpuid);
    case KILN_DOMCTL_CONSOLE_READ:
        return dom_console_read(v, &op->u.console, t);
    case KILN_DOMCTL_PC_BOOT:
        return domctl_pc_boot(v, &op->u.pc_boot, t);
    default:
        return -KILN_ENOSYS;
    }
}

/* How long DESTROY waits for the target's vCPUs to leave guest mode. */
#define DESTROY_WAIT_NS 1000000000ull

/*
 * DESTROY returns once the domain is gone (its memory back in the
 * allocator, its id and name no longer listed), as Xen's destroy does: a
 * toolstack that creates a domain of the same name next, or counts free
 * pages, must not see the old one.  Freeing waits for the target's vCPUs
 * to leave guest mode on their CPUs (they are kicked), so this spins with
 * the lock dropped; never for the caller's own domain, which cannot leave
 * while it waits.
 */
static void wait_until_gone(u16 id)
{
    u64 deadline = now_ns() + DESTROY_WAIT_NS;
    for (;;) {
        unsigned long flags = spin_lock_irqsave(&domlist_lock);
        bool gone = !domain_find(id);
        spin_unlock_irqrestore(&domlist_lock, flags);
        if (gone)
            return;
        if (now_ns() > deadline) {
            pr_warn("d%u still not freed 1 s after its destroy\n", id);
            return;
        }
        cpu_relax();
    }
}

s64 hypercall_domctl(struct vcpu *v, struct kiln_domctl *op)
{
    u32 id = op->domid == KILN_DOMID_SELF ? v->domain->id : op->domid;
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    s64 rc = domctl_locked(v, op);
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (rc == 0 && op->cmd == KILN_DOMCTL_DESTROY && id != v->domain->id)
        wait_until_gone((u16)id);
    return rc;
}

s64 hypercall_sysctl(struct vcpu *v, struct kiln_sysctl *op)
{
    switch (op->cmd) {
    case KILN_SYSCTL_PHYSINFO: {
        struct kiln_sysctl_physinfo *p = &op->u.physinfo;
        p->foreign_base = 0;
        p->foreign_pages = 0;
        p->_pad = 0;
        unsigned long flags = spin_lock_irqsave(&domlist_lock);
        /* Built on dom0's first ask, before the free count is read, so
         * that count never moves because of it later. */
        if (v->domain->hardware)
            foreign_window(&p->foreign_base, &p->foreign_pages);
        p->nr_domains = domain_count();
        spin_unlock_irqrestore(&domlist_lock, flags);
        p->total_pages = mm_total_pages();
        p->free_pages = mm_free_pages();
        p->cpu_khz = tsc_hz() / 1000;
        p->nr_cpus = smp_nr_cpus();
        return 0;
    }
    case KILN_SYSCTL_LOG_READ:
        return dom_console_read(v, &op->u.log, NULL);
    default:
        return -KILN_ENOSYS;
    }
}
