/*
 * test_cpuid_policy.c - unit tests of the guest CPUID policy
 * (arch/x86/cpuid_policy.c).
 *
 * The host tables below were recorded with cpuid_policy_collect() itself:
 * on the Intel machine this project was developed on (a hosted program),
 * and in QEMU TCG with -cpu max, EPYC and Skylake-Client (a tiny Multiboot
 * kernel printing the table on the serial port).  A fake CPUID replays
 * them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/cpuid_policy.c"

/* Intel Xeon (Sapphire Rapids class) host this project was developed on, under a hypervisor */
static const struct cpuid_leaf host_intel_xeon[] = {
    { 0x00000000,  0, 0x00000024, 0x756e6547, 0x6c65746e, 0x49656e69 },
    { 0x00000001,  0, 0x000a0671, 0x00020800, 0xfffa3203, 0x1f8bfbff },
    { 0x00000002,  0, 0x00feff01, 0x000000f0, 0x00000000, 0x00000000 },
    { 0x00000003,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000004,  0, 0x04000121, 0x02c0003f, 0x0000003f, 0x00000000 },
    { 0x00000004,  1, 0x04000122, 0x03c0003f, 0x0000003f, 0x00000000 },
    { 0x00000004,  2, 0x04000143, 0x03c0003f, 0x000007ff, 0x00000000 },
    { 0x00000004,  3, 0x04004163, 0x03c0003f, 0x00077fff, 0x00000000 },
    { 0x00000005,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000006,  0, 0x00000004, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000007,  0, 0x00000002, 0xf1bf2ffb, 0x1a415f46, 0x23c14010 },
    { 0x00000007,  1, 0x00001c30, 0x00000000, 0x00000000, 0x00084000 },
    { 0x00000008,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000009,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000a,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000b,  0, 0x00000000, 0x00000001, 0x00000100, 0x00000000 },
    { 0x0000000b,  1, 0x00000005, 0x00000002, 0x00000201, 0x00000000 },
    { 0x0000000c,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000d,  0, 0x000600e7, 0x00002b00, 0x00002b00, 0x00000000 },
    { 0x0000000d,  1, 0x0000001f, 0x000029c0, 0x00000000, 0x00000000 },
    { 0x0000000d,  2, 0x00000100, 0x00000240, 0x00000000, 0x00000000 },
    { 0x0000000d,  5, 0x00000040, 0x00000440, 0x00000000, 0x00000000 },
    { 0x0000000d,  6, 0x00000200, 0x00000480, 0x00000000, 0x00000000 },
    { 0x0000000d,  7, 0x00000400, 0x00000680, 0x00000000, 0x00000000 },
    { 0x0000000d, 17, 0x00000040, 0x00000ac0, 0x00000002, 0x00000000 },
    { 0x0000000d, 18, 0x00002000, 0x00000b00, 0x00000006, 0x00000000 },
    { 0x80000000,  0, 0x80000008, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000001,  0, 0x00000000, 0x00000000, 0x00000121, 0x2c100800 },
    { 0x80000002,  0, 0x65746e49, 0x2952286c, 0x6f655820, 0x2952286e },
    { 0x80000003,  0, 0x6f725020, 0x73736563, 0x0000726f, 0x00000000 },
    { 0x80000004,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000005,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000006,  0, 0x00000000, 0x00000000, 0x08007040, 0x00000000 },
    { 0x80000007,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000100 },
    { 0x80000008,  0, 0x00303930, 0x00000000, 0x00000000, 0x00000000 },
};

/* qemu-system-x86_64 7.2 -accel tcg -cpu max */
static const struct cpuid_leaf qemu_max[] = {
    { 0x00000000,  0, 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65 },
    { 0x00000001,  0, 0x00060fb1, 0x00000800, 0xf6d8320b, 0x0fcbfbfd },
    { 0x00000002,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000003,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000005,  0, 0x00000000, 0x00000000, 0x00000003, 0x00000000 },
    { 0x00000006,  0, 0x00000004, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000007,  0, 0x00000000, 0x01d843a9, 0x8001020c, 0x00000000 },
    { 0x00000008,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000009,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000a,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000b,  0, 0x00000000, 0x00000001, 0x00000100, 0x00000000 },
    { 0x0000000b,  1, 0x00000000, 0x00000001, 0x00000201, 0x00000000 },
    { 0x0000000c,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000d,  0, 0x0000021f, 0x00000240, 0x00000a88, 0x00000000 },
    { 0x0000000d,  1, 0x00000005, 0x000003c8, 0x00000000, 0x00000000 },
    { 0x0000000d,  2, 0x00000100, 0x00000240, 0x00000000, 0x00000000 },
    { 0x0000000d,  3, 0x00000040, 0x000003c0, 0x00000000, 0x00000000 },
    { 0x0000000d,  4, 0x00000040, 0x00000400, 0x00000000, 0x00000000 },
    { 0x0000000d,  9, 0x00000008, 0x00000a80, 0x00000000, 0x00000000 },
    { 0x80000000,  0, 0x8000000a, 0x68747541, 0x444d4163, 0x69746e65 },
    { 0x80000001,  0, 0x00060fb1, 0x00000000, 0x00000075, 0xedd3fbfd },
    { 0x80000002,  0, 0x554d4551, 0x47435420, 0x55504320, 0x72657620 },
    { 0x80000003,  0, 0x6e6f6973, 0x352e3220, 0x0000002b, 0x00000000 },
    { 0x80000004,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000005,  0, 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140 },
    { 0x80000006,  0, 0x00000000, 0x42004200, 0x02008140, 0x00808140 },
    { 0x80000007,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000008,  0, 0x00003928, 0x00000000, 0x00000000, 0x00000000 },
};

