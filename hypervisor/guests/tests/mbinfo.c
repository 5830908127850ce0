/*
 * mbinfo.c - a Multiboot1 kernel (see mbinfo-header.S) booted as a PC
 * domU, checking from the inside what a Multiboot loader and a PC's
 * firmware must have given it: EAX/EBX and the CPU state at entry, the
 * Multiboot info (flags, memory sizes, command line, module, memory map,
 * loader name), and the ACPI tables found the way Linux and
 * kvm-unit-tests find them (lib/kt_fw.c).
 *
 * The scenario passes what to expect on the guest command line:
 *   -- expect_kib=RAM_KIB expect_vcpus=N expect_modlen=BYTES
 * and one module, a copy of hello.elf of that size (modules=1).
 */
#include "kt_fw.h"

extern u32 mb_magic, mb_info, mb_eflags, mb_cr0;
extern char kt_bss_end[];

#define MBI_FLAGS_WANTED ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

void kt_main(void)
{
    kt_plan(11 + KT_FW_ACPI_RESULTS);
    u64 mbi = mb_info, kernel_end = (u64)(uintptr_t)kt_bss_end;
    kt_ok(mb_magic == 0x2badb002u, "EAX holds the Multiboot magic (%x)", mb_magic);
    kt_ok(!(mb_eflags & (1u << 9)), "interrupts off at entry");
    kt_ok((mb_cr0 & 1) && !(mb_cr0 & (1u << 31)), "protected mode, paging off at entry");
    kt_ok(mbi && mbi + 116 <= 0x9fc00, "EBX: the info at %lx, in low memory",
          (unsigned long)mbi);

    u32 flags = kt_r32(mbi);
    kt_ok((flags & MBI_FLAGS_WANTED) == MBI_FLAGS_WANTED && !(flags & (1u << 11)),
          "flags %x: mem, cmdline, mods, mmap, loader name; no video", flags);
    const char *cl = (const char *)kt_phys(kt_r32(mbi + 16));
    u64 want_kib = kt_cmdline_arg(cl, "expect_kib");
    kt_diag("command line '%s'", cl);
    kt_ok(want_kib && kt_mem_equal(cl, "build/guests/mbinfo.elf ", 24),
          "command line: the file name, then the guest's arguments");
    kt_ok(kt_r32(mbi + 4) == 639 && kt_r32(mbi + 8) == want_kib - 1024,
          "mem_lower 639 KiB, mem_upper %u KiB", kt_r32(mbi + 8));
    u64 mods = kt_r32(mbi + 24), mod_start = kt_r32(mods), mod_end = kt_r32(mods + 4);
    const char *mod_str = (const char *)kt_phys(kt_r32(mods + 8));
    kt_ok(kt_r32(mbi + 20) == 1 && mod_start % 4096 == 0 &&
              mod_end - mod_start == kt_cmdline_arg(cl, "expect_modlen") &&
              kt_mem_equal(kt_phys(mod_start), "\x7f" "ELF", 4) &&
              kt_mem_equal(mod_str, "build/guests/hello.elf", 22) &&
              (mod_end <= 0x100000 || mod_start >= kernel_end) && mod_end <= want_kib * 1024,
          "one module: page aligned, its size, its string, clear of the kernel (%lx-%lx)",
          (unsigned long)mod_start, (unsigned long)mod_end);
    const char *loader = (const char *)kt_phys(kt_r32(mbi + 64));
    kt_ok(!kt_strcmp(loader, "Kiln"), "boot loader name '%s'", loader);

    /* The memory map: 3 entries, each "size" 20 then base, length, type. */
    u64 mm = kt_r32(mbi + 48);
    bool map_ok = kt_r32(mbi + 44) == 72;
    static const u64 want[3][3] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, 0, 1 } };
    for (int i = 0; map_ok && i < 3; i++) {
        u64 e = mm + (u64)i * 24;
        u64 len = i == 2 ? want_kib * 1024 - 0x100000 : want[i][1];
        map_ok = kt_r32(e) == 20 && kt_r64(e + 4) == want[i][0] && kt_r64(e + 12) == len &&
                 kt_r32(e + 20) == want[i][2];
    }
    kt_ok(map_ok, "memory map: RAM to 0x9fc00, reserved to 1 MiB, RAM to the top");
    kt_ok(mbi + 116 <= 0x100000 || mbi >= kernel_end, "the info does not overlap the kernel");

    kt_fw_check_acpi((unsigned int)kt_cmdline_arg(cl, "expect_vcpus"));
}
