/*
 * svm.c - the AMD-V (SVM) backend: CPU enablement, VMCB set-up and the
 * run loop.  Exit handling lives in svm_exit.c, MSRs in svm_msr.c.
 *
 * Facts of the CPU model this must work on (QEMU TCG, see design.md §5):
 * VMRUN must be intercepted, the ASID non-zero and the guest's EFER.SVME
 * set (so EFER writes are intercepted and SVME forced on); the I/O and MSR
 * permission maps must be real memory; there is no NRIP-save, so RIP is
 * advanced with our own instruction length decoder.
 */
#include <kiln/console.h>
#include <kiln/hvm_event.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>
#include <kiln/serial.h>
#include <kiln/smp.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "svm.h"

#define IOPM_ORDER  2   /* 12 KiB used */
#define MSRPM_ORDER 1   /* 8 KiB */

struct svm_cpu {
    paddr_t hsave_pa;       /* VM_HSAVE_PA: where VMRUN keeps host state */
    paddr_t host_vmcb_pa;   /* VMSAVE/VMLOAD area for the host's FS/GS/TR... */
    u64 tsc_aux;            /* TSC_AUX as last loaded here, ~0 = unknown */
    u64 pkrs;               /* IA32_PKRS likewise (only with PKS) */
};

static struct svm_cpu svm_cpus[NR_CPUS];
static paddr_t iopm_pa, msrpm_pa;
bool svm_has_pks;           /* the CPU has IA32_PKRS (CPUID 7.0 ECX[31]) */
/* dom0's maps: every port but COM1's shared registers and almost every
 * MSR go straight to the hardware (dom0 owns the devices and CPU 0). */
static paddr_t dom0_iopm_pa, dom0_msrpm_pa;

/* MSRs that stay the hypervisor's even for dom0: EFER (SVME must stay set
 * and hidden), SVM's own (hidden, #GP), and PAT (with nested paging the
 * guest's PAT is the VMCB's g_pat; the host's must not change). */
static const u32 dom0_intercepted_msrs[] = {
    0xc0000080, /* EFER */
    0xc0010114, /* VM_CR */
    0xc0010115, /* IGNNE */
    0xc0010116, /* SMM_CTL */
    0xc0010117, /* VM_HSAVE_PA */
    0x277,      /* PAT */
};

/* Sets the read and write intercept bits of one MSR in an MSR permission
 * map (three 2 KiB ranges, two bits per MSR; MSRs outside them always
 * exit). */
static void msrpm_intercept(u8 *pm, u32 msr)
{
    u32 base;
    if (msr < 0x2000)
        base = 0;
    else if (msr - 0xc0000000u < 0x2000)
        base = 0x800, msr -= 0xc0000000u;
    else if (msr - 0xc0010000u < 0x2000)
        base = 0x1000, msr -= 0xc0010000u;
    else
        return;
    pm[base + msr / 4] |= (u8)(3u << ((msr % 4) * 2));
}

static int svm_cpu_up(void)
{
    unsigned int cpu = smp_processor_id();
    void *hsave = alloc_pages_zeroed(0);
    void *host = alloc_pages_zeroed(0);
    if (!hsave || !host) {
        if (hsave)
            free_page(hsave);
        if (host)
            free_page(host);
        return -KILN_ENOMEM;
    }
    mm_pin_page(hsave);
    mm_pin_page(host);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
    svm_cpus[cpu].hsave_pa = virt_to_phys(hsave);
    svm_cpus[cpu].tsc_aux = ~0ull;
    svm_cpus[cpu].pkrs = ~0ull;
    svm_cpus[cpu].host_vmcb_pa = virt_to_phys(host);
    wrmsr(MSR_VM_HSAVE_PA, svm_cpus[cpu].hsave_pa);
    svm_asid_init_cpu(cpu);
    svm_xsave_cpu_up();
    return 0;
}

