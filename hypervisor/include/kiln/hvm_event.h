/*
 * hvm_event.h - events waiting for a vCPU (exceptions, NMIs, external
 * interrupts, INIT and SIPI), kept apart from any backend so that SVM and
 * a VT-x backend decide the same way what to deliver at the next entry.
 *
 * The pieces:
 *  - struct hvm_events lives in every vCPU: a pending exception, NMI state
 *    and the INIT/SIPI signals, plus the vCPU's interrupt controller (its
 *    local APIC, which also presents the PIC's ExtINT), given by the
 *    platform glue as a hook table; a domain without a platform (Kiln's own
 *    test guests) has none and never sees an external interrupt;
 *  - hvm_event_plan() is pure: from the pending events and what the
 *    backend reports about the guest's interrupt window it says what to
 *    deliver now and which exit to ask for when nothing can be delivered
 *    yet (the interrupt window, the IRET that ends an NMI handler);
 *  - hvm_event_notify() is what anyone who makes an event pending calls:
 *    it wakes the vCPU when it halted and the event ends the halt, and
 *    kicks it out of guest mode when it runs on another CPU, so the next
 *    entry sees the event;
 *  - hvm_vcpu_halt() is HLT: it completes at once when an event would end
 *    it, otherwise blocks the vCPU in the scheduler until its controller's
 *    earliest timer deadline or a notify, never spinning.
 *
 * Priorities follow the hardware's: an event whose delivery an exit
 * interrupted first (the backend re-injects it), then an exception, an
 * NMI, then a maskable interrupt.
 */
#ifndef KILN_HVM_EVENT_H
#define KILN_HVM_EVENT_H

#include <kiln/types.h>

struct vcpu;

/* The vCPU's interrupt controller, as the platform glue offers it.  The
 * hooks are called with interrupts off and take the controller's own lock;
 * all but pending() only on the CPU that runs the vCPU (init(): that holds
 * it stopped, under domlist_lock). */
struct hvm_intr_ctrl {
    /* Vector of the highest-priority interrupt deliverable now (its
     * priority above the processor priority), HVM_INTR_EXTINT for the
     * 8259's (its vector comes with the INTA cycle), -1 for none.  May be
     * asked from any CPU, also with domlist_lock held; no side effects. */
    int (*pending)(struct vcpu *v);
    /* The interrupt pending() returned is delivered now: IRR to ISR, or
     * the PIC's INTA.  Returns the vector to inject. */
    u8 (*ack)(struct vcpu *v, int intr);
    /* TPR bits 7:4 (CR8), for backends that let the guest write CR8. */
    u8 (*get_cr8)(struct vcpu *v);
    void (*set_cr8)(struct vcpu *v, u8 cr8);
    /* Brings the controller's timers (and those of the domain's devices)
     * up to now, raising what fell due; returns the earliest deadline still
     * ahead (absolute ns, 0 = none). */
    u64 (*advance)(struct vcpu *v, u64 now);
    /* INIT received: the local APIC goes back to its power-on state. */
    void (*init)(struct vcpu *v);
};

struct hvm_events {
    const struct hvm_intr_ctrl *ctrl;   /* NULL: no interrupt controller */
    /* Set by the backend's exit handlers (its own CPU only). */
    bool exc_pending;
    u8 exc_vector;
    bool exc_has_error;
    u32 exc_error;
    /* Set from any CPU (atomically), consumed on the vCPU's own CPU. */
    bool nmi_pending;
    bool init_pending;
    /* The guest runs an NMI handler: no NMI until its IRET. */
    bool nmi_in_service;
    /* The vCPU halted (HLT) and is blocked until an event ends it. */
    bool halted;
    bool halt_if;                        /* RFLAGS.IF at the HLT */
    /* Waiting for a SIPI after INIT, and a SIPI that came while the
     * vCPU was still leaving guest mode (under domlist_lock). */
    bool wait_sipi;
    bool sipi_pending;
    u8 sipi_vector;
};

/* hvm_intr_ctrl.pending(): the 8259's INTR (through LINT0 in ExtINT). */
#define HVM_INTR_EXTINT 256

enum hvm_event_kind { HVM_EV_NONE, HVM_EV_EXCEPTION, HVM_EV_NMI, HVM_EV_INTR };

struct hvm_event {
    enum hvm_event_kind kind;
    u8 vector;
    bool has_error;
    u32 error;
};

/* What the backend knows of the guest right before an entry. */
struct hvm_intr_window {
    bool busy;          /* an interrupted event is re-delivered at this entry */
    bool if_set;        /* RFLAGS.IF */
    bool shadow;        /* STI / MOV SS interrupt shadow */
    bool nmi_blocked;   /* the IRET ending an NMI handler has not completed */
};

struct hvm_event_plan {
    struct hvm_event inject;    /* deliver at this entry (HVM_EV_NONE: nothing) */
    bool want_intr_window;      /* exit as soon as the guest can take an interrupt */
    bool want_iret;             /* exit at the guest's next IRET (NMI handler ends) */
};

/* Decides the next entry's event from ev and the window; intr is the
 * controller's deliverable vector (-1 none).  Pure: the caller consumes
 * what it delivers (hvm_event_delivered). */
struct hvm_event_plan hvm_event_plan(const struct hvm_events *ev, const struct hvm_intr_window *w,
                                     int intr);
/* The backend delivers e at this entry: clears the exception, marks the
 * NMI in service, or acknowledges the interrupt (intr, what pending()
 * said) at the controller, setting e->vector to the vector to inject. */
void hvm_event_delivered(struct vcpu *v, struct hvm_event *e, int intr);

/* Queues an exception for the next entry (replacing one not yet delivered:
 * the later fault is the one the instruction raised). */
void hvm_event_exception(struct vcpu *v, u8 vector, bool has_error, u32 error);
/* An NMI for v (any CPU). */
void hvm_event_nmi(struct vcpu *v);
/* The guest's NMI handler returned (its IRET completed). */
void hvm_event_iret(struct vcpu *v);
/* Something became pending for v (any CPU): wake it from HLT when that
 * ends the halt, kick its CPU when it runs elsewhere. */
void hvm_event_notify(struct vcpu *v);
/* The same, for callers that already hold domlist_lock. */
void hvm_event_notify_locked(struct vcpu *v);

/* INIT and SIPI (any CPU, domlist_lock NOT held). */
void hvm_event_init(struct vcpu *v);
void hvm_event_sipi(struct vcpu *v, u8 vector);
/* On v's own CPU before an entry: applies a pending INIT (v then waits
 * for a SIPI and must leave guest mode). */
void hvm_event_apply_init(struct vcpu *v);
/* The scheduling loop gave v's backend state back (domlist_lock held,
 * v->run_cpu just cleared): applies a SIPI that arrived meanwhile. */
void hvm_event_put_back(struct vcpu *v);

/* HLT (the instruction already completed): returns at once when an event
 * ends the halt, otherwise blocks v.  if_set: the guest's RFLAGS.IF. */
void hvm_vcpu_halt(struct vcpu *v, bool if_set);

/* Brings v's controller timers to now and returns the earliest deadline
 * still ahead (0 none); nothing to do without a controller. */
u64 hvm_event_advance(struct vcpu *v, u64 now);

#endif
