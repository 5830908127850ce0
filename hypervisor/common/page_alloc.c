/*
 * page_alloc.c - the binary buddy page allocator.
 *
 * Physical memory is frames 0..max_pfn-1; only ranges handed in with
 * page_alloc_add_range() are ever given out.  A free block of order k is
 * 2^k frames starting at a multiple of 2^k; it sits on free_list[k], with
 * its list node stored in the free memory itself (through the direct map),
 * and its bit set in bitmap[k].  The bitmaps are the only metadata: about
 * two bits per frame, so 1 GiB of RAM costs 64 KiB.
 *
 * Freeing merges a block with its buddy (frame number XOR 2^k) while the
 * buddy is free at the same order: fragmentation heals as pages come back,
 * which is what lets domain destroy return memory in 2 MiB blocks again.
 *
 * Pure C (no arch code) so tests/test_mm.c runs it on the host.
 */
#include <kiln/console.h>
#include <kiln/list.h>
#include <kiln/mm.h>
#include <kiln/page_alloc.h>
#include <kiln/spinlock.h>

#define BITS_PER_WORD 64

static struct {
    spinlock_t lock;
    u64 max_pfn;
    u64 *bitmap[MM_MAX_ORDER + 1];
    struct list_head free_list[MM_MAX_ORDER + 1];
    u64 nr_free[MM_MAX_ORDER + 1];   /* blocks per order, for the log */
    u64 free_pages;
    u64 total_pages;
} pa;

static u64 bitmap_words(u64 max_pfn, unsigned int order)
{
    return ((max_pfn >> order) + BITS_PER_WORD) / BITS_PER_WORD;
}

size_t page_alloc_metadata_size(u64 max_pfn)
{
    size_t words = 0;
    for (unsigned int k = 0; k <= MM_MAX_ORDER; k++)
        words += bitmap_words(max_pfn, k);
    return words * sizeof(u64);
}

void page_alloc_init(u64 max_pfn, void *metadata)
{
    u64 *w = metadata;

    spin_lock_init(&pa.lock);
    pa.max_pfn = max_pfn;
    pa.free_pages = 0;
    pa.total_pages = 0;
    for (unsigned int k = 0; k <= MM_MAX_ORDER; k++) {
        u64 n = bitmap_words(max_pfn, k);
        pa.bitmap[k] = w;
        for (u64 i = 0; i < n; i++)
            w[i] = 0;
        w += n;
        list_init(&pa.free_list[k]);
        pa.nr_free[k] = 0;
    }
}

