/*
 * test_migrate.c - save and restore (lib/save.c, lib/restore.c) against the
 * fake /dev/kiln, whose "guest" dirties pages each time it is unpaused
 * while log-dirty is on: a non-live save and its restore reproduce RAM and
 * vCPU state exactly (zero pages sent without data, the TSC moved on);
 * live saves follow the pre-copy rule (a converging guest stops below the
 * threshold, a dirtying one after 5 rounds) and still restore the final
 * memory; a save whose stream breaks leaves the guest running with
 * log-dirty off; a restore from a truncated or corrupted stream, into a
 * host without the memory, or under a name in use leaves no domain.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "fake_kiln.h"
#include "kiln_migrate.h"
#include "mem_sink.h"

#define PAGES 256                  /* a 1 MiB guest */

static struct fake A, B;           /* source and destination hosts */
static kiln_handle *ha, *hb;
static uint32_t src;
static char err[512];

static int setup(void **state)
{
    (void)state;
    ha = fake_open(&A);
    hb = fake_open(&B);
    A.free_pages = B.free_pages = 100000;
    if (!ha || !hb || kiln_domain_create(ha, "guest", PAGES * 4, 2, 0, &src) < 0)
        return -1;
    /* Some data pages, the rest zero. */
    for (int g = 0; g < 10; g++)
        memset(A.ram + g * 4096, 0x11 * (g + 1), 4096);
    memcpy(A.ram + 200 * 4096 + 17, "the last page with data", 23);
    for (int v = 0; v < 2; v++) {
        A.vstate[v] = (struct kiln_vcpu_state){ .vcpu = (uint32_t)v, .size = sizeof(A.vstate[v]),
            .rip = 0x100000 + (uint64_t)v, .rflags = 2, .rax = 42, .tsc = 1000000,
            .fpu_format = KILN_FPU_FXSAVE, .fpu_size = KILN_FPU_FXSAVE_SIZE };
    }
    A.clock_ns = 5000000000ull;
    kiln_domain_unpause(ha, src);
    A.runs = 0;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_close(ha, &A);
    fake_close(hb, &B);
    return 0;
}

static int restore_from(struct mem *m, const struct kiln_restore_opts *o, uint32_t *domid,
                        struct kiln_restore_stats *rs)
{
    struct kiln_stream_membuf in = { .data = m->buf, .len = m->len };
    return kiln_domain_restore(hb, kiln_stream_mem_read, &in, o, domid, rs, err, sizeof(err));
}

static void non_live_round_trip(void **state)
{
    struct mem m = { 0 };
    struct kiln_save_stats st;
    struct kiln_restore_stats rs;
    struct kiln_dominfo info;
    uint32_t dst = 99;
    (void)state;

    assert_int_equal(kiln_domain_save(ha, src, mem_write, &m, NULL, &st, err, sizeof(err)), 0);
    assert_int_equal(st.rounds, 0);
    assert_int_equal(st.pages_total, PAGES);
    assert_int_equal(st.bytes, m.len);
    /* 11 pages of data, 245 zero pages without any. */
    assert_true(m.len < 11 * 4096 + 16 * 1024);
    assert_int_equal(kiln_domain_info(ha, src, &info), 0);
    assert_int_equal(info.state, KILN_DOMSTATE_PAUSED);   /* left paused for the caller */
    assert_int_equal(A.runs, 0);                          /* never resumed meanwhile */

    assert_int_equal(restore_from(&m, NULL, &dst, &rs), 0);
    assert_int_equal(rs.pages, PAGES);
    assert_int_equal(rs.bytes, m.len);
    assert_memory_equal(B.ram, A.ram, PAGES * 4096);
    assert_int_equal(kiln_domain_info(hb, dst, &info), 0);
    assert_string_equal(info.name, "guest");
    assert_int_equal(info.vcpus, 2);
    assert_int_equal(info.state, KILN_DOMSTATE_RUNNING);
    assert_int_equal(B.vstate[1].rip, 0x100001);
    assert_int_equal(B.vstate[0].rax, 42);
    /* The guest's clock goes on from the source's, never back. */
    assert_true(B.clock_ns >= 5000000000ull);
    /* The TSC went on by the time since the pause (at least not back). */
    assert_true(B.vstate[0].tsc >= 1000000);
    free(m.buf);
}

static void live_save_converging_guest(void **state)
{
    struct mem m = { 0 };
    struct kiln_save_stats st;
    struct kiln_restore_stats rs;
    struct kiln_save_opts live = { .live = 1 };
    uint32_t dst;
    (void)state;

    /* The first resume is pre-copy round 1; the guest then dirties
     * 120, 60, 20 pages between the rounds. */
    A.guest_first = 30;
    A.guest_writes[0] = 120;
    A.guest_writes[1] = 60;
    A.guest_writes[2] = 20;
    assert_int_equal(kiln_domain_save(ha, src, mem_write, &m, &live, &st, err, sizeof(err)), 0);
    assert_int_equal(st.rounds, 3);
    assert_int_equal(st.pages[0], PAGES);
    assert_int_equal(st.pages[1], 120);
    assert_int_equal(st.pages[2], 60);
    assert_int_equal(st.pages[3], 20);      /* sent paused */
    assert_int_equal(st.pages_total, PAGES + 200);
    assert_false(A.log_dirty);
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), 0);
    /* The last copy of each page wins: the memory as the guest left it. */
    assert_memory_equal(B.ram, A.ram, PAGES * 4096);
    free(m.buf);
}

