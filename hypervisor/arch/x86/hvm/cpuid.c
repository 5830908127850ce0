/*
 * cpuid.c - CPUID as a guest sees it.
 *
 * The host's values filtered by a policy: the hypervisor bit is set, SVM
 * and VMX are hidden (guests cannot nest), the Kiln leaves at 0x40000000
 * identify the hypervisor and the domain, and each domain may AND extra
 * masks onto any leaf (DOMCTL_SET_CPUID) to hide more.
 * TODO(HV-LOGIC): derive the base policy with include/kiln/cpuid_policy.h
 * once it lands; until then the few rules above are applied here.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/x86.h>

#define CPUID1_ECX_VMX         (1u << 5)
#define CPUID1_ECX_HYPERVISOR  (1u << 31)
#define CPUID81_ECX_SVM        (1u << 2)
#define KILN_CPUID_LAST        KILN_CPUID_VERSION

static void base_policy(struct vcpu *v, u32 leaf, u32 subleaf, u32 out[4])
{
    struct domain *d = v->domain;
    struct cpuid_regs r;

    if (leaf >= KILN_CPUID_SIGNATURE && leaf <= 0x4fffffff) {
        out[0] = out[1] = out[2] = out[3] = 0;
        if (leaf == KILN_CPUID_SIGNATURE) {
            out[0] = KILN_CPUID_LAST;
            out[1] = KILN_CPUID_SIG_EBX;
            out[2] = KILN_CPUID_SIG_ECX;
            out[3] = KILN_CPUID_SIG_EDX;
        } else if (leaf == KILN_CPUID_VERSION) {
            out[0] = (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR;
            out[1] = d->id;
            out[2] = d->flags;
        }
        return;
    }
    r = cpuid_count(leaf, subleaf);
    out[0] = r.eax;
    out[1] = r.ebx;
    out[2] = r.ecx;
    out[3] = r.edx;
    switch (leaf) {
    case 1:
        out[2] = (out[2] & ~CPUID1_ECX_VMX) | CPUID1_ECX_HYPERVISOR;
        /* Initial APIC ID = vCPU id, one logical CPU per package. */
        out[1] = (out[1] & 0x0000ffffu) | (1u << 16) | (v->id << 24);
        break;
    case 0x80000001:
        out[2] &= ~CPUID81_ECX_SVM;
        break;
    case 0x8000000a:
        out[0] = out[1] = out[2] = out[3] = 0;
        break;
    default:
        break;
    }
}

void hvm_cpuid(struct vcpu *v, u32 leaf, u32 subleaf, u32 out[4])
{
    struct domain *d = v->domain;
    base_policy(v, leaf, subleaf, out);
    for (unsigned int i = 0; i < d->nr_cpuid; i++) {
        const struct cpuid_override *o = &d->cpuid[i];
        if (o->leaf != leaf || o->subleaf != subleaf)
            continue;
        for (unsigned int k = 0; k < 4; k++)
            out[k] &= o->mask[k];
    }
}
