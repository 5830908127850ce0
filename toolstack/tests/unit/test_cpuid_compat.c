/*
 * test_cpuid_compat.c - the migration CPUID check (lib/cpuid_compat.c):
 * equal hosts pass, a destination with more features passes, one lacking
 * a feature the source showed is refused naming leaf, register and bits,
 * another vendor is refused, OSXSAVE differences are ignored, and this
 * host's own leaves are compatible with themselves.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "kiln_migrate.h"

#define AMD_B 0x68747541u   /* "Auth" */
#define AMD_D 0x69746e65u   /* "enti" */
#define AMD_C 0x444d4163u   /* "cAMD" */

static struct kiln_stream_cpuid src[4], dst[4];
static char err[256];

static int setup(void **state)
{
    (void)state;
    src[0] = (struct kiln_stream_cpuid){ .leaf = 0, .eax = 0xd, .ebx = AMD_B, .ecx = AMD_C, .edx = AMD_D };
    src[1] = (struct kiln_stream_cpuid){ .leaf = 1, .ecx = 0x80802001, .edx = 0x078bfbff };
    src[2] = (struct kiln_stream_cpuid){ .leaf = 7, .ebx = 0x209 };
    src[3] = (struct kiln_stream_cpuid){ .leaf = 0x80000001, .ecx = 0x1, .edx = 0x2fd3fbff };
    memcpy(dst, src, sizeof(src));
    err[0] = 0;
    return 0;
}

static void equal_and_richer_hosts_pass(void **state)
{
    (void)state;
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 4, err, sizeof(err)), 0);
    dst[2].ebx |= 0x100000;                    /* the destination has more */
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 4, err, sizeof(err)), 0);
}

static void missing_feature_is_named(void **state)
{
    (void)state;
    dst[2].ebx &= ~0x8u;
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 4, err, sizeof(err)), -EOPNOTSUPP);
    assert_string_equal(err, "CPUID leaf 0x7.0 ebx: the source has bits 0x00000008 this host lacks");
    /* A leaf the destination does not list at all reads as zeros. */
    setup(NULL);
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 3, err, sizeof(err)), -EOPNOTSUPP);
    assert_non_null(strstr(err, "leaf 0x80000001.0 ecx"));
}

static void vendor_must_match(void **state)
{
    (void)state;
    dst[0].ebx = 0x756e6547;                   /* "Genu" */
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 4, err, sizeof(err)), -EOPNOTSUPP);
    assert_non_null(strstr(err, "vendor differs (source AuthenticAMD)"));
}

static void osxsave_is_ignored(void **state)
{
    (void)state;
    src[1].ecx |= 1u << 27;
    assert_int_equal(kiln_cpuid_compatible(src, 4, dst, 4, err, sizeof(err)), 0);
}

static void this_host_matches_itself(void **state)
{
    struct kiln_stream_cpuid a[KILN_CPUID_HOST_LEAVES], b[KILN_CPUID_HOST_LEAVES];
    (void)state;
    assert_int_equal(kiln_cpuid_host_leaves(a), KILN_CPUID_HOST_LEAVES);
    kiln_cpuid_host_leaves(b);
    assert_int_equal(a[1].leaf, 1);
    assert_int_not_equal(a[0].ebx, 0);
    assert_int_equal(kiln_cpuid_compatible(a, KILN_CPUID_HOST_LEAVES, b, KILN_CPUID_HOST_LEAVES,
                                           err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(equal_and_richer_hosts_pass, setup),
        cmocka_unit_test_setup(missing_feature_is_named, setup),
        cmocka_unit_test_setup(vendor_must_match, setup),
        cmocka_unit_test_setup(osxsave_is_ignored, setup),
        cmocka_unit_test_setup(this_host_matches_itself, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
