/*
 * svm_exit.c - what happens on each #VMEXIT: one switch on the exit code,
 * one small helper per exit kind (the shape of Xen's svm_vmexit_handler).
 *
 * Nothing a guest does may take the hypervisor down: every path either
 * completes the guest's instruction, injects the fault real hardware would
 * raise (#GP for a refused MSR, #UD for SVM instructions), or destroys that
 * one domain with a log line naming the reason and the guest RIP.
 */
#include <kiln/console.h>
#include <kiln/hvm_event.h>
#include <kiln/hypercall.h>
#include <kiln/ioreq.h>
#include <kiln/percpu.h>
#include <kiln/x86.h>
#include "svm.h"

#define EXC_UD 6
#define EXC_GP 13
#define EFER_LMA (1ul << 10)
#define RFLAGS_TF (1ul << 8)
#define RFLAGS_IF (1ul << 9)
#define DR6_BS    (1ul << 14)
#define EXC_DB 1
#define CR4_OSXSAVE (1ul << 18)

void svm_paging(struct vcpu *v, struct hvm_paging *pg)
{
    struct vmcb_save *st = &svm_of(v)->vmcb->save;
    pg->cr0 = st->cr0;
    pg->cr3 = st->cr3;
    pg->cr4 = st->cr4;
    pg->efer = st->efer;
    pg->cs_base = st->cs.base;
    pg->cs_long = (st->efer & EFER_LMA) && (st->cs.attr & SEG_ATTR_L);
    pg->cs_32 = (st->cs.attr & SEG_ATTR_DB) != 0;
}

/* Moves RIP past the intercepted instruction (no NRIP-save here). */
bool svm_skip_insn(struct vcpu *v)
{
    struct vmcb_save *st = &svm_of(v)->vmcb->save;
    struct hvm_paging pg;
    svm_paging(v, &pg);
    unsigned int len = hvm_insn_length(v, &pg, st->rip);
    if (!len) {
        u8 b[4] = { 0, 0, 0, 0 };
        size_t n = hvm_fetch_insn(v, &pg, st->rip, b, sizeof(b));
        domain_crash(v->domain, "undecodable instruction at rip=0x%lx (exit 0x%lx, %zu bytes %02x %02x %02x %02x, cr0 %lx cr3 %lx cr4 %lx efer %lx cs %x)",
                     (unsigned long)st->rip, (unsigned long)svm_of(v)->vmcb->ctl.exitcode, n,
                     b[0], b[1], b[2], b[3], (unsigned long)pg.cr0, (unsigned long)pg.cr3,
                     (unsigned long)pg.cr4, (unsigned long)pg.efer, st->cs.attr);
        return false;
    }
    st->rip += len;
    if (!pg.cs_long)
        st->rip &= 0xffffffffu;
    /* Completing an instruction ends any MOV SS/STI interrupt shadow. */
    svm_of(v)->vmcb->ctl.interrupt_shadow = 0;
    return true;
}

static void exit_cpuid(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    u32 out[4];
    v->stats[KT_STAT_CPUID]++;
    hvm_cpuid(v, (s->vmcb->save.cr4 & CR4_OSXSAVE) != 0, (u32)s->vmcb->save.rax,
              (u32)s->gprs.rcx, out);
    if (!svm_skip_insn(v))
        return;
    s->vmcb->save.rax = out[0];
    s->gprs.rbx = out[1];
    s->gprs.rcx = out[2];
    s->gprs.rdx = out[3];
}

static void exit_msr(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    u32 msr = (u32)s->gprs.rcx;
    v->stats[KT_STAT_MSR]++;
    if (s->vmcb->ctl.exitinfo1 == 0) {
        u64 val;
        if (svm_msr_read(v, msr, &val)) {
            hvm_event_exception(v, EXC_GP, true, 0);
            return;
        }
        if (!svm_skip_insn(v))
            return;
        s->vmcb->save.rax = (u32)val;
        s->gprs.rdx = val >> 32;
    } else {
        u64 val = ((s->gprs.rdx & 0xffffffffu) << 32) | (s->vmcb->save.rax & 0xffffffffu);
        if (svm_msr_write(v, msr, val)) {
            hvm_event_exception(v, EXC_GP, true, 0);
            return;
        }
        svm_skip_insn(v);
    }
}

