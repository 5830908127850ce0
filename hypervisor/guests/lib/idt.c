/*
 * idt.c - optional exception handling for test guests.
 *
 * Most guests run without an IDT on purpose (an exception must end the
 * domain).  Guests that test what the hypervisor injects (e.g. #GP for an
 * unknown MSR) install this IDT and use the *_safe helpers: a helper
 * registers the address to resume at, the handler records the vector and
 * resumes there.  An exception nobody expected ends the guest as a crash.
 */
#include "kt.h"

struct kt_frame {
    u64 r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
    u64 vector, error;
    u64 rip, cs, rflags, rsp, ss;
};

struct idt_entry {
    u16 off_lo, sel;
    u8 ist, type;
    u16 off_mid;
    u32 off_hi, zero;
} __attribute__((packed));

extern char kt_idt_stubs[];
static struct idt_entry idt[32] __attribute__((aligned(16)));
volatile int kt_last_vector = -1;
u64 kt_fixup_rip;

void kt_exception(struct kt_frame *f);

void kt_exception(struct kt_frame *f)
{
    kt_last_vector = (int)f->vector;
    if (kt_fixup_rip) {
        f->rip = kt_fixup_rip;
        kt_fixup_rip = 0;
        return;
    }
    kt_printf("unexpected exception %lu error %#lx at rip=%#lx\n",
              (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip);
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}

void kt_idt_install(void)
{
    for (unsigned int v = 0; v < 32; v++) {
        u64 a = (u64)(uintptr_t)(kt_idt_stubs + v * 16);
        idt[v] = (struct idt_entry){
            .off_lo = (u16)a, .sel = 0x08, .ist = 0, .type = 0x8e,
            .off_mid = (u16)(a >> 16), .off_hi = (u32)(a >> 32), .zero = 0,
        };
    }
    struct { u16 limit; u64 base; } __attribute__((packed)) d = {
        sizeof(idt) - 1, (u64)(uintptr_t)idt
    };
    __asm__ __volatile__("lidt %0" :: "m"(d));
}

int kt_rdmsr_safe(u32 msr, u64 *val)
{
    u32 lo = 0, hi = 0;
    kt_last_vector = -1;
    __asm__ __volatile__("leaq 1f(%%rip), %%r11\n\t"
                         "movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "rdmsr\n"
                         "1:\n\t"
                         "movq $0, kt_fixup_rip(%%rip)"
                         : "+a"(lo), "+d"(hi) : "c"(msr) : "r11", "memory");
    *val = ((u64)hi << 32) | lo;
    return kt_last_vector < 0 ? 0 : kt_last_vector;
}

int kt_wrmsr_safe(u32 msr, u64 val)
{
    kt_last_vector = -1;
    __asm__ __volatile__("leaq 1f(%%rip), %%r11\n\t"
                         "movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "wrmsr\n"
                         "1:\n\t"
                         "movq $0, kt_fixup_rip(%%rip)"
                         :: "a"((u32)val), "d"((u32)(val >> 32)), "c"(msr)
                         : "r11", "memory");
    return kt_last_vector < 0 ? 0 : kt_last_vector;
}