/* qemu-system-x86_64 7.2 -accel tcg -cpu EPYC */
static const struct cpuid_leaf qemu_epyc[] = {
    { 0x00000000,  0, 0x0000000d, 0x68747541, 0x444d4163, 0x69746e65 },
    { 0x00000001,  0, 0x00800f12, 0x00000800, 0xf6d8320b, 0x078bfbfd },
    { 0x00000002,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000003,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000005,  0, 0x00000000, 0x00000000, 0x00000003, 0x00000000 },
    { 0x00000006,  0, 0x00000004, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000007,  0, 0x00000000, 0x009801a9, 0x00000000, 0x00000000 },
    { 0x00000008,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000009,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000a,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000b,  0, 0x00000000, 0x00000001, 0x00000100, 0x00000000 },
    { 0x0000000b,  1, 0x00000000, 0x00000001, 0x00000201, 0x00000000 },
    { 0x0000000c,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000d,  0, 0x00000007, 0x00000240, 0x00000340, 0x00000000 },
    { 0x0000000d,  1, 0x00000005, 0x00000340, 0x00000000, 0x00000000 },
    { 0x0000000d,  2, 0x00000100, 0x00000240, 0x00000000, 0x00000000 },
    { 0x80000000,  0, 0x8000001e, 0x68747541, 0x444d4163, 0x69746e65 },
    { 0x80000001,  0, 0x00800f12, 0x00000000, 0x00000075, 0x2dd3fbfd },
    { 0x80000002,  0, 0x20444d41, 0x43595045, 0x6f725020, 0x73736563 },
    { 0x80000003,  0, 0x0000726f, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000004,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000005,  0, 0x01ff01ff, 0x01ff01ff, 0x20080140, 0x40040140 },
    { 0x80000006,  0, 0x00000000, 0x42004200, 0x02006140, 0x00408140 },
    { 0x80000007,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000008,  0, 0x00003028, 0x00000000, 0x00000000, 0x00000000 },
};

/* qemu-system-x86_64 7.2 -accel tcg -cpu Skylake-Client */
static const struct cpuid_leaf qemu_skylake_client[] = {
    { 0x00000000,  0, 0x0000000d, 0x756e6547, 0x6c65746e, 0x49656e69 },
    { 0x00000001,  0, 0x000506e3, 0x00000800, 0xf6d83203, 0x078bfbfd },
    { 0x00000002,  0, 0x00000001, 0x00000000, 0x0000004d, 0x002c307d },
    { 0x00000003,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000004,  0, 0x00000121, 0x01c0003f, 0x0000003f, 0x00000001 },
    { 0x00000004,  1, 0x00000122, 0x01c0003f, 0x0000003f, 0x00000001 },
    { 0x00000004,  2, 0x00000143, 0x03c0003f, 0x00000fff, 0x00000001 },
    { 0x00000004,  3, 0x00000163, 0x03c0003f, 0x00003fff, 0x00000006 },
    { 0x00000005,  0, 0x00000000, 0x00000000, 0x00000003, 0x00000000 },
    { 0x00000006,  0, 0x00000004, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000007,  0, 0x00000000, 0x001803a9, 0x00000000, 0x00000000 },
    { 0x00000008,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x00000009,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000a,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000b,  0, 0x00000000, 0x00000001, 0x00000100, 0x00000000 },
    { 0x0000000b,  1, 0x00000000, 0x00000001, 0x00000201, 0x00000000 },
    { 0x0000000c,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x0000000d,  0, 0x00000007, 0x00000240, 0x00000340, 0x00000000 },
    { 0x0000000d,  1, 0x00000005, 0x00000340, 0x00000000, 0x00000000 },
    { 0x0000000d,  2, 0x00000100, 0x00000240, 0x00000000, 0x00000000 },
    { 0x80000000,  0, 0x80000008, 0x756e6547, 0x6c65746e, 0x49656e69 },
    { 0x80000001,  0, 0x000506e3, 0x00000000, 0x00000021, 0x28100800 },
    { 0x80000002,  0, 0x65746e49, 0x6f43206c, 0x50206572, 0x65636f72 },
    { 0x80000003,  0, 0x726f7373, 0x6b532820, 0x6b616c79, 0x00002965 },
    { 0x80000004,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000005,  0, 0x01ff01ff, 0x01ff01ff, 0x40020140, 0x40020140 },
    { 0x80000006,  0, 0x00000000, 0x42004200, 0x02008140, 0x00808140 },
    { 0x80000007,  0, 0x00000000, 0x00000000, 0x00000000, 0x00000000 },
    { 0x80000008,  0, 0x00003028, 0x00000000, 0x00000000, 0x00000000 },
};

