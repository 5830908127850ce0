/*
 * test_multiboot_load.c - unit tests of loading Multiboot1 kernels into a
 * PC domU: the header search and load plan (multiboot_load.c,
 * load_plan.c), hostile headers and images refused, and the whole load
 * into a fake domain (pc_boot.c): the bytes where the plan says, the
 * ACPI tables and the Multiboot info clear of the kernel, vCPU 0's state.
 *
 * With KILN_KUT_DIR set to a built kvm-unit-tests tree, every .flat file
 * in its x86 folder is planned too (they are ELF32 Multiboot kernels); otherwise that
 * test is skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
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
#define RAM (32 * MIB)
#define MB_FLAGS_AOUT ((1u << 1) | (1u << 16))

static int setup(void **state)
{
    (void)state;
    return fake_domain(RAM, 2);
}

/* ---- images ---------------------------------------------------------------- */

static u8 img[0x10000];

static void header(size_t off, u32 flags)
{
    u32 magic = MB_HEADER_MAGIC, sum = -(MB_HEADER_MAGIC + flags);
    memcpy(img + off, &magic, 4);
    memcpy(img + off + 4, &flags, 4);
    memcpy(img + off + 8, &sum, 4);
}

/* An a.out-kludge kernel: the header at file offset hoff, the file loaded
 * from offset 0 at load_addr. */
static size_t aout(size_t hoff, u32 load_addr, u32 load_end, u32 bss_end, u32 entry)
{
    memset(img, 0x90, sizeof(img));
    header(hoff, MB_FLAGS_AOUT);
    u32 f[5] = { load_addr + (u32)hoff, load_addr, load_end, bss_end, entry };
    memcpy(img + hoff + 12, f, sizeof(f));
    return sizeof(img);
}

/* An ELF32 kernel with up to two PT_LOAD segments. */
struct seg32 { u32 offset, vaddr, paddr, filesz, memsz; };

static size_t elf32(const struct seg32 *s, unsigned int n, u32 entry)
{
    memset(img, 0, sizeof(img));
    memcpy(img, "\x7f" "ELF\x01\x01\x01", 7);
    u16 type = 2, machine = 3, phentsize = 32, phnum = (u16)n;
    u32 phoff = 52;
    memcpy(img + 16, &type, 2);
    memcpy(img + 18, &machine, 2);
    memcpy(img + 24, &entry, 4);
    memcpy(img + 28, &phoff, 4);
    memcpy(img + 42, &phentsize, 2);
    memcpy(img + 44, &phnum, 2);
    for (unsigned int i = 0; i < n; i++) {
        u32 ph[8] = { 1, s[i].offset, s[i].vaddr, s[i].paddr, s[i].filesz, s[i].memsz, 5, 0x1000 };
        memcpy(img + 52 + 32 * i, ph, sizeof(ph));
    }
    header(0x200, 1u << 1);
    for (size_t i = 0x1000; i < sizeof(img); i++)
        img[i] = (u8)i;
    return sizeof(img);
}

/* ---- the header ------------------------------------------------------------ */

static void test_find_header(void **state)
{
    (void)state;
    memset(img, 0, sizeof(img));
    assert_int_equal(mb_find_header(img, sizeof(img)), -1);
    header(0x1ff8, 0);                      /* last slot inside 8 KiB */
    assert_int_equal(mb_find_header(img, sizeof(img)), -1);   /* 12 bytes cross 8 KiB */
    header(0x1ff4, 0);
    assert_int_equal(mb_find_header(img, sizeof(img)), 0x1ff4);
    assert_int_equal(mb_find_header(img, 0x1ff4 + 11), -1);   /* cut by the image end */
    memset(img, 0, sizeof(img));
    header(0x2000, 0);                      /* beyond the first 8 KiB */
    assert_int_equal(mb_find_header(img, sizeof(img)), -1);
    memset(img, 0, sizeof(img));
    header(0x102, 0);                       /* not 4-byte aligned */
    assert_int_equal(mb_find_header(img, sizeof(img)), -1);
    header(0x100, 0);
    img[0x108]++;                           /* bad checksum */
    assert_int_equal(mb_find_header(img, sizeof(img)), -1);
}

/* ---- a.out kludge ------------------------------------------------------------ */

