/*
 * multiboot_info.c - the Multiboot1 information a PC domU's kernel gets in
 * EBX (Multiboot Specification 0.6.96, "Boot information format").
 *
 * Given: memory sizes (flag 0), the command line (flag 2, always, "" when
 * empty: kvm-unit-tests reads it without looking at the flag), modules
 * (flag 3, always, possibly none), the memory map (flag 6: the domU's
 * e820, entries with their 4-byte size prefix) and the boot loader name
 * "Kiln" (flag 9).  Not given: boot device, symbols, drives, config
 * table, APM, video/framebuffer (the domU has no BIOS and no display).
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "le.h"

#define MBI_F_MEM     (1u << 0)
#define MBI_F_CMDLINE (1u << 2)
#define MBI_F_MODS    (1u << 3)
#define MBI_F_MMAP    (1u << 6)
#define MBI_F_LOADER  (1u << 9)

/* The info structure up to the framebuffer fields (116 bytes): the tail
 * is given zeroed so a kernel reading it sees "not present". */
#define MBI_SIZE      116
#define MBI_FLAGS     0
#define MBI_MEM_LOWER 4
#define MBI_MEM_UPPER 8
#define MBI_CMDLINE   16
#define MBI_MODS_CNT  20
#define MBI_MODS_ADDR 24
#define MBI_MMAP_LEN  44
#define MBI_MMAP_ADDR 48
#define MBI_LOADER    64

#define MB_MMAP_ENTRY 24   /* u32 size (20) + u64 base + u64 length + u32 type */
#define MB_MOD_ENTRY  16   /* mod_start, mod_end, string, reserved */
#define MB_MAX_MODS   64
#define MB_MOD_STRING_MAX 1024

int fw_mb_info_build(struct fw_area *a, const struct mb_info_args *args, u64 *info)
{
    struct e820_entry map[FW_E820_ENTRIES];
    int n = fw_e820_build(args->ram_bytes, map, FW_E820_ENTRIES);
    if (n < 0)
        return n;
    if (args->nr_mods > MB_MAX_MODS || (args->nr_mods && !args->mods))
        return -KILN_EINVAL;
    /* Multiboot is a 32-bit protocol: every address it carries is < 4 GiB. */
    for (unsigned int i = 0; i < args->nr_mods; i++)
        if (args->mods[i].start > args->mods[i].end || args->mods[i].end > (1ull << 32))
            return -KILN_EINVAL;

    u64 mbi_gpa, mmap_gpa, mods_gpa = 0;
    u8 *mbi = fw_alloc(a, MBI_SIZE, 8, &mbi_gpa);
    u64 loader = fw_put_string(a, "Kiln", 8);
    u64 cmdline = fw_put_string(a, args->cmdline ? args->cmdline : "", MB_CMDLINE_MAX);
    u8 *mmap = fw_alloc(a, (size_t)n * MB_MMAP_ENTRY, 8, &mmap_gpa);
    u8 *mods = args->nr_mods ? fw_alloc(a, args->nr_mods * MB_MOD_ENTRY, 8, &mods_gpa) : NULL;
    if (!mbi || !loader || !cmdline || !mmap || (args->nr_mods && !mods))
        return -KILN_E2BIG;

    for (int i = 0; i < n; i++) {
        put32(mmap, i * MB_MMAP_ENTRY, MB_MMAP_ENTRY - 4);
        put64(mmap, i * MB_MMAP_ENTRY + 4, map[i].addr);
        put64(mmap, i * MB_MMAP_ENTRY + 12, map[i].size);
        put32(mmap, i * MB_MMAP_ENTRY + 20, map[i].type);
    }
    for (unsigned int i = 0; i < args->nr_mods; i++) {
        const char *s = args->mods[i].string ? args->mods[i].string : "";
        u64 str = fw_put_string(a, s, MB_MOD_STRING_MAX);
        if (!str)
            return -KILN_E2BIG;
        put32(mods, i * MB_MOD_ENTRY, (u32)args->mods[i].start);
        put32(mods, i * MB_MOD_ENTRY + 4, (u32)args->mods[i].end);
        put32(mods, i * MB_MOD_ENTRY + 8, (u32)str);
    }
    /* Every GPA stored below is a 32-bit field. */
    if (a->gpa + a->used > (1ull << 32))
        return -KILN_EINVAL;

    put32(mbi, MBI_FLAGS, MBI_F_MEM | MBI_F_CMDLINE | MBI_F_MODS | MBI_F_MMAP | MBI_F_LOADER);
    /* KiB below 640 KiB, and KiB from 1 MiB up to the first hole (the top
     * of RAM: a domU's RAM is one run). */
    put32(mbi, MBI_MEM_LOWER, (u32)(FW_LOW_RAM_END >> 10));
    put32(mbi, MBI_MEM_UPPER, (u32)((args->ram_bytes - FW_HIGH_RAM_START) >> 10));
    put32(mbi, MBI_CMDLINE, (u32)cmdline);
    put32(mbi, MBI_MODS_CNT, args->nr_mods);
    put32(mbi, MBI_MODS_ADDR, (u32)mods_gpa);
    put32(mbi, MBI_MMAP_LEN, (u32)n * MB_MMAP_ENTRY);
    put32(mbi, MBI_MMAP_ADDR, (u32)mmap_gpa);
    put32(mbi, MBI_LOADER, (u32)loader);
    *info = mbi_gpa;
    return 0;
}
