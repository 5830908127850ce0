/*
 * acpi_build.c - the ACPI tables of a PC domU (ACPI 6.x layouts).
 *
 * What guests look for and where: Linux, kvm-unit-tests and the BSDs scan
 * 0xe0000-0xfffff on 16-byte boundaries for the RSDP, follow it to the
 * XSDT (revision 2 RSDPs) or the RSDT, and from there find the FADT (which
 * points at the FACS and DSDT) and the MADT.  Both RSDT and XSDT are
 * given: older consumers and kvm-unit-tests read the RSDT, Linux the XSDT.
 *
 * The platform described (shared-notes/COMMON.md): one local APIC per
 * vCPU with APIC id = vCPU id, the IOAPIC (id 8, GSIs 0-23), the dual
 * 8259 (PCAT_COMPAT), ISA IRQ 0 on GSI 2, the SCI on GSI 9 level/high, the
 * PM1a event/control blocks and 32-bit PM timer at 0xb000/0xb004/0xb008,
 * reset through port 0xcf9.  There is no SMI command port: ACPI is always
 * enabled, so PM1a_CNT.SCI_EN must read as 1.  The DSDT holds \_S5 only,
 * so an OS can power off (SLP_TYP FW_S5_SLP_TYP); there are no processor
 * objects (Linux and the others take CPUs from the MADT).
 *
 * All tables carry OEM id "KILN  "; every checksum makes its table sum to 0.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>
#include <public/kiln.h>
#include "le.h"

#define SDT_HEADER 36

/* Offsets inside the RSDP. */
#define RSDP_CHECKSUM     8
#define RSDP_OEMID        9
#define RSDP_REVISION     15
#define RSDP_RSDT         16
#define RSDP_LENGTH       20
#define RSDP_XSDT         24
#define RSDP_EXT_CHECKSUM 32
#define RSDP_V1_SIZE      20
#define RSDP_SIZE         36

/* FADT (revision 6) offsets. */
#define FADT_SIZE          276
#define FADT_FACS          36
#define FADT_DSDT          40
#define FADT_SCI_INT       46
#define FADT_PM1A_EVT      56
#define FADT_PM1A_CNT      64
#define FADT_PM_TMR        76
#define FADT_PM1_EVT_LEN   88
#define FADT_PM1_CNT_LEN   89
#define FADT_PM_TMR_LEN    91
#define FADT_P_LVL2_LAT    96
#define FADT_P_LVL3_LAT    98
#define FADT_CENTURY       108
#define FADT_IAPC_BOOT     109
#define FADT_FLAGS         112
#define FADT_RESET_REG     116
#define FADT_RESET_VALUE   128
#define FADT_MINOR         131
#define FADT_X_DSDT        140
#define FADT_X_PM1A_EVT    148
#define FADT_X_PM1A_CNT    172
#define FADT_X_PM_TMR      208

/* FADT flags. */
#define FADT_F_WBINVD        (1u << 0)
#define FADT_F_PROC_C1       (1u << 2)
#define FADT_F_PWR_BUTTON    (1u << 4)   /* no fixed-feature power button */
#define FADT_F_SLP_BUTTON    (1u << 5)   /* no fixed-feature sleep button */
#define FADT_F_TMR_VAL_EXT   (1u << 8)   /* the PM timer counts 32 bits */
#define FADT_F_RESET_REG_SUP (1u << 10)

/* IA-PC boot architecture flags: ISA devices are there (UART, RTC, PIT);
 * no 8042 keyboard controller (bit 1 clear: Linux then does not probe it);
 * no VGA; a CMOS RTC is present (bit 5 clear). */
#define IAPC_LEGACY_DEVICES (1u << 0)
#define IAPC_VGA_NOT_PRESENT (1u << 2)

/* Generic Address Structure: address space 1 = system I/O; access size
 * 1/2/3 = byte/word/dword. */
#define GAS_SIZE   12
#define GAS_IO     1

#define FACS_SIZE  64

