/*
 * multiboot_load.c - checking a Multiboot1 kernel and planning its load
 * into a PC domU (Multiboot Specification 0.6.96, "OS image format").
 *
 * Two ways to load, as the header's flags say:
 *  - flag 16 (the "a.out kludge"): the header's own addresses say which
 *    bytes of the file go where (header_addr locates the header in memory,
 *    so the file offset of load_addr follows), with bss up to bss_end_addr
 *    and the entry inside the loaded bytes;
 *  - otherwise the image must be an ELF32 i386 executable, loaded by its
 *    PT_LOAD segments at their physical addresses (what QEMU's -kernel and
 *    GRUB do; kvm-unit-tests' .flat files are such kernels).
 * Flags 0 (align modules) and 1 (memory information) are always satisfied;
 * flag 2 (a video mode table) and the other bits of 0-15 cannot be, and
 * the specification says the loader must then refuse the image.  Every
 * address is checked by load_plan.c against the domain's RAM.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "le.h"

#define MBH_F_PAGE_ALIGN (1u << 0)
#define MBH_F_MEMINFO    (1u << 1)
#define MBH_F_AOUT       (1u << 16)
#define MBH_F_SUPPORTED  (MBH_F_PAGE_ALIGN | MBH_F_MEMINFO)
#define MBH_F_REQUIRED   0xffffu

#define MBH_SIZE         12
#define MBH_AOUT_SIZE    32

long mb_find_header(const void *image, size_t size)
{
    const u8 *b = image;
    size_t lim = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
    for (size_t off = 0; off + MBH_SIZE <= lim; off += 4) {
        u32 magic = get32(b, off), flags = get32(b, off + 4), sum = get32(b, off + 8);
        if (magic == MB_HEADER_MAGIC && (u32)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

static int plan_aout(const u8 *b, size_t size, struct fw_plan *p)
{
    u64 h = p->mb_header_offset;
    if (h + MBH_AOUT_SIZE > size)
        return -KILN_EINVAL;
    /* All 32-bit values: the sums below stay far from 2^64. */
    u64 header_addr = get32(b, h + 12), load_addr = get32(b, h + 16);
    u64 load_end = get32(b, h + 20), bss_end = get32(b, h + 24), entry = get32(b, h + 28);
    if (load_addr > header_addr || header_addr - load_addr > h)
        return -KILN_EINVAL;
    u64 offset = h - (header_addr - load_addr);   /* file offset of load_addr */
    if (load_end && load_end <= load_addr)
        return -KILN_EINVAL;
    u64 filesz = load_end ? load_end - load_addr : size - offset;
    if (filesz > size - offset)
        return -KILN_EINVAL;
    u64 memsz = filesz;
    if (bss_end) {
        if (bss_end < load_addr + filesz)
            return -KILN_EINVAL;
        memsz = bss_end - load_addr;
    }
    if (entry < load_addr || entry - load_addr >= filesz)
        return -KILN_EINVAL;
    p->mb_aout = true;
    p->entry = (u32)entry;
    return fw_plan_add(p, offset, load_addr, filesz, memsz);
}

int mb_plan_load(const void *image, size_t size, u64 ram_bytes, struct fw_plan *p)
{
    const u8 *b = image;
    int rc = fw_plan_init(p, ram_bytes);
    if (rc)
        return rc;
    long h = mb_find_header(image, size);
    if (h < 0)
        return -KILN_EINVAL;
    p->mb_header_offset = (u32)h;
    p->mb_flags = get32(b, (size_t)h + 4);
    if (p->mb_flags & MBH_F_REQUIRED & ~MBH_F_SUPPORTED)
        return -KILN_EINVAL;
    if (p->mb_flags & MBH_F_AOUT)
        return plan_aout(b, size, p);
    /* Only ELF32 here: a 64-bit ELF with a Multiboot header is not a
     * Multiboot kernel a loader may start in 32-bit mode. */
    if (size < 5 || b[4] != 1)
        return -KILN_EINVAL;
    return fw_plan_elf(image, size, p);
}
