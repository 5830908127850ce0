/*
 * firmware.h - what a PC domU finds in memory at boot: the ACPI tables, the
 * e820 map, and the hand-over structures of the boot protocols it may be
 * started through (Multiboot1, Linux 64-bit, PVH).
 *
 * The builders (arch/x86/hvm/firmware/) are pure: each writes into a host
 * buffer that the caller then copies into guest RAM at a known
 * guest-physical address, so every pointer they store is a GPA computed
 * from that address.  They check every bound and return a size or a
 * negated KILN_E* code; nothing here touches a domain.  The loaders
 * (pc_boot.c) are the one place that copies into a domain.
 *
 * The guest-physical layout they build is the one fixed for every PC domU
 * (shared-notes/COMMON.md): RAM from 0, the e820 hides FW_BIOS_START..1 MiB
 * as reserved, the ACPI tables and the RSDP live in FW_ACPI_START..1 MiB,
 * IOAPIC at 0xfec00000, LAPIC at 0xfee00000, the PM blocks at 0xb000.
 */
#ifndef KILN_FIRMWARE_H
#define KILN_FIRMWARE_H

#include <kiln/compiler.h>
#include <kiln/types.h>

/* ---- the platform's fixed addresses ------------------------------------ */

#define FW_LOW_RAM_END     0x9fc00ull     /* RAM below it; the EBDA above */
#define FW_BIOS_START      FW_LOW_RAM_END /* reserved up to FW_HIGH_RAM_START */
#define FW_ACPI_START      0xe0000ull     /* where Linux scans for the RSDP */
#define FW_ACPI_END        0x100000ull
#define FW_HIGH_RAM_START  0x100000ull
#define FW_MMIO_HOLE_START 0xfec00000ull  /* IOAPIC, LAPIC: no RAM from here */
#define FW_IOAPIC_BASE     0xfec00000u
#define FW_LAPIC_BASE      0xfee00000u
#define FW_IOAPIC_ID       8
#define FW_PM1A_EVT_PORT   0xb000u
#define FW_PM1A_CNT_PORT   0xb004u
#define FW_PM_TMR_PORT     0xb008u
#define FW_RESET_PORT      0xcf9u
#define FW_RESET_VALUE     0x06u
#define FW_SCI_GSI         9
#define FW_RTC_CENTURY     0x32           /* CMOS index of the century byte */
/* SLP_TYP the DSDT's \_S5 gives: writing (FW_S5_SLP_TYP << 10) | SLP_EN
 * (bit 13) to PM1a_CNT means "power off". */
#define FW_S5_SLP_TYP      5

/* Most vCPUs the builders describe (x2APIC entries above id 254). */
#define FW_MAX_VCPUS       512

/* ---- a buffer that becomes guest memory -------------------------------- */

/* buf[0..size) is copied to guest-physical gpa; used grows as builders
 * take room from it. */
struct fw_area {
    u8 *buf;
    u64 gpa;
    size_t size, used;
};

static inline void fw_area_init(struct fw_area *a, void *buf, size_t size, u64 gpa)
{
    a->buf = buf;
    a->gpa = gpa;
    a->size = size;
    a->used = 0;
}

/* Takes len zeroed bytes aligned to align (a power of two) in guest
 * addresses; *gpa gets their address.  NULL when the area is full.
 * fw_area.c. */
void *fw_alloc(struct fw_area *a, size_t len, size_t align, u64 *gpa);
/* Copies the string (at most max bytes of it) with its terminating NUL;
 * returns its GPA, 0 when it does not fit. */
u64 fw_put_string(struct fw_area *a, const char *s, size_t max);

/* ---- e820 (e820.c) ------------------------------------------------------ */

#define E820_RAM      1
#define E820_RESERVED 2

struct e820_entry {
    u64 addr, size;
    u32 type;
} __packed;

#define FW_E820_ENTRIES 3

/* The map of a PC domU with ram_bytes of RAM at GPA 0: RAM below
 * FW_LOW_RAM_END, reserved to 1 MiB, RAM from 1 MiB to the top.  No
 * entries for the IOAPIC/LAPIC windows: the MADT describes them and Linux
 * reserves them itself (QEMU's firmware reports none either).  Returns the
 * number of entries (<= max) or -KILN_EINVAL when ram_bytes is below
 * 2 MiB, reaches FW_MMIO_HOLE_START, or max is too small. */
int fw_e820_build(u64 ram_bytes, struct e820_entry *out, unsigned int max);

/* ---- ACPI (acpi_build.c) ------------------------------------------------ */

struct acpi_config {
    unsigned int nr_vcpus;   /* 1..FW_MAX_VCPUS; APIC ids 0..nr_vcpus-1 */
};