static int svm_vcpu_init(struct vcpu *v)
{
    BUILD_BUG_ON(sizeof(struct svm_vcpu) > PAGE_SIZE);
    struct svm_vcpu *s = alloc_pages_zeroed(0);
    struct vmcb *vm = alloc_pages_zeroed(0);
    if (!s || !vm) {
        if (s)
            free_page(s);
        if (vm)
            free_page(vm);
        return -KILN_ENOMEM;
    }
    s->vmcb = vm;
    s->vmcb_pa = virt_to_phys(vm);
    s->asid_cpu = -1;
    s->misc_enable = 1;         /* fast strings, as QEMU resets it */
    if (svm_xsave_vcpu_init(s)) {
        free_page(vm);
        free_page(s);
        return -KILN_ENOMEM;
    }

    struct vmcb_control *c = &vm->ctl;
    c->intercept_misc1 = SVM_INTR_INTR | SVM_INTR_NMI | SVM_INTR_SMI | SVM_INTR_INIT |
                         SVM_INTR_CPUID | SVM_INTR_RSM | SVM_INTR_HLT | SVM_INTR_INVLPGA |
                         SVM_INTR_IOIO | SVM_INTR_MSR | SVM_INTR_TASK_SWITCH |
                         SVM_INTR_SHUTDOWN;
    c->intercept_misc2 = SVM_INTR2_VMRUN | SVM_INTR2_VMMCALL | SVM_INTR2_VMLOAD |
                         SVM_INTR2_VMSAVE | SVM_INTR2_STGI | SVM_INTR2_CLGI |
                         SVM_INTR2_SKINIT | SVM_INTR2_XSETBV;
    c->iopm_base_pa = iopm_pa;
    c->msrpm_base_pa = msrpm_pa;
    c->vintr = SVM_VINTR_MASKING;
    if (v->domain->hardware) {
        /* Physical interrupts go to dom0's IDT (no INTR exit, no virtual
         * masking: its RFLAGS.IF decides) and HLT waits for them natively;
         * port I/O and most MSRs pass through. */
        c->intercept_misc1 &= ~(SVM_INTR_INTR | SVM_INTR_HLT);
        c->vintr = 0;
        c->iopm_base_pa = dom0_iopm_pa;
        c->msrpm_base_pa = dom0_msrpm_pa;
    }
    c->np_enable = SVM_NP_ENABLE;
    c->n_cr3 = v->domain->p2m.root_pa;
    c->tlb_control = SVM_TLB_FLUSH_ALL;
    v->hvm = s;
    return 0;
}

static void svm_vcpu_destroy(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    if (!s)
        return;
    svm_xsave_vcpu_free(s);
    free_page(s->vmcb);
    free_page(s);
    v->hvm = NULL;
}

static void set_seg(struct vmcb_seg *seg, u16 sel, u16 attr, u32 limit)
{
    seg->sel = sel;
    seg->attr = attr;
    seg->limit = limit;
    seg->base = 0;
}

/* The state after INIT and a SIPI: real mode at CS = cs_sel, IP 0.  With
 * nested paging, SVM runs real mode natively (CR0.PE and PG clear). */
static void set_real_mode(struct vmcb_save *st, u16 cs_sel)
{
    set_seg(&st->cs, cs_sel, SEG_ATTR_REAL_CODE, 0xffff);
    st->cs.base = (u64)cs_sel << 4;
    set_seg(&st->ds, 0, SEG_ATTR_REAL_DATA, 0xffff);
    st->es = st->ss = st->fs = st->gs = st->ds;
    set_seg(&st->gdtr, 0, 0, 0xffff);
    set_seg(&st->idtr, 0, 0, 0xffff);
    set_seg(&st->ldtr, 0, SEG_ATTR_LDT, 0xffff);
    set_seg(&st->tr, 0, SEG_ATTR_TSS16_BUSY, 0xffff);
    st->efer = EFER_SVME;
    st->cr0 = 0x60000010;   /* CD, NW, ET: the power-on value */
}

