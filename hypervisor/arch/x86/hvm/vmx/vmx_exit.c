/*
 * vmx_exit.c - what happens on each VM exit: one switch on the basic exit
 * reason, one small helper per kind, at parity with svm_exit.c.
 *
 * Nothing a guest does may take the hypervisor down: every path completes
 * the guest's instruction, injects the fault real hardware would raise
 * (#GP for a refused MSR or control register value, #UD for VMX
 * instructions, VMX being hidden), or destroys that one domain with a log
 * line naming the reason and the guest RIP.
 *
 * Hypercalls: VMCALL exits; VMMCALL, AMD's hypercall instruction (Kiln's
 * guests use it), raises #UD on Intel, which is intercepted and emulated
 * as a hypercall when the three bytes at RIP are VMMCALL's, so the same
 * guest runs on both vendors (and can move between them).
 */
#include <kiln/console.h>
#include <kiln/hvm_event.h>
#include <kiln/hypercall.h>
#include <kiln/percpu.h>
#include <kiln/x86.h>
#include "vmx.h"
#include "vmx_caps.h"

#define EXC_DB 1
#define EXC_UD 6
#define EXC_GP 13
#define EFER_LMA    (1ul << 10)
#define RFLAGS_TF   (1ul << 8)
#define RFLAGS_IF   (1ul << 9)
#define CR0_TS      (1ul << 3)
#define CR4_VMXE    (1ul << 13)
#define CR4_OSXSAVE (1ul << 18)
#define DR6_BS      (1ul << 14)

