/*
 * test_builder.c - the domain builder, against the fake hypervisor: the
 * guest's memory and registers after a build of the real test-guest images,
 * and the all-or-nothing rule when a step fails.
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
#include "fake_kiln.h"
#include "kiln_builder.h"
#include "kiln_elf.h"

static struct fake F;
static struct kiln_config cfg;
static char err[512];

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

static int setup(void **state)
{
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.name, "hello");
    strcpy(cfg.kernel, GUEST64);
    strcpy(cfg.cmdline, "test=builder");
    cfg.memory_mib = 4;
    cfg.vcpus = 2;
    cfg.weight = 300;
    cfg.cap = 20;
    *state = fake_open(&F);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_close(*state, &F);
    return 0;
}

/* Guest RAM holds exactly the image's segments, zero-filled past filesz,
 * written with one WRITE_MEM per page that holds file bytes (plus one for
 * the command line): pure-bss pages are left to the hypervisor's zeroing. */
static void check_segments(const unsigned char *file, size_t size)
{
    struct kiln_elf_image img;
    size_t pages = 0;

    assert_int_equal(kiln_elf_parse(file, size, &img, err, sizeof(err)), 0);
    for (size_t i = 0; i < img.n_segments; i++) {
        const struct kiln_elf_segment *s = &img.seg[i];
        assert_memory_equal(F.ram + s->paddr, file + s->offset, s->filesz);
        for (uint64_t b = s->filesz; b < s->memsz; b++)
            assert_int_equal(F.ram[s->paddr + b], 0);
    }
    for (uint64_t pg = 0; pg < FAKE_RAM; pg += 4096) {
        for (size_t i = 0; i < img.n_segments; i++) {
            const struct kiln_elf_segment *s = &img.seg[i];
            if (s->filesz && s->paddr < pg + 4096 && s->paddr + s->filesz > pg) {
                pages++;
                break;
            }
        }
    }
    assert_int_equal(fake_count(&F, KILN_DOMCTL_WRITE_MEM), pages + 1);
}

/* The registers every vCPU got: 32-bit flat entry, RAM KiB, vCPU number. */
static void check_vcpus(uint64_t entry, uint32_t vcpus)
{
    const uint64_t cmdline = (4 << 20) - 4096;
    size_t seen = 0;

    for (size_t i = 0; i < F.n_calls; i++) {
        const struct kiln_domctl *d = &F.calls[i].domctl;
        if (F.calls[i].op != KILN_HC_DOMCTL || d->cmd != KILN_DOMCTL_SET_VCPU)
            continue;
        assert_int_equal(d->u.vcpu.vcpu, seen);
        assert_int_equal(d->u.vcpu.rip, entry);
        assert_int_equal(d->u.vcpu.cr3, 0);
        assert_int_equal(d->u.vcpu.rdi, 4096);      /* RAM in KiB */
        assert_int_equal(d->u.vcpu.rsi, seen);      /* vCPU number */
        assert_int_equal(d->u.vcpu.rsp, cmdline);
        seen++;
    }
    assert_int_equal(seen, vcpus);
    assert_string_equal((char *)F.ram + cmdline, "test=builder");
}

static void builds_elf64_guest(void **state)
{
    size_t size;
    unsigned char *file = read_file(GUEST64, &size);
    uint32_t domid = 0;

    cfg.cpus = 0x6;
    cfg.n_cpuid = 1;
    cfg.cpuid[0] = (struct kiln_domctl_cpuid){ .leaf = 1, .eax = ~0u, .ebx = ~0u, .ecx = 0x7fffffff, .edx = ~0u };
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), 0);
    assert_int_equal(domid, 1);
    assert_int_equal(F.calls[0].domctl.cmd, KILN_DOMCTL_CREATE);
    assert_int_equal(F.calls[0].domctl.u.create.memory_kib, 4096);
    assert_int_equal(F.calls[0].domctl.u.create.vcpus, 2);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_SCHED_SET), 1);
    assert_int_equal(F.doms[1].weight, 300);
    assert_int_equal(F.doms[1].cap, 20);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_VCPU_PIN), 2);   /* each vCPU */
    assert_int_equal(fake_count(&F, KILN_DOMCTL_SET_CPUID), 1);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_UNPAUSE), 0);   /* left paused */
    assert_int_equal(fake_count(&F, KILN_DOMCTL_DESTROY), 0);
    check_segments(file, size);
    check_vcpus(0x100000, 2);
    free(file);
}