/* MADT. */
#define MADT_LAPIC_ADDR     36
#define MADT_FLAGS          40
#define MADT_HEADER         44
#define MADT_PCAT_COMPAT    (1u << 0)
#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_ISO            2
#define MADT_LAPIC_NMI      4
#define MADT_X2APIC         9
#define MADT_X2APIC_NMI     10
#define MADT_LAPIC_LEN      8
#define MADT_IOAPIC_LEN     12
#define MADT_ISO_LEN        10
#define MADT_LAPIC_NMI_LEN  6
#define MADT_X2APIC_LEN     16
#define MADT_X2APIC_NMI_LEN 12
#define MADT_ENABLED        1u
/* MPS INTI flags: polarity in bits 0-1 (1 = active high), trigger mode
 * in bits 2-3 (1 = edge, 3 = level). */
#define INTI_HIGH_EDGE      0x0005u
#define INTI_HIGH_LEVEL     0x000du
/* Highest id an xAPIC entry can carry (255 means "all processors"). */
#define XAPIC_MAX_ID        254

u8 acpi_checksum(const void *p, size_t len)
{
    const u8 *b = p;
    u8 sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (u8)(sum + b[i]);
    return sum;
}

static void set_checksum(u8 *b, size_t len, size_t at)
{
    b[at] = 0;
    b[at] = (u8)(0x100 - acpi_checksum(b, len));
}

/* The common header; the checksum is set once the body is written. */
static void sdt_header(u8 *t, const char *sig, u32 len, u8 rev, const char *table_id)
{
    kmemcpy(t, sig, 4);
    put32(t, 4, len);
    put8(t, 8, rev);
    kmemcpy(t + 10, ACPI_OEM_ID, 6);
    kmemcpy(t + 16, table_id, 8);
    put32(t, 24, 1);                 /* OEM revision */
    kmemcpy(t + 28, "KILN", 4);      /* creator id */
    put32(t, 32, 1);                 /* creator revision */
}

static void gas_io(u8 *b, size_t off, u16 port, u8 bits, u8 access)
{
    put8(b, off, GAS_IO);
    put8(b, off + 1, bits);
    put8(b, off + 2, 0);
    put8(b, off + 3, access);
    put64(b, off + 4, port);
}

/*
 * The DSDT's AML, assembled by hand (ACPI spec, "ACPI Machine Language
 * Specification"): Name (\_S5, Package (4) { FW_S5_SLP_TYP,
 * FW_S5_SLP_TYP, 0, 0 }) -- SLP_TYPa, SLP_TYPb, reserved -- then
 * Scope (\_SB) {} so the system bus exists for OSes that expect it.
 */
static const u8 dsdt_aml[] = {
    0x08,                          /* NameOp */
    '\\', '_', 'S', '5', '_',      /* RootChar, NameSeg */
    0x12,                          /* PackageOp */
    0x08,                          /* PkgLength: itself + the 7 bytes after */
    0x04,                          /* NumElements */
    0x0a, FW_S5_SLP_TYP,           /* BytePrefix SLP_TYPa */
    0x0a, FW_S5_SLP_TYP,           /* BytePrefix SLP_TYPb */
    0x00, 0x00,                    /* ZeroOp, ZeroOp */
    0x10,                          /* ScopeOp */
    0x06,                          /* PkgLength: itself + the 5 bytes after */
    '\\', '_', 'S', 'B', '_',
};

static size_t madt_size(unsigned int n)
{
    size_t cpus = 0;
    bool x2 = false;
    for (unsigned int id = 0; id < n; id++) {
        cpus += id > XAPIC_MAX_ID ? MADT_X2APIC_LEN : MADT_LAPIC_LEN;
        x2 |= id > XAPIC_MAX_ID;
    }
    return MADT_HEADER + cpus + MADT_IOAPIC_LEN + 2 * MADT_ISO_LEN + MADT_LAPIC_NMI_LEN +
           (x2 ? MADT_X2APIC_NMI_LEN : 0);
}

