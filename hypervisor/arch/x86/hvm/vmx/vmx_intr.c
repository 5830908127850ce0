/*
 * vmx_intr.c - VT-x's half of event delivery (the decisions are
 * hvm_event.h's).  After each exit, an event whose delivery the exit
 * interrupted (IDT-vectoring information) goes back into the VM-entry
 * interruption field, with its instruction length for software events,
 * so INTn, INT3 and INTO are re-delivered without executing them again;
 * an IRET that unblocked NMIs before the exit gets its blocking back.
 * Before each entry, what hvm_event_plan() chose goes into the VM-entry
 * interruption field, an interrupt that must wait asks for the
 * interrupt-window exit, and an NMI in service asks for the NMI-window
 * exit, which comes when the guest's IRET ends virtual-NMI blocking.
 */
#include <kiln/hvm_event.h>
#include <kiln/x86.h>
#include "vmx.h"

#define RFLAGS_IF (1ul << 9)

static u32 entry_info_of(const struct hvm_event *e, bool real_mode, bool *has_error)
{
    *has_error = false;
    switch (e->kind) {
    case HVM_EV_EXCEPTION:
        /* Real mode delivers no error code. */
        *has_error = e->has_error && !real_mode;
        return e->vector | INTR_TYPE_HW_EXC | INTR_INFO_VALID |
               (*has_error ? INTR_INFO_ERR_VALID : 0);
    case HVM_EV_NMI:
        return 2 | INTR_TYPE_NMI | INTR_INFO_VALID;
    case HVM_EV_INTR:
        return e->vector | INTR_TYPE_EXT | INTR_INFO_VALID;
    case HVM_EV_NONE:
        break;
    }
    return 0;
}

void vmx_intr_after_exit(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u32 idt = (u32)vmread(IDT_VECTORING_INFO);
    u32 basic = s->exit_reason & 0xffff;

    if (idt & INTR_INFO_VALID) {
        u32 type = idt & INTR_TYPE_MASK;
        vmwrite(ENTRY_INTR_INFO, idt & ~INTR_INFO_NMI_UNBLOCK);
        if (idt & INTR_INFO_ERR_VALID)
            vmwrite(ENTRY_EXC_ERROR, vmread(IDT_VECTORING_ERROR));
        if (type == INTR_TYPE_SW_INT || type == INTR_TYPE_PRIV_SW_EXC ||
            type == INTR_TYPE_SW_EXC)
            vmwrite(ENTRY_INSN_LEN, vmread(EXIT_INSN_LEN));
        return;
    }
    /* A fault during an IRET that had already unblocked NMIs: the IRET is
     * executed again, so NMIs are blocked again until it completes. */
    bool unblocked = (basic == EXIT_EXCEPTION_NMI &&
                      (vmread(EXIT_INTR_INFO) & INTR_INFO_NMI_UNBLOCK)) ||
                     (basic == EXIT_EPT_VIOLATION && (s->exit_qual & EPTQ_NMI_UNBLOCK));
    if (unblocked)
        s->g.intr_state |= INTR_BLOCK_NMI;
}

void vmx_intr_before_entry(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct hvm_events *ev = &v->ev;
    struct hvm_intr_window w = {
        .busy = (vmread(ENTRY_INTR_INFO) & INTR_INFO_VALID) != 0,
        .if_set = (s->g.rflags & RFLAGS_IF) != 0,
        .shadow = (s->g.intr_state & (INTR_BLOCK_STI | INTR_BLOCK_MOV_SS)) != 0,
        .nmi_blocked = (s->g.intr_state & INTR_BLOCK_NMI) != 0,
    };
    int intr = ev->ctrl ? ev->ctrl->pending(v) : -1;
    struct hvm_event_plan p = hvm_event_plan(ev, &w, intr);
    if (p.inject.kind != HVM_EV_NONE) {
        bool has_error;
        hvm_event_delivered(v, &p.inject, intr);
        vmwrite(ENTRY_INTR_INFO, entry_info_of(&p.inject, !(s->g.cr0 & CR0_PE), &has_error));
        if (has_error)
            vmwrite(ENTRY_EXC_ERROR, p.inject.error);
    }
    u32 ctls = s->cpu_ctls & ~(CPU_INTR_WINDOW | CPU_NMI_WINDOW);
    if (p.want_intr_window)
        ctls |= CPU_INTR_WINDOW;
    if (p.want_iret)
        ctls |= CPU_NMI_WINDOW;
    if (ctls != s->cpu_ctls) {
        s->cpu_ctls = ctls;
        vmwrite(CPU_CONTROLS, ctls);
    }
}