static void svm_vcpu_set_boot_state(struct vcpu *v, const struct hvm_boot_state *b)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb_save *st = &s->vmcb->save;
    struct vmcb_control *c = &s->vmcb->ctl;
    bool lm = b->cr3 != 0;

    kmemset(st, 0, sizeof(*st));
    kmemset(&s->gprs, 0, sizeof(s->gprs));
    /* Nothing of the previous life is delivered into the new one. */
    c->eventinj = 0;
    c->interrupt_shadow = 0;
    c->vintr &= SVM_VINTR_MASKING;
    c->intercept_misc1 &= ~(SVM_INTR_VINTR | SVM_INTR_IRET);
    c->intercept_exceptions = 0;
    s->iret_pending = false;
    s->iret_step = false;
    s->xcr0 = 1;            /* x87 only, as after RESET and INIT */
    st->dr6 = 0xffff0ff0;
    st->dr7 = 0x400;
    st->rflags = 2;
    st->g_pat = 0x0007040600070406ull;
    if (b->real_mode) {
        set_real_mode(st, b->cs_sel);
        s->gprs.rdx = 0x600;    /* EDX after INIT: family 6 (what guests may read) */
        return;
    }
    set_seg(&st->cs, 0x08, lm ? SEG_ATTR_CODE64 : SEG_ATTR_CODE32, 0xffffffff);
    set_seg(&st->ds, 0x10, SEG_ATTR_DATA, 0xffffffff);
    st->es = st->ss = st->fs = st->gs = st->ds;
    set_seg(&st->gdtr, 0, 0, 0);
    set_seg(&st->idtr, 0, 0, 0);          /* no IDT: faults triple-fault */
    set_seg(&st->ldtr, 0, SEG_ATTR_LDT, 0);
    set_seg(&st->tr, 0, SEG_ATTR_TSS_BUSY, 0x67);
    st->cpl = 0;
    st->efer = EFER_SVME | (lm ? EFER_LME | (1ul << 10) /* LMA */ | EFER_NXE : 0);
    st->cr0 = CR0_PE | (1ul << 4) /* ET */ | (lm ? CR0_PG : 0);
    st->cr3 = b->cr3;
    st->cr4 = lm ? CR4_PAE : 0;
    st->rip = b->rip;
    st->rsp = b->rsp;
    st->rax = b->rax;
    s->gprs.rbx = b->rbx;
    s->gprs.rdi = b->rdi;
    s->gprs.rsi = b->rsi;
}

static void svm_get_regs(struct vcpu *v, struct hvm_regs *r)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb_save *st = &s->vmcb->save;
    r->rax = st->rax;
    r->rsp = st->rsp;
    r->rip = st->rip;
    r->rflags = st->rflags;
    r->rbx = s->gprs.rbx;
    r->rcx = s->gprs.rcx;
    r->rdx = s->gprs.rdx;
    r->rsi = s->gprs.rsi;
    r->rdi = s->gprs.rdi;
    r->rbp = s->gprs.rbp;
    r->r8 = s->gprs.r8;
    r->r9 = s->gprs.r9;
    r->r10 = s->gprs.r10;
    r->r11 = s->gprs.r11;
    r->r12 = s->gprs.r12;
    r->r13 = s->gprs.r13;
    r->r14 = s->gprs.r14;
    r->r15 = s->gprs.r15;
    r->cpl = st->cpl;
    r->long_mode = (st->efer & (1ul << 10)) && (st->cs.attr & SEG_ATTR_L);
}

static void svm_set_regs(struct vcpu *v, const struct hvm_regs *r)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb_save *st = &s->vmcb->save;
    st->rax = r->rax;
    st->rsp = r->rsp;
    st->rip = r->rip;
    st->rflags = r->rflags;
    s->gprs.rbx = r->rbx;
    s->gprs.rcx = r->rcx;
    s->gprs.rdx = r->rdx;
    s->gprs.rsi = r->rsi;
    s->gprs.rdi = r->rdi;
    s->gprs.rbp = r->rbp;
    s->gprs.r8 = r->r8;
    s->gprs.r9 = r->r9;
    s->gprs.r10 = r->r10;
    s->gprs.r11 = r->r11;
    s->gprs.r12 = r->r12;
    s->gprs.r13 = r->r13;
    s->gprs.r14 = r->r14;
    s->gprs.r15 = r->r15;
}