static void exit_ioio(struct vcpu *v)
{
    struct vmcb *vm = svm_of(v)->vmcb;
    u64 info = vm->ctl.exitinfo1;
    u16 port = (u16)(info >> SVM_IOIO_PORT_SHIFT);
    unsigned int size = (info >> SVM_IOIO_SZ_SHIFT) & 7;   /* 1, 2 or 4 */
    bool in = info & SVM_IOIO_IN;

    v->stats[KT_STAT_IO]++;
    if (info & SVM_IOIO_STR) {
        struct hvm_string_io io = {
            .port = port, .size = (u8)size, .in = in, .rep = info & SVM_IOIO_REP,
            .next_rip = vm->ctl.exitinfo2,
        };
        struct hvm_paging pg;
        svm_paging(v, &pg);
        hvm_string_io(v, &pg, &io);
        vm->ctl.interrupt_shadow = 0;
        return;
    }
    u32 val = (u32)vm->save.rax;
    int fw = hvm_ioreq_port(v, port, size, in, &val);
    if (fw == HVM_IOREQ_RETRY)
        return;     /* forwarded to its server: RIP stays until the answer */
    if (fw == HVM_IOREQ_NOT_MINE)
        hvm_port_io(v, port, size, in, &val);
    if (in) {
        u64 mask = size == 4 ? 0xffffffffull : size == 2 ? 0xffffull : 0xffull;
        /* A 32-bit IN zero-extends into RAX; narrower ones merge. */
        vm->save.rax = size == 4 ? val : (vm->save.rax & ~mask) | (val & mask);
    }
    vm->save.rip = vm->ctl.exitinfo2;   /* the CPU gives us the next RIP */
    vm->ctl.interrupt_shadow = 0;
}

static void exit_vmmcall(struct vcpu *v)
{
    v->stats[KT_STAT_VMMCALL]++;
    if (!svm_skip_insn(v))
        return;
    hypercall_dispatch(v);
}

static void exit_hlt(struct vcpu *v)
{
    v->stats[KT_STAT_HLT]++;
    if (!svm_skip_insn(v))
        return;
    hvm_vcpu_halt(v, (svm_of(v)->vmcb->save.rflags & RFLAGS_IF) != 0);
}

/* A triple fault's log line says what the guest was executing and whether
 * it had an IDT at all: that is usually the whole story.  When it is not
 * (an instruction that cannot fault, a guest that worked a moment ago), the
 * state line before it tells a guest bug from hypervisor damage: the event
 * being delivered, the control registers and the VMCB and CPU it ran with
 * (the crash line's reason is cut at 160 characters, hence two lines). */
static void exit_shutdown(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb_save *st = &s->vmcb->save;
    struct vmcb_control *c = &s->vmcb->ctl;
    struct hvm_paging pg;
    u8 b[3] = { 0, 0, 0 };
    pr_warn("d%u v%u triple fault state: exitintinfo %lx eventinj %lx rflags %lx "
            "cr0 %lx cr2 %lx cr3 %lx cr4 %lx efer %lx cs %x/%x rsp %lx rax %lx "
            "ncr3 %lx (p2m %lx) asid %u/cpu%d vmcb %lx run_cpu %d cpu %u\n",
            v->domain->id, v->id, (unsigned long)c->exitintinfo, (unsigned long)c->eventinj,
            (unsigned long)st->rflags, (unsigned long)st->cr0, (unsigned long)st->cr2,
            (unsigned long)st->cr3, (unsigned long)st->cr4, (unsigned long)st->efer,
            st->cs.sel, st->cs.attr, (unsigned long)st->rsp, (unsigned long)st->rax,
            (unsigned long)c->n_cr3, (unsigned long)v->domain->p2m.root_pa, c->asid, s->asid_cpu, (unsigned long)s->vmcb_pa,
            v->run_cpu, smp_processor_id());
    svm_paging(v, &pg);
    /* QEMU's TCG at times fails a page walk right after a world switch
     * (hypervisor/README.md): a not-present #PF for an address the
     * guest's own page tables map.  Say so when the triple fault began so:
     * that is the CPU failing, not the guest. */
    u64 ii = c->exitintinfo;
    u8 probe;
    if ((ii & SVM_EVTINJ_VALID) && (ii & 0xff) == 14 && !((ii >> 32) & 1) &&
        !hvm_copy_linear(v, &pg, st->cr2, &probe, 1, false))
        pr_warn("d%u v%u: the #PF behind it was for 0x%lx, which its page tables map\n",
                v->domain->id, v->id, (unsigned long)st->cr2);
    size_t n = hvm_fetch_insn(v, &pg, st->rip, b, sizeof(b));
    domain_crash(v->domain, "triple fault at rip=0x%lx (bytes %02x %02x %02x%s, IDT limit %u)",
                 (unsigned long)st->rip, b[0], b[1], b[2], n ? "" : " unreadable",
                 st->idtr.limit);
}

/*
 * An exit in the middle of delivering an event (e.g. a nested page fault
 * on the guest's IDT or stack) must deliver it again, unless an
 * instruction raised it (INTn, INT3, INTO): RIP still points at that
 * instruction (there is no NRIP-save to inject it as a software event),
 * so the guest executes it again and raises it anew.
 */
