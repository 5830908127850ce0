/*
 * cpuid_policy.c - derives what CPUID tells a guest from what the host's
 * CPU reports (interface in include/kiln/cpuid_policy.h).
 *
 * Feature bits pass through an allow-list: only features Kiln knows a
 * guest can use safely under AMD-V with nested paging.  Hidden groups and
 * why:
 *  - VMX/SVM and leaf 0x8000000A: guests cannot nest.
 *  - MONITOR/MWAIT, MONITORX, WAITPKG: a guest would sleep on the physical
 *    CPU instead of yielding it.
 *  - MCE/MCA, MTRR, perfmon (PDCM, leaf 0xA, AMD perf counters), debug
 *    store, thermal/power (ACPI, TM, EST, leaf 6 except ARAT), TSC_ADJUST,
 *    speculation-control MSRs, OSVW, IBS: MSRs Kiln does not virtualise.
 *  - RDTSCP, RDPID: TSC_AUX is not switched between vCPUs (RDTSCP only
 *    with CPUID_OPT_RDTSCP: the caller switches it).
 *  - invariant TSC (0x80000007): not kept across migration.
 *  - LA57 (5-level paging), unless CPUID_OPT_LA57: a Linux domU that used
 *    it triple-faulted early in its boot under QEMU 7.2's TCG (its kernel
 *    stack unmapped), the same kernel without it boots (linux-domu); not
 *    understood yet, so not offered to domUs.
 *  - SGX, PT, MPX, RDT, CET, HLE/RTM, AMX, XSAVES, XFD, TME, KL, ENQCMD,
 *    3DNow!, XOP, FMA4, LWP, SKINIT, TopoExt: unsupported state or
 *    instructions.  (PKU goes with its XSAVE component, PKRU; PKS's MSR is
 *    switched per vCPU by the backend.)
 *  - x2APIC, TSC-deadline and XSAVE with everything using it (AVX...):
 *    only when the caller says it virtualises them (CPUID_OPT_*).
 * The topology is flat: nr_vcpus cores with one thread each, one package,
 * APIC ID = vCPU number.
 */
#include <kiln/cpuid_policy.h>

enum { EAX, EBX, ECX, EDX };

#define BIT(n) (1u << (n))

/* Leaf 1 */
#define L1_ECX_MONITOR   BIT(3)
#define L1_ECX_FMA       BIT(12)
#define L1_ECX_X2APIC    BIT(21)
#define L1_ECX_TSC_DL    BIT(24)
#define L1_ECX_XSAVE     BIT(26)
#define L1_ECX_OSXSAVE   BIT(27)
#define L1_ECX_AVX       BIT(28)
#define L1_ECX_F16C      BIT(29)
#define L1_ECX_HV        BIT(31)
#define L1_EDX_APIC      BIT(9)
#define E1_EDX_RDTSCP    BIT(27)
#define L1_EDX_HTT       BIT(28)
/* Leaf 7.0 */
#define L7_EBX_AVX2      BIT(5)
#define L7_EBX_AVX512F   BIT(16)
#define L7_EBX_AVX512_MORE (BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31))
#define L7_ECX_AVX512    (BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14))
#define L7_ECX_VEX_AVX   (BIT(9) | BIT(10))  /* VAES, VPCLMULQDQ */
#define L7_EDX_AVX512    (BIT(2) | BIT(3) | BIT(8) | BIT(23))
#define L71_EAX_AVX_VNNI BIT(4)
#define L71_EAX_BF16     BIT(5)
/* XCR0 components */
#define XCR0_AVX         BIT(2)
#define XCR0_AVX512      (BIT(5) | BIT(6) | BIT(7))
#define XCR0_PKRU        BIT(9)
#define L7_ECX_PKU       BIT(3)
#define L7_ECX_LA57      BIT(16)
#define XSAVE_LEGACY_SIZE 576u /* legacy area + header */

