/*
 * svm_state.c - a paused vCPU's whole state in and out of its VMCB, saved
 * GPRs and FXSAVE image, in the backend-neutral form of the public ABI
 * (struct kiln_vcpu_state), for save/restore and migration; and the TLB
 * flush that log-dirty mode needs after write-protecting pages.
 *
 * A loaded state comes from a stream anyone could have written, so every
 * field is checked before anything is changed: a state the CPU would
 * refuse at VMRUN only crashes the domain, but a bad MXCSR in the FXSAVE
 * image would fault the hypervisor's own FXRSTOR, and a non-canonical base
 * behaves differently on each CPU model.  The checks follow the AMD APM's
 * VMRUN consistency checks (vol. 2, 15.5.1) and the MSR rules of
 * svm_msr.c (what a guest could have written itself).
 */
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/time.h>
#include <kiln/x86.h>
#include "svm.h"

#define EFER_LMA        (1ul << 10)
#define EFER_GUEST      (EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)
/* PE MP EM TS ET NE, WP, AM, NW, CD, PG */
#define CR0_DEFINED     (0x3ful | (1ul << 16) | (1ul << 18) | CR0_NW | CR0_CD | CR0_PG)
/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT UMIP LA57,
 * FSGSBASE PCIDE OSXSAVE, SMEP SMAP PKE: what a guest may set itself
 * (CR writes are not intercepted); never VMXE or SMXE. */
#define CR4_GUEST       (0x1ffful | (7ul << 16) | (7ul << 20))
/* CF 1 PF AF ZF SF TF IF DF OF IOPL NT, RF VM AC VIF VIP ID */
#define RFLAGS_DEFINED  0x3f7fd7ul
#define RFLAGS_FIXED1   (1ul << 1)
#define V_TPR_MASK      0xfull
#define FX_MXCSR        24
#define FX_MXCSR_MASK   28

static bool canonical(u64 a)
{
    return (u64)((s64)(a << 16) >> 16) == a;
}

static void seg_out(struct kiln_seg_state *o, const struct vmcb_seg *s)
{
    o->sel = s->sel;
    o->attr = s->attr;
    o->limit = s->limit;
    o->base = s->base;
}

static void seg_in(struct vmcb_seg *s, const struct kiln_seg_state *o)
{
    s->sel = o->sel;
    s->attr = o->attr;
    s->limit = o->limit;
    s->base = o->base;
}

void svm_get_state(struct vcpu *v, struct kiln_vcpu_state *o)
{
    struct svm_vcpu *s = svm_of(v);
    const struct vmcb_save *st = &s->vmcb->save;
    const struct vmcb_control *c = &s->vmcb->ctl;

    kmemset(o, 0, sizeof(*o));
    o->vcpu = v->id;
    o->size = sizeof(*o);
    o->rax = st->rax;
    o->rbx = s->gprs.rbx;
    o->rcx = s->gprs.rcx;
    o->rdx = s->gprs.rdx;
    o->rsi = s->gprs.rsi;
    o->rdi = s->gprs.rdi;
    o->rbp = s->gprs.rbp;
    o->rsp = st->rsp;
    o->r8 = s->gprs.r8;
    o->r9 = s->gprs.r9;
    o->r10 = s->gprs.r10;
    o->r11 = s->gprs.r11;
    o->r12 = s->gprs.r12;
    o->r13 = s->gprs.r13;
    o->r14 = s->gprs.r14;
    o->r15 = s->gprs.r15;
    o->rip = st->rip;
    o->rflags = st->rflags;
    seg_out(&o->es, &st->es);
    seg_out(&o->cs, &st->cs);
    seg_out(&o->ss, &st->ss);
    seg_out(&o->ds, &st->ds);
    seg_out(&o->fs, &st->fs);
    seg_out(&o->gs, &st->gs);
    seg_out(&o->ldtr, &st->ldtr);
    seg_out(&o->tr, &st->tr);
    seg_out(&o->gdtr, &st->gdtr);
    seg_out(&o->idtr, &st->idtr);
    o->cr0 = st->cr0;
    o->cr2 = st->cr2;
    o->cr3 = st->cr3;
    o->cr4 = st->cr4;
    o->cr8 = c->vintr & V_TPR_MASK;
    o->efer = st->efer & ~EFER_SVME;   /* SVME is the hypervisor's, hidden */
    o->dr6 = st->dr6;
    o->dr7 = st->dr7;
    o->star = st->star;
    o->lstar = st->lstar;
    o->cstar = st->cstar;
    o->sfmask = st->sfmask;
    o->kernel_gs_base = st->kernel_gs_base;
    o->sysenter_cs = st->sysenter_cs;
    o->sysenter_esp = st->sysenter_esp;
    o->sysenter_eip = st->sysenter_eip;
    o->pat = st->g_pat;
    o->tsc = rdtsc() + c->tsc_offset;
    o->tsc_aux = 0;
    o->xcr0 = 1;
    o->pending_event = (c->eventinj & SVM_EVTINJ_VALID) ? c->eventinj : 0;
    o->interrupt_shadow = c->interrupt_shadow & 1;
    o->cpl = st->cpl;
    o->fpu_format = KILN_FPU_FXSAVE;
    o->fpu_size = KILN_FPU_FXSAVE_SIZE;
    kmemcpy(o->fpu, s->fpu, KILN_FPU_FXSAVE_SIZE);
}

/* The MXCSR bits this CPU's FXRSTOR accepts (MXCSR_MASK, 0 meaning the
 * architectural default 0xffbf), read once with an FXSAVE of our own.
 * The area is static: an aligned(16) local was found misaligned on the
 * exit path (the compiler trusts a 16-byte aligned stack it did not get),
 * and FXSAVE faults on that.  Callers hold domlist_lock. */
static u32 host_mxcsr_mask(void)
{
    static u8 area[512] __aligned(16);
    static u32 mask;
    if (!mask) {
        kmemset(area, 0, sizeof(area));
        __asm__ __volatile__("fxsave64 %0" : "=m"(area));
        u32 m;
        kmemcpy(&m, area + FX_MXCSR_MASK, sizeof(m));
        mask = m ? m : 0xffbf;
    }
    return mask;
}

static bool pat_ok(u64 pat)
{
    for (unsigned int i = 0; i < 8; i++) {
        u8 t = (u8)(pat >> (i * 8));
        if (t > 7 || t == 2 || t == 3)
            return false;
    }
    return true;
}

static bool event_ok(u64 ev)
{
    if (!(ev & KILN_EVENT_VALID))
        return ev == 0;
    u32 type = (ev >> KILN_EVENT_TYPE_SHIFT) & 7, vector = ev & 0xff;
    if (ev & 0x7ffff000ull)
        return false;                     /* bits 12-30 are reserved */
    if ((ev & KILN_EVENT_ERR_VALID) && type != KILN_EVENT_TYPE_EXCP)
        return false;
    switch (type) {
    case KILN_EVENT_TYPE_INTR:
    case KILN_EVENT_TYPE_SOFT:
        return true;
    case KILN_EVENT_TYPE_NMI:
        return vector == 2;
    case KILN_EVENT_TYPE_EXCP:
        return vector < 32 && vector != 2;
    default:
        return false;
    }
}

/* Why st cannot be loaded, or NULL. */
static const char *state_problem(const struct kiln_vcpu_state *st)
{
    const struct kiln_seg_state *segs[] = { &st->es, &st->cs, &st->ss, &st->ds, &st->fs,
                                            &st->gs, &st->ldtr, &st->tr, &st->gdtr, &st->idtr };
    bool lma = st->efer & EFER_LMA;
    u32 mxcsr;

    if (st->cr0 & ~CR0_DEFINED)
        return "cr0 reserved bits";
    if ((st->cr0 & CR0_NW) && !(st->cr0 & CR0_CD))
        return "cr0 NW without CD";
    if ((st->cr0 & CR0_PG) && !(st->cr0 & CR0_PE))
        return "cr0 PG without PE";
    if (st->cr4 & ~CR4_GUEST)
        return "cr4 bits a guest cannot set";
    if (st->cr3 >> 52)
        return "cr3 reserved bits";
    if (st->cr8 > 15)
        return "cr8 above 15";
    if (st->efer & ~EFER_GUEST)
        return "efer bits a guest cannot set";
    if (lma != ((st->efer & EFER_LME) && (st->cr0 & CR0_PG)) ||
        (lma && !(st->cr4 & CR4_PAE)))
        return "efer.LMA inconsistent with LME, PG and PAE";
    if (lma && (st->cs.attr & SEG_ATTR_L) && (st->cs.attr & SEG_ATTR_DB))
        return "64-bit code segment with D set";
    if ((st->rflags & ~RFLAGS_DEFINED) || !(st->rflags & RFLAGS_FIXED1))
        return "rflags reserved bits";
    if ((lma && (st->cs.attr & SEG_ATTR_L)) ? !canonical(st->rip) : st->rip > 0xffffffffull)
        return "rip out of range for its mode";
    for (unsigned int i = 0; i < ARRAY_SIZE(segs); i++)
        if (!canonical(segs[i]->base) || segs[i]->attr > 0xfff)
            return "segment base not canonical or attributes out of range";
    if (!canonical(st->kernel_gs_base) || !canonical(st->lstar) || !canonical(st->cstar) ||
        !canonical(st->sysenter_esp) || !canonical(st->sysenter_eip))
        return "MSR address not canonical";
    if (st->sysenter_cs > 0xffff || st->sfmask >> 32)
        return "sysenter_cs or sfmask out of range";
    if (st->dr6 >> 32 || st->dr7 >> 32)
        return "dr6/dr7 reserved bits";
    if (!pat_ok(st->pat))
        return "PAT memory type";
    if (st->tsc_aux || st->xcr0 != 1)
        return "tsc_aux/xcr0 other than 0/1";
    if (!event_ok(st->pending_event))
        return "pending event malformed";
    if (st->interrupt_shadow > 1 || st->cpl > 3)
        return "interrupt shadow or CPL out of range";
    if (st->fpu_format != KILN_FPU_FXSAVE || st->fpu_size != KILN_FPU_FXSAVE_SIZE)
        return "FPU area format";
    kmemcpy(&mxcsr, st->fpu + FX_MXCSR, sizeof(mxcsr));
    if (mxcsr & ~host_mxcsr_mask())
        return "MXCSR bits this CPU does not have";
    return NULL;
}

int svm_set_state(struct vcpu *v, const struct kiln_vcpu_state *o)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb_save *st = &s->vmcb->save;
    struct vmcb_control *c = &s->vmcb->ctl;
    const char *why = state_problem(o);

    if (why) {
        pr_warn("d%u v%u: vCPU state refused: %s\n", v->domain->id, v->id, why);
        return -KILN_EINVAL;
    }
    st->rax = o->rax;
    s->gprs.rbx = o->rbx;
    s->gprs.rcx = o->rcx;
    s->gprs.rdx = o->rdx;
    s->gprs.rsi = o->rsi;
    s->gprs.rdi = o->rdi;
    s->gprs.rbp = o->rbp;
    st->rsp = o->rsp;
    s->gprs.r8 = o->r8;
    s->gprs.r9 = o->r9;
    s->gprs.r10 = o->r10;
    s->gprs.r11 = o->r11;
    s->gprs.r12 = o->r12;
    s->gprs.r13 = o->r13;
    s->gprs.r14 = o->r14;
    s->gprs.r15 = o->r15;
    st->rip = o->rip;
    st->rflags = o->rflags;
    seg_in(&st->es, &o->es);
    seg_in(&st->cs, &o->cs);
    seg_in(&st->ss, &o->ss);
    seg_in(&st->ds, &o->ds);
    seg_in(&st->fs, &o->fs);
    seg_in(&st->gs, &o->gs);
    seg_in(&st->ldtr, &o->ldtr);
    seg_in(&st->tr, &o->tr);
    seg_in(&st->gdtr, &o->gdtr);
    seg_in(&st->idtr, &o->idtr);
    st->cr0 = o->cr0;
    st->cr2 = o->cr2;
    st->cr3 = o->cr3;
    st->cr4 = o->cr4;
    c->vintr = (c->vintr & ~V_TPR_MASK) | o->cr8;
    st->efer = o->efer | EFER_SVME;
    st->dr6 = o->dr6;
    st->dr7 = o->dr7;
    st->star = o->star;
    st->lstar = o->lstar;
    st->cstar = o->cstar;
    st->sfmask = o->sfmask;
    st->kernel_gs_base = o->kernel_gs_base;
    st->sysenter_cs = o->sysenter_cs;
    st->sysenter_esp = o->sysenter_esp;
    st->sysenter_eip = o->sysenter_eip;
    st->g_pat = o->pat;
    st->cpl = (u8)o->cpl;
    c->tsc_offset = o->tsc - rdtsc();
    c->eventinj = o->pending_event;
    c->interrupt_shadow = o->interrupt_shadow;
    kmemcpy(s->fpu, o->fpu, KILN_FPU_FXSAVE_SIZE);
    c->tlb_control = SVM_TLB_FLUSH_ALL;     /* new CR3 and page tables */
    return 0;
}

void svm_tlb_flush(struct vcpu *v)
{
    /* No flush-by-ASID on this CPU model: TLB_CONTROL 1 flushes all, at
     * v's next VMRUN (svm_run clears it after each one). */
    svm_of(v)->vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
}
