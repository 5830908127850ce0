/*
 * canary.c - a bystander whose saved state must come back exactly, however
 * busy the other CPUs are creating and destroying domains (domain-churn.sh).
 * It loads distinctive values into the state the hypervisor switches with
 * VMLOAD/VMSAVE (FS/GS bases, KernelGSBase, the SYSCALL and SYSENTER
 * MSRs) and into registers only the exit path saves (R12-R15), then for
 * CANARY_NS keeps exiting (CPUID, yield, short blocks that put it on a
 * CPU's wake list) and checks after each exit, through the segments
 * themselves and through RDMSR, that nothing changed.  A VMCB or host
 * save area mixed up between vCPUs or CPUs shows up here as a wrong value
 * (or as this domain dying on a fault).
 */
#include "kt.h"

#define CANARY_NS 10000000000ll

#define MSR_FS_BASE        0xc0000100
#define MSR_GS_BASE        0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_STAR           0xc0000081
#define MSR_LSTAR          0xc0000082
#define MSR_CSTAR          0xc0000083
#define MSR_SFMASK         0xc0000084
#define MSR_SYSENTER_CS    0x174
#define MSR_SYSENTER_ESP   0x175
#define MSR_SYSENTER_EIP   0x176

static u64 fs_blk = 0x0fa51a5e0fa51a5eull, gs_blk = 0x06516a5e06516a5eull,
           kgs_blk = 0x0c6516a5e0c6516aull;

static const struct {
    u32 msr;
    u64 val;
} msrs[] = {
    { MSR_STAR, 0x0023001000000000ull },
    { MSR_LSTAR, 0xffff8000cafe1000ull },
    { MSR_CSTAR, 0xffff8000cafe2000ull },
    { MSR_SFMASK, 0x47700ull },
    { MSR_SYSENTER_CS, 0x10ull },
    { MSR_SYSENTER_ESP, 0xffff8000cafe3000ull },
    { MSR_SYSENTER_EIP, 0xffff8000cafe4000ull },
};

/* Loads %fs:0, %gs:0 and, with SWAPGS, the KernelGSBase block's word. */
static void read_segments(u64 *fs, u64 *gs, u64 *kgs)
{
    __asm__ __volatile__("movq %%fs:0, %0\n\t"
                         "movq %%gs:0, %1\n\t"
                         "swapgs\n\t"
                         "movq %%gs:0, %2\n\t"
                         "swapgs"
                         : "=r"(*fs), "=r"(*gs), "=r"(*kgs) :: "memory");
}

/* R12-R15 hold seed+0..3 across a hypercall; returns the XOR of what came
 * back with what went in (0 = intact). */
static u64 gprs_across_exit(u64 seed)
{
    u64 bad;
    __asm__ __volatile__("movq %1, %%r12\n\t"
                         "leaq 1(%1), %%r13\n\t"
                         "leaq 2(%1), %%r14\n\t"
                         "leaq 3(%1), %%r15\n\t"
                         "movl $2, %%eax\n\t"     /* KILN_HC_SCHED_YIELD */
                         "vmmcall\n\t"
                         "movq %%r12, %0\n\t"
                         "xorq %1, %0\n\t"
                         "leaq 1(%1), %%rax\n\t"
                         "xorq %%r13, %%rax\n\t"
                         "orq %%rax, %0\n\t"
                         "leaq 2(%1), %%rax\n\t"
                         "xorq %%r14, %%rax\n\t"
                         "orq %%rax, %0\n\t"
                         "leaq 3(%1), %%rax\n\t"
                         "xorq %%r15, %%rax\n\t"
                         "orq %%rax, %0"
                         : "=&r"(bad) : "r"(seed)
                         : "rax", "r12", "r13", "r14", "r15", "memory");
    return bad;
}

/* NULL when every value is as loaded, else which one is not. */
static const char *check(u64 iter)
{
    u64 fs, gs, kgs;
    read_segments(&fs, &gs, &kgs);
    if (fs != fs_blk)
        return "FS base";
    if (gs != gs_blk)
        return "GS base";
    if (kgs != kgs_blk)
        return "KernelGSBase";
    if (kt_rdmsr(MSR_FS_BASE) != (u64)(uintptr_t)&fs_blk || kt_rdmsr(MSR_GS_BASE) != (u64)(uintptr_t)&gs_blk ||
        kt_rdmsr(MSR_KERNEL_GS_BASE) != (u64)(uintptr_t)&kgs_blk)
        return "RDMSR of a segment base";
    for (unsigned int i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
        if (kt_rdmsr(msrs[i].msr) != msrs[i].val)
            return "a SYSCALL/SYSENTER MSR";
    if (gprs_across_exit(0x5eed000000000000ull + iter * 4))
        return "R12-R15";
    return NULL;
}

void kt_main(void)
{
    kt_plan(2);
    kt_wrmsr(MSR_FS_BASE, (u64)(uintptr_t)&fs_blk);
    kt_wrmsr(MSR_GS_BASE, (u64)(uintptr_t)&gs_blk);
    kt_wrmsr(MSR_KERNEL_GS_BASE, (u64)(uintptr_t)&kgs_blk);
    for (unsigned int i = 0; i < sizeof(msrs) / sizeof(msrs[0]); i++)
        kt_wrmsr(msrs[i].msr, msrs[i].val);

    const char *bad = NULL;
    u64 iter = 0;
    s64 end = kt_hc_time() + CANARY_NS;
    while (!bad && kt_hc_time() < end) {
        bad = check(iter);
        /* Exits of every kind in between: CPUID, a block that puts this
         * vCPU on a wake list, and the yield inside gprs_across_exit. */
        kt_cpuid(0, 0);
        if (iter % 4 == 0)
            kt_hc_block((u64)kt_hc_time() + 300000);
        iter++;
    }
    kt_ok(!bad, "state switched by VMLOAD/VMSAVE and the exit path intact over %lu checks%s%s",
          (unsigned long)iter, bad ? ": wrong " : "", bad ? bad : "");
    kt_ok(iter >= 100, "at least 100 checks in %lld s (did %lu)", CANARY_NS / 1000000000ll,
          (unsigned long)iter);
}
