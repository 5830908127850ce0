/*
 * test_boot_info.c - unit tests of what a PC domU's kernel is handed:
 * the e820 map (e820.c), the Multiboot1 info (multiboot_info.c), PVH's
 * hvm_start_info and entry note (pvh.c), Linux's boot_params and boot
 * page tables (linux_boot.c), and the room-taking under them (fw_area.c).
 *
 * Each structure is built into a buffer standing for guest memory at a
 * known GPA and read back through the GPAs it stores, as the guest would.
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
#include "../arch/x86/hvm/firmware/multiboot_info.c"
#include "../arch/x86/hvm/firmware/load_plan.c"
#include "../arch/x86/hvm/firmware/pvh.c"
#include "../arch/x86/hvm/firmware/linux_boot.c"

#define MIB (1024ull * 1024)
#define AREA_GPA 0x1000u
#define AREA_SIZE 4096u

static u8 area_buf[AREA_SIZE + 64];

/* Host address of a GPA inside the area. */
static const u8 *at(u64 gpa, size_t len)
{
    assert_true(gpa >= AREA_GPA && gpa + len <= AREA_GPA + AREA_SIZE);
    return area_buf + (gpa - AREA_GPA);
}
static u32 a32(u64 gpa) { u32 v; memcpy(&v, at(gpa, 4), 4); return v; }
static u64 a64(u64 gpa) { u64 v; memcpy(&v, at(gpa, 8), 8); return v; }

static void area(struct fw_area *a, size_t size)
{
    memset(area_buf, 0xa5, sizeof(area_buf));
    fw_area_init(a, area_buf, size, AREA_GPA);
}

/* ---- fw_area ------------------------------------------------------------ */

static void test_fw_alloc(void **state)
{
    (void)state;
    struct fw_area a;
    u64 g1, g2;
    area(&a, 64);
    assert_non_null(fw_alloc(&a, 3, 1, &g1));
    assert_int_equal(g1, AREA_GPA);
    u8 *p = fw_alloc(&a, 8, 16, &g2);
    assert_non_null(p);
    assert_int_equal(g2, AREA_GPA + 16);          /* aligned in guest addresses */
    for (int i = 0; i < 24; i++)
        assert_int_equal(area_buf[i], 0);          /* padding zeroed too */
    assert_int_equal(a.used, 24);
    assert_null(fw_alloc(&a, 41, 1, &g1));         /* one byte too many */
    assert_null(fw_alloc(&a, 1, 3, &g1));          /* not a power of two */
    assert_non_null(fw_alloc(&a, 40, 1, &g1));
    assert_null(fw_alloc(&a, 1, 1, &g1));
    assert_int_equal(area_buf[64], 0xa5);          /* nothing past the end */
    area(&a, 8);
    assert_int_equal(fw_put_string(&a, "abcdefghij", 64), 0);
    assert_int_equal(fw_put_string(&a, "abcdefghij", 4), AREA_GPA);
    assert_string_equal((const char *)area_buf, "abcd");
}

/* ---- e820 ----------------------------------------------------------------- */

static void test_e820(void **state)
{
    (void)state;
    struct e820_entry e[4];
    assert_int_equal(fw_e820_build(16 * MIB, e, 4), 3);
    assert_int_equal(e[0].addr, 0);
    assert_int_equal(e[0].size, 0x9fc00);
    assert_int_equal(e[0].type, E820_RAM);
    assert_int_equal(e[1].addr, 0x9fc00);
    assert_int_equal(e[1].size, 0x100000 - 0x9fc00);
    assert_int_equal(e[1].type, E820_RESERVED);
    assert_int_equal(e[2].addr, 0x100000);
    assert_int_equal(e[2].size, 15 * MIB);
    assert_int_equal(e[2].type, E820_RAM);
    assert_int_equal(sizeof(struct e820_entry), 20);   /* boot_params' layout */
    assert_int_equal(fw_e820_build(0xfec00000ull, e, 4), 3);
    assert_int_equal(fw_e820_build(0xfec00000ull + 4096, e, 4), -KILN_EINVAL);
    assert_int_equal(fw_e820_build(2 * MIB - 4096, e, 4), -KILN_EINVAL);
    assert_int_equal(fw_e820_build(16 * MIB, e, 2), -KILN_EINVAL);
}

