/*
 * kt_fw.c - what a test guest booted as a PC domU checks of its firmware:
 * the ACPI tables, found as Linux and kvm-unit-tests find them (see
 * include/kt_fw.h).
 */
#include "kt_fw.h"

bool kt_mem_equal(const void *a, const void *b, size_t n)
{
    const u8 *x = a, *y = b;
    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return false;
    return true;
}

u64 kt_cmdline_arg(const char *cl, const char *key)
{
    size_t kl = 0;
    while (key[kl])
        kl++;
    for (const char *p = cl; *p; p++) {
        if ((p == cl || p[-1] == ' ') && kt_mem_equal(p, key, kl) && p[kl] == '=') {
            u64 v = 0;
            for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (u64)(*p - '0');
            return v;
        }
    }
    return 0;
}

static bool sums_to_zero(u64 pa, u32 len)
{
    u8 s = 0;
    for (u32 i = 0; i < len; i++)
        s = (u8)(s + kt_r8(pa + i));
    return s == 0;
}

static bool sig_is(u64 pa, const char *sig)
{
    return kt_mem_equal(kt_phys(pa), sig, 4);
}

static u64 scan_rsdp(void)
{
    for (u64 p = 0xe0000; p < 0x100000; p += 16)
        if (kt_mem_equal(kt_phys(p), "RSD PTR ", 8) && sums_to_zero(p, 20))
            return p;
    return 0;
}

/* The XSDT entry with this signature, 0 when none. */
static u64 xsdt_find(u64 xsdt, const char *sig)
{
    u32 len = kt_r32(xsdt + 4);
    for (u32 o = 36; o + 8 <= len; o += 8) {
        u64 t = kt_r64(xsdt + o);
        if (t && sig_is(t, sig))
            return t;
    }
    return 0;
}

static void check_madt(u64 madt, unsigned int vcpus)
{
    u32 len = madt ? kt_r32(madt + 4) : 0;
    unsigned int cpus = 0, in_order = 0, ioapics = 0, isos = 0;
    kt_ok(madt && sums_to_zero(madt, len), "MADT found through the XSDT, checksum ok");
    kt_ok(madt && kt_r32(madt + 36) == 0xfee00000u && (kt_r32(madt + 40) & 1),
          "MADT: LAPIC at 0xfee00000, PCAT_COMPAT");
    for (u32 o = 44; o + 2 <= len && kt_r8(madt + o + 1) >= 2; o += kt_r8(madt + o + 1)) {
        u8 type = kt_r8(madt + o);
        if (type == 0 && (kt_r32(madt + o + 4) & 1)) {
            in_order += kt_r8(madt + o + 3) == cpus;
            cpus++;
        } else if (type == 1) {
            ioapics += kt_r8(madt + o + 2) == 8 && kt_r32(madt + o + 4) == 0xfec00000u &&
                       kt_r32(madt + o + 8) == 0;
        } else if (type == 2) {
            isos += (kt_r8(madt + o + 3) == 0 && kt_r32(madt + o + 4) == 2) ||
                    (kt_r8(madt + o + 3) == 9 && kt_r32(madt + o + 4) == 9 &&
                     kt_r16(madt + o + 8) == 0xd);
        }
    }
    kt_ok(cpus == vcpus && in_order == vcpus, "MADT: %u enabled local APICs with ids 0..%u",
          cpus, cpus ? cpus - 1 : 0);
    kt_ok(ioapics == 1, "MADT: the IOAPIC, id 8 at 0xfec00000, GSI base 0");
    kt_ok(isos == 2, "MADT: overrides IRQ0 -> GSI2 and SCI GSI9 level/high");
}

u64 kt_fw_check_acpi(unsigned int vcpus)
{
    u64 rsdp = scan_rsdp();
    kt_ok(rsdp && rsdp % 16 == 0 && kt_r8(rsdp + 15) == 2 && sums_to_zero(rsdp, 36),
          "RSDP at %lx: revision 2, both checksums", (unsigned long)rsdp);
    u64 xsdt = rsdp ? kt_r64(rsdp + 24) : 0;
    bool xsdt_ok = xsdt && sig_is(xsdt, "XSDT") && sums_to_zero(xsdt, kt_r32(xsdt + 4));
    kt_ok(xsdt_ok, "XSDT checksum");
    u64 fadt = xsdt_ok ? xsdt_find(xsdt, "FACP") : 0;
    kt_ok(fadt && sums_to_zero(fadt, kt_r32(fadt + 4)) && kt_r32(fadt + 76) == 0xb008 &&
              kt_r16(fadt + 46) == 9,
          "FADT: PM timer at 0xb008, SCI on 9");
    check_madt(xsdt_ok ? xsdt_find(xsdt, "APIC") : 0, vcpus);
    return rsdp;
}
