/*
 * test_asid_pool.c - a CPU's ASIDs recycled by generation: any number of
 * vCPUs share the hardware's few ASIDs, a vCPU keeps its ASID while it
 * stays, and every ASID handed out a second time asks for a TLB flush (a
 * missing flush would let a guest use another guest's translations).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../arch/x86/hvm/svm/asid_pool.c"

#define NV 100

static struct asid_holder fresh(void)
{
    struct asid_holder h = { .asid = 0, .cpu = -1, .gen = 0 };
    return h;
}

/* The first generation hands out 1..15 with no flush; a vCPU that stays
 * keeps its ASID and needs no flush. */
static void test_first_generation(void **state)
{
    struct asid_pool p;
    struct asid_holder h[15];

    (void)state;
    asid_pool_init(&p, 16);
    for (u32 i = 0; i < 15; i++) {
        h[i] = fresh();
        assert_false(asid_pool_assign(&p, 0, &h[i]));
        assert_int_equal(h[i].asid, i + 1);
    }
    for (u32 i = 0; i < 15; i++) {
        assert_false(asid_pool_assign(&p, 0, &h[i]));
        assert_int_equal(h[i].asid, i + 1);
    }
}

/*
 * 100 vCPUs taking turns on a CPU with 16 ASIDs: ASIDs stay in 1..15, no
 * two vCPUs of one generation share one, and whenever a vCPU gets an ASID
 * that some other vCPU held before, a flush is asked for.
 */
static void test_recycling_many_vcpus(void **state)
{
    struct asid_pool p;
    struct asid_holder h[NV];
    int last_holder[16];
    u64 flushes = 0;

    (void)state;
    asid_pool_init(&p, 16);
    for (int i = 0; i < NV; i++)
        h[i] = fresh();
    memset(last_holder, -1, sizeof(last_holder));
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < NV; i++) {
            int v = (i * 37 + round) % NV;
            u32 before = h[v].asid;
            u64 gen_before = h[v].gen;
            bool flush = asid_pool_assign(&p, 0, &h[v]);
            u32 a = h[v].asid;

            assert_true(a >= 1 && a <= 15);
            if (h[v].gen == gen_before && before == a) {
                assert_false(flush);            /* kept */
                continue;
            }
            if (last_holder[a] != -1)
                assert_true(flush);             /* reused: must flush */
            flushes += flush;
            for (int j = 0; j < NV; j++)        /* unique in its generation */
                if (j != v && h[j].cpu == 0 && h[j].gen == h[v].gen)
                    assert_int_not_equal(h[j].asid, a);
            last_holder[a] = v;
        }
    }
    assert_true(p.gen > 300);                   /* 5000 turns / 15 ASIDs */
    assert_true(flushes > 4000);
}

/* An ASID belongs to a CPU: a vCPU that moves gets one of its new CPU's. */
static void test_migration(void **state)
{
    struct asid_pool p0, p1;
    struct asid_holder a = fresh(), b = fresh();

    (void)state;
    asid_pool_init(&p0, 16);
    asid_pool_init(&p1, 16);
    assert_false(asid_pool_assign(&p0, 0, &a));
    assert_false(asid_pool_assign(&p1, 1, &b));
    assert_false(asid_pool_assign(&p1, 1, &a));  /* moves to CPU 1: a fresh one */
    assert_int_equal(a.cpu, 1);
    assert_int_equal(a.asid, 2);
    assert_false(asid_pool_assign(&p0, 0, &a));  /* and back: not its old one */
    assert_int_equal(a.cpu, 0);
    assert_int_equal(a.asid, 2);
}

/* A CPU reporting fewer than 2 ASIDs still has one for guests, and it is
 * flushed at every change of holder. */
static void test_one_guest_asid(void **state)
{
    struct asid_pool p;
    struct asid_holder a = fresh(), b = fresh();

    (void)state;
    asid_pool_init(&p, 0);
    assert_false(asid_pool_assign(&p, 0, &a));
    assert_int_equal(a.asid, 1);
    assert_true(asid_pool_assign(&p, 0, &b));
    assert_int_equal(b.asid, 1);
    assert_true(asid_pool_assign(&p, 0, &a));
    assert_false(asid_pool_assign(&p, 0, &a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_generation),
        cmocka_unit_test(test_recycling_many_vcpus),
        cmocka_unit_test(test_migration),
        cmocka_unit_test(test_one_guest_asid),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