static void builds_elf32_guest(void **state)
{
    size_t size;
    unsigned char *file = read_file(GUEST32, &size);
    uint32_t domid = 0;

    cfg.vcpus = 1;
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), 0);
    check_segments(file, size);
    check_vcpus(0x100000, 1);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_VCPU_PIN), 0);   /* cpus = any */
    free(file);
}

static void failed_step_destroys_the_domain(void **state)
{
    size_t size;
    unsigned char *file = read_file(GUEST64, &size);
    struct kiln_dominfo d;
    uint32_t domid = 77;

    F.fail_cmd = KILN_DOMCTL_SET_VCPU;
    F.fail_result = -KILN_EINVAL;
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "setting the vCPUs' registers: Invalid argument");
    assert_int_equal(domid, 77);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_DESTROY), 1);
    assert_int_equal(kiln_domain_info(*state, 1, &d), -ESRCH);

    F.fail_cmd = KILN_DOMCTL_WRITE_MEM;
    F.fail_result = -KILN_EFAULT;
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), -EFAULT);
    assert_string_equal(err, "loading the image: Bad address");
    assert_int_equal(fake_count(&F, KILN_DOMCTL_DESTROY), 2);
    assert_int_equal(kiln_domain_list(*state, &d, 1), 1);   /* only dom0 left */
    free(file);
}

/* An ELF64 whose only segment and entry are at 4 GiB. */
static unsigned char high[0x200];

static void make_high(void)
{
    Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                      .e_entry = 0x100000000ull, .e_phoff = sizeof(Elf64_Ehdr),
                      .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 };
    Elf64_Phdr ph = { .p_type = PT_LOAD, .p_offset = 0x100, .p_paddr = 0x100000000ull,
                      .p_filesz = 0x10, .p_memsz = 0x10 };

    memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = ELFCLASS64;
    eh.e_ident[EI_DATA] = ELFDATA2LSB;
    eh.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(high, &eh, sizeof(eh));
    memcpy(high + sizeof(eh), &ph, sizeof(ph));
}

static void refused_before_creating_anything(void **state)
{
    size_t size;
    unsigned char *file = read_file(GUEST64, &size);
    uint32_t domid;

    make_high();
    cfg.memory_mib = 1;   /* the image sits at 1 MiB: no room */
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), -E2BIG);
    assert_non_null(strstr(err, "does not fit below"));
    cfg.memory_mib = 8192;
    assert_int_equal(kiln_build_domain(*state, &cfg, high, sizeof(high), &domid, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "entry point 0x100000000 is above 4 GiB (vCPUs start in 32-bit mode)");
    assert_int_equal(kiln_build_domain(*state, &cfg, "garbage", 7, &domid, err, sizeof(err)), -ENOEXEC);
    assert_string_equal(err, "not an ELF file");
    cfg.type = KILN_GUEST_LINUX;
    assert_int_equal(kiln_build_domain(*state, &cfg, file, size, &domid, err, sizeof(err)), -ENOTSUP);
    assert_string_equal(err, "type \"linux\" guests cannot be built yet "
                        "(only ELF test guests and Multiboot1 kernels)");
    cfg.type = KILN_GUEST_ELF;
    assert_int_equal(F.n_calls, 0);
    free(file);
}

static void file_errors_name_the_image(void **state)
{
    uint32_t domid;

    strcpy(cfg.kernel, "/nonexistent/guest.elf");
    assert_int_equal(kiln_build_domain_file(*state, &cfg, &domid, err, sizeof(err)), -ENOENT);
    assert_string_equal(err, "/nonexistent/guest.elf: No such file or directory");
    strcpy(cfg.kernel, "/etc/passwd");
    assert_int_equal(kiln_build_domain_file(*state, &cfg, &domid, err, sizeof(err)), -ENOEXEC);
    assert_string_equal(err, "/etc/passwd: not an ELF file");
    strcpy(cfg.kernel, GUEST64);
    assert_int_equal(kiln_build_domain_file(*state, &cfg, &domid, err, sizeof(err)), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(builds_elf64_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(builds_elf32_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_step_destroys_the_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_before_creating_anything, setup, teardown),
        cmocka_unit_test_setup_teardown(file_errors_name_the_image, setup, teardown),
    };
    return cmocka_run_group_tests_name("builder", tests, NULL, NULL);
}
