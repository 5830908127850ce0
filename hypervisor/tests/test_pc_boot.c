/*
 * test_pc_boot.c - unit tests of the Linux 64-bit and PVH loads of a PC
 * domU (arch/x86/hvm/firmware/pc_boot.c) into a fake domain: where the
 * kernel, initramfs, boot_params, command line, page tables, start info
 * and ACPI tables land in guest RAM, vCPU 0's entry state, and the
 * refusals (no room, hostile header values).
 *
 * A real bzImage is loaded too: KILN_BZIMAGE, else toolstack's dom0 kernel
 * when it has been built; with neither, that test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../arch/x86/hvm/firmware/fw_area.c"
#include "../arch/x86/hvm/firmware/e820.c"
#include "../arch/x86/hvm/firmware/acpi_build.c"
#include "../arch/x86/hvm/firmware/multiboot_info.c"
#include "../arch/x86/hvm/firmware/load_plan.c"
#include "../arch/x86/hvm/firmware/multiboot_load.c"
#include "../arch/x86/hvm/firmware/pvh.c"
#include "../arch/x86/hvm/firmware/linux_boot.c"
#include "../arch/x86/hvm/firmware/pc_boot.c"
#include "fake_guest_ram.h"

#define MIB (1024ull * 1024)

static u8 img[0x8000];

static void set32(u32 off, u32 v) { memcpy(img + off, &v, 4); }

/* A bzImage: setup at 0x200..0x400, the protected-mode kernel after. */
static size_t bzimage(u32 init_size, u64 pref, u32 cmdline_size)
{
    memset(img, 0, sizeof(img));
    img[0x1f1] = 1;
    img[0x200] = 0xeb;
    img[0x201] = 0x6a;
    u16 ver = 0x20f, xlf = 1;
    set32(0x202, 0x53726448);
    memcpy(img + 0x206, &ver, 2);
    set32(0x22c, 0x7fffffff);
    set32(0x230, 0x200000);
    img[0x234] = 1;
    memcpy(img + 0x236, &xlf, 2);
    set32(0x238, cmdline_size);
    memcpy(img + 0x258, &pref, 8);
    set32(0x260, init_size);
    for (size_t i = 0x400; i < sizeof(img); i++)
        img[i] = (u8)(i * 7);
    return sizeof(img);
}

static void test_linux_load(void **state)
{
    (void)state;
    static u8 initrd[0x3000];
    struct hvm_boot_state bs;
    memset(initrd, 0x5a, sizeof(initrd));
    assert_int_equal(fake_domain(64 * MIB, 1), 0);
    size_t size = bzimage(0x800000, 0x1000000, 0);
    struct pc_module rd_mod = { initrd, sizeof(initrd), "initrd" };
    struct pc_boot_args args = { .cmdline = "console=ttyS0", .mods = &rd_mod, .nr_mods = 1 };
    assert_int_equal(pc_boot_linux(&dom, img, size, &args, &bs), 0);
    /* Kernel at 16 MiB (aligned, at its preferred address), entry + 0x200. */
    assert_int_equal(bs.rip, 0x1000200);
    assert_memory_equal(guest_ram + 0x1000000, img + 0x400, size - 0x400);
    /* Long mode on the 0-4 GiB tables, RSI = boot_params. */
    assert_int_equal(bs.cr3, 0x12000);
    assert_int_equal(ram64(0x12000), 0x13000 | 3);
    assert_int_equal(bs.rsi, 0x10000);
    u64 bp = bs.rsi;
    assert_int_equal(guest_ram[bp + 0x210], 0xff);
    assert_string_equal((const char *)guest_ram + ram32(bp + 0x228), "console=ttyS0");
    /* The initramfs at the top of RAM, page aligned. */
    u64 rd = ram32(bp + 0x218) | (u64)ram32(bp + 0xc0) << 32;
    assert_int_equal(rd, 64 * MIB - 0x3000);
    assert_int_equal(ram32(bp + 0x21c), sizeof(initrd));
    assert_memory_equal(guest_ram + rd, initrd, sizeof(initrd));
    /* ACPI: the RSDP's address given, and there. */
    assert_int_equal(ram64(bp + 0x70), 0xe0000);
    assert_memory_equal(guest_ram + 0xe0000, "RSD PTR ", 8);
    /* The e820: the domU's map. */
    assert_int_equal(guest_ram[bp + 0x1e8], 3);
    assert_int_equal(ram64(bp + 0x2d0 + 2 * 20), 0x100000);
    assert_int_equal(ram64(bp + 0x2d0 + 2 * 20 + 8), 63 * MIB);
    fake_domain_free(NULL);
}

