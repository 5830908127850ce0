/*
 * test_hvm_event.c - unit tests of hvm_event_plan() (arch/x86/hvm/event.c):
 * which event the next entry delivers and which exit it asks for, for
 * every combination a backend can report.  A wrong answer here is an
 * interrupt delivered into an interrupt shadow or with IF clear, an NMI
 * nested inside its own handler, or a vCPU that never gets its interrupt.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../arch/x86/hvm/event.c"

static const struct hvm_intr_window open_window = { .if_set = true };

static void test_nothing_pending(void **state)
{
    (void)state;
    struct hvm_events ev = { 0 };
    struct hvm_event_plan p = hvm_event_plan(&ev, &open_window, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_false(p.want_intr_window);
    assert_false(p.want_iret);
}

static void test_interrupt_when_window_open(void **state)
{
    (void)state;
    struct hvm_events ev = { 0 };
    struct hvm_event_plan p = hvm_event_plan(&ev, &open_window, 0x31);
    assert_int_equal(p.inject.kind, HVM_EV_INTR);
    assert_int_equal(p.inject.vector, 0x31);
    assert_false(p.want_intr_window);
}

static void test_interrupt_waits_for_if_and_shadow(void **state)
{
    (void)state;
    struct hvm_events ev = { 0 };
    struct hvm_intr_window cli = { .if_set = false };
    struct hvm_intr_window sti_shadow = { .if_set = true, .shadow = true };
    struct hvm_event_plan p = hvm_event_plan(&ev, &cli, 0x40);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_intr_window);
    p = hvm_event_plan(&ev, &sti_shadow, 0x40);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_intr_window);
}

static void test_redelivery_comes_first(void **state)
{
    (void)state;
    struct hvm_events ev = { .nmi_pending = true };
    struct hvm_intr_window busy = { .busy = true, .if_set = true };
    struct hvm_event_plan p = hvm_event_plan(&ev, &busy, 0x50);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_intr_window);
}

static void test_exception_before_nmi_before_interrupt(void **state)
{
    (void)state;
    struct hvm_events ev = { .exc_pending = true, .exc_vector = 13, .exc_has_error = true,
                             .exc_error = 0x18, .nmi_pending = true };
    struct hvm_event_plan p = hvm_event_plan(&ev, &open_window, 0x60);
    assert_int_equal(p.inject.kind, HVM_EV_EXCEPTION);
    assert_int_equal(p.inject.vector, 13);
    assert_true(p.inject.has_error);
    assert_int_equal(p.inject.error, 0x18);
    assert_true(p.want_intr_window);
    ev.exc_pending = false;
    p = hvm_event_plan(&ev, &open_window, 0x60);
    assert_int_equal(p.inject.kind, HVM_EV_NMI);
    assert_int_equal(p.inject.vector, 2);
    assert_true(p.want_iret);
    assert_true(p.want_intr_window);
}

static void test_nmi_ignores_if(void **state)
{
    (void)state;
    struct hvm_events ev = { .nmi_pending = true };
    struct hvm_intr_window cli = { .if_set = false };
    struct hvm_event_plan p = hvm_event_plan(&ev, &cli, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NMI);
}

static void test_no_nmi_inside_nmi_handler(void **state)
{
    (void)state;
    struct hvm_events ev = { .nmi_pending = true, .nmi_in_service = true };
    struct hvm_intr_window cli = { .if_set = false };
    struct hvm_event_plan p = hvm_event_plan(&ev, &cli, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_iret);
    /* The handler's IF is its own business: no window exit for the NMI. */
    assert_false(p.want_intr_window);
    /* But an interrupt may still come in when the handler enables them. */
    p = hvm_event_plan(&ev, &open_window, 0x70);
    assert_int_equal(p.inject.kind, HVM_EV_INTR);
    assert_true(p.want_iret);
}

static void test_nmi_after_iret(void **state)
{
    (void)state;
    struct hvm_events ev = { .nmi_pending = true };
    /* IRET seen, not completed: with IF clear the window exit follows it. */
    struct hvm_intr_window iret_cli = { .nmi_blocked = true };
    struct hvm_event_plan p = hvm_event_plan(&ev, &iret_cli, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_intr_window);
    /* With IF set the window exit would come before the IRET, forever. */
    struct hvm_intr_window iret_sti = { .nmi_blocked = true, .if_set = true };
    p = hvm_event_plan(&ev, &iret_sti, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_false(p.want_intr_window);
    /* Once RIP moved on, it is delivered. */
    p = hvm_event_plan(&ev, &open_window, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NMI);
}

static void test_nmi_waits_for_shadow(void **state)
{
    (void)state;
    struct hvm_events ev = { .nmi_pending = true };
    struct hvm_intr_window mov_ss = { .shadow = true };
    struct hvm_event_plan p = hvm_event_plan(&ev, &mov_ss, -1);
    assert_int_equal(p.inject.kind, HVM_EV_NONE);
    assert_true(p.want_intr_window);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nothing_pending),
        cmocka_unit_test(test_interrupt_when_window_open),
        cmocka_unit_test(test_interrupt_waits_for_if_and_shadow),
        cmocka_unit_test(test_redelivery_comes_first),
        cmocka_unit_test(test_exception_before_nmi_before_interrupt),
        cmocka_unit_test(test_nmi_ignores_if),
        cmocka_unit_test(test_no_nmi_inside_nmi_handler),
        cmocka_unit_test(test_nmi_after_iret),
        cmocka_unit_test(test_nmi_waits_for_shadow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
