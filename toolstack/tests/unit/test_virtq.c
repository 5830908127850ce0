/*
 * test_virtq.c - guest RAM checks and the split virtqueue walker: good
 * chains come out as the driver built them, and every corruption a hostile
 * driver can make breaks the queue with a reason instead of being followed.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "fake_guest.h"
#include "virtq.h"

static struct fguest g;
static struct fq q;
static struct virtq vq;
static struct virtq_chain ch;

static int setup(void **state)
{
    (void)state;
    fg_init(&g);
    q = (struct fq){ .size = 8, .desc = 0x10000, .avail = 0x14000, .used = 0x18000 };
    virtq_reset(&vq, &g.ram);
    vq.size = q.size;
    vq.desc = q.desc;
    vq.avail = q.avail;
    vq.used = q.used;
    assert_int_equal(virtq_enable(&vq), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fg_free(&g);
    return 0;
}

/* The queue broke and its message contains `what`. */
static void expect_broken(const char *what)
{
    assert_int_equal(virtq_pop(&vq, &ch), -EIO);
    assert_true(vq.broken);
    assert_non_null(strstr(vq.error, what));
    /* and stays broken: nothing more comes out */
    assert_int_equal(virtq_pop(&vq, &ch), 0);
}

static void gram_regions_and_bounds(void **state)
{
    static uint8_t a[4096], b[4096];
    struct gram r;
    uint8_t buf[8] = { 1, 2, 3, 4, 5, 6, 7, 8 }, out[8];

    (void)state;
    gram_init(&r);
    assert_int_equal(gram_add(&r, 0x2000, sizeof(b), b), 0);
    assert_int_equal(gram_add(&r, 0x1000, sizeof(a), a), 0);
    assert_int_equal(gram_add(&r, 0x1800, 16, a), -EINVAL);          /* overlaps */
    assert_int_equal(gram_add(&r, ~0ull - 10, 100, a), -EINVAL);      /* wraps */
    assert_int_equal(gram_add(&r, 0x9000, 0, a), -EINVAL);            /* empty */
    assert_true(gram_valid(&r, 0x1000, 0x2000));                       /* spans both */
    assert_false(gram_valid(&r, 0x1000, 0x2001));
    assert_false(gram_valid(&r, 0xfff, 2));
    assert_false(gram_valid(&r, ~0ull, 2));                            /* wraps */
    assert_false(gram_valid(&r, 0x1000, ~0ull));
    assert_true(gram_valid(&r, 0x3000, 0));                            /* end of RAM */
    assert_false(gram_valid(&r, 0x3001, 0));
    /* a copy across the region boundary lands in both buffers */
    assert_int_equal(gram_write(&r, 0x1ffc, buf, 8), 0);
    assert_memory_equal(a + 4092, buf, 4);
    assert_memory_equal(b, buf + 4, 4);
    assert_int_equal(gram_read(&r, 0x1ffc, out, 8), 0);
    assert_memory_equal(out, buf, 8);
    assert_int_equal(gram_read(&r, 0x2ffc, out, 8), -EFAULT);
    assert_int_equal(gram_write(&r, 0x0ffc, buf, 8), -EFAULT);
    assert_int_equal(a[0], 0);                                         /* nothing copied */
}

/* A pretend foreign-mapping interface over one big buffer. */
static uint8_t *big;
static size_t mapped_pages[64];         /* per chunk: pages of its mapping */
static unsigned maps, unmaps, live;
static bool map_fails;

static int fake_map(void *ctx, uint64_t gfn, size_t nr, void **host)
{
    (void)ctx;
    if (map_fails)
        return -ENOMEM;
    assert_true(nr >= 1 && nr <= GRAM_CHUNK_PAGES);
    assert_int_equal(gfn % GRAM_CHUNK_PAGES, 0);
    mapped_pages[gfn / GRAM_CHUNK_PAGES] = nr;
    maps++;
    live++;
    *host = big + gfn * GRAM_PAGE;
    return 0;
}

static void fake_unmap(void *ctx, void *host, size_t nr)
{
    (void)ctx;
    /* unmapped with the page count it was mapped with */
    assert_int_equal(nr, mapped_pages[((uint8_t *)host - big) / (GRAM_CHUNK_PAGES * GRAM_PAGE)]);
    unmaps++;
    live--;
}