/* ---- Multiboot info ------------------------------------------------------- */

static void test_mb_info(void **state)
{
    (void)state;
    struct fw_area a;
    u64 info;
    struct mb_module_desc mods[2] = { { 0x200000, 0x201000, "initrd one" },
                                      { 0x300000, 0x300010, NULL } };
    struct mb_info_args args = { .ram_bytes = 256 * MIB, .cmdline = "x86/sieve.flat -v",
                                 .mods = mods, .nr_mods = 2 };
    area(&a, AREA_SIZE);
    assert_int_equal(fw_mb_info_build(&a, &args, &info), 0);
    assert_int_equal(info % 4, 0);
    u32 flags = a32(info);
    assert_int_equal(flags, (1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9));
    assert_int_equal(a32(info + 4), 639);
    assert_int_equal(a32(info + 8), 255 * 1024);
    assert_string_equal((const char *)at(a32(info + 16), 18), "x86/sieve.flat -v");
    assert_string_equal((const char *)at(a32(info + 64), 5), "Kiln");
    /* Modules: start, end, string, reserved. */
    assert_int_equal(a32(info + 20), 2);
    u64 m = a32(info + 24);
    assert_int_equal(a32(m), 0x200000);
    assert_int_equal(a32(m + 4), 0x201000);
    assert_string_equal((const char *)at(a32(m + 8), 11), "initrd one");
    assert_int_equal(a32(m + 16), 0x300000);
    assert_int_equal(a32(m + 20), 0x300010);
    assert_string_equal((const char *)at(a32(m + 24), 1), "");
    /* Memory map: walked as the spec says (size field + 4). */
    u64 mm = a32(info + 48), end = mm + a32(info + 44);
    struct e820_entry want[3];
    fw_e820_build(256 * MIB, want, 3);
    unsigned int n = 0;
    for (u64 p = mm; p < end; p += a32(p) + 4, n++) {
        assert_true(n < 3);
        assert_int_equal(a32(p), 20);
        assert_int_equal(a64(p + 4), want[n].addr);
        assert_int_equal(a64(p + 12), want[n].size);
        assert_int_equal(a32(p + 20), want[n].type);
    }
    assert_int_equal(n, 3);
    /* Nothing after the last thing taken was touched. */
    assert_int_equal(area_buf[a.used], 0xa5);
}

static void test_mb_info_limits(void **state)
{
    (void)state;
    struct fw_area a;
    u64 info;
    static char longline[3 * MB_CMDLINE_MAX];
    memset(longline, 'x', sizeof(longline) - 1);
    struct mb_info_args args = { .ram_bytes = 64 * MIB, .cmdline = longline };
    /* A command line longer than MB_CMDLINE_MAX is cut there. */
    static u8 big[4 * MB_CMDLINE_MAX];
    fw_area_init(&a, big, sizeof(big), AREA_GPA);
    assert_int_equal(fw_mb_info_build(&a, &args, &info), 0);
    u32 cl;
    memcpy(&cl, big + info - AREA_GPA + 16, 4);
    assert_int_equal(strlen((const char *)big + cl - AREA_GPA), MB_CMDLINE_MAX);
    /* No command line: "" is still given (flag 2 set). */
    args.cmdline = NULL;
    area(&a, AREA_SIZE);
    assert_int_equal(fw_mb_info_build(&a, &args, &info), 0);
    assert_int_equal(a32(info) & (1u << 2), 1u << 2);
    assert_string_equal((const char *)at(a32(info + 16), 1), "");
    /* Too small an area, a module above 4 GiB, a bad RAM size. */
    args.cmdline = "a";
    area(&a, AREA_SIZE);
    assert_int_equal(fw_mb_info_build(&a, &args, &info), 0);
    size_t need = a.used;
    for (size_t sz = 0; sz < need; sz++) {
        area(&a, sz);
        assert_int_equal(fw_mb_info_build(&a, &args, &info), -KILN_E2BIG);
        assert_int_equal(area_buf[sz], 0xa5);
    }
    struct mb_module_desc high = { 0xfffff000ull, 0x100001000ull, "x" };
    args.mods = &high;
    args.nr_mods = 1;
    area(&a, AREA_SIZE);
    assert_int_equal(fw_mb_info_build(&a, &args, &info), -KILN_EINVAL);
    args.nr_mods = 0;
    args.ram_bytes = MIB;
    assert_int_equal(fw_mb_info_build(&a, &args, &info), -KILN_EINVAL);
}

