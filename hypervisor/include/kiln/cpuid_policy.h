/*
 * cpuid_policy.h - what CPUID tells a guest (arch/x86/cpuid_policy.c).
 *
 * Pure functions over tables of CPUID leaves, so the rules are unit-tested
 * on the host with leaves recorded from real and emulated CPUs:
 *
 *   boot:    cpuid_policy_collect(&host, fn, ctx)   fn executes CPUID
 *   pool:    cpuid_policy_intersect(&pool, &other)   optional, for migration
 *   domain:  cpuid_policy_derive(&host_or_pool, &params, &dom->policy)
 *   domctl:  cpuid_policy_restrict(&dom->policy, &kiln_domctl_cpuid)
 *   exit:    cpuid_policy_query(&dom->policy, vcpu_id, osxsave, leaf, sub, out)
 *
 * The guest policy is an allow-list: a feature bit reaches a guest only if
 * the host has it AND Kiln knows it is safe to expose (cpuid_policy.c says
 * why each hidden group is hidden).  Unknown or future bits stay hidden.
 * Leaves: basic up to 0xD, Kiln's 0x40000000-0x40000001 (and the timing
 * leaf 0x40000010 for domains with an emulated APIC), extended up to
 * 0x80000008.  A leaf outside those ranges reads as zeros (the AMD
 * behaviour; Intel CPUs would repeat the highest basic leaf).
 * A vCPU's APIC ID is its vCPU number.
 */
#ifndef KILN_CPUID_POLICY_H
#define KILN_CPUID_POLICY_H

#include <kiln/types.h>
#include <public/kiln.h>

#define CPUID_POLICY_MAX_LEAVES 80
#define CPUID_MAX_BASIC    0x0000000du
#define CPUID_MAX_EXTENDED 0x80000008u

enum cpuid_vendor {
    CPUID_VENDOR_OTHER = 0,
    CPUID_VENDOR_INTEL = 1,
    CPUID_VENDOR_AMD   = 2,
};

struct cpuid_leaf {
    u32 leaf, subleaf;
    u32 eax, ebx, ecx, edx;
};

/* Sorted by (leaf, subleaf); leaves without subleaves have subleaf 0. */
struct cpuid_policy {
    u32 nr;
    struct cpuid_leaf leaves[CPUID_POLICY_MAX_LEAVES];
};

/* Executes CPUID(leaf, subleaf) and stores EAX..EDX in out[0..3]. */
typedef void (*cpuid_fn)(void *ctx, u32 leaf, u32 subleaf, u32 out[4]);

/* Reads every leaf the policy uses from the CPU through fn.  Returns 0,
 * or -KILN_E2BIG if the CPU reports more subleaves than fit. */
int cpuid_policy_collect(struct cpuid_policy *host, cpuid_fn fn, void *ctx);

enum cpuid_vendor cpuid_policy_vendor(const struct cpuid_policy *p);

/*
 * For a migration pool: pool &= other.  Feature bits are ANDed, maximum
 * leaves and address widths take the minimum, XSAVE sizes the maximum;
 * identity (vendor, family/model, brand, caches) stays the pool's.  Hosts
 * of different vendors are refused with -KILN_EINVAL (pool unchanged): a
 * guest that found "AuthenticAMD" takes AMD-only paths (MSRs, errata,
 * SYSCALL in compat mode) that break on Intel, and Kiln runs on AMD-V.
 */
int cpuid_policy_intersect(struct cpuid_policy *pool, const struct cpuid_policy *other);

/* cpuid_policy_derive() options: what the hypervisor virtualises. */
#define CPUID_OPT_X2APIC       (1u << 0) /* x2APIC MSRs are emulated */
#define CPUID_OPT_TSC_DEADLINE (1u << 1) /* TSC-deadline timer mode is emulated */
#define CPUID_OPT_XSAVE        (1u << 2) /* XCR0 and XSAVE state are switched per vCPU */
/* The local APIC is emulated (a PC domain's vLAPIC): x2APIC and the
 * TSC-deadline timer are offered whatever the host has, and the timing
 * leaf tells the guest its TSC and APIC timer frequencies. */
#define CPUID_OPT_VIRT_APIC    (1u << 3)
#define CPUID_OPT_RDTSCP       (1u << 4) /* TSC_AUX is switched per vCPU */
#define CPUID_OPT_LA57         (1u << 5) /* 5-level paging (see cpuid_policy.c) */

/* The hypervisor timing leaf (the convention VMware started and others
 * read): EAX = TSC frequency in kHz, EBX = APIC timer (bus) frequency in
 * kHz, so a guest need not calibrate either.  With CPUID_OPT_VIRT_APIC. */
#define CPUID_LEAF_TIMING      0x40000010u

struct cpuid_params {
    u32 domid;
    u32 flags;      /* KILN_CPUID_F_*, reported in leaf 0x40000001 ECX */
    u32 nr_vcpus;   /* 1..KILN_MAX_VCPUS: topology leaves */
    u32 opts;       /* CPUID_OPT_* */
    u32 tsc_khz;    /* CPUID_OPT_VIRT_APIC: the timing leaf's values */
    u32 apic_khz;
};

/* Builds a domain's policy from a host (or pool) policy.  Returns 0 or
 * -KILN_EINVAL (bad params, or a host table lacking leaf 0 or 1). */
int cpuid_policy_derive(const struct cpuid_policy *host, const struct cpuid_params *params,
                        struct cpuid_policy *guest);

/*
 * KILN_DOMCTL_SET_CPUID: ANDs c's registers into the feature registers of
 * leaf (c->leaf, c->subleaf), so features can be removed, never added;
 * features that depend on a removed one go too (no AVX without XSAVE...).
 * Registers of that leaf that hold no feature bits must be passed as
 * 0xffffffff.  The hypervisor-present bit stays set.  Returns 0,
 * -KILN_ENOENT (no such leaf in the policy) or -KILN_EINVAL (not a feature
 * leaf, or a non-feature register other than all-ones).
 */
int cpuid_policy_restrict(struct cpuid_policy *guest, const struct kiln_domctl_cpuid *c);

/* What CPUID(leaf, subleaf) returns on vCPU vcpu_id: the policy plus the
 * per-vCPU fields (APIC IDs) and OSXSAVE, which mirrors the guest's
 * CR4.OSXSAVE. */
void cpuid_policy_query(const struct cpuid_policy *guest, u32 vcpu_id, bool osxsave,
                        u32 leaf, u32 subleaf, u32 out[4]);

#endif
