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
 * dom0's segment selectors are the hypervisor's boot-state ones, not the
 * protocol's __BOOT_CS/__BOOT_DS: startup_64 loads its own GDT and reloads
 * every segment register before anything could read a descriptor.
 */
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <public/kiln.h>

/* Setup header fields: offsets in the image and in boot_params alike. */
#define HDR_START          0x1f1
#define HDR_SETUP_SECTS    0x1f1
#define HDR_JUMP           0x200   /* EB xx: the header ends at 0x202 + xx */
#define HDR_MAGIC          0x202
#define HDR_VERSION        0x206
#define HDR_TYPE_OF_LOADER 0x210
#define HDR_RAMDISK_IMAGE  0x218
#define HDR_RAMDISK_SIZE   0x21c
#define HDR_CMD_LINE_PTR   0x228
#define HDR_INITRD_MAX     0x22c
#define HDR_KERNEL_ALIGN   0x230
#define HDR_RELOCATABLE    0x234
#define HDR_XLOADFLAGS     0x236
#define HDR_CMDLINE_SIZE   0x238
#define HDR_PREF_ADDRESS   0x258
#define HDR_INIT_SIZE      0x260

/* boot_params fields outside the header. */
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0
#define E820_MAX             128

#define HDRS_MAGIC   0x53726448u   /* "HdrS" */
#define XLF_KERNEL_64 (1u << 0)
#define XLF_CAN_BE_LOADED_ABOVE_4G (1u << 1)

/* dom0's low memory used for the hand-over (below 1 MiB, above the real
 * mode IVT/BDA, clear of where the decompressor puts its trampoline). */
#define ZP_ADDR      0x10000ul
#define CMDLINE_ADDR 0x11000ul
#define PT_ADDR      0x12000ul   /* PML4, PDPT, 4 PDs: 0..4 GiB in 2 MiB pages */
#define PT_PAGES     6
#define LOW_END      (PT_ADDR + PT_PAGES * PAGE_SIZE)

/* Boot page-table entry bits (x86.h is for code that runs on the machine;
 * this file is unit-tested on the host). */
#define BOOT_PTE_P  (1ul << 0)
#define BOOT_PTE_W  (1ul << 1)
#define BOOT_PTE_PS (1ul << 7)

struct e820_entry {
    u64 addr, size;
    u32 type;
} __packed;

static u8 rd8(const u8 *b, u32 off) { return b[off]; }
static u16 rd16(const u8 *b, u32 off) { u16 v; kmemcpy(&v, b + off, 2); return v; }
static u32 rd32(const u8 *b, u32 off) { u32 v; kmemcpy(&v, b + off, 4); return v; }
static u64 rd64(const u8 *b, u32 off) { u64 v; kmemcpy(&v, b + off, 8); return v; }
static void wr32(u8 *b, u32 off, u32 v) { kmemcpy(b + off, &v, 4); }

