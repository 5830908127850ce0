/*
 * test_dev_testdev.c - unit tests of the pc-testdev subset
 * (arch/x86/hvm/devices/testdev.c): the scratch register at every width
 * and at both of its port ranges, IRQ line control, the flush port, and
 * the MMIO window with its bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/devices/testdev.c"

static struct testdev t;
static u8 iomem[TESTDEV_IOMEM_SIZE];
static int lines[TESTDEV_IRQ_LINES];
static unsigned int irq_calls;

static void set_irq(void *ctx, unsigned int line, bool level)
{
    assert_ptr_equal(ctx, &t);
    assert_true(line < TESTDEV_IRQ_LINES);
    lines[line] = level;
    irq_calls++;
}

static int setup(void **state)
{
    (void)state;
    struct testdev_hooks hooks = { .set_irq = set_irq, .ctx = &t };
    memset(lines, 0, sizeof(lines));
    memset(iomem, 0xaa, sizeof(iomem));
    irq_calls = 0;
    testdev_init(&t, &hooks, iomem);
    return 0;
}

static void test_scratch_register(void **state)
{
    (void)state;
    /* realmode's io tests: out then in at 0xe0 with each width. */
    testdev_io_write(&t, 0xe0, 1, 0xff);
    assert_int_equal(testdev_io_read(&t, 0xe0, 1), 0xff);
    testdev_io_write(&t, 0xe0, 2, 0xffff);
    assert_int_equal(testdev_io_read(&t, 0xe0, 2), 0xffff);
    testdev_io_write(&t, 0xe0, 4, 0xffffffff);
    assert_int_equal(testdev_io_read(&t, 0xe0, 4), 0xffffffff);
    /* emulator: a word write then byte reads. */
    testdev_io_write(&t, 0xe0, 4, 0);
    testdev_io_write(&t, 0xe0, 2, 0x9999);
    assert_int_equal(testdev_io_read(&t, 0xe0, 1), 0x99);
    assert_int_equal(testdev_io_read(&t, 0xe1, 1), 0x99);
    assert_int_equal(testdev_io_read(&t, 0xe2, 1), 0x00);
    /* 0xe8 is the same register; sub-dword accesses at an offset. */
    testdev_io_write(&t, 0xe8, 4, 0x12345678);
    assert_int_equal(testdev_io_read(&t, 0xe0, 4), 0x12345678);
    testdev_io_write(&t, 0xe9, 2, 0xabcd);
    assert_int_equal(testdev_io_read(&t, 0xe8, 4), 0x12abcd78);
    assert_int_equal(testdev_io_read(&t, 0xe2, 2), 0x12ab);
    /* Bytes past the register: not ours. */
    assert_int_equal(testdev_io_read(&t, 0xe2, 4), 0xffff12ab);
    testdev_io_write(&t, 0xe3, 4, 0x00000000);
    assert_int_equal(testdev_io_read(&t, 0xe0, 4), 0x00abcd78);
    assert_int_equal(testdev_io_read(&t, 0xe0, 3), ~0u);
}

static void test_irq_lines(void **state)
{
    (void)state;
    testdev_io_write(&t, 0x2000 + 0x0e, 1, 1);
    assert_int_equal(lines[0x0e], 1);
    testdev_io_write(&t, 0x2000 + 0x0e, 1, 0);
    assert_int_equal(lines[0x0e], 0);
    testdev_io_write(&t, 0x2000 + 23, 1, 0x80);
    assert_int_equal(lines[23], 1);
    assert_int_equal(irq_calls, 3);
    /* Past line 23, wider writes and reads: nothing. */
    testdev_io_write(&t, 0x2000 + 24, 1, 1);
    testdev_io_write(&t, 0x2000, 2, 0x0101);
    testdev_io_write(&t, 0x2000, 4, 1);
    assert_int_equal(irq_calls, 3);
    assert_int_equal(testdev_io_read(&t, 0x2000, 1), 0xff);
    /* The flush port accepts its write and does nothing visible. */
    testdev_io_write(&t, 0xe4, 4, 0x1000);
    assert_int_equal(testdev_io_read(&t, 0xe4, 4), ~0u);
    assert_int_equal(testdev_io_read(&t, 0xe0, 4), 0);
}

static void test_iomem(void **state)
{
    (void)state;
    assert_int_equal(testdev_mmio_read(&t, 0, 8), 0);           /* zeroed at init */
    testdev_mmio_write(&t, 0x100, 8, 0x1122334455667788ull);
    assert_int_equal(testdev_mmio_read(&t, 0x100, 8), 0x1122334455667788ull);
    assert_int_equal(testdev_mmio_read(&t, 0x101, 2), 0x6677);
    assert_int_equal(testdev_mmio_read(&t, 0x104, 4), 0x11223344);
    testdev_mmio_write(&t, 0x103, 1, 0xee);
    assert_int_equal(testdev_mmio_read(&t, 0x100, 4), 0xee667788);
    /* The last bytes, and bytes past the end. */
    testdev_mmio_write(&t, TESTDEV_IOMEM_SIZE - 2, 4, 0xddccbbaa);
    assert_int_equal(iomem[TESTDEV_IOMEM_SIZE - 1], 0xbb);
    assert_int_equal(testdev_mmio_read(&t, TESTDEV_IOMEM_SIZE - 2, 4), 0xffffbbaa);
    assert_int_equal(testdev_mmio_read(&t, TESTDEV_IOMEM_SIZE, 8), ~0ull);
    testdev_mmio_write(&t, ~0ull - 2, 8, 0);
    testdev_mmio_write(&t, TESTDEV_IOMEM_SIZE, 1, 0);
    assert_int_equal(testdev_mmio_read(&t, ~0ull - 2, 8), ~0ull);
    assert_int_equal(testdev_mmio_read(&t, 0, 3), ~0ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_scratch_register, setup),
        cmocka_unit_test_setup(test_irq_lines, setup),
        cmocka_unit_test_setup(test_iomem, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
