/*
 * test_builder_pc.c - the builder's Multiboot1 path (a PC domain the
 * hypervisor loads), against the fake hypervisor: what CREATE and PC_BOOT
 * carry, where the image is staged, the command line the kernel gets, the
 * refusals made before anything exists, the all-or-nothing rule, and the
 * isa-debug-exit value coming back through GETINFO.
 */
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

#define MB_MAGIC 0x1BADB002u

static struct fake F;
static struct kiln_config cfg;
static char err[512];
static unsigned char image[10000];

/* A pattern with a Multiboot1 header (a.out kludge flags) at offset off;
 * checksum_ok = 0 spoils the checksum. */
static void make_image(size_t off, int checksum_ok)
{
    uint32_t hdr[3] = { MB_MAGIC, 0x00010003u, 0 };

    for (size_t i = 0; i < sizeof(image); i++)
        image[i] = (unsigned char)(i * 7 + 1);
    hdr[2] = -(hdr[0] + hdr[1]) + (checksum_ok ? 0 : 1);
    memcpy(image + off, hdr, sizeof(hdr));
}

static int setup(void **state)
{
    memset(&cfg, 0, sizeof(cfg));
    strcpy(cfg.name, "tsc");
    strcpy(cfg.kernel, "/usr/share/kiln/kvm-unit-tests/x86/tsc.flat");
    strcpy(cfg.cmdline, "-a b");
    cfg.memory_mib = 4;
    cfg.vcpus = 2;
    cfg.weight = 300;
    cfg.testdev = 1;
    make_image(64, 1);
    *state = fake_open(&F);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_close(*state, &F);
    return 0;
}

static const struct kiln_domctl *call_of(uint32_t cmd)
{
    for (size_t i = 0; i < F.n_calls; i++)
        if (F.calls[i].op == KILN_HC_DOMCTL && F.calls[i].domctl.cmd == cmd)
            return &F.calls[i].domctl;
    return NULL;
}

/* What dom0-run.sh's configs give (no type: found by the header). */
static void builds_pc_domain(void **state)
{
    const struct kiln_domctl *create;
    uint32_t domid = 0;

    assert_int_equal(kiln_multiboot_find(image, sizeof(image)), 64);
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), 0);
    assert_int_equal(domid, 1);
    create = call_of(KILN_DOMCTL_CREATE);
    assert_non_null(create);
    assert_int_equal(create->u.create.flags, KILN_DOMCTL_CREATE_F_PC | KILN_DOMCTL_CREATE_F_TESTDEV);
    assert_int_equal(create->u.create.vcpus, 2);
    assert_int_equal(create->u.create.memory_kib, 4096);
    /* staged in the top pages of RAM, loaded by the hypervisor from there */
    assert_int_equal(F.pc_boot.kind, KILN_PC_BOOT_MULTIBOOT);
    assert_int_equal(F.pc_boot.image_gpa, (4u << 20) - 3 * 4096);
    assert_int_equal(F.pc_boot.image_len, sizeof(image));
    assert_memory_equal(F.pc_image, image, sizeof(image));
    /* argv[0] is the kernel, as QEMU and GRUB pass it */
    assert_string_equal(F.pc_cmdline, "/usr/share/kiln/kvm-unit-tests/x86/tsc.flat -a b");
    /* the hypervisor sets vCPU 0; credit parameters as configured; paused */
    assert_int_equal(fake_count(&F, KILN_DOMCTL_SET_VCPU), 0);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_SCHED_SET), 1);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_UNPAUSE), 0);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_PC_BOOT), 1);
}

static void explicit_type_and_no_testdev(void **state)
{
    uint32_t domid;

    cfg.type = KILN_GUEST_MULTIBOOT;
    cfg.testdev = 0;
    cfg.cmdline[0] = '\0';
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), 0);
    assert_int_equal(call_of(KILN_DOMCTL_CREATE)->u.create.flags, KILN_DOMCTL_CREATE_F_PC);
    assert_string_equal(F.pc_cmdline, "/usr/share/kiln/kvm-unit-tests/x86/tsc.flat");
}

/* Headers the hypervisor would not take either are not taken for one. */
static void header_rules(void **state)
{
    uint32_t domid;

    make_image(8192, 1);   /* past the first 8 KiB */
    assert_int_equal(kiln_multiboot_find(image, sizeof(image)), -1);
    make_image(66, 1);     /* not 4-byte aligned */
    assert_int_equal(kiln_multiboot_find(image, sizeof(image)), -1);
    make_image(64, 0);     /* bad checksum */
    assert_int_equal(kiln_multiboot_find(image, sizeof(image)), -1);
    assert_int_equal(kiln_multiboot_find(image, 70), -1);   /* cut short */
    cfg.type = KILN_GUEST_MULTIBOOT;
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -EINVAL);
    assert_string_equal(err, "not a Multiboot1 kernel (no header in its first 8 KiB)");
    /* type auto: not Multiboot, so an ELF test guest, which it is not */
    cfg.type = KILN_GUEST_AUTO;
    cfg.testdev = 0;
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -ENOEXEC);
    assert_int_equal(F.n_calls, 0);
}

