/*
 * acpi.c - just enough ACPI to find the CPUs and IOAPICs: the RSDP, the
 * RSDT/XSDT, and the MADT.  Tables are read through the direct map and
 * every table's checksum is verified before use.
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/dom0.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

struct rsdp {
    char signature[8];
    u8 checksum;
    char oem_id[6];
    u8 revision;
    u32 rsdt;
    u32 length;          /* revision >= 2 from here on */
    u64 xsdt;
    u8 ext_checksum;
    u8 reserved[3];
} __packed;

struct sdt_header {
    char signature[4];
    u32 length;
    u8 revision;
    u8 checksum;
    char oem_id[6];
    char oem_table_id[8];
    u32 oem_revision;
    u32 creator_id;
    u32 creator_revision;
} __packed;

struct madt {
    struct sdt_header h;
    u32 lapic_addr;
    u32 flags;
    u8 entries[];
} __packed;

#define MADT_LAPIC          0
#define MADT_IOAPIC         1
#define MADT_LAPIC_OVERRIDE 5
#define MADT_X2APIC         9
#define MADT_ENABLED        (1u << 0)

static bool checksum_ok(const void *p, size_t len)
{
    const u8 *b = p;
    u8 sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (u8)(sum + b[i]);
    return sum == 0;
}

static const struct rsdp *scan_rsdp(paddr_t start, size_t len)
{
    for (paddr_t pa = start; pa + sizeof(struct rsdp) <= start + len; pa += 16) {
        const struct rsdp *r = phys_to_virt(pa);
        if (!kmemcmp(r->signature, "RSD PTR ", 8) && checksum_ok(r, 20))
            return r;
    }
    return NULL;
}

static const struct rsdp *find_rsdp(void)
{
    /* The EBDA's segment is stored at 0x40e in the BIOS data area. */
    paddr_t ebda = (paddr_t)(*(const u16 *)phys_to_virt(0x40e)) << 4;
    const struct rsdp *r = NULL;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        r = scan_rsdp(ebda, 1024);
    return r ? r : scan_rsdp(0xe0000, 0x20000);
}

static const struct sdt_header *map_table(paddr_t pa)
{
    const struct sdt_header *h = phys_to_virt(pa);
    if (h->length < sizeof(*h) || !checksum_ok(h, h->length))
        return NULL;
    return h;
}

static const struct sdt_header *find_table(const struct rsdp *rsdp, const char sig[4])
{
    bool x = rsdp->revision >= 2 && rsdp->xsdt;
    const struct sdt_header *root = map_table(x ? rsdp->xsdt : rsdp->rsdt);
    if (!root)
        return NULL;
    size_t entry = x ? 8 : 4;
    size_t n = (root->length - sizeof(*root)) / entry;
    const u8 *ptrs = (const u8 *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        paddr_t pa = 0;
        kmemcpy(&pa, ptrs + i * entry, entry);   /* entries are unaligned */
        const struct sdt_header *t = map_table(pa);
        if (t && !kmemcmp(t->signature, sig, 4))
            return t;
    }
    return NULL;
}

static void add_cpu(struct acpi_info *out, u32 apic_id)
{
    for (unsigned int i = 0; i < out->nr_cpus; i++) {
        if (out->apic_ids[i] == apic_id)
            return;   /* listed both as LAPIC and x2APIC */
    }
    if (out->nr_cpus == NR_CPUS) {
        pr_warn("ACPI: more than %u CPUs, ignoring APIC id %u", NR_CPUS, apic_id);
        return;
    }
    out->apic_ids[out->nr_cpus++] = apic_id;
}

