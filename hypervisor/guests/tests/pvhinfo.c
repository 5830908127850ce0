/*
 * pvhinfo.c - a PVH kernel (see pvhinfo-note.S) booted as a PC domU,
 * checking from the inside what the PVH boot ABI promises: EBX =
 * hvm_start_info (magic, version 1), the CPU state at entry, the command
 * line, the module list, the memory map, rsdp_paddr naming the RSDP a
 * scan finds, and the ACPI tables (lib/kt_fw.c).
 *
 * The scenario passes what to expect on the guest command line:
 *   -- expect_kib=RAM_KIB expect_vcpus=N expect_modlen=BYTES
 * and one module, a copy of hello.elf of that size (modules=1).
 */
#include "kt_fw.h"

extern u32 pvh_info, pvh_eflags, pvh_cr0;
extern char kt_bss_end[];

void kt_main(void)
{
    kt_plan(8 + KT_FW_ACPI_RESULTS);
    u64 si = pvh_info, kernel_end = (u64)(uintptr_t)kt_bss_end;
    kt_ok(si && si + 56 <= 0x9fc00 && kt_r32(si) == 0x336ec578u && kt_r32(si + 4) == 1,
          "EBX: hvm_start_info at %lx, magic, version 1", (unsigned long)si);
    kt_ok(!(pvh_eflags & (1u << 9)), "interrupts off at entry");
    kt_ok((pvh_cr0 & 1) && !(pvh_cr0 & (1u << 31)), "protected mode, paging off at entry");

    const char *cl = (const char *)kt_phys(kt_r64(si + 24));
    u64 want_kib = kt_cmdline_arg(cl, "expect_kib");
    kt_diag("command line '%s'", cl);
    kt_ok(want_kib && kt_mem_equal(cl, "expect_kib=", 11),
          "command line: the guest's arguments only");

    u64 ml = kt_r64(si + 16), mod = kt_r64(ml), mod_size = kt_r64(ml + 8);
    const char *mod_str = (const char *)kt_phys(kt_r64(ml + 16));
    kt_ok(kt_r32(si + 12) == 1 && mod % 4096 == 0 &&
              mod_size == kt_cmdline_arg(cl, "expect_modlen") &&
              kt_mem_equal(kt_phys(mod), "\x7f" "ELF", 4) &&
              kt_mem_equal(mod_str, "build/guests/hello.elf", 22) &&
              (mod + mod_size <= 0x100000 || mod >= kernel_end),
          "one module: page aligned, its size, its string, clear of the kernel (%lx+%lx)",
          (unsigned long)mod, (unsigned long)mod_size);

    /* The memory map: 3 entries of base, size, type, reserved. */
    u64 mm = kt_r64(si + 40);
    bool map_ok = kt_r32(si + 48) == 3;
    static const u64 want[3][3] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, 0, 1 } };
    for (int i = 0; map_ok && i < 3; i++) {
        u64 e = mm + (u64)i * 24;
        u64 len = i == 2 ? want_kib * 1024 - 0x100000 : want[i][1];
        map_ok = kt_r64(e) == want[i][0] && kt_r64(e + 8) == len && kt_r32(e + 16) == want[i][2];
    }
    kt_ok(map_ok, "memory map: RAM to 0x9fc00, reserved to 1 MiB, RAM to the top");
    kt_ok(si + 56 <= 0x100000 || si >= kernel_end, "the start info does not overlap the kernel");

    u64 rsdp = kt_fw_check_acpi((unsigned int)kt_cmdline_arg(cl, "expect_vcpus"));
    kt_ok(rsdp && kt_r64(si + 32) == rsdp, "rsdp_paddr %lx: the RSDP the scan finds",
          (unsigned long)kt_r64(si + 32));
}
