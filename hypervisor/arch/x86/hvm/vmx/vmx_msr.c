/*
 * vmx_msr.c - the MSRs a guest may read or write under VT-x.
 *
 * Every MSR access exits (the MSR bitmap is all ones); only the allow-list
 * below is emulated, everything else gets #GP as on a CPU that does not
 * implement the MSR.  The same list as svm_msr.c, kept where VMX keeps
 * them: EFER, PAT, the SYSENTER MSRs and the FS/GS bases in the VMCS; the
 * syscall MSRs, KERNEL_GS_BASE and TSC_AUX, which VM entry and exit do not
 * switch, in the vCPU and loaded into the CPU (the hypervisor never uses
 * them).  IA32_FEATURE_CONTROL reads as locked with VMX off: VMX is hidden
 * from guests.  A PC domain's local APIC MSRs go to its vLAPIC.
 */
#include <kiln/vplatform.h>
#include <kiln/x86.h>
#include "vmx.h"

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
/* Bits a guest may set: SCE, LME, NXE (LMA follows CR0.PG). */
#define EFER_GUEST_BITS    (EFER_SCE | EFER_LME | EFER_NXE)

static bool canonical(u64 a)
{
    return (u64)((s64)(a << 16) >> 16) == a;
}

void vmx_msr_load(struct vmx_vcpu *s)
{
    wrmsr(MSR_STAR, s->star);
    wrmsr(MSR_LSTAR, s->lstar);
    wrmsr(MSR_CSTAR, s->cstar);
    wrmsr(MSR_SFMASK, s->sfmask);
    wrmsr(MSR_KERNEL_GS_BASE, s->kernel_gs_base);
    wrmsr(MSR_TSC_AUX, s->tsc_aux);
}

/* The vCPU field of an MSR kept outside the VMCS, or NULL. */
static u64 *soft_slot(struct vmx_vcpu *s, u32 msr)
{
    switch (msr) {
    case MSR_STAR:           return &s->star;
    case MSR_LSTAR:          return &s->lstar;
    case MSR_CSTAR:          return &s->cstar;
    case MSR_SFMASK:         return &s->sfmask;
    case MSR_KERNEL_GS_BASE: return &s->kernel_gs_base;
    default:                 return NULL;
    }
}

/* The VMCS field of an MSR, or 0. */
static enum vmcs_field vmcs_slot(u32 msr)
{
    switch (msr) {
    case MSR_FS_BASE:        return GUEST_ES_BASE + 2 * VSEG_FS;
    case MSR_GS_BASE:        return GUEST_ES_BASE + 2 * VSEG_GS;
    case MSR_SYSENTER_CS:    return GUEST_SYSENTER_CS;
    case MSR_SYSENTER_ESP:   return GUEST_SYSENTER_ESP;
    case MSR_SYSENTER_EIP:   return GUEST_SYSENTER_EIP;
    case MSR_PAT:            return GUEST_PAT;
    default:                 return 0;
    }
}

int vmx_msr_read(struct vcpu *v, u32 msr, u64 *val)
{
    struct vmx_vcpu *s = vmx_of(v);
    int rc;
    if (vplatform_msr_read(v, msr, val, &rc))
        return rc;
    switch (msr) {
    case MSR_EFER:
        *val = s->g.efer;
        return 0;
    case MSR_TSC:
        *val = rdtsc() + s->tsc_offset;
        return 0;
    case MSR_TSC_AUX:
        *val = s->tsc_aux;
        return 0;
    case MSR_MISC_ENABLE:
        *val = s->misc_enable;
        return 0;
    case MSR_FEATURE_CONTROL:
        *val = FEATURE_CONTROL_LOCK;
        return 0;
    default:
        break;
    }
    u64 *soft = soft_slot(s, msr);
    if (soft) {
        *val = *soft;
        return 0;
    }
    enum vmcs_field f = vmcs_slot(msr);
    if (!f)
        return -1;
    *val = vmread(f);
    return 0;
}

int vmx_msr_write(struct vcpu *v, u32 msr, u64 val)
{
    struct vmx_vcpu *s = vmx_of(v);
    int rc;
    if (vplatform_msr_write(v, msr, val, &rc))
        return rc;
    switch (msr) {
    case MSR_EFER:
        if (val & ~(EFER_GUEST_BITS | EFER_LMA))
            return -1;
        /* LME cannot change while paging is on. */
        if ((s->g.cr0 & CR0_PG) && ((val ^ s->g.efer) & EFER_LME))
            return -1;
        vmx_set_efer(v, val & EFER_GUEST_BITS);
        return 0;
    case MSR_TSC:
        s->tsc_offset = val - rdtsc();
        vmwrite(TSC_OFFSET, s->tsc_offset);
        return 0;
    case MSR_TSC_AUX:
        if (val >> 32)
            return -1;
        s->tsc_aux = (u32)val;
        wrmsr(MSR_TSC_AUX, val);
        return 0;
    case MSR_MISC_ENABLE:
        s->misc_enable = val;   /* no bit changes anything here */
        return 0;
    case MSR_PAT:
        /* Each byte must be a valid memory type (0, 1, 4, 5, 6, 7). */
        for (unsigned int i = 0; i < 8; i++) {
            u8 t = (u8)(val >> (i * 8));
            if (t > 7 || t == 2 || t == 3)
                return -1;
        }
        s->g.pat = val;
        break;
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
    case MSR_SYSENTER_CS:
        if (val >> 32)
            return -1;
        break;
    default:
        break;
    }
    u64 *soft = soft_slot(s, msr);
    if (soft) {
        *soft = val;
        wrmsr(msr, val);
        return 0;
    }
    enum vmcs_field f = vmcs_slot(msr);
    if (!f)
        return -1;
    vmwrite(f, val);
    if (msr == MSR_FS_BASE || msr == MSR_GS_BASE)
        s->g.seg[msr == MSR_FS_BASE ? VSEG_FS : VSEG_GS].base = val;
    return 0;
}
