/*
 * kt_fw.h - for test guests booted as PC domUs (mbinfo, pvhinfo): reading
 * guest-physical memory (identity-mapped by the kt runtime), arguments
 * from a boot command line, and the checks of the ACPI tables a guest
 * finds the way Linux and kvm-unit-tests do (lib/kt_fw.c).
 */
#ifndef KT_FW_H
#define KT_FW_H

#include "kt.h"

static inline const u8 *kt_phys(u64 pa) { return (const u8 *)(uintptr_t)pa; }
static inline u8 kt_r8(u64 pa) { return *kt_phys(pa); }
static inline u16 kt_r16(u64 pa) { u16 v; kt_memcpy(&v, kt_phys(pa), 2); return v; }
static inline u32 kt_r32(u64 pa) { u32 v; kt_memcpy(&v, kt_phys(pa), 4); return v; }
static inline u64 kt_r64(u64 pa) { u64 v; kt_memcpy(&v, kt_phys(pa), 8); return v; }

/* The first n bytes of a and b are equal. */
bool kt_mem_equal(const void *a, const void *b, size_t n);
/* The value of "key=N" (decimal) in a command line, 0 when absent. */
u64 kt_cmdline_arg(const char *cl, const char *key);
/* How many kt_ok() results kt_fw_check_acpi() reports. */
#define KT_FW_ACPI_RESULTS 7
/* Finds the RSDP by the 16-byte scan of 0xe0000-0xfffff and checks it,
 * the XSDT, the FADT (PM timer, SCI) and the MADT (vcpus local APICs
 * with ids 0..vcpus-1, the IOAPIC, the overrides): KT_FW_ACPI_RESULTS
 * kt_ok() results.  Returns the RSDP's address (0 if not found). */
u64 kt_fw_check_acpi(unsigned int vcpus);

#endif