/* ---- PVH ------------------------------------------------------------------ */

static void test_pvh_start_info(void **state)
{
    (void)state;
    struct fw_area a;
    u64 info;
    struct mb_module_desc mod = { 0x400000, 0x480000, "ramdisk" };
    struct pvh_args args = { .ram_bytes = 128 * MIB, .rsdp = 0xe0000, .cmdline = "console=ttyS0",
                             .mods = &mod, .nr_mods = 1 };
    area(&a, AREA_SIZE);
    assert_int_equal(fw_pvh_build(&a, &args, &info), 0);
    assert_int_equal(sizeof(struct hvm_start_info), 56);
    assert_int_equal(a32(info), 0x336ec578u);
    assert_int_equal(a32(info + 4), 1);                        /* version */
    assert_int_equal(a32(info + 12), 1);                       /* nr_modules */
    assert_int_equal(a64(info + 32), 0xe0000);                 /* rsdp_paddr */
    assert_string_equal((const char *)at(a64(info + 24), 14), "console=ttyS0");
    u64 ml = a64(info + 16);
    assert_int_equal(a64(ml), 0x400000);
    assert_int_equal(a64(ml + 8), 0x80000);
    assert_string_equal((const char *)at(a64(ml + 16), 8), "ramdisk");
    u64 mm = a64(info + 40);
    assert_int_equal(a32(info + 48), 3);
    assert_int_equal(a64(mm + 2 * 24), 0x100000);
    assert_int_equal(a64(mm + 2 * 24 + 8), 127 * MIB);
    assert_int_equal(a32(mm + 2 * 24 + 16), 1);
    assert_int_equal(a32(mm + 24 + 16), 2);
    /* No command line: the field says "not present". */
    args.cmdline = NULL;
    args.nr_mods = 0;
    area(&a, AREA_SIZE);
    assert_int_equal(fw_pvh_build(&a, &args, &info), 0);
    assert_int_equal(a64(info + 24), 0);
    assert_int_equal(a64(info + 16), 0);
    area(&a, 60);
    assert_int_equal(fw_pvh_build(&a, &args, &info), -KILN_E2BIG);
}

/* An ELF64 executable with one PT_LOAD (1 MiB, 8 KiB of file) and one
 * PT_NOTE holding the given notes. */
static size_t make_elf64(u8 *img, const u8 *notes, size_t notes_len, u64 entry)
{
    memset(img, 0, 0x3000);
    memcpy(img, "\x7f" "ELF", 4);
    img[4] = 2;
    img[5] = 1;
    u16 type = 2, machine = 62, phentsize = 56, phnum = 2;
    u64 phoff = 64;
    memcpy(img + 16, &type, 2);
    memcpy(img + 18, &machine, 2);
    memcpy(img + 24, &entry, 8);
    memcpy(img + 32, &phoff, 8);
    memcpy(img + 54, &phentsize, 2);
    memcpy(img + 56, &phnum, 2);
    u8 *ph = img + 64;
    u32 pt_load = 1, pt_note = 4;
    u64 off = 0x1000, addr = 0x100000, sz = 0x2000, noff = 0x200, nsz = notes_len;
    memcpy(ph, &pt_load, 4);
    memcpy(ph + 8, &off, 8);
    memcpy(ph + 16, &addr, 8);
    memcpy(ph + 24, &addr, 8);
    memcpy(ph + 32, &sz, 8);
    memcpy(ph + 40, &sz, 8);
    memcpy(ph + 56, &pt_note, 4);
    memcpy(ph + 56 + 8, &noff, 8);
    memcpy(ph + 56 + 32, &nsz, 8);
    memcpy(img + noff, notes, notes_len);
    return 0x3000;
}

