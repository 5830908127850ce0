/*
 * test_acpi_build.c - unit tests of the PC domU's ACPI tables
 * (arch/x86/hvm/firmware/acpi_build.c).
 *
 * A host buffer stands for the guest's first MiB; the tables are built
 * where a domU gets them and then read back the way a guest does: the
 * RSDP by a 16-byte scan of 0xe0000-0xfffff with its checksum, then every
 * table through the pointers (GPAs) it finds, each checksum checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../arch/x86/hvm/firmware/fw_area.c"
#include "../arch/x86/hvm/firmware/acpi_build.c"

#define GUEST_BYTES 0x100000u
static u8 guest[GUEST_BYTES];

static u8 g8(u64 gpa) { assert_true(gpa < GUEST_BYTES); return guest[gpa]; }
static u16 g16(u64 gpa) { u16 v; assert_true(gpa + 2 <= GUEST_BYTES); memcpy(&v, guest + gpa, 2); return v; }
static u32 g32(u64 gpa) { u32 v; assert_true(gpa + 4 <= GUEST_BYTES); memcpy(&v, guest + gpa, 4); return v; }
static u64 g64(u64 gpa) { u64 v; assert_true(gpa + 8 <= GUEST_BYTES); memcpy(&v, guest + gpa, 8); return v; }

static struct acpi_layout build(unsigned int vcpus)
{
    struct fw_area a;
    struct acpi_layout l;
    memset(guest, 0, sizeof(guest));
    fw_area_init(&a, guest + FW_ACPI_START, FW_ACPI_END - FW_ACPI_START, FW_ACPI_START);
    struct acpi_config c = { .nr_vcpus = vcpus };
    assert_int_equal(acpi_build(&a, &c, &l), 0);
    return l;
}

/* Linux's / kvm-unit-tests' search: 16-byte steps, signature + checksum. */
static u64 scan_rsdp(void)
{
    for (u64 p = FW_ACPI_START; p < FW_ACPI_END; p += 16)
        if (!memcmp(guest + p, "RSD PTR ", 8) && acpi_checksum(guest + p, 20) == 0)
            return p;
    return 0;
}

/* A table at gpa with this signature, whose length fits and sums to 0. */
static u32 check_table(u64 gpa, const char *sig)
{
    assert_true(gpa >= FW_ACPI_START && gpa + 36 <= FW_ACPI_END);
    assert_memory_equal(guest + gpa, sig, 4);
    u32 len = g32(gpa + 4);
    assert_true(len >= 36 && gpa + len <= FW_ACPI_END);
    assert_int_equal(acpi_checksum(guest + gpa, len), 0);
    assert_memory_equal(guest + gpa + 10, "KILN  ", 6);
    return len;
}

/* Follows the XSDT (or the RSDT) to the table with signature sig. */
static u64 find_table(const char *sig, bool use_rsdt)
{
    u64 rsdp = scan_rsdp();
    assert_true(rsdp);
    u64 sdt = use_rsdt ? g32(rsdp + 16) : g64(rsdp + 24);
    u32 len = check_table(sdt, use_rsdt ? "RSDT" : "XSDT");
    unsigned int w = use_rsdt ? 4 : 8;
    for (u32 o = 36; o + w <= len; o += w) {
        u64 t = use_rsdt ? g32(sdt + o) : g64(sdt + o);
        if (!memcmp(guest + t, sig, 4))
            return t;
    }
    return 0;
}

static void test_rsdp_found_by_scan(void **state)
{
    (void)state;
    struct acpi_layout l = build(1);
    u64 rsdp = scan_rsdp();
    assert_int_equal(rsdp, l.rsdp);
    assert_int_equal(rsdp % 16, 0);
    assert_int_equal(g8(rsdp + 15), 2);                    /* revision */
    assert_int_equal(g32(rsdp + 20), 36);                  /* length */
    assert_int_equal(acpi_checksum(guest + rsdp, 36), 0);  /* extended checksum */
    assert_memory_equal(guest + rsdp + 9, "KILN  ", 6);
    assert_int_equal(g32(rsdp + 16), l.rsdt);
    assert_int_equal(g64(rsdp + 24), l.xsdt);
}

static void test_every_checksum(void **state)
{
    (void)state;
    for (unsigned int n = 1; n <= 8; n++) {
        struct acpi_layout l = build(n);
        check_table(l.rsdt, "RSDT");
        check_table(l.xsdt, "XSDT");
        check_table(l.fadt, "FACP");
        check_table(l.madt, "APIC");
        check_table(l.dsdt, "DSDT");
        /* FACS: no checksum, 64-byte aligned, 64 bytes. */
        assert_memory_equal(guest + l.facs, "FACS", 4);
        assert_int_equal(g32(l.facs + 4), 64);
        assert_int_equal(l.facs % 64, 0);
    }
}

