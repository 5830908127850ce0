/*
 * svm_intr.c - SVM's half of event delivery (the decisions are
 * hvm_event.h's): before each VMRUN, what hvm_event_plan() chose goes into
 * EVENTINJ, an interrupt that must wait for the guest's interrupt window
 * becomes a V_IRQ request with the VINTR intercept (an exit as soon as the
 * guest could take it, then EVENTINJ), and an NMI in service turns on the
 * IRET intercept; after each exit, what the guest changed comes back: its
 * CR8 (V_TPR, with V_INTR_MASKING the guest's CR8 writes go there) and
 * the IRET ending its NMI handler.
 *
 * The IRET intercept exits before the IRET executes.  NMIs stay blocked
 * until RIP has moved off it (iret_rip), which is when the IRET completed;
 * to get an exit right then (an NMI may be waiting, and the guest's IF may
 * be clear after the IRET), the IRET is single-stepped: TF set for that
 * one entry and #DB intercepted; the trap comes after the IRET whatever
 * flags it popped.  Nothing is injected at that entry (an event delivered
 * before the IRET would carry TF into its handler).
 */
#include <kiln/hvm_event.h>
#include <kiln/x86.h>
#include "svm.h"

#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define EXC_DB    1

static u64 evtinj_of(const struct hvm_event *e)
{
    switch (e->kind) {
    case HVM_EV_EXCEPTION: {
        u64 ev = e->vector | SVM_EVTINJ_TYPE_EXCP | SVM_EVTINJ_VALID;
        if (e->has_error)
            ev |= SVM_EVTINJ_ERR_VALID | ((u64)e->error << 32);
        return ev;
    }
    case HVM_EV_NMI:
        return 2 | SVM_EVTINJ_TYPE_NMI | SVM_EVTINJ_VALID;
    case HVM_EV_INTR:
        return e->vector | SVM_EVTINJ_TYPE_INTR | SVM_EVTINJ_VALID;
    case HVM_EV_NONE:
        break;
    }
    return 0;
}

void svm_intr_before_entry(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb *vm = s->vmcb;
    struct hvm_events *ev = &v->ev;

    if (s->iret_pending && vm->save.rip != s->iret_rip)
        s->iret_pending = false;
    if (s->iret_step)
        return;     /* the IRET runs alone, single-stepped */
    struct hvm_intr_window w = {
        .busy = (vm->ctl.eventinj & SVM_EVTINJ_VALID) != 0,
        .if_set = (vm->save.rflags & RFLAGS_IF) != 0,
        .shadow = (vm->ctl.interrupt_shadow & 1) != 0,
        .nmi_blocked = s->iret_pending,
    };
    int intr = ev->ctrl ? ev->ctrl->pending(v) : -1;
    struct hvm_event_plan p = hvm_event_plan(ev, &w, intr);
    if (p.inject.kind != HVM_EV_NONE) {
        hvm_event_delivered(v, &p.inject, intr);
        vm->ctl.eventinj = evtinj_of(&p.inject);
    }

    u64 vintr = vm->ctl.vintr & ~(SVM_VINTR_TPR_MASK | SVM_VINTR_IRQ | SVM_VINTR_PRIO_MASK |
                                  SVM_VINTR_IGN_TPR | SVM_VINTR_VECTOR_MASK);
    if (ev->ctrl) {
        s->cr8_written = ev->ctrl->get_cr8(v) & 0xf;
        vintr |= s->cr8_written;
    }
    if (p.want_intr_window) {
        /* Never delivered (the VINTR intercept exits first): the vector is
         * only a placeholder, TPR is the vLAPIC's business (V_IGN_TPR). */
        vintr |= SVM_VINTR_IRQ | SVM_VINTR_PRIO_MASK | SVM_VINTR_IGN_TPR;
        vm->ctl.intercept_misc1 |= SVM_INTR_VINTR;
    } else {
        vm->ctl.intercept_misc1 &= ~SVM_INTR_VINTR;
    }
    vm->ctl.vintr = vintr;
    if (p.want_iret)
        vm->ctl.intercept_misc1 |= SVM_INTR_IRET;
    else
        vm->ctl.intercept_misc1 &= ~SVM_INTR_IRET;
}

void svm_intr_after_exit(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb *vm = s->vmcb;
    if (v->ev.ctrl && (vm->ctl.vintr & 0xf) != s->cr8_written)
        v->ev.ctrl->set_cr8(v, (u8)(vm->ctl.vintr & 0xf));
}

void svm_intr_iret(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb *vm = s->vmcb;
    s->iret_rip = vm->save.rip;
    s->iret_pending = true;
    hvm_event_iret(v);
    /* An event the exit interrupted goes first; the IRET comes back. */
    if (vm->ctl.eventinj & SVM_EVTINJ_VALID)
        return;
    s->iret_step = true;
    s->iret_dr6 = vm->save.dr6;
    vm->save.rflags |= RFLAGS_TF;
    vm->ctl.intercept_exceptions |= 1u << EXC_DB;
    vm->ctl.intercept_misc1 &= ~(SVM_INTR_VINTR | SVM_INTR_IRET);
    vm->ctl.vintr &= ~SVM_VINTR_IRQ;
}

bool svm_intr_iret_stepped(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb *vm = s->vmcb;
    if (!s->iret_step)
        return false;
    s->iret_step = false;
    vm->ctl.intercept_exceptions &= ~(1u << EXC_DB);
    vm->save.dr6 = s->iret_dr6;
    /* A #DB that hit before the IRET completed (RIP still on it) was not
     * ours: the guest's own, delivered. */
    return vm->save.rip != s->iret_rip;
}