/* The registers that hold feature bits, and which bits may reach a guest
 * (before the CPUID_OPT_* bits, which derive adds). */
struct feat_reg {
    u32 leaf, subleaf;
    u8 reg;
    u32 allow;
};

static const struct feat_reg feat_regs[] = {
    /* SSE3 PCLMUL SSSE3 FMA CX16 PCID SSE4.1 SSE4.2 MOVBE POPCNT AES AVX F16C RDRAND */
    { 1, 0, ECX, BIT(0) | BIT(1) | BIT(9) | BIT(12) | BIT(13) | BIT(17) | BIT(19) |
                 BIT(20) | BIT(22) | BIT(23) | BIT(25) | BIT(28) | BIT(29) | BIT(30) },
    /* FPU VME DE PSE TSC MSR PAE CX8 APIC SEP PGE CMOV PAT PSE36 CLFSH MMX FXSR
     * SSE SSE2 SS HTT */
    { 1, 0, EDX, BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) | BIT(8) |
                 BIT(9) | BIT(11) | BIT(13) | BIT(15) | BIT(16) | BIT(17) | BIT(19) |
                 BIT(23) | BIT(24) | BIT(25) | BIT(26) | BIT(27) | BIT(28) },
    { 6, 0, EAX, BIT(2) }, /* ARAT: the LAPIC timer keeps running in C-states */
    /* FSGSBASE BMI1 AVX2 FDP_EXCPTN_ONLY SMEP BMI2 ERMS INVPCID FPU_CSDS AVX512F/DQ
     * RDSEED ADX SMAP AVX512_IFMA PCOMMIT CLFLUSHOPT CLWB AVX512PF/ER/CD SHA
     * AVX512BW/VL */
    { 7, 0, EBX, BIT(0) | BIT(3) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(9) | BIT(10) |
                 BIT(13) | BIT(16) | BIT(17) | BIT(18) | BIT(19) | BIT(20) | BIT(21) |
                 BIT(22) | BIT(23) | BIT(24) | BIT(26) | BIT(27) | BIT(28) | BIT(29) |
                 BIT(30) | BIT(31) },
    /* PREFETCHWT1 AVX512_VBMI UMIP PKU AVX512_VBMI2 GFNI VAES VPCLMULQDQ
     * AVX512_VNNI AVX512_BITALG AVX512_VPOPCNTDQ CLDEMOTE MOVDIRI MOVDIR64B
     * PKS (LA57 only with CPUID_OPT_LA57) */
    { 7, 0, ECX, BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(6) | BIT(8) | BIT(9) | BIT(10) |
                 BIT(11) | BIT(12) | BIT(14) | BIT(25) | BIT(27) | BIT(28) | BIT(31) },
    /* AVX512_4VNNIW AVX512_4FMAPS FSRM AVX512_VP2INTERSECT MD_CLEAR SERIALIZE
     * AVX512_FP16 */
    { 7, 0, EDX, BIT(2) | BIT(3) | BIT(4) | BIT(8) | BIT(10) | BIT(14) | BIT(23) },
    /* AVX_VNNI AVX512_BF16 fast zero-length MOVSB, short STOSB, short CMPSB */
    { 7, 1, EAX, BIT(4) | BIT(5) | BIT(10) | BIT(11) | BIT(12) },
    /* XCR0 components: x87 SSE AVX opmask ZMM_Hi256 Hi16_ZMM PKRU */
    { 0xd, 0, EAX, BIT(0) | BIT(1) | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU },
    { 0xd, 0, EDX, 0 },
    /* XSAVEOPT XSAVEC XGETBV_ECX1 */
    { 0xd, 1, EAX, BIT(0) | BIT(1) | BIT(2) },
    /* LAHF ABM SSE4A MISALIGNSSE 3DNOWPREFETCH TBM */
    { 0x80000001, 0, ECX, BIT(0) | BIT(5) | BIT(6) | BIT(7) | BIT(8) | BIT(21) },
    /* AMD's copies of leaf 1 EDX, SYSCALL NX MMXEXT FFXSR PAGE1GB LM */
    { 0x80000001, 0, EDX, BIT(0) | BIT(1) | BIT(2) | BIT(3) | BIT(4) | BIT(5) | BIT(6) |
                          BIT(8) | BIT(9) | BIT(11) | BIT(13) | BIT(15) | BIT(16) |
                          BIT(17) | BIT(20) | BIT(22) | BIT(23) | BIT(24) | BIT(25) |
                          BIT(26) | BIT(29) },
    /* CLZERO XSAVEERPTR WBNOINVD */
    { 0x80000008, 0, EBX, BIT(0) | BIT(2) | BIT(9) },
};

