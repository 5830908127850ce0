/*
 * vcpu.c - a vCPU's life: creation, initial state, and the run state the
 * scheduler sees (runnable = domain running and not paused, vCPU given a
 * boot state and not blocked).
 *
 * Callers hold domlist_lock except where a function says otherwise.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include <kiln/x86.h>

BUILD_BUG_ON(sizeof(struct vcpu) > PAGE_SIZE);

int vcpu_create(struct domain *d, unsigned int id)
{
    struct vcpu *v = alloc_pages_zeroed(0);
    if (!v)
        return -KILN_ENOMEM;
    v->domain = d;
    v->id = id;
    v->wake_cpu = -1;
    v->run_cpu = -1;
    list_init(&v->wake_elem);
    int rc = hvm->vcpu_init(v);
    if (rc) {
        free_page(v);
        return rc;
    }
    rc = sched_vcpu_init(&v->sv, &d->sd, id);
    if (rc) {
        hvm->vcpu_destroy(v);
        free_page(v);
        return rc;
    }
    v->in_sched = true;
    d->vcpus[id] = v;
    return 0;
}

void vcpu_destroy(struct vcpu *v)
{
    if (v->run_cpu >= 0)
        panic("d%u v%u freed while CPU %d still runs it", v->domain->id, v->id, v->run_cpu);
    vcpu_sched_del_wakeup(v);
    if (v->in_sched)
        sched_vcpu_destroy(&v->sv);
    v->in_sched = false;
    hvm->vcpu_destroy(v);
    v->domain->vcpus[v->id] = NULL;
    free_page(v);
}

void vcpu_set_boot_state(struct vcpu *v, const struct kiln_domctl_vcpu *st)
{
    struct hvm_boot_state b = {
        .rip = st->rip, .rsp = st->rsp, .rdi = st->rdi, .rsi = st->rsi, .cr3 = st->cr3,
    };
    vcpu_set_boot_regs(v, &b);
}

void vcpu_set_boot_regs(struct vcpu *v, const struct hvm_boot_state *b)
{
    hvm->vcpu_set_boot_state(v, b);
    v->initialised = true;
    v->blocked = false;
    vcpu_update_runnable(v);
}

void vcpu_update_runnable(struct vcpu *v)
{
    struct domain *d = v->domain;
    if (!v->in_sched)
        return;
    if (d->state == KILN_DOMSTATE_RUNNING && !d->paused && v->initialised && !v->blocked)
        sched_wake(&v->sv);
    else
        sched_sleep(&v->sv);
}

bool vcpu_block_locked(struct vcpu *v, u64 deadline_ns)
{
    if (deadline_ns && deadline_ns <= now_ns())
        return false;
    v->blocked = true;
    v->wake_deadline = deadline_ns;
    if (deadline_ns)
        vcpu_sched_add_wakeup(v);
    vcpu_update_runnable(v);
    return true;
}

/* Takes domlist_lock: called from the exit path of v itself. */
void vcpu_block(struct vcpu *v, u64 deadline_ns)
{
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    bool blocked = vcpu_block_locked(v, deadline_ns);
    spin_unlock_irqrestore(&domlist_lock, flags);
    if (blocked)
        vcpu_sched_raise();
}

void vcpu_wake(struct vcpu *v)
{
    if (!v->blocked)
        return;
    /* Whatever ended it, a halt is over once the vCPU runs again. */
    v->ev.halted = false;
    v->blocked = false;
    v->wake_deadline = 0;
    vcpu_sched_del_wakeup(v);
    vcpu_update_runnable(v);
}

/* Takes domlist_lock: v is running on this CPU, but another CPU may be
 * killing its domain. */
void vcpu_yield(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    if (v->in_sched)
        sched_yield(&v->sv);
    spin_unlock_irqrestore(&domlist_lock, flags);
    vcpu_sched_raise();
}

u64 vcpu_runtime(const struct vcpu *v)
{
    /* The writer clears guest_entry_tsc before adding the finished run to
     * runtime_ns; reading in the opposite order never counts a run twice. */
    u64 t = __atomic_load_n(&v->runtime_ns, __ATOMIC_ACQUIRE);
    u64 entry = __atomic_load_n(&v->guest_entry_tsc, __ATOMIC_ACQUIRE);
    u64 now = rdtsc();
    if (entry && now > entry)
        t += tsc_to_ns(now - entry);
    return t;
}

int vcpu_set_affinity(struct vcpu *v, u64 mask)
{
    if (!v->in_sched)
        return -KILN_EBUSY;
    return sched_set_affinity(&v->sv, mask);
}
