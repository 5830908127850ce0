/*
 * pc_boot.c - loading a kernel into a PC domU and saying how vCPU 0
 * starts: the one place where the firmware builders' output is copied
 * into a domain.
 *
 * The 32-bit loaders (Multiboot, PVH) do the same five things: plan the
 * image against the domain's RAM (load_plan.c and the format's planner
 * refuse anything outside it), copy the planned bytes (the domain's RAM
 * was allocated zeroed, so bss needs no clearing), copy the modules into
 * free RAM above 1 MiB, write the ACPI tables at FW_ACPI_START (the RSDP
 * first, so it sits 16-byte aligned where guests scan), and write the
 * protocol's hand-over structure in a page nothing else uses, preferring
 * low memory (below FW_LOW_RAM_END) where kernels do not allocate early.
 * Linux's loader puts its hand-over at fixed low addresses, as dom0's.  Only vCPU 0 gets a boot state: the
 * others of a PC domain stay uninitialised until the guest starts them
 * with INIT-SIPI, as on hardware.
 *
 * Entry states:
 *  - Multiboot1: 32-bit flat protected mode, paging off, EAX 0x2BADB002,
 *    EBX = the info, interrupts off;
 *  - PVH: the same mode, EBX = hvm_start_info;
 *  - Linux 64-bit: long mode on identity page tables for 0-4 GiB, RSI =
 *    boot_params, entry at load + 0x200.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/firmware.h>
#include <kiln/hvm.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

#define LOW_INFO_START 0x1000ull   /* above page 0 (real-mode IVT, BDA) */

/* Linux hand-over in low memory: zero page, command line, page tables. */
#define LX_ZP       0x10000ull
#define LX_CMDLINE  0x11000ull
#define LX_PT       0x12000ull
#define LX_LOW_END  (LX_PT + LINUX_PT_PAGES * PAGE_SIZE)
#define LX_MIN_LOAD 0x1000000ull   /* 16 MiB, as Linux's own default */

static u64 ram_bytes_of(const struct domain *d)
{
    return d->memory_kib * 1024;
}

static int copy_plan(struct domain *d, const void *image, const struct fw_plan *p)
{
    for (unsigned int i = 0; i < p->nr_seg; i++) {
        const struct fw_segment *s = &p->seg[i];
        if (copy_to_guest(d, s->dst, (const u8 *)image + s->offset, s->filesz))
            return -KILN_EFAULT;
    }
    return 0;
}

/* The ACPI tables, built in a scratch page and copied to FW_ACPI_START. */
static int write_acpi(struct domain *d, struct acpi_layout *l)
{
    u8 *buf = alloc_page();
    if (!buf)
        return -KILN_ENOMEM;
    struct fw_area a;
    fw_area_init(&a, buf, PAGE_SIZE, FW_ACPI_START);
    struct acpi_config c = { .nr_vcpus = d->nr_vcpus };
    int rc = acpi_build(&a, &c, l);
    if (!rc && copy_to_guest(d, FW_ACPI_START, buf, a.used))
        rc = -KILN_EFAULT;
    free_page(buf);
    return rc;
}

/* A free page for the hand-over structures: low memory first. */
static u64 info_page(const struct fw_plan *p)
{
    u64 at = fw_plan_find_free(p, LOW_INFO_START, FW_LOW_RAM_END, PAGE_SIZE, PAGE_SIZE);
    return at ? at : fw_plan_find_free(p, FW_HIGH_RAM_START, p->ram_bytes, PAGE_SIZE, PAGE_SIZE);
}

enum info_kind { INFO_MULTIBOOT, INFO_PVH };

/* Copies the modules, page-aligned, into the lowest free high RAM (below
 * the kernel if there is room: kernels allocate above themselves, and
 * QEMU's "after the kernel" is where kvm-unit-tests' allocator starts),
 * reserving them in the plan; out gets their GPAs. */
static int place_modules(struct domain *d, struct fw_plan *p, const struct pc_boot_args *a,
                         struct mb_module_desc *out)
{
    if (a->nr_mods > PC_MAX_MODULES)
        return -KILN_E2BIG;
    for (unsigned int i = 0; i < a->nr_mods; i++) {
        const struct pc_module *m = &a->mods[i];
        u64 len = m->size ? ALIGN_UP((u64)m->size, PAGE_SIZE) : PAGE_SIZE;
        u64 at = fw_plan_find_free(p, FW_HIGH_RAM_START, p->ram_bytes, len, PAGE_SIZE);
        if (!at || fw_plan_add(p, 0, at, 0, len))
            return -KILN_ENOMEM;
        if (copy_to_guest(d, at, m->data, m->size))
            return -KILN_EFAULT;
        out[i] = (struct mb_module_desc){ at, at + m->size, m->string };
    }
    return 0;
}