#define NR_FEAT_REGS (sizeof(feat_regs) / sizeof(feat_regs[0]))

/* ---- table helpers --------------------------------------------------------- */

static bool has_subleaves(u32 leaf)
{
    return leaf == 4 || leaf == 7 || leaf == 0xb || leaf == 0xd;
}

static int key_cmp(u32 leaf_a, u32 sub_a, u32 leaf_b, u32 sub_b)
{
    if (leaf_a != leaf_b)
        return leaf_a < leaf_b ? -1 : 1;
    if (sub_a != sub_b)
        return sub_a < sub_b ? -1 : 1;
    return 0;
}

static struct cpuid_leaf *find(struct cpuid_policy *p, u32 leaf, u32 subleaf)
{
    u32 i;

    for (i = 0; i < p->nr; i++) {
        if (p->leaves[i].leaf == leaf && p->leaves[i].subleaf == subleaf)
            return &p->leaves[i];
    }
    return NULL;
}

static const struct cpuid_leaf *find_c(const struct cpuid_policy *p, u32 leaf, u32 subleaf)
{
    return find((struct cpuid_policy *)p, leaf, subleaf);
}

/* Inserts (or replaces) a leaf, keeping the table sorted. */
static int put(struct cpuid_policy *p, u32 leaf, u32 subleaf, const u32 r[4])
{
    struct cpuid_leaf *l = find(p, leaf, subleaf);
    u32 i;

    if (l == NULL) {
        if (p->nr == CPUID_POLICY_MAX_LEAVES)
            return -KILN_E2BIG;
        for (i = p->nr; i > 0 && key_cmp(leaf, subleaf, p->leaves[i - 1].leaf,
                                         p->leaves[i - 1].subleaf) < 0; i--)
            p->leaves[i] = p->leaves[i - 1];
        l = &p->leaves[i];
        p->nr++;
    }
    *l = (struct cpuid_leaf){ leaf, subleaf, r[0], r[1], r[2], r[3] };
    return 0;
}

static void drop(struct cpuid_policy *p, struct cpuid_leaf *l)
{
    u32 i;

    for (i = (u32)(l - p->leaves); i + 1 < p->nr; i++)
        p->leaves[i] = p->leaves[i + 1];
    p->nr--;
}

static u32 *reg_of(struct cpuid_leaf *l, u8 reg)
{
    switch (reg) {
    case EAX: return &l->eax;
    case EBX: return &l->ebx;
    case ECX: return &l->ecx;
    default:  return &l->edx;
    }
}

/* Clears bits in a register of a leaf, if the leaf exists. */
static void clear_bits(struct cpuid_policy *p, u32 leaf, u32 subleaf, u8 reg, u32 bits)
{
    struct cpuid_leaf *l = find(p, leaf, subleaf);

    if (l)
        *reg_of(l, reg) &= ~bits;
}

static bool test_bits(const struct cpuid_policy *p, u32 leaf, u32 subleaf, u8 reg, u32 bits)
{
    const struct cpuid_leaf *l = find_c(p, leaf, subleaf);

    return l && (*reg_of((struct cpuid_leaf *)l, reg) & bits) == bits;
}

static u32 ceil_log2(u32 n)
{
    u32 bits = 0;

    while ((1u << bits) < n)
        bits++;
    return bits;
}