bool linux_is_bzimage(const struct boot_module *m)
{
    const u8 *img = phys_to_virt(m->start);
    size_t size = (size_t)(m->end - m->start);
    return size > 0x1000 && rd32(img, HDR_MAGIC) == HDRS_MAGIC &&
           rd16(img, HDR_VERSION) >= 0x20c && (rd16(img, HDR_XLOADFLAGS) & XLF_KERNEL_64);
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
    if (b->nr == E820_MAX) {
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
        pr_err("dom0: e820 map needs more than %u entries\n", E820_MAX);
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

static void build_page_tables(void)
{
    u64 *pml4 = phys_to_virt(PT_ADDR), *pdpt = phys_to_virt(PT_ADDR + PAGE_SIZE);
    kmemset(pml4, 0, PT_PAGES * PAGE_SIZE);
    pml4[0] = (PT_ADDR + PAGE_SIZE) | BOOT_PTE_P | BOOT_PTE_W;
    for (u64 g = 0; g < 4; g++) {
        u64 pd_pa = PT_ADDR + (2 + g) * PAGE_SIZE;
        u64 *pd = phys_to_virt(pd_pa);
        pdpt[g] = pd_pa | BOOT_PTE_P | BOOT_PTE_W;
        for (u64 i = 0; i < 512; i++)
            pd[i] = ((g << 30) + (i << 21)) | BOOT_PTE_P | BOOT_PTE_W | BOOT_PTE_PS;
    }
}

int linux_load(struct linux_boot *lb, const struct dom0_mem *mem)
{
    const u8 *img = phys_to_virt(lb->kernel->start);
    u64 img_size = lb->kernel->end - lb->kernel->start;
    unsigned int setup_sects = rd8(img, HDR_SETUP_SECTS) ? rd8(img, HDR_SETUP_SECTS) : 4;
    u64 pm_off = (u64)(setup_sects + 1) * 512;
    u32 hdr_end = HDR_MAGIC + rd8(img, HDR_JUMP + 1);
    u64 align = rd32(img, HDR_KERNEL_ALIGN), init_size = rd32(img, HDR_INIT_SIZE);
    u64 pref = rd64(img, HDR_PREF_ADDRESS);
    u16 xlf = rd16(img, HDR_XLOADFLAGS);

    if (pm_off >= img_size || hdr_end > 0x290 || !rd8(img, HDR_RELOCATABLE) ||
        align < PAGE_SIZE || (align & (align - 1)) || init_size < img_size - pm_off) {
        pr_err("dom0: unsupported bzImage (setup_sects %u, relocatable %u, alignment %lx)\n",
               setup_sects, rd8(img, HDR_RELOCATABLE), (unsigned long)align);
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
        if (rd_start + rd_size > (u64)rd32(img, HDR_INITRD_MAX) + 1 &&
            !(xlf & XLF_CAN_BE_LOADED_ABOVE_4G)) {
            pr_err("dom0: initramfs at %lx is above the kernel's limit %x\n",
                   (unsigned long)rd_start, rd32(img, HDR_INITRD_MAX));
            return -KILN_EINVAL;
        }
    }
    u64 load = place_kernel(mem, pref > (1ul << 20) ? pref : (16ul << 20), align, init_size,
                            avoid, nr_avoid);
    if (!load) {
        pr_err("dom0: no %lu MiB of dom0 RAM below 4 GiB to decompress the kernel in\n",
               (unsigned long)(init_size >> 20));
        return -KILN_ENOMEM;
    }
    kmemcpy(phys_to_virt(load), img + pm_off, img_size - pm_off);

    u8 *zp = phys_to_virt(ZP_ADDR);
    kmemset(zp, 0, PAGE_SIZE);
    kmemcpy(zp + HDR_START, img + HDR_START, hdr_end - HDR_START);
    int n = build_e820(mem, (struct e820_entry *)(zp + BP_E820_TABLE));
    if (n < 0)
        return n;
    zp[BP_E820_ENTRIES] = (u8)n;
    zp[HDR_TYPE_OF_LOADER] = 0xff;   /* "undefined": no registered id */

    u32 cl_max = rd32(img, HDR_CMDLINE_SIZE);
    if (!cl_max || cl_max > PAGE_SIZE - 1)
        cl_max = PAGE_SIZE - 1;
    size_t cl_len = kstrnlen(lb->cmdline, cl_max);
    char *cl = phys_to_virt(CMDLINE_ADDR);
    kmemcpy(cl, lb->cmdline, cl_len);
    cl[cl_len] = '\0';
    wr32(zp, HDR_CMD_LINE_PTR, (u32)CMDLINE_ADDR);
    wr32(zp, BP_EXT_CMD_LINE_PTR, 0);
    wr32(zp, HDR_RAMDISK_IMAGE, (u32)rd_start);
    wr32(zp, BP_EXT_RAMDISK_IMAGE, (u32)(rd_start >> 32));
    wr32(zp, HDR_RAMDISK_SIZE, (u32)rd_size);
    wr32(zp, BP_EXT_RAMDISK_SIZE, (u32)(rd_size >> 32));

    build_page_tables();
    lb->entry = load + 0x200;
    lb->zero_page = ZP_ADDR;
    lb->cr3 = PT_ADDR;
    pr_info("dom0: Linux boot protocol %u.%02u, kernel at %lx (window %lu MiB), initramfs %lx+%lx, "
            "%d e820 entries\n", rd16(img, HDR_VERSION) >> 8, rd16(img, HDR_VERSION) & 0xff,
            (unsigned long)load, (unsigned long)(init_size >> 20), (unsigned long)rd_start,
            (unsigned long)rd_size, n);
    return 0;
}