static void live_save_dirtying_guest_stops_after_5_rounds(void **state)
{
    struct mem m = { 0 };
    struct kiln_save_stats st;
    struct kiln_restore_stats rs;
    struct kiln_save_opts live = { .live = 1 };
    uint32_t dst;
    (void)state;

    A.guest_first = 0;
    for (int i = 0; i < 16; i++)
        A.guest_writes[i] = 200;
    assert_int_equal(kiln_domain_save(ha, src, mem_write, &m, &live, &st, err, sizeof(err)), 0);
    assert_int_equal(st.rounds, 5);
    for (int i = 1; i <= 5; i++)
        assert_int_equal(st.pages[i], 200);
    assert_int_equal(A.runs, 5);
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), 0);
    assert_memory_equal(B.ram, A.ram, PAGES * 4096);
    free(m.buf);
}

static void broken_stream_leaves_the_guest_running(void **state)
{
    struct mem m = { .fail_after = 20000 };
    struct kiln_save_stats st;
    struct kiln_save_opts live = { .live = 1 };
    struct kiln_dominfo info;
    (void)state;

    assert_int_equal(kiln_domain_save(ha, src, mem_write, &m, &live, &st, err, sizeof(err)), -EPIPE);
    assert_non_null(strstr(err, "sending"));
    assert_int_equal(kiln_domain_info(ha, src, &info), 0);
    assert_int_equal(info.state, KILN_DOMSTATE_RUNNING);
    assert_false(A.log_dirty);
    free(m.buf);
}

static void bad_streams_leave_no_domain(void **state)
{
    struct mem m = { 0 };
    struct kiln_save_stats st;
    struct kiln_restore_stats rs;
    struct kiln_dominfo list[4];
    uint32_t dst = 99;
    (void)state;

    assert_int_equal(kiln_domain_save(ha, src, mem_write, &m, NULL, &st, err, sizeof(err)), 0);
    /* Truncated in the middle of the page data. */
    size_t full = m.len;
    m.len = full / 2;
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), -ENODATA);
    assert_non_null(strstr(err, "record PAGES at offset"));
    assert_int_equal(kiln_domain_list(hb, list, 4), 1);   /* dom0 only: destroyed again */
    assert_int_equal(fake_count(&B, KILN_DOMCTL_DESTROY), 1);
    /* One flipped bit in the last record. */
    m.len = full;
    m.buf[full - 5] ^= 0x10;
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), -EBADMSG);
    assert_int_equal(kiln_domain_list(hb, list, 4), 1);
    assert_int_equal(B.vstate[0].rip, 0);                 /* no state was ever loaded */
    m.buf[full - 5] ^= 0x10;
    /* Not enough memory: refused before anything is created. */
    B.free_pages = 500;
    size_t creates = fake_count(&B, KILN_DOMCTL_CREATE);
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), -ENOMEM);
    assert_non_null(strstr(err, "record HEADER at offset 16: not enough memory here"));
    assert_int_equal(fake_count(&B, KILN_DOMCTL_CREATE), creates);
    B.free_pages = 100000;
    /* A privileged domain is never restored (the flag is in the header:
     * a forger recomputes the CRCs, the reader cannot tell). */
    struct kiln_stream_header *hd = (void *)(m.buf + sizeof(struct kiln_stream_preamble) +
                                             sizeof(struct kiln_stream_rec));
    struct kiln_stream_rec *rec = (void *)(m.buf + sizeof(struct kiln_stream_preamble));
    hd->flags = KILN_CPUID_F_PRIVILEGED;
    rec->crc = 0;
    rec->crc = kiln_crc32c(0, rec, sizeof(*rec) + rec->length);
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), -EPERM);
    assert_non_null(strstr(err, "record HEADER at offset 16: the stream asks for a privileged domain"));
    assert_int_equal(fake_count(&B, KILN_DOMCTL_CREATE), creates);
    hd->flags = 0;
    rec->crc = 0;
    rec->crc = kiln_crc32c(0, rec, sizeof(*rec) + rec->length);
    /* A name in use: refused; under another name it works. */
    uint32_t other;
    assert_int_equal(kiln_domain_create(hb, "guest", 64, 1, 0, &other), 0);
    assert_int_equal(restore_from(&m, NULL, &dst, &rs), -EEXIST);
    assert_non_null(strstr(err, "a domain named 'guest' exists"));
    struct kiln_restore_opts renamed = { .name = "guest-2", .paused = 1 };
    assert_int_equal(restore_from(&m, &renamed, &dst, &rs), 0);
    struct kiln_dominfo info;
    assert_int_equal(kiln_domain_info(hb, dst, &info), 0);
    assert_string_equal(info.name, "guest-2");
    assert_int_not_equal(info.state, KILN_DOMSTATE_RUNNING);   /* -p: left paused */
    assert_int_equal(rs.resumed_wall_ns, 0);
    free(m.buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(non_live_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(live_save_converging_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(live_save_dirtying_guest_stops_after_5_rounds, setup, teardown),
        cmocka_unit_test_setup_teardown(broken_stream_leaves_the_guest_running, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_streams_leave_no_domain, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
