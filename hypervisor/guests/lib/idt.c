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
static struct idt_entry idt[256] __attribute__((aligned(16)));
static kt_irq_fn irq_handlers[256];
volatile int kt_last_vector = -1;
volatile u64 kt_last_error;
u64 kt_fixup_rip, kt_fixup_rsp;
volatile bool kt_last_from_user;

void kt_exception(struct kt_frame *f);

void kt_irq_set(u8 vector, kt_irq_fn fn)
{
    irq_handlers[vector] = fn;
}

void kt_exception(struct kt_frame *f)
{
    /* Interrupts, and NMIs (vector 2) for guests that install a handler. */
    if ((f->vector == 2 || (f->vector >= 32 && f->vector < 256)) && irq_handlers[f->vector]) {
        irq_handlers[f->vector]((u8)f->vector);
        return;
    }
    kt_last_vector = (int)f->vector;
    kt_last_error = f->error;
    if (kt_fixup_rip) {
        f->rip = kt_fixup_rip;
        kt_fixup_rip = 0;
        if (f->cs & 3) {
            /* Back from user mode (kt_user_vmmcall) to kernel mode. */
            f->cs = 0x08;
            f->ss = 0x10;
            f->rsp = kt_fixup_rsp;
            kt_last_from_user = true;
        }
        return;
    }
    kt_printf("unexpected exception %lu error %#lx at rip=%#lx\n",
              (unsigned long)f->vector, (unsigned long)f->error, (unsigned long)f->rip);
    kt_shutdown(KILN_SHUTDOWN_CRASH);
}

void kt_idt_install(void)
{
    for (unsigned int v = 0; v < 256; v++) {
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

/* The boot TSS the hypervisor gives every vCPU has base 0: its RSP0 (the
 * stack an exception from user mode switches to) lives at linear 4. */
static u8 ring0_stack[4096] __attribute__((aligned(16)));
static volatile u64 user_rax;

s64 kt_user_vmmcall(u64 nr)
{
    static u8 user_stack[4096] __attribute__((aligned(16)));
    u64 tss = 0;
    __asm__("" : "+r"(tss));   /* address 0 on purpose: hide it from the compiler */
    *(volatile u64 *)(uintptr_t)(tss + 4) = (u64)(uintptr_t)(ring0_stack + sizeof(ring0_stack));
    user_rax = KT_USER_NOT_RUN;
    kt_last_from_user = false;
    /* iretq to CPL 3 at 2f, which makes the hypercall, stores RAX and
     * raises #UD; the handler resumes at 1f in kernel mode. */
    __asm__ __volatile__("leaq 1f(%%rip), %%r11\n\t"
                         "movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "movq %%rsp, kt_fixup_rsp(%%rip)\n\t"
                         "pushq $0x23\n\t"
                         "pushq %[ustack]\n\t"
                         "pushfq\n\t"
                         "pushq $0x1b\n\t"
                         "leaq 2f(%%rip), %%r11\n\t"
                         "pushq %%r11\n\t"
                         "iretq\n"
                         "2:\n\t"
                         "vmmcall\n\t"
                         "movq %%rax, %[res]\n\t"
                         "ud2\n"
                         "1:\n\t"
                         "movl $0x10, %%r11d\n\t"
                         "movl %%r11d, %%ds\n\t"
                         "movl %%r11d, %%es"
                         : [res] "=m"(user_rax), "+a"(nr)
                         : [ustack] "r"((u64)(uintptr_t)(user_stack + sizeof(user_stack)))
                         : "r11", "memory", "cc");
    /* Only a #UD raised in user mode proves the call was made from CPL 3. */
    if (kt_last_vector != 6 || !kt_last_from_user)
        return KT_USER_NOT_RUN;
    return (s64)user_rax;
}