/* Where each table went (GPAs). */
struct acpi_layout {
    u64 rsdp, rsdt, xsdt, fadt, facs, dsdt, madt;
};

#define ACPI_SIG_RSDP "RSD PTR "
#define ACPI_OEM_ID   "KILN  "

/* Builds RSDP (revision 2), RSDT, XSDT, FADT (revision 6), FACS, DSDT and
 * MADT into a, the RSDP first.  The RSDP must land 16-byte aligned inside
 * FW_ACPI_START..FW_ACPI_END and every table below 4 GiB (RSDT and FADT
 * hold 32-bit pointers).  0, -KILN_EINVAL (bad config or placement) or
 * -KILN_E2BIG (area too small). */
int acpi_build(struct fw_area *a, const struct acpi_config *c, struct acpi_layout *out);
/* Sum of the bytes (a table is valid when its sum is 0). */
u8 acpi_checksum(const void *p, size_t len);

/* ---- loading a kernel image (load_plan.c) ------------------------------- */

/* One piece of the image to put in guest RAM: filesz bytes from the
 * image at offset, then memsz - filesz zero bytes, at GPA dst. */
struct fw_segment {
    u64 offset, dst, filesz, memsz;
};

#define FW_MAX_SEGMENTS 16

struct fw_plan {
    u64 ram_bytes;
    struct fw_segment seg[FW_MAX_SEGMENTS];
    unsigned int nr_seg;
    u32 entry;                       /* 32-bit physical entry point */
    u64 lowest, highest;             /* [lowest, highest): all segments */
    u32 mb_header_offset, mb_flags;  /* Multiboot only */
    bool mb_aout;                    /* loaded by the a.out kludge (flag 16) */
};

/* Starts an empty plan for a domain of ram_bytes (2 MiB up to
 * FW_MMIO_HOLE_START); -KILN_EINVAL otherwise. */
int fw_plan_init(struct fw_plan *p, u64 ram_bytes);
/* Adds a segment: below 4 GiB, inside RAM the e820 gives the guest (below
 * FW_LOW_RAM_END or from 1 MiB to the top, never the firmware area),
 * disjoint from the others, filesz <= memsz.  0 or -KILN_EINVAL. */
int fw_plan_add(struct fw_plan *p, u64 offset, u64 dst, u64 filesz, u64 memsz);
/* Lowest GPA >= from of len bytes, aligned to align, ending at or below
 * limit, that overlaps no segment of p; 0 when there is none. */
u64 fw_plan_find_free(const struct fw_plan *p, u64 from, u64 limit, u64 len, u64 align);
/* Plans the PT_LOAD segments of an ELF32 (i386) or ELF64 (x86-64)
 * executable at their physical addresses; p->entry is e_entry (a virtual
 * address) translated through the segment whose loaded bytes hold it.
 * 0 or -KILN_EINVAL (also when no segment holds the entry). */
int fw_plan_elf(const void *image, size_t size, struct fw_plan *p);
/* True when gpa is one of the bytes the plan loads from the image. */
bool fw_plan_holds(const struct fw_plan *p, u64 gpa);

/* ---- Multiboot1 (multiboot_info.c, multiboot_load.c) -------------------- */

#define MB_HEADER_MAGIC     0x1badb002u
#define MB_BOOTLOADER_MAGIC 0x2badb002u
#define MB_SEARCH_BYTES     8192

struct mb_module_desc {
    u64 start, end;          /* GPAs of a module already in guest RAM */
    const char *string;
};

struct mb_info_args {
    u64 ram_bytes;
    const char *cmdline;     /* "" allowed; always passed (flag 2) */
    const struct mb_module_desc *mods;
    unsigned int nr_mods;
};

/* Longest command line passed on (longer ones are cut). */
#define MB_CMDLINE_MAX      2048

/* Writes the Multiboot information (flags: mem, cmdline, mods, mmap,
 * loader name "Kiln"), its memory map (the e820 above), command line and
 * module list into a; *info gets the GPA of the info structure (what EBX
 * holds at entry).  0 or a negated KILN_E* code. */
int fw_mb_info_build(struct fw_area *a, const struct mb_info_args *args, u64 *info);

/* Offset of a valid Multiboot1 header in the first MB_SEARCH_BYTES of the
 * image, or -1. */
long mb_find_header(const void *image, size_t size);
/* Checks the image against a domain of ram_bytes and plans its loading
 * (struct fw_plan above): a.out kludge or ELF32.  0 or -KILN_EINVAL. */
int mb_plan_load(const void *image, size_t size, u64 ram_bytes, struct fw_plan *p);

/* ---- PVH (pvh.c) --------------------------------------------------------- */

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
    u32 magic, version, flags, nr_modules;
    u64 modlist_paddr, cmdline_paddr, rsdp_paddr;
    u64 memmap_paddr;
    u32 memmap_entries, reserved;
} __packed;

