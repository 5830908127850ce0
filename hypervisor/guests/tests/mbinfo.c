/*
 * mbinfo.c - a Multiboot1 kernel (see mbinfo-header.S) booted as a PC
 * domU, checking from the inside what a Multiboot loader and a PC's
 * firmware must have given it: EAX/EBX and the CPU state at entry, the
 * Multiboot info (flags, memory sizes, command line, memory map, loader
 * name), and the ACPI tables found the way Linux and kvm-unit-tests find
 * them (RSDP scan of 0xe0000-0xfffff, XSDT, MADT, FADT).
 *
 * The scenario passes what to expect on the guest command line:
 *   -- expect_kib=RAM_KIB expect_vcpus=N
 */
#include "kt.h"

extern u32 mb_magic, mb_info, mb_eflags, mb_cr0;
extern char kt_bss_end[];

#define MBI_FLAGS_WANTED ((1u << 0) | (1u << 2) | (1u << 3) | (1u << 6) | (1u << 9))

static const u8 *phys(u64 pa) { return (const u8 *)(uintptr_t)pa; }
static u8 r8(u64 pa) { return *phys(pa); }
static u16 r16(u64 pa) { u16 v; kt_memcpy(&v, phys(pa), 2); return v; }
static u32 r32(u64 pa) { u32 v; kt_memcpy(&v, phys(pa), 4); return v; }
static u64 r64(u64 pa) { u64 v; kt_memcpy(&v, phys(pa), 8); return v; }

