/*
 * event.c - the backend-neutral half of event delivery (hvm_event.h): what
 * to deliver at the next entry, waking and kicking a vCPU when an event
 * becomes pending, HLT, and INIT/SIPI.
 *
 * Locking: the pending flags are written with atomics from any CPU and
 * consumed on the vCPU's own CPU; halting, waking and the INIT/SIPI state
 * changes happen under domlist_lock, which also says whether a CPU uses
 * the vCPU's backend state (v->run_cpu).  A halt and a notify never miss
 * each other: the halter sets `halted` and then looks for events, the
 * notifier makes its event visible and then looks at `halted`, each with
 * a full barrier in between, so at least one of them sees the other.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/hvm_event.h>
#include <kiln/percpu.h>
#include <kiln/smp.h>
#include <kiln/time.h>

struct hvm_event_plan hvm_event_plan(const struct hvm_events *ev, const struct hvm_intr_window *w,
                                     int intr)
{
    struct hvm_event_plan p = { .inject = { .kind = HVM_EV_NONE } };
    bool nmi = ev->nmi_pending && !ev->nmi_in_service && !w->nmi_blocked;

    p.want_iret = ev->nmi_in_service;
    if (w->busy) {
        /* One event per entry: ask for an exit right after this one (for
         * an NMI too, approximately: SVM has no NMI window exit).  A
         * pending exception cannot coexist with a re-delivery (it comes
         * from emulating an instruction, which no delivery interrupted). */
        p.want_intr_window = intr >= 0 || nmi;
        return p;
    }
    if (ev->exc_pending) {
        p.inject = (struct hvm_event){ .kind = HVM_EV_EXCEPTION, .vector = ev->exc_vector,
                                       .has_error = ev->exc_has_error, .error = ev->exc_error };
        p.want_intr_window = intr >= 0 || nmi;
        return p;
    }
    if (nmi && !w->shadow) {
        p.inject = (struct hvm_event){ .kind = HVM_EV_NMI, .vector = 2 };
        p.want_iret = true;
        p.want_intr_window = intr >= 0;
        return p;
    }
    if (intr >= 0 && w->if_set && !w->shadow) {
        p.inject = (struct hvm_event){ .kind = HVM_EV_INTR, .vector = (u8)intr };
        return p;
    }
    /* An NMI held back by the shadow gets the window exit that follows
     * it.  One held back by an IRET that has not completed asks for it
     * only with IF clear: the IRET then sets IF, and the exit comes right
     * after it; with IF set the window is open already, the exit would
     * come before the IRET, again and again, so the NMI waits for the
     * vCPU's next exit instead. */
    bool nmi_waits = ev->nmi_pending && !ev->nmi_in_service &&
                     (w->shadow || (w->nmi_blocked && !w->if_set));
    p.want_intr_window = intr >= 0 || nmi_waits;
    return p;
}

#ifndef KILN_UNIT_TEST

void hvm_event_delivered(struct vcpu *v, struct hvm_event *e, int intr)
{
    struct hvm_events *ev = &v->ev;
    switch (e->kind) {
    case HVM_EV_EXCEPTION:
        ev->exc_pending = false;
        break;
    case HVM_EV_NMI:
        __atomic_store_n(&ev->nmi_pending, false, __ATOMIC_RELEASE);
        ev->nmi_in_service = true;
        break;
    case HVM_EV_INTR:
        e->vector = ev->ctrl->ack(v, intr);
        break;
    case HVM_EV_NONE:
        break;
    }
}

void hvm_event_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
    struct hvm_events *ev = &v->ev;
    ev->exc_vector = vector;
    ev->exc_has_error = has_error;
    ev->exc_error = error;
    ev->exc_pending = true;
}

void hvm_event_iret(struct vcpu *v)
{
    v->ev.nmi_in_service = false;
}

/* Would an event end v's halt now?  Any CPU. */
static bool halt_ends(struct vcpu *v)
{
    const struct hvm_events *ev = &v->ev;
    if (__atomic_load_n(&ev->init_pending, __ATOMIC_ACQUIRE))
        return true;
    if (__atomic_load_n(&ev->nmi_pending, __ATOMIC_ACQUIRE) && !ev->nmi_in_service)
        return true;
    return ev->halt_if && ev->ctrl && ev->ctrl->pending(v) >= 0;
}

/* A vCPU in guest mode elsewhere exits, and sees the event before it
 * enters again; one about to enter sees it anyway (the kick stays pending
 * and makes that entry exit at once). */
static void kick_running(struct vcpu *v)
{
    int cpu = READ_ONCE(v->run_cpu);
    if (cpu >= 0 && (unsigned int)cpu != smp_processor_id())
        smp_kick((unsigned int)cpu);
}