static void test_aout_plan(void **state)
{
    (void)state;
    struct fw_plan p;
    size_t size = aout(0x40, 0x100000, 0x108000, 0x200000, 0x100080);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
    assert_true(p.mb_aout);
    assert_int_equal(p.nr_seg, 1);
    assert_int_equal(p.seg[0].offset, 0);
    assert_int_equal(p.seg[0].dst, 0x100000);
    assert_int_equal(p.seg[0].filesz, 0x8000);
    assert_int_equal(p.seg[0].memsz, 0x100000);
    assert_int_equal(p.entry, 0x100080);
    /* load_end 0: the rest of the file; bss_end 0: no bss. */
    size = aout(0x40, 0x100000, 0, 0, 0x100080);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
    assert_int_equal(p.seg[0].filesz, sizeof(img));
    assert_int_equal(p.seg[0].memsz, sizeof(img));
}

static void test_aout_hostile(void **state)
{
    (void)state;
    struct fw_plan p;
    struct { u32 load, end, bss, entry; u64 ram; const char *what; } bad[] = {
        { 0x100000, 0x100000, 0, 0x100000, RAM, "load_end == load_addr" },
        { 0x100000, 0x200000, 0, 0x100080, RAM, "load_end beyond the file" },
        { 0x100000, 0x108000, 0x104000, 0x100080, RAM, "bss_end below load_end" },
        { 0x100000, 0x108000, 0, 0x108000, RAM, "entry just past the loaded bytes" },
        { 0x100000, 0x108000, 0x200000, 0x1ff000, RAM, "entry in the bss" },
        { 0x100000, 0x108000, 0xffffffff, 0x100080, RAM, "huge bss" },
        { 0x1ff8000, 0, 0, 0x1ff8080, RAM, "load_end (file end) beyond RAM" },
        { 0x9f000, 0xa0000, 0, 0x9f080, RAM, "into the EBDA / firmware area" },
        { 0xf0000, 0xf8000, 0, 0xf0080, RAM, "over the ACPI tables" },
        { 0xfffff000, 0, 0, 0xfffff080, RAM, "wrapping past 4 GiB" },
        { 0x100000, 0x108000, 0, 0x100080, 1 * MIB, "a domain of 1 MiB" },
        { 0x100000, 0x108000, 0, 0x100080, 0xfec00000ull + 4096, "RAM over the MMIO hole" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        size_t size = aout(0x40, bad[i].load, bad[i].end, bad[i].bss, bad[i].entry);
        int rc = mb_plan_load(img, size, bad[i].ram, &p);
        if (rc != -KILN_EINVAL)
            fail_msg("%s: accepted (rc %d)", bad[i].what, rc);
    }
    /* header_addr below load_addr, and a header_addr claiming more file
     * before the header than there is. */
    size_t size = aout(0x40, 0x100000, 0x108000, 0, 0x100080);
    u32 v = 0xfff00;
    memcpy(img + 0x40 + 12, &v, 4);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    v = 0x100000 + 0x80;
    memcpy(img + 0x40 + 12, &v, 4);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    /* The header cut by the end of the image. */
    assert_int_equal(mb_plan_load(img, 0x40 + 20, RAM, &p), -KILN_EINVAL);
    /* A required flag Kiln cannot honour (video mode, bit 2). */
    aout(0x40, 0x100000, 0x108000, 0, 0x100080);
    header(0x40, MB_FLAGS_AOUT | (1u << 2));
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    /* Optional flags (bits 16-31) other than 16 are ignored. */
    header(0x40, MB_FLAGS_AOUT | (1u << 20));
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
}

/* ---- ELF32 ------------------------------------------------------------------ */

static void test_elf_plan(void **state)
{
    (void)state;
    struct fw_plan p;
    struct seg32 s[2] = { { 0x1000, 0x100000, 0x100000, 0x3000, 0x3000 },
                          { 0x4000, 0x104000, 0x104000, 0x1000, 0x80000 } };
    size_t size = elf32(s, 2, 0x100010);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
    assert_false(p.mb_aout);
    assert_int_equal(p.nr_seg, 2);
    assert_int_equal(p.entry, 0x100010);
    assert_int_equal(p.lowest, 0x100000);
    assert_int_equal(p.highest, 0x184000);
    /* Virtual addresses differing from physical: the entry is translated. */
    s[0].vaddr = 0xc0100000;
    s[1].vaddr = 0xc0104000;
    size = elf32(s, 2, 0xc0100010);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
    assert_int_equal(p.entry, 0x100010);
    /* Low memory is RAM too (kvm-unit-tests' realmode test loads at 0x8000). */
    struct seg32 low = { 0x1000, 0x8000, 0x8000, 0x2000, 0x3000 };
    size = elf32(&low, 1, 0x8000);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), 0);
}