struct recording {
    const struct cpuid_leaf *leaves;
    size_t nr;
};

#define REC(a) ((struct recording){ (a), sizeof(a) / sizeof((a)[0]) })

/* A CPU that answers from a recording; unknown leaves read as zeros. */
static void replay(void *ctx, u32 leaf, u32 subleaf, u32 out[4])
{
    const struct recording *r = ctx;
    size_t i;

    out[0] = out[1] = out[2] = out[3] = 0;
    for (i = 0; i < r->nr; i++) {
        if (r->leaves[i].leaf == leaf && r->leaves[i].subleaf == subleaf) {
            out[0] = r->leaves[i].eax;
            out[1] = r->leaves[i].ebx;
            out[2] = r->leaves[i].ecx;
            out[3] = r->leaves[i].edx;
        }
    }
}

static struct cpuid_policy host, host2, guest, guest2;

static void load(struct cpuid_policy *p, struct recording rec)
{
    assert_int_equal(cpuid_policy_collect(p, replay, &rec), 0);
}

static void derive(const struct cpuid_policy *h, struct cpuid_policy *g, u32 nr_vcpus, u32 opts)
{
    const struct cpuid_params prm = { .domid = 7, .flags = KILN_CPUID_F_PRIVILEGED,
                                      .nr_vcpus = nr_vcpus, .opts = opts };

    assert_int_equal(cpuid_policy_derive(h, &prm, g), 0);
}

static u32 q(const struct cpuid_policy *g, u32 leaf, u32 subleaf, int reg)
{
    u32 out[4];

    cpuid_policy_query(g, 0, false, leaf, subleaf, out);
    return out[reg];
}

static bool has(const struct cpuid_policy *g, u32 leaf, u32 subleaf, int reg, u32 bit)
{
    return (q(g, leaf, subleaf, reg) & (1u << bit)) != 0;
}

static const struct recording all_hosts[4] = {
    { host_intel_xeon, sizeof(host_intel_xeon) / sizeof(host_intel_xeon[0]) },
    { qemu_max, sizeof(qemu_max) / sizeof(qemu_max[0]) },
    { qemu_epyc, sizeof(qemu_epyc) / sizeof(qemu_epyc[0]) },
    { qemu_skylake_client, sizeof(qemu_skylake_client) / sizeof(qemu_skylake_client[0]) },
};

/* ---- collection ---------------------------------------------------------------- */

static void test_collect_reads_exactly_the_recorded_leaves(void **state)
{
    unsigned int h;
    size_t i;

    (void)state;
    for (h = 0; h < 4; h++) {
        load(&host, all_hosts[h]);
        assert_int_equal(host.nr, all_hosts[h].nr);
        for (i = 0; i < all_hosts[h].nr; i++)
            assert_memory_equal(&host.leaves[i], &all_hosts[h].leaves[i], sizeof(struct cpuid_leaf));
    }
    assert_int_equal(cpuid_policy_vendor(&host), CPUID_VENDOR_INTEL);
    load(&host, REC(qemu_epyc));
    assert_int_equal(cpuid_policy_vendor(&host), CPUID_VENDOR_AMD);
}

/* A CPU claiming 16 caches and every XSAVE component: more subleaves than
 * a policy has room for. */
static void silly_cpu(void *ctx, u32 leaf, u32 subleaf, u32 out[4])
{
    (void)ctx;
    (void)subleaf;
    out[0] = out[1] = out[2] = out[3] = 0;
    if (leaf == 0) {
        out[0] = 0xd;
    } else if (leaf == 4) {
        out[0] = 0x121;
    } else if (leaf == 0xd) {
        out[0] = out[3] = 0xffffffff;
    }
}

static void test_collect_refuses_overflow(void **state)
{
    (void)state;
    assert_int_equal(cpuid_policy_collect(&host, silly_cpu, NULL), -KILN_E2BIG);
}

/* ---- the guest's view ------------------------------------------------------------ */

