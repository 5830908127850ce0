/*
 * test_dom0.c - unit tests of dom0's memory set (common/dom0_mem.c) and the
 * Linux boot protocol loader (arch/x86/dom0_linux.c).
 *
 * A host buffer stands in for the low FAKE_MIB of physical memory, the
 * firmware map is QEMU's for a 1 GiB machine, and a fake allocator knows
 * which pages are free, so the tests check what dom0 is really given: its
 * RAM ranges, the e820 map Linux will trust (exactly its RAM as RAM, every
 * other byte of RAM reserved), the zero page fields and where the kernel
 * lands.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../common/dom0_mem.c"
#include "../arch/x86/hvm/firmware/linux_boot.c"
#include "../arch/x86/dom0_linux.c"
#include "qemu_memmap.h"

#define FAKE_MIB   96ul
#define NPFN       (TOP >> PAGE_SHIFT)

unsigned char *kiln_test_phys_base;

/* ---- fakes --------------------------------------------------------------- */

void printk(enum log_level level, const char *fmt, ...)
{
    (void)level;
    (void)fmt;
}


unsigned int boot_memmap_count(void) { return QEMU_MAP_ENTRIES; }
const struct boot_mem_range *boot_memmap_get(unsigned int i)
{
    return i < QEMU_MAP_ENTRIES ? &qemu_map[i] : NULL;
}

static const char *opt_dom0_mem;
const char *cmdline_get(const char *key)
{
    return !kstrcmp(key, "dom0_mem") ? opt_dom0_mem : NULL;
}

/* The allocator: a page is free when free_map says so. */
static unsigned char free_map[NPFN];
static u64 total_pages;

u64 mm_total_pages(void) { return total_pages; }

u64 mm_claim_range(paddr_t start, paddr_t end, claim_fn_t fn, void *arg)
{
    u64 s = start >> PAGE_SHIFT, e = end >> PAGE_SHIFT, n = 0;
    if (e > NPFN)
        e = NPFN;
    for (u64 p = s; p < e;) {
        if (!free_map[p]) {
            p++;
            continue;
        }
        u64 q = p;
        while (q < e && free_map[q])
            free_map[q++] = 0;
        fn(p, q, arg);
        n += q - p;
        p = q;
    }
    return n;
}

void mm_free_range(paddr_t start, paddr_t end)
{
    for (u64 p = start >> PAGE_SHIFT; p < end >> PAGE_SHIFT; p++) {
        assert_false(free_map[p]);
        free_map[p] = 1;
    }
}

/* Free: all RAM from 1 MiB except the image/bitmaps and the modules, and a
 * scattered hypervisor page every 64 MiB. */
#define IMG_END   0x180000ul
#define KMOD      0x200000ul
#define KMOD_END  0x290000ul   /* room for the fake image */
#define PAYLOAD   0x20000ul
#define INIT_SIZE (8ul << 20)
#define RD        0x300000ul
#define RD_END    0x340800ul
static void fake_allocator(void)
{
    total_pages = 0;
    for (u64 p = 0; p < NPFN; p++) {
        paddr_t a = p << PAGE_SHIFT;
        bool module = (a >= KMOD && a < ALIGN_UP(KMOD + 5 * 512 + PAYLOAD, PAGE_SIZE)) ||
                      (a >= RD && a < ALIGN_UP(RD_END, PAGE_SIZE));
        free_map[p] = a >= IMG_END && !module && (p % 16384) != 5000;
        total_pages += free_map[p];
    }
}

/* A minimal bzImage: setup header fields at their offsets, 4 setup sectors,
 * then a payload with a recognisable pattern. */
