/*
 * load_plan.c - where the pieces of a kernel image go in a PC domU's RAM,
 * checked before a byte is copied.
 *
 * Images come from whoever built the domain and are treated as hostile:
 * every field is checked, sums are done in 64 bits from 32-bit values (or
 * checked before adding) so nothing wraps, and a plan only ever names
 * guest RAM the e820 calls RAM (below FW_LOW_RAM_END, or from 1 MiB to
 * the top), so a kernel can overwrite neither the ACPI tables nor memory
 * outside the domain.  The plan is pure data: pc_boot.c copies it into
 * the domain.  Multiboot (multiboot_load.c) and PVH (pvh.c) both use it.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "elf.h"
#include "le.h"

int fw_plan_init(struct fw_plan *p, u64 ram_bytes)
{
    kmemset(p, 0, sizeof(*p));
    p->lowest = ~0ull;
    p->ram_bytes = ram_bytes;
    if (ram_bytes > FW_MMIO_HOLE_START || ram_bytes < 2 * FW_HIGH_RAM_START)
        return -KILN_EINVAL;
    return 0;
}

int fw_plan_add(struct fw_plan *p, u64 offset, u64 dst, u64 filesz, u64 memsz)
{
    if (p->nr_seg == FW_MAX_SEGMENTS || filesz > memsz || dst > 0xffffffffu ||
        memsz > 0xffffffffu)
        return -KILN_EINVAL;
    u64 end = dst + memsz;   /* both < 2^32: no overflow */
    if (end > FW_LOW_RAM_END && (dst < FW_HIGH_RAM_START || end > p->ram_bytes))
        return -KILN_EINVAL;
    for (unsigned int i = 0; i < p->nr_seg; i++)
        if (dst < p->seg[i].dst + p->seg[i].memsz && p->seg[i].dst < end)
            return -KILN_EINVAL;   /* overlapping segments: malformed */
    if (!memsz)
        return 0;
    p->seg[p->nr_seg++] = (struct fw_segment){ offset, dst, filesz, memsz };
    if (dst < p->lowest)
        p->lowest = dst;
    if (end > p->highest)
        p->highest = end;
    return 0;
}

bool fw_plan_holds(const struct fw_plan *p, u64 gpa)
{
    for (unsigned int i = 0; i < p->nr_seg; i++)
        if (gpa >= p->seg[i].dst && gpa - p->seg[i].dst < p->seg[i].filesz)
            return true;
    return false;
}

u64 fw_plan_find_free(const struct fw_plan *p, u64 from, u64 limit, u64 len, u64 align)
{
    u64 at = ALIGN_UP(from, align);
    /* Each pass either succeeds or moves past a segment for good. */
    for (unsigned int pass = 0; pass <= p->nr_seg; pass++) {
        if (at > limit || len > limit - at)
            return 0;
        bool clash = false;
        for (unsigned int i = 0; i < p->nr_seg; i++) {
            const struct fw_segment *s = &p->seg[i];
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

int elf_parse(const void *image, size_t size, struct elf_info *e)
{
    const u8 *b = image;
    if (size < 64 || b[0] != 0x7f || b[1] != 'E' || b[2] != 'L' || b[3] != 'F' ||
        b[5] != 1 /* little endian */ || get16(b, 16) != 2 /* EXEC */)
        return -KILN_EINVAL;
    if (b[4] == 1 && get16(b, 18) == 3 /* i386 */) {
        e->is64 = false;
        e->entry = get32(b, 24);
        e->phoff = get32(b, 28);
        e->phentsize = get16(b, 42);
        e->phnum = get16(b, 44);
    } else if (b[4] == 2 && get16(b, 18) == 62 /* x86-64 */) {
        e->is64 = true;
        e->entry = get64(b, 24);
        e->phoff = get64(b, 32);
        e->phentsize = get16(b, 54);
        e->phnum = get16(b, 56);
    } else {
        return -KILN_EINVAL;
    }
    if (e->phentsize != (e->is64 ? 56 : 32) || !e->phnum || e->phoff > size ||
        (u64)e->phnum * e->phentsize > size - e->phoff)
        return -KILN_EINVAL;
    return 0;
}

void elf_phdr(const void *image, const struct elf_info *e, unsigned int i, struct elf_seg *s)
{
    const u8 *ph = (const u8 *)image + e->phoff + (u64)i * e->phentsize;
    s->type = get32(ph, 0);
    if (e->is64) {
        s->offset = get64(ph, 8);
        s->vaddr = get64(ph, 16);
        s->paddr = get64(ph, 24);
        s->filesz = get64(ph, 32);
        s->memsz = get64(ph, 40);
    } else {
        s->offset = get32(ph, 4);
        s->vaddr = get32(ph, 8);
        s->paddr = get32(ph, 12);
        s->filesz = get32(ph, 16);
        s->memsz = get32(ph, 20);
    }
}

int fw_plan_elf(const void *image, size_t size, struct fw_plan *p)
{
    struct elf_info e;
    int rc = elf_parse(image, size, &e);
    if (rc)
        return rc;
    bool entry_found = false;
    for (unsigned int i = 0; i < e.phnum; i++) {
        struct elf_seg s;
        elf_phdr(image, &e, i, &s);
        if (s.type != PT_LOAD)
            continue;
        if (s.offset > size || s.filesz > size - s.offset)
            return -KILN_EINVAL;
        rc = fw_plan_add(p, s.offset, s.paddr, s.filesz, s.memsz);
        if (rc)
            return rc;
        /* The entry is a virtual address: found in a segment's loaded
         * bytes, it is translated to where they are in physical memory
         * (fw_plan_add bounded paddr and filesz below 4 GiB). */
        if (!entry_found && e.entry >= s.vaddr && e.entry - s.vaddr < s.filesz) {
            p->entry = (u32)(s.paddr + (e.entry - s.vaddr));
            entry_found = true;
        }
    }
    return entry_found ? 0 : -KILN_EINVAL;
}
