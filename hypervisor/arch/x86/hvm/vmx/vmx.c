/*
 * vmx.c - the Intel VT-x backend: probing the CPU, VMXON per CPU, the VMCS
 * of each vCPU (controls, host state, guest boot state) and the run loop.
 * Exit handling lives in vmx_exit.c, events in vmx_intr.c, MSRs in
 * vmx_msr.c; the pure decisions in vmx_caps.c.
 *
 * What the backend relies on (checked in vmx_probe, else SVM or nothing):
 * EPT with 4-level walks and write-back tables, unrestricted guest (Kiln's
 * vCPUs start in protected mode with paging off, and SIPIs start them in
 * real mode), VPID, virtual NMIs, MSR and I/O bitmaps, and the EFER and
 * PAT load/save controls.  Bochs' corei7_skylake_x, tigerlake and corei7_icelake_u
 * models offer all of them (design.md §5).
 */
#include <kiln/console.h>
#include <kiln/hvm_event.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>
#include <kiln/smp.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "vmx.h"
#include "vmx_caps.h"

#define CR0_NE      (1ul << 5)
#define CR4_VMXE    (1ul << 13)
#define CR4_OSXSAVE (1ul << 18)
#define EFER_LMA    (1ul << 10)
#define EXC_UD      6
#define PAT_POWER_ON 0x0007040600070406ull

struct vmx_caps vmx_caps;
paddr_t vmx_io_bitmap_pa[2], vmx_msr_bitmap_pa;
static paddr_t vmxon_pa[NR_CPUS];
static u16 next_vpid = 1;
static spinlock_t vpid_lock;

/* CR0.PE and PG may be clear with unrestricted guest. */
#define CR0_EXEMPT (CR0_PE | CR0_PG)

u64 vmx_eptp(struct domain *d)
{
    return d->p2m.root_pa | EPTP_WB | EPTP_WALK4 | (vmx_caps.ept_ad ? EPTP_AD : 0);
}

