/*
 * cpuid_compat.c - may a guest that started on one host go on on another?
 *
 * A guest reads CPUID once and then uses what it found, so the destination
 * must have every feature the source showed.  The stream carries the
 * source host's leaves as its dom0 sees them; the hypervisor derives every
 * domU's policy from the same host leaves by the same rules, so comparing
 * hosts compares what their guests are offered.  Only feature registers
 * are compared: family, cache and topology leaves differ between hosts
 * harmlessly.  OSXSAVE (leaf 1 ECX bit 27) mirrors dom0's own CR4, not the
 * CPU, so it is left out.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include "kiln_migrate.h"

#define L1_ECX_OSXSAVE (1u << 27)

static const struct { uint32_t leaf, subleaf; } host_leaves[KILN_CPUID_HOST_LEAVES] = {
    { 0, 0 }, { 1, 0 }, { 7, 0 }, { 0xd, 1 }, { 0x80000000, 0 }, { 0x80000001, 0 },
};

size_t kiln_cpuid_host_leaves(struct kiln_stream_cpuid *out)
{
    for (size_t i = 0; i < KILN_CPUID_HOST_LEAVES; i++) {
        unsigned int a = 0, b = 0, c = 0, d = 0;
        __cpuid_count(host_leaves[i].leaf, host_leaves[i].subleaf, a, b, c, d);
        out[i] = (struct kiln_stream_cpuid){ .leaf = host_leaves[i].leaf,
                                             .subleaf = host_leaves[i].subleaf,
                                             .eax = a, .ebx = b, .ecx = c, .edx = d };
    }
    return KILN_CPUID_HOST_LEAVES;
}

static const struct kiln_stream_cpuid *find(const struct kiln_stream_cpuid *l, size_t n,
                                            uint32_t leaf, uint32_t subleaf)
{
    for (size_t i = 0; i < n; i++)
        if (l[i].leaf == leaf && l[i].subleaf == subleaf)
            return &l[i];
    return NULL;
}

static uint32_t reg(const struct kiln_stream_cpuid *l, int r)
{
    if (!l)
        return 0;
    return r == 0 ? l->eax : r == 1 ? l->ebx : r == 2 ? l->ecx : l->edx;
}

int kiln_cpuid_compatible(const struct kiln_stream_cpuid *src, size_t nsrc,
                          const struct kiln_stream_cpuid *dst, size_t ndst,
                          char *err, size_t errlen)
{
    static const struct { uint32_t leaf, subleaf; int reg; uint32_t ignore; } features[] = {
        { 1, 0, 2, L1_ECX_OSXSAVE }, { 1, 0, 3, 0 },
        { 7, 0, 1, 0 }, { 7, 0, 2, 0 }, { 7, 0, 3, 0 },
        { 0xd, 1, 0, 0 },
        { 0x80000001, 0, 2, 0 }, { 0x80000001, 0, 3, 0 },
    };
    static const char names[4][4] = { "eax", "ebx", "ecx", "edx" };
    const struct kiln_stream_cpuid *s0 = find(src, nsrc, 0, 0), *d0 = find(dst, ndst, 0, 0);

    if (!s0) {
        snprintf(err, errlen, "the source sent no CPUID vendor leaf");
        return -EOPNOTSUPP;
    }
    for (int r = 1; r < 4; r++) {
        if (reg(s0, r) != reg(d0, r)) {
            snprintf(err, errlen, "CPU vendor differs (source %.4s%.4s%.4s)",
                     (const char *)&s0->ebx, (const char *)&s0->edx, (const char *)&s0->ecx);
            return -EOPNOTSUPP;
        }
    }
    for (size_t i = 0; i < sizeof(features) / sizeof(features[0]); i++) {
        uint32_t want = reg(find(src, nsrc, features[i].leaf, features[i].subleaf), features[i].reg);
        uint32_t have = reg(find(dst, ndst, features[i].leaf, features[i].subleaf), features[i].reg);
        uint32_t missing = want & ~have & ~features[i].ignore;
        if (missing) {
            snprintf(err, errlen, "CPUID leaf 0x%x.%u %s: the source has bits 0x%08x this host "
                     "lacks", features[i].leaf, features[i].subleaf, names[features[i].reg],
                     missing);
            return -EOPNOTSUPP;
        }
    }
    return 0;
}