/* Builds the Multiboot info or PVH start info in a scratch page and
 * copies it to a free guest page; *info gets its GPA. */
static int write_info(struct domain *d, const struct fw_plan *p, enum info_kind kind,
                      const char *cmdline, const struct mb_module_desc *mods,
                      unsigned int nr_mods, u64 rsdp, u64 *info)
{
    u64 gpa = info_page(p);
    if (!gpa)
        return -KILN_ENOMEM;
    u8 *buf = alloc_page();
    if (!buf)
        return -KILN_ENOMEM;
    struct fw_area a;
    fw_area_init(&a, buf, PAGE_SIZE, gpa);
    int rc;
    if (kind == INFO_MULTIBOOT) {
        struct mb_info_args mb = { .ram_bytes = p->ram_bytes, .cmdline = cmdline,
                                   .mods = mods, .nr_mods = nr_mods };
        rc = fw_mb_info_build(&a, &mb, info);
    } else {
        struct pvh_args pa = { .ram_bytes = p->ram_bytes, .rsdp = rsdp, .cmdline = cmdline,
                               .mods = mods, .nr_mods = nr_mods };
        rc = fw_pvh_build(&a, &pa, info);
    }
    if (!rc && copy_to_guest(d, gpa, buf, a.used))
        rc = -KILN_EFAULT;
    free_page(buf);
    return rc;
}

/* Loads a planned 32-bit kernel, its modules and its hand-over; vCPU 0
 * in *bs. */
static int boot32(struct domain *d, const void *image, struct fw_plan *p, enum info_kind kind,
                  const struct pc_boot_args *a, struct hvm_boot_state *bs)
{
    struct acpi_layout l;
    struct mb_module_desc mods[PC_MAX_MODULES];
    u64 info;
    int rc = copy_plan(d, image, p);
    if (!rc)
        rc = place_modules(d, p, a, mods);
    if (!rc)
        rc = write_acpi(d, &l);
    if (!rc)
        rc = write_info(d, p, kind, a->cmdline, mods, a->nr_mods, l.rsdp, &info);
    if (rc)
        return rc;
    *bs = (struct hvm_boot_state){ .rip = p->entry, .rbx = info,
                                   .rax = kind == INFO_MULTIBOOT ? MB_BOOTLOADER_MAGIC : 0 };
    return 0;
}

int pc_boot_multiboot(struct domain *d, const void *image, size_t size,
                      const struct pc_boot_args *a, struct hvm_boot_state *bs)
{
    struct fw_plan p;
    int rc = mb_plan_load(image, size, ram_bytes_of(d), &p);
    if (rc) {
        pr_err("%s: not a Multiboot1 kernel Kiln can load in %lu KiB of RAM\n", d->name,
               (unsigned long)d->memory_kib);
        return rc;
    }
    u64 lo = p.lowest, hi = p.highest;   /* the kernel's, before the modules */
    rc = boot32(d, image, &p, INFO_MULTIBOOT, a, bs);
    if (!rc)
        pr_info("%s: Multiboot1 %s kernel at %lx-%lx, entry %x, info at %lx, %u module(s)\n",
                d->name, p.mb_aout ? "a.out" : "ELF", (unsigned long)lo, (unsigned long)hi,
                p.entry, (unsigned long)bs->rbx, a->nr_mods);
    return rc;
}

int pc_boot_pvh(struct domain *d, const void *image, size_t size, const struct pc_boot_args *a,
                struct hvm_boot_state *bs)
{
    struct fw_plan p;
    int rc = pvh_plan_load(image, size, ram_bytes_of(d), &p);
    if (rc) {
        pr_err("%s: not a PVH kernel Kiln can load in %lu KiB of RAM\n", d->name,
               (unsigned long)d->memory_kib);
        return rc;
    }
    u64 lo = p.lowest, hi = p.highest;   /* the kernel's, before the modules */
    rc = boot32(d, image, &p, INFO_PVH, a, bs);
    if (!rc)
        pr_info("%s: PVH kernel at %lx-%lx, entry %x, start info at %lx, %u module(s)\n",
                d->name, (unsigned long)lo, (unsigned long)hi, p.entry, (unsigned long)bs->rbx,
                a->nr_mods);
    return rc;
}