static void test_every_host_gets_the_basics(void **state)
{
    unsigned int h;
    u32 out[4];

    (void)state;
    for (h = 0; h < 4; h++) {
        load(&host, all_hosts[h]);
        derive(&host, &guest, 1, 0);
        assert_true(has(&guest, 1, 0, 2, 31));             /* hypervisor present */
        assert_false(has(&guest, 1, 0, 2, 5));             /* VMX */
        assert_false(has(&guest, 0x80000001, 0, 2, 2));    /* SVM */
        cpuid_policy_query(&guest, 0, false, 0x8000000a, 0, out);
        assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
        /* Kiln's leaves, per the public ABI */
        cpuid_policy_query(&guest, 0, false, KILN_CPUID_SIGNATURE, 0, out);
        assert_int_equal(out[0], KILN_CPUID_VERSION);
        assert_int_equal(out[1], KILN_CPUID_SIG_EBX);
        assert_int_equal(out[2], KILN_CPUID_SIG_ECX);
        assert_int_equal(out[3], KILN_CPUID_SIG_EDX);
        assert_memory_equal(&out[1], "KilnHVKilnHV", 12);
        cpuid_policy_query(&guest, 0, false, KILN_CPUID_VERSION, 0, out);
        assert_int_equal(out[0], (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR);
        assert_int_equal(out[1], 7);
        assert_int_equal(out[2], KILN_CPUID_F_PRIVILEGED);
        /* maximum leaves clamped to what the policy describes */
        assert_true(q(&guest, 0, 0, 0) <= CPUID_MAX_BASIC);
        assert_true(q(&guest, 0x80000000, 0, 0) <= CPUID_MAX_EXTENDED);
        assert_true(q(&guest, 0x80000000, 0, 0) >= 0x80000001);
        /* the vendor and the brand are the host's */
        assert_int_equal(q(&guest, 0, 0, 1), all_hosts[h].leaves[0].ebx);
        assert_int_equal(q(&guest, 0x80000002, 0, 0), q(&host, 0x80000002, 0, 0));
        /* what every guest needs is kept */
        assert_true(has(&guest, 1, 0, 3, 25) && has(&guest, 1, 0, 3, 26)); /* SSE SSE2 */
        assert_true(has(&guest, 1, 0, 3, 9));              /* APIC */
        assert_true(has(&guest, 0x80000001, 0, 3, 29));    /* long mode */
        assert_true(has(&guest, 0x80000001, 0, 3, 20));    /* NX */
        assert_true(has(&guest, 0x80000001, 0, 3, 11));    /* SYSCALL */
        assert_int_equal(has(&guest, 1, 0, 2, 20), has(&host, 1, 0, 2, 20)); /* SSE4.2 */
        assert_true(has(&guest, 6, 0, 0, 2));              /* ARAT */
        /* things Kiln does not virtualise are hidden */
        assert_false(has(&guest, 1, 0, 2, 3));             /* MONITOR/MWAIT */
        assert_int_equal(q(&guest, 5, 0, 2), 0);
        assert_false(has(&guest, 1, 0, 3, 7));             /* MCE */
        assert_false(has(&guest, 1, 0, 3, 14));            /* MCA */
        assert_false(has(&guest, 1, 0, 3, 12));            /* MTRR */
        assert_false(has(&guest, 1, 0, 2, 21));            /* x2APIC (no option) */
        assert_false(has(&guest, 1, 0, 2, 24));            /* TSC deadline (no option) */
        assert_false(has(&guest, 1, 0, 2, 26));            /* XSAVE (no option) */
        assert_false(has(&guest, 1, 0, 2, 28));            /* ... and AVX with it */
        assert_false(has(&guest, 7, 0, 1, 5));             /* AVX2 */
        assert_false(has(&guest, 7, 0, 1, 16));            /* AVX-512F */
        assert_int_equal(q(&guest, 0xd, 0, 0), 0);
        assert_false(has(&guest, 7, 0, 1, 1));             /* TSC_ADJUST */
        assert_false(has(&guest, 7, 0, 2, 3));             /* PKU */
        assert_false(has(&guest, 7, 0, 2, 22));            /* RDPID */
        assert_false(has(&guest, 0x80000001, 0, 3, 27));   /* RDTSCP */
        assert_false(has(&guest, 0x80000001, 0, 3, 31));   /* 3DNow! */
        assert_int_equal(q(&guest, 0xa, 0, 0), 0);         /* perfmon */
        assert_int_equal(q(&guest, 0x80000007, 0, 3), 0);  /* invariant TSC */
    }
}

/* The hidden bits really were set on these hosts: the test above means
 * something. */
static void test_recorded_hosts_had_what_is_hidden(void **state)
{
    (void)state;
    load(&host, REC(host_intel_xeon));
    assert_true(has(&host, 1, 0, 2, 21) && has(&host, 1, 0, 2, 26));
    assert_true(has(&host, 7, 0, 1, 1) && has(&host, 7, 0, 1, 16) && has(&host, 7, 0, 2, 22));
    assert_true(has(&host, 0x80000001, 0, 3, 27) && has(&host, 0x80000007, 0, 3, 8));
    assert_true(has(&host, 1, 0, 3, 7) && has(&host, 1, 0, 3, 12));
    load(&host, REC(qemu_max));
    assert_true(has(&host, 0x80000001, 0, 2, 2) && has(&host, 7, 0, 2, 3));
    assert_true(has(&host, 1, 0, 2, 3) && q(&host, 5, 0, 2) != 0); /* MONITOR */
    assert_true(q(&host, 0x80000000, 0, 0) >= 0x8000000a);
    load(&host, REC(qemu_epyc));
    assert_int_equal(q(&host, 0x80000000, 0, 0), 0x8000001e);
}

static void test_vmx_hidden_even_if_host_has_it(void **state)
{
    struct cpuid_leaf fake[sizeof(qemu_skylake_client) / sizeof(qemu_skylake_client[0])];

    (void)state;
    memcpy(fake, qemu_skylake_client, sizeof(fake));
    fake[1].ecx |= 1u << 5; /* leaf 1: VMX */
    load(&host, REC(fake));
    assert_true(has(&host, 1, 0, 2, 5));
    derive(&host, &guest, 1, 0);
    assert_false(has(&guest, 1, 0, 2, 5));
}

static void test_options_expose_virtualised_features(void **state)
{
    (void)state;
    load(&host, REC(host_intel_xeon));
    derive(&host, &guest, 1, CPUID_OPT_X2APIC | CPUID_OPT_TSC_DEADLINE | CPUID_OPT_XSAVE);
    assert_true(has(&guest, 1, 0, 2, 21));
    assert_true(has(&guest, 1, 0, 2, 24));
    assert_true(has(&guest, 1, 0, 2, 26));
    assert_true(has(&guest, 1, 0, 2, 28));                 /* AVX */
    assert_true(has(&guest, 7, 0, 1, 5));                  /* AVX2 */
    assert_true(has(&guest, 7, 0, 1, 16));                 /* AVX-512F */
    /* XSAVE components: x87 SSE AVX and AVX-512 stay; AMX goes (0x600e7 on the host). */
    assert_int_equal(q(&guest, 0xd, 0, 0), 0xe7);
    assert_int_equal(q(&guest, 0xd, 0, 3), 0);
    assert_int_equal(q(&guest, 0xd, 0, 2), 0x680 + 0x400); /* ends with Hi16_ZMM */
    assert_int_equal(q(&guest, 0xd, 0, 1), 0x680 + 0x400);
    assert_int_equal(q(&guest, 0xd, 17, 0), 0);            /* AMX tile config gone */
    assert_int_equal(q(&guest, 0xd, 7, 0), 0x400);         /* Hi16_ZMM kept */
    assert_int_equal(q(&guest, 0xd, 1, 0), 0x7);           /* no XSAVES, no XFD */
    assert_false(has(&guest, 7, 0, 3, 24));                /* AMX-TILE */

    /* QEMU's max offers the MPX components (dropped) and PKRU (kept, with
     * PKU, whose register it holds). */
    load(&host, REC(qemu_max));
    derive(&host, &guest, 1, CPUID_OPT_XSAVE);
    assert_int_equal(q(&guest, 0xd, 0, 0), 0x207);
    assert_int_equal(q(&guest, 0xd, 0, 2), 0xa88);         /* ends with PKRU */
    assert_int_equal(q(&guest, 0xd, 3, 0), 0);
    assert_int_equal(q(&guest, 0xd, 9, 0), 8);
    assert_true(has(&guest, 7, 0, 2, 3));                  /* PKU */
    derive(&host, &guest, 1, 0);                            /* no XSAVE: no PKU */
    assert_false(has(&guest, 7, 0, 2, 3));
}

/* A PC domain's emulated APIC: x2APIC and TSC-deadline although QEMU's
 * TCG host has neither, and the timing leaf with the frequencies. */
static void test_virtual_apic(void **state)
{
    const struct cpuid_params prm = { .domid = 3, .nr_vcpus = 2, .opts = CPUID_OPT_VIRT_APIC,
                                      .tsc_khz = 2100000, .apic_khz = 1000000 };

    (void)state;
    load(&host, REC(qemu_max));
    assert_false(has(&host, 1, 0, 2, 21));
    assert_false(has(&host, 1, 0, 2, 24));
    assert_int_equal(cpuid_policy_derive(&host, &prm, &guest), 0);
    assert_true(has(&guest, 1, 0, 2, 21));                 /* x2APIC */
    assert_true(has(&guest, 1, 0, 2, 24));                 /* TSC-deadline */
    assert_true(has(&guest, 1, 0, 3, 9));                  /* APIC */
    assert_int_equal(q(&guest, KILN_CPUID_SIGNATURE, 0, 0), CPUID_LEAF_TIMING);
    assert_int_equal(q(&guest, CPUID_LEAF_TIMING, 0, 0), 2100000);
    assert_int_equal(q(&guest, CPUID_LEAF_TIMING, 0, 1), 1000000);
    assert_int_equal(q(&guest, 0x40000005, 0, 0), 0);      /* between: zeros */
    assert_int_equal(q(&guest, KILN_CPUID_VERSION, 0, 1), 3);

    /* Without it, neither the bits (the host has none) nor the leaf. */
    derive(&host, &guest, 2, 0);
    assert_false(has(&guest, 1, 0, 2, 21));
    assert_false(has(&guest, 1, 0, 2, 24));
    assert_int_equal(q(&guest, KILN_CPUID_SIGNATURE, 0, 0), KILN_CPUID_VERSION);
    assert_int_equal(q(&guest, CPUID_LEAF_TIMING, 0, 0), 0);
}

static void test_la57_option(void **state)
{
    (void)state;
    load(&host, REC(qemu_max));
    assert_true(has(&host, 7, 0, 2, 16));
    derive(&host, &guest, 1, 0);
    assert_false(has(&guest, 7, 0, 2, 16));
    derive(&host, &guest, 1, CPUID_OPT_LA57);
    assert_true(has(&guest, 7, 0, 2, 16));
}

static void test_rdtscp_option(void **state)
{
    (void)state;
    load(&host, REC(host_intel_xeon));
    assert_true(has(&host, 0x80000001, 0, 3, 27));
    derive(&host, &guest, 1, 0);
    assert_false(has(&guest, 0x80000001, 0, 3, 27));
    derive(&host, &guest, 1, CPUID_OPT_RDTSCP);
    assert_true(has(&guest, 0x80000001, 0, 3, 27));
}

static void test_osxsave_follows_the_guest(void **state)
{
    u32 out[4];

    (void)state;
    load(&host, REC(qemu_epyc));
    derive(&host, &guest, 1, CPUID_OPT_XSAVE);
    cpuid_policy_query(&guest, 0, true, 1, 0, out);
    assert_true(out[2] & (1u << 27));
    cpuid_policy_query(&guest, 0, false, 1, 0, out);
    assert_false(out[2] & (1u << 27));
    derive(&host, &guest, 1, 0);
    cpuid_policy_query(&guest, 0, true, 1, 0, out); /* no XSAVE: never */
    assert_false(out[2] & (1u << 27));
}

static void test_topology_and_apic_ids(void **state)
{
    u32 out[4];
    u32 v;

    (void)state;
    load(&host, REC(host_intel_xeon));
    derive(&host, &guest, 4, CPUID_OPT_X2APIC);
    for (v = 0; v < 4; v++) {
        cpuid_policy_query(&guest, v, false, 1, 0, out);
        assert_int_equal(out[1] >> 24, v);                 /* initial APIC ID */
        assert_int_equal((out[1] >> 16) & 0xff, 4);
        assert_true(out[3] & (1u << 28));                  /* HTT */
        cpuid_policy_query(&guest, v, false, 0xb, 0, out);
        assert_int_equal(out[3], v);                       /* x2APIC ID */
        assert_int_equal(out[1], 1);                       /* one thread per core */
        assert_int_equal(out[2], 0x100);
        cpuid_policy_query(&guest, v, false, 0xb, 1, out);
        assert_int_equal(out[0], 2);                       /* 4 cores: 2 bits */
        assert_int_equal(out[1], 4);
        assert_int_equal(out[2], 0x201);
        assert_int_equal(out[3], v);
        cpuid_policy_query(&guest, v, false, 0xb, 2, out);
        assert_int_equal((out[2] >> 8) & 0xff, 0);         /* end of levels */
    }
    assert_int_equal(q(&guest, 4, 0, 0) >> 26, 3);         /* cores - 1 */
    assert_int_equal((q(&guest, 4, 3, 0) >> 14) & 0xfff, 0);
    assert_int_equal(q(&guest, 4, 3, 0) & 0x3fff, 0x0163 & 0x3fff); /* cache type/level kept */
    assert_int_equal(q(&guest, 0x80000008, 0, 2), 0);      /* Intel: reserved */

    load(&host, REC(qemu_epyc));
    derive(&host, &guest, 3, 0);
    assert_int_equal(q(&guest, 0x80000008, 0, 2), 2 | (2 << 12)); /* NC = 2, 2 ID bits */
    derive(&host, &guest, 1, 0);
    assert_false(has(&guest, 1, 0, 3, 28));                /* one vCPU: no HTT */
    assert_int_equal((q(&guest, 1, 0, 1) >> 16) & 0xff, 1);
}

static void test_derive_validation(void **state)
{
    const struct cpuid_params zero = { .domid = 1, .nr_vcpus = 0 },
                              many = { .domid = 1, .nr_vcpus = KILN_MAX_VCPUS + 1 },
                              badopt = { .domid = 1, .nr_vcpus = 1, .opts = 0x80 };

    (void)state;
    load(&host, REC(qemu_epyc));
    assert_int_equal(cpuid_policy_derive(&host, &zero, &guest), -KILN_EINVAL);
    assert_int_equal(cpuid_policy_derive(&host, &many, &guest), -KILN_EINVAL);
    assert_int_equal(cpuid_policy_derive(&host, &badopt, &guest), -KILN_EINVAL);
    host.nr = 0; /* a table without leaves 0 and 1 */
    {
        const struct cpuid_params ok = { .domid = 1, .nr_vcpus = 1 };

        assert_int_equal(cpuid_policy_derive(&host, &ok, &guest), -KILN_EINVAL);
    }
}

static void test_out_of_range_leaves_read_zero(void **state)
{
    static const u32 leaves[] = { 0x8, 0xe, 0x14, 0x24, 0x40000002, 0x4fffffff, 0x80000007,
                                  0x8000000a, 0x8000001e, 0xc0000000, 0xffffffff };
    unsigned int i;
    u32 out[4];

    (void)state;
    load(&host, REC(host_intel_xeon));
    derive(&host, &guest, 2, CPUID_OPT_XSAVE);
    for (i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        cpuid_policy_query(&guest, 1, true, leaves[i], 0, out);
        assert_int_equal(out[0] | out[1] | out[2] | out[3], 0);
    }
    /* Leaves without subleaves ignore ECX. */
    assert_int_equal(q(&guest, 1, 5, 2), q(&guest, 1, 0, 2));
    assert_int_equal(q(&guest, 0x80000001, 9, 3), q(&guest, 0x80000001, 0, 3));
    /* Leaves with subleaves do not. */
    assert_int_not_equal(q(&guest, 0xd, 0, 0), q(&guest, 0xd, 1, 0));
}

/* ---- KILN_DOMCTL_SET_CPUID ---------------------------------------------------------- */

static struct kiln_domctl_cpuid ovr(u32 leaf, u32 sub, u32 a, u32 b, u32 c, u32 d)
{
    return (struct kiln_domctl_cpuid){ leaf, sub, a, b, c, d };
}

static void test_restrict_removes_never_adds(void **state)
{
    struct kiln_domctl_cpuid c;

    (void)state;
    load(&host, REC(host_intel_xeon));
    derive(&host, &guest, 1, CPUID_OPT_XSAVE);
    memcpy(&guest2, &guest, sizeof(guest));
    /* All-ones changes nothing: it cannot add SVM, VMX, MONITOR or x2APIC. */
    c = ovr(1, 0, ~0u, ~0u, ~0u, ~0u);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    c = ovr(0x80000001, 0, ~0u, ~0u, ~0u, ~0u);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    assert_memory_equal(&guest, &guest2, sizeof(guest));

    /* Removing AVX removes what is built on it. */
    c = ovr(1, 0, ~0u, ~0u, ~(1u << 28), ~0u);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    assert_false(has(&guest, 1, 0, 2, 28));
    assert_false(has(&guest, 1, 0, 2, 12));                /* FMA */
    assert_false(has(&guest, 7, 0, 1, 5));                 /* AVX2 */
    assert_false(has(&guest, 7, 0, 1, 16));                /* AVX-512F */
    assert_false(has(&guest, 7, 0, 1, 31));                /* AVX-512VL */
    assert_int_equal(q(&guest, 0xd, 0, 0), 0x3);           /* x87 + SSE state */
    assert_int_equal(q(&guest, 0xd, 0, 1), 576);
    assert_true(has(&guest, 1, 0, 2, 26));                 /* XSAVE itself stays */
    assert_true(has(&guest, 1, 0, 2, 25));                 /* AES untouched */

    /* Removing XSAVE removes leaf 0xD. */
    c = ovr(1, 0, ~0u, ~0u, ~(1u << 26), ~0u);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    assert_int_equal(q(&guest, 0xd, 0, 0), 0);
    assert_int_equal(q(&guest, 0xd, 1, 0), 0);
    /* ...after which leaf 0xD cannot be restricted: it is not there. */
    c = ovr(0xd, 1, ~0u, ~0u, ~0u, ~0u);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_ENOENT);

    /* The hypervisor bit cannot be hidden: the ABI is found through it. */
    c = ovr(1, 0, ~0u, ~0u, 0, 0);
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    assert_int_equal(q(&guest, 1, 0, 2), 1u << 31);
    assert_int_equal(q(&guest, 1, 0, 3), 0);
    assert_int_equal(q(&guest, 1, 0, 0), q(&host, 1, 0, 0)); /* family/model untouched */
}

