/*
 * fuzz_acpi_build.c - libFuzzer target for the firmware builders of PC
 * domUs: ACPI tables, Multiboot info, PVH start info, e820, with random
 * vCPU counts, RAM sizes, command lines, modules, area sizes and
 * guest-physical placements.
 *
 * Beyond "no out-of-bounds access" (ASan), every success is checked as a
 * guest would read it: the RSDP, RSDT, XSDT, FADT, MADT and DSDT sum to
 * zero and lie inside what the builder says it used, the MADT lists one
 * processor per vCPU, and the Multiboot/PVH structures point inside the
 * area; a failure must leave the bytes after the area untouched.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address -DKILN_UNIT_TEST -Iinclude \
 *       fuzz/fuzz_acpi_build.c -o /tmp/fuzz_acpi && /tmp/fuzz_acpi
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lib.c"
#include "../arch/x86/hvm/firmware/fw_area.c"
#include "../arch/x86/hvm/firmware/e820.c"
#include "../arch/x86/hvm/firmware/acpi_build.c"
#include "../arch/x86/hvm/firmware/multiboot_info.c"
#include "../arch/x86/hvm/firmware/load_plan.c"
#include "../arch/x86/hvm/firmware/pvh.c"

#define AREA_MAX 0x20000u
#define GUARD    64u

static u8 buf[AREA_MAX + GUARD];

static const u8 *in_area(const struct fw_area *a, u64 gpa, u64 len)
{
    if (gpa < a->gpa || gpa - a->gpa > a->used || len > a->used - (gpa - a->gpa))
        abort();
    return a->buf + (gpa - a->gpa);
}

static u32 table(const struct fw_area *a, u64 gpa, const char *sig)
{
    const u8 *t = in_area(a, gpa, 36);
    u32 len = get32(t, 4);
    if (memcmp(t, sig, 4) || acpi_checksum(in_area(a, gpa, len), len))
        abort();
    return len;
}

static void check_acpi(const struct fw_area *a, const struct acpi_layout *l, unsigned int n)
{
    const u8 *rsdp = in_area(a, l->rsdp, 36);
    if (l->rsdp % 16 || l->rsdp < FW_ACPI_START || l->rsdp + 36 > FW_ACPI_END ||
        acpi_checksum(rsdp, 20) || acpi_checksum(rsdp, 36) || get64(rsdp, 24) != l->xsdt ||
        get32(rsdp, 16) != l->rsdt)
        abort();
    table(a, l->rsdt, "RSDT");
    table(a, l->xsdt, "XSDT");
    table(a, l->fadt, "FACP");
    table(a, l->dsdt, "DSDT");
    u32 len = table(a, l->madt, "APIC");
    const u8 *m = in_area(a, l->madt, len);
    unsigned int cpus = 0;
    for (u32 o = 44; o < len; o += m[o + 1]) {
        if (o + 2 > len || m[o + 1] < 2 || o + m[o + 1] > len)
            abort();
        cpus += m[o] == 0 || m[o] == 9;
    }
    if (cpus != n)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 12)
        return 0;
    u16 vcpus, area_size;
    u32 sel, ramsel;
    memcpy(&vcpus, data, 2);
    memcpy(&area_size, data + 2, 2);
    memcpy(&sel, data + 4, 4);
    memcpy(&ramsel, data + 8, 4);
    const char *text = (const char *)data + 12;
    size_t text_len = size - 12;
    static char cmdline[8192];
    if (text_len >= sizeof(cmdline))
        text_len = sizeof(cmdline) - 1;
    memcpy(cmdline, text, text_len);
    cmdline[text_len] = '\0';

    u32 sz = (u32)area_size * 2 % AREA_MAX;
    /* Mostly where guests scan, sometimes anywhere (must be refused). */
    u64 gpa = (sel & 1) ? (u64)(sel & ~0xfu) << 4 : FW_ACPI_START + ((sel >> 1) & 0xfff0);
    u64 ram_bytes = (u64)ramsel << 12;
    struct fw_area a;

    memset(buf, 0xa5, sizeof(buf));
    fw_area_init(&a, buf, sz, gpa);
    struct acpi_config c = { .nr_vcpus = vcpus % (FW_MAX_VCPUS + 8) };
    struct acpi_layout l = { 0 };
    if (!acpi_build(&a, &c, &l))
        check_acpi(&a, &l, c.nr_vcpus);
    for (u32 i = sz; i < sz + GUARD; i++)
        if (buf[i] != 0xa5)
            abort();

    struct mb_module_desc mods[3] = { { 0x200000, 0x201000, cmdline },
                                      { sel, (u64)sel + ramsel, "m" },
                                      { 0, 0, NULL } };
    unsigned int nr_mods = (sel >> 8) % 4;
    u64 info;
    memset(buf, 0xa5, sizeof(buf));
    fw_area_init(&a, buf, sz, gpa);
    struct mb_info_args mb = { .ram_bytes = ram_bytes, .cmdline = cmdline, .mods = mods,
                               .nr_mods = nr_mods };
    if (!fw_mb_info_build(&a, &mb, &info)) {
        const u8 *mbi = in_area(&a, info, 116);
        in_area(&a, get32(mbi, 48), get32(mbi, 44));
        in_area(&a, get32(mbi, 16), 1);
        in_area(&a, get32(mbi, 64), 5);
    }
    for (u32 i = sz; i < sz + GUARD; i++)
        if (buf[i] != 0xa5)
            abort();

    memset(buf, 0xa5, sizeof(buf));
    fw_area_init(&a, buf, sz, gpa);
    struct pvh_args pa = { .ram_bytes = ram_bytes, .rsdp = l.rsdp,
                           .cmdline = (sel & 2) ? cmdline : NULL, .mods = mods,
                           .nr_mods = nr_mods };
    if (!fw_pvh_build(&a, &pa, &info)) {
        const u8 *si = in_area(&a, info, sizeof(struct hvm_start_info));
        if (get32(si, 0) != HVM_START_MAGIC)
            abort();
        in_area(&a, get64(si, 40), (u64)get32(si, 48) * sizeof(struct hvm_memmap_entry));
    }
    for (u32 i = sz; i < sz + GUARD; i++)
        if (buf[i] != 0xa5)
            abort();
    return 0;
}
