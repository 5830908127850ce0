/*
 * test_ioport.c - unit tests of a domain's port handler table
 * (arch/x86/hvm/ioport.c): ranges that overlap or wrap are refused, the
 * table has a bound, and each port finds exactly the range it lies in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../arch/x86/hvm/ioport.c"

static struct domain dom;

static u32 rd(void *ctx, u16 port, unsigned int size)
{
    (void)ctx; (void)size;
    return port;
}

static void wr(void *ctx, u16 port, unsigned int size, u32 val)
{
    (void)ctx; (void)port; (void)size; (void)val;
}

static int setup(void **state)
{
    (void)state;
    dom.ioports.nr = 0;
    return 0;
}

static void test_register_and_find(void **state)
{
    (void)state;
    int a = 1, b = 2;
    assert_int_equal(hvm_port_register(&dom, 0x20, 2, rd, wr, &a), 0);
    assert_int_equal(hvm_port_register(&dom, 0x3f8, 8, rd, wr, &b), 0);
    assert_null(hvm_port_find(&dom, 0x1f));
    assert_ptr_equal(hvm_port_find(&dom, 0x20)->ctx, &a);
    assert_ptr_equal(hvm_port_find(&dom, 0x21)->ctx, &a);
    assert_null(hvm_port_find(&dom, 0x22));
    assert_ptr_equal(hvm_port_find(&dom, 0x3ff)->ctx, &b);
    assert_null(hvm_port_find(&dom, 0x400));
    assert_null(hvm_port_find(&dom, 0xe9));     /* Kiln's test ports stay free */
}

static void test_refusals(void **state)
{
    (void)state;
    assert_int_equal(hvm_port_register(&dom, 0x40, 4, rd, wr, NULL), 0);
    assert_int_equal(hvm_port_register(&dom, 0x43, 1, rd, wr, NULL), -KILN_EEXIST);
    assert_int_equal(hvm_port_register(&dom, 0x3e, 3, rd, wr, NULL), -KILN_EEXIST);
    assert_int_equal(hvm_port_register(&dom, 0x3c, 4, rd, wr, NULL), 0);   /* touches, fine */
    assert_int_equal(hvm_port_register(&dom, 0x50, 0, rd, wr, NULL), -KILN_EINVAL);
    assert_int_equal(hvm_port_register(&dom, 0xfffe, 4, rd, wr, NULL), -KILN_EINVAL);
    assert_int_equal(hvm_port_register(&dom, 0xfffc, 4, rd, wr, NULL), 0);  /* up to 0xffff */
    assert_non_null(hvm_port_find(&dom, 0xffff));
}

static void test_table_bound(void **state)
{
    (void)state;
    for (unsigned int i = 0; i < HVM_MAX_PORT_HANDLERS; i++)
        assert_int_equal(hvm_port_register(&dom, (u16)(0x100 + 4 * i), 2, rd, wr, NULL), 0);
    assert_int_equal(hvm_port_register(&dom, 0x800, 1, rd, wr, NULL), -KILN_E2BIG);
    assert_null(hvm_port_find(&dom, 0x800));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_register_and_find, setup),
        cmocka_unit_test_setup(test_refusals, setup),
        cmocka_unit_test_setup(test_table_bound, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
