/*
 * test_dev_port92.c - unit tests of port 0x92 and the 0xcf9 reset
 * register (arch/x86/hvm/devices/port92.c): A20 reads back, fast reset on
 * a rising bit 0 only, the FADT's reset value and kvm-unit-tests' 0 then 4.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/port92.c"

static struct port92 p;
static unsigned int resets;

static void reset_hook(void *ctx)
{
    assert_ptr_equal(ctx, &p);
    resets++;
}

static int setup(void **state)
{
    (void)state;
    struct port92_hooks hooks = { .reset = reset_hook, .ctx = &p };
    resets = 0;
    port92_init(&p, &hooks);
    return 0;
}

static void test_a20_and_fast_reset(void **state)
{
    (void)state;
    assert_int_equal(port92_io_read(&p, 0x92, 1), PORT92_A20);
    port92_io_write(&p, 0x92, 1, 0x00);
    assert_int_equal(port92_io_read(&p, 0x92, 1), 0x00);
    port92_io_write(&p, 0x92, 1, PORT92_A20);
    assert_int_equal(port92_io_read(&p, 0x92, 1), PORT92_A20);
    assert_int_equal(resets, 0);
    /* kvm-unit-tests' init: clear bit 0, then set it. */
    port92_io_write(&p, 0x92, 1, port92_io_read(&p, 0x92, 1) & ~1u);
    port92_io_write(&p, 0x92, 1, port92_io_read(&p, 0x92, 1) | 1u);
    assert_int_equal(resets, 1);
    assert_int_equal(port92_io_read(&p, 0x92, 1), PORT92_A20 | PORT92_FAST_RESET);
    port92_io_write(&p, 0x92, 1, 0x03);                 /* still set: no edge */
    assert_int_equal(resets, 1);
    assert_int_equal(port92_io_read(&p, 0x92, 2), 0xff03);
    assert_int_equal(port92_io_read(&p, 0x92, 4), 0xffffff03);
    assert_int_equal(port92_io_read(&p, 0x93, 1), 0xff);
    assert_int_equal(port92_io_read(&p, 0x92, 3), ~0u);
    port92_io_write(&p, 0x92, 3, 0x00);
    port92_io_write(&p, 0x93, 1, 0x00);
    assert_int_equal(port92_io_read(&p, 0x92, 1), 0x03);
}

static void test_reset_control(void **state)
{
    (void)state;
    assert_int_equal(port92_io_read(&p, 0xcf9, 1), 0);
    port92_io_write(&p, 0xcf9, 1, 0x02);
    assert_int_equal(resets, 0);
    assert_int_equal(port92_io_read(&p, 0xcf9, 1), 0x02);
    port92_io_write(&p, 0xcf9, 1, 0x06);                /* the FADT's reset value */
    assert_int_equal(resets, 1);
    port92_io_write(&p, 0xcf9, 1, 0x0e);
    assert_int_equal(resets, 2);
    port92_io_write(&p, 0xcf9, 1, 0x00);                /* kvm-unit-tests: 0 then 4 */
    port92_io_write(&p, 0xcf9, 1, 0x04);
    assert_int_equal(resets, 3);
    assert_int_equal(port92_io_read(&p, 0xcf9, 1), 0x00);
    /* Wider accesses are the PCI configuration address, not ours. */
    port92_io_write(&p, 0xcf9, 2, 0x0606);
    port92_io_write(&p, 0xcf9, 4, 0x06060606);
    assert_int_equal(resets, 3);
    assert_int_equal(port92_io_read(&p, 0xcf9, 2), ~0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_a20_and_fast_reset, setup),
        cmocka_unit_test_setup(test_reset_control, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