static bool mem_equal(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static bool sums_to_zero(u64 pa, u32 len)
{
    u8 s = 0;
    for (u32 i = 0; i < len; i++)
        s = (u8)(s + r8(pa + i));
    return s == 0;
}

static bool same(u64 pa, const char *s)
{
    for (; *s; s++, pa++)
        if (r8(pa) != (u8)*s)
            return false;
    return true;
}

/* Value of "key=N" in the command line, 0 when absent. */
static u64 arg(const char *cl, const char *key)
{
    size_t kl = 0;
    while (key[kl])
        kl++;
    for (const char *p = cl; *p; p++) {
        if ((p == cl || p[-1] == ' ') && mem_equal(p, key, kl) && p[kl] == '=') {
            u64 v = 0;
            for (p += kl + 1; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (u64)(*p - '0');
            return v;
        }
    }
    return 0;
}

static u64 scan_rsdp(void)
{
    for (u64 p = 0xe0000; p < 0x100000; p += 16)
        if (same(p, "RSD PTR ") && sums_to_zero(p, 20))
            return p;
    return 0;
}

/* The XSDT entry with this signature, 0 when none. */
static u64 xsdt_find(u64 xsdt, const char *sig)
{
    u32 len = r32(xsdt + 4);
    for (u32 o = 36; o + 8 <= len; o += 8) {
        u64 t = r64(xsdt + o);
        if (t && same(t, sig))
            return t;
    }
    return 0;
}

static void check_madt(u64 madt, unsigned int vcpus)
{
    u32 len = r32(madt + 4);
    unsigned int cpus = 0, in_order = 0, ioapics = 0, isos = 0;
    kt_ok(madt && sums_to_zero(madt, len), "MADT found through the XSDT, checksum ok");
    kt_ok(r32(madt + 36) == 0xfee00000u && (r32(madt + 40) & 1),
          "MADT: LAPIC at 0xfee00000, PCAT_COMPAT");
    for (u32 o = 44; o + 2 <= len && r8(madt + o + 1) >= 2; o += r8(madt + o + 1)) {
        u8 type = r8(madt + o);
        if (type == 0 && (r32(madt + o + 4) & 1)) {
            in_order += r8(madt + o + 3) == cpus;
            cpus++;
        } else if (type == 1) {
            ioapics += r8(madt + o + 2) == 8 && r32(madt + o + 4) == 0xfec00000u &&
                       r32(madt + o + 8) == 0;
        } else if (type == 2) {
            isos += (r8(madt + o + 3) == 0 && r32(madt + o + 4) == 2) ||
                    (r8(madt + o + 3) == 9 && r32(madt + o + 4) == 9 &&
                     r16(madt + o + 8) == 0xd);
        }
    }
    kt_ok(cpus == vcpus && in_order == vcpus, "MADT: %u enabled local APICs with ids 0..%u",
          cpus, cpus ? cpus - 1 : 0);
    kt_ok(ioapics == 1, "MADT: the IOAPIC, id 8 at 0xfec00000, GSI base 0");
    kt_ok(isos == 2, "MADT: overrides IRQ0 -> GSI2 and SCI GSI9 level/high");
}

void kt_main(void)
{
    kt_plan(18);
    u64 mbi = mb_info;
    kt_ok(mb_magic == 0x2badb002u, "EAX holds the Multiboot magic (%x)", mb_magic);
    kt_ok(!(mb_eflags & (1u << 9)), "interrupts off at entry");
    kt_ok((mb_cr0 & 1) && !(mb_cr0 & (1u << 31)), "protected mode, paging off at entry");
    kt_ok(mbi && mbi + 116 <= 0x9fc00, "EBX: the info at %lx, in low memory",
          (unsigned long)mbi);

    u32 flags = r32(mbi);
    kt_ok((flags & MBI_FLAGS_WANTED) == MBI_FLAGS_WANTED && !(flags & (1u << 11)),
          "flags %x: mem, cmdline, mods, mmap, loader name; no video", flags);
    const char *cl = (const char *)phys(r32(mbi + 16));
    u64 want_kib = arg(cl, "expect_kib"), want_vcpus = arg(cl, "expect_vcpus");
    kt_diag("command line '%s'", cl);
    kt_ok(want_kib && want_vcpus && mem_equal(cl, "build/guests/mbinfo.elf ", 24),
          "command line: the file name, then the guest's arguments");
    kt_ok(r32(mbi + 4) == 639 && r32(mbi + 8) == want_kib - 1024,
          "mem_lower 639 KiB, mem_upper %u KiB", r32(mbi + 8));
    kt_ok(r32(mbi + 20) == 0, "no modules");
    const char *loader = (const char *)phys(r32(mbi + 64));
    kt_ok(!kt_strcmp(loader, "Kiln"), "boot loader name '%s'", loader);

    /* The memory map: 3 entries, each "size" 20 then base, length, type. */
    u64 mm = r32(mbi + 48);
    u32 mm_len = r32(mbi + 44);
    bool map_ok = mm_len == 72;
    static const u64 want[3][3] = { { 0, 0x9fc00, 1 }, { 0x9fc00, 0x60400, 2 }, { 0x100000, 0, 1 } };
    for (int i = 0; map_ok && i < 3; i++) {
        u64 e = mm + (u64)i * 24;
        u64 len = i == 2 ? want_kib * 1024 - 0x100000 : want[i][1];
        map_ok = r32(e) == 20 && r64(e + 4) == want[i][0] && r64(e + 12) == len &&
                 r32(e + 20) == want[i][2];
    }
    kt_ok(map_ok, "memory map: RAM to 0x9fc00, reserved to 1 MiB, RAM to the top");
    kt_ok(mbi + 116 <= 0x100000 || mbi >= (u64)(uintptr_t)kt_bss_end,
          "the info does not overlap the kernel");

    u64 rsdp = scan_rsdp();
    kt_ok(rsdp && rsdp % 16 == 0 && r8(rsdp + 15) == 2 && sums_to_zero(rsdp, 36),
          "RSDP at %lx: revision 2, both checksums", (unsigned long)rsdp);
    u64 xsdt = rsdp ? r64(rsdp + 24) : 0;
    kt_ok(xsdt && same(xsdt, "XSDT") && sums_to_zero(xsdt, r32(xsdt + 4)), "XSDT checksum");
    u64 fadt = xsdt ? xsdt_find(xsdt, "FACP") : 0;
    kt_ok(fadt && sums_to_zero(fadt, r32(fadt + 4)) && r32(fadt + 76) == 0xb008 &&
              r16(fadt + 46) == 9,
          "FADT: PM timer at 0xb008, SCI on 9");
    if (xsdt)
        check_madt(xsdt_find(xsdt, "APIC"), (unsigned int)want_vcpus);
}
