/*
 * dom0_linux.c - the Linux x86 boot protocol, 64-bit entry, for dom0
 * (Documentation/x86/boot.rst: "64-bit Boot Protocol").
 *
 * Why the 64-bit entry: Kiln starts vCPUs in long mode already, the entry
 * needs no real-mode setup code run, and it is what EFI loaders use.  The
 * loader's side of the contract, as done here:
 *  - the protected-mode kernel (the file from (setup_sects + 1) * 512 on)
 *    is copied to an address aligned to kernel_alignment, at or above
 *    pref_address, with init_size bytes of dom0 RAM there that overlap
 *    neither the initramfs nor the original module: the kernel decompresses
 *    in that window before it even looks at the e820 map;
 *  - a zeroed boot_params ("zero page") gets the setup header copied from
 *    the image, type_of_loader 0xff, the command line and initramfs
 *    pointers, and the e820 map dom0 may use;
 *  - entry at load + 0x200 (startup_64) in 64-bit mode, RSI = zero page,
 *    interrupts off, on page tables identity-mapping the low 4 GiB (kernel,
 *    zero page, command line; the decompressor builds its own right away).
 * The zero page, command line and page tables go to dom0's memory below
 * 1 MiB (ZP_ADDR...), which Linux keeps reserved for the firmware and
 * never reuses before it has copied them.
 *
 * The header checks, boot_params and page tables are shared with PC domUs
 * (hvm/firmware/linux_boot.c); what is dom0's own is here: placing the
 * kernel in host memory dom0 owns 1:1, and its e820 (the firmware's).
 *
 * dom0's segment selectors are the hypervisor's boot-state ones, not the
 * protocol's __BOOT_CS/__BOOT_DS: startup_64 loads its own GDT and reloads
 * every segment register before anything could read a descriptor.
 */
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <public/kiln.h>

/* dom0's low memory used for the hand-over (below 1 MiB, above the real
 * mode IVT/BDA, clear of where the decompressor puts its trampoline). */
#define ZP_ADDR      0x10000ul
#define CMDLINE_ADDR 0x11000ul
#define PT_ADDR      0x12000ul   /* PML4, PDPT, 4 PDs: 0..4 GiB in 2 MiB pages */
#define LOW_END      (PT_ADDR + LINUX_PT_PAGES * PAGE_SIZE)

#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

bool linux_is_bzimage(const struct boot_module *m)
{
    return linux_is_bzimage_64(phys_to_virt(m->start), (size_t)(m->end - m->start));
}

/* ---- e820 ----------------------------------------------------------------- */

struct e820_build {
    struct e820_entry *e;
    unsigned int nr;
    bool overflow;
};

static void e820_add(struct e820_build *b, u64 start, u64 end, u32 type)
{
    if (start >= end)
        return;
    if (b->nr && b->e[b->nr - 1].type == type &&
        b->e[b->nr - 1].addr + b->e[b->nr - 1].size == start) {
        b->e[b->nr - 1].size += end - start;
        return;
    }
    if (b->nr == BP_E820_MAX) {
        b->overflow = true;
        return;
    }
    b->e[b->nr++] = (struct e820_entry){ start, end - start, type };
}

/* The firmware's map with every RAM byte dom0 does not own turned into
 * "reserved": the hypervisor's and the domUs' memory exist, but not for
 * dom0 (Linux then also keeps PCI resources out of them). */
static int build_e820(const struct dom0_mem *mem, struct e820_entry *out)
{
    struct e820_build b = { out, 0, false };
    /* Firmware entries in address order (the Multiboot map need not be). */
    unsigned int n = boot_memmap_count(), order[BOOT_MAX_MEMRANGES];
    for (unsigned int i = 0; i < n; i++) {
        unsigned int j = i;
        while (j && boot_memmap_get(order[j - 1])->start > boot_memmap_get(i)->start) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (unsigned int k = 0; k < n; k++) {
        const struct boot_mem_range *f = boot_memmap_get(order[k]);
        if (f->type != 1) {
            e820_add(&b, f->start, f->end, f->type);
            continue;
        }
        u64 pos = f->start;
        for (unsigned int i = 0; i < mem->nr; i++) {
            u64 s = mem->r[i].start > pos ? mem->r[i].start : pos;
            u64 e = mem->r[i].end < f->end ? mem->r[i].end : f->end;
            if (s >= e)
                continue;
            e820_add(&b, pos, s, 2);
            e820_add(&b, s, e, 1);
            pos = e;
        }
        e820_add(&b, pos, f->end, 2);
    }
    if (b.overflow) {
        pr_err("dom0: e820 map needs more than %u entries\n", BP_E820_MAX);
        return -KILN_E2BIG;
    }
    for (unsigned int i = 0; i < b.nr; i++)
        pr_debug("dom0: e820 %016lx-%016lx type %u\n", (unsigned long)out[i].addr,
                 (unsigned long)(out[i].addr + out[i].size - 1), out[i].type);
    return (int)b.nr;
}

/* ---- placing the kernel ----------------------------------------------------- */

static bool overlaps(u64 a, u64 b, u64 s, u64 e)
{
    return a < e && s < b;
}

/* Lowest aligned address >= floor with size bytes of dom0 RAM that hit
 * none of the avoid ranges; 0 when there is none below 4 GiB. */
static u64 place_kernel(const struct dom0_mem *mem, u64 floor, u64 align, u64 size,
                        const struct mem_range *avoid, unsigned int nr_avoid)
{
    for (unsigned int i = 0; i < mem->nr; i++) {
        u64 a = ALIGN_UP(mem->r[i].start > floor ? mem->r[i].start : floor, align);
        while (a + size <= mem->r[i].end && a + size <= (4ul << 30)) {
            bool clash = false;
            for (unsigned int k = 0; k < nr_avoid; k++) {
                if (overlaps(a, a + size, avoid[k].start, avoid[k].end)) {
                    a = ALIGN_UP(avoid[k].end, align);
                    clash = true;
                    break;
                }
            }
            if (!clash)
                return a;
        }
    }
    return 0;
}

int linux_load(struct linux_boot *lb, const struct dom0_mem *mem)
{
    const u8 *img = phys_to_virt(lb->kernel->start);
    struct linux_image li;
    if (linux_parse_bzimage(img, lb->kernel->end - lb->kernel->start, &li)) {
        pr_err("dom0: unsupported bzImage (not 64-bit, not relocatable, or a bad header)\n");
        return -KILN_EINVAL;
    }
    if (!dom0_mem_covers(mem->r, mem->nr, 0, LOW_END)) {
        pr_err("dom0: no RAM of its own below 1 MiB for the boot hand-over\n");
        return -KILN_ENOMEM;
    }

    struct mem_range avoid[2];
    unsigned int nr_avoid = 0;
    avoid[nr_avoid++] = (struct mem_range){ lb->kernel->start, lb->kernel->end };
    u64 rd_start = 0, rd_size = 0;
    if (lb->initrd) {
        rd_start = lb->initrd->start;
        rd_size = lb->initrd->end - lb->initrd->start;
        avoid[nr_avoid++] = (struct mem_range){ lb->initrd->start, lb->initrd->end };
        if (rd_start + rd_size > (u64)li.initrd_max + 1 &&
            !(li.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)) {
            pr_err("dom0: initramfs at %lx is above the kernel's limit %x\n",
                   (unsigned long)rd_start, li.initrd_max);
            return -KILN_EINVAL;
        }
    }
    u64 load = place_kernel(mem, li.pref_address > (1ul << 20) ? li.pref_address : (16ul << 20),
                            li.align, li.init_size, avoid, nr_avoid);
    if (!load) {
        pr_err("dom0: no %lu MiB of dom0 RAM below 4 GiB to decompress the kernel in\n",
               (unsigned long)(li.init_size >> 20));
        return -KILN_ENOMEM;
    }
    kmemcpy(phys_to_virt(load), img + li.pm_offset, li.pm_size);

    static struct e820_entry e820[BP_E820_MAX];
    int n = build_e820(mem, e820);
    if (n < 0)
        return n;

    u32 cl_max = li.cmdline_size;
    if (!cl_max || cl_max > PAGE_SIZE - 1)
        cl_max = PAGE_SIZE - 1;
    size_t cl_len = kstrnlen(lb->cmdline, cl_max);
    char *cl = phys_to_virt(CMDLINE_ADDR);
    kmemcpy(cl, lb->cmdline, cl_len);
    cl[cl_len] = '\0';

    /* dom0 finds the firmware's RSDP by its own scan (rsdp 0). */
    struct linux_bp_args bpa = { .cmdline = CMDLINE_ADDR, .ramdisk = rd_start,
                                 .ramdisk_size = rd_size, .e820 = e820, .nr_e820 = (unsigned int)n };
    int rc = linux_build_boot_params(phys_to_virt(ZP_ADDR), img, &li, &bpa);
    if (rc)
        return rc;

    lb->cr3 = linux_build_page_tables(phys_to_virt(PT_ADDR), PT_ADDR);
    lb->entry = load + 0x200;
    lb->zero_page = ZP_ADDR;
    pr_info("dom0: Linux boot protocol %u.%02u, kernel at %lx (window %lu MiB), initramfs %lx+%lx, "
            "%d e820 entries\n", li.version >> 8, li.version & 0xff,
            (unsigned long)load, (unsigned long)(li.init_size >> 20), (unsigned long)rd_start,
            (unsigned long)rd_size, n);
    return 0;
}