/* ---- collection -------------------------------------------------------------- */

static int collect_one(struct cpuid_policy *p, cpuid_fn fn, void *ctx, u32 leaf, u32 sub,
                       u32 r[4])
{
    fn(ctx, leaf, sub, r);
    return put(p, leaf, sub, r);
}

static int collect_basic(struct cpuid_policy *p, cpuid_fn fn, void *ctx, u32 leaf)
{
    u32 r[4], sub, max_sub;
    u64 xcr0;
    int rc;

    switch (leaf) {
    case 4: /* one subleaf per cache, until type 0 */
        for (sub = 0; sub < 16; sub++) {
            fn(ctx, leaf, sub, r);
            if ((r[0] & 0x1f) == 0)
                break;
            if ((rc = put(p, leaf, sub, r)) != 0)
                return rc;
        }
        return 0;
    case 7:
        if ((rc = collect_one(p, fn, ctx, leaf, 0, r)) != 0)
            return rc;
        max_sub = r[0] < 1 ? r[0] : 1;
        for (sub = 1; sub <= max_sub; sub++) {
            if ((rc = collect_one(p, fn, ctx, leaf, sub, r)) != 0)
                return rc;
        }
        return 0;
    case 0xb: /* one subleaf per topology level, until level type 0 */
        for (sub = 0; sub < 8; sub++) {
            fn(ctx, leaf, sub, r);
            if (((r[2] >> 8) & 0xff) == 0)
                break;
            if ((rc = put(p, leaf, sub, r)) != 0)
                return rc;
        }
        return 0;
    case 0xd: /* 0, 1, then one per supported XSAVE component */
        if ((rc = collect_one(p, fn, ctx, leaf, 0, r)) != 0)
            return rc;
        xcr0 = r[0] | ((u64)r[3] << 32);
        if ((rc = collect_one(p, fn, ctx, leaf, 1, r)) != 0)
            return rc;
        for (sub = 2; sub < 64; sub++) {
            if ((xcr0 & (1ull << sub)) && (rc = collect_one(p, fn, ctx, leaf, sub, r)) != 0)
                return rc;
        }
        return 0;
    default:
        return collect_one(p, fn, ctx, leaf, 0, r);
    }
}

int cpuid_policy_collect(struct cpuid_policy *p, cpuid_fn fn, void *ctx)
{
    u32 r[4], leaf, max;
    int rc;

    p->nr = 0;
    if ((rc = collect_one(p, fn, ctx, 0, 0, r)) != 0)
        return rc;
    max = r[0] < CPUID_MAX_BASIC ? r[0] : CPUID_MAX_BASIC;
    for (leaf = 1; leaf <= max; leaf++) {
        if ((rc = collect_basic(p, fn, ctx, leaf)) != 0)
            return rc;
    }
    if ((rc = collect_one(p, fn, ctx, 0x80000000u, 0, r)) != 0)
        return rc;
    max = r[0];
    if ((max & 0xffff0000u) != 0x80000000u) /* no extended leaves at all */
        max = 0x80000000u;
    if (max > CPUID_MAX_EXTENDED)
        max = CPUID_MAX_EXTENDED;
    for (leaf = 0x80000001u; leaf <= max; leaf++) {
        if ((rc = collect_one(p, fn, ctx, leaf, 0, r)) != 0)
            return rc;
    }
    return 0;
}

enum cpuid_vendor cpuid_policy_vendor(const struct cpuid_policy *p)
{
    const struct cpuid_leaf *l = find_c(p, 0, 0);

    if (l == NULL)
        return CPUID_VENDOR_OTHER;
    /* "GenuineIntel" / "AuthenticAMD" in EBX, EDX, ECX order */
    if (l->ebx == 0x756e6547u && l->edx == 0x49656e69u && l->ecx == 0x6c65746eu)
        return CPUID_VENDOR_INTEL;
    if (l->ebx == 0x68747541u && l->edx == 0x69746e65u && l->ecx == 0x444d4163u)
        return CPUID_VENDOR_AMD;
    return CPUID_VENDOR_OTHER;
}

