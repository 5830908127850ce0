/*
 * cpuid.c - CPUID as a guest sees it, through the CPUID policy
 * (include/kiln/cpuid_policy.h): the host's leaves are read once at boot,
 * each domain gets a policy derived from them when it is created (the
 * hypervisor bit, Kiln's leaves with its id and flags, SVM/VMX and every
 * feature Kiln cannot virtualise hidden), DOMCTL_SET_CPUID can only remove
 * features from it, and every CPUID exit is answered from it.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/mm.h>
#include <kiln/time.h>
#include <kiln/vplatform.h>
#include <kiln/x86.h>

static struct cpuid_policy host_policy;

BUILD_BUG_ON(sizeof(struct cpuid_policy) > PAGE_SIZE);

static void host_cpuid(void *ctx, u32 leaf, u32 subleaf, u32 out[4])
{
    (void)ctx;
    struct cpuid_regs r = cpuid_count(leaf, subleaf);
    out[0] = r.eax;
    out[1] = r.ebx;
    out[2] = r.ecx;
    out[3] = r.edx;
}

int hvm_cpuid_host_init(void)
{
    return cpuid_policy_collect(&host_policy, host_cpuid, NULL);
}

int hvm_cpuid_domain_init(struct domain *d)
{
    struct cpuid_params params = {
        .domid = d->id, .flags = d->flags, .nr_vcpus = d->nr_vcpus, .opts = 0,
    };
    /* dom0 drives CPU 0's real local APIC (its MSRs are not intercepted),
     * so it may use whatever APIC modes the CPU has. */
    if (d->hardware)
        params.opts = CPUID_OPT_X2APIC | CPUID_OPT_TSC_DEADLINE | CPUID_OPT_LA57;
    else
        params.opts = CPUID_OPT_RDTSCP |  /* TSC_AUX loaded per vCPU (svm.c) */
                      (hvm->xsave_switched() ? CPUID_OPT_XSAVE : 0);
    /* A PC domain's local APICs are emulated: x2APIC and TSC-deadline
     * always, and the timing leaf spares the guest its calibration. */
    if (d->pc_platform) {
        params.opts |= CPUID_OPT_VIRT_APIC;
        params.tsc_khz = (u32)(tsc_hz() / 1000);
        params.apic_khz = vplatform_apic_khz();
    }
    d->cpuid = alloc_pages_zeroed(0);
    if (!d->cpuid)
        return -KILN_ENOMEM;
    int rc = cpuid_policy_derive(&host_policy, &params, d->cpuid);
    if (rc)
        hvm_cpuid_domain_free(d);
    return rc;
}

void hvm_cpuid_domain_free(struct domain *d)
{
    if (d->cpuid)
        free_page(d->cpuid);
    d->cpuid = NULL;
}

void hvm_cpuid(struct vcpu *v, bool osxsave, u32 leaf, u32 subleaf, u32 out[4])
{
    cpuid_policy_query(v->domain->cpuid, v->id, osxsave, leaf, subleaf, out);
    /* CPUID.1:EDX.APIC follows IA32_APIC_BASE.EN, as on hardware. */
    if (leaf == 1 && v->domain->platform && !vplatform_apic_enabled(v))
        out[3] &= ~(1u << 9);
}