static void test_elf_hostile(void **state)
{
    (void)state;
    struct fw_plan p;
    struct { struct seg32 s[2]; unsigned int n; u32 entry; const char *what; } bad[] = {
        { { { 0x1000, 0x100000, 0x100000, 0x3000, 0x3000 },
            { 0x2000, 0x102000, 0x102000, 0x1000, 0x1000 } }, 2, 0x100000, "overlapping segments" },
        { { { 0x1000, 0x100000, 0x100000, 0x3000, 0x2000 } }, 1, 0x100000, "filesz > memsz" },
        { { { 0xf000, 0x100000, 0x100000, 0x3000, 0x3000 } }, 1, 0x100000, "file bytes past the end" },
        { { { 0xffffff00, 0x100000, 0x100000, 0x1000, 0x1000 } }, 1, 0x100000, "offset wraps" },
        { { { 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 } }, 1, 0x200000, "entry outside" },
        { { { 0x1000, 0x100000, 0x100000, 0x1000, 0x2000 } }, 1, 0x101800, "entry in bss" },
        { { { 0x1000, 0x100000, 0x1ff0000, 0x1000, 0x20000 } }, 1, 0x100000, "bss beyond RAM" },
        { { { 0x1000, 0x100000, 0xfffff000, 0x1000, 0x2000 } }, 1, 0x100000, "paddr wraps 4 GiB" },
        { { { 0x1000, 0x100000, 0x100000, 0x1000, 0xffffffff } }, 1, 0x100000, "huge bss" },
        { { { 0x1000, 0x9f000, 0x9f000, 0x1000, 0x2000 } }, 1, 0x9f000, "into the firmware area" },
        { { { 0 } }, 0, 0x100000, "no program headers" },
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        size_t size = elf32(bad[i].s, bad[i].n, bad[i].entry);
        int rc = mb_plan_load(img, size, RAM, &p);
        if (rc != -KILN_EINVAL)
            fail_msg("%s: accepted (rc %d)", bad[i].what, rc);
    }
    /* Program headers past the end of the image, or too many of them. */
    struct seg32 ok = { 0x1000, 0x100000, 0x100000, 0x1000, 0x1000 };
    size_t size = elf32(&ok, 1, 0x100000);
    u16 phnum = 0xffff;
    memcpy(img + 44, &phnum, 2);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    size = elf32(&ok, 1, 0x100000);
    u32 phoff = 0xfffffff0u;
    memcpy(img + 28, &phoff, 4);
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    /* More PT_LOAD segments than the plan holds. */
    size = elf32(&ok, 1, 0x100000);
    phnum = FW_MAX_SEGMENTS + 1;
    memcpy(img + 44, &phnum, 2);
    for (unsigned int i = 0; i < phnum; i++) {
        u32 ph[8] = { 1, 0x1000, 0x100000 + i * 0x1000, 0x100000 + i * 0x1000, 0x1000, 0x1000, 5, 0 };
        memcpy(img + 52 + 32 * i, ph, sizeof(ph));
    }
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
    /* An ELF64 with a Multiboot header but no a.out addresses. */
    size = elf32(&ok, 1, 0x100000);
    img[4] = 2;
    assert_int_equal(mb_plan_load(img, size, RAM, &p), -KILN_EINVAL);
}

