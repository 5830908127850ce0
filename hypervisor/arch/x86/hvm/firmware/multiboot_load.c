/*
 * multiboot_load.c - checking a Multiboot1 kernel and planning its load
 * into a PC domU (Multiboot Specification 0.6.96, "OS image format").
 *
 * The image comes from whoever built the domain and is treated as hostile:
 * every field is checked before anything is planned, sums are done in 64
 * bits so no 32-bit field can wrap, and the plan only ever names guest
 * RAM the e820 calls RAM (below FW_LOW_RAM_END or from 1 MiB to the top),
 * so a kernel can overwrite neither the ACPI tables nor memory outside the
 * domain.  The plan is pure data; pc_boot.c copies it into the domain.
 *
 * Two ways to load, as the header's flags say:
 *  - flag 16 (the "a.out kludge"): the header's own addresses say which
 *    bytes of the file go where (header_addr locates the header in memory,
 *    so the file offset of load_addr follows), bss to bss_end_addr;
 *  - otherwise the image must be an ELF32 i386 executable, loaded by its
 *    PT_LOAD segments at their physical addresses (what QEMU's -kernel and
 *    GRUB do; kvm-unit-tests' .flat files are such kernels).
 * Flags 0 (align modules) and 1 (memory information) are always satisfied;
 * flag 2 (a video mode table) and any other bit of 0-15 cannot be, and the
 * specification says the loader must then refuse the image.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>

#define MBH_F_PAGE_ALIGN (1u << 0)
#define MBH_F_MEMINFO    (1u << 1)
#define MBH_F_AOUT       (1u << 16)
#define MBH_F_SUPPORTED  (MBH_F_PAGE_ALIGN | MBH_F_MEMINFO)
#define MBH_F_REQUIRED   0xffffu

#define MBH_SIZE         12
#define MBH_AOUT_SIZE    32

struct elf32_ehdr {
    u8 ident[16];
    u16 type, machine;
    u32 version, entry, phoff, shoff, flags;
    u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} __packed;

struct elf32_phdr {
    u32 type, offset, vaddr, paddr, filesz, memsz, flags, align;
} __packed;

#define PT_LOAD 1

static u32 rd32(const u8 *b, size_t off)
{
    u32 v;
    kmemcpy(&v, b + off, 4);
    return v;
}

long mb_find_header(const void *image, size_t size)
{
    const u8 *b = image;
    size_t lim = size < MB_SEARCH_BYTES ? size : MB_SEARCH_BYTES;
    for (size_t off = 0; off + MBH_SIZE <= lim; off += 4) {
        u32 magic = rd32(b, off), flags = rd32(b, off + 4), sum = rd32(b, off + 8);
        if (magic == MB_HEADER_MAGIC && (u32)(magic + flags + sum) == 0)
            return (long)off;
    }
    return -1;
}

/* [dst, dst + len) inside RAM the e820 gives the guest. */
static bool in_guest_ram(u64 dst, u64 len, u64 ram_bytes)
{
    u64 end = dst + len;   /* no overflow: both below 2^33 when called */
    if (end <= FW_LOW_RAM_END)
        return true;
    return dst >= FW_HIGH_RAM_START && end <= ram_bytes;
}

static int add_segment(struct mb_plan *p, u64 ram_bytes, u64 offset, u64 dst, u64 filesz,
                       u64 memsz)
{
    if (p->nr_seg == MB_MAX_SEGMENTS || filesz > memsz || dst > 0xffffffffu ||
        memsz > 0xffffffffu || !in_guest_ram(dst, memsz, ram_bytes))
        return -KILN_EINVAL;
    for (unsigned int i = 0; i < p->nr_seg; i++)
        if (dst < p->seg[i].dst + p->seg[i].memsz && p->seg[i].dst < dst + memsz)
            return -KILN_EINVAL;   /* overlapping segments: malformed */
    if (!memsz)
        return 0;
    p->seg[p->nr_seg++] = (struct mb_segment){ offset, dst, filesz, memsz };
    if (dst < p->lowest)
        p->lowest = dst;
    if (dst + memsz > p->highest)
        p->highest = dst + memsz;
    return 0;
}

static int plan_aout(const u8 *b, size_t size, u64 ram_bytes, struct mb_plan *p)
{
    u64 h = p->header_offset;
    if (h + MBH_AOUT_SIZE > size)
        return -KILN_EINVAL;
    u64 header_addr = rd32(b, h + 12), load_addr = rd32(b, h + 16);
    u64 load_end = rd32(b, h + 20), bss_end = rd32(b, h + 24), entry = rd32(b, h + 28);
    /* The file offset where load_addr's byte is. */
    if (load_addr > header_addr || header_addr - load_addr > h)
        return -KILN_EINVAL;
    u64 offset = h - (header_addr - load_addr);
    u64 filesz = load_end ? load_end - load_addr : size - offset;
    if (load_end && load_end <= load_addr)
        return -KILN_EINVAL;
    if (filesz > size - offset)
        return -KILN_EINVAL;
    u64 memsz = filesz;
    if (bss_end) {
        if (bss_end < load_addr + filesz)
            return -KILN_EINVAL;
        memsz = bss_end - load_addr;
    }
    if (entry < load_addr || entry >= load_addr + filesz)
        return -KILN_EINVAL;
    p->aout = true;
    p->entry = (u32)entry;
    return add_segment(p, ram_bytes, offset, load_addr, filesz, memsz);
}

static int plan_elf(const u8 *b, size_t size, u64 ram_bytes, struct mb_plan *p)
{
    struct elf32_ehdr eh;
    if (size < sizeof(eh))
        return -KILN_EINVAL;
    kmemcpy(&eh, b, sizeof(eh));
    if (eh.ident[0] != 0x7f || eh.ident[1] != 'E' || eh.ident[2] != 'L' || eh.ident[3] != 'F' ||
        eh.ident[4] != 1 /* 32-bit */ || eh.ident[5] != 1 /* little endian */ ||
        eh.type != 2 /* EXEC */ || eh.machine != 3 /* i386 */ ||
        eh.phentsize != sizeof(struct elf32_phdr) || !eh.phnum ||
        eh.phoff > size || (u64)eh.phnum * sizeof(struct elf32_phdr) > size - eh.phoff)
        return -KILN_EINVAL;
    bool entry_found = false;
    for (unsigned int i = 0; i < eh.phnum; i++) {
        struct elf32_phdr ph;
        kmemcpy(&ph, b + eh.phoff + (u64)i * sizeof(ph), sizeof(ph));
        if (ph.type != PT_LOAD)
            continue;
        if (ph.offset > size || ph.filesz > size - ph.offset)
            return -KILN_EINVAL;
        int rc = add_segment(p, ram_bytes, ph.offset, ph.paddr, ph.filesz, ph.memsz);
        if (rc)
            return rc;
        /* The entry is a virtual address: found in a segment's loaded
         * bytes, it is translated to where they are in physical memory. */
        if (!entry_found && eh.entry >= ph.vaddr && (u64)eh.entry < (u64)ph.vaddr + ph.filesz) {
            p->entry = (u32)(ph.paddr + (eh.entry - ph.vaddr));
            entry_found = true;
        }
    }
    return entry_found && p->nr_seg ? 0 : -KILN_EINVAL;
}

int mb_plan_load(const void *image, size_t size, u64 ram_bytes, struct mb_plan *p)
{
    const u8 *b = image;
    kmemset(p, 0, sizeof(*p));
    p->lowest = ~0ull;
    if (ram_bytes > FW_MMIO_HOLE_START || ram_bytes < 2 * FW_HIGH_RAM_START)
        return -KILN_EINVAL;
    long h = mb_find_header(image, size);
    if (h < 0)
        return -KILN_EINVAL;
    p->header_offset = (u32)h;
    p->flags = rd32(b, (size_t)h + 4);
    if (p->flags & MBH_F_REQUIRED & ~MBH_F_SUPPORTED)
        return -KILN_EINVAL;
    return (p->flags & MBH_F_AOUT) ? plan_aout(b, size, ram_bytes, p)
                                   : plan_elf(b, size, ram_bytes, p);
}

u64 mb_find_free(const struct mb_plan *p, u64 from, u64 limit, u64 len, u64 align)
{
    u64 at = ALIGN_UP(from, align);
    /* Each pass either succeeds or moves past one segment for good. */
    for (unsigned int pass = 0; pass <= p->nr_seg; pass++) {
        if (at > limit || len > limit - at)
            return 0;
        bool clash = false;
        for (unsigned int i = 0; i < p->nr_seg; i++) {
            const struct mb_segment *s = &p->seg[i];
            if (at < s->dst + s->memsz && s->dst < at + len) {
                at = ALIGN_UP(s->dst + s->memsz, align);
                clash = true;
            }
        }
        if (!clash)
            return at;
    }
    return 0;
}
