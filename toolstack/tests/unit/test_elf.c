/*
 * test_elf.c - the builder's ELF reader: real images made by the assembler
 * and linker (hello64.elf, hello32.elf), and hand-made malformed ones that must be
 * refused without reading outside the file.
 */
#include <elf.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "kiln_elf.h"

static struct kiln_elf_image img;
static char err[256];

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    unsigned char *data = malloc(1 << 20);

    assert_non_null(f);
    assert_non_null(data);
    *size = fread(data, 1, 1 << 20, f);
    fclose(f);
    return data;
}

static void real_elf64(void **state)
{
    size_t size, with_bss = 0;
    unsigned char *data = read_file(GUEST64, &size);

    (void)state;
    assert_int_equal(kiln_elf_parse(data, size, &img, err, sizeof(err)), 0);
    assert_int_equal(img.is64, 1);
    assert_int_equal(img.entry, 0x100000);
    assert_true(img.n_segments >= 2);
    for (size_t i = 0; i < img.n_segments; i++) {
        if (i)
            assert_true(img.seg[i - 1].paddr + img.seg[i - 1].memsz <= img.seg[i].paddr);
        if (img.seg[i].memsz >= img.seg[i].filesz + 8192)
            with_bss++;
    }
    assert_int_equal(with_bss, 1);   /* hello64.S's .bss */
    free(data);
}

static void real_elf32(void **state)
{
    size_t size;
    unsigned char *data = read_file(GUEST32, &size);

    (void)state;
    assert_int_equal(kiln_elf_parse(data, size, &img, err, sizeof(err)), 0);
    assert_int_equal(img.is64, 0);
    assert_int_equal(img.entry, 0x100000);
    free(data);
}

/* A hand-made ELF64: header, program headers at 64, data from 0x1000. */
static unsigned char raw[0x3000];

static void make64(const Elf64_Phdr *ph, int n)
{
    Elf64_Ehdr eh = { 0 };

    memset(raw, 0xab, sizeof(raw));
    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    eh.e_type = ET_EXEC;
    eh.e_machine = EM_X86_64;
    eh.e_version = EV_CURRENT;
    eh.e_entry = 0x100010;
    eh.e_phoff = sizeof(eh);
    eh.e_ehsize = sizeof(eh);
    eh.e_phentsize = sizeof(Elf64_Phdr);
    eh.e_phnum = (uint16_t)n;
    memcpy(raw, &eh, sizeof(eh));
    if (n)
        memcpy(raw + sizeof(eh), ph, n * sizeof(*ph));
}

static Elf64_Ehdr *ehdr(void)
{
    return (Elf64_Ehdr *)raw;
}

static const Elf64_Phdr text = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_paddr = 0x100000,
                                 .p_filesz = 0x100, .p_memsz = 0x100 };
static const Elf64_Phdr data = { .p_type = PT_LOAD, .p_offset = 0x2000, .p_paddr = 0x200000,
                                 .p_filesz = 0x10, .p_memsz = 0x3000 };

static void expect_refused(int code, const char *message)
{
    err[0] = '\0';
    assert_int_equal(kiln_elf_parse(raw, sizeof(raw), &img, err, sizeof(err)), code);
    assert_string_equal(err, message);
}

static void handmade_segments_sorted(void **state)
{
    Elf64_Phdr ph[3] = { data, { .p_type = PT_NOTE }, text };

    (void)state;
    make64(ph, 3);
    assert_int_equal(kiln_elf_parse(raw, sizeof(raw), &img, err, sizeof(err)), 0);
    assert_int_equal(img.n_segments, 2);
    assert_int_equal(img.seg[0].paddr, 0x100000);
    assert_int_equal(img.seg[1].paddr, 0x200000);
    assert_int_equal(img.seg[1].memsz, 0x3000);
    assert_int_equal(img.seg[1].filesz, 0x10);
}

static void refuses_what_is_not_an_x86_executable(void **state)
{
    (void)state;
    make64(&text, 1);
    raw[1] = 'X';
    expect_refused(-ENOEXEC, "not an ELF file");
    make64(&text, 1);
    raw[EI_DATA] = ELFDATA2MSB;
    expect_refused(-ENOEXEC, "not a little-endian ELF file");
    make64(&text, 1);
    ehdr()->e_type = ET_DYN;
    expect_refused(-ENOEXEC, "ELF type 3 is not an executable");
    make64(&text, 1);
    ehdr()->e_machine = EM_AARCH64;
    expect_refused(-ENOEXEC, "ELF machine 183 is not x86 (expected x86-64)");
    make64(&text, 1);
    assert_int_equal(kiln_elf_parse(raw, 40, &img, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "truncated ELF header");
}

static void refuses_bad_program_headers(void **state)
{
    (void)state;
    make64(&text, 1);
    ehdr()->e_phoff = sizeof(raw) - 8;
    expect_refused(-EINVAL, "program headers lie outside the file");
    make64(&text, 1);
    ehdr()->e_phoff = UINT64_MAX - 8;
    expect_refused(-EINVAL, "program headers lie outside the file");
    make64(&text, 1);
    ehdr()->e_phentsize = 32;
    expect_refused(-EINVAL, "program header size 32 is wrong");
    make64(NULL, 0);
    expect_refused(-EINVAL, "no loadable segment");
}

static void refuses_bad_segments(void **state)
{
    Elf64_Phdr ph[2];

    (void)state;
    ph[0] = text;
    ph[0].p_filesz = 0x3000;   /* runs past the end of the file */
    make64(ph, 1);
    expect_refused(-EINVAL, "segment 0 lies outside the file");
    ph[0] = text;
    ph[0].p_offset = UINT64_MAX - 0x10;   /* offset + size overflows */
    make64(ph, 1);
    expect_refused(-EINVAL, "segment 0 lies outside the file");
    ph[0] = text;
    ph[0].p_memsz = 0x10;
    make64(ph, 1);
    expect_refused(-EINVAL, "segment 0: file size exceeds memory size");
    ph[0] = text;
    ph[0].p_paddr = UINT64_MAX - 0x10;
    make64(ph, 1);
    expect_refused(-EINVAL, "segment 0 wraps around the address space");
    ph[0] = text;
    ph[1] = data;
    ph[1].p_paddr = 0x1000f0;   /* overlaps text */
    make64(ph, 2);
    expect_refused(-EINVAL, "segments at 0x100000 and 0x1000f0 overlap");
    ph[0] = data;
    make64(ph, 1);   /* entry 0x100010 is not in data */
    expect_refused(-EINVAL, "entry point 0x100010 is in no loadable segment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(real_elf64),
        cmocka_unit_test(real_elf32),
        cmocka_unit_test(handmade_segments_sorted),
        cmocka_unit_test(refuses_what_is_not_an_x86_executable),
        cmocka_unit_test(refuses_bad_program_headers),
        cmocka_unit_test(refuses_bad_segments),
    };
    return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