static void test_find_free(void **state)
{
    (void)state;
    struct fw_plan p;
    assert_int_equal(fw_plan_init(&p, RAM), 0);
    assert_int_equal(fw_plan_find_free(&p, 0x1000, 0x9fc00, 0x1000, 0x1000), 0x1000);
    assert_int_equal(fw_plan_add(&p, 0, 0x800, 0x100, 0x1000), 0);       /* 0x800-0x1800 */
    assert_int_equal(fw_plan_add(&p, 0, 0x2000, 0x100, 0x100), 0);
    assert_int_equal(fw_plan_find_free(&p, 0x1000, 0x9fc00, 0x1000, 0x1000), 0x3000);
    assert_int_equal(fw_plan_add(&p, 0, 0x3000, 0, 0x9c000), 0);         /* to 0x9f000 */
    assert_int_equal(fw_plan_find_free(&p, 0x1000, 0x9fc00, 0x1000, 0x1000), 0);
    assert_int_equal(fw_plan_find_free(&p, 0x100000, RAM, 0x1000, 0x1000), 0x100000);
    assert_int_equal(fw_plan_find_free(&p, RAM - 0x1000, RAM, 0x2000, 0x1000), 0);
    assert_true(fw_plan_holds(&p, 0x8ff));
    assert_false(fw_plan_holds(&p, 0x900));     /* bss, not loaded bytes */
}

/* ---- the whole load ----------------------------------------------------------- */

static void test_load_into_domain(void **state)
{
    (void)state;
    struct hvm_boot_state bs;
    struct seg32 s[2] = { { 0x1000, 0x100000, 0x100000, 0x3000, 0x3000 },
                          { 0x4000, 0x104000, 0x104000, 0x1000, 0x80000 } };
    size_t size = elf32(s, 2, 0x100010);
    memset(guest_ram, 0, RAM);
    struct pc_boot_args args = { .cmdline = "k.flat arg" };
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &args, &bs), 0);
    assert_int_equal(bs.rip, 0x100010);
    assert_int_equal(bs.rax, 0x2badb002u);
    assert_int_equal(bs.cr3, 0);                       /* 32-bit, paging off */
    assert_memory_equal(guest_ram + 0x100000, img + 0x1000, 0x3000);
    assert_memory_equal(guest_ram + 0x104000, img + 0x4000, 0x1000);
    assert_int_equal(guest_ram[0x105000], 0);          /* bss */
    /* The info in low memory, pointing at the command line. */
    u64 mbi = bs.rbx;
    assert_true(mbi >= 0x1000 && mbi + 116 <= 0x9fc00);
    assert_string_equal((const char *)guest_ram + ram32(mbi + 16), "k.flat arg");
    assert_int_equal(ram32(mbi + 8), (RAM - MIB) / 1024);
    /* The RSDP where a scan finds it, with the MADT of 2 vCPUs. */
    assert_memory_equal(guest_ram + 0xe0000, "RSD PTR ", 8);
    assert_int_equal(acpi_checksum(guest_ram + 0xe0000, 20), 0);

    /* A kernel filling low memory: the info goes above it, in high RAM. */
    struct pc_boot_args noargs = { .cmdline = "" };
    struct seg32 lowfill[2] = { { 0x1000, 0x1000, 0x1000, 0x1000, 0x9e000 },
                                { 0x2000, 0x100000, 0x100000, 0x1000, 0x1000 } };
    size = elf32(lowfill, 2, 0x1000);
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &noargs, &bs), 0);
    assert_int_equal(bs.rbx, 0x101000);
    /* A kernel filling all of RAM leaves no room for the info. */
    struct seg32 all[2] = { { 0x1000, 0x1000, 0x1000, 0x1000, 0x9e000 },
                            { 0x2000, 0x100000, 0x100000, 0x1000, RAM - MIB } };
    size = elf32(all, 2, 0x1000);
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &noargs, &bs), -KILN_ENOMEM);
    /* A hostile image never reaches guest memory. */
    memset(guest_ram, 0, RAM);
    size = aout(0x40, 0x100000, 0x108000, 0xffffffff, 0x100080);
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &noargs, &bs), -KILN_EINVAL);
    for (u64 i = 0; i < RAM; i += 4096)
        assert_int_equal(guest_ram[i], 0);
}