void hvm_event_notify(struct vcpu *v)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v->ev.halted, __ATOMIC_ACQUIRE)) {
        unsigned long flags = spin_lock_irqsave(&domlist_lock);
        if (v->ev.halted && halt_ends(v))
            vcpu_wake(v);
        spin_unlock_irqrestore(&domlist_lock, flags);
    }
    kick_running(v);
}

void hvm_event_notify_locked(struct vcpu *v)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (v->ev.halted && halt_ends(v))
        vcpu_wake(v);
    kick_running(v);
}

void hvm_event_nmi(struct vcpu *v)
{
    __atomic_store_n(&v->ev.nmi_pending, true, __ATOMIC_RELEASE);
    hvm_event_notify(v);
}

/* INIT takes effect: the vCPU forgets its pending events, its local APIC
 * resets, and it waits for a SIPI, not runnable.  domlist_lock held, no
 * CPU in guest mode with v (or v's own CPU, about to leave). */
static void init_locked(struct vcpu *v)
{
    struct hvm_events *ev = &v->ev;
    vcpu_wake(v);   /* out of a halt or sched_block: INIT ends those */
    __atomic_store_n(&ev->init_pending, false, __ATOMIC_RELEASE);
    __atomic_store_n(&ev->nmi_pending, false, __ATOMIC_RELEASE);
    ev->exc_pending = false;
    ev->nmi_in_service = false;
    ev->sipi_pending = false;
    if (ev->ctrl)
        ev->ctrl->init(v);
    ev->wait_sipi = true;
    v->initialised = false;
    vcpu_update_runnable(v);
}

void hvm_event_init(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    if (v->run_cpu < 0) {
        init_locked(v);
    } else {
        /* Its CPU applies it before the next entry (hvm_event_apply_init). */
        __atomic_store_n(&v->ev.init_pending, true, __ATOMIC_RELEASE);
    }
    spin_unlock_irqrestore(&domlist_lock, flags);
    hvm_event_notify(v);
}

void hvm_event_apply_init(struct vcpu *v)
{
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    if (v->ev.init_pending)
        init_locked(v);
    spin_unlock_irqrestore(&domlist_lock, flags);
}

/* SIPI: real mode at vector * 4 KiB (CS = vector << 8, IP 0). */
static void sipi_locked(struct vcpu *v, u8 vector)
{
    struct hvm_boot_state b = { .real_mode = true, .cs_sel = (u16)(vector << 8) };
    hvm->vcpu_set_boot_state(v, &b);
    v->ev.wait_sipi = false;
    v->ev.sipi_pending = false;
    v->initialised = true;
    vcpu_update_runnable(v);
}

void hvm_event_sipi(struct vcpu *v, u8 vector)
{
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    if (v->ev.wait_sipi) {
        if (v->run_cpu < 0) {
            sipi_locked(v, vector);
        } else {
            /* Still leaving guest mode after its INIT: the CPU that puts it
             * back applies the SIPI (hvm_event_put_back). */
            v->ev.sipi_vector = vector;
            v->ev.sipi_pending = true;
        }
    }
    /* Not waiting for one (running, or a second SIPI): ignored, as on
     * hardware. */
    spin_unlock_irqrestore(&domlist_lock, flags);
}

void hvm_event_put_back(struct vcpu *v)
{
    if (v->ev.sipi_pending && v->ev.wait_sipi)
        sipi_locked(v, v->ev.sipi_vector);
}

u64 hvm_event_advance(struct vcpu *v, u64 now)
{
    struct hvm_events *ev = &v->ev;
    if (!ev->ctrl)
        return 0;
    return ev->ctrl->advance(v, now);
}

void hvm_vcpu_halt(struct vcpu *v, bool if_set)
{
    struct hvm_events *ev = &v->ev;
    if (!ev->ctrl) {
        /* Kiln's own test guests have no interrupt controller: a halt lasts
         * one tick at most (their tests rely on it). */
        vcpu_block(v, now_ns() + HVM_HLT_MAX_NS);
        return;
    }
    u64 deadline = hvm_event_advance(v, now_ns());
    unsigned long flags = spin_lock_irqsave(&domlist_lock);
    ev->halt_if = if_set;
    __atomic_store_n(&ev->halted, true, __ATOMIC_RELEASE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (halt_ends(v) || !vcpu_block_locked(v, deadline))
        ev->halted = false;
    spin_unlock_irqrestore(&domlist_lock, flags);
    vcpu_sched_raise();
}

#endif /* KILN_UNIT_TEST */
