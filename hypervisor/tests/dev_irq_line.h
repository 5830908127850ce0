/*
 * dev_irq_line.h - the one interrupt line a device model under test
 * raises (IRQ0 of the PIT, IRQ8 of the RTC), watched the way the tests
 * need it: its level now and the rising edges counted. The hook asserts
 * that it is called only by the device under test and only for a real
 * change of level, so a model that repeats an edge fails the test.
 * Include after <cmocka.h>.
 */
#ifndef TESTS_DEV_IRQ_LINE_H
#define TESTS_DEV_IRQ_LINE_H

#include <kiln/types.h>

static bool irq;                /* the line's level now */
static unsigned int rises;      /* low-to-high edges since irq_line_reset() */
static const void *irq_owner;   /* the hooks' ctx: the device under test */

static void irq_line_reset(const void *owner)
{
    irq = false;
    rises = 0;
    irq_owner = owner;
}

/* The device's interrupt hook. */
static void irq_line_set(void *ctx, bool level)
{
    assert_ptr_equal(ctx, irq_owner);
    assert_true(level != irq);
    if (level)
        rises++;
    irq = level;
}

#endif