static bool test_bit(unsigned int order, u64 pfn)
{
    u64 i = pfn >> order;
    return (pa.bitmap[order][i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1;
}

static void set_bit(unsigned int order, u64 pfn)
{
    u64 i = pfn >> order;
    pa.bitmap[order][i / BITS_PER_WORD] |= 1ull << (i % BITS_PER_WORD);
}

static void clear_bit(unsigned int order, u64 pfn)
{
    u64 i = pfn >> order;
    pa.bitmap[order][i / BITS_PER_WORD] &= ~(1ull << (i % BITS_PER_WORD));
}

static struct list_head *node_of(u64 pfn)
{
    return phys_to_virt(pfn << PAGE_SHIFT);
}

static u64 pfn_of(struct list_head *node)
{
    return virt_to_phys(node) >> PAGE_SHIFT;
}

static void push_block(u64 pfn, unsigned int order)
{
    set_bit(order, pfn);
    list_add(node_of(pfn), &pa.free_list[order]);
    pa.nr_free[order]++;
}

/* True if n can be a node on free_list[order]: that list's head, or the
 * start of a block the bitmap says is free at that order. */
static bool node_sane(const struct list_head *n, unsigned int order)
{
    if (n == &pa.free_list[order])
        return true;
    unsigned long off = (unsigned long)n - (unsigned long)phys_to_virt(0);
    u64 pfn = off >> PAGE_SHIFT;
    return !(off & ((PAGE_SIZE << order) - 1)) && pfn < pa.max_pfn && test_bit(order, pfn);
}

/*
 * A free block's list node lives in the free memory itself, so a write into
 * memory after it was freed (a stale pointer, a guest or CPU still using a
 * freed page) hits it first.  Checked whenever a block leaves its list: such
 * a write is reported here, naming the block, instead of sending the
 * allocator off to hand out a page its owner still uses (to be zeroed under
 * it).  Lock held.
 */
static void check_node(u64 pfn, unsigned int order)
{
    struct list_head *n = node_of(pfn);
    if (!test_bit(order, pfn) || !node_sane(n->next, order) || !node_sane(n->prev, order) ||
        n->next->prev != n || n->prev->next != n)
        panic("page_alloc: free block pfn %llx order %u overwritten after it was freed "
              "(node next %p prev %p)", (unsigned long long)pfn, order, (void *)n->next,
              (void *)n->prev);
}

static void remove_block(u64 pfn, unsigned int order)
{
    check_node(pfn, order);
    clear_bit(order, pfn);
    list_del(node_of(pfn));
    pa.nr_free[order]--;
}

/* True if any free block (at this order or above) covers pfn. */
static bool covered_by_free_block(u64 pfn, unsigned int order)
{
    for (unsigned int k = order; k <= MM_MAX_ORDER; k++) {
        u64 head = pfn & ~((1ull << k) - 1);
        if (test_bit(k, head))
            return true;
    }
    return false;
}

/* Puts a block back and merges it with free buddies.  Lock held. */
static void free_block(u64 pfn, unsigned int order)
{
    pa.free_pages += 1ull << order;
    while (order < MM_MAX_ORDER) {
        u64 buddy = pfn ^ (1ull << order);
        if (buddy + (1ull << order) > pa.max_pfn || !test_bit(order, buddy))
            break;
        remove_block(buddy, order);
        pfn &= ~(1ull << order);
        order++;
    }
    push_block(pfn, order);
}

void page_alloc_add_range(u64 start_pfn, u64 end_pfn)
{
    unsigned long flags = spin_lock_irqsave(&pa.lock);

    if (end_pfn > pa.max_pfn)
        end_pfn = pa.max_pfn;
    while (start_pfn < end_pfn) {
        /* Largest naturally aligned block that starts here and fits. */
        unsigned int order = 0;
        while (order < MM_MAX_ORDER &&
               !(start_pfn & ((2ull << order) - 1)) &&
               start_pfn + (2ull << order) <= end_pfn)
            order++;
        pa.total_pages += 1ull << order;
        free_block(start_pfn, order);
        start_pfn += 1ull << order;
    }
    spin_unlock_irqrestore(&pa.lock, flags);
}

long long page_alloc_pfn(unsigned int order)
{
    unsigned int k;
    unsigned long flags;
    u64 pfn;

    if (order > MM_MAX_ORDER)
        return -1;
    flags = spin_lock_irqsave(&pa.lock);
    for (k = order; k <= MM_MAX_ORDER && list_empty(&pa.free_list[k]); k++)
        ;
    if (k > MM_MAX_ORDER) {
        spin_unlock_irqrestore(&pa.lock, flags);
        return -1;
    }
    if (!node_sane(pa.free_list[k].next, k))
        panic("page_alloc: free list %u head points at %p, not a free block "
              "(memory written after it was freed)", k, (void *)pa.free_list[k].next);
    pfn = pfn_of(pa.free_list[k].next);
    remove_block(pfn, k);
    /* Split: keep the low half, free the high half one order down. */
    while (k > order) {
        k--;
        push_block(pfn + (1ull << k), k);
    }
    pa.free_pages -= 1ull << order;
    spin_unlock_irqrestore(&pa.lock, flags);
    return (long long)pfn;
}

static u64 pinned_pfns[MM_MAX_PINNED];
static unsigned int nr_pinned;

void mm_pin_page(void *p)
{
    unsigned int i = __atomic_fetch_add(&nr_pinned, 1, __ATOMIC_RELAXED);
    if (i >= MM_MAX_PINNED)
        panic("mm_pin_page: more than %u pinned pages", MM_MAX_PINNED);
    __atomic_store_n(&pinned_pfns[i], virt_to_phys(p) >> PAGE_SHIFT, __ATOMIC_RELEASE);
}

/* Panics if [pfn, pfn + count) holds a pinned page. */
static void check_not_pinned(u64 pfn, u64 count, const char *who)
{
    unsigned int n = __atomic_load_n(&nr_pinned, __ATOMIC_ACQUIRE);
    for (unsigned int i = 0; i < n && i < MM_MAX_PINNED; i++) {
        u64 p = __atomic_load_n(&pinned_pfns[i], __ATOMIC_ACQUIRE);
        if (p - pfn < count)
            panic("%s: pfn %llx is pinned (a CPU's host save area): freed while in use",
                  who, (unsigned long long)p);
    }
}

void page_free_pfn(u64 pfn, unsigned int order)
{
    unsigned long flags;

    if (order > MM_MAX_ORDER || (pfn & ((1ull << order) - 1)) ||
        pfn + (1ull << order) > pa.max_pfn)
        panic("free_pages: bad block pfn %llx order %u", (unsigned long long)pfn, order);
    check_not_pinned(pfn, 1ull << order, "free_pages");
    flags = spin_lock_irqsave(&pa.lock);
    if (covered_by_free_block(pfn, order)) {
        spin_unlock_irqrestore(&pa.lock, flags);
        panic("free_pages: pfn %llx order %u is already free (double free)",
              (unsigned long long)pfn, order);
    }
    free_block(pfn, order);
    spin_unlock_irqrestore(&pa.lock, flags);
}

void *alloc_pages(unsigned int order)
{
    long long pfn = page_alloc_pfn(order);
    return pfn < 0 ? NULL : phys_to_virt((paddr_t)pfn << PAGE_SHIFT);
}

void *alloc_pages_zeroed(unsigned int order)
{
    u64 *p = alloc_pages(order);
    if (p) {
        for (size_t i = 0; i < (PAGE_SIZE << order) / sizeof(u64); i++)
            p[i] = 0;
    }
    return p;
}

void free_pages(void *p, unsigned int order)
{
    paddr_t pa_ = virt_to_phys(p);
    if (pa_ & (PAGE_SIZE - 1))
        panic("free_pages: %p is not page aligned", p);
    page_free_pfn(pa_ >> PAGE_SHIFT, order);
}

u64 mm_free_pages(void)
{
    return __atomic_load_n(&pa.free_pages, __ATOMIC_RELAXED);
}

u64 mm_total_pages(void)
{
    return __atomic_load_n(&pa.total_pages, __ATOMIC_RELAXED);
}

/* Gives back the parts of a free block (already off the free lists) that
 * lie outside [start, end); the part inside stays taken. */
static void carve(u64 pfn, unsigned int order, u64 start, u64 end)
{
    u64 block_end = pfn + (1ull << order);
    if (pfn >= start && block_end <= end)
        return;
    if (block_end <= start || pfn >= end) {
        push_block(pfn, order);
        pa.free_pages += 1ull << order;
        return;
    }
    carve(pfn, order - 1, start, end);
    carve(pfn + (1ull << (order - 1)), order - 1, start, end);
}

/* Takes the next free block meeting [*pfn, end), keeps its part inside the
 * range and returns it in [*run_start, *run_end); false when none is left.
 * The lock is held per block only, so the caller's fn never runs under it. */
static bool claim_next(u64 *pfn, u64 end, u64 *run_start, u64 *run_end)
{
    unsigned long flags = spin_lock_irqsave(&pa.lock);

    for (; *pfn < end; (*pfn)++) {
        for (unsigned int k = 0; k <= MM_MAX_ORDER; k++) {
            u64 head = *pfn & ~((1ull << k) - 1);
            if (!test_bit(k, head))
                continue;
            u64 block_end = head + (1ull << k);
            remove_block(head, k);
            pa.free_pages -= 1ull << k;
            carve(head, k, *pfn, end);
            *run_start = *pfn;
            *run_end = block_end < end ? block_end : end;
            *pfn = *run_end;
            spin_unlock_irqrestore(&pa.lock, flags);
            return true;
        }
        /* Not covered by any free block: in use, or not RAM. */
    }
    spin_unlock_irqrestore(&pa.lock, flags);
    return false;
}

u64 page_claim_range(u64 start_pfn, u64 end_pfn, claim_fn_t fn, void *arg)
{
    u64 pfn = start_pfn, claimed = 0, run_start = 0, run_end = 0, s, e;

    if (end_pfn > pa.max_pfn)
        end_pfn = pa.max_pfn;
    while (claim_next(&pfn, end_pfn, &s, &e)) {
        claimed += e - s;
        if (s == run_end && run_end != run_start) {
            run_end = e;
            continue;
        }
        if (run_end != run_start && fn)
            fn(run_start, run_end, arg);
        run_start = s;
        run_end = e;
    }
    if (run_end != run_start && fn)
        fn(run_start, run_end, arg);
    return claimed;
}

void page_free_range(u64 start_pfn, u64 end_pfn)
{
    unsigned long flags;

    if (end_pfn > pa.max_pfn || start_pfn > end_pfn)
        panic("page_free_range: bad range %llx-%llx", (unsigned long long)start_pfn,
              (unsigned long long)end_pfn);
    check_not_pinned(start_pfn, end_pfn - start_pfn, "page_free_range");
    flags = spin_lock_irqsave(&pa.lock);
    for (u64 pfn = start_pfn; pfn < end_pfn; pfn++) {
        if (covered_by_free_block(pfn, 0)) {
            spin_unlock_irqrestore(&pa.lock, flags);
            panic("page_free_range: pfn %llx is already free (double free)",
                  (unsigned long long)pfn);
        }
    }
    while (start_pfn < end_pfn) {
        unsigned int order = 0;
        while (order < MM_MAX_ORDER && !(start_pfn & ((2ull << order) - 1)) &&
               start_pfn + (2ull << order) <= end_pfn)
            order++;
        free_block(start_pfn, order);
        start_pfn += 1ull << order;
    }
    spin_unlock_irqrestore(&pa.lock, flags);
}

u64 mm_claim_range(paddr_t start, paddr_t end, claim_fn_t fn, void *arg)
{
    return page_claim_range(ALIGN_UP(start, PAGE_SIZE) >> PAGE_SHIFT,
                            ALIGN_DOWN(end, PAGE_SIZE) >> PAGE_SHIFT, fn, arg);
}

void mm_free_range(paddr_t start, paddr_t end)
{
    if ((start | end) & (PAGE_SIZE - 1))
        panic("mm_free_range: %llx-%llx is not page aligned", (unsigned long long)start,
              (unsigned long long)end);
    page_free_range(start >> PAGE_SHIFT, end >> PAGE_SHIFT);
}

u64 page_alloc_free_blocks(unsigned int order)
{
    return order <= MM_MAX_ORDER ? pa.nr_free[order] : 0;
}
