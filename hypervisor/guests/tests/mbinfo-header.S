/*
 * mbinfo-header.S - makes the mbinfo guest a Multiboot1 kernel: a header
 * with the a.out kludge (flag 16; the file is ELF64, which a Multiboot
 * loader need not parse) at the very start of .text, so within the first
 * 8 KiB of the file, and an entry that records what the loader handed
 * over (EAX, EBX, EFLAGS, CR0) before the kt runtime's own _start runs
 * with EDI = RAM size in KiB, taken from the Multiboot info.
 */
#define MB_MAGIC 0x1badb002
#define MB_FLAGS ((1 << 1) | (1 << 16))   /* memory info; addresses below */

    .section .text.entry, "ax"
    .code32
    .balign 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
    .long mb_header            /* header_addr */
    .long mb_header            /* load_addr: the file from this header on */
    .long kt_load_end          /* load_end_addr */
    .long kt_bss_end           /* bss_end_addr */
    .long mb_entry             /* entry_addr */

mb_entry:
    movl %eax, mb_magic
    movl %ebx, mb_info
    movl $mb_stack_top, %esp   /* the loader gives no stack */
    pushfl
    popl mb_eflags
    movl %cr0, %eax
    movl %eax, mb_cr0
    movl 8(%ebx), %edi         /* mem_upper: KiB above 1 MiB */
    addl $1024, %edi
    jmp _start

    .section .data
    .balign 4
    .globl mb_magic, mb_info, mb_eflags, mb_cr0
mb_magic:  .long 0
mb_info:   .long 0
mb_eflags: .long 0
mb_cr0:    .long 0

    .section .bss
    .balign 16
    .skip 256
mb_stack_top:
