/*
 * vmx.h - state shared by the files of the VT-x backend (not by common
 * code), and the VMX instructions as inline functions.
 *
 * A vCPU's VMCS is current only on the CPU running it, between the start
 * and the end of vmx_run().  Everything else (get_regs from a hypercall,
 * set_boot_state from the toolstack, the common code's paging walks) works
 * on a copy of the guest state kept in struct vmx_vcpu: vmx_run reads the
 * often-needed fields back after each exit and writes the copy into the
 * VMCS before each entry (all of it after a new boot state).  Exit
 * handlers, which run with the VMCS current, also read and write rarely
 * used fields directly.
 */
#ifndef KILN_VMX_VMX_H
#define KILN_VMX_VMX_H

#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/types.h>
#include "vmcs.h"

/* Guest GPRs VM entry and exit do not switch (RSP and RIP are in the
 * VMCS); layout fixed by entry.S. */
struct vmx_gprs {
    u64 rax, rbx, rcx, rdx, rsi, rdi, rbp;
    u64 r8, r9, r10, r11, r12, r13, r14, r15;
};

struct vmx_seg_state {
    u16 sel;
    u32 limit, ar;
    u64 base;
};

/* The guest state vmx_run keeps in step with the VMCS. */
struct vmx_guest {
    u64 rip, rsp, rflags;
    u64 cr0, cr3, cr4;          /* as the guest sees them (read shadows) */
    u64 efer, cr2, pat;
    u32 intr_state;             /* interruptibility (STI, MOV SS, NMI) */
    struct vmx_seg_state seg[VSEG_COUNT];
    u64 gdtr_base, idtr_base;
    u32 gdtr_limit, idtr_limit;
};

struct vmx_vcpu {
    u8 fpu[512] __aligned(16);  /* FXSAVE image of the guest's x87/SSE state */
    struct vmx_gprs gprs;
    struct vmx_guest g;
    void *vmcs;
    paddr_t vmcs_pa;
    u16 vpid;
    bool launched;              /* VMLAUNCH done since the last VMCLEAR */
    bool configured;            /* controls written into the VMCS */
    bool load_all;              /* a new boot state: write all of g at entry */
    bool flush;                 /* INVEPT/INVVPID before the next entry */
    int last_cpu;               /* CPU of the previous vmx_run, -1 none */
    u32 cpu_ctls;               /* primary processor-based controls in use */
    u32 entry_ctls;
    u64 tsc_offset;
    /* MSRs VM entry and exit do not switch (the host does not use them;
     * vmx_run loads the guest's and leaves them there). */
    u64 star, lstar, cstar, sfmask, kernel_gs_base;
    u32 tsc_aux;
    u64 misc_enable;
    /* The exit being handled. */
    u32 exit_reason;
    u64 exit_qual;
};

static inline struct vmx_vcpu *vmx_of(struct vcpu *v)
{
    return (struct vmx_vcpu *)v->hvm;
}

/* What the CPU offers, read once by vmx_probe. */
struct vmx_caps {
    u32 revision;
    u32 pin, cpu, cpu2, exit, entry;    /* controls used for every vCPU */
    u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
    u64 ept_vpid;
    bool ept_ad;
    unsigned int preempt_shift;         /* VMX-preemption timer rate, if used */
};
extern struct vmx_caps vmx_caps;
extern paddr_t vmx_io_bitmap_pa[2], vmx_msr_bitmap_pa;

/* ---- the VMX instructions ----------------------------------------------- */
static inline u64 vmread(enum vmcs_field f)
{
    u64 v;
    __asm__ __volatile__("vmread %1, %0" : "=rm"(v) : "r"((u64)f) : "cc");
    return v;
}

static inline void vmwrite(enum vmcs_field f, u64 v)
{
    __asm__ __volatile__("vmwrite %1, %0" :: "r"((u64)f), "rm"(v) : "cc");
}

/* 0, or -1 when the instruction failed (CF or ZF set). */
#define VMX_PA_INSN(name, insn)                                                \
    static inline int name(paddr_t pa)                                         \
    {                                                                          \
        u8 fail;                                                               \
        __asm__ __volatile__(insn " %1; setbe %0" : "=qm"(fail) : "m"(pa)      \
                             : "cc", "memory");                                \
        return fail ? -1 : 0;                                                  \
    }
VMX_PA_INSN(vmxon, "vmxon")
VMX_PA_INSN(vmclear, "vmclear")
VMX_PA_INSN(vmptrld, "vmptrld")

static inline void invept(unsigned long type, u64 eptp)
{
    struct { u64 eptp, zero; } d = { eptp, 0 };
    __asm__ __volatile__("invept %0, %1" :: "m"(d), "r"(type) : "cc", "memory");
}

static inline void invvpid(unsigned long type, u16 vpid)
{
    struct { u64 vpid, addr; } d = { vpid, 0 };
    __asm__ __volatile__("invvpid %0, %1" :: "m"(d), "r"(type) : "cc", "memory");
}

/* entry.S: one round trip into the guest; 0 after an exit, 1 when
 * VMLAUNCH/VMRESUME itself failed (VM_INSN_ERROR says why). */
int vmx_enter(struct vmx_gprs *g, bool launched);
extern const u8 vmx_exit_entry[];

/* vmx.c */
u64 vmx_eptp(struct domain *d);
void vmx_paging(struct vcpu *v, struct hvm_paging *pg);
/* Writes EFER into the VMCS and its copy; LMA and the entry control
 * follow LME and CR0.PG. */
void vmx_set_efer(struct vcpu *v, u64 efer);

/* vmx_exit.c */
void vmx_handle_exit(struct vcpu *v);

/* vmx_intr.c: around each entry, with interrupts off. */
void vmx_intr_before_entry(struct vcpu *v);
void vmx_intr_after_exit(struct vcpu *v);

/* vmx_msr.c: 0 on success, -1 to inject #GP. */
int vmx_msr_read(struct vcpu *v, u32 msr, u64 *val);
int vmx_msr_write(struct vcpu *v, u32 msr, u64 val);
/* Loads the guest's values of the MSRs VMX does not switch. */
void vmx_msr_load(struct vmx_vcpu *s);

#endif