/* ---- consistency ------------------------------------------------------------ */

/*
 * Removes features whose prerequisites are gone, until nothing changes:
 * AVX needs XSAVE and the AVX state component, AVX-512 needs AVX and its
 * three components, and XSAVE-managed leaves shrink with the components.
 */
static void fix_dependencies(struct cpuid_policy *p)
{
    struct cpuid_leaf *xs = find(p, 0xd, 0);
    u32 xcr0, size = XSAVE_LEGACY_SIZE, sub;
    bool xsave = test_bits(p, 1, 0, ECX, L1_ECX_XSAVE) && xs != NULL;
    bool avx, avx512;

    xcr0 = xs ? xs->eax : 0;
    avx = xsave && test_bits(p, 1, 0, ECX, L1_ECX_AVX) && (xcr0 & XCR0_AVX);
    avx512 = avx && test_bits(p, 7, 0, EBX, L7_EBX_AVX512F) &&
             (xcr0 & XCR0_AVX512) == XCR0_AVX512;

    if (!avx512) {
        clear_bits(p, 7, 0, EBX, L7_EBX_AVX512F | L7_EBX_AVX512_MORE);
        clear_bits(p, 7, 0, ECX, L7_ECX_AVX512);
        clear_bits(p, 7, 0, EDX, L7_EDX_AVX512);
        clear_bits(p, 7, 1, EAX, L71_EAX_BF16);
        xcr0 &= ~XCR0_AVX512;
    }
    /* PKU's register is XSAVE-managed: the component or no PKU. */
    if (!(xsave && (xcr0 & XCR0_PKRU) && test_bits(p, 7, 0, ECX, L7_ECX_PKU))) {
        clear_bits(p, 7, 0, ECX, L7_ECX_PKU);
        xcr0 &= ~XCR0_PKRU;
    }
    if (!avx) {
        clear_bits(p, 1, 0, ECX, L1_ECX_AVX | L1_ECX_FMA | L1_ECX_F16C);
        clear_bits(p, 7, 0, EBX, L7_EBX_AVX2);
        clear_bits(p, 7, 0, ECX, L7_ECX_VEX_AVX);
        clear_bits(p, 7, 1, EAX, L71_EAX_AVX_VNNI);
        xcr0 &= ~XCR0_AVX;
    }
    if (!xsave) {
        clear_bits(p, 1, 0, ECX, L1_ECX_XSAVE);
        /* Leaf 0xD describes nothing without XSAVE. */
        while ((xs = find(p, 0xd, 0)) != NULL || (xs = find(p, 0xd, 1)) != NULL)
            drop(p, xs);
        for (sub = 2; sub < 64; sub++) {
            if ((xs = find(p, 0xd, sub)) != NULL)
                drop(p, xs);
        }
        return;
    }
    /* Components no longer offered lose their subleaves; the sizes cover
     * exactly what is left. */
    for (sub = 2; sub < 64; sub++) {
        struct cpuid_leaf *c = find(p, 0xd, sub);

        if (c == NULL)
            continue;
        if (sub >= 32 || !(xcr0 & (1u << sub))) {
            drop(p, c);
            continue;
        }
        if (c->ebx + c->eax > size)
            size = c->ebx + c->eax;
    }
    xs = find(p, 0xd, 0);
    xs->eax = xcr0;
    xs->edx = 0;
    xs->ebx = size; /* for all of XCR0 enabled: a safe upper bound */
    xs->ecx = size;
    if ((xs = find(p, 0xd, 1)) != NULL) {
        xs->ebx = 0; /* no XSAVES: no supervisor state */
        xs->ecx = 0;
        xs->edx = 0;
    }
}

/* ---- intersection ------------------------------------------------------------ */