static void test_xsdt_and_rsdt_list_fadt_and_madt(void **state)
{
    (void)state;
    struct acpi_layout l = build(4);
    assert_int_equal(find_table("FACP", false), l.fadt);
    assert_int_equal(find_table("APIC", false), l.madt);
    assert_int_equal(find_table("FACP", true), l.fadt);
    assert_int_equal(find_table("APIC", true), l.madt);
}

struct madt_counts {
    unsigned int lapic, x2apic, ioapic, iso, nmi, x2nmi;
    u32 ids[FW_MAX_VCPUS];
    unsigned int nr_ids;
};

static void walk_madt(u64 madt, struct madt_counts *c)
{
    memset(c, 0, sizeof(*c));
    u32 len = check_table(madt, "APIC");
    assert_int_equal(g32(madt + 36), 0xfee00000u);
    assert_int_equal(g32(madt + 40) & 1, 1);                /* PCAT_COMPAT */
    for (u32 o = 44; o < len;) {
        u8 type = g8(madt + o), elen = g8(madt + o + 1);
        assert_true(elen >= 2 && o + elen <= len);
        switch (type) {
        case 0:
            assert_int_equal(elen, 8);
            assert_int_equal(g8(madt + o + 2), g8(madt + o + 3));   /* UID == APIC id */
            assert_int_equal(g32(madt + o + 4), 1);                  /* enabled */
            c->ids[c->nr_ids++] = g8(madt + o + 3);
            c->lapic++;
            break;
        case 9:
            assert_int_equal(elen, 16);
            assert_int_equal(g32(madt + o + 8), 1);
            assert_int_equal(g32(madt + o + 12), g32(madt + o + 4));
            c->ids[c->nr_ids++] = g32(madt + o + 4);
            c->x2apic++;
            break;
        case 1:
            assert_int_equal(elen, 12);
            assert_int_equal(g8(madt + o + 2), 8);
            assert_int_equal(g32(madt + o + 4), 0xfec00000u);
            assert_int_equal(g32(madt + o + 8), 0);
            c->ioapic++;
            break;
        case 2:
            assert_int_equal(elen, 10);
            assert_int_equal(g8(madt + o + 2), 0);
            if (g8(madt + o + 3) == 0) {
                assert_int_equal(g32(madt + o + 4), 2);
                assert_int_equal(g16(madt + o + 8), 0x5);       /* edge, high */
            } else {
                assert_int_equal(g8(madt + o + 3), 9);
                assert_int_equal(g32(madt + o + 4), 9);
                assert_int_equal(g16(madt + o + 8), 0xd);       /* level, high */
            }
            c->iso++;
            break;
        case 4:
            assert_int_equal(elen, 6);
            assert_int_equal(g8(madt + o + 2), 0xff);
            assert_int_equal(g8(madt + o + 5), 1);              /* LINT1 */
            c->nmi++;
            break;
        case 10:
            assert_int_equal(elen, 12);
            assert_int_equal(g32(madt + o + 4), 0xffffffffu);
            assert_int_equal(g8(madt + o + 8), 1);
            c->x2nmi++;
            break;
        default:
            fail_msg("unexpected MADT entry type %u", type);
        }
        o += elen;
    }
}

static void test_madt_per_vcpu(void **state)
{
    (void)state;
    for (unsigned int n = 1; n <= 8; n++) {
        struct acpi_layout l = build(n);
        struct madt_counts c;
        walk_madt(l.madt, &c);
        assert_int_equal(c.lapic, n);
        assert_int_equal(c.x2apic, 0);
        assert_int_equal(c.ioapic, 1);
        assert_int_equal(c.iso, 2);
        assert_int_equal(c.nmi, 1);
        assert_int_equal(c.x2nmi, 0);
        for (unsigned int i = 0; i < n; i++)
            assert_int_equal(c.ids[i], i);
    }
}

static void test_madt_x2apic_above_254(void **state)
{
    (void)state;
    struct acpi_layout l = build(300);
    struct madt_counts c;
    walk_madt(l.madt, &c);
    assert_int_equal(c.lapic, 255);
    assert_int_equal(c.x2apic, 45);
    assert_int_equal(c.x2nmi, 1);
    for (unsigned int i = 0; i < 300; i++)
        assert_int_equal(c.ids[i], i);
}