static void test_linux_refusals(void **state)
{
    (void)state;
    static u8 initrd[12 * MIB];
    struct hvm_boot_state bs;
    struct pc_boot_args none = { .cmdline = "" };
    struct pc_module rd_mod = { initrd, sizeof(initrd), "" };
    struct pc_boot_args rd = { .cmdline = "", .mods = &rd_mod, .nr_mods = 1 };
    assert_int_equal(fake_domain(32 * MIB, 1), 0);
    /* A window larger than the RAM above 16 MiB. */
    size_t size = bzimage(17 * MIB, 0, 0);
    assert_int_equal(pc_boot_linux(&dom, img, size, &none, &bs), -KILN_E2BIG);
    /* A preferred address near 2^64 must not wrap to a low address. */
    size = bzimage(0x800000, ~0ull - 0x1000, 0);
    assert_int_equal(pc_boot_linux(&dom, img, size, &none, &bs), -KILN_E2BIG);
    /* The initramfs at the top would overlap the window, with no room
     * after it. */
    size = bzimage(0x800000, 0, 0);
    assert_int_equal(pc_boot_linux(&dom, img, size, &rd, &bs), -KILN_E2BIG);
    /* An initramfs larger than RAM. */
    rd_mod.size = 64 * MIB;
    assert_int_equal(pc_boot_linux(&dom, img, size, &rd, &bs), -KILN_E2BIG);
    /* Two initramfs modules. */
    rd_mod.size = 4096;
    struct pc_module two[2] = { rd_mod, rd_mod };
    struct pc_boot_args rd2 = { .cmdline = "", .mods = two, .nr_mods = 2 };
    assert_int_equal(pc_boot_linux(&dom, img, size, &rd2, &bs), -KILN_E2BIG);
    /* Not a usable bzImage. */
    size = bzimage(0x800000, 0, 0);
    img[0x234] = 0;
    assert_int_equal(pc_boot_linux(&dom, img, size, &none, &bs), -KILN_EINVAL);
    /* The command line cut to the kernel's cmdline_size. */
    size = bzimage(0x800000, 0, 8);
    struct pc_boot_args longcl = { .cmdline = "0123456789abc" };
    assert_int_equal(pc_boot_linux(&dom, img, size, &longcl, &bs), 0);
    assert_string_equal((const char *)guest_ram + 0x11000, "01234567");
    fake_domain_free(NULL);
}

/* An ELF64 vmlinux-like image: PT_LOAD of 8 KiB at 1 MiB (virtual
 * 0xffffffff81000000), and a PT_NOTE with Xen's PHYS32_ENTRY. */
static size_t pvh_image(u64 entry)
{
    memset(img, 0, sizeof(img));
    memcpy(img, "\x7f" "ELF\x02\x01\x01", 7);
    u16 type = 2, machine = 62, phentsize = 56, phnum = 2;
    u64 phoff = 64, ventry = 0xffffffff81000000ull;
    memcpy(img + 16, &type, 2);
    memcpy(img + 18, &machine, 2);
    memcpy(img + 24, &ventry, 8);
    memcpy(img + 32, &phoff, 8);
    memcpy(img + 54, &phentsize, 2);
    memcpy(img + 56, &phnum, 2);
    u64 load[7] = { 1 | (7ull << 32), 0x1000, ventry, 0x100000, 0x2000, 0x3000, 0x1000 };
    u64 note[7] = { 4, 0x300, 0, 0, 24, 24, 4 };
    memcpy(img + 64, load, sizeof(load));
    memcpy(img + 120, note, sizeof(note));
    u32 n[3] = { 4, 8, 18 };
    memcpy(img + 0x300, n, sizeof(n));
    memcpy(img + 0x30c, "Xen", 4);
    memcpy(img + 0x310, &entry, 8);
    for (size_t i = 0x1000; i < 0x3000; i++)
        img[i] = (u8)(i * 3);
    return 0x3000;
}

static void test_pvh_load(void **state)
{
    (void)state;
    struct hvm_boot_state bs;
    assert_int_equal(fake_domain(16 * MIB, 4), 0);
    size_t size = pvh_image(0x100040);
    static u8 mod[100];
    struct pc_module m = { mod, sizeof(mod), "m" };
    struct pc_boot_args args = { .cmdline = "console=hvc0", .mods = &m, .nr_mods = 1 };
    assert_int_equal(pc_boot_pvh(&dom, img, size, &args, &bs), 0);
    assert_int_equal(bs.rip, 0x100040);
    assert_int_equal(bs.cr3, 0);                   /* 32-bit, paging off */
    assert_int_equal(bs.rax, 0);
    assert_memory_equal(guest_ram + 0x100000, img + 0x1000, 0x2000);
    u64 si = bs.rbx;
    assert_true(si >= 0x1000 && si < 0x9fc00);
    assert_int_equal(ram32(si), 0x336ec578u);
    assert_int_equal(ram32(si + 4), 1);
    assert_int_equal(ram64(si + 32), 0xe0000);
    assert_string_equal((const char *)guest_ram + ram64(si + 24), "console=hvc0");
    assert_int_equal(ram32(si + 48), 3);
    assert_int_equal(ram32(si + 12), 1);                  /* the module, after the kernel */
    assert_int_equal(ram64(ram64(si + 16)), 0x103000);
    assert_int_equal(ram64(ram64(si + 16) + 8), sizeof(mod));
    assert_memory_equal(guest_ram + 0xe0000, "RSD PTR ", 8);
    /* The note's entry in the bss (not loaded bytes): refused. */
    size = pvh_image(0x102800);
    args.nr_mods = 0;
    assert_int_equal(pc_boot_pvh(&dom, img, size, &args, &bs), -KILN_EINVAL);
    fake_domain_free(NULL);
}

static void test_real_bzimage(void **state)
{
    (void)state;
    const char *path = getenv("KILN_BZIMAGE");
    FILE *f = fopen(path ? path : "../toolstack/build/dom0/vmlinuz", "rb");
    if (!f && !path) {
        skip();
        return;
    }
    assert_non_null(f);
    static u8 buf[64 << 20];
    size_t size = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    struct hvm_boot_state bs;
    assert_int_equal(fake_domain(256 * MIB, 1), 0);
    struct pc_boot_args args = { .cmdline = "console=ttyS0" };
    assert_int_equal(pc_boot_linux(&dom, buf, size, &args, &bs), 0);
    assert_int_equal(bs.rip & 0x1fffff, 0x200);
    assert_true(bs.rip >= 16 * MIB);
    fake_domain_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_load),
        cmocka_unit_test(test_linux_refusals),
        cmocka_unit_test(test_pvh_load),
        cmocka_unit_test(test_real_bzimage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
