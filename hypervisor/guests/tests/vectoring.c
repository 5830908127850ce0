/*
 * vectoring.c - events whose delivery is cut short by a nested page fault
 * (boot options `mem=8M pc`): each runs on a stack in guest RAM nothing
 * has touched yet, so pushing the event's frame is the page's first touch
 * and exits to the hypervisor in the middle of the delivery.  The backend
 * must deliver the event again once the page is mapped (VT-x: the
 * IDT-vectoring information, with the instruction length for INT n), so
 * the handler runs exactly once and execution goes on after the
 * instruction.  Three kinds: a software interrupt (INT 0x61), an
 * exception (UD2's #UD, which VT-x itself intercepts first) and an
 * external interrupt (a self IPI through the x2APIC).
 */
#include "kt.h"

#define MSR_APIC_BASE     0x1b
#define BASE_EXTD         (1u << 10)
#define X2APIC_SVR        0x80f
#define X2APIC_EOI        0x80b
#define VEC_SOFT          0x61
#define VEC_IPI           0x62
/* Tops of stacks in 2 MiB regions of RAM (8 MiB) the image never touches. */
#define STACK_SOFT        0x400000ull
#define STACK_UD          0x600000ull
#define STACK_IPI         0x800000ull

static volatile unsigned int soft_hits, ipi_hits;

static void on_soft(u8 vector)
{
    (void)vector;
    soft_hits++;
}

static void on_ipi(u8 vector)
{
    (void)vector;
    ipi_hits++;
    kt_wrmsr(X2APIC_EOI, 0);
}

static void test_soft(void)
{
    u32 npf = kt_stat(KT_STAT_NPF);
    __asm__ __volatile__("movq %%rsp, %%rbx\n\t"
                         "movq %0, %%rsp\n\t"
                         "int $0x61\n\t"
                         "movq %%rbx, %%rsp"
                         :: "r"(STACK_SOFT) : "rbx", "rax", "rcx", "rdx", "rsi", "rdi",
                            "r8", "r9", "r10", "r11", "memory");
    kt_ok(soft_hits == 1 && kt_stat(KT_STAT_NPF) > npf,
          "INT 0x61 onto an unmapped stack: handler ran once (%u), %u nested fault(s)",
          soft_hits, kt_stat(KT_STAT_NPF) - npf);
}

static void test_ud(void)
{
    u32 npf = kt_stat(KT_STAT_NPF);
    kt_last_vector = -1;
    __asm__ __volatile__("movq %%rsp, %%rbx\n\t"
                         "leaq 1f(%%rip), %%r11\n\t"
                         "movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "movq %0, %%rsp\n\t"
                         "ud2\n"
                         "1:\n\t"
                         "movq %%rbx, %%rsp\n\t"
                         "movq $0, kt_fixup_rip(%%rip)"
                         :: "r"(STACK_UD) : "rbx", "rax", "rcx", "rdx", "rsi", "rdi",
                            "r8", "r9", "r10", "r11", "memory");
    kt_ok(kt_last_vector == 6 && kt_stat(KT_STAT_NPF) > npf,
          "UD2 onto an unmapped stack: #UD delivered (vector %d), %u nested fault(s)",
          kt_last_vector, kt_stat(KT_STAT_NPF) - npf);
}

static void test_ipi(void)
{
    u32 npf = kt_stat(KT_STAT_NPF);
    kt_wrmsr(MSR_APIC_BASE, kt_rdmsr(MSR_APIC_BASE) | BASE_EXTD);
    kt_wrmsr(X2APIC_SVR, 0x1ff);
    /* The IPI is pending when STI opens the window on the new stack. */
    __asm__ __volatile__("movq %%rsp, %%rbx\n\t"
                         "movq %0, %%rsp\n\t"
                         "movl $0x83f, %%ecx\n\t"      /* x2APIC SELF IPI */
                         "movl $0x62, %%eax\n\t"
                         "xorl %%edx, %%edx\n\t"
                         "wrmsr\n\t"
                         "sti\n\t"
                         "nop\n\t"
                         "cli\n\t"
                         "movq %%rbx, %%rsp"
                         :: "r"(STACK_IPI) : "rbx", "rax", "rcx", "rdx", "rsi", "rdi",
                            "r8", "r9", "r10", "r11", "memory");
    kt_ok(ipi_hits == 1 && kt_stat(KT_STAT_NPF) > npf,
          "self IPI onto an unmapped stack: handler ran once (%u), %u nested fault(s)",
          ipi_hits, kt_stat(KT_STAT_NPF) - npf);
}

void kt_main(void)
{
    kt_plan(3);
    kt_idt_install();
    kt_irq_set(VEC_SOFT, on_soft);
    kt_irq_set(VEC_IPI, on_ipi);
    test_soft();
    test_ud();
    test_ipi();
}
