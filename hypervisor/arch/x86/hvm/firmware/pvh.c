/*
 * pvh.c - the PVH boot of a PC domU: hvm_start_info and the entry note.
 *
 * The ABI (Xen's public arch-x86/hvm/start_info.h, also what Linux's
 * arch/x86/platform/pvh and QEMU's PVH loader follow): the kernel is an
 * ELF whose XEN_ELFNOTE_PHYS32_ENTRY note (type 18, owner "Xen") gives a
 * 32-bit physical entry point, entered in 32-bit flat protected mode,
 * paging off, with EBX = the GPA of struct hvm_start_info.  Version 1 of
 * that structure adds the memory map, so the kernel need not ask for an
 * e820 anywhere else; the RSDP's address spares it the scan.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "elf.h"
#include "le.h"

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_MAX_MODS 64
#define PVH_STRING_MAX 4096

int fw_pvh_build(struct fw_area *a, const struct pvh_args *args, u64 *info)
{
    struct e820_entry map[FW_E820_ENTRIES];
    int n = fw_e820_build(args->ram_bytes, map, FW_E820_ENTRIES);
    if (n < 0)
        return n;
    if (args->nr_mods > PVH_MAX_MODS || (args->nr_mods && !args->mods))
        return -KILN_EINVAL;
    u64 si_gpa, map_gpa, mods_gpa = 0, cmdline = 0;
    struct hvm_start_info *si = fw_alloc(a, sizeof(*si), 8, &si_gpa);
    struct hvm_memmap_entry *mm = fw_alloc(a, (size_t)n * sizeof(*mm), 8, &map_gpa);
    struct hvm_modlist_entry *mods =
        args->nr_mods ? fw_alloc(a, args->nr_mods * sizeof(*mods), 8, &mods_gpa) : NULL;
    if (!si || !mm || (args->nr_mods && !mods))
        return -KILN_E2BIG;
    if (args->cmdline && !(cmdline = fw_put_string(a, args->cmdline, PVH_STRING_MAX)))
        return -KILN_E2BIG;
    for (int i = 0; i < n; i++)
        mm[i] = (struct hvm_memmap_entry){ map[i].addr, map[i].size, map[i].type, 0 };
    for (unsigned int i = 0; i < args->nr_mods; i++) {
        const struct mb_module_desc *m = &args->mods[i];
        if (m->start > m->end)
            return -KILN_EINVAL;
        u64 str = 0;
        if (m->string && !(str = fw_put_string(a, m->string, PVH_STRING_MAX)))
            return -KILN_E2BIG;
        mods[i] = (struct hvm_modlist_entry){ m->start, m->end - m->start, str, 0 };
    }
    *si = (struct hvm_start_info){
        .magic = HVM_START_MAGIC, .version = 1, .nr_modules = args->nr_mods,
        .modlist_paddr = mods_gpa, .cmdline_paddr = cmdline, .rsdp_paddr = args->rsdp,
        .memmap_paddr = map_gpa, .memmap_entries = (u32)n,
    };
    *info = si_gpa;
    return 0;
}

struct elf_note {
    u32 namesz, descsz, type;
};

/* Looks through the notes in [off, off + len) of the image. */
static int scan_notes(const u8 *b, u64 off, u64 len, u32 *entry)
{
    u64 end = off + len;
    while (end - off >= sizeof(struct elf_note)) {
        struct elf_note n = { get32(b, off), get32(b, off + 4), get32(b, off + 8) };
        u64 name = off + sizeof(n);
        u64 desc = name + ALIGN_UP((u64)n.namesz, 4);
        u64 next = desc + ALIGN_UP((u64)n.descsz, 4);
        if (next > end)
            return -KILN_EINVAL;
        if (n.type == XEN_ELFNOTE_PHYS32_ENTRY && n.namesz == 4 && !kmemcmp(b + name, "Xen", 4)) {
            u64 v = 0;
            if (n.descsz != 4 && n.descsz != 8)
                return -KILN_EINVAL;
            kmemcpy(&v, b + desc, n.descsz);
            if (v > 0xffffffffu)
                return -KILN_EINVAL;
            *entry = (u32)v;
            return 0;
        }
        off = next;
    }
    return -KILN_ENOENT;
}

int pvh_find_entry(const void *image, size_t size, u32 *entry)
{
    struct elf_info e;
    if (elf_parse(image, size, &e))
        return -KILN_EINVAL;
    for (unsigned int i = 0; i < e.phnum; i++) {
        struct elf_seg s;
        elf_phdr(image, &e, i, &s);
        if (s.type != PT_NOTE)
            continue;
        if (s.offset > size || s.filesz > size - s.offset)
            return -KILN_EINVAL;
        int rc = scan_notes(image, s.offset, s.filesz, entry);
        if (rc != -KILN_ENOENT)
            return rc;
    }
    return -KILN_EINVAL;
}

int pvh_plan_load(const void *image, size_t size, u64 ram_bytes, struct fw_plan *p)
{
    u32 entry;
    int rc = fw_plan_init(p, ram_bytes);
    if (!rc)
        rc = pvh_find_entry(image, size, &entry);
    if (!rc)
        rc = fw_plan_elf(image, size, p);
    if (rc)
        return rc;
    /* The note's entry is physical: it must be code the plan loads. */
    if (!fw_plan_holds(p, entry))
        return -KILN_EINVAL;
    p->entry = entry;
    return 0;
}
