/*
 * test_dev_fwcfg.c - unit tests of the fw_cfg subset
 * (arch/x86/hvm/devices/fwcfg.c): each item read as kvm-unit-tests'
 * fwcfg_get_u*() does (select, then byte reads), rewinding, zeros past
 * the end and for unknown keys.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/fwcfg.c"

static struct fwcfg f;

static int setup(void **state)
{
    (void)state;
    fwcfg_init(&f, 256ull << 20, 2, 8);
    return 0;
}

/* What kvm-unit-tests' fwcfg_get_u() does. */
static u64 get(u16 key, unsigned int bytes)
{
    u64 r = 0;
    fwcfg_io_write(&f, FWCFG_PORT_SELECTOR, 2, key);
    for (unsigned int i = 0; i < bytes; i++)
        r |= (u64)fwcfg_io_read(&f, FWCFG_PORT_DATA, 1) << (8 * i);
    return r;
}

static void test_items(void **state)
{
    (void)state;
    assert_int_equal(get(FWCFG_SIGNATURE, 4), 0x554d4551);      /* "QEMU" */
    assert_int_equal(get(FWCFG_ID, 4), 1);
    assert_int_equal(get(FWCFG_RAM_SIZE, 8), 256ull << 20);
    assert_int_equal(get(FWCFG_NB_CPUS, 2), 2);
    assert_int_equal(get(FWCFG_MAX_CPUS, 2), 8);
    assert_int_equal(get(FWCFG_MAX_RAM, 8), 0);
    assert_int_equal(get(0x02, 8), 0);                          /* UUID: not offered */
    assert_int_equal(get(0x8000, 8), 0);                        /* arch-local */
    assert_int_equal(get(0x4000 | FWCFG_NB_CPUS, 2), 2);        /* write-channel bit */
}

static void test_offsets_and_ports(void **state)
{
    (void)state;
    /* Past the end: zeros; selecting again rewinds. */
    assert_int_equal(get(FWCFG_NB_CPUS, 4), 2);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 1), 0);
    fwcfg_io_write(&f, FWCFG_PORT_SELECTOR, 2, FWCFG_SIGNATURE);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 1), 'Q');
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 2), 'E' | 'M' << 8);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 4), 'U');
    /* Byte writes to the selector and data writes do nothing. */
    fwcfg_io_write(&f, FWCFG_PORT_SELECTOR, 2, FWCFG_SIGNATURE);
    fwcfg_io_write(&f, FWCFG_PORT_SELECTOR, 1, FWCFG_RAM_SIZE);
    fwcfg_io_write(&f, FWCFG_PORT_DATA, 1, 0x55);
    fwcfg_io_write(&f, FWCFG_PORT_SELECTOR, 4, FWCFG_RAM_SIZE);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 1), 'Q');
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_SELECTOR, 2), ~0u);
    assert_int_equal(fwcfg_io_read(&f, FWCFG_PORT_DATA, 3), ~0u);
    assert_int_equal(fwcfg_io_read(&f, 0x512, 1), ~0u);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_items, setup),
        cmocka_unit_test_setup(test_offsets_and_ports, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