static size_t note(u8 *p, const char *name, u32 type, const void *desc, u32 descsz)
{
    u32 namesz = (u32)strlen(name) + 1;
    memcpy(p, &namesz, 4);
    memcpy(p + 4, &descsz, 4);
    memcpy(p + 8, &type, 4);
    memcpy(p + 12, name, namesz);
    size_t d = 12 + ((namesz + 3) & ~3u);
    memcpy(p + d, desc, descsz);
    return d + ((descsz + 3) & ~3u);
}

static void test_pvh_note(void **state)
{
    (void)state;
    static u8 img[0x3000];
    u8 notes[128];
    u32 entry;
    u64 e64 = 0x100040;
    u32 e32 = 0x100080;
    /* A GNU note first, then Xen's PHYS32_ENTRY with an 8-byte value. */
    size_t n = note(notes, "GNU", 3, "abcd", 4);
    n += note(notes + n, "Xen", 18, &e64, 8);
    size_t size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_find_entry(img, size, &entry), 0);
    assert_int_equal(entry, 0x100040);
    struct fw_plan p;
    assert_int_equal(pvh_plan_load(img, size, 16 * MIB, &p), 0);
    assert_int_equal(p.entry, 0x100040);
    assert_int_equal(p.nr_seg, 1);
    /* A 4-byte value works too. */
    n = note(notes, "Xen", 18, &e32, 4);
    size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_find_entry(img, size, &entry), 0);
    assert_int_equal(entry, 0x100080);
    /* Other owners' type 18, other Xen notes: no entry. */
    n = note(notes, "Linux", 18, &e32, 4);
    n += note(notes + n, "Xen", 17, &e32, 4);
    size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_find_entry(img, size, &entry), -KILN_EINVAL);
    /* An entry outside the loaded bytes; a 2-byte value; a note running
     * past its segment. */
    u64 far = 0x900000;
    n = note(notes, "Xen", 18, &far, 8);
    size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_plan_load(img, size, 16 * MIB, &p), -KILN_EINVAL);
    n = note(notes, "Xen", 18, &e32, 2);
    size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_find_entry(img, size, &entry), -KILN_EINVAL);
    n = note(notes, "Xen", 18, &e64, 8);
    u32 huge = 0xfffffff0u;
    memcpy(notes + 4, &huge, 4);
    size = make_elf64(img, notes, n, 0x100000);
    assert_int_equal(pvh_find_entry(img, size, &entry), -KILN_EINVAL);
    /* Not an ELF at all. */
    memset(img, 0, sizeof(img));
    assert_int_equal(pvh_find_entry(img, sizeof(img), &entry), -KILN_EINVAL);
}

/* ---- Linux boot_params ---------------------------------------------------- */

static size_t make_bzimage(u8 *img, size_t size)
{
    memset(img, 0, size);
    img[0x1f1] = 1;                                  /* setup_sects: pm at 0x400 */
    img[0x200] = 0xeb;
    img[0x201] = 0x6a;                               /* header up to 0x26c */
    u32 magic = 0x53726448, align = 0x200000, init = 0x800000, rdmax = 0x7fffffff;
    u16 ver = 0x20f, xlf = 1;
    u64 pref = 0x1000000;
    memcpy(img + 0x202, &magic, 4);
    memcpy(img + 0x206, &ver, 2);
    memcpy(img + 0x22c, &rdmax, 4);
    memcpy(img + 0x230, &align, 4);
    img[0x234] = 1;                                  /* relocatable */
    memcpy(img + 0x236, &xlf, 2);
    memcpy(img + 0x258, &pref, 8);
    memcpy(img + 0x260, &init, 4);
    img[0x26c] = 0x77;                               /* past the header */
    return size;
}