static u64 svm_seg_base(struct vcpu *v, enum x86_seg seg)
{
    const struct vmcb_save *st = &svm_of(v)->vmcb->save;
    const struct vmcb_seg *segs[] = {
        [X86_SEG_ES] = &st->es, [X86_SEG_CS] = &st->cs, [X86_SEG_SS] = &st->ss,
        [X86_SEG_DS] = &st->ds, [X86_SEG_FS] = &st->fs, [X86_SEG_GS] = &st->gs,
    };
    return segs[seg]->base;
}

static void svm_inject_page_fault(struct vcpu *v, u64 linear, u32 error)
{
    svm_of(v)->vmcb->save.cr2 = linear;
    hvm_event_exception(v, 14, true, error);
}

/* This CPU model has no flush-by-ASID: TLB_CONTROL 1 flushes everything,
 * at v's next VMRUN (svm_run clears it after each one). */
static void svm_flush_tlb(struct vcpu *v)
{
    svm_of(v)->vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
}

static u64 svm_tsc_offset(struct vcpu *v)
{
    return svm_of(v)->vmcb->ctl.tsc_offset;
}

static void svm_run(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct svm_cpu *c = &svm_cpus[smp_processor_id()];
    struct percpu *pc = this_cpu();

    svm_asid_assign(v);
    svm_save_host(c->host_vmcb_pa);
    svm_xsave_load(s);
    for (;;) {
        if (READ_ONCE(v->ev.init_pending))
            hvm_event_apply_init(v);
        if (hvm_vcpu_must_leave(v))
            break;
        /* Timers that fell due become interrupts now; the earliest one
         * still ahead bounds this CPU's next timer interrupt. */
        if (v->ev.ctrl)
            vcpu_sched_guest_deadline(hvm_event_advance(v, now_ns()));
        svm_intr_before_entry(v);
        svm_xsave_before_entry(s);
        if (!v->domain->hardware && c->tsc_aux != s->tsc_aux) {
            wrmsr(MSR_TSC_AUX, s->tsc_aux);
            c->tsc_aux = s->tsc_aux;
        }
        if (!v->domain->hardware && c->pkrs != s->pkrs && svm_has_pks) {
            wrmsr(MSR_PKRS, s->pkrs);
            c->pkrs = s->pkrs;
        }
        u64 t0 = rdtsc();
        WRITE_ONCE(v->guest_entry_tsc, t0);
        pc->in_guest = 1;
        /* dom0's interrupts must stay pending across an exit, to reach
         * its IDT at the next entry: host interrupts stay off for it. */
        svm_enter(&s->gprs, s->vmcb_pa, c->host_vmcb_pa, !v->domain->hardware);
        pc->in_guest = 0;
        u64 ran = tsc_to_ns(rdtsc() - t0);
        /* Readers add the run in progress: stop that before adding it here,
         * so a concurrent reader may undercount for an instant, never count
         * twice. */
        __atomic_store_n(&v->guest_entry_tsc, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&v->runtime_ns, v->runtime_ns + ran, __ATOMIC_RELEASE);
        s->vmcb->ctl.tlb_control = 0;
        svm_xsave_after_exit(s);
        svm_intr_after_exit(v);
        svm_handle_exit(v);
    }
    svm_xsave_put(s);
}

void svm_check_vmcb_holds_guest(struct vcpu *v)
{
    extern const u8 svm_vmrun_next[];
    struct svm_vcpu *s = svm_of(v);
    const struct vmcb_save *st = &s->vmcb->save;

    if (likely(st->rip != (u64)svm_vmrun_next))
        return;
    /* The saved RSP tells whose host state it is: each CPU has its own stack. */
    pr_err("BUG: d%u v%u: VMCB %lx came back holding the host's state: rip %lx rsp %lx "
           "cr3 %lx (host cr3 %lx) exit %lx on CPU %u\n", v->domain->id, v->id,
           (unsigned long)s->vmcb_pa, (unsigned long)st->rip, (unsigned long)st->rsp,
           (unsigned long)st->cr3, (unsigned long)read_cr3(),
           (unsigned long)s->vmcb->ctl.exitcode, smp_processor_id());
    for (unsigned int cpu = 0; cpu < smp_nr_cpus(); cpu++)
        pr_err("BUG:   CPU %u: VM_HSAVE_PA %lx, host VMSAVE area %lx, stack top %p\n", cpu,
               (unsigned long)svm_cpus[cpu].hsave_pa, (unsigned long)svm_cpus[cpu].host_vmcb_pa,
               percpu_of(cpu)->stack_top);
}

