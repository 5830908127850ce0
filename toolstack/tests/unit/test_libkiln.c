/*
 * test_libkiln.c - libkiln's request marshalling and error handling, against
 * the fake /dev/kiln of fake_kiln.c (the only place a fake is injected).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "fake_kiln.h"

static struct fake F;   /* large: keep it off the stack */

static int setup(void **state)
{
    *state = fake_open(&F);
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    fake_close(*state, &F);
    return 0;
}

static void create_marshals_arguments(void **state)
{
    uint32_t domid = 99;

    assert_int_equal(kiln_domain_create(*state, "guest-a", 4096, 2, 0, &domid), 0);
    assert_int_equal(domid, 1);
    assert_int_equal(F.n_calls, 1);
    assert_int_equal(F.calls[0].op, KILN_HC_DOMCTL);
    assert_int_equal(F.calls[0].domctl.cmd, KILN_DOMCTL_CREATE);
    assert_int_equal(F.calls[0].domctl.u.create.memory_kib, 4096);
    assert_int_equal(F.calls[0].domctl.u.create.vcpus, 2);
    assert_string_equal(F.calls[0].domctl.u.create.name, "guest-a");
}

static void create_rejects_bad_arguments_without_a_call(void **state)
{
    uint32_t domid = 99;

    assert_int_equal(kiln_domain_create(*state, "", 4096, 1, 0, &domid), -EINVAL);
    assert_int_equal(kiln_domain_create(*state, "a-name-that-is-much-too-long-for-kiln", 4096, 1, 0, &domid), -EINVAL);
    assert_int_equal(kiln_domain_create(*state, "x", 4097, 1, 0, &domid), -EINVAL);
    assert_int_equal(kiln_domain_create(*state, "x", 4096, 0, 0, &domid), -EINVAL);
    assert_int_equal(kiln_domain_create(*state, "x", 4096, KILN_MAX_VCPUS + 1, 0, &domid), -EINVAL);
    assert_int_equal(F.n_calls, 0);
    assert_int_equal(domid, 99);
}

static void hypervisor_errors_become_errno(void **state)
{
    assert_int_equal(kiln_domain_pause(*state, 42), -ESRCH);
    F.fail_cmd = KILN_DOMCTL_UNPAUSE;
    F.fail_result = -KILN_EBUSY;
    assert_int_equal(kiln_domain_unpause(*state, 0), -EBUSY);
    F.fail_result = -999;   /* not a KILN_E* code */
    assert_int_equal(kiln_domain_unpause(*state, 0), -EIO);
}

static void device_errors_propagate(void **state)
{
    uint32_t v;

    F.ioctl_errno = EPERM;
    assert_int_equal(kiln_version(*state, &v), -EPERM);
    assert_int_equal(kiln_domain_destroy(*state, 0), -EPERM);
}

static void version_reads_abi(void **state)
{
    uint32_t v = 0;

    assert_int_equal(kiln_version(*state, &v), 0);
    assert_int_equal(v >> 16, KILN_ABI_MAJOR);
}

static void list_walks_domain_ids(void **state)
{
    struct kiln_dominfo d[2];
    uint32_t id;

    assert_int_equal(kiln_domain_create(*state, "one", 4096, 1, 0, &id), 0);
    assert_int_equal(kiln_domain_create(*state, "two", 4096, 1, 0, &id), 0);
    assert_int_equal(kiln_domain_destroy(*state, 1), 0);
    F.n_calls = 0;
    /* dom0 and domain 2 exist; ids are asked in increasing order */
    assert_int_equal(kiln_domain_list(*state, d, 2), 2);
    assert_int_equal(d[0].domid, 0);
    assert_string_equal(d[0].name, "dom0");
    assert_int_equal(d[1].domid, 2);
    assert_string_equal(d[1].name, "two");
    assert_int_equal(F.calls[0].domctl.domid, 0);
    assert_int_equal(F.calls[1].domctl.domid, 1);
    assert_int_equal(F.calls[2].domctl.domid, 3);
    /* a short array still gets the true count */
    assert_int_equal(kiln_domain_list(*state, d, 1), 2);
}

static void info_of_missing_domain_is_esrch(void **state)
{
    struct kiln_dominfo d;
    uint32_t id;

    assert_int_equal(kiln_domain_create(*state, "one", 4096, 1, 0, &id), 0);
    /* nothing has an id >= 5 */
    assert_int_equal(kiln_domain_info(*state, 5, &d), -ESRCH);
    assert_int_equal(kiln_domain_destroy(*state, 1), 0);
    assert_int_equal(kiln_domain_create(*state, "two", 4096, 1, 0, &id), 0);
    /* id 1 is gone: the hypervisor answers with 2, which is not what we asked */
    assert_int_equal(kiln_domain_info(*state, 1, &d), -ESRCH);
    assert_int_equal(kiln_domain_info(*state, 2, &d), 0);
    assert_string_equal(d.name, "two");
    assert_int_equal(d.state, KILN_DOMSTATE_BUILDING);
}

static void lookup_by_name(void **state)
{
    uint32_t id, found = 77;

    assert_int_equal(kiln_domain_create(*state, "web", 4096, 1, 0, &id), 0);
    assert_int_equal(kiln_domain_lookup(*state, "web", &found), 0);
    assert_int_equal(found, id);
    assert_int_equal(kiln_domain_lookup(*state, "nope", &found), -ESRCH);
}