struct hvm_modlist_entry {
    u64 paddr, size, cmdline_paddr, reserved;
} __packed;

struct hvm_memmap_entry {
    u64 addr, size;
    u32 type, reserved;
} __packed;

struct pvh_args {
    u64 ram_bytes, rsdp;
    const char *cmdline;     /* NULL: none */
    const struct mb_module_desc *mods;
    unsigned int nr_mods;
};

/* Writes hvm_start_info (version 1), its memory map, command line and
 * module list into a; *info gets the GPA of the structure (EBX at the PVH
 * entry).  0 or a negated KILN_E* code. */
int fw_pvh_build(struct fw_area *a, const struct pvh_args *args, u64 *info);
/* The XEN_ELFNOTE_PHYS32_ENTRY of an ELF (32- or 64-bit) image: 0 and
 * *entry, or -KILN_EINVAL when there is none or it is malformed. */
int pvh_find_entry(const void *image, size_t size, u32 *entry);
/* Plans loading an ELF with that note (its PT_LOAD segments at their
 * physical addresses, the entry inside them) into a domain of ram_bytes.
 * 0 or -KILN_EINVAL. */
int pvh_plan_load(const void *image, size_t size, u64 ram_bytes, struct fw_plan *p);

/* ---- Linux boot protocol (linux_boot.c) -------------------------------- */

#define BP_SIZE             4096
#define BP_E820_MAX         128

/* What the loader needs from a bzImage's setup header. */
struct linux_image {
    u16 version;
    u16 xloadflags;
    u32 setup_sects;
    u64 pm_offset, pm_size;          /* the protected-mode kernel in the file */
    u64 align, init_size, pref_address;
    u32 hdr_end;                     /* end of the setup header in the file */
    u32 initrd_max, cmdline_size;
};

/* "HdrS", protocol 2.12 or later, with a 64-bit entry: a kernel for this
 * protocol (linux_parse_bzimage then says whether it is a usable one). */
bool linux_is_bzimage_64(const void *image, size_t size);
/* Checks a bzImage for the 64-bit boot protocol (HdrS, 2.12+, 64-bit
 * entry, relocatable, sane alignment and sizes).  0 or -KILN_EINVAL. */
int linux_parse_bzimage(const void *image, size_t size, struct linux_image *li);

struct linux_bp_args {
    u64 cmdline;                     /* GPA of the command line */
    u64 ramdisk, ramdisk_size;       /* 0, 0: none */
    u64 rsdp;                        /* 0: let Linux scan */
    const struct e820_entry *e820;
    unsigned int nr_e820;
};

/* Writes a boot_params ("zero page", BP_SIZE bytes at bp): the image's
 * setup header, type_of_loader 0xff, the command line and initramfs
 * pointers, acpi_rsdp_addr and the e820 table.  0 or -KILN_E2BIG. */
int linux_build_boot_params(u8 *bp, const void *image, const struct linux_image *li,
                            const struct linux_bp_args *a);

#define LINUX_PT_PAGES 6
/* Page tables identity-mapping 0..4 GiB with 2 MiB pages: LINUX_PT_PAGES
 * pages at buf, which the guest will see at gpa; returns the CR3. */
u64 linux_build_page_tables(u64 *buf, u64 gpa);

/* ---- loading into a domain (pc_boot.c) --------------------------------- */

struct domain;
struct hvm_boot_state;

/* A module handed to the kernel (Multiboot module, PVH module, Linux
 * initramfs): copied into guest RAM, page aligned. */
struct pc_module {
    const void *data;
    size_t size;
    const char *string;
};

#define PC_MAX_MODULES 8

struct pc_boot_args {
    const char *cmdline;
    const struct pc_module *mods;
    unsigned int nr_mods;    /* <= PC_MAX_MODULES; Linux: 0 or 1 (initramfs) */
};

/* Each loads the kernel and its modules into d (built, not yet running:
 * its RAM zeroed, d->nr_vcpus set), writes the ACPI tables and the
 * protocol's hand-over structures, and fills *bs with vCPU 0's entry
 * state (the other vCPUs wait for INIT-SIPI).  0 or a negated KILN_E*
 * code (an image refused is logged, with the reason). */
int pc_boot_multiboot(struct domain *d, const void *image, size_t size,
                      const struct pc_boot_args *a, struct hvm_boot_state *bs);
int pc_boot_pvh(struct domain *d, const void *image, size_t size, const struct pc_boot_args *a,
                struct hvm_boot_state *bs);
int pc_boot_linux(struct domain *d, const void *image, size_t size,
                  const struct pc_boot_args *a, struct hvm_boot_state *bs);

#endif