static const struct hvm_ops svm_ops = {
    .name = "svm",
    .cpu_up = svm_cpu_up,
    .vcpu_init = svm_vcpu_init,
    .vcpu_destroy = svm_vcpu_destroy,
    .vcpu_set_boot_state = svm_vcpu_set_boot_state,
    .run = svm_run,
    .get_regs = svm_get_regs,
    .set_regs = svm_set_regs,
    .seg_base = svm_seg_base,
    .inject_page_fault = svm_inject_page_fault,
    .flush_tlb = svm_flush_tlb,
    .tsc_offset = svm_tsc_offset,
    .xsave_switched = svm_xsave_offered,
    .paging = svm_paging,
    .get_state = svm_get_state,
    .set_state = svm_set_state,
    .tlb_flush = svm_tlb_flush,
};

const struct hvm_ops *svm_probe(void)
{
    if (cpuid(0x80000000).eax < 0x8000000a || !(cpuid(0x80000001).ecx & (1u << 2)))
        return NULL;
    if (!(cpuid(0x8000000a).edx & 1)) {
        pr_warn("svm: no nested paging, not using SVM\n");
        return NULL;
    }
    if (rdmsr(MSR_VM_CR) & VM_CR_SVMDIS) {
        pr_warn("svm: disabled by firmware (VM_CR.SVMDIS)\n");
        return NULL;
    }
    /* Everything intercepted: every port and MSR access exits, and the
     * handlers decide (most MSRs live in the VMCB anyway). */
    void *iopm = alloc_pages(IOPM_ORDER), *msrpm = alloc_pages(MSRPM_ORDER);
    void *d0_iopm = alloc_pages_zeroed(IOPM_ORDER), *d0_msrpm = alloc_pages_zeroed(MSRPM_ORDER);
    if (!iopm || !msrpm || !d0_iopm || !d0_msrpm) {
        if (iopm)
            free_pages(iopm, IOPM_ORDER);
        if (msrpm)
            free_pages(msrpm, MSRPM_ORDER);
        if (d0_iopm)
            free_pages(d0_iopm, IOPM_ORDER);
        if (d0_msrpm)
            free_pages(d0_msrpm, MSRPM_ORDER);
        return NULL;
    }
    kmemset(iopm, 0xff, PAGE_SIZE << IOPM_ORDER);
    kmemset(msrpm, 0xff, PAGE_SIZE << MSRPM_ORDER);
    iopm_pa = virt_to_phys(iopm);
    msrpm_pa = virt_to_phys(msrpm);
    for (unsigned int i = 0; i < ARRAY_SIZE(dom0_intercepted_msrs); i++)
        msrpm_intercept(d0_msrpm, dom0_intercepted_msrs[i]);
    /* COM1's shared registers: dom0 writes through the console (serial.h). */
    for (unsigned int port = SERIAL_COM1; port < SERIAL_COM1 + SERIAL_SHARED_REGS; port++)
        ((u8 *)d0_iopm)[port / 8] |= (u8)(1u << (port % 8));
    dom0_iopm_pa = virt_to_phys(d0_iopm);
    dom0_msrpm_pa = virt_to_phys(d0_msrpm);
    svm_has_pks = (cpuid_count(7, 0).ecx >> 31) & 1;
    pr_info("svm: AMD-V with nested paging, %u ASIDs\n", cpuid(0x8000000a).ebx);
    return &svm_ops;
}