static void gram_maps_on_demand(void **state)
{
    const uint64_t chunk = GRAM_CHUNK_PAGES * GRAM_PAGE;
    const uint64_t size = 40 * chunk + 3 * GRAM_PAGE;     /* a short last chunk */
    struct gram_mapper m = { .map = fake_map, .unmap = fake_unmap };
    struct gram *r = test_malloc(sizeof(*r));
    uint8_t v = 0x42, out[16];

    (void)state;
    big = test_calloc(1, size);
    maps = unmaps = live = 0;
    map_fails = false;
    gram_init(r);
    assert_int_equal(gram_set_mapper(r, size + 1, &m), -EINVAL);     /* not whole pages */
    assert_int_equal(gram_set_mapper(r, size, &m), 0);
    assert_int_equal(gram_add(r, size - GRAM_PAGE, GRAM_PAGE, out), -EINVAL);  /* overlaps */
    assert_true(gram_valid(r, 0, size));
    assert_true(gram_valid(r, size, 0));
    assert_false(gram_valid(r, size - 1, 2));
    /* nothing is mapped until touched; a copy across two chunks maps both */
    assert_int_equal(maps, 0);
    memcpy(big + chunk - 8, "0123456789abcdef", 16);
    assert_int_equal(gram_read(r, chunk - 8, out, 16), 0);
    assert_memory_equal(out, "0123456789abcdef", 16);
    assert_int_equal(maps, 2);
    assert_int_equal(gram_read(r, chunk + 100, out, 4), 0);           /* cached */
    assert_int_equal(maps, 2);
    /* touching every chunk keeps at most GRAM_CACHE_SLOTS mapped */
    for (uint64_t c = 0; c <= 40; c++)
        assert_int_equal(gram_write(r, c * chunk, &v, 1), 0);
    assert_int_equal(live, GRAM_CACHE_SLOTS);
    assert_int_equal(big[40 * chunk], 0x42);                         /* the short last chunk */
    assert_int_equal(mapped_pages[40], 3);
    assert_int_equal(unmaps, maps - GRAM_CACHE_SLOTS);
    /* the most recently used chunk survived; a failed mapping is an error */
    unsigned before = maps;
    assert_int_equal(gram_read(r, 40 * chunk, out, 1), 0);
    assert_int_equal(maps, before);
    map_fails = true;
    assert_int_equal(gram_read(r, 0, out, 1), -ENOMEM);
    assert_int_equal(gram_read(r, size, out, 1), -EFAULT);
    map_fails = false;
    gram_release(r);
    assert_int_equal(live, 0);
    test_free(big);
    test_free(r);
}

static void enable_checks_layout(void **state)
{
    struct virtq v;

    (void)state;
    virtq_reset(&v, &g.ram);
    v.desc = 0x10000, v.avail = 0x14000, v.used = 0x18000;
    v.size = 6;
    assert_int_equal(virtq_enable(&v), -EINVAL);                       /* not a power of 2 */
    v.size = 2048;
    assert_int_equal(virtq_enable(&v), -EINVAL);                       /* above the maximum */
    v.size = 8;
    v.desc = 0x10008;
    assert_int_equal(virtq_enable(&v), -EINVAL);                       /* misaligned */
    v.desc = 0x10000;
    v.used = 0x18002;
    assert_int_equal(virtq_enable(&v), -EINVAL);
    v.used = FG_RAM - 8;
    assert_int_equal(virtq_enable(&v), -EINVAL);                       /* past RAM */
    assert_false(v.enabled);
    v.used = 0x18000;
    assert_int_equal(virtq_enable(&v), 0);
    assert_true(v.enabled);
}