static const struct feat_reg *feat_reg_of(u32 leaf, u32 subleaf, u8 reg)
{
    u32 i;

    for (i = 0; i < NR_FEAT_REGS; i++) {
        if (feat_regs[i].leaf == leaf && feat_regs[i].subleaf == subleaf &&
            feat_regs[i].reg == reg)
            return &feat_regs[i];
    }
    return NULL;
}

static u32 min_u32(u32 a, u32 b)
{
    return a < b ? a : b;
}

static u32 max_u32(u32 a, u32 b)
{
    return a > b ? a : b;
}

int cpuid_policy_intersect(struct cpuid_policy *pool, const struct cpuid_policy *other)
{
    enum cpuid_vendor v = cpuid_policy_vendor(pool);
    u32 i = 0;
    u8 r;

    if (v == CPUID_VENDOR_OTHER || v != cpuid_policy_vendor(other))
        return -KILN_EINVAL;
    while (i < pool->nr) {
        struct cpuid_leaf *a = &pool->leaves[i];
        const struct cpuid_leaf *b = find_c(other, a->leaf, a->subleaf);

        if (b == NULL) {
            drop(pool, a); /* a leaf one host lacks is a feature none has */
            continue;
        }
        for (r = EAX; r <= EDX; r++) {
            if (feat_reg_of(a->leaf, a->subleaf, r))
                *reg_of(a, r) &= *reg_of((struct cpuid_leaf *)b, r);
        }
        switch (a->leaf) {
        case 0:
        case 0x80000000u:
            a->eax = min_u32(a->eax, b->eax);
            break;
        case 7:
            if (a->subleaf == 0)
                a->eax = min_u32(a->eax, b->eax);
            break;
        case 0xd:
            if (a->subleaf == 0) {
                a->ebx = max_u32(a->ebx, b->ebx);
                a->ecx = max_u32(a->ecx, b->ecx);
            }
            break;
        case 0x80000008u: /* physical and linear address bits */
            a->eax = (a->eax & 0xffff0000u) |
                     min_u32(a->eax & 0xff, b->eax & 0xff) |
                     (min_u32((a->eax >> 8) & 0xff, (b->eax >> 8) & 0xff) << 8);
            break;
        default:
            break;
        }
        i++;
    }
    return 0;
}

/* ---- derivation ------------------------------------------------------------- */

/* Leaves copied from the host before filtering; all others read as 0. */
static bool leaf_copied(u32 leaf)
{
    switch (leaf) {
    case 0: case 1: case 2: case 4: case 6: case 7: case 0xd:
    case 0x80000000u: case 0x80000001u: case 0x80000002u: case 0x80000003u:
    case 0x80000004u: case 0x80000005u: case 0x80000006u: case 0x80000008u:
        return true;
    default:
        return false;
    }
}

static int put_regs(struct cpuid_policy *p, u32 leaf, u32 subleaf, u32 a, u32 b, u32 c, u32 d)
{
    const u32 r[4] = { a, b, c, d };

    return put(p, leaf, subleaf, r);
}

/* Flat topology: n cores of one thread in one package. */
static int set_topology(struct cpuid_policy *g, u32 n, enum cpuid_vendor vendor)
{
    struct cpuid_leaf *l = find(g, 1, 0);
    u32 i, shift = ceil_log2(n);
    int rc;

    l->ebx = (l->ebx & 0x0000ffffu) | ((1u << shift) << 16);
    l->edx = n > 1 ? (l->edx | L1_EDX_HTT) : (l->edx & ~L1_EDX_HTT);
    for (i = 0; i < g->nr; i++) {
        if (g->leaves[i].leaf == 4) /* cores per package - 1; caches private */
            g->leaves[i].eax = (g->leaves[i].eax & 0x00003fffu) | (min_u32(n - 1, 63) << 26);
    }
    if (find(g, 0, 0)->eax >= 0xb) {
        /* EDX (x2APIC ID) is filled per vCPU at query time. */
        if ((rc = put_regs(g, 0xb, 0, 0, 1, 0x100, 0)) != 0 ||
            (rc = put_regs(g, 0xb, 1, shift, n, 0x201, 0)) != 0 ||
            (rc = put_regs(g, 0xb, 2, 0, 0, 2, 0)) != 0)
            return rc;
    }
    l = find(g, 0x80000008u, 0);
    if (l && vendor == CPUID_VENDOR_AMD)
        l->ecx = (n - 1) | (shift << 12);
    else if (l)
        l->ecx = 0;
    return 0;
}