static void test_restrict_removes_avx512_via_xcr0(void **state)
{
    struct kiln_domctl_cpuid c = ovr(0xd, 0, ~0x20u, 0, ~0u, ~0u);

    (void)state;
    load(&host, REC(host_intel_xeon));
    derive(&host, &guest, 1, CPUID_OPT_XSAVE);
    /* EBX and ECX of leaf 0xD.0 are sizes, not features: all-ones only. */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(0xd, 0, ~0x20u, ~0u, ~0u, ~0u); /* drop the opmask component */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), 0);
    assert_false(has(&guest, 7, 0, 1, 16));
    assert_true(has(&guest, 7, 0, 1, 5));                  /* AVX2 survives */
    assert_int_equal(q(&guest, 0xd, 0, 0), 0x7);
    assert_int_equal(q(&guest, 0xd, 0, 1), 0x340);
}

static void test_restrict_validation(void **state)
{
    struct kiln_domctl_cpuid c;

    (void)state;
    load(&host, REC(qemu_epyc));
    derive(&host, &guest, 1, 0);
    memcpy(&guest2, &guest, sizeof(guest));
    c = ovr(0, 0, 0, 0, 0, 0);                     /* vendor leaf: not features */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(0x80000002, 0, 0, 0, 0, 0);            /* brand string */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(KILN_CPUID_VERSION, 0, 0, 0, 0, 0);    /* Kiln's own leaf */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(1, 0, 0, ~0u, ~0u, ~0u);               /* leaf 1 EAX is the signature */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(1, 0, ~0u, 0xff, ~0u, ~0u);            /* leaf 1 EBX holds the APIC ID */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_EINVAL);
    c = ovr(7, 1, ~0u, ~0u, ~0u, ~0u);             /* EPYC has no leaf 7.1 */
    assert_int_equal(cpuid_policy_restrict(&guest, &c), -KILN_ENOENT);
    assert_memory_equal(&guest, &guest2, sizeof(guest)); /* failures change nothing */
}

