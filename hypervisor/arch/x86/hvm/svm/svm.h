/*
 * svm.h - state shared by the files of the SVM backend (not by common code).
 */
#ifndef KILN_SVM_SVM_H
#define KILN_SVM_SVM_H

#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/types.h>
#include "vmcb.h"

/* Guest GPRs VMRUN does not switch; layout fixed by entry.S. */
struct svm_gprs {
    u64 rbx, rcx, rdx, rsi, rdi, rbp;
    u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

struct svm_vcpu {
    u8 fpu[512] __aligned(16);  /* FXSAVE image (no XSAVE on the host) */
    void *xsave;                /* XSAVE area, one page (svm_xsave.c) */
    u64 xcr0;                   /* the guest's XCR0 */
    struct svm_gprs gprs;
    struct vmcb *vmcb;
    paddr_t vmcb_pa;
    u32 asid;
    int asid_cpu;               /* CPU the ASID belongs to, -1 = none */
    u64 asid_gen;
    /* svm_intr.c: the IRET that ends an NMI handler, until it completed,
     * and the CR8 value given to the guest at the last entry. */
    u64 iret_rip;
    bool iret_pending;
    bool iret_step;             /* single-stepping that IRET */
    u64 iret_dr6;               /* the guest's DR6 before the step */
    u8 cr8_written;
    /* IA32_TSC_AUX as the guest wrote it (what RDTSCP returns in ECX):
     * VMRUN does not switch the real one, svm_run loads it (the hypervisor
     * itself never reads it, and dom0's CPU runs no domU). */
    u32 tsc_aux;
    /* IA32_PKRS (PKS) and IA32_MISC_ENABLE as the guest wrote them; the
     * former is loaded into the CPU before VMRUN like TSC_AUX (the host
     * runs without CR4.PKS, so its value means nothing to the host). */
    u32 pkrs;
    u64 misc_enable;
};

static inline struct svm_vcpu *svm_of(struct vcpu *v)
{
    return (struct svm_vcpu *)v->hvm;
}

extern bool svm_has_pks;

void svm_save_host(paddr_t host_save_pa);
/* host_irqs: let host interrupts exit guest mode and be taken by the
 * hypervisor (domUs); false keeps them pending for the guest (dom0). */
void svm_enter(struct svm_gprs *g, paddr_t vmcb_pa, paddr_t host_save_pa, bool host_irqs);

/*
 * Seen twice on dom0: its VMCB came back from an exit holding the host's
 * own state (RIP just after VMRUN, the hypervisor's CR3).  QEMU 7.2's TCG
 * at times walks the host's page tables right after a #VMEXIT as if the
 * guest's nested paging were still on (tests/qemu/qmp_monitor.py); when
 * that walk takes a nested page fault, QEMU saves the host's state into
 * the guest's VMCB as the guest's.  Logs it, with each CPU's host save
 * areas (a page used twice would look the same), so a run can be told to
 * be the emulator's failure; the exit is then handled as usual.
 */
void svm_check_vmcb_holds_guest(struct vcpu *v);

/* svm_exit.c */
void svm_handle_exit(struct vcpu *v);
void svm_paging(struct vcpu *v, struct hvm_paging *pg);

/* svm_intr.c: around each VMRUN, with interrupts off. */
void svm_intr_before_entry(struct vcpu *v);
void svm_intr_after_exit(struct vcpu *v);
/* The IRET intercept fired (the guest's NMI handler is returning). */
void svm_intr_iret(struct vcpu *v);
/* A #DB exit: true when it was the IRET's single step (consumed). */
bool svm_intr_iret_stepped(struct vcpu *v);

/* svm_xsave.c: the guest's extended state and XCR0. */
void svm_xsave_cpu_up(void);
bool svm_xsave_offered(void);
int svm_xsave_vcpu_init(struct svm_vcpu *s);
void svm_xsave_vcpu_free(struct svm_vcpu *s);
void svm_xsave_load(struct svm_vcpu *s);        /* the CPU takes the vCPU */
void svm_xsave_put(struct svm_vcpu *s);         /* ... and lets it go */
void svm_xsave_before_entry(struct svm_vcpu *s);
void svm_xsave_after_exit(struct svm_vcpu *s);
void svm_xsave_xsetbv(struct vcpu *v);
/* svm_exit.c: moves RIP past the intercepted instruction (false: the
 * domain was destroyed, the instruction being undecodable). */
bool svm_skip_insn(struct vcpu *v);

/* svm_msr.c: 0 on success, -1 to inject #GP. */
int svm_msr_read(struct vcpu *v, u32 msr, u64 *val);
int svm_msr_write(struct vcpu *v, u32 msr, u64 val);

/* svm_state.c: hvm_ops get_state/set_state/tlb_flush (migration). */
void svm_get_state(struct vcpu *v, struct kiln_vcpu_state *st);
int svm_set_state(struct vcpu *v, const struct kiln_vcpu_state *st);
void svm_tlb_flush(struct vcpu *v);

/* svm_asid.c */
void svm_asid_init_cpu(unsigned int cpu);
/* Gives v an ASID valid on this CPU, requesting a TLB flush on reuse. */
void svm_asid_assign(struct vcpu *v);

#endif
