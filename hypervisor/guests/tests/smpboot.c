/*
 * smpboot.c - a PC domain's APs (boot options `pc vcpus=4`) start only
 * when the guest sends them INIT-SIPI-SIPI, as on hardware, in real mode
 * at the SIPI's page: each AP runs a 16-bit trampoline that counts itself
 * and sets its APIC id's bit, then halts with interrupts off.  A second
 * SIPI, or one to a vCPU that already runs, is ignored; INIT then SIPI to
 * one AP starts it again.
 */
#include "kt.h"

#define MSR_APIC_BASE 0x1b
#define X2APIC_ICR    0x830
#define TRAMPOLINE    0x8000ul      /* SIPI vector 0x08 */
#define COUNT         0x8100ul
#define SEEN          0x8104ul

#define ICR_INIT      (5u << 8)
#define ICR_SIPI      (6u << 8)
#define ICR_ASSERT    (1u << 14)
#define ICR_LEVEL     (1u << 15)
#define ICR_ALL_BUT_SELF (3u << 18)

/* cli; mov eax,1; cpuid; shr ebx,24; lock bts [SEEN],ebx;
 * lock inc word [COUNT]; 1: hlt; jmp 1b */
static const u8 trampoline[] = {
    0xfa,
    0x66, 0xb8, 0x01, 0x00, 0x00, 0x00,
    0x0f, 0xa2,
    0x66, 0xc1, 0xeb, 0x18,
    0xf0, 0x66, 0x0f, 0xab, 0x1e, SEEN & 0xff, SEEN >> 8,
    0xf0, 0xff, 0x06, COUNT & 0xff, COUNT >> 8,
    0xf4,
    0xeb, 0xfd,
};

static volatile u16 *const count = (volatile u16 *)COUNT;
static volatile u32 *const seen = (volatile u32 *)SEEN;

static bool wait_for(unsigned int n, u32 mask)
{
    s64 t0 = kt_hc_time();
    while (kt_hc_time() - t0 < 2000000000) {
        if (*count >= n && (*seen & mask) == mask)
            return true;
        kt_sleep_ns(1000000);
    }
    return false;
}

void kt_main(void)
{
    kt_plan(7);
    kt_memcpy((void *)TRAMPOLINE, trampoline, sizeof(trampoline));
    *count = 0;
    *seen = 0;
    kt_wrmsr(MSR_APIC_BASE, kt_rdmsr(MSR_APIC_BASE) | (1u << 10));   /* x2APIC */

    kt_sleep_ns(20000000);
    kt_ok(*count == 0, "APs do not run before INIT-SIPI");

    kt_wrmsr(X2APIC_ICR, ICR_INIT | ICR_ASSERT | ICR_LEVEL | ICR_ALL_BUT_SELF);
    kt_wrmsr(X2APIC_ICR, ICR_INIT | ICR_LEVEL | ICR_ALL_BUT_SELF);   /* de-assert */
    kt_sleep_ns(10000000);
    kt_ok(*count == 0, "INIT alone starts nothing");
    kt_wrmsr(X2APIC_ICR, ICR_SIPI | (TRAMPOLINE >> 12) | ICR_ALL_BUT_SELF);
    kt_sleep_ns(1000000);
    kt_wrmsr(X2APIC_ICR, ICR_SIPI | (TRAMPOLINE >> 12) | ICR_ALL_BUT_SELF);
    bool started = wait_for(3, 0xe);
    u32 who = *seen;
    kt_ok(started, "INIT-SIPI-SIPI starts APs 1-3 in real mode at 0x8000 (seen %#x)", who);
    kt_sleep_ns(20000000);
    kt_ok(*count == 3, "each AP started once: the second SIPI is ignored (%u starts)", *count);

    kt_wrmsr(X2APIC_ICR, (3ull << 32) | ICR_SIPI | (TRAMPOLINE >> 12));
    kt_sleep_ns(20000000);
    kt_ok(*count == 3, "a SIPI to a running AP is ignored");

    *seen = 0;
    kt_wrmsr(X2APIC_ICR, (2ull << 32) | ICR_INIT | ICR_ASSERT | ICR_LEVEL);
    kt_sleep_ns(10000000);
    kt_wrmsr(X2APIC_ICR, (2ull << 32) | ICR_SIPI | (TRAMPOLINE >> 12));
    bool restarted = wait_for(4, 0x4);
    who = *seen;
    kt_ok(restarted && who == 0x4, "INIT-SIPI to AP 2 alone restarts it (seen %#x)", who);
    kt_ok(kt_failures() == 0, "all SMP start checks passed");
}