static void chain_in_and_out(void **state)
{
    uint8_t hdr[16], data[300];
    uint32_t id, len;

    (void)state;
    memset(g.mem + FG_DATA, 0xab, 16);
    /* readable 16 bytes, then writable 100 + 200 across two descriptors */
    fq_desc(&g, &q, 3, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 5);
    fq_desc(&g, &q, 5, FG_DATA + 0x1000, 100, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    fq_desc(&g, &q, 1, FG_DATA + 0x2000, 200, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &q, 3);
    assert_int_equal(virtq_pop(&vq, &ch), 1);
    assert_int_equal(ch.head, 3);
    assert_int_equal(ch.n_out, 1);
    assert_int_equal(ch.n_in, 2);
    assert_int_equal(ch.out_len, 16);
    assert_int_equal(ch.in_len, 300);
    assert_int_equal(virtq_chain_read(&vq, &ch, 0, hdr, 16), 0);
    assert_int_equal(hdr[15], 0xab);
    assert_int_equal(virtq_chain_read(&vq, &ch, 8, hdr, 9), -EFAULT);  /* past the out part */
    for (int i = 0; i < 300; i++)
        data[i] = (uint8_t)i;
    assert_int_equal(virtq_chain_write(&vq, &ch, 0, data, 300), 0);
    assert_memory_equal(g.mem + FG_DATA + 0x1000, data, 100);
    assert_memory_equal(g.mem + FG_DATA + 0x2000, data + 100, 200);
    assert_int_equal(virtq_chain_write(&vq, &ch, 299, data, 2), -EFAULT);
    assert_int_equal(virtq_pop(&vq, &ch), 0);                          /* nothing more */
    assert_int_equal(virtq_push(&vq, 3, 300), 0);
    assert_int_equal(fq_used_idx(&g, &q), 1);
    fq_used(&g, &q, 0, &id, &len);
    assert_int_equal(id, 3);
    assert_int_equal(len, 300);
}

static void index_wraps_around(void **state)
{
    (void)state;
    /* start near the 16-bit wrap: pending counts modulo 2^16 */
    vq.last_avail = 0xfffe;
    q.avail_idx = 0xfffe;
    fq_desc(&g, &q, 0, FG_DATA, 8, 0, 0);
    for (int i = 0; i < 4; i++)
        fq_publish(&g, &q, 0);
    for (int i = 0; i < 4; i++)
        assert_int_equal(virtq_pop(&vq, &ch), 1);
    assert_int_equal(virtq_pop(&vq, &ch), 0);
    assert_int_equal(vq.last_avail, 2);
}

static void longest_chain_is_queue_size(void **state)
{
    (void)state;
    for (unsigned i = 0; i < q.size; i++)
        fq_desc(&g, &q, i, FG_DATA + i, 1, i + 1 < q.size ? VIRTQ_DESC_F_NEXT : 0, i + 1);
    fq_publish(&g, &q, 0);
    assert_int_equal(virtq_pop(&vq, &ch), 1);
    assert_int_equal(ch.n_out, q.size);
}

static void descriptor_loop(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, FG_DATA, 8, VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &q, 1, FG_DATA, 8, VIRTQ_DESC_F_NEXT, 0);
    fq_publish(&g, &q, 0);
    expect_broken("(a loop)");
}

static void descriptor_self_loop(void **state)
{
    (void)state;
    fq_desc(&g, &q, 4, FG_DATA, 8, VIRTQ_DESC_F_NEXT, 4);
    fq_publish(&g, &q, 4);
    expect_broken("(a loop)");
}

static void next_outside_table(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, FG_DATA, 8, VIRTQ_DESC_F_NEXT, 8);
    fq_publish(&g, &q, 0);
    expect_broken("links to 8, outside its table of 8");
}

static void head_outside_table(void **state)
{
    (void)state;
    fq_publish(&g, &q, 9);
    expect_broken("names head 9");
}

static void buffer_outside_ram(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, FG_RAM - 4, 8, 0, 0);
    fq_publish(&g, &q, 0);
    expect_broken("outside guest RAM");
}

static void buffer_far_outside_ram(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, 0xfffffffffffffff0ull, 0x20, 0, 0);   /* wraps past 2^64 */
    fq_publish(&g, &q, 0);
    expect_broken("outside guest RAM");
}

static void huge_length(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, FG_DATA, 0xffffffffu, VIRTQ_DESC_F_WRITE, 0);
    fq_publish(&g, &q, 0);
    expect_broken("outside guest RAM");
}

static void avail_index_jumps(void **state)
{
    uint16_t idx = 9;   /* 9 new entries in a ring of 8 */

    (void)state;
    memcpy(g.mem + q.avail + 2, &idx, 2);
    expect_broken("available index jumped from 0 to 9");
}

static void avail_index_goes_back(void **state)
{
    uint16_t idx = 0xffff;  /* one behind what devd consumed */

    (void)state;
    memcpy(g.mem + q.avail + 2, &idx, 2);
    expect_broken("jumped");
}