static void fake_bzimage(u8 *img, u8 relocatable)
{
    kmemset(img, 0, KMOD_END - KMOD);
    img[HDR_SETUP_SECTS] = 4;
    img[HDR_JUMP] = 0xeb;
    img[HDR_JUMP + 1] = 0x6a;                       /* header up to 0x26c */
    u32 magic = HDRS_MAGIC, align = 0x200000, init = INIT_SIZE, rdmax = 0x7fffffff, cls = 2047;
    u16 ver = 0x20f, xlf = XLF_KERNEL_64;
    u64 pref = 0x1000000;
    kmemcpy(img + HDR_MAGIC, &magic, 4);
    kmemcpy(img + HDR_VERSION, &ver, 2);
    kmemcpy(img + HDR_KERNEL_ALIGN, &align, 4);
    img[HDR_RELOCATABLE] = relocatable;
    kmemcpy(img + HDR_XLOADFLAGS, &xlf, 2);
    kmemcpy(img + HDR_INITRD_MAX, &rdmax, 4);
    kmemcpy(img + HDR_CMDLINE_SIZE, &cls, 4);
    kmemcpy(img + HDR_PREF_ADDRESS, &pref, 8);
    kmemcpy(img + HDR_INIT_SIZE, &init, 4);
    for (u64 i = 5 * 512; i < 5 * 512 + PAYLOAD; i++)
        img[i] = (u8)(i * 7);
}

static struct boot_module kmod = { KMOD, KMOD + 5 * 512 + PAYLOAD, "vmlinuz console=ttyS0 quiet" };
static struct boot_module rdmod = { RD, RD_END, "initramfs.cpio.xz" };

static int setup(void **state)
{
    (void)state;
    kiln_test_phys_base = aligned_alloc(PAGE_SIZE, FAKE_MIB << 20);
    if (!kiln_test_phys_base)
        return -1;
    kmemset(kiln_test_phys_base, 0xcc, FAKE_MIB << 20);
    fake_allocator();
    fake_bzimage(phys_to_virt(KMOD), 1);
    opt_dom0_mem = NULL;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(kiln_test_phys_base);
    return 0;
}

/* dom0's RAM as dom0.c collects it: low memory, modules, then claims. */
static void collect(struct dom0_mem *m, u64 target)
{
    kmemset(m, 0, sizeof(*m));
    assert_int_equal(dom0_mem_add(m, 0, 0x9f000), 0);
    assert_int_equal(dom0_mem_add(m, KMOD, ALIGN_UP(kmod.end, PAGE_SIZE)), 0);
    assert_int_equal(dom0_mem_add(m, RD, ALIGN_UP(RD_END, PAGE_SIZE)), 0);
    dom0_mem_claim(m, target);
}

/* ---- dom0_mem ------------------------------------------------------------ */

static void test_add_merges_and_sorts(void **state)
{
    (void)state;
    struct dom0_mem m = { 0 };
    assert_int_equal(dom0_mem_add(&m, 0x5000, 0x6000), 0);
    assert_int_equal(dom0_mem_add(&m, 0x1000, 0x2000), 0);
    assert_int_equal(dom0_mem_add(&m, 0x3000, 0x4000), 0);
    assert_int_equal(m.nr, 3);
    assert_true(m.r[0].start == 0x1000 && m.r[1].start == 0x3000 && m.r[2].start == 0x5000);
    assert_int_equal(dom0_mem_add(&m, 0x2000, 0x3000), 0);    /* touches both neighbours */
    assert_int_equal(m.nr, 2);
    assert_true(m.r[0].start == 0x1000 && m.r[0].end == 0x4000);
    assert_int_equal(dom0_mem_add(&m, 0x3800, 0x7000), 0);    /* overlaps, swallows r[1] */
    assert_int_equal(m.nr, 1);
    assert_true(m.r[0].start == 0x1000 && m.r[0].end == 0x7000);
    assert_int_equal(m.pages, 6);
    assert_int_equal(dom0_mem_add(&m, 0x9000, 0x9000), 0);    /* empty: nothing */
    assert_int_equal(m.nr, 1);
}

static void test_add_full(void **state)
{
    (void)state;
    struct dom0_mem m = { 0 };
    for (unsigned int i = 0; i < DOM0_MAX_RANGES; i++)
        assert_int_equal(dom0_mem_add(&m, i * 0x2000, i * 0x2000 + 0x1000), 0);
    assert_int_equal(dom0_mem_add(&m, 0x1000000, 0x1001000), -KILN_E2BIG);
    /* Merging still works when full. */
    assert_int_equal(dom0_mem_add(&m, 0x1000, 0x2000), 0);
    assert_int_equal(m.nr, DOM0_MAX_RANGES - 1);
}

static void test_covers(void **state)
{
    (void)state;
    struct mem_range r[] = { { 0x1000, 0x3000 }, { 0x3000, 0x5000 }, { 0x8000, 0x9000 } };
    assert_true(dom0_mem_covers(r, 3, 0x1000, 0x3000));
    assert_true(dom0_mem_covers(r, 3, 0x8fff, 0x9000));
    assert_false(dom0_mem_covers(r, 3, 0x8fff, 0x9001));
    assert_false(dom0_mem_covers(r, 3, 0x0fff, 0x1001));
    assert_false(dom0_mem_covers(r, 3, 0x6000, 0x6001));
    assert_false(dom0_mem_covers(r, 3, 0x2000, 0x1000));       /* wrapped */
}

static void test_target(void **state)
{
    (void)state;
    assert_int_equal(dom0_mem_target(), total_pages / 2);
    opt_dom0_mem = "256M";
    assert_int_equal(dom0_mem_target(), (256ul << 20) >> PAGE_SHIFT);
    opt_dom0_mem = "1M";                                       /* too small: default */
    assert_int_equal(dom0_mem_target(), total_pages / 2);
    opt_dom0_mem = "garbage";
    assert_int_equal(dom0_mem_target(), total_pages / 2);
    opt_dom0_mem = "64G";                                      /* more than there is */
    assert_int_equal(dom0_mem_target(), total_pages - DOM0_HV_MIN_PAGES);
}

static void test_claim_lowest_first(void **state)
{
    (void)state;
    struct dom0_mem m;
    u64 want = (256ul << 20) >> PAGE_SHIFT;
    collect(&m, want);
    assert_false(m.full);
    assert_true(m.pages >= want && m.pages < want + 16);
    /* Everything claimed is gone from the allocator, the hypervisor's pages
     * (image, the scattered one at 5000) are not dom0's. */
    for (unsigned int i = 0; i < m.nr; i++)
        for (paddr_t a = m.r[i].start; a < m.r[i].end; a += PAGE_SIZE)
            assert_false(free_map[a >> PAGE_SHIFT] && a >= 0x100000);
    assert_false(dom0_mem_covers(m.r, m.nr, 0x100000, 0x101000));
    assert_false(dom0_mem_covers(m.r, m.nr, 5000ul << PAGE_SHIFT, (5001ul << PAGE_SHIFT)));
    assert_true(dom0_mem_covers(m.r, m.nr, IMG_END, 5000ul << PAGE_SHIFT));
    /* Lowest first: what stays free starts where dom0's RAM ends. */
    paddr_t top = m.r[m.nr - 1].end;
    assert_true(top < (300ul << 20));
    for (paddr_t a = IMG_END; a < top; a += PAGE_SIZE)
        assert_false(free_map[a >> PAGE_SHIFT]);
    assert_true(free_map[top >> PAGE_SHIFT]);
}

/* ---- the Linux boot protocol -------------------------------------------- */

static const struct e820_entry *zp_e820(unsigned int *n)
{
    u8 *zp = phys_to_virt(ZP_ADDR);
    *n = zp[BP_E820_ENTRIES];
    return (const struct e820_entry *)(zp + BP_E820_TABLE);
}

static void test_bzimage_detection(void **state)
{
    (void)state;
    assert_true(linux_is_bzimage(&kmod));
    u8 *img = phys_to_virt(KMOD);
    img[HDR_MAGIC] = 'X';
    assert_false(linux_is_bzimage(&kmod));
    img[HDR_MAGIC] = 'H';
    u16 old = 0x20b;
    kmemcpy(img + HDR_VERSION, &old, 2);                       /* no 64-bit entry yet */
    assert_false(linux_is_bzimage(&kmod));
    assert_false(linux_is_bzimage(&rdmod));
}

