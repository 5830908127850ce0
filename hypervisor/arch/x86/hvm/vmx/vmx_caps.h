/*
 * vmx_caps.h - the pure decisions of the VT-x backend (vmx_caps.c): which
 * control bits a CPU accepts, what the CPU must see in CR0/CR4 while the
 * guest sees its own values, and the nested-fault error code common code
 * expects.  No VMX instruction here, so unit tests run them on the host.
 */
#ifndef KILN_VMX_CAPS_H
#define KILN_VMX_CAPS_H

#include <kiln/types.h>

/* A control word from its capability MSR (bits 31:0 say which bits must
 * be 1, bits 63:32 which may be 1): the must-be-1 bits, every required
 * bit and the optional ones the CPU allows.  0, or -1 when a required
 * bit is not allowed (*out untouched). */
int vmx_adjust_controls(u64 cap, u32 required, u32 optional, u32 *out);

/* CR0 or CR4 as the CPU must hold it in guest mode: the guest's value with
 * the bits VMX fixes to 1 set (PE and PG excepted with unrestricted guest:
 * pass their bits in exempt) and those it fixes to 0 cleared. */
u64 vmx_fixed_cr(u64 guest, u64 fixed0, u64 fixed1, u64 exempt);
/* The guest/host mask for that register: every bit the guest may not
 * own (fixed either way, exempt aside), plus extra. */
u64 vmx_cr_mask(u64 fixed0, u64 fixed1, u64 exempt, u64 extra);

/* An EPT violation's exit qualification as the nested page fault error
 * code hvm_nested_fault() takes (AMD's layout: bit 0 present, bit 1
 * write, bit 4 fetch, bit 33 during the guest's page walk). */
u64 vmx_ept_error_code(u64 qualification);

#endif
