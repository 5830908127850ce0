/*
 * test_dev_debug_exit.c - unit tests of the isa-debug-exit port
 * (arch/x86/hvm/devices/debug_exit.c): the code is the value written,
 * masked to the access width, at each of its ports; reads are all ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/debug_exit.c"

static struct debug_exit dev;
static u32 codes[8];
static unsigned int ncodes;

static void exit_hook(void *ctx, u32 code)
{
    assert_ptr_equal(ctx, &dev);
    codes[ncodes++] = code;
}

static int setup(void **state)
{
    (void)state;
    struct debug_exit_hooks hooks = { .exit = exit_hook, .ctx = &dev };
    ncodes = 0;
    debug_exit_init(&dev, &hooks);
    return 0;
}

static void test_widths(void **state)
{
    (void)state;
    debug_exit_io_write(&dev, 0xf4, 4, 0x12345678);     /* kvm-unit-tests: outl */
    debug_exit_io_write(&dev, 0xf4, 2, 0x12345678);
    debug_exit_io_write(&dev, 0xf4, 1, 0x12345678);
    debug_exit_io_write(&dev, 0xf4, 1, 0);
    debug_exit_io_write(&dev, 0xf7, 1, 3);
    assert_int_equal(ncodes, 5);
    assert_int_equal(codes[0], 0x12345678);
    assert_int_equal(codes[1], 0x5678);
    assert_int_equal(codes[2], 0x78);
    assert_int_equal(codes[3], 0);
    assert_int_equal(codes[4], 3);
}

static void test_reads_and_other_ports(void **state)
{
    (void)state;
    assert_int_equal(debug_exit_io_read(&dev, 0xf4, 1), 0xff);
    assert_int_equal(debug_exit_io_read(&dev, 0xf4, 2), 0xffff);
    assert_int_equal(debug_exit_io_read(&dev, 0xf4, 4), ~0u);
    debug_exit_io_write(&dev, 0xf3, 1, 1);
    debug_exit_io_write(&dev, 0xf8, 4, 1);
    debug_exit_io_write(&dev, 0xf4, 3, 1);
    debug_exit_io_write(&dev, 0xf4, 8, 1);
    assert_int_equal(ncodes, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_widths, setup),
        cmocka_unit_test_setup(test_reads_and_other_ports, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