/* ---- pools ------------------------------------------------------------------------- */

static void assert_subset(const struct cpuid_policy *small, const struct cpuid_policy *big)
{
    unsigned int i;

    for (i = 0; i < NR_FEAT_REGS; i++) {
        u32 s = q(small, feat_regs[i].leaf, feat_regs[i].subleaf, feat_regs[i].reg);
        u32 b = q(big, feat_regs[i].leaf, feat_regs[i].subleaf, feat_regs[i].reg);

        if ((s & ~b) != 0)
            fail_msg("leaf %#x.%u reg %u: %#x not within %#x", feat_regs[i].leaf,
                     feat_regs[i].subleaf, feat_regs[i].reg, s, b);
    }
}

static void test_pool_intel(void **state)
{
    static struct cpuid_policy pool, g_pool, g_a, g_b;

    (void)state;
    load(&pool, REC(host_intel_xeon));
    load(&host2, REC(qemu_skylake_client));
    assert_int_equal(cpuid_policy_intersect(&pool, &host2), 0);
    assert_false(has(&pool, 7, 0, 1, 16));                 /* AVX-512 only on one */
    assert_true(has(&pool, 1, 0, 2, 20));                  /* SSE4.2 on both */
    assert_int_equal(q(&pool, 0, 0, 0), 0xd);              /* min(0x24, 0xd) */
    assert_int_equal(q(&pool, 0x80000008, 0, 0) & 0xffff, 0x3028); /* 40 phys, 48 virt */
    assert_int_equal(q(&pool, 7, 1, 0), 0);                /* Skylake-Client has no 7.1 */
    assert_int_equal(q(&pool, 0xd, 0, 0), 0x7);            /* components both have */
    assert_int_equal(q(&pool, 0xd, 0, 2), 0x2b00);         /* sizes: the larger */
    assert_int_equal(q(&pool, 1, 0, 0), host_intel_xeon[1].eax); /* identity: the pool's */

    /* A guest on the pool policy runs on either host. */
    load(&host, REC(host_intel_xeon));
    derive(&pool, &g_pool, 2, CPUID_OPT_XSAVE | CPUID_OPT_X2APIC);
    derive(&host, &g_a, 2, CPUID_OPT_XSAVE | CPUID_OPT_X2APIC);
    derive(&host2, &g_b, 2, CPUID_OPT_XSAVE | CPUID_OPT_X2APIC);
    assert_subset(&g_pool, &g_a);
    assert_subset(&g_pool, &g_b);
    assert_true(has(&g_pool, 1, 0, 2, 28));                /* AVX: both have it */
}