static void test_linux_parse(void **state)
{
    (void)state;
    static u8 img[0x8000];
    struct linux_image li;
    size_t size = make_bzimage(img, sizeof(img));
    assert_true(linux_is_bzimage_64(img, size));
    assert_int_equal(linux_parse_bzimage(img, size, &li), 0);
    assert_int_equal(li.pm_offset, 0x400);
    assert_int_equal(li.pm_size, sizeof(img) - 0x400);
    assert_int_equal(li.hdr_end, 0x26c);
    assert_int_equal(li.align, 0x200000);
    assert_int_equal(li.version, 0x20f);
    /* Each broken field alone is refused. */
    struct { u32 off; u8 val; } bad[] = {
        { 0x202, 'X' },      /* magic */
        { 0x234, 0 },        /* not relocatable */
        { 0x231, 0x10 },     /* alignment 0x100000 | 0x200000: not a power of two */
        { 0x236, 0 },        /* no 64-bit entry */
        { 0x201, 0xff },     /* header past what boot_params holds */
        { 0x1f1, 0x7f },     /* setup beyond the file */
        { 0x262, 0 },        /* init_size 0: below the kernel's size */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        make_bzimage(img, size);
        if (bad[i].off == 0x262) {
            u32 z = 0x10;
            memcpy(img + 0x260, &z, 4);
        } else {
            img[bad[i].off] = bad[i].val;
        }
        assert_int_equal(linux_parse_bzimage(img, size, &li), -KILN_EINVAL);
    }
    assert_int_equal(linux_parse_bzimage(img, 0x1000, &li), -KILN_EINVAL);
}

static void test_linux_boot_params(void **state)
{
    (void)state;
    static u8 img[0x8000], bp[BP_SIZE];
    struct linux_image li;
    struct e820_entry e[3];
    size_t size = make_bzimage(img, sizeof(img));
    assert_int_equal(linux_parse_bzimage(img, size, &li), 0);
    fw_e820_build(64 * MIB, e, 3);
    struct linux_bp_args a = { .cmdline = 0x11000, .ramdisk = 0x123456789000ull,
                               .ramdisk_size = 0x100000002ull, .rsdp = 0xe0000,
                               .e820 = e, .nr_e820 = 3 };
    memset(bp, 0xa5, sizeof(bp));
    assert_int_equal(linux_build_boot_params(bp, img, &li, &a), 0);
    u32 v32;
    u64 v64;
    /* The header as in the image, but for the fields the loader fills. */
    assert_memory_equal(bp + 0x1f1, img + 0x1f1, 0x210 - 0x1f1);
    assert_memory_equal(bp + 0x22c, img + 0x22c, 0x26c - 0x22c);
    assert_int_equal(bp[0x26c], 0);                                  /* nothing past it */
    assert_int_equal(bp[0x210], 0xff);                               /* type_of_loader */
    memcpy(&v32, bp + 0x228, 4);
    assert_int_equal(v32, 0x11000);
    memcpy(&v32, bp + 0x218, 4);
    assert_int_equal(v32, 0x56789000);
    memcpy(&v32, bp + 0xc0, 4);
    assert_int_equal(v32, 0x1234);
    memcpy(&v32, bp + 0x21c, 4);
    assert_int_equal(v32, 2);
    memcpy(&v32, bp + 0xc4, 4);
    assert_int_equal(v32, 1);
    memcpy(&v64, bp + 0x70, 8);
    assert_int_equal(v64, 0xe0000);                                  /* acpi_rsdp_addr */
    assert_int_equal(bp[0x1e8], 3);
    assert_memory_equal(bp + 0x2d0, e, sizeof(e));
    a.nr_e820 = BP_E820_MAX + 1;
    assert_int_equal(linux_build_boot_params(bp, img, &li, &a), -KILN_E2BIG);
}

static void test_linux_page_tables(void **state)
{
    (void)state;
    static u64 pt[LINUX_PT_PAGES * 512];
    assert_int_equal(linux_build_page_tables(pt, 0x12000), 0x12000);
    assert_int_equal(pt[0], 0x13000 | 3);
    assert_int_equal(pt[1], 0);
    for (u64 g = 0; g < 4; g++) {
        assert_int_equal(pt[512 + g], (0x14000 + g * 4096) | 3);
        u64 *pd = pt + (2 + g) * 512;
        assert_int_equal(pd[0], (g << 30) | 0x83);
        assert_int_equal(pd[511], ((g << 30) + (511ull << 21)) | 0x83);
    }
    assert_int_equal(pt[512 + 4], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fw_alloc),
        cmocka_unit_test(test_e820),
        cmocka_unit_test(test_mb_info),
        cmocka_unit_test(test_mb_info_limits),
        cmocka_unit_test(test_pvh_start_info),
        cmocka_unit_test(test_pvh_note),
        cmocka_unit_test(test_linux_parse),
        cmocka_unit_test(test_linux_boot_params),
        cmocka_unit_test(test_linux_page_tables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
