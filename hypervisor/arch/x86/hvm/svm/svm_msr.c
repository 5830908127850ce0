/*
 * svm_msr.c - the MSRs a guest may read or write.
 *
 * Every MSR access exits (the MSR permission map is all ones); only the
 * allow-list below is emulated, everything else gets #GP as on a CPU that
 * does not implement the MSR.  Most allowed MSRs are fields of the VMCB
 * (VMLOAD/VMSAVE keep them current), so this file belongs to the backend.
 * SVM's own MSRs are not on the list: SVM is hidden from guests.
 * TSC_AUX, PKRS and MISC_ENABLE are kept per vCPU (svm.c loads the first
 * two into the CPU before VMRUN).  A PC
 * domain's local APIC MSRs (APIC_BASE, TSC_DEADLINE, x2APIC) go to its
 * vLAPIC (vplatform.h).
 */
#include <kiln/time.h>
#include <kiln/vplatform.h>
#include <kiln/x86.h>
#include "svm.h"

#define MSR_TSC            0x10
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176
#define MSR_PAT            0x277
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SFMASK         0xc0000084

#define EFER_LMA           (1ul << 10)
/* Bits a guest may set: SCE, LME, NXE (LMA follows CR0.PG, SVME is ours). */
#define EFER_GUEST_BITS    (EFER_SCE | EFER_LME | EFER_NXE)

/*
 * AMD's performance counters (K7 EVNTSEL0-3/PERFCTR0-3, and the Fam15h
 * core counters): every AMD CPU has the K7 ones whatever CPUID says, so
 * guests (kvm-unit-tests' library, Linux) touch them unasked.  Kiln gives
 * domUs no PMU: they exist, read 0 and ignore writes, as under QEMU's TCG.
 */
static bool inert_pmu_msr(u32 msr)
{
    return (msr >= 0xc0010000u && msr <= 0xc0010007u) ||
           (msr >= 0xc0010200u && msr <= 0xc001020bu);
}

/* IA32_PKRS exists when the domain's CPUID offers PKS. */
static bool has_pks(struct vcpu *v)
{
    u32 r[4];
    hvm_cpuid(v, false, 7, 0, r);
    return svm_has_pks && !v->domain->hardware && (r[2] >> 31) & 1;
}

static bool canonical(u64 a)
{
    return (u64)((s64)(a << 16) >> 16) == a;
}

/* VMCB fields that hold an MSR of the same meaning. */
static u64 *msr_slot(struct vmcb_save *st, u32 msr)
{
    switch (msr) {
    case MSR_FS_BASE:        return &st->fs.base;
    case MSR_GS_BASE:        return &st->gs.base;
    case MSR_KERNEL_GS_BASE: return &st->kernel_gs_base;
    case MSR_STAR:           return &st->star;
    case MSR_LSTAR:          return &st->lstar;
    case MSR_CSTAR:          return &st->cstar;
    case MSR_SFMASK:         return &st->sfmask;
    case MSR_SYSENTER_CS:    return &st->sysenter_cs;
    case MSR_SYSENTER_ESP:   return &st->sysenter_esp;
    case MSR_SYSENTER_EIP:   return &st->sysenter_eip;
    case MSR_PAT:            return &st->g_pat;
    default:                 return NULL;
    }
}

int svm_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
    struct vmcb *vm = svm_of(v)->vmcb;
    int rc;
    if (vplatform_msr_read(v, msr, val, &rc))
        return rc;
    if (msr == MSR_EFER) {
        *val = vm->save.efer & ~EFER_SVME;
        return 0;
    }
    if (msr == MSR_TSC) {
        *val = rdtsc() + vm->ctl.tsc_offset;
        return 0;
    }
    if (inert_pmu_msr(msr)) {
        *val = 0;
        return 0;
    }
    if (msr == MSR_TSC_AUX) {
        *val = svm_of(v)->tsc_aux;
        return 0;
    }
    if (msr == MSR_MISC_ENABLE) {
        *val = svm_of(v)->misc_enable;
        return 0;
    }
    if (msr == MSR_PKRS && has_pks(v)) {
        *val = svm_of(v)->pkrs;
        return 0;
    }
    u64 *slot = msr_slot(&vm->save, msr);
    if (!slot)
        return -1;
    *val = *slot;
    return 0;
}

int svm_msr_write(struct vcpu *v, u32 msr, u64 val)
{
    struct vmcb *vm = svm_of(v)->vmcb;
    int rc;
    if (vplatform_msr_write(v, msr, val, &rc))
        return rc;
    if (inert_pmu_msr(msr))
        return 0;
    if (msr == MSR_TSC_AUX) {
        if (val >> 32)
            return -1;
        svm_of(v)->tsc_aux = (u32)val;
        return 0;
    }
    if (msr == MSR_MISC_ENABLE) {
        /* Intel's: no bit changes anything here; kept as written. */
        svm_of(v)->misc_enable = val;
        return 0;
    }
    if (msr == MSR_PKRS && has_pks(v)) {
        if (val >> 32)
            return -1;
        svm_of(v)->pkrs = (u32)val;
        return 0;
    }
    switch (msr) {
    case MSR_EFER:
        if (val & ~(EFER_GUEST_BITS | EFER_LMA))
            return -1;
        vm->save.efer = (val & EFER_GUEST_BITS) | (vm->save.efer & EFER_LMA) | EFER_SVME;
        return 0;
    case MSR_TSC:
        vm->ctl.tsc_offset = val - rdtsc();
        return 0;
    case MSR_PAT:
        /* Each byte must be a valid memory type (0, 1, 4, 5, 6, 7). */
        for (unsigned int i = 0; i < 8; i++) {
            u8 t = (u8)(val >> (i * 8));
            if (t > 7 || t == 2 || t == 3)
                return -1;
        }
        vm->save.g_pat = val;
        return 0;
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
        if (!canonical(val))
            return -1;
        break;
    default:
        break;
    }
    u64 *slot = msr_slot(&vm->save, msr);
    if (!slot)
        return -1;
    *slot = val;
    return 0;
}