static bool reinject(u64 info)
{
    if (!(info & SVM_EVTINJ_VALID))
        return false;
    u32 type = info & SVM_EVTINJ_TYPE_MASK;
    u8 vector = info & 0xff;
    if (type == SVM_EVTINJ_TYPE_SOFT)
        return false;
    return !(type == SVM_EVTINJ_TYPE_EXCP && (vector == 3 || vector == 4));
}

void svm_handle_exit(struct vcpu *v)
{
    struct vmcb *vm = svm_of(v)->vmcb;
    u64 code = vm->ctl.exitcode;
    unsigned long rip = (unsigned long)vm->save.rip;
    u64 tf = vm->save.rflags;

    v->stats[KT_STAT_TOTAL]++;
    svm_check_vmcb_holds_guest(v);
    vm->ctl.eventinj = 0;
    if (reinject(vm->ctl.exitintinfo))
        vm->ctl.eventinj = vm->ctl.exitintinfo;

    switch (code) {
    case SVM_EXIT_NMI:
        /* The host's IDT takes it when entry.S sets GIF again: a panic's
         * stop NMI never comes back.  Any other NMI on CPU 0 (the chipset's,
         * LINT1) is dom0's, which owns the platform: hand it on, unless an
         * event is being re-delivered (then it is lost, as a second NMI
         * would be on hardware). */
        if (v->domain->hardware && !(vm->ctl.eventinj & SVM_EVTINJ_VALID))
            vm->ctl.eventinj = 2 | SVM_EVTINJ_TYPE_NMI | SVM_EVTINJ_VALID;
        v->stats[KT_STAT_INTR]++;
        break;
    case SVM_EXIT_INTR:
    case SVM_EXIT_SMI:
        /* Already taken by the host's IDT when entry.S set GIF again. */
        v->stats[KT_STAT_INTR]++;
        break;
    case SVM_EXIT_CPUID:
        exit_cpuid(v);
        break;
    case SVM_EXIT_MSR:
        exit_msr(v);
        break;
    case SVM_EXIT_IOIO:
        exit_ioio(v);
        break;
    case SVM_EXIT_VMMCALL:
        exit_vmmcall(v);
        break;
    case SVM_EXIT_NPF:
        v->stats[KT_STAT_NPF]++;
        hvm_nested_fault(v, vm->ctl.exitinfo2, vm->ctl.exitinfo1);
        if (vm->save.rip != rip)    /* an emulated MMIO instruction completed */
            vm->ctl.interrupt_shadow = 0;
        break;
    case SVM_EXIT_HLT:
        exit_hlt(v);
        break;
    case SVM_EXIT_XSETBV:
        svm_xsave_xsetbv(v);
        break;
    case SVM_EXIT_VINTR:
        /* The guest can take an interrupt: svm_intr_before_entry injects
         * it and drops the request. */
        break;
    case SVM_EXIT_IRET:
        svm_intr_iret(v);
        break;
    case SVM_EXIT_EXCP_BASE + 1:
        /* #DB is intercepted only to single-step an NMI handler's IRET. */
        if (!svm_intr_iret_stepped(v))
            hvm_event_exception(v, 1, false, 0);
        break;
    case SVM_EXIT_SHUTDOWN:
        exit_shutdown(v);
        break;
    case SVM_EXIT_VMRUN:
    case SVM_EXIT_VMLOAD:
    case SVM_EXIT_VMSAVE:
    case SVM_EXIT_STGI:
    case SVM_EXIT_CLGI:
    case SVM_EXIT_SKINIT:
    case SVM_EXIT_INVLPGA:
    case SVM_EXIT_RSM:
        /* SVM is hidden from guests, so its instructions do not exist. */
        hvm_event_exception(v, EXC_UD, false, 0);
        break;
    case SVM_EXIT_INIT:
        domain_crash(v->domain, "INIT signal at rip=0x%lx", rip);
        break;
    case SVM_EXIT_TASK_SWITCH:
        domain_crash(v->domain, "hardware task switch at rip=0x%lx is not supported", rip);
        break;
    case SVM_EXIT_INVALID:
        domain_crash(v->domain, "invalid guest state (VMRUN failed) at rip=0x%lx", rip);
        break;
    default:
        domain_crash(v->domain, "unexpected exit 0x%lx (info 0x%lx/0x%lx) at rip=0x%lx",
                     (unsigned long)code, (unsigned long)vm->ctl.exitinfo1,
                     (unsigned long)vm->ctl.exitinfo2, rip);
        break;
    }
    /* An instruction Kiln completed for the guest (CPUID, port or MMIO
     * access, RDMSR...) with RFLAGS.TF set ends in the single-step trap the
     * CPU would have raised. */
    if ((tf & RFLAGS_TF) && vm->save.rip != rip && code != SVM_EXIT_EXCP_BASE + 1 &&
        !v->ev.exc_pending) {
        vm->save.dr6 |= DR6_BS;
        hvm_event_exception(v, EXC_DB, false, 0);
    }
}