/* Lowest address >= floor aligned to align with size bytes of high RAM
 * clear of [avoid_s, avoid_e); 0 when there is none. */
static u64 place_linux(u64 ram, u64 floor, u64 align, u64 size, u64 avoid_s, u64 avoid_e)
{
    if (floor > ram)
        return 0;
    u64 at = ALIGN_UP(floor, align);
    if (at < avoid_e && avoid_s < at + size)
        at = ALIGN_UP(avoid_e, align);
    return at <= ram && size <= ram - at ? at : 0;
}

int pc_boot_linux(struct domain *d, const void *image, size_t size,
                  const struct pc_boot_args *args, struct hvm_boot_state *bs)
{
    u64 ram = ram_bytes_of(d);
    if (args->nr_mods > 1)
        return -KILN_E2BIG;
    const void *initrd = args->nr_mods ? args->mods[0].data : NULL;
    size_t initrd_size = args->nr_mods ? args->mods[0].size : 0;
    const char *cmdline = args->cmdline;
    struct linux_image li;
    struct e820_entry map[FW_E820_ENTRIES];
    int n = fw_e820_build(ram, map, FW_E820_ENTRIES);
    if (n < 0 || linux_parse_bzimage(image, size, &li)) {
        pr_err("%s: not a 64-bit relocatable bzImage Kiln can load in %lu KiB\n", d->name,
               (unsigned long)d->memory_kib);
        return -KILN_EINVAL;
    }
    /* The initramfs at the top of RAM (below the kernel's limit), the
     * kernel as low as its alignment allows from its preferred address. */
    u64 rd = 0, rd_top = ram < (u64)li.initrd_max + 1 ? ram : (u64)li.initrd_max + 1;
    if (initrd_size) {
        if (initrd_size > rd_top)
            return -KILN_E2BIG;
        rd = ALIGN_DOWN(rd_top - initrd_size, PAGE_SIZE);
        if (rd < FW_HIGH_RAM_START)
            return -KILN_E2BIG;
    }
    u64 floor = li.pref_address > LX_MIN_LOAD ? li.pref_address : LX_MIN_LOAD;
    u64 load = place_linux(ram, floor, li.align, li.init_size, rd, rd + initrd_size);
    if (!load) {
        pr_err("%s: no room for the kernel's %lu KiB window\n", d->name,
               (unsigned long)(li.init_size >> 10));
        return -KILN_E2BIG;
    }
    struct acpi_layout l;
    int rc = write_acpi(d, &l);
    if (!rc && (copy_to_guest(d, load, (const u8 *)image + li.pm_offset, li.pm_size) ||
                (initrd_size && copy_to_guest(d, rd, initrd, initrd_size))))
        rc = -KILN_EFAULT;
    if (rc)
        return rc;

    u8 *buf = alloc_pages(3);   /* zero page, command line, page tables */
    if (!buf)
        return -KILN_ENOMEM;
    kmemset(buf, 0, LX_LOW_END - LX_ZP);
    u32 cl_max = li.cmdline_size && li.cmdline_size < PAGE_SIZE ? li.cmdline_size
                                                                 : PAGE_SIZE - 1;
    kstrlcpy((char *)buf + PAGE_SIZE, cmdline ? cmdline : "", cl_max + 1);
    struct linux_bp_args a = { .cmdline = LX_CMDLINE, .ramdisk = rd, .ramdisk_size = initrd_size,
                               .rsdp = l.rsdp, .e820 = map, .nr_e820 = (unsigned int)n };
    rc = linux_build_boot_params(buf, image, &li, &a);
    u64 cr3 = linux_build_page_tables((u64 *)(buf + 2 * PAGE_SIZE), LX_PT);
    if (!rc && copy_to_guest(d, LX_ZP, buf, LX_LOW_END - LX_ZP))
        rc = -KILN_EFAULT;
    free_pages(buf, 3);
    if (rc)
        return rc;
    *bs = (struct hvm_boot_state){ .rip = load + 0x200, .rsi = LX_ZP, .cr3 = cr3 };
    pr_info("%s: Linux boot protocol %u.%02u, kernel at %lx, initramfs %lx+%lx\n", d->name,
            li.version >> 8, li.version & 0xff, (unsigned long)load, (unsigned long)rd,
            (unsigned long)initrd_size);
    return 0;
}