static void test_load(void **state)
{
    (void)state;
    struct dom0_mem m;
    collect(&m, (256ul << 20) >> PAGE_SHIFT);
    struct linux_boot lb = { .kernel = &kmod, .initrd = &rdmod, .cmdline = "console=ttyS0 quiet" };
    assert_int_equal(linux_load(&lb, &m), 0);

    /* Entry: the payload copied to a 2 MiB-aligned address >= 16 MiB with
     * init_size of dom0 RAM there, clear of both modules. */
    u64 load = lb.entry - 0x200;
    assert_int_equal(load % 0x200000, 0);
    assert_true(load >= 0x1000000);
    assert_true(dom0_mem_covers(m.r, m.nr, load, load + INIT_SIZE));
    assert_int_equal(kmemcmp(phys_to_virt(load), phys_to_virt(KMOD + 5 * 512), PAYLOAD), 0);
    assert_int_equal(lb.zero_page, ZP_ADDR);

    u8 *zp = phys_to_virt(ZP_ADDR);
    assert_int_equal(zp[HDR_TYPE_OF_LOADER], 0xff);
    assert_int_equal(get32(zp, HDR_MAGIC), HDRS_MAGIC);
    assert_int_equal(get32(zp, HDR_INIT_SIZE), INIT_SIZE);
    assert_int_equal(get32(zp, HDR_RAMDISK_IMAGE), RD);
    assert_int_equal(get32(zp, HDR_RAMDISK_SIZE), RD_END - RD);
    assert_string_equal((const char *)phys_to_virt(get32(zp, HDR_CMD_LINE_PTR)), "console=ttyS0 quiet");
    assert_int_equal(zp[0x1ef], 0);                            /* sentinel */

    /* Page tables: 0..4 GiB identity in 2 MiB pages from cr3. */
    u64 *pml4 = phys_to_virt(lb.cr3);
    u64 *pdpt = phys_to_virt(pml4[0] & ~0xfffull);
    u64 *pd3 = phys_to_virt(pdpt[3] & ~0xfffull);
    assert_int_equal(pd3[511] & ~0xfffull, 0xffe00000ull);
    assert_true((pd3[511] & (BOOT_PTE_P | BOOT_PTE_PS)) == (BOOT_PTE_P | BOOT_PTE_PS));
}

static void test_e820_exactly_dom0s(void **state)
{
    (void)state;
    struct dom0_mem m;
    collect(&m, (256ul << 20) >> PAGE_SHIFT);
    struct linux_boot lb = { .kernel = &kmod, .initrd = &rdmod, .cmdline = "" };
    assert_int_equal(linux_load(&lb, &m), 0);
    unsigned int n;
    const struct e820_entry *e = zp_e820(&n);
    u64 ram = 0;
    assert_true(n > 0);
    for (unsigned int i = 0; i < n; i++) {
        if (i)   /* sorted, no overlaps, neighbours of one type merged */
            assert_true(e[i].addr >= e[i - 1].addr + e[i - 1].size &&
                        !(e[i].addr == e[i - 1].addr + e[i - 1].size && e[i].type == e[i - 1].type));
        if (e[i].type == 1) {
            assert_true(dom0_mem_covers(m.r, m.nr, e[i].addr, e[i].addr + e[i].size));
            ram += e[i].size;
        }
    }
    assert_int_equal(ram >> PAGE_SHIFT, m.pages);
    /* The hypervisor's image and the top of RAM are there, but reserved. */
    bool img = false, top = false;
    for (unsigned int i = 0; i < n; i++) {
        if (e[i].type == 2 && e[i].addr <= 0x100000 && e[i].addr + e[i].size >= IMG_END)
            img = true;
        if (e[i].type == 2 && e[i].addr < TOP && e[i].addr + e[i].size >= TOP)
            top = true;
    }
    assert_true(img && top);
}

static void test_load_refusals(void **state)
{
    (void)state;
    struct dom0_mem m;
    struct linux_boot lb = { .kernel = &kmod, .initrd = &rdmod, .cmdline = "" };

    collect(&m, (256ul << 20) >> PAGE_SHIFT);
    fake_bzimage(phys_to_virt(KMOD), 0);
    assert_int_equal(linux_load(&lb, &m), -KILN_EINVAL);       /* not relocatable */

    fake_bzimage(phys_to_virt(KMOD), 1);
    struct dom0_mem small = { 0 };
    assert_int_equal(dom0_mem_add(&small, 0, 0x9f000), 0);
    assert_int_equal(dom0_mem_add(&small, 0x1000000, 0x1400000), 0);
    assert_int_equal(linux_load(&lb, &small), -KILN_ENOMEM);   /* no window for init_size */

    struct dom0_mem nolow = { 0 };
    assert_int_equal(dom0_mem_add(&nolow, 0x1000000, 0x8000000), 0);
    assert_int_equal(linux_load(&lb, &nolow), -KILN_ENOMEM);   /* nothing below 1 MiB */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_merges_and_sorts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_covers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_claim_lowest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bzimage_detection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_e820_exactly_dom0s, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_refusals, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