static void sched_roundtrip_and_range(void **state)
{
    uint32_t w = 0, c = 0;

    assert_int_equal(kiln_sched_set(*state, 0, 512, 50), 0);
    assert_int_equal(F.calls[0].domctl.cmd, KILN_DOMCTL_SCHED_SET);
    assert_int_equal(F.calls[0].domctl.u.sched.weight, 512);
    assert_int_equal(F.calls[0].domctl.u.sched.cap, 50);
    assert_int_equal(kiln_sched_get(*state, 0, &w, &c), 0);
    assert_int_equal(w, 512);
    assert_int_equal(c, 50);
    F.n_calls = 0;
    assert_int_equal(kiln_sched_set(*state, 0, 0, 0), -EINVAL);
    assert_int_equal(kiln_sched_set(*state, 0, 65536, 0), -EINVAL);
    assert_int_equal(F.n_calls, 0);
}

static void vcpu_pin_marshals_mask(void **state)
{
    assert_int_equal(kiln_vcpu_pin(*state, 0, 3, 0x6), 0);
    assert_int_equal(F.calls[0].domctl.cmd, KILN_DOMCTL_VCPU_PIN);
    assert_int_equal(F.calls[0].domctl.u.pin.vcpu, 3);
    assert_int_equal(F.calls[0].domctl.u.pin.cpumask, 0x6);
    assert_int_equal(kiln_vcpu_pin(*state, 0, KILN_MAX_VCPUS, 1), -EINVAL);
}

static void write_mem_goes_page_by_page(void **state)
{
    static unsigned char src[4096 * 2 + 100];
    uint32_t id;

    for (size_t i = 0; i < sizeof(src); i++)
        src[i] = (unsigned char)(i * 7);
    assert_int_equal(kiln_domain_create(*state, "m", 4096, 1, 0, &id), 0);
    F.n_calls = 0;
    assert_int_equal(kiln_write_mem(*state, id, 0x10000, src, sizeof(src)), 0);
    assert_int_equal(F.n_calls, 3);
    assert_int_equal(F.calls[0].domctl.u.write_mem.dest_gpa, 0x10000);
    assert_int_equal(F.calls[0].domctl.u.write_mem.len, 4096);
    assert_int_equal(F.calls[2].domctl.u.write_mem.dest_gpa, 0x12000);
    assert_int_equal(F.calls[2].domctl.u.write_mem.len, 100);
    assert_memory_equal(F.ram + 0x10000, src, sizeof(src));
    assert_int_equal(kiln_write_mem(*state, id, 0x10001, src, 1), -EINVAL);
}

static void console_read_continues_from_offset(void **state)
{
    char buf[8];
    uint64_t off = 0;

    F.console = "hello, console\n";
    assert_int_equal(kiln_console_read(*state, 0, buf, sizeof(buf), &off), 8);
    assert_memory_equal(buf, "hello, c", 8);
    assert_int_equal(F.calls[0].domctl.cmd, KILN_DOMCTL_CONSOLE_READ);
    assert_int_equal(F.calls[0].domctl.u.console.len, sizeof(buf));
    assert_ptr_equal((void *)(uintptr_t)F.calls[0].domctl.u.console.buf_gpa, buf);
    assert_int_equal(off, 8);
    assert_int_equal(kiln_console_read(*state, 0, buf, sizeof(buf), &off), 7);
    assert_memory_equal(buf, "onsole\n", 7);
    assert_int_equal(kiln_console_read(*state, 0, buf, sizeof(buf), &off), 0);
    assert_int_equal(kiln_console_read(*state, 9, buf, sizeof(buf), &off), -ESRCH);
}

static void dmesg_and_physinfo_use_sysctl(void **state)
{
    struct kiln_sysctl_physinfo pi;
    char buf[64];
    uint64_t off = 0;

    F.log = "(XEN) not really\n";
    assert_int_equal(kiln_dmesg_read(*state, buf, sizeof(buf), &off), 17);
    assert_int_equal(F.calls[0].op, KILN_HC_SYSCTL);
    assert_int_equal(F.calls[0].sysctl.cmd, KILN_SYSCTL_LOG_READ);
    assert_int_equal(kiln_physinfo(*state, &pi), 0);
    assert_int_equal(F.calls[1].sysctl.cmd, KILN_SYSCTL_PHYSINFO);
    assert_int_equal(pi.free_pages, 1000);
    assert_int_equal(pi.nr_cpus, 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_marshals_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(create_rejects_bad_arguments_without_a_call, setup, teardown),
        cmocka_unit_test_setup_teardown(hypervisor_errors_become_errno, setup, teardown),
        cmocka_unit_test_setup_teardown(device_errors_propagate, setup, teardown),
        cmocka_unit_test_setup_teardown(version_reads_abi, setup, teardown),
        cmocka_unit_test_setup_teardown(list_walks_domain_ids, setup, teardown),
        cmocka_unit_test_setup_teardown(info_of_missing_domain_is_esrch, setup, teardown),
        cmocka_unit_test_setup_teardown(lookup_by_name, setup, teardown),
        cmocka_unit_test_setup_teardown(sched_roundtrip_and_range, setup, teardown),
        cmocka_unit_test_setup_teardown(vcpu_pin_marshals_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(write_mem_goes_page_by_page, setup, teardown),
        cmocka_unit_test_setup_teardown(console_read_continues_from_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(dmesg_and_physinfo_use_sysctl, setup, teardown),
    };
    return cmocka_run_group_tests_name("libkiln", tests, NULL, NULL);
}