int cpuid_policy_derive(const struct cpuid_policy *host, const struct cpuid_params *prm,
                        struct cpuid_policy *g)
{
    const struct cpuid_leaf *h0 = find_c(host, 0, 0);
    struct cpuid_leaf *l;
    u32 i, allow;
    int rc;

    if (prm->nr_vcpus < 1 || prm->nr_vcpus > KILN_MAX_VCPUS || h0 == NULL ||
        find_c(host, 1, 0) == NULL ||
        (prm->opts & ~(CPUID_OPT_X2APIC | CPUID_OPT_TSC_DEADLINE | CPUID_OPT_XSAVE |
                       CPUID_OPT_VIRT_APIC | CPUID_OPT_RDTSCP | CPUID_OPT_LA57)) != 0)
        return -KILN_EINVAL;

    g->nr = 0;
    for (i = 0; i < host->nr; i++) {
        const struct cpuid_leaf *h = &host->leaves[i];
        const u32 r[4] = { h->eax, h->ebx, h->ecx, h->edx };

        if (!leaf_copied(h->leaf) || (h->leaf == 7 && h->subleaf > 1))
            continue;
        if (h->leaf == 0xd && !(prm->opts & CPUID_OPT_XSAVE))
            continue;
        if ((rc = put(g, h->leaf, h->subleaf, r)) != 0)
            return rc;
    }

    /* Allow-lists, plus what the caller virtualises. */
    for (i = 0; i < NR_FEAT_REGS; i++) {
        l = find(g, feat_regs[i].leaf, feat_regs[i].subleaf);
        if (l == NULL)
            continue;
        allow = feat_regs[i].allow;
        if (feat_regs[i].leaf == 1 && feat_regs[i].reg == ECX) {
            if (prm->opts & CPUID_OPT_X2APIC)
                allow |= L1_ECX_X2APIC;
            if (prm->opts & CPUID_OPT_TSC_DEADLINE)
                allow |= L1_ECX_TSC_DL;
            if (prm->opts & CPUID_OPT_XSAVE)
                allow |= L1_ECX_XSAVE;
        }
        if (feat_regs[i].leaf == 0x80000001u && feat_regs[i].reg == EDX &&
            (prm->opts & CPUID_OPT_RDTSCP))
            allow |= E1_EDX_RDTSCP;
        if (feat_regs[i].leaf == 7 && feat_regs[i].subleaf == 0 && feat_regs[i].reg == ECX &&
            (prm->opts & CPUID_OPT_LA57))
            allow |= L7_ECX_LA57;
        *reg_of(l, feat_regs[i].reg) &= allow;
    }
    /* Registers of partly kept leaves that hold only hidden things. */
    if ((l = find(g, 6, 0)) != NULL)
        l->ebx = l->ecx = l->edx = 0;
    if ((l = find(g, 7, 1)) != NULL)
        l->ebx = l->ecx = l->edx = 0;
    if ((l = find(g, 0x80000008u, 0)) != NULL) {
        l->eax &= 0x0000ffffu; /* no separate guest physical width */
        l->edx = 0;
    }

    /* Clamp the maximum leaves to what the policy describes. */
    find(g, 0, 0)->eax = min_u32(h0->eax, CPUID_MAX_BASIC);
    if ((l = find(g, 7, 0)) != NULL)
        l->eax = min_u32(l->eax, 1);
    if ((l = find(g, 0x80000000u, 0)) != NULL)
        l->eax = min_u32(l->eax, CPUID_MAX_EXTENDED);

