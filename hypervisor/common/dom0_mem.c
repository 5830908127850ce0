/*
 * dom0_mem.c - which physical RAM dom0 gets.
 *
 * dom0 is mapped 1:1, so its RAM is a set of host ranges rather than a
 * count of pages: the firmware's RAM below 1 MiB (Linux needs real-mode
 * memory there; the hypervisor only used it for the AP trampoline, dead
 * once the CPUs are up), its own kernel and initramfs modules, and pages
 * taken from the allocator lowest address first (mm_claim_range), so that
 * dom0, like a machine without a hypervisor, has plenty of memory below
 * 4 GiB for 32-bit DMA.  Pages the hypervisor had already allocated stay
 * its own and become holes in dom0's map.  The rest of RAM stays with the
 * allocator for the hypervisor and the domUs.
 *
 * Default share: half of the RAM the allocator manages; `dom0_mem=SIZE`
 * (K/M/G suffixes) sets it, always leaving the hypervisor at least
 * DOM0_HV_MIN_PAGES.
 */
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <public/kiln.h>

#define DOM0_HV_MIN_PAGES ((32ul << 20) >> PAGE_SHIFT)
#define DOM0_MIN_PAGES    ((128ul << 20) >> PAGE_SHIFT)

static void recount(struct dom0_mem *m)
{
    m->pages = 0;
    for (unsigned int i = 0; i < m->nr; i++)
        m->pages += (m->r[i].end - m->r[i].start) >> PAGE_SHIFT;
}

int dom0_mem_add(struct dom0_mem *m, paddr_t start, paddr_t end)
{
    if (start >= end)
        return 0;
    unsigned int i = 0;
    while (i < m->nr && m->r[i].end < start)
        i++;
    if (i < m->nr && m->r[i].start <= end) {
        /* Overlaps or touches r[i]: grow it, then swallow what it reaches. */
        if (start < m->r[i].start)
            m->r[i].start = start;
        if (end > m->r[i].end)
            m->r[i].end = end;
        while (i + 1 < m->nr && m->r[i + 1].start <= m->r[i].end) {
            if (m->r[i + 1].end > m->r[i].end)
                m->r[i].end = m->r[i + 1].end;
            kmemmove(&m->r[i + 1], &m->r[i + 2], (m->nr - i - 2) * sizeof(m->r[0]));
            m->nr--;
        }
    } else {
        if (m->nr == DOM0_MAX_RANGES)
            return -KILN_E2BIG;
        kmemmove(&m->r[i + 1], &m->r[i], (m->nr - i) * sizeof(m->r[0]));
        m->r[i] = (struct mem_range){ start, end };
        m->nr++;
    }
    recount(m);
    return 0;
}

bool dom0_mem_covers(const struct mem_range *r, unsigned int nr, paddr_t start, paddr_t end)
{
    if (end < start)
        return false;
    for (unsigned int i = 0; i < nr; i++)
        if (start >= r[i].start && end <= r[i].end)
            return true;
    return false;
}

static void take_run(u64 start_pfn, u64 end_pfn, void *arg)
{
    struct dom0_mem *m = arg;
    paddr_t s = start_pfn << PAGE_SHIFT, e = end_pfn << PAGE_SHIFT;
    if (m->full || dom0_mem_add(m, s, e)) {
        /* No room to describe it to dom0: the hypervisor keeps it. */
        m->full = true;
        mm_free_range(s, e);
    }
}

void dom0_mem_claim(struct dom0_mem *m, u64 target_pages)
{
    for (unsigned int i = 0; i < boot_memmap_count() && m->pages < target_pages; i++) {
        const struct boot_mem_range *b = boot_memmap_get(i);
        if (b->type != 1)
            continue;
        paddr_t a = ALIGN_UP(b->start, PAGE_SIZE), end = ALIGN_DOWN(b->end, PAGE_SIZE);
        /* [a, a + the pages still wanted) holds no more than that many
         * free pages: claim it, and repeat for what holes left missing. */
        while (a < end && m->pages < target_pages && !m->full) {
            paddr_t c = a + ((target_pages - m->pages) << PAGE_SHIFT);
            if (c > end || c < a)
                c = end;
            mm_claim_range(a, c, take_run, m);
            a = c;
        }
    }
    if (m->full)
        pr_warn("dom0: RAM too fragmented, dom0 gets %lu MiB in %u ranges\n",
                (unsigned long)(m->pages >> (20 - PAGE_SHIFT)), m->nr);
}

u64 dom0_mem_target(void)
{
    u64 total = mm_total_pages();
    u64 want = total / 2;
    const char *opt = cmdline_get("dom0_mem");
    u64 bytes;
    if (opt) {
        if (kparse_u64(opt, kstrlen(opt), &bytes) == 0 && bytes >= (DOM0_MIN_PAGES << PAGE_SHIFT))
            want = bytes >> PAGE_SHIFT;
        else
            pr_warn("dom0: bad dom0_mem=%s (at least 128M), using %lu MiB\n", opt,
                    (unsigned long)(want >> (20 - PAGE_SHIFT)));
    }
    if (total > DOM0_HV_MIN_PAGES && want > total - DOM0_HV_MIN_PAGES)
        want = total - DOM0_HV_MIN_PAGES;
    return want;
}
