/*
 * mm_init.c - hand all usable RAM from the Multiboot map to the allocator.
 *
 * Kept out of the allocator: the first MiB (BIOS data, the AP trampoline),
 * the hypervisor image, the modules (the boot domains are built from them;
 * mm_release_range() returns them later), and the allocator's own bitmaps,
 * which are carved from the first free piece large enough.
 */
#include <kiln/arch.h>
#include <kiln/boot.h>
#include <kiln/console.h>
#include <kiln/mm.h>
#include <kiln/page_alloc.h>

#define MAX_RESERVED (BOOT_MAX_MODULES + 4)
#define E820_RAM 1

extern char _image_start[], _end[];

struct range {
    paddr_t start, end;
};

static struct range reserved[MAX_RESERVED];
static unsigned int nr_reserved;
static paddr_t usable_top;

static void reserve(paddr_t start, paddr_t end)
{
    if (nr_reserved == MAX_RESERVED)
        panic("mm: too many reserved ranges");
    reserved[nr_reserved++] = (struct range){ ALIGN_DOWN(start, PAGE_SIZE), ALIGN_UP(end, PAGE_SIZE) };
}

/* Calls fn on every page-aligned piece of [start, end) outside reserved[i..]. */
static void for_each_free_piece(paddr_t start, paddr_t end, unsigned int i,
                                void (*fn)(paddr_t, paddr_t))
{
    start = ALIGN_UP(start, PAGE_SIZE);
    end = ALIGN_DOWN(end, PAGE_SIZE);
    if (start >= end)
        return;
    for (; i < nr_reserved; i++) {
        const struct range *r = &reserved[i];
        if (r->end <= start || r->start >= end)
            continue;
        for_each_free_piece(start, r->start, i + 1, fn);
        for_each_free_piece(r->end, end, i + 1, fn);
        return;
    }
    fn(start, end);
}

static void for_each_free_range(void (*fn)(paddr_t, paddr_t))
{
    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *m = boot_memmap_get(i);
        if (m->type != E820_RAM)
            continue;
        paddr_t end = m->end < usable_top ? m->end : usable_top;
        for_each_free_piece(m->start, end, 0, fn);
    }
}

static size_t meta_size;
static paddr_t meta_at;

static void find_metadata_home(paddr_t start, paddr_t end)
{
    if (!meta_at && end - start >= meta_size)
        meta_at = start;
}

static void give_to_allocator(paddr_t start, paddr_t end)
{
    page_alloc_add_range(start >> PAGE_SHIFT, end >> PAGE_SHIFT);
}

void mm_release_range(paddr_t start, paddr_t end)
{
    give_to_allocator(ALIGN_UP(start, PAGE_SIZE), ALIGN_DOWN(end, PAGE_SIZE));
}

void mm_init(void)
{
    paddr_t top = 0;

    for (unsigned int i = 0; i < boot_memmap_count(); i++) {
        const struct boot_mem_range *m = boot_memmap_get(i);
        if (m->type == E820_RAM && m->end > top)
            top = m->end;
    }
    if (!top)
        panic("mm: the boot loader reported no usable RAM");
    usable_top = ALIGN_DOWN(top, PAGE_SIZE);
    if (paging_extend_directmap(usable_top) < 0) {
        pr_warn("mm: no 1 GiB pages: RAM above 4 GiB is not used");
        usable_top = 4ul << 30;
    }

    reserve(0, 0x100000);
    reserve(virt_to_phys(_image_start), virt_to_phys(_end));
    for (unsigned int i = 0; i < boot_module_count(); i++) {
        const struct boot_module *m = boot_module_get(i);
        reserve(m->start, m->end);
    }

    meta_size = ALIGN_UP(page_alloc_metadata_size(usable_top >> PAGE_SHIFT), PAGE_SIZE);
    for_each_free_range(find_metadata_home);
    if (!meta_at)
        panic("mm: no room for %zu bytes of allocator bitmaps", meta_size);
    reserve(meta_at, meta_at + meta_size);

    page_alloc_init(usable_top >> PAGE_SHIFT, phys_to_virt(meta_at));
    for_each_free_range(give_to_allocator);

    pr_info("memory: %llu MiB managed, %llu pages free, top of RAM %llx, bitmaps %zu KiB at %llx",
            (unsigned long long)(mm_total_pages() >> (20 - PAGE_SHIFT)),
            (unsigned long long)mm_free_pages(), (unsigned long long)usable_top,
            meta_size >> 10, (unsigned long long)meta_at);
}
