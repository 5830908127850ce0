/*
 * trampoline.S - where application processors start (INIT-SIPI-SIPI).
 *
 * An AP wakes in 16-bit real mode at TRAMPOLINE_PHYS (SIPI vector 0x08).
 * This code is assembled into the image but copied there before each SIPI,
 * so it only uses addresses relative to its start (TR()).  It goes through
 * 32-bit protected mode straight to long mode on the boot page tables
 * (whose identity map covers this page), then jumps to ap_entry(cpu) in the
 * image with the stack the boot CPU prepared.  smp.c fills the tr_*
 * parameter words in the copy.
 */
#include <kiln/asm.h>

#define TR(sym) ((sym) - trampoline_start + TRAMPOLINE_PHYS)

    .section .trampoline, "a"
    .code16
    .globl trampoline_start
trampoline_start:
    cli
    cld
    xorw    %ax, %ax
    movw    %ax, %ds
    lgdtl   TR(tr_gdt_ptr)
    movl    %cr0, %eax
    orl     $CR0_PE_BIT, %eax
    movl    %eax, %cr0
    ljmpl   $0x08, $TR(tr_pm32)

    .code32
tr_pm32:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movl    %cr4, %eax
    orl     $(CR4_PAE_BIT | CR4_PGE_BIT), %eax
    movl    %eax, %cr4
    movl    TR(tr_cr3), %eax
    movl    %eax, %cr3
    movl    $MSR_EFER_NUM, %ecx
    rdmsr
    orl     TR(tr_efer), %eax
    wrmsr
    movl    %cr0, %eax
    /* INIT leaves CD and NW set: without this an AP runs uncached. */
    andl    $~(CR0_CD_BIT | CR0_NW_BIT), %eax
    orl     $(CR0_PG_BIT | CR0_WP_BIT), %eax
    movl    %eax, %cr0
    ljmp    $0x18, $TR(tr_lm64)

    .code64
tr_lm64:
    movw    $0x10, %ax
    movw    %ax, %ds
    movw    %ax, %es
    movw    %ax, %ss
    movq    TR(tr_stack), %rsp
    movl    TR(tr_cpu), %edi
    movq    TR(tr_entry), %rax
    xorl    %ebp, %ebp              /* terminates backtraces */
    jmp     *%rax

    .balign 8
tr_gdt:
    .quad   0
    .quad   0x00cf9a000000ffff      /* 0x08: 32-bit code */
    .quad   0x00cf92000000ffff      /* 0x10: data */
    .quad   0x00af9a000000ffff      /* 0x18: 64-bit code */
tr_gdt_ptr:
    .word   tr_gdt_ptr - tr_gdt - 1
    .long   TR(tr_gdt)

    .balign 8
    .globl tr_cr3, tr_efer, tr_cpu, tr_stack, tr_entry
tr_stack:   .quad 0
tr_entry:   .quad 0
tr_cr3:     .long 0
tr_efer:    .long 0
tr_cpu:     .long 0
    .globl trampoline_end
trampoline_end:
