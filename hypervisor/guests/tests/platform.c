/*
 * platform.c - a PC domain's devices from the inside (boot option `pc`):
 * the local APIC through its xAPIC page, the PIT's IRQ0 routed by the
 * IOAPIC (GSI 2) to a vector and, with that pin masked, by the 8259 through
 * LINT0 (ExtINT), interrupts counted with HLT in between; COM1's 16550 as
 * the console, the RTC and the ACPI PM timer read; the end through the
 * isa-debug-exit port instead of the shutdown hypercall.
 */
#include "kt.h"

#define LAPIC      0xfee00000ul
#define IOAPIC     0xfec00000ul
#define VEC_IOAPIC 0x60
#define VEC_PIC    0x30         /* the 8259 master's base after ICW2 */

static volatile unsigned int count[256];

static u32 lapic_read(u32 reg) { return *(volatile u32 *)(LAPIC + reg); }
static void lapic_write(u32 reg, u32 v) { *(volatile u32 *)(LAPIC + reg) = v; }

static void ioapic_write(u32 reg, u32 v)
{
    *(volatile u32 *)IOAPIC = reg;
    *(volatile u32 *)(IOAPIC + 0x10) = v;
}

static u32 ioapic_read(u32 reg)
{
    *(volatile u32 *)IOAPIC = reg;
    return *(volatile u32 *)(IOAPIC + 0x10);
}

static void on_ioapic(u8 vec)
{
    count[vec]++;
    lapic_write(0xb0, 0);       /* EOI */
}

static void on_pic(u8 vec)
{
    count[vec]++;
    kt_outb(0x20, 0x20);        /* the 8259's non-specific EOI */
}

static unsigned int wait_irqs(u8 vec, unsigned int want)
{
    s64 t0 = kt_hc_time();
    while (count[vec] < want && kt_hc_time() - t0 < 2000000000)
        __asm__ __volatile__("sti; hlt; cli" ::: "memory");
    return count[vec];
}

static void test_lapic_mmio(void)
{
    kt_ok((lapic_read(0x30) & 0xff) == 0x14 && (lapic_read(0x20) >> 24) == 0,
          "xAPIC page: version %#x, id %u", lapic_read(0x30), lapic_read(0x20) >> 24);
    lapic_write(0xf0, 0x1ff);   /* SVR: enabled, spurious 0xff */
    kt_ok(lapic_read(0xf0) == 0x1ff, "SVR written through the page");
}

static void pit_periodic_1khz(void)
{
    kt_outb(0x43, 0x34);        /* channel 0, lo/hi, mode 2 */
    kt_outb(0x40, 1193 & 0xff);
    kt_outb(0x40, 1193 >> 8);
}

static void test_ioapic_pit(void)
{
    u32 ver = ioapic_read(1);
    kt_ok((ver & 0xff) == 0x20 && ((ver >> 16) & 0xff) == 23, "IOAPIC version %#x, 24 pins",
          ver);
    ioapic_write(0x10 + 2 * 2 + 1, 0);          /* GSI 2 -> APIC 0 */
    ioapic_write(0x10 + 2 * 2, VEC_IOAPIC);     /* fixed, edge, unmasked */
    pit_periodic_1khz();
    s64 t0 = kt_hc_time();
    unsigned int n = wait_irqs(VEC_IOAPIC, 20);
    s64 dt = kt_hc_time() - t0;
    kt_ok(n >= 20 && dt >= 15000000, "PIT IRQ0 via IOAPIC GSI 2: %u interrupts in %ld us", n,
          (long)(dt / 1000));
    ioapic_write(0x10 + 2 * 2, VEC_IOAPIC | (1u << 16));   /* mask */
}

static void test_pic_pit(void)
{
    /* ICW1-4: edge, cascade, vectors 0x30/0x38, slave on IR2, 8086 mode. */
    kt_outb(0x20, 0x11); kt_outb(0x21, VEC_PIC); kt_outb(0x21, 0x04); kt_outb(0x21, 0x01);
    kt_outb(0xa0, 0x11); kt_outb(0xa1, 0x38); kt_outb(0xa1, 0x02); kt_outb(0xa1, 0x01);
    kt_outb(0xa1, 0xff);
    kt_outb(0x21, 0xfe);        /* only IRQ0 */
    kt_ok((lapic_read(0x350) & 0x10700) == 0x700, "LINT0 is ExtINT, unmasked (%#x)",
          lapic_read(0x350));
    unsigned int n = wait_irqs(VEC_PIC, 10);
    kt_ok(n >= 10, "PIT IRQ0 via the 8259 and LINT0: %u interrupts at vector %#x", n, VEC_PIC);
    kt_outb(0x21, 0xff);
}

static void test_uart_rtc_pm(void)
{
    const char *s = "uart says hello\n";
    for (; *s; s++) {
        while (!(kt_inb(0x3fd) & 0x20))
            ;
        kt_outb(0x3f8, (u8)*s);
    }
    kt_ok(true, "wrote a line to COM1's THR");
    kt_outb(0x70, 0x0b);
    u8 status_b = kt_inb(0x71);
    kt_outb(0x70, 0x09);
    u8 year = kt_inb(0x71);
    kt_ok((status_b & 0x02) && (status_b & 0x04) == 0 && year >= 0x26,
          "RTC: 24 h BCD, year %#x", year);
    u32 t0 = kt_inl(0xb008);
    kt_sleep_ns(2000000);
    u32 t1 = kt_inl(0xb008);
    /* 3.579545 MHz: 2 ms is about 7159 ticks (24-bit or 32-bit counter). */
    kt_ok(t1 - t0 >= 7000 && t1 - t0 < 3579545, "PM timer advanced %u ticks in 2 ms", t1 - t0);
}

void kt_main(void)
{
    kt_plan(9);
    kt_idt_install();
    kt_irq_set(VEC_IOAPIC, on_ioapic);
    kt_irq_set(VEC_PIC, on_pic);
    test_lapic_mmio();
    test_ioapic_pit();
    test_pic_pit();
    test_uart_rtc_pm();
    kt_outl(0xf4, kt_failures());   /* isa-debug-exit: the number of failures */
}