    fix_dependencies(g);
    find(g, 1, 0)->ecx |= L1_ECX_HV;
    /* An emulated APIC is there whatever the host's is (QEMU's TCG offers
     * neither x2APIC nor TSC-deadline). */
    bool virt_apic = (prm->opts & CPUID_OPT_VIRT_APIC) != 0;
    if (virt_apic) {
        find(g, 1, 0)->ecx |= L1_ECX_X2APIC | L1_ECX_TSC_DL;
        find(g, 1, 0)->edx |= L1_EDX_APIC;
    }
    if ((rc = set_topology(g, prm->nr_vcpus, cpuid_policy_vendor(host))) != 0)
        return rc;

    if ((rc = put_regs(g, KILN_CPUID_SIGNATURE, 0,
                       virt_apic ? CPUID_LEAF_TIMING : KILN_CPUID_VERSION, KILN_CPUID_SIG_EBX,
                       KILN_CPUID_SIG_ECX, KILN_CPUID_SIG_EDX)) != 0)
        return rc;
    if ((rc = put_regs(g, KILN_CPUID_VERSION, 0, (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR,
                       prm->domid, prm->flags, 0)) != 0)
        return rc;
    if (virt_apic)
        rc = put_regs(g, CPUID_LEAF_TIMING, 0, prm->tsc_khz, prm->apic_khz, 0, 0);
    return rc;
}

/* ---- per-domain restriction and queries ---------------------------------------- */

int cpuid_policy_restrict(struct cpuid_policy *g, const struct kiln_domctl_cpuid *c)
{
    const u32 mask[4] = { c->eax, c->ebx, c->ecx, c->edx };
    struct cpuid_leaf *l;
    bool feature_leaf = false;
    u8 r;

    for (r = EAX; r <= EDX; r++) {
        if (feat_reg_of(c->leaf, c->subleaf, r))
            feature_leaf = true;
    }
    if (!feature_leaf)
        return -KILN_EINVAL;
    for (r = EAX; r <= EDX; r++) {
        if (!feat_reg_of(c->leaf, c->subleaf, r) && mask[r] != 0xffffffffu)
            return -KILN_EINVAL;
    }
    l = find(g, c->leaf, c->subleaf);
    if (l == NULL)
        return -KILN_ENOENT;
    for (r = EAX; r <= EDX; r++) {
        if (feat_reg_of(c->leaf, c->subleaf, r))
            *reg_of(l, r) &= mask[r];
    }
    fix_dependencies(g);
    find(g, 1, 0)->ecx |= L1_ECX_HV; /* Kiln's presence is not a feature */
    return 0;
}

void cpuid_policy_query(const struct cpuid_policy *g, u32 vcpu_id, bool osxsave,
                        u32 leaf, u32 subleaf, u32 out[4])
{
    const struct cpuid_leaf *l = NULL, *max;

    out[0] = out[1] = out[2] = out[3] = 0;
    if (leaf < 0x40000000u)
        max = find_c(g, 0, 0);
    else if (leaf < 0x80000000u)
        max = find_c(g, KILN_CPUID_SIGNATURE, 0);
    else
        max = find_c(g, 0x80000000u, 0);
    if (max && leaf <= max->eax)
        l = find_c(g, leaf, has_subleaves(leaf) ? subleaf : 0);
    if (l == NULL)
        return;
    out[0] = l->eax;
    out[1] = l->ebx;
    out[2] = l->ecx;
    out[3] = l->edx;
    if (leaf == 1) {
        out[1] = (out[1] & 0x00ffffffu) | (vcpu_id << 24);
        if (osxsave && (out[2] & L1_ECX_XSAVE))
            out[2] |= L1_ECX_OSXSAVE;
        else
            out[2] &= ~L1_ECX_OSXSAVE;
    } else if (leaf == 0xb) {
        out[3] = vcpu_id;
    }
}