static int vmx_cpu_up(void)
{
    unsigned int cpu = smp_processor_id();
    u64 fc = rdmsr(MSR_FEATURE_CONTROL);
    if (!(fc & FEATURE_CONTROL_LOCK))
        wrmsr(MSR_FEATURE_CONTROL, fc | FEATURE_CONTROL_LOCK | FEATURE_CONTROL_VMX);
    else if (!(fc & FEATURE_CONTROL_VMX))
        return -KILN_ENOSYS;

    if (!vmxon_pa[cpu]) {
        u32 *region = alloc_pages_zeroed(0);
        if (!region)
            return -KILN_ENOMEM;
        /* The CPU owns it until VMXOFF, which never comes. */
        mm_pin_page(region);
        region[0] = vmx_caps.revision;
        vmxon_pa[cpu] = virt_to_phys(region);
    }
    write_cr0(vmx_fixed_cr(read_cr0(), vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, 0));
    write_cr4(vmx_fixed_cr(read_cr4() | CR4_VMXE, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    if (vmxon(vmxon_pa[cpu])) {
        pr_err("vmx: VMXON failed on CPU %u\n", cpu);
        return -KILN_EBUSY;
    }
    /* Nothing cached from before (firmware, a previous kernel). */
    invept(INVEPT_ALL, 0);
    invvpid(INVVPID_ALL, 0);
    return 0;
}

static u16 vpid_alloc(void)
{
    spin_lock(&vpid_lock);
    u16 vpid = next_vpid++;
    if (!next_vpid)
        next_vpid = 1;      /* 0 is the host's; reuse is flushed by vmx_run */
    spin_unlock(&vpid_lock);
    return vpid;
}

static int vmx_vcpu_init(struct vcpu *v)
{
    BUILD_BUG_ON(sizeof(struct vmx_vcpu) > PAGE_SIZE);
    if (v->domain->hardware)
        return -KILN_ENOSYS;    /* dom0's 1:1 tables are NPT-only for now */
    struct vmx_vcpu *s = alloc_pages_zeroed(0);
    u32 *vmcs = alloc_pages_zeroed(0);
    if (!s || !vmcs) {
        if (s)
            free_page(s);
        if (vmcs)
            free_page(vmcs);
        return -KILN_ENOMEM;
    }
    vmcs[0] = vmx_caps.revision;
    s->vmcs = vmcs;
    s->vmcs_pa = virt_to_phys(vmcs);
    s->vpid = vpid_alloc();
    s->last_cpu = -1;
    s->misc_enable = 1;         /* fast strings */
    s->g.pat = PAT_POWER_ON;
    /* x87 state after FNINIT: FCW 0x37f, MXCSR 0x1f80. */
    s->fpu[0] = 0x7f;
    s->fpu[1] = 0x03;
    s->fpu[24] = 0x80;
    s->fpu[25] = 0x1f;
    v->hvm = s;
    return 0;
}

static void vmx_vcpu_destroy(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    if (!s)
        return;
    /* vmx_run VMCLEARs it before it gives the vCPU back: no CPU has it. */
    free_page(s->vmcs);
    free_page(s);
    v->hvm = NULL;
}

static void set_seg(struct vmx_seg_state *seg, u16 sel, u32 ar, u32 limit, u64 base)
{
    seg->sel = sel;
    seg->ar = ar;
    seg->limit = limit;
    seg->base = base;
}

static void vmx_vcpu_set_boot_state(struct vcpu *v, const struct hvm_boot_state *b)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct vmx_guest *g = &s->g;
    bool lm = b->cr3 != 0;

    kmemset(g, 0, sizeof(*g));
    kmemset(&s->gprs, 0, sizeof(s->gprs));
    g->rflags = 2;
    g->pat = PAT_POWER_ON;
    set_seg(&g->seg[VSEG_LDTR], 0, AR_UNUSABLE, 0, 0);
    s->load_all = true;
    if (b->real_mode) {
        /* After INIT and a SIPI: real mode at CS = cs_sel, IP 0. */
        set_seg(&g->seg[VSEG_CS], b->cs_sel, AR_REAL_CODE, 0xffff, (u64)b->cs_sel << 4);
        for (unsigned int i = VSEG_ES; i <= VSEG_GS; i++)
            if (i != VSEG_CS)
                set_seg(&g->seg[i], 0, AR_REAL_DATA, 0xffff, 0);
        set_seg(&g->seg[VSEG_TR], 0, AR_TSS_BUSY, 0xffff, 0);
        g->gdtr_limit = g->idtr_limit = 0xffff;
        g->cr0 = 0x60000010;    /* CD, NW, ET: the power-on value */
        s->gprs.rdx = 0x600;
        return;
    }
    for (unsigned int i = VSEG_ES; i <= VSEG_GS; i++)
        set_seg(&g->seg[i], 0x10, AR_DATA, 0xffffffff, 0);
    set_seg(&g->seg[VSEG_CS], 0x08, lm ? AR_CODE64 : AR_CODE32, 0xffffffff, 0);
    set_seg(&g->seg[VSEG_TR], 0, AR_TSS_BUSY, 0x67, 0);
    g->efer = lm ? EFER_LME | EFER_LMA | EFER_NXE : 0;
    g->cr0 = CR0_PE | (1ul << 4) /* ET */ | (lm ? CR0_PG : 0);
    g->cr3 = b->cr3;
    g->cr4 = lm ? CR4_PAE : 0;
    g->rip = b->rip;
    g->rsp = b->rsp;
    s->gprs.rax = b->rax;
    s->gprs.rbx = b->rbx;
    s->gprs.rdi = b->rdi;
    s->gprs.rsi = b->rsi;
}

/* ---- the VMCS ----------------------------------------------------------- */

static u64 cr0_mask(void)
{
    return vmx_cr_mask(vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, CR0_EXEMPT, 0);
}

static u64 cr4_mask(void)
{
    /* XSAVE is not offered (xsave_switched): OSXSAVE stays the host's. */
    return vmx_cr_mask(vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0, CR4_VMXE | CR4_OSXSAVE);
}

/* Controls, once per VMCS. */
static void vmcs_setup_controls(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    vmwrite(PIN_CONTROLS, vmx_caps.pin);
    s->cpu_ctls = vmx_caps.cpu;
    vmwrite(CPU_CONTROLS, s->cpu_ctls);
    vmwrite(CPU_CONTROLS2, vmx_caps.cpu2);
    vmwrite(EXIT_CONTROLS, vmx_caps.exit);
    s->entry_ctls = vmx_caps.entry;
    vmwrite(ENTRY_CONTROLS, s->entry_ctls);
    /* #UD: VMMCALL, AMD's hypercall instruction, is emulated. */
    vmwrite(EXCEPTION_BITMAP, 1u << EXC_UD);
    vmwrite(CR3_TARGET_COUNT, 0);
    vmwrite(EXIT_MSR_STORE_COUNT, 0);
    vmwrite(EXIT_MSR_LOAD_COUNT, 0);
    vmwrite(ENTRY_MSR_LOAD_COUNT, 0);
    vmwrite(ENTRY_INTR_INFO, 0);
    vmwrite(IO_BITMAP_A, vmx_io_bitmap_pa[0]);
    vmwrite(IO_BITMAP_B, vmx_io_bitmap_pa[1]);
    vmwrite(MSR_BITMAP, vmx_msr_bitmap_pa);
    vmwrite(TSC_OFFSET, s->tsc_offset);
    vmwrite(EPT_POINTER, vmx_eptp(v->domain));
    vmwrite(VMCS_VPID, s->vpid);
    vmwrite(VMCS_LINK_POINTER, ~0ull);
    vmwrite(CR0_MASK, cr0_mask());
    vmwrite(CR4_MASK, cr4_mask());
    vmwrite(GUEST_DEBUGCTL, 0);
    vmwrite(GUEST_DR7, 0x400);
    vmwrite(GUEST_PENDING_DBG, 0);
    vmwrite(GUEST_ACTIVITY, 0);
    vmwrite(GUEST_SYSENTER_CS, 0);
    vmwrite(GUEST_SYSENTER_ESP, 0);
    vmwrite(GUEST_SYSENTER_EIP, 0);
}

struct desc_ptr {
    u16 limit;
    u64 base;
} __packed;

/* Host state: what a VM exit loads.  Written at each vmx_run, as the
 * vCPU may have moved (GS base, TR and GDT are per CPU). */
static void vmcs_setup_host(void)
{
    struct desc_ptr gdt, idt;
    u16 cs, ss, ds, es, fs, gs, tr;
    __asm__ __volatile__("sgdt %0; sidt %1" : "=m"(gdt), "=m"(idt));
    __asm__ __volatile__("mov %%cs, %0; mov %%ss, %1; mov %%ds, %2; mov %%es, %3"
                         : "=r"(cs), "=r"(ss), "=r"(ds), "=r"(es));
    __asm__ __volatile__("mov %%fs, %0; mov %%gs, %1; str %2" : "=r"(fs), "=r"(gs), "=r"(tr));
    vmwrite(HOST_CR0, read_cr0());
    vmwrite(HOST_CR3, read_cr3());
    vmwrite(HOST_CR4, read_cr4());
    vmwrite(HOST_CS_SEL, cs);
    vmwrite(HOST_SS_SEL, ss);
    vmwrite(HOST_DS_SEL, ds);
    vmwrite(HOST_ES_SEL, es);
    vmwrite(HOST_FS_SEL, fs);
    vmwrite(HOST_GS_SEL, gs);
    vmwrite(HOST_TR_SEL, tr);
    vmwrite(HOST_FS_BASE, rdmsr(MSR_FS_BASE));
    vmwrite(HOST_GS_BASE, rdmsr(MSR_GS_BASE));
    /* The TSS descriptor (16 bytes in long mode) holds TR's base. */
    const u64 *d = (const u64 *)(gdt.base + (tr & ~7u));
    vmwrite(HOST_TR_BASE, ((d[0] >> 16) & 0xffffff) | ((d[0] >> 32) & 0xff000000ull) |
                              (d[1] << 32));
    vmwrite(HOST_GDTR_BASE, gdt.base);
    vmwrite(HOST_IDTR_BASE, idt.base);
    vmwrite(HOST_SYSENTER_CS, rdmsr(0x174));
    vmwrite(HOST_SYSENTER_ESP, rdmsr(0x175));
    vmwrite(HOST_SYSENTER_EIP, rdmsr(0x176));
    vmwrite(HOST_PAT, rdmsr(0x277));
    vmwrite(HOST_EFER, rdmsr(MSR_EFER));
    vmwrite(HOST_RIP, (u64)vmx_exit_entry);
}

void vmx_set_efer(struct vcpu *v, u64 efer)
{
    struct vmx_vcpu *s = vmx_of(v);
    efer &= ~EFER_LMA;
    if ((efer & EFER_LME) && (s->g.cr0 & CR0_PG))
        efer |= EFER_LMA;
    s->g.efer = efer;
    vmwrite(GUEST_EFER, efer);
    if (efer & EFER_LMA)
        s->entry_ctls |= ENTRY_IA32E;
    else
        s->entry_ctls &= ~ENTRY_IA32E;
    vmwrite(ENTRY_CONTROLS, s->entry_ctls);
}

/* Everything of the copy, after a new boot state. */
static void vmcs_load_guest(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct vmx_guest *g = &s->g;
    for (unsigned int i = 0; i < VSEG_COUNT; i++) {
        vmwrite(GUEST_ES_SEL + 2 * i, g->seg[i].sel);
        vmwrite(GUEST_ES_LIMIT + 2 * i, g->seg[i].limit);
        vmwrite(GUEST_ES_AR + 2 * i, g->seg[i].ar);
        vmwrite(GUEST_ES_BASE + 2 * i, g->seg[i].base);
    }
    vmwrite(GUEST_GDTR_BASE, g->gdtr_base);
    vmwrite(GUEST_GDTR_LIMIT, g->gdtr_limit);
    vmwrite(GUEST_IDTR_BASE, g->idtr_base);
    vmwrite(GUEST_IDTR_LIMIT, g->idtr_limit);
    vmwrite(CR0_SHADOW, g->cr0);
    vmwrite(GUEST_CR0, vmx_fixed_cr(g->cr0, vmx_caps.cr0_fixed0, vmx_caps.cr0_fixed1, CR0_EXEMPT));
    vmwrite(CR4_SHADOW, g->cr4);
    vmwrite(GUEST_CR4, vmx_fixed_cr(g->cr4, vmx_caps.cr4_fixed0, vmx_caps.cr4_fixed1, 0));
    vmwrite(GUEST_CR3, g->cr3);
    vmwrite(GUEST_PAT, g->pat);
    vmwrite(GUEST_DR7, 0x400);
    vmwrite(GUEST_SYSENTER_CS, 0);
    vmwrite(GUEST_SYSENTER_ESP, 0);
    vmwrite(GUEST_SYSENTER_EIP, 0);
    vmwrite(ENTRY_INTR_INFO, 0);
    vmwrite(GUEST_PENDING_DBG, 0);
    s->cpu_ctls &= ~(CPU_INTR_WINDOW | CPU_NMI_WINDOW);
    vmwrite(CPU_CONTROLS, s->cpu_ctls);
    vmx_set_efer(v, g->efer);
    s->star = s->lstar = s->cstar = s->sfmask = s->kernel_gs_base = 0;
    s->tsc_aux = 0;
    vmx_msr_load(s);
}

/* Often-needed guest state, after every exit. */
static void vmcs_save_guest(struct vmx_vcpu *s)
{
    struct vmx_guest *g = &s->g;
    u64 m0 = cr0_mask(), m4 = cr4_mask();
    g->rip = vmread(GUEST_RIP);
    g->rsp = vmread(GUEST_RSP);
    g->rflags = vmread(GUEST_RFLAGS);
    g->intr_state = (u32)vmread(GUEST_INTERRUPTIBILITY);
    g->cr0 = (vmread(GUEST_CR0) & ~m0) | (vmread(CR0_SHADOW) & m0);
    g->cr4 = (vmread(GUEST_CR4) & ~m4) | (vmread(CR4_SHADOW) & m4);
    g->cr3 = vmread(GUEST_CR3);
    g->efer = vmread(GUEST_EFER);
    for (unsigned int i = 0; i < VSEG_COUNT; i++)
        g->seg[i].base = vmread(GUEST_ES_BASE + 2 * i);
    g->seg[VSEG_CS].sel = (u16)vmread(GUEST_ES_SEL + 2 * VSEG_CS);
    g->seg[VSEG_CS].ar = (u32)vmread(GUEST_ES_AR + 2 * VSEG_CS);
    g->seg[VSEG_SS].ar = (u32)vmread(GUEST_ES_AR + 2 * VSEG_SS);
    g->idtr_limit = (u32)vmread(GUEST_IDTR_LIMIT);
    /* The CPU sets EFER.LMA itself when the guest enables paging, and
     * stores it in the IA-32e entry control at the exit. */
    s->entry_ctls = (u32)vmread(ENTRY_CONTROLS);
}

/* ---- ops ---------------------------------------------------------------- */

static void vmx_get_regs(struct vcpu *v, struct hvm_regs *r)
{
    struct vmx_vcpu *s = vmx_of(v);
    r->rax = s->gprs.rax;
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
    r->rsp = s->g.rsp;
    r->rip = s->g.rip;
    r->rflags = s->g.rflags;
    r->cpl = (s->g.seg[VSEG_SS].ar >> AR_DPL_SHIFT) & 3;
    r->long_mode = (s->g.efer & EFER_LMA) && (s->g.seg[VSEG_CS].ar & AR_L);
}

static void vmx_set_regs(struct vcpu *v, const struct hvm_regs *r)
{
    struct vmx_vcpu *s = vmx_of(v);
    s->gprs.rax = r->rax;
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
    s->g.rsp = r->rsp;
    s->g.rip = r->rip;
    s->g.rflags = r->rflags;
}

static u64 vmx_seg_base(struct vcpu *v, enum x86_seg seg)
{
    /* enum x86_seg and the VMCS order agree for ES..GS. */
    return vmx_of(v)->g.seg[seg].base;
}

static void vmx_inject_page_fault(struct vcpu *v, u64 linear, u32 error)
{
    vmx_of(v)->g.cr2 = linear;
    hvm_event_exception(v, 14, true, error);
}

static void vmx_flush_tlb(struct vcpu *v)
{
    vmx_of(v)->flush = true;
}

static u64 vmx_tsc_offset(struct vcpu *v)
{
    return vmx_of(v)->tsc_offset;
}

static bool vmx_xsave_switched(void)
{
    return false;
}

void vmx_paging(struct vcpu *v, struct hvm_paging *pg)
{
    const struct vmx_guest *g = &vmx_of(v)->g;
    pg->cr0 = g->cr0;
    pg->cr3 = g->cr3;
    pg->cr4 = g->cr4;
    pg->efer = g->efer;
    pg->cs_base = g->seg[VSEG_CS].base;
    pg->cs_long = (g->efer & EFER_LMA) && (g->seg[VSEG_CS].ar & AR_L);
    pg->cs_32 = (g->seg[VSEG_CS].ar & AR_DB) != 0;
}

/*
 * The VMX-preemption timer, when the CPU has it, ends guest mode at this
 * CPU's next timer deadline, as the timer interrupt itself would.  Bochs
 * 2.7 needs it: it decides whether an external interrupt may be taken
 * when RFLAGS.IF changes, and VM entry loads the guest's RFLAGS before
 * the CPU counts as in guest mode, so a guest running with IF clear is
 * never interrupted by the host's timer (external-interrupt exiting
 * notwithstanding) and would keep its CPU for as long as it liked.
 */
static void arm_preemption_timer(void)
{
    if (!(vmx_caps.pin & PIN_PREEMPT_TIMER))
        return;
    u64 deadline = this_cpu()->timer_deadline_ns, ticks = 0xffffffffull;
    if (deadline) {
        u64 now = now_ns();
        u64 tsc = deadline > now ? ns_to_tsc(deadline - now) : 0;
        if ((tsc >> vmx_caps.preempt_shift) < ticks)
            ticks = tsc >> vmx_caps.preempt_shift;
    }
    vmwrite(GUEST_PREEMPT_TIMER, ticks);
}

/* Makes v's VMCS current on this CPU, with this CPU's host state. */
static int vmx_load(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    int cpu = (int)smp_processor_id();
    if (!s->configured && vmclear(s->vmcs_pa))
        return -1;
    if (vmptrld(s->vmcs_pa))
        return -1;
    if (!s->configured) {
        vmcs_setup_controls(v);
        s->configured = true;
    }
    vmcs_setup_host();
    /* Translations tagged with this VPID on this CPU may be stale: from
     * before the vCPU ran elsewhere, or from an earlier owner of the VPID. */
    if (s->last_cpu != cpu)
        s->flush = true;
    s->last_cpu = cpu;
    vmx_msr_load(s);
    return 0;
}

static void vmx_entry_failed(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    domain_crash(v->domain, "VM entry failed: VM-instruction error %lu at rip=0x%lx",
                 (unsigned long)vmread(VM_INSN_ERROR), (unsigned long)s->g.rip);
}

static void vmx_run(struct vcpu *v)
{
    struct vmx_vcpu *s = vmx_of(v);
    struct percpu *pc = this_cpu();

    if (vmx_load(v)) {
        domain_crash(v->domain, "cannot load its VMCS");
        return;
    }
    __asm__ __volatile__("fxrstor %0" :: "m"(s->fpu));
    for (;;) {
        if (READ_ONCE(v->ev.init_pending))
            hvm_event_apply_init(v);
        if (hvm_vcpu_must_leave(v))
            break;
        if (v->ev.ctrl)
            vcpu_sched_guest_deadline(hvm_event_advance(v, now_ns()));
        if (s->load_all) {
            vmcs_load_guest(v);
            s->load_all = false;
        }
        vmx_intr_before_entry(v);
        vmwrite(GUEST_RIP, s->g.rip);
        vmwrite(GUEST_RSP, s->g.rsp);
        vmwrite(GUEST_RFLAGS, s->g.rflags);
        vmwrite(GUEST_INTERRUPTIBILITY, s->g.intr_state);
        arm_preemption_timer();
        if (s->flush) {
            invept(INVEPT_SINGLE, vmx_eptp(v->domain));
            invvpid(INVVPID_SINGLE, s->vpid);
            s->flush = false;
        }
        if (read_cr2() != s->g.cr2)
            write_cr2(s->g.cr2);

        u64 t0 = rdtsc();
        WRITE_ONCE(v->guest_entry_tsc, t0);
        pc->in_guest = 1;
        int failed = vmx_enter(&s->gprs, s->launched);
        pc->in_guest = 0;
        u64 ran = tsc_to_ns(rdtsc() - t0);
        __atomic_store_n(&v->guest_entry_tsc, 0, __ATOMIC_RELEASE);
        __atomic_store_n(&v->runtime_ns, v->runtime_ns + ran, __ATOMIC_RELEASE);
        if (failed) {
            vmx_entry_failed(v);
            break;
        }
        s->launched = true;
        s->g.cr2 = read_cr2();
        s->exit_reason = (u32)vmread(EXIT_REASON);
        s->exit_qual = vmread(EXIT_QUALIFICATION);
        vmcs_save_guest(s);
        if ((s->exit_reason & 0xffff) == EXIT_EXT_INTR ||
            (s->exit_reason & 0xffff) == EXIT_PREEMPT_TIMER) {
            /* Not acknowledged at the exit: the host's IDT takes it now
             * (the timer's, when the preemption timer ran out first). */
            __asm__ __volatile__("sti; nop; cli" ::: "memory");
        }
        vmx_intr_after_exit(v);
        vmx_handle_exit(v);
    }
    __asm__ __volatile__("fxsave %0" : "=m"(s->fpu));
    /* Written back to memory so that any CPU may load it next. */
    vmclear(s->vmcs_pa);
    s->launched = false;
}

static const struct hvm_ops vmx_ops = {
    .name = "vmx",
    .cpu_up = vmx_cpu_up,
    .vcpu_init = vmx_vcpu_init,
    .vcpu_destroy = vmx_vcpu_destroy,
    .vcpu_set_boot_state = vmx_vcpu_set_boot_state,
    .run = vmx_run,
    .get_regs = vmx_get_regs,
    .set_regs = vmx_set_regs,
    .seg_base = vmx_seg_base,
    .inject_page_fault = vmx_inject_page_fault,
    .flush_tlb = vmx_flush_tlb,
    .tsc_offset = vmx_tsc_offset,
    .xsave_switched = vmx_xsave_switched,
    .paging = vmx_paging,
};

/* The control MSR to adjust against: the TRUE_ one when the CPU has it
 * (it may allow default-1 bits such as CR3 exiting to be 0). */
static u64 ctl_cap(u32 msr, u32 true_msr, bool has_true)
{
    return rdmsr(has_true ? true_msr : msr);
}

static int read_caps(void)
{
    u64 basic = rdmsr(MSR_VMX_BASIC);
    bool t = basic & VMX_BASIC_TRUE_CTLS;
    struct vmx_caps *c = &vmx_caps;

    c->revision = basic & VMX_BASIC_REVISION_MASK;
    c->cr0_fixed0 = rdmsr(MSR_VMX_CR0_FIXED0);
    c->cr0_fixed1 = rdmsr(MSR_VMX_CR0_FIXED1);
    c->cr4_fixed0 = rdmsr(MSR_VMX_CR4_FIXED0);
    c->cr4_fixed1 = rdmsr(MSR_VMX_CR4_FIXED1);

    /* Virtual NMIs give the NMI window exit (the guest's NMI handler
     * returned) that event delivery needs. */
    if (vmx_adjust_controls(ctl_cap(MSR_VMX_PINBASED, MSR_VMX_TRUE_PINBASED, t),
                            PIN_EXT_INTR | PIN_NMI | PIN_VIRTUAL_NMI, PIN_PREEMPT_TIMER, &c->pin))
        return -1;
    c->preempt_shift = rdmsr(MSR_VMX_MISC) & VMX_MISC_PREEMPT_RATE_MASK;
    u32 cpu_req = CPU_HLT | CPU_TSC_OFFSET | CPU_CR8_LOAD | CPU_CR8_STORE | CPU_IO_BITMAP |
                  CPU_MSR_BITMAP | CPU_MWAIT | CPU_MONITOR | CPU_RDPMC | CPU_SECONDARY;
    u64 cpu_cap = ctl_cap(MSR_VMX_PROCBASED, MSR_VMX_TRUE_PROCBASED, t);
    if (vmx_adjust_controls(cpu_cap, cpu_req, 0, &c->cpu) ||
        !((cpu_cap >> 32) & CPU_NMI_WINDOW) || !((cpu_cap >> 32) & CPU_INTR_WINDOW))
        return -1;
    if (vmx_adjust_controls(rdmsr(MSR_VMX_PROCBASED2),
                            CPU2_EPT | CPU2_VPID | CPU2_UNRESTRICTED, 0, &c->cpu2))
        return -1;
    if (vmx_adjust_controls(ctl_cap(MSR_VMX_EXIT, MSR_VMX_TRUE_EXIT, t),
                            EXIT_HOST_64 | EXIT_SAVE_PAT | EXIT_LOAD_PAT | EXIT_SAVE_EFER |
                                EXIT_LOAD_EFER, 0, &c->exit))
        return -1;
    if (vmx_adjust_controls(ctl_cap(MSR_VMX_ENTRY, MSR_VMX_TRUE_ENTRY, t),
                            ENTRY_LOAD_PAT | ENTRY_LOAD_EFER, 0, &c->entry))
        return -1;
    c->entry &= ~ENTRY_IA32E;   /* per vCPU, from its EFER.LMA */
    c->ept_vpid = rdmsr(MSR_VMX_EPT_VPID_CAP);
    u64 need = EPT_CAP_WALK4 | EPT_CAP_WB | EPT_CAP_INVEPT | EPT_CAP_INVEPT_SINGLE |
               EPT_CAP_INVEPT_ALL | VPID_CAP_INVVPID | VPID_CAP_INVVPID_SINGLE |
               VPID_CAP_INVVPID_ALL;
    if ((c->ept_vpid & need) != need)
        return -1;
    c->ept_ad = c->ept_vpid & EPT_CAP_AD;
    return 0;
}

const struct hvm_ops *vmx_probe(void)
{
    if (!(cpuid(1).ecx & (1u << 5)))
        return NULL;
    u64 fc = rdmsr(MSR_FEATURE_CONTROL);
    if ((fc & FEATURE_CONTROL_LOCK) && !(fc & FEATURE_CONTROL_VMX)) {
        pr_warn("vmx: disabled by firmware (IA32_FEATURE_CONTROL)\n");
        return NULL;
    }
    if (read_caps()) {
        pr_warn("vmx: the CPU lacks EPT, VPID, unrestricted guest or the EFER/PAT controls, "
                "not using VT-x\n");
        return NULL;
    }
    /* Every port and MSR access exits; the handlers decide. */
    u8 *io = alloc_pages(1), *msr = alloc_pages(0);
    if (!io || !msr) {
        if (io)
            free_pages(io, 1);
        if (msr)
            free_page(msr);
        return NULL;
    }
    kmemset(io, 0xff, 2 * PAGE_SIZE);
    kmemset(msr, 0xff, PAGE_SIZE);
    vmx_io_bitmap_pa[0] = virt_to_phys(io);
    vmx_io_bitmap_pa[1] = virt_to_phys(io + PAGE_SIZE);
    vmx_msr_bitmap_pa = virt_to_phys(msr);
    spin_lock_init(&vpid_lock);
    p2m_use_ept(vmx_caps.ept_ad);
    pr_info("vmx: VT-x with EPT%s, VPID, unrestricted guest (VMCS revision %u)\n",
            vmx_caps.ept_ad ? " (A/D bits)" : "", vmx_caps.revision);
    return &vmx_ops;
}