static void readable_after_writable(void **state)
{
    (void)state;
    fq_desc(&g, &q, 0, FG_DATA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    fq_desc(&g, &q, 1, FG_DATA, 8, 0, 0);
    fq_publish(&g, &q, 0);
    expect_broken("readable buffer after a writable one");
}

/* An indirect table of n descriptors at FG_DATA + 0x8000, from head 0. */
static void indirect_head(uint32_t len, uint16_t flags)
{
    vq.indirect_ok = true;
    fq_desc(&g, &q, 0, FG_DATA + 0x8000, len, VIRTQ_DESC_F_INDIRECT | flags, 0);
    fq_publish(&g, &q, 0);
}

static void table_desc(unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    struct fq t = { .size = 1024, .desc = FG_DATA + 0x8000 };

    fq_desc(&g, &t, i, addr, len, flags, next);
}

static void indirect_good(void **state)
{
    (void)state;
    table_desc(0, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 2);
    table_desc(2, FG_DATA + 0x100, 512, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    table_desc(1, FG_DATA + 0x400, 1, VIRTQ_DESC_F_WRITE, 0);
    /* the write flag on the table's own descriptor is ignored (2.7.5.3.2) */
    indirect_head(3 * 16, VIRTQ_DESC_F_WRITE);
    assert_int_equal(virtq_pop(&vq, &ch), 1);
    assert_int_equal(ch.n_out, 1);
    assert_int_equal(ch.n_in, 2);
    assert_int_equal(ch.in_len, 513);
}

static void indirect_after_direct(void **state)
{
    (void)state;
    vq.indirect_ok = true;
    table_desc(0, FG_DATA + 0x100, 64, VIRTQ_DESC_F_WRITE, 0);
    fq_desc(&g, &q, 2, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 6);
    fq_desc(&g, &q, 6, FG_DATA + 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    fq_publish(&g, &q, 2);
    assert_int_equal(virtq_pop(&vq, &ch), 1);
    assert_int_equal(ch.n_out, 1);
    assert_int_equal(ch.n_in, 1);
    assert_int_equal(ch.in_len, 64);
}

static void indirect_not_negotiated(void **state)
{
    (void)state;
    table_desc(0, FG_DATA, 16, 0, 0);
    indirect_head(16, 0);
    vq.indirect_ok = false;
    expect_broken("VIRTIO_F_INDIRECT_DESC was not negotiated");
}

static void indirect_nested(void **state)
{
    (void)state;
    table_desc(0, FG_DATA + 0x8000, 16, VIRTQ_DESC_F_INDIRECT, 0);
    indirect_head(16, 0);
    expect_broken("inside an indirect table");
}

static void indirect_with_next(void **state)
{
    (void)state;
    table_desc(0, FG_DATA, 16, 0, 0);
    indirect_head(16, VIRTQ_DESC_F_NEXT);
    expect_broken("both indirect and chained");
}

static void indirect_bad_lengths(void **state)
{
    (void)state;
    indirect_head(24, 0);
    expect_broken("not a multiple of 16");
    teardown(NULL);
    setup(NULL);
    indirect_head(0, 0);
    expect_broken("not a multiple of 16");
    teardown(NULL);
    setup(NULL);
    indirect_head(16 * (VIRTQ_MAX_SEGS + 1), 0);
    expect_broken("not a multiple of 16");
}

static void indirect_table_outside_ram(void **state)
{
    (void)state;
    vq.indirect_ok = true;
    fq_desc(&g, &q, 0, FG_RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0);
    fq_publish(&g, &q, 0);
    expect_broken("indirect table");
}

static void indirect_loop(void **state)
{
    (void)state;
    table_desc(0, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 1);
    table_desc(1, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 0);
    indirect_head(4 * 16, 0);
    expect_broken("longer than its indirect table of 4 (a loop)");
}

static void indirect_next_outside_table(void **state)
{
    (void)state;
    table_desc(0, FG_DATA, 16, VIRTQ_DESC_F_NEXT, 2);
    indirect_head(2 * 16, 0);
    expect_broken("links to 2, outside its table of 2");
}

static void interrupt_suppression(void **state)
{
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;

    (void)state;
    assert_true(virtq_want_interrupt(&vq));
    memcpy(g.mem + q.avail, &flags, 2);
    assert_false(virtq_want_interrupt(&vq));
}

static void used_index_is_devds_own(void **state)
{
    uint16_t bogus = 0x1234;
    uint32_t id, len;

    (void)state;
    /* the guest scribbles over the used index: devd continues from its own */
    memcpy(g.mem + q.used + 2, &bogus, 2);
    assert_int_equal(virtq_push(&vq, 1, 7), 0);
    assert_int_equal(fq_used_idx(&g, &q), 1);
    fq_used(&g, &q, 0, &id, &len);
    assert_int_equal(id, 1);
    assert_int_equal(len, 7);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(gram_regions_and_bounds),
        T(gram_maps_on_demand),
        T(enable_checks_layout),
        T(chain_in_and_out),
        T(index_wraps_around),
        T(longest_chain_is_queue_size),
        T(descriptor_loop),
        T(descriptor_self_loop),
        T(next_outside_table),
        T(head_outside_table),
        T(buffer_outside_ram),
        T(buffer_far_outside_ram),
        T(huge_length),
        T(avail_index_jumps),
        T(avail_index_goes_back),
        T(readable_after_writable),
        T(indirect_good),
        T(indirect_after_direct),
        T(indirect_not_negotiated),
        T(indirect_nested),
        T(indirect_with_next),
        T(indirect_bad_lengths),
        T(indirect_table_outside_ram),
        T(indirect_loop),
        T(indirect_next_outside_table),
        T(interrupt_suppression),
        T(used_index_is_devds_own),
    };
    return cmocka_run_group_tests_name("virtq", tests, NULL, NULL);
}