static void build_madt(u8 *t, size_t len, unsigned int n)
{
    sdt_header(t, "APIC", (u32)len, 4, "KILNMADT");
    put32(t, MADT_LAPIC_ADDR, FW_LAPIC_BASE);
    put32(t, MADT_FLAGS, MADT_PCAT_COMPAT);
    size_t o = MADT_HEADER;
    bool x2 = false;
    for (unsigned int id = 0; id < n; id++) {
        if (id <= XAPIC_MAX_ID) {
            put8(t, o, MADT_LAPIC);
            put8(t, o + 1, MADT_LAPIC_LEN);
            put8(t, o + 2, (u8)id);              /* ACPI processor UID */
            put8(t, o + 3, (u8)id);              /* APIC id */
            put32(t, o + 4, MADT_ENABLED);
            o += MADT_LAPIC_LEN;
        } else {
            put8(t, o, MADT_X2APIC);
            put8(t, o + 1, MADT_X2APIC_LEN);
            put32(t, o + 4, id);                 /* x2APIC id */
            put32(t, o + 8, MADT_ENABLED);
            put32(t, o + 12, id);                /* ACPI processor UID */
            o += MADT_X2APIC_LEN;
            x2 = true;
        }
    }
    put8(t, o, MADT_IOAPIC);
    put8(t, o + 1, MADT_IOAPIC_LEN);
    put8(t, o + 2, FW_IOAPIC_ID);
    put32(t, o + 4, FW_IOAPIC_BASE);
    put32(t, o + 8, 0);                          /* GSI base */
    o += MADT_IOAPIC_LEN;

    /* The PIT's IRQ 0 is wired to IOAPIC pin 2, as on every PC. */
    put8(t, o, MADT_ISO);
    put8(t, o + 1, MADT_ISO_LEN);
    put8(t, o + 2, 0);                           /* bus: ISA */
    put8(t, o + 3, 0);                           /* source IRQ */
    put32(t, o + 4, 2);
    put16(t, o + 8, INTI_HIGH_EDGE);
    o += MADT_ISO_LEN;
    /* The SCI: level-triggered, active high (not ISA's edge default). */
    put8(t, o, MADT_ISO);
    put8(t, o + 1, MADT_ISO_LEN);
    put8(t, o + 2, 0);
    put8(t, o + 3, FW_SCI_GSI);
    put32(t, o + 4, FW_SCI_GSI);
    put16(t, o + 8, INTI_HIGH_LEVEL);
    o += MADT_ISO_LEN;

    /* NMI on LINT1 of every processor (UID 0xff / 0xffffffff = all). */
    put8(t, o, MADT_LAPIC_NMI);
    put8(t, o + 1, MADT_LAPIC_NMI_LEN);
    put8(t, o + 2, 0xff);
    put16(t, o + 3, 0);                          /* flags: as the bus says */
    put8(t, o + 5, 1);                           /* LINT1 */
    o += MADT_LAPIC_NMI_LEN;
    if (x2) {
        put8(t, o, MADT_X2APIC_NMI);
        put8(t, o + 1, MADT_X2APIC_NMI_LEN);
        put16(t, o + 2, 0);
        put32(t, o + 4, 0xffffffffu);
        put8(t, o + 8, 1);
    }
    set_checksum(t, len, 9);
}

static void build_fadt(u8 *t, u64 facs, u64 dsdt)
{
    sdt_header(t, "FACP", FADT_SIZE, 6, "KILNFADT");
    put32(t, FADT_FACS, (u32)facs);
    put32(t, FADT_DSDT, (u32)dsdt);
    put16(t, FADT_SCI_INT, FW_SCI_GSI);
    /* SMI_CMD, ACPI_ENABLE, ACPI_DISABLE stay 0: ACPI is always on. */
    put32(t, FADT_PM1A_EVT, FW_PM1A_EVT_PORT);
    put32(t, FADT_PM1A_CNT, FW_PM1A_CNT_PORT);
    put32(t, FADT_PM_TMR, FW_PM_TMR_PORT);
    put8(t, FADT_PM1_EVT_LEN, 4);
    put8(t, FADT_PM1_CNT_LEN, 2);
    put8(t, FADT_PM_TMR_LEN, 4);
    /* Latencies above 100 / 1000 us say C2 / C3 are not supported. */
    put16(t, FADT_P_LVL2_LAT, 101);
    put16(t, FADT_P_LVL3_LAT, 1001);
    /* The RTC keeps the century at the PC's usual CMOS index. */
    put8(t, FADT_CENTURY, FW_RTC_CENTURY);
    put16(t, FADT_IAPC_BOOT, IAPC_LEGACY_DEVICES | IAPC_VGA_NOT_PRESENT);
    put32(t, FADT_FLAGS, FADT_F_WBINVD | FADT_F_PROC_C1 | FADT_F_PWR_BUTTON |
                             FADT_F_SLP_BUTTON | FADT_F_TMR_VAL_EXT | FADT_F_RESET_REG_SUP);
    gas_io(t, FADT_RESET_REG, FW_RESET_PORT, 8, 1);
    put8(t, FADT_RESET_VALUE, FW_RESET_VALUE);
    put8(t, FADT_MINOR, 0);
    /* The FACS by its 32-bit pointer only (kvm-unit-tests reads that one;
     * with both set ACPICA installs the FACS twice), the DSDT by both. */
    put64(t, FADT_X_DSDT, dsdt);
    gas_io(t, FADT_X_PM1A_EVT, FW_PM1A_EVT_PORT, 32, 2);
    gas_io(t, FADT_X_PM1A_CNT, FW_PM1A_CNT_PORT, 16, 2);
    gas_io(t, FADT_X_PM_TMR, FW_PM_TMR_PORT, 32, 3);
    set_checksum(t, FADT_SIZE, 9);
}

