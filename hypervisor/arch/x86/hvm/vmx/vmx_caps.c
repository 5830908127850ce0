/*
 * vmx_caps.c - pure helpers of the VT-x backend (see vmx_caps.h): control
 * words adjusted against the capability MSRs, the fixed CR0/CR4 bits and
 * the EPT violation's error code.  Built into the hypervisor and, with
 * -DKILN_UNIT_TEST, into tests/test_vmx_caps.c.
 */
#include "vmcs.h"
#include "vmx_caps.h"

int vmx_adjust_controls(u64 cap, u32 required, u32 optional, u32 *out)
{
    u32 must1 = (u32)cap, may1 = (u32)(cap >> 32);
    if (required & ~may1)
        return -1;
    *out = must1 | required | (optional & may1);
    return 0;
}

u64 vmx_fixed_cr(u64 guest, u64 fixed0, u64 fixed1, u64 exempt)
{
    return (guest | (fixed0 & ~exempt)) & (fixed1 | exempt);
}

u64 vmx_cr_mask(u64 fixed0, u64 fixed1, u64 exempt, u64 extra)
{
    return ((fixed0 | ~fixed1) & ~exempt) | extra;
}

u64 vmx_ept_error_code(u64 q)
{
    u64 e = 0;
    if (q & EPTQ_PRESENT_MASK)
        e |= 1;
    if (q & EPTQ_WRITE)
        e |= 2;
    if (q & EPTQ_FETCH)
        e |= 1u << 4;
    if ((q & EPTQ_LINEAR_VALID) && !(q & EPTQ_FINAL))
        e |= 1ull << 33;
    return e;
}
