/*
 * test_ioreq_proto.c - unit tests of the ioreq slot protocol
 * (common/ioreq/ioreq_proto.c): a read and a write answered, the server's
 * slowness and silence (timeouts), answers before DONE, double answers,
 * answers with a wrong or stale seq, a guest scribbling on its own slot,
 * and an answer taken for a different access.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../common/ioreq/ioreq_proto.c"

#define MS 1000000ull

static struct ioreq_proto p;
static struct kiln_ioreq slot;

static int setup(void **state)
{
    (void)state;
    memset(&p, 0, sizeof(p));
    memset(&slot, 0, sizeof(slot));
    return 0;
}

static const struct ioreq_access rd4 = { .addr = 0xfe000010, .size = 4, .dir = KILN_IOREQ_READ,
                                         .type = KILN_IOREQ_MMIO };
static const struct ioreq_access wr2 = { .addr = 0x510, .data = 0xabcd1234, .size = 2,
                                         .dir = KILN_IOREQ_WRITE, .type = KILN_IOREQ_PIO };

/* What a well-behaved server does. */
static void serve(u64 data)
{
    assert_int_equal(slot.state, KILN_IOREQ_STATE_READY);
    slot.state = KILN_IOREQ_STATE_INPROCESS;
    if (slot.dir == KILN_IOREQ_READ)
        slot.data = data;
    slot.state = KILN_IOREQ_STATE_DONE;
}

static void test_read_and_write(void **state)
{
    (void)state;
    u64 data = 0;
    int err;
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 1000, 5 * MS), 0);
    assert_int_equal(slot.state, KILN_IOREQ_STATE_READY);
    assert_int_equal(slot.addr, 0xfe000010);
    assert_int_equal(slot.size, 4);
    assert_int_equal(slot.dir, KILN_IOREQ_READ);
    assert_int_equal(slot.type, KILN_IOREQ_MMIO);
    assert_int_equal(slot.seq, 1);
    assert_false(ioreq_proto_take(&p, &rd4, &data, &err));   /* nothing yet */
    serve(0x1122334455667788ull);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    assert_int_equal(slot.state, KILN_IOREQ_STATE_NONE);
    assert_true(ioreq_proto_take(&p, &rd4, &data, &err));
    assert_int_equal(err, 0);
    assert_int_equal(data, 0x55667788);                       /* cut to 4 bytes */
    assert_int_equal(p.state, IOREQ_IDLE);

    /* A write: the data goes out cut to its size, seq moves on. */
    assert_int_equal(ioreq_proto_post(&p, &slot, &wr2, 2000, 5 * MS), 0);
    assert_int_equal(slot.data, 0x1234);
    assert_int_equal(slot.seq, 2);
    assert_int_equal(slot.type, KILN_IOREQ_PIO);
    serve(0);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    assert_true(ioreq_proto_take(&p, &wr2, &data, &err));
}

static void test_one_at_a_time(void **state)
{
    (void)state;
    u64 data;
    int err;
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    assert_int_equal(ioreq_proto_post(&p, &slot, &wr2, 0, MS), -KILN_EBUSY);
    assert_int_equal(slot.seq, 1);
    serve(7);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    /* Answered but not taken: still busy. */
    assert_int_equal(ioreq_proto_post(&p, &slot, &wr2, 0, MS), -KILN_EBUSY);
    assert_true(ioreq_proto_take(&p, &rd4, &data, &err));
    assert_int_equal(ioreq_proto_post(&p, &slot, &wr2, 0, MS), 0);
}

static void test_timeouts(void **state)
{
    (void)state;
    assert_false(ioreq_proto_timed_out(&p, ~0ull));            /* idle never times out */
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 1000, 5 * MS), 0);
    assert_false(ioreq_proto_timed_out(&p, 1000));
    assert_false(ioreq_proto_timed_out(&p, 1000 + 5 * MS - 1));
    assert_true(ioreq_proto_timed_out(&p, 1000 + 5 * MS));
    /* A server that took it but never finished is just as late. */
    slot.state = KILN_IOREQ_STATE_INPROCESS;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    assert_true(ioreq_proto_timed_out(&p, 1000 + 6 * MS));
    /* Answered in time: no timeout any more. */
    slot.state = KILN_IOREQ_STATE_DONE;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    assert_false(ioreq_proto_timed_out(&p, 1000 + 60 * MS));
}

static void test_answer_before_done(void **state)
{
    (void)state;
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    /* Notified while READY or INPROCESS: ignored, still waiting. */
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    slot.state = KILN_IOREQ_STATE_INPROCESS;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    /* The guest scribbled NONE or garbage over its own slot. */
    slot.state = KILN_IOREQ_STATE_NONE;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    slot.state = 0xee;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    assert_int_equal(p.state, IOREQ_WAITING);
}

static void test_double_answers(void **state)
{
    (void)state;
    u64 data;
    int err;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);   /* nothing asked */
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    serve(5);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    /* The server sends again, even with DONE written again. */
    slot.state = KILN_IOREQ_STATE_DONE;
    slot.data = 99;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
    assert_true(ioreq_proto_take(&p, &rd4, &data, &err));
    assert_int_equal(data, 5);                                 /* the first answer counts */
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_IGNORED);
}

static void test_wrong_seq(void **state)
{
    (void)state;
    u64 data;
    int err;
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    serve(1);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    assert_true(ioreq_proto_take(&p, &rd4, &data, &err));
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    /* An answer carrying the previous request's seq (a stale replay). */
    slot.seq = 1;
    slot.state = KILN_IOREQ_STATE_DONE;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_BAD_SEQ);
    /* Or one from the future. */
    slot.seq = 1000;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_BAD_SEQ);
    slot.seq = 2;
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
}

static void test_take_other_access(void **state)
{
    (void)state;
    u64 data;
    int err;
    assert_int_equal(ioreq_proto_post(&p, &slot, &wr2, 0, MS), 0);
    serve(0);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    struct ioreq_access other = wr2;
    other.data = 0x5555;                                      /* a different value */
    assert_false(ioreq_proto_take(&p, &other, &data, &err));
    assert_int_equal(err, -KILN_EINVAL);
    assert_int_equal(p.state, IOREQ_IDLE);
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    serve(3);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    other = rd4;
    other.size = 2;
    assert_false(ioreq_proto_take(&p, &other, &data, &err));
    assert_int_equal(err, -KILN_EINVAL);
}

static void test_seq_wraps(void **state)
{
    (void)state;
    u64 data;
    int err;
    p.seq = 0xffffffffu;
    assert_int_equal(ioreq_proto_post(&p, &slot, &rd4, 0, MS), 0);
    assert_int_equal(slot.seq, 0);
    serve(1);
    assert_int_equal(ioreq_proto_answer(&p, &slot), IOREQ_COMPLETED);
    assert_true(ioreq_proto_take(&p, &rd4, &data, &err));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_read_and_write, setup),
        cmocka_unit_test_setup(test_one_at_a_time, setup),
        cmocka_unit_test_setup(test_timeouts, setup),
        cmocka_unit_test_setup(test_answer_before_done, setup),
        cmocka_unit_test_setup(test_double_answers, setup),
        cmocka_unit_test_setup(test_wrong_seq, setup),
        cmocka_unit_test_setup(test_take_other_access, setup),
        cmocka_unit_test_setup(test_seq_wraps, setup),
    };
    return cmocka_run_group_tests_name("ioreq_proto", tests, NULL, NULL);
}
