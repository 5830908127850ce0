/*
 * head.S - Multiboot1 entry: from 32-bit protected mode to 64-bit C.
 *
 * The loader enters _start in 32-bit protected mode with paging off,
 * EAX = Multiboot magic, EBX = physical address of the Multiboot info.
 * We build the boot page tables (which stay the hypervisor's page tables):
 *
 *   PML4[0]   -> identity map of 0..4 GiB   (only while booting: APs need it
 *                                           to turn paging on; dropped later)
 *   PML4[256] -> the same 0..4 GiB at 0xffff800000000000 (the direct map)
 *   PML4[511] -> 0..1 GiB at 0xffffffff80000000 (the image, -mcmodel=kernel)
 *
 * all with 2 MiB pages; 3..4 GiB (MMIO: LAPIC, IOAPIC, PCI holes) uncached.
 * Then long mode, a jump to the high image address and into start_kiln().
 */
#include <kiln/asm.h>

#define MB_MAGIC   0x1badb002
/* bit 0: page-align modules, bit 1: memory map, bit 16: load addresses below */
#define MB_FLAGS   ((1 << 0) | (1 << 1) | (1 << 16))

    .section .multiboot, "a"
    .balign 4
multiboot_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long PHYS(multiboot_header)    /* header_addr */
    .long PHYS(_image_start)        /* load_addr */
    .long PHYS(_edata)              /* load_end_addr */
    .long PHYS(_end)                /* bss_end_addr */
    .long PHYS(_start)              /* entry_addr */

    .section .text.boot, "ax"
    .code32
    .globl _start
_start:
    cli
    cld
    movl    %eax, PHYS(boot_mb_magic)
    movl    %ebx, PHYS(boot_mb_info)
    movl    $PHYS(boot_stack_top), %esp

    /* Long mode available?  If not, say so on COM1 and stop. */
    movl    $0x80000000, %eax
    cpuid
    cmpl    $0x80000001, %eax
    jb      no_long_mode
    movl    $0x80000001, %eax
    cpuid
    btl     $29, %edx
    jnc     no_long_mode

    /* Four page directories: 2048 x 2 MiB entries covering 0..4 GiB. */
    movl    $PHYS(boot_pd), %edi
    xorl    %ecx, %ecx
1:  movl    %ecx, %eax
    shll    $21, %eax
    orl     $(PTE_P | PTE_W | PTE_PS), %eax
    cmpl    $1536, %ecx             /* 3 GiB and above: MMIO, uncached */
    jb      2f
    orl     $(PTE_PCD | PTE_PWT), %eax
2:  movl    %eax, (%edi, %ecx, 8)
    movl    %ecx, %eax
    shrl    $11, %eax               /* high dword: bits 32+ of (ecx << 21) */
    movl    %eax, 4(%edi, %ecx, 8)
    incl    %ecx
    cmpl    $2048, %ecx
    jb      1b

    /* PDPT for the low 4 GiB: four entries, one per page directory. */
    movl    $PHYS(boot_pdpt_low), %edi
    movl    $PHYS(boot_pd) + (PTE_P | PTE_W), %eax
    movl    %eax, 0(%edi)
    addl    $4096, %eax
    movl    %eax, 8(%edi)
    addl    $4096, %eax
    movl    %eax, 16(%edi)
    addl    $4096, %eax
    movl    %eax, 24(%edi)

    /* PDPT for the top 2 GiB: entry 510 = first GiB of physical memory. */
    movl    $PHYS(boot_pdpt_high), %edi
    movl    $PHYS(boot_pd) + (PTE_P | PTE_W), %eax
    movl    %eax, 510 * 8(%edi)

    movl    $PHYS(boot_pml4), %edi
    movl    $PHYS(boot_pdpt_low) + (PTE_P | PTE_W), %eax
    movl    %eax, 0(%edi)
    movl    %eax, 256 * 8(%edi)
    movl    $PHYS(boot_pdpt_high) + (PTE_P | PTE_W), %eax
    movl    %eax, 511 * 8(%edi)

    /* PAE + PGE, CR3, EFER.LME (+NXE), then paging on: long mode. */
    movl    %cr4, %eax
    orl     $(CR4_PAE_BIT | CR4_PGE_BIT), %eax
    movl    %eax, %cr4
    movl    $PHYS(boot_pml4), %eax
    movl    %eax, %cr3
    movl    $0x80000001, %eax
    cpuid
    movl    %edx, %ebx
    movl    $MSR_EFER_NUM, %ecx
    rdmsr
    orl     $EFER_LME_BIT, %eax
    btl     $20, %ebx               /* NX supported? */
    jnc     3f
    orl     $EFER_NXE_BIT, %eax
3:  wrmsr
    movl    %cr0, %eax
    andl    $~(CR0_CD_BIT | CR0_NW_BIT), %eax   /* caches on, whatever the loader left */
    orl     $(CR0_PG_BIT | CR0_WP_BIT | CR0_PE_BIT), %eax
    movl    %eax, %cr0

    lgdt    PHYS(boot_gdt_ptr)
    ljmp    $BOOT_CS64, $PHYS(long_mode_low)

no_long_mode:
    movl    $PHYS(no_lm_msg), %esi
1:  lodsb
    testb   %al, %al
    jz      2f
    movw    $0x3f8, %dx
    outb    %al, %dx
    jmp     1b
2:  hlt
    jmp     2b

    .code64
long_mode_low:
    /* Still running at the physical address; move to the image mapping. */
    movabsq $long_mode_high, %rax
    jmp     *%rax

    .text
long_mode_high:
    movl    $BOOT_DS, %eax
    movl    %eax, %ds
    movl    %eax, %es
    movl    %eax, %ss
    xorl    %eax, %eax
    movl    %eax, %fs
    movl    %eax, %gs
    movabsq $boot_stack_top, %rsp
    xorl    %ebp, %ebp              /* terminates backtraces */
    movl    boot_mb_magic(%rip), %edi
    movl    boot_mb_info(%rip), %esi
    call    start_kiln
1:  cli
    hlt
    jmp     1b

    .section .rodata
no_lm_msg:
    .asciz  "kiln: this CPU has no long mode\r\n"

    /* A minimal GDT for the switch; arch/x86/cpu.c loads the real one. */
    .balign 16
boot_gdt:
    .quad   0
    .quad   0x00af9a000000ffff      /* 0x08: 64-bit code */
    .quad   0x00cf92000000ffff      /* 0x10: data */
boot_gdt_end:
    .globl boot_gdt_ptr
boot_gdt_ptr:
    .word   boot_gdt_end - boot_gdt - 1
    .long   PHYS(boot_gdt)

    .data
    .globl boot_mb_magic, boot_mb_info
boot_mb_magic:  .long 0
boot_mb_info:   .long 0

    .bss
    .balign 4096
    .globl boot_pml4, boot_pdpt_low, boot_pd
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4 * 4096
    .globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
    .skip   BOOT_STACK_SIZE
boot_stack_top:
