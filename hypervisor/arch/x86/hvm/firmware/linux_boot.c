/*
 * linux_boot.c - the parts of Linux's x86 boot protocol, 64-bit entry
 * (Documentation/arch/x86/boot.rst, zero-page.rst), that dom0 and PC domUs
 * share: checking a bzImage's setup header, writing boot_params (the
 * "zero page") and the identity page tables the 64-bit entry runs on.
 *
 * What differs stays with each loader: dom0 (arch/x86/dom0_linux.c) is
 * placed in host-physical memory it owns 1:1 and gets the firmware's e820
 * with other RAM reserved; a domU (pc_boot.c) is placed in its own RAM and
 * gets the PC domU map.  Both hand over the same way: kernel at an aligned
 * address with init_size bytes of RAM, RSI = boot_params, entry at
 * load + 0x200 in long mode.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "le.h"

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
#define HDR_MAX_END        0x290   /* what boot_params has room for */

/* boot_params fields outside the header. */
#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES      0x1e8
#define BP_E820_TABLE        0x2d0

#define HDRS_MAGIC    0x53726448u   /* "HdrS" */
#define XLF_KERNEL_64 (1u << 0)
#define MIN_VERSION   0x20c          /* 2.12: xloadflags */
#define MAX_ALIGN     (1ull << 30)

/* Boot page-table entry bits. */
#define BOOT_PTE_P  (1ull << 0)
#define BOOT_PTE_W  (1ull << 1)
#define BOOT_PTE_PS (1ull << 7)

bool linux_is_bzimage_64(const void *image, size_t size)
{
    const u8 *img = image;
    return size > 0x1000 && get32(img, HDR_MAGIC) == HDRS_MAGIC &&
           get16(img, HDR_VERSION) >= MIN_VERSION && (get16(img, HDR_XLOADFLAGS) & XLF_KERNEL_64);
}

int linux_parse_bzimage(const void *image, size_t size, struct linux_image *li)
{
    const u8 *img = image;
    kmemset(li, 0, sizeof(*li));
    if (!linux_is_bzimage_64(image, size))
        return -KILN_EINVAL;
    li->version = get16(img, HDR_VERSION);
    li->xloadflags = get16(img, HDR_XLOADFLAGS);
    li->setup_sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    li->pm_offset = (u64)(li->setup_sects + 1) * 512;
    li->hdr_end = HDR_MAGIC + img[HDR_JUMP + 1];
    li->align = get32(img, HDR_KERNEL_ALIGN);
    li->init_size = get32(img, HDR_INIT_SIZE);
    li->pref_address = get64(img, HDR_PREF_ADDRESS);
    li->initrd_max = get32(img, HDR_INITRD_MAX);
    li->cmdline_size = get32(img, HDR_CMDLINE_SIZE);
    if (li->pm_offset >= size || li->hdr_end > HDR_MAX_END || !img[HDR_RELOCATABLE] ||
        li->align < 4096 || li->align > MAX_ALIGN || (li->align & (li->align - 1)))
        return -KILN_EINVAL;
    li->pm_size = size - li->pm_offset;
    if (li->init_size < li->pm_size)
        return -KILN_EINVAL;
    return 0;
}

int linux_build_boot_params(u8 *bp, const void *image, const struct linux_image *li,
                            const struct linux_bp_args *a)
{
    if (a->nr_e820 > BP_E820_MAX || li->hdr_end > HDR_MAX_END || li->hdr_end < HDR_START)
        return -KILN_E2BIG;
    kmemset(bp, 0, BP_SIZE);
    kmemcpy(bp + HDR_START, (const u8 *)image + HDR_START, li->hdr_end - HDR_START);
    bp[HDR_TYPE_OF_LOADER] = 0xff;   /* "undefined": no registered id */
    kmemcpy(bp + BP_E820_TABLE, a->e820, a->nr_e820 * sizeof(struct e820_entry));
    bp[BP_E820_ENTRIES] = (u8)a->nr_e820;
    put32(bp, HDR_CMD_LINE_PTR, (u32)a->cmdline);
    put32(bp, BP_EXT_CMD_LINE_PTR, (u32)(a->cmdline >> 32));
    put32(bp, HDR_RAMDISK_IMAGE, (u32)a->ramdisk);
    put32(bp, BP_EXT_RAMDISK_IMAGE, (u32)(a->ramdisk >> 32));
    put32(bp, HDR_RAMDISK_SIZE, (u32)a->ramdisk_size);
    put32(bp, BP_EXT_RAMDISK_SIZE, (u32)(a->ramdisk_size >> 32));
    put64(bp, BP_ACPI_RSDP_ADDR, a->rsdp);
    return 0;
}

u64 linux_build_page_tables(u64 *buf, u64 gpa)
{
    u64 *pml4 = buf, *pdpt = buf + 512;
    kmemset(buf, 0, LINUX_PT_PAGES * 4096);
    pml4[0] = (gpa + 4096) | BOOT_PTE_P | BOOT_PTE_W;
    for (u64 g = 0; g < 4; g++) {
        u64 *pd = buf + (2 + g) * 512;
        pdpt[g] = (gpa + (2 + g) * 4096) | BOOT_PTE_P | BOOT_PTE_W;
        for (u64 i = 0; i < 512; i++)
            pd[i] = ((g << 30) + (i << 21)) | BOOT_PTE_P | BOOT_PTE_W | BOOT_PTE_PS;
    }
    return gpa;
}
