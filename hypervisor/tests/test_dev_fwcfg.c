/*
 * test_dev_fwcfg.c - unit tests of the fw_cfg items (arch/x86/hvm/devices/
 * fwcfg.c): what kvm-unit-tests' library reads (signature, vCPU count,
 * RAM size), byte by byte after a selector write, zeros past an item and
 * for unknown ones, and a guest reading forever.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/fwcfg.c"

static u64 read_item(struct fwcfg *f, u16 sel, unsigned int bytes)
{
    u64 v = 0;
    fwcfg_io_write(f, FWCFG_PORT_SEL, 2, sel);
    for (unsigned int i = 0; i < bytes; i++)
        v |= (u64)fwcfg_io_read(f, FWCFG_PORT_DATA, 1) << (8 * i);
    return v;
}

static void test_items(void **state)
{
    (void)state;
    struct fwcfg f;
    fwcfg_init(&f, 256ull << 20, 4);
    assert_int_equal(read_item(&f, FWCFG_SIGNATURE, 4), 0x554d4551);   /* "QEMU" */
    assert_int_equal(read_item(&f, FWCFG_ID, 4), 1);
    assert_int_equal(read_item(&f, FWCFG_NB_CPUS, 2), 4);
    assert_int_equal(read_item(&f, FWCFG_MAX_CPUS, 2), 4);
    assert_int_equal(read_item(&f, FWCFG_RAM_SIZE, 8), 256ull << 20);
    /* kvm-unit-tests' FW_CFG_MAX_RAM (0x11) is not QEMU's: 0 means none. */
    assert_int_equal(read_item(&f, 0x11, 8), 0);
}

static void test_selector_restarts(void **state)
{
    (void)state;
    struct fwcfg f;
    fwcfg_init(&f, 0x123456789aull, 2);
    assert_int_equal(read_item(&f, FWCFG_RAM_SIZE, 2), 0x789a);
    assert_int_equal(read_item(&f, FWCFG_RAM_SIZE, 8), 0x123456789aull);
    /* A byte-wide selector write works too; a 4-byte data read takes 4. */
    fwcfg_io_write(&f, FWCFG_PORT_SEL, 1, FWCFG_SIGNATURE);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 4), 0x554d4551);
}

static void test_past_the_end(void **state)
{
    (void)state;
    struct fwcfg f;
    fwcfg_init(&f, 1 << 20, 1);
    assert_int_equal(read_item(&f, FWCFG_NB_CPUS, 2), 1);
    for (int i = 0; i < 100000; i++)
        assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 1), 0);
    assert_true(f.offset <= 8);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_SEL, 2), 0xffffffffu);
    fwcfg_io_write(&f, FWCFG_PORT_DATA, 1, 0x55);   /* ignored */
    assert_int_equal(read_item(&f, FWCFG_NB_CPUS, 2), 1);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 8), 0xffffffffu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_items),
        cmocka_unit_test(test_selector_restarts),
        cmocka_unit_test(test_past_the_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