static void test_load_modules(void **state)
{
    (void)state;
    static u8 mod_a[5000], mod_b[2 * MIB];
    struct hvm_boot_state bs;
    memset(mod_a, 0xaa, sizeof(mod_a));
    memset(mod_b, 0xbb, sizeof(mod_b));
    struct pc_module mods[2] = { { mod_a, sizeof(mod_a), "a.env" }, { mod_b, sizeof(mod_b), "b" } };
    struct pc_boot_args args = { .cmdline = "k", .mods = mods, .nr_mods = 2 };
    /* A kernel at 4 MiB: the modules go below it, page aligned, in order. */
    struct seg32 s = { 0x1000, 0x400000, 0x400000, 0x1000, 0x1000 };
    size_t size = elf32(&s, 1, 0x400000);
    memset(guest_ram, 0, RAM);
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &args, &bs), 0);
    u64 mbi = bs.rbx, list = ram32(mbi + 24);
    assert_int_equal(ram32(mbi + 20), 2);
    assert_int_equal(ram32(list), 0x100000);
    assert_int_equal(ram32(list + 4), 0x100000 + sizeof(mod_a));
    assert_string_equal((const char *)guest_ram + ram32(list + 8), "a.env");
    assert_int_equal(ram32(list + 16), 0x102000);            /* the next page */
    assert_int_equal(ram32(list + 20), 0x102000 + sizeof(mod_b));
    assert_memory_equal(guest_ram + 0x100000, mod_a, sizeof(mod_a));
    assert_memory_equal(guest_ram + 0x102000, mod_b, sizeof(mod_b));
    assert_memory_equal(guest_ram + 0x400000, img + 0x1000, 0x1000);   /* the kernel intact */
    /* One that does not fit below the kernel goes after it. */
    static u8 mod_c[3 * MIB + 1];
    mods[0] = (struct pc_module){ mod_c, sizeof(mod_c), "c" };
    args.nr_mods = 1;
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &args, &bs), 0);
    assert_int_equal(ram32(ram32(bs.rbx + 24)), 0x401000);
    /* Too many modules; modules that do not fit in RAM. */
    struct pc_module many[PC_MAX_MODULES + 1];
    for (unsigned int i = 0; i < PC_MAX_MODULES + 1; i++)
        many[i] = (struct pc_module){ mod_a, 16, "" };
    args = (struct pc_boot_args){ .cmdline = "", .mods = many, .nr_mods = PC_MAX_MODULES + 1 };
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &args, &bs), -KILN_E2BIG);
    static u8 mod_d[5 * MIB];   /* 8 of them: more than the 32 MiB domain holds */
    struct pc_module huge[PC_MAX_MODULES];
    for (unsigned int i = 0; i < PC_MAX_MODULES; i++)
        huge[i] = (struct pc_module){ mod_d, sizeof(mod_d), "" };
    args = (struct pc_boot_args){ .cmdline = "", .mods = huge, .nr_mods = PC_MAX_MODULES };
    assert_int_equal(pc_boot_multiboot(&dom, img, size, &args, &bs), -KILN_ENOMEM);
}

static void test_kvm_unit_tests_flats(void **state)
{
    (void)state;
    const char *dir = getenv("KILN_KUT_DIR");
    if (!dir) {
        skip();
        return;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/x86", dir);
    DIR *d = opendir(path);
    assert_non_null(d);
    unsigned int n = 0;
    static u8 buf[64 << 20];
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".flat"))
            continue;
        snprintf(path, sizeof(path), "%s/x86/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        size_t size = fread(buf, 1, sizeof(buf), f);
        fclose(f);
        struct fw_plan p;
        if (mb_plan_load(buf, size, 256 * MIB, &p))
            fail_msg("%s refused", e->d_name);
        /* And the info has room in low memory, clear of the kernel. */
        assert_true(fw_plan_find_free(&p, 0x1000, 0x9fc00, 4096, 4096) != 0);
        n++;
    }
    closedir(d);
    assert_true(n > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_header),
        cmocka_unit_test(test_aout_plan),
        cmocka_unit_test(test_aout_hostile),
        cmocka_unit_test(test_elf_plan),
        cmocka_unit_test(test_elf_hostile),
        cmocka_unit_test(test_find_free),
        cmocka_unit_test(test_load_into_domain),
        cmocka_unit_test(test_load_modules),
        cmocka_unit_test(test_kvm_unit_tests_flats),
    };
    return cmocka_run_group_tests(tests, setup, fake_domain_free);
}