static void test_fadt_fields(void **state)
{
    (void)state;
    struct acpi_layout l = build(2);
    u64 f = l.fadt;
    assert_int_equal(check_table(f, "FACP"), 276);
    assert_int_equal(g8(f + 8), 6);                         /* revision */
    assert_int_equal(g32(f + 36), l.facs);
    assert_int_equal(g32(f + 40), l.dsdt);
    assert_int_equal(g64(f + 132), 0);                      /* X_FIRMWARE_CTRL: unused */
    assert_int_equal(g64(f + 140), l.dsdt);                 /* X_DSDT */
    assert_int_equal(g16(f + 46), 9);                       /* SCI_INT */
    assert_int_equal(g32(f + 48), 0);                       /* no SMI_CMD */
    assert_int_equal(g32(f + 56), 0xb000);
    assert_int_equal(g32(f + 64), 0xb004);
    assert_int_equal(g32(f + 76), 0xb008);
    assert_int_equal(g8(f + 88), 4);
    assert_int_equal(g8(f + 89), 2);
    assert_int_equal(g8(f + 91), 4);
    assert_int_equal(g8(f + 108), 0x32);                    /* RTC century index */
    u32 flags = g32(f + 112);
    assert_true(flags & (1u << 8));                          /* TMR_VAL_EXT */
    assert_true(flags & (1u << 10));                         /* RESET_REG_SUP */
    assert_false(flags & (1u << 20));                        /* not HW-reduced */
    /* RESET_REG: system I/O, 8 bits, byte access, port 0xcf9; value 6. */
    assert_int_equal(g8(f + 116), 1);
    assert_int_equal(g8(f + 117), 8);
    assert_int_equal(g8(f + 119), 1);
    assert_int_equal(g64(f + 120), 0xcf9);
    assert_int_equal(g8(f + 128), 6);
    /* X_ blocks: I/O space, the same ports and widths. */
    assert_int_equal(g8(f + 148), 1);
    assert_int_equal(g8(f + 149), 32);
    assert_int_equal(g64(f + 152), 0xb000);
    assert_int_equal(g8(f + 172), 1);
    assert_int_equal(g8(f + 173), 16);
    assert_int_equal(g64(f + 176), 0xb004);
    assert_int_equal(g8(f + 208), 1);
    assert_int_equal(g8(f + 209), 32);
    assert_int_equal(g64(f + 212), 0xb008);
    /* Boot flags: legacy devices, no VGA, no 8042, CMOS RTC present. */
    assert_int_equal(g16(f + 109), 0x5);
}

static void test_dsdt_s5(void **state)
{
    (void)state;
    struct acpi_layout l = build(1);
    u32 len = check_table(l.dsdt, "DSDT");
    /* NameOp \_S5_ PackageOp PkgLength NumElements BytePrefix 5 ... */
    const u8 *aml = guest + l.dsdt + 36;
    const u8 *s5 = NULL;
    for (u32 i = 0; i + 5 <= len - 36 && !s5; i++)
        if (!memcmp(aml + i, "\\_S5_", 5))
            s5 = aml + i;
    assert_non_null(s5);
    assert_int_equal(s5[-1], 0x08);
    assert_int_equal(s5[5], 0x12);
    assert_int_equal(s5[7], 4);
    assert_int_equal(s5[8], 0x0a);
    assert_int_equal(s5[9], FW_S5_SLP_TYP);
    assert_int_equal(s5[10], 0x0a);
    assert_int_equal(s5[11], FW_S5_SLP_TYP);
    /* The package's length covers exactly its bytes, then \_SB's scope. */
    assert_int_equal(s5[6], 8);
    assert_int_equal(s5[6 + 8], 0x10);
    assert_int_equal(36 + sizeof(dsdt_aml), len);
}

static void test_refusals(void **state)
{
    (void)state;
    struct fw_area a;
    struct acpi_layout l;
    struct acpi_config zero = { 0 }, many = { FW_MAX_VCPUS + 1 }, one = { 1 };
    fw_area_init(&a, guest + FW_ACPI_START, FW_ACPI_END - FW_ACPI_START, FW_ACPI_START);
    assert_int_equal(acpi_build(&a, &zero, &l), -KILN_EINVAL);
    assert_int_equal(acpi_build(&a, &many, &l), -KILN_EINVAL);
    /* Not where guests scan. */
    fw_area_init(&a, guest + 0x10000, 0x10000, 0x10000);
    assert_int_equal(acpi_build(&a, &one, &l), -KILN_EINVAL);
    /* Every size short of what is needed: refused, nothing written past it. */
    struct acpi_config eight = { 8 };
    fw_area_init(&a, guest + FW_ACPI_START, 0x10000, FW_ACPI_START);
    assert_int_equal(acpi_build(&a, &eight, &l), 0);
    size_t need = a.used;
    for (size_t sz = 0; sz < need; sz++) {
        memset(guest, 0xa5, sizeof(guest));
        fw_area_init(&a, guest + FW_ACPI_START, sz, FW_ACPI_START);
        assert_int_equal(acpi_build(&a, &eight, &l), -KILN_E2BIG);
        for (size_t i = FW_ACPI_START + sz; i < FW_ACPI_START + need + 64; i++)
            assert_int_equal(guest[i], 0xa5);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rsdp_found_by_scan),
        cmocka_unit_test(test_every_checksum),
        cmocka_unit_test(test_xsdt_and_rsdt_list_fadt_and_madt),
        cmocka_unit_test(test_madt_per_vcpu),
        cmocka_unit_test(test_madt_x2apic_above_254),
        cmocka_unit_test(test_fadt_fields),
        cmocka_unit_test(test_dsdt_s5),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