int acpi_build(struct fw_area *a, const struct acpi_config *c, struct acpi_layout *out)
{
    if (!c->nr_vcpus || c->nr_vcpus > FW_MAX_VCPUS)
        return -KILN_EINVAL;
    const size_t madt_len = madt_size(c->nr_vcpus);
    const size_t dsdt_len = SDT_HEADER + sizeof(dsdt_aml);
    const size_t rsdt_len = SDT_HEADER + 2 * 4, xsdt_len = SDT_HEADER + 2 * 8;
    u8 *rsdp = fw_alloc(a, RSDP_SIZE, 16, &out->rsdp);
    u8 *facs = fw_alloc(a, FACS_SIZE, 64, &out->facs);   /* 64-byte alignment required */
    u8 *rsdt = fw_alloc(a, rsdt_len, 8, &out->rsdt);
    u8 *xsdt = fw_alloc(a, xsdt_len, 8, &out->xsdt);
    u8 *fadt = fw_alloc(a, FADT_SIZE, 8, &out->fadt);
    u8 *madt = fw_alloc(a, madt_len, 8, &out->madt);
    u8 *dsdt = fw_alloc(a, dsdt_len, 8, &out->dsdt);
    if (!rsdp || !facs || !rsdt || !xsdt || !fadt || !madt || !dsdt)
        return -KILN_E2BIG;
    /* Where guests look for the RSDP, and 32-bit pointers for the rest. */
    if (out->rsdp < FW_ACPI_START || out->rsdp + RSDP_SIZE > FW_ACPI_END ||
        a->gpa + a->used > (1ull << 32))
        return -KILN_EINVAL;

    kmemcpy(facs, "FACS", 4);
    put32(facs, 4, FACS_SIZE);
    put8(facs, 32, 2);                       /* version */

    sdt_header(dsdt, "DSDT", (u32)dsdt_len, 2, "KILNDSDT");
    kmemcpy(dsdt + SDT_HEADER, dsdt_aml, sizeof(dsdt_aml));
    set_checksum(dsdt, dsdt_len, 9);

    build_fadt(fadt, out->facs, out->dsdt);
    build_madt(madt, madt_len, c->nr_vcpus);

    sdt_header(rsdt, "RSDT", (u32)rsdt_len, 1, "KILNRSDT");
    put32(rsdt, SDT_HEADER, (u32)out->fadt);
    put32(rsdt, SDT_HEADER + 4, (u32)out->madt);
    set_checksum(rsdt, rsdt_len, 9);
    sdt_header(xsdt, "XSDT", (u32)xsdt_len, 1, "KILNXSDT");
    put64(xsdt, SDT_HEADER, out->fadt);
    put64(xsdt, SDT_HEADER + 8, out->madt);
    set_checksum(xsdt, xsdt_len, 9);

    kmemcpy(rsdp, ACPI_SIG_RSDP, 8);
    kmemcpy(rsdp + RSDP_OEMID, ACPI_OEM_ID, 6);
    put8(rsdp, RSDP_REVISION, 2);
    put32(rsdp, RSDP_RSDT, (u32)out->rsdt);
    put32(rsdp, RSDP_LENGTH, RSDP_SIZE);
    put64(rsdp, RSDP_XSDT, out->xsdt);
    set_checksum(rsdp, RSDP_V1_SIZE, RSDP_CHECKSUM);
    set_checksum(rsdp, RSDP_SIZE, RSDP_EXT_CHECKSUM);
    return 0;
}
