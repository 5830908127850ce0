/*
 * test_vmx_caps.c - unit tests of the VT-x backend's pure decisions
 * (arch/x86/hvm/vmx/vmx_caps.c) and of the VMCS encodings they rely on:
 * control words adjusted against capability MSRs (including a TRUE_ MSR
 * that lets a default-1 control be cleared), CR0/CR4 as the
 * CPU must hold them while the guest sees its own, the guest/host masks,
 * and EPT violation qualifications turned into nested fault error codes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/vmx/vmx_caps.c"

#define CR0_PE (1ull << 0)
#define CR0_ET (1ull << 4)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)

static void test_adjust_sets_must_be_one(void **state)
{
    (void)state;
    /* must-be-1: bits 1, 4-6; may-be-1: those plus 2, 3, 7, 31. */
    u64 cap = ((u64)0x800000feu << 32) | 0x72u;
    u32 out = 0;
    assert_int_equal(vmx_adjust_controls(cap, 1u << 7, 0, &out), 0);
    assert_int_equal(out, 0x72u | (1u << 7));
}

static void test_adjust_refuses_missing_required(void **state)
{
    (void)state;
    u64 cap = ((u64)0x000000feu << 32) | 0x72u;
    u32 out = 0x1234;
    assert_int_equal(vmx_adjust_controls(cap, 1u << 31, 0, &out), -1);
    assert_int_equal(out, 0x1234);   /* untouched */
}

static void test_adjust_drops_unavailable_optional(void **state)
{
    (void)state;
    u64 cap = ((u64)0x0000003eu << 32) | 0x16u;
    u32 out = 0;
    assert_int_equal(vmx_adjust_controls(cap, 0, (1u << 5) | (1u << 6), &out), 0);
    assert_int_equal(out, 0x16u | (1u << 5));
}

static void test_adjust_true_msr_allows_clearing_default1(void **state)
{
    (void)state;
    /* A TRUE_ MSR whose must-be-1 set lacks CR3-load exiting (bit 15),
     * which the plain one reports as must-be-1. */
    u64 plain = ((u64)0xffffffffu << 32) | 0x0401e172u;
    u64 truemsr = ((u64)0xffffffffu << 32) | 0x04006172u;
    u32 a, b;
    assert_int_equal(vmx_adjust_controls(plain, 0, 0, &a), 0);
    assert_int_equal(vmx_adjust_controls(truemsr, 0, 0, &b), 0);
    assert_true(a & CPU_CR3_LOAD);
    assert_false(b & CPU_CR3_LOAD);
}

static void test_fixed_cr0_unrestricted(void **state)
{
    (void)state;
    u64 f0 = CR0_PG | CR0_NE | CR0_PE, f1 = 0xffffffffull;
    /* Protected mode, paging off, as Kiln's vCPUs start: NE forced, PG not. */
    assert_int_equal(vmx_fixed_cr(CR0_PE | CR0_ET, f0, f1, CR0_PE | CR0_PG),
                     CR0_PE | CR0_ET | CR0_NE);
    /* Real mode after a SIPI: PE stays clear. */
    assert_int_equal(vmx_fixed_cr(0x60000010ull, f0, f1, CR0_PE | CR0_PG),
                     0x60000010ull | CR0_NE);
    /* Without the exemption (the host's CR0): everything fixed is set. */
    assert_int_equal(vmx_fixed_cr(CR0_ET, f0, f1, 0), CR0_ET | f0);
    /* Bits above fixed1 are cleared. */
    assert_int_equal(vmx_fixed_cr(1ull << 40, f0, f1, 0), f0);
}

static void test_cr_masks(void **state)
{
    (void)state;
    u64 f0 = CR0_PG | CR0_NE | CR0_PE, f1 = 0xffffffffull;
    u64 m = vmx_cr_mask(f0, f1, CR0_PE | CR0_PG, 0);
    /* The guest owns PE and PG; NE and every bit above 31 are the host's. */
    assert_true(m & CR0_NE);
    assert_false(m & (CR0_PE | CR0_PG));
    assert_true(m & (1ull << 32));
    /* CR4: VMXE fixed, extra bits added. */
    u64 m4 = vmx_cr_mask(1ull << 13, 0x3767ffull, 0, 1ull << 18);
    assert_true(m4 & (1ull << 13));
    assert_true(m4 & (1ull << 18));
    assert_true(m4 & (1ull << 23));     /* not in fixed1 */
    assert_false(m4 & (1ull << 5));     /* PAE: the guest's */
}

static void test_ept_error_codes(void **state)
{
    (void)state;
    /* A read of a not-present page, seen by the access itself. */
    assert_int_equal(vmx_ept_error_code(EPTQ_READ | EPTQ_LINEAR_VALID | EPTQ_FINAL), 0);
    /* A write to a present, read-only entry. */
    assert_int_equal(vmx_ept_error_code(EPTQ_WRITE | (1ull << 3) | EPTQ_LINEAR_VALID | EPTQ_FINAL),
                     3);
    /* An instruction fetch. */
    assert_int_equal(vmx_ept_error_code(EPTQ_FETCH | EPTQ_LINEAR_VALID | EPTQ_FINAL), 1u << 4);
    /* During the guest's own page walk. */
    assert_int_equal(vmx_ept_error_code(EPTQ_READ | EPTQ_LINEAR_VALID), 1ull << 33);
    /* No linear address (e.g. a PDPTE load): not a walk. */
    assert_int_equal(vmx_ept_error_code(EPTQ_READ), 0);
}

static void test_field_encodings(void **state)
{
    (void)state;
    /* Encoding layout (SDM appendix B): bits 14:13 width, 11:10 type,
     * bit 0 access type (0 = full). */
    assert_int_equal((GUEST_RIP >> 13) & 3, 3);        /* natural width */
    assert_int_equal((GUEST_RIP >> 10) & 3, 2);        /* guest state */
    assert_int_equal((EPT_POINTER >> 13) & 3, 1);      /* 64-bit */
    assert_int_equal((EPT_POINTER >> 10) & 3, 0);      /* control */
    assert_int_equal((EXIT_REASON >> 13) & 3, 2);      /* 32-bit */
    assert_int_equal((EXIT_REASON >> 10) & 3, 1);      /* read-only data */
    assert_int_equal((HOST_RIP >> 10) & 3, 3);         /* host state */
    assert_int_equal((VMCS_VPID >> 13) & 3, 0);        /* 16-bit */
    /* Per-segment fields step by 2 in ES, CS, SS, DS, FS, GS, LDTR, TR order. */
    assert_int_equal(GUEST_ES_SEL + 2 * VSEG_TR, GUEST_TR_SEL);
    assert_int_equal(GUEST_ES_AR + 2 * VSEG_TR, 0x4822);
    assert_int_equal(GUEST_ES_BASE + 2 * VSEG_TR, 0x6814);
    assert_int_equal(GUEST_ES_LIMIT + 2 * VSEG_TR, 0x480e);
    assert_int_equal(GUEST_ES_BASE + 2 * VSEG_TR + 2, GUEST_GDTR_BASE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adjust_sets_must_be_one),
        cmocka_unit_test(test_adjust_refuses_missing_required),
        cmocka_unit_test(test_adjust_drops_unavailable_optional),
        cmocka_unit_test(test_adjust_true_msr_allows_clearing_default1),
        cmocka_unit_test(test_fixed_cr0_unrestricted),
        cmocka_unit_test(test_cr_masks),
        cmocka_unit_test(test_ept_error_codes),
        cmocka_unit_test(test_field_encodings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