/* Completes the exiting instruction (its length is in the VMCS). */
static void skip_insn(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    s->g.rip += vmread(EXIT_INSN_LEN);
    if (!((s->g.efer & EFER_LMA) && (s->g.seg[VSEG_CS].ar & AR_L)))
        s->g.rip &= 0xffffffffu;
    /* Completing an instruction ends any MOV SS/STI interrupt shadow. */
    s->g.intr_state &= ~(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
}

static void exit_cpuid(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u32 out[4];
    v->stats[KT_STAT_CPUID]++;
    hvm_cpuid(v, (s->g.cr4 & CR4_OSXSAVE) != 0, (u32)s->gprs.rax, (u32)s->gprs.rcx, out);
    skip_insn(v);
    s->gprs.rax = out[0];
    s->gprs.rbx = out[1];
    s->gprs.rcx = out[2];
    s->gprs.rdx = out[3];
}

static void exit_msr(struct vcpu *v, bool write)
{
    struct vmx_vcpu *s = vmx_of(v);
    u32 msr = (u32)s->gprs.rcx;
    v->stats[KT_STAT_MSR]++;
    if (!write) {
        u64 val;
        if (vmx_msr_read(v, msr, &val)) {
            hvm_event_exception(v, EXC_GP, true, 0);
            return;
        }
        skip_insn(v);
        s->gprs.rax = (u32)val;
        s->gprs.rdx = val >> 32;
    } else {
        u64 val = ((s->gprs.rdx & 0xffffffffu) << 32) | (s->gprs.rax & 0xffffffffu);
        if (vmx_msr_write(v, msr, val)) {
            hvm_event_exception(v, EXC_GP, true, 0);
            return;
        }
        skip_insn(v);
    }
}

static void exit_io(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u64 q = s->exit_qual;
    u16 port = (u16)(q >> IOQ_PORT_SHIFT);
    unsigned int size = (q & IOQ_SIZE_MASK) + 1;    /* 1, 2 or 4 */
    bool in = q & IOQ_IN;

    v->stats[KT_STAT_IO]++;
    if (q & IOQ_STRING) {
        struct hvm_string_io io = {
            .port = port, .size = (u8)size, .in = in, .rep = q & IOQ_REP,
            .next_rip = s->g.rip + vmread(EXIT_INSN_LEN),
        };
        struct hvm_paging pg;
        vmx_paging(v, &pg);
        hvm_string_io(v, &pg, &io);
        s->g.intr_state &= ~(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
        return;
    }
    u32 val = (u32)s->gprs.rax;
    hvm_port_io(v, port, size, in, &val);
    if (in) {
        u64 mask = size == 4 ? 0xffffffffull : size == 2 ? 0xffffull : 0xffull;
        /* A 32-bit IN zero-extends into RAX; narrower ones merge. */
        s->gprs.rax = size == 4 ? val : (s->gprs.rax & ~mask) | (val & mask);
    }
    skip_insn(v);
}

static void hypercall(struct vcpu *v)
{
    v->stats[KT_STAT_VMMCALL]++;
    hypercall_dispatch(v);
}

/* #UD: VMMCALL (0f 01 d9) is a hypercall; anything else is the guest's. */
static void exit_ud(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct hvm_paging pg;
    u8 b[3];
    vmx_paging(v, &pg);
    if (hvm_fetch_insn(v, &pg, s->g.rip, b, sizeof(b)) == sizeof(b) && b[0] == 0x0f &&
        b[1] == 0x01 && b[2] == 0xd9) {
        s->g.rip += 3;
        if (!pg.cs_long)
            s->g.rip &= 0xffffffffu;
        s->g.intr_state &= ~(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
        hypercall(v);
        return;
    }
    hvm_event_exception(v, EXC_UD, false, 0);
}

static void exit_exception(struct vcpu *v)
{
    u32 info = (u32)vmread(EXIT_INTR_INFO);
    if ((info & INTR_TYPE_MASK) == INTR_TYPE_NMI) {
        /* The host's NMI (a panic's stop, a watchdog dump): its handler. */
        v->stats[KT_STAT_INTR]++;
        __asm__ __volatile__("int $2" ::: "memory");
        return;
    }
    if ((info & 0xff) == EXC_UD) {
        exit_ud(v);
        return;
    }
    domain_crash(v->domain, "unexpected exception exit 0x%x at rip=0x%lx", info,
                 (unsigned long)vmx_of(v)->g.rip);
}

static void exit_hlt(struct vcpu *v)
{
    v->stats[KT_STAT_HLT]++;
    skip_insn(v);
    hvm_vcpu_halt(v, (vmx_of(v)->g.rflags & RFLAGS_IF) != 0);
}

static void exit_ept_violation(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u64 rip = s->g.rip;
    v->stats[KT_STAT_NPF]++;
    hvm_nested_fault(v, vmread(GUEST_PHYS_ADDR), vmx_ept_error_code(s->exit_qual));
    if (s->g.rip != rip)    /* an emulated MMIO instruction completed */
        s->g.intr_state &= ~(INTR_BLOCK_STI | INTR_BLOCK_MOV_SS);
}

static void exit_triple_fault(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct hvm_paging pg;
    u8 b[3] = { 0, 0, 0 };
    pr_warn("d%u v%u triple fault state: idt-vectoring %lx rflags %lx cr0 %lx cr2 %lx "
            "cr3 %lx cr4 %lx efer %lx cs %x/%x rsp %lx vpid %u cpu %u\n",
            v->domain->id, v->id, (unsigned long)vmread(IDT_VECTORING_INFO),
            (unsigned long)s->g.rflags, (unsigned long)s->g.cr0, (unsigned long)s->g.cr2,
            (unsigned long)s->g.cr3, (unsigned long)s->g.cr4, (unsigned long)s->g.efer,
            s->g.seg[VSEG_CS].sel, s->g.seg[VSEG_CS].ar, (unsigned long)s->g.rsp, s->vpid,
            smp_processor_id());
    vmx_paging(v, &pg);
    size_t n = hvm_fetch_insn(v, &pg, s->g.rip, b, sizeof(b));
    domain_crash(v->domain, "triple fault at rip=0x%lx (bytes %02x %02x %02x%s, IDT limit %u)",
                 (unsigned long)s->g.rip, b[0], b[1], b[2], n ? "" : " unreadable",
                 s->g.idtr_limit);
}

/* ---- control registers -------------------------------------------------- */

/* The GPR a CR-access exit names (the SDM's order: RAX, RCX, RDX, RBX,
 * RSP, RBP, RSI, RDI, R8-R15). */
static u64 *cr_gpr(struct vmx_vcpu *s, unsigned int n)
{
    struct vmx_gprs *r = &s->gprs;
    u64 *const regs[16] = {
        &r->rax, &r->rcx, &r->rdx, &r->rbx, &s->g.rsp, &r->rbp, &r->rsi, &r->rdi,
        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return regs[n & 15];
}

/*
 * PAE paging without long mode: a MOV to CR0 the CPU executes loads the
 * four PDPTEs from CR3; one emulated here must load them into the VMCS
 * the same way (VM entry takes them from there with EPT).  0, or -1 for
 * the #GP the CPU raises on a PDPTE with reserved bits set.
 */
static int load_pdptes(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u64 pdpte[4];
    if (copy_from_guest(v->domain, pdpte, s->g.cr3 & 0xffffffe0u, sizeof(pdpte)))
        return -1;
    for (unsigned int i = 0; i < 4; i++) {
        /* Reserved: bits 1, 2, 5-8 and above the physical address width
         * (52 bits here at most). */
        if ((pdpte[i] & 1) && (pdpte[i] & (0x1e6ull | 0xfff0000000000000ull)))
            return -1;
    }
    for (unsigned int i = 0; i < 4; i++)
        vmwrite(GUEST_PDPTE0 + 2 * i, pdpte[i]);
    return 0;
}

/* 0, or -1 for #GP. */
static int set_cr0(struct vcpu *v, u64 val)
{
    struct vmx_vcpu *s = vmx_of(v);
    if ((val >> 32) || ((val & CR0_PG) && !(val & CR0_PE)) ||
        ((val & CR0_NW) && !(val & CR0_CD)))
        return -1;
    bool paging_on = (val & CR0_PG) && !(s->g.cr0 & CR0_PG);
    if (paging_on && (s->g.efer & EFER_LME) && !(s->g.cr4 & CR4_PAE))
        return -1;
    if (paging_on && !(s->g.efer & EFER_LME) && (s->g.cr4 & CR4_PAE) && load_pdptes(v))
        return -1;
    s->g.cr0 = val;
    vmwrite(CR0_SHADOW, val);
    vmwrite(GUEST_CR0, vmx_fixed_cr(val, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1,
                                    CR0_PE | CR0_PG));
    vmx_set_efer(v, s->g.efer);
    s->flush = true;
    return 0;
}

static int set_cr4(struct vcpu *v, u64 val)
{
    struct vmx_vcpu *s = vmx_of(v);
    if ((val & ~vmx_caps.cr4_fixed1) || (val & (CR4_VMXE | CR4_OSXSAVE)) ||
        ((s->g.efer & EFER_LMA) && !(val & CR4_PAE)))
        return -1;
    s->g.cr4 = val;
    vmwrite(CR4_SHADOW, val);
    vmwrite(GUEST_CR4, vmx_fixed_cr(val, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    s->flush = true;
    return 0;
}

static void exit_cr_access(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u64 q = s->exit_qual;
    unsigned int cr = q & 15, type = (q >> 4) & 3;
    u64 *reg = cr_gpr(s, (unsigned int)(q >> 8) & 15);
    int rc = 0;

    switch (type) {
    case 0:     /* MOV to CR */
        if (cr == 0)
            rc = set_cr0(v, *reg);
        else if (cr == 4)
            rc = set_cr4(v, *reg);
        else if (cr == 8 && (*reg >> 4))
            rc = -1;
        else if (cr == 8 && v->ev.ctrl)
            v->ev.ctrl->set_cr8(v, (u8)*reg);
        else if (cr != 8)
            rc = -1;
        break;
    case 1:     /* MOV from CR: only CR8 exits */
        if (cr != 8) {
            rc = -1;
            break;
        }
        *reg = v->ev.ctrl ? v->ev.ctrl->get_cr8(v) & 15 : 0;
        break;
    case 2:     /* CLTS */
        rc = set_cr0(v, s->g.cr0 & ~CR0_TS);
        break;
    default:    /* LMSW: the low four bits; it cannot clear PE */
        rc = set_cr0(v, (s->g.cr0 & ~0xeull) | ((q >> 16) & 0xf));
        break;
    }
    if (rc) {
        hvm_event_exception(v, EXC_GP, true, 0);
        return;
    }
    skip_insn(v);
}

/* ---- dispatch ----------------------------------------------------------- */

static void entry_failed(struct vcpu *v, u32 reason)
{
    domain_crash(v->domain, "VM entry failed: %s (qualification %lu) at rip=0x%lx",
                 (reason & 0xffff) == EXIT_INVALID_STATE ? "invalid guest state" :
                 (reason & 0xffff) == EXIT_MSR_LOADING ? "MSR loading" : "machine check",
                 (unsigned long)vmx_of(v)->exit_qual, (unsigned long)vmx_of(v)->g.rip);
}

void vmx_handle_exit(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    u32 reason = s->exit_reason;
    unsigned long rip = (unsigned long)s->g.rip;
    u64 tf = s->g.rflags & RFLAGS_TF;

    v->stats[KT_STAT_TOTAL]++;
    if (reason & EXIT_REASON_ENTRY_FAILED) {
        entry_failed(v, reason);
        return;
    }
    switch (reason & 0xffff) {
    case EXIT_EXCEPTION_NMI:
        exit_exception(v);
        break;
    case EXIT_EXT_INTR:
    case EXIT_PREEMPT_TIMER:
        /* Taken by the host's IDT in vmx_run already (the preemption
         * timer stands for the host's timer, see vmx.c). */
        v->stats[KT_STAT_INTR]++;
        break;
    case EXIT_CPUID:
        exit_cpuid(v);
        break;
    case EXIT_RDMSR:
        exit_msr(v, false);
        break;
    case EXIT_WRMSR:
        exit_msr(v, true);
        break;
    case EXIT_IO:
        exit_io(v);
        break;
    case EXIT_VMCALL:
        skip_insn(v);
        hypercall(v);
        break;
    case EXIT_EPT_VIOLATION:
        exit_ept_violation(v);
        break;
    case EXIT_EPT_MISCONFIG:
        /* Kiln wrote a bad EPT entry: this domain cannot go on. */
        domain_crash(v->domain, "EPT misconfiguration at GPA 0x%lx, rip=0x%lx",
                     (unsigned long)vmread(GUEST_PHYS_ADDR), rip);
        break;
    case EXIT_HLT:
        exit_hlt(v);
        break;
    case EXIT_CR_ACCESS:
        exit_cr_access(v);
        break;
    case EXIT_INVD:
        skip_insn(v);       /* caches are coherent; nothing to drop */
        break;
    case EXIT_INTR_WINDOW:
        /* The guest can take an interrupt: vmx_intr_before_entry injects
         * it and drops the request. */
        break;
    case EXIT_NMI_WINDOW:
        /* Virtual NMI blocking ended: the guest's NMI handler returned. */
        hvm_event_iret(v);
        break;
    case EXIT_TRIPLE_FAULT:
        exit_triple_fault(v);
        break;
    case EXIT_XSETBV:
    case EXIT_GETSEC:
    case EXIT_VMCLEAR:
    case EXIT_VMLAUNCH:
    case EXIT_VMPTRLD:
    case EXIT_VMPTRST:
    case EXIT_VMREAD:
    case EXIT_VMRESUME:
    case EXIT_VMWRITE:
    case EXIT_VMXOFF:
    case EXIT_VMXON:
    case EXIT_INVEPT:
    case EXIT_INVVPID:
    case EXIT_VMFUNC:
        /* VMX and XSAVE are hidden from guests: these do not exist. */
        hvm_event_exception(v, EXC_UD, false, 0);
        break;
    case EXIT_MWAIT:
    case EXIT_MONITOR:
        /* Hidden by the CPUID policy (the guest would sleep on the
         * physical CPU): undefined, as on a CPU without them. */
        hvm_event_exception(v, EXC_UD, false, 0);
        break;
    case EXIT_RDPMC:
        /* Domains get no PMU (CPUID leaf 0xA is hidden): no counter exists. */
        hvm_event_exception(v, EXC_GP, true, 0);
        break;
    case EXIT_INIT:
        domain_crash(v->domain, "INIT signal at rip=0x%lx", rip);
        break;
    case EXIT_TASK_SWITCH:
        domain_crash(v->domain, "hardware task switch at rip=0x%lx is not supported", rip);
        break;
    default:
        domain_crash(v->domain, "unexpected exit %u (qualification 0x%lx) at rip=0x%lx",
                     reason & 0xffff, (unsigned long)s->exit_qual, rip);
        break;
    }
    /* An instruction Kiln completed for the guest with RFLAGS.TF set ends
     * in the single-step trap the CPU would have raised. */
    if (tf && s->g.rip != rip && !v->ev.exc_pending)
        vmwrite(GUEST_PENDING_DBG, DR6_BS);
}