static void test_pool_amd(void **state)
{
    static struct cpuid_policy pool, g_pool, g_a, g_b;

    (void)state;
    load(&pool, REC(qemu_max));
    load(&host2, REC(qemu_epyc));
    assert_int_equal(cpuid_policy_intersect(&pool, &host2), 0);
    assert_int_equal(q(&pool, 0x80000000, 0, 0), 0x8000000a);
    assert_int_equal(q(&pool, 7, 0, 1), 0x01d843a9u & 0x009801a9u);
    load(&host, REC(qemu_max));
    derive(&pool, &g_pool, 1, CPUID_OPT_XSAVE);
    derive(&host, &g_a, 1, CPUID_OPT_XSAVE);
    derive(&host2, &g_b, 1, CPUID_OPT_XSAVE);
    assert_subset(&g_pool, &g_a);
    assert_subset(&g_pool, &g_b);
}

static void test_pool_refuses_mixed_vendors(void **state)
{
    static struct cpuid_policy pool, before;

    (void)state;
    load(&pool, REC(host_intel_xeon));
    load(&host2, REC(qemu_epyc));
    memcpy(&before, &pool, sizeof(pool));
    assert_int_equal(cpuid_policy_intersect(&pool, &host2), -KILN_EINVAL);
    assert_memory_equal(&pool, &before, sizeof(pool));
    load(&pool, REC(qemu_epyc));
    load(&host2, REC(qemu_skylake_client));
    assert_int_equal(cpuid_policy_intersect(&pool, &host2), -KILN_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_collect_reads_exactly_the_recorded_leaves),
        cmocka_unit_test(test_collect_refuses_overflow),
        cmocka_unit_test(test_every_host_gets_the_basics),
        cmocka_unit_test(test_recorded_hosts_had_what_is_hidden),
        cmocka_unit_test(test_vmx_hidden_even_if_host_has_it),
        cmocka_unit_test(test_options_expose_virtualised_features),
        cmocka_unit_test(test_virtual_apic),
        cmocka_unit_test(test_rdtscp_option),
        cmocka_unit_test(test_la57_option),
        cmocka_unit_test(test_osxsave_follows_the_guest),
        cmocka_unit_test(test_topology_and_apic_ids),
        cmocka_unit_test(test_derive_validation),
        cmocka_unit_test(test_out_of_range_leaves_read_zero),
        cmocka_unit_test(test_restrict_removes_never_adds),
        cmocka_unit_test(test_restrict_removes_avx512_via_xcr0),
        cmocka_unit_test(test_restrict_validation),
        cmocka_unit_test(test_pool_intel),
        cmocka_unit_test(test_pool_amd),
        cmocka_unit_test(test_pool_refuses_mixed_vendors),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