int acpi_init(struct acpi_info *out)
{
    const struct rsdp *rsdp = find_rsdp();
    kmemset(out, 0, sizeof(*out));
    if (!rsdp) {
        pr_err("ACPI: no RSDP found");
        return -1;
    }
    const struct madt *madt = (const struct madt *)find_table(rsdp, "APIC");
    if (!madt) {
        pr_err("ACPI: no valid MADT");
        return -1;
    }
    out->lapic_base = madt->lapic_addr;

    const u8 *p = madt->entries, *end = (const u8 *)madt + madt->h.length;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        u8 type = p[0], len = p[1];
        u32 flags, id;
        switch (type) {
        case MADT_LAPIC:
            kmemcpy(&flags, p + 4, 4);
            if (len >= 8 && (flags & MADT_ENABLED))
                add_cpu(out, p[3]);
            break;
        case MADT_X2APIC:
            kmemcpy(&id, p + 4, 4);
            kmemcpy(&flags, p + 8, 4);
            if (len >= 16 && (flags & MADT_ENABLED))
                add_cpu(out, id);
            break;
        case MADT_IOAPIC:
            if (len >= 12 && out->nr_ioapics < MAX_IOAPICS) {
                u32 addr, gsi;
                kmemcpy(&addr, p + 4, 4);
                kmemcpy(&gsi, p + 8, 4);
                out->ioapics[out->nr_ioapics].id = p[2];
                out->ioapics[out->nr_ioapics].base = addr;
                out->ioapics[out->nr_ioapics].gsi_base = gsi;
                out->nr_ioapics++;
            }
            break;
        case MADT_LAPIC_OVERRIDE:
            if (len >= 12)
                kmemcpy(&out->lapic_base, p + 4, 8);
            break;
        default:
            break;
        }
        p += len;
    }
    pr_info("ACPI: RSDP rev %u, MADT lists %u CPU(s), %u IOAPIC(s), LAPIC at %llx",
            rsdp->revision, out->nr_cpus, out->nr_ioapics, (unsigned long long)out->lapic_base);
    for (unsigned int i = 0; i < out->nr_ioapics; i++)
        pr_info("ACPI: IOAPIC id %u at %llx, GSI base %u", out->ioapics[i].id,
                (unsigned long long)out->ioapics[i].base, out->ioapics[i].gsi_base);
    return out->nr_cpus ? 0 : -1;
}

/*
 * dom0 must see only CPU 0: the other CPUs are the hypervisor's.  Their
 * LAPIC/x2APIC entries are removed from the MADT (the entries after them
 * move down, the length shrinks, the checksum is fixed) rather than marked
 * disabled: Linux counts disabled entries as hot-pluggable CPUs, and with
 * more than one possible CPU it declares the TSC unsynchronised and falls
 * back to a slower clocksource.  The table is changed where the firmware
 * left it rather than copied: it lives in memory the firmware reserved (not
 * the allocator's, not dom0's RAM), the hypervisor read everything it
 * needs from it at boot (acpi_init, before the APs started) and never
 * reads it again, and a copy would need a new RSDT/XSDT and RSDP.
 */
int acpi_madt_only_cpu(u32 apic_id)
{
    const struct rsdp *rsdp = find_rsdp();
    struct madt *madt = rsdp ? (struct madt *)find_table(rsdp, "APIC") : NULL;
    if (!madt)
        return -1;
    u8 *p = madt->entries, *end = (u8 *)madt + madt->h.length, *out = p;
    unsigned int removed = 0;
    while (p + 2 <= end && p[1] >= 2 && p + p[1] <= end) {
        u8 len = p[1];
        u32 id = apic_id;
        if (p[0] == MADT_LAPIC && len >= 8)
            id = p[3];
        else if (p[0] == MADT_X2APIC && len >= 16)
            kmemcpy(&id, p + 4, 4);
        if (id != apic_id) {
            removed++;
        } else {
            kmemmove(out, p, len);
            out += len;
        }
        p += len;
    }
    madt->h.length = (u32)(out - (u8 *)madt);
    u8 sum = 0;
    madt->h.checksum = 0;
    for (u32 i = 0; i < madt->h.length; i++)
        sum = (u8)(sum + ((const u8 *)madt)[i]);
    madt->h.checksum = (u8)-sum;
    pr_info("ACPI: MADT shows dom0 only APIC id %u (%u other CPU entries removed)", apic_id, removed);
    return 0;
}