static void refused_before_creating_anything(void **state)
{
    unsigned char *big = calloc(1, KILN_PC_IMAGE_MAX + 1);
    uint32_t domid;

    assert_non_null(big);
    cfg.vcpus = 9;
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -EINVAL);
    assert_string_equal(err, "a multiboot guest has at most 8 vCPUs, not 9");
    cfg.vcpus = 1;
    memcpy(big, image, 128);
    assert_int_equal(kiln_build_domain(*state, &cfg, big, KILN_PC_IMAGE_MAX + 1, &domid, err,
                                       sizeof(err)), -E2BIG);
    cfg.memory_mib = 7;
    assert_int_equal(kiln_build_domain(*state, &cfg, big, KILN_PC_IMAGE_MAX, &domid, err,
                                       sizeof(err)), -E2BIG);
    assert_string_equal(err, "8388608 bytes do not fit in 7 MiB of RAM");
    memset(cfg.kernel, 'k', 2043);   /* + " -a b": 2048 bytes, one too many */
    cfg.kernel[2043] = '\0';
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -E2BIG);
    assert_string_equal(err, "kernel path and cmdline are longer than 2047 bytes");
    assert_int_equal(F.n_calls, 0);
    cfg.kernel[2042] = '\0';        /* 2047 bytes: fits */
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), 0);
    assert_int_equal(strlen(F.pc_cmdline), KILN_PC_CMDLINE_MAX);
    free(big);
}

static void failed_load_destroys_the_domain(void **state)
{
    struct kiln_dominfo d;
    uint32_t domid = 77;

    F.fail_cmd = KILN_DOMCTL_PC_BOOT;
    F.fail_result = -KILN_EINVAL;
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -EINVAL);
    assert_string_equal(err, "loading the kernel (the hypervisor's log says why): "
                             "Invalid argument");
    assert_int_equal(domid, 77);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_DESTROY), 1);
    assert_int_equal(kiln_domain_list(*state, &d, 1), 1);   /* only dom0 left */
    F.fail_cmd = KILN_DOMCTL_WRITE_MEM;
    assert_int_equal(kiln_build_domain(*state, &cfg, image, sizeof(image), &domid, err,
                                       sizeof(err)), -EINVAL);
    assert_string_equal(err, "copying the kernel into the domain: Invalid argument");
    assert_int_equal(fake_count(&F, KILN_DOMCTL_DESTROY), 2);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_PC_BOOT), 1);   /* the first build's */
}

/* libkiln: PC_BOOT's marshalling and limit, and the exit code in info. */
static void pc_boot_call_and_exit_code(void **state)
{
    static char longline[KILN_PC_CMDLINE_MAX + 2];
    struct kiln_dominfo info;
    uint32_t domid;

    assert_int_equal(kiln_domain_create(*state, "t", 4096, 1, KILN_DOMCTL_CREATE_F_PC, &domid), 0);
    memset(longline, 'x', KILN_PC_CMDLINE_MAX + 1);
    assert_int_equal(kiln_pc_boot(*state, domid, KILN_PC_BOOT_MULTIBOOT, 0, 4096, longline),
                     -E2BIG);
    assert_int_equal(fake_count(&F, KILN_DOMCTL_PC_BOOT), 0);
    longline[KILN_PC_CMDLINE_MAX] = '\0';
    assert_int_equal(kiln_pc_boot(*state, domid, KILN_PC_BOOT_MULTIBOOT, 8192, 4096, longline), 0);
    assert_int_equal(F.pc_boot.cmdline_len, KILN_PC_CMDLINE_MAX);
    assert_int_equal(F.pc_boot.image_gpa, 8192);
    assert_string_equal(F.pc_cmdline, longline);
    F.doms[1].exit_code = 3;
    assert_int_equal(kiln_domain_info(*state, domid, &info), 0);
    assert_int_equal(info.exit_code, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(builds_pc_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(explicit_type_and_no_testdev, setup, teardown),
        cmocka_unit_test_setup_teardown(header_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_before_creating_anything, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_load_destroys_the_domain, setup, teardown),
        cmocka_unit_test_setup_teardown(pc_boot_call_and_exit_code, setup, teardown),
    };
    return cmocka_run_group_tests_name("builder (Multiboot1 PC domains)", tests, NULL, NULL);
}
