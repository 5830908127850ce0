/*
 * pvhinfo-note.S - makes the pvhinfo guest a PVH kernel: the
 * XEN_ELFNOTE_PHYS32_ENTRY note (owner "Xen", type 18, a 32-bit physical
 * entry) in a note section of its own (guest.ld discards .note*; an
 * orphan SHT_NOTE section still gets its PT_NOTE program header), and an
 * entry that records what the loader handed over (EBX, EFLAGS, CR0)
 * before the kt runtime's _start.
 */
    .section .pvh_note, "a", @note
    .balign 4
    .long 4                    /* namesz: "Xen\0" */
    .long 4                    /* descsz */
    .long 18                   /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long pvh_entry

    .section .text.entry, "ax"
    .code32
pvh_entry:
    movl %ebx, pvh_info
    movl $pvh_stack_top, %esp  /* the loader gives no stack */
    pushfl
    popl pvh_eflags
    movl %cr0, %eax
    movl %eax, pvh_cr0
    xorl %edi, %edi            /* no RAM size argument: the start info has it */
    jmp _start

    .section .data
    .balign 4
    .globl pvh_info, pvh_eflags, pvh_cr0
pvh_info:   .long 0
pvh_eflags: .long 0
pvh_cr0:    .long 0

    .section .bss
    .balign 16
    .skip 256
pvh_stack_top:
