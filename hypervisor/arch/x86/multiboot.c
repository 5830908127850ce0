/*
 * multiboot.c - read the Multiboot1 information the loader left us.
 *
 * Everything is copied into our own static tables (strings included),
 * so the loader's structures are dead once this has run; only the modules'
 * contents stay where they are (and the page allocator keeps off them).
 */
#include <kiln/boot.h>
#include <kiln/cmdline.h>
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/multiboot.h>

#define MB_BOOTLOADER_MAGIC 0x2badb002

#define MBI_MEM     (1u << 0)
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS    (1u << 3)
#define MBI_MMAP    (1u << 6)
#define MBI_LOADER  (1u << 9)

struct mb_info {
    u32 flags;
    u32 mem_lower, mem_upper;
    u32 boot_device;
    u32 cmdline;
    u32 mods_count, mods_addr;
    u32 syms[4];
    u32 mmap_length, mmap_addr;
    u32 drives_length, drives_addr;
    u32 config_table;
    u32 boot_loader_name;
} __packed;

struct mb_module {
    u32 mod_start, mod_end;
    u32 string;
    u32 reserved;
} __packed;

struct mb_mmap_entry {
    u32 size;           /* of the rest of the entry, not counting this field */
    u64 base, length;
    u32 type;
} __packed;

#define STRINGS_MAX 4096

static struct boot_module modules[BOOT_MAX_MODULES];
static unsigned int nr_modules;
static struct boot_mem_range memmap[BOOT_MAX_MEMRANGES];
static unsigned int nr_memranges;
static char strings[STRINGS_MAX];
static size_t strings_used;
static char loader_name[64];

/* Copies a loader string into our pool; "" when it does not fit. */
static const char *keep_string(u32 pa)
{
    const char *s = phys_to_virt(pa);
    size_t len = kstrnlen(s, STRINGS_MAX);
    if (strings_used + len + 1 > STRINGS_MAX)
        return "";
    char *dst = strings + strings_used;
    kmemcpy(dst, s, len);
    dst[len] = '\0';
    strings_used += len + 1;
    return dst;
}

static void add_range(paddr_t start, paddr_t end, u32 type)
{
    if (nr_memranges == BOOT_MAX_MEMRANGES) {
        pr_warn("multiboot: memory map truncated at %u entries", BOOT_MAX_MEMRANGES);
        return;
    }
    memmap[nr_memranges++] = (struct boot_mem_range){ start, end, type };
}

int multiboot_parse(u32 magic, u32 info_pa)
{
    const struct mb_info *mbi;

    if (magic != MB_BOOTLOADER_MAGIC)
        return -1;
    mbi = phys_to_virt(info_pa);

    cmdline_parse((mbi->flags & MBI_CMDLINE) ? phys_to_virt(mbi->cmdline) : "");
    if (mbi->flags & MBI_LOADER)
        kstrlcpy(loader_name, phys_to_virt(mbi->boot_loader_name), sizeof(loader_name));

    if (mbi->flags & MBI_MMAP) {
        u32 off = 0;
        while (off + sizeof(struct mb_mmap_entry) <= mbi->mmap_length) {
            const struct mb_mmap_entry *e = phys_to_virt(mbi->mmap_addr + off);
            if (e->length)
                add_range(e->base, e->base + e->length, e->type);
            off += e->size + 4;
        }
    } else if (mbi->flags & MBI_MEM) {
        /* No map: the two classic ranges, below 640 KiB and from 1 MiB. */
        add_range(0, (paddr_t)mbi->mem_lower << 10, 1);
        add_range(0x100000, 0x100000 + ((paddr_t)mbi->mem_upper << 10), 1);
    }

    if (mbi->flags & MBI_MODS) {
        const struct mb_module *m = phys_to_virt(mbi->mods_addr);
        for (u32 i = 0; i < mbi->mods_count; i++) {
            if (nr_modules == BOOT_MAX_MODULES) {
                pr_warn("multiboot: only the first %u modules are used", BOOT_MAX_MODULES);
                break;
            }
            modules[nr_modules++] = (struct boot_module){
                .start = m[i].mod_start,
                .end = m[i].mod_end,
                .string = m[i].string ? keep_string(m[i].string) : "",
            };
        }
    }
    return 0;
}

const char *multiboot_loader_name(void)
{
    return loader_name[0] ? loader_name : "unknown";
}

unsigned int boot_module_count(void)
{
    return nr_modules;
}

const struct boot_module *boot_module_get(unsigned int i)
{
    return i < nr_modules ? &modules[i] : NULL;
}

unsigned int boot_memmap_count(void)
{
    return nr_memranges;
}

const struct boot_mem_range *boot_memmap_get(unsigned int i)
{
    return i < nr_memranges ? &memmap[i] : NULL;
}
