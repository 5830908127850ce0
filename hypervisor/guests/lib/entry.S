/*
 * entry.S - how every test guest starts.
 *
 * Kiln starts a vCPU in 32-bit flat protected mode with paging off (the
 * SET_VCPU cr3 == 0 form, like Multiboot), so guests need no page tables
 * built for them.  This stub reads the TSC first (the bench measures the
 * time from power-on to the first guest instruction with it), builds
 * identity page tables for the low 4 GiB with 2 MiB pages, enables long
 * mode itself and calls kt_start() on a private stack.
 */
#define MSR_EFER   0xc0000080
#define EFER_LME   (1 << 8)
#define CR0_PG     (1 << 31)
#define CR4_PAE    (1 << 5)
#define PTE_PRW    0x7          /* present, writable, user: any guest CPL */
#define PDE_2M     0x87         /* the same plus page size */

    .section .text.entry, "ax"
    .code32
    .globl _start
_start:
    movl %edi, %ebp             /* keep the boot argument away from rdtsc */
    rdtsc
    movl %eax, kt_boot_tsc
    movl %edx, kt_boot_tsc + 4
    movl %ebp, kt_boot_arg

    lgdt gdt_desc

    /* PML4[0] -> PDPT, PDPT[0..3] -> four page directories. */
    movl $pdpt + PTE_PRW, pml4
    movl $pd + PTE_PRW, %eax
    xorl %ecx, %ecx
1:  movl %eax, pdpt(, %ecx, 8)
    addl $4096, %eax
    incl %ecx
    cmpl $4, %ecx
    jne 1b

    /* 2048 x 2 MiB = 4 GiB, identity.  High dwords stay zero (.bss). */
    xorl %ecx, %ecx
2:  movl %ecx, %eax
    shll $21, %eax
    orl $PDE_2M, %eax
    movl %eax, pd(, %ecx, 8)
    incl %ecx
    cmpl $2048, %ecx
    jne 2b

    movl $pml4, %eax
    movl %eax, %cr3
    movl %cr4, %eax
    orl $CR4_PAE, %eax
    movl %eax, %cr4
    movl $MSR_EFER, %ecx
    rdmsr
    orl $EFER_LME, %eax
    wrmsr
    movl %cr0, %eax
    orl $CR0_PG, %eax
    movl %eax, %cr0
    ljmp $0x08, $long_mode

    .code64
long_mode:
    movl $0x10, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    leaq stack_top(%rip), %rsp
    xorl %ebp, %ebp
    call kt_start
3:  hlt
    jmp 3b

    .section .rodata
    .balign 8
gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff    /* 0x10: flat data */
    .quad 0x00affa000000ffff    /* 0x18 (0x1b): 64-bit user code */
    .quad 0x00cff2000000ffff    /* 0x20 (0x23): user data */
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .quad gdt

    .section .bss
    .balign 4096
pml4:   .skip 4096
pdpt:   .skip 4096
pd:     .skip 4 * 4096
stack:  .skip 16384
stack_top:

    .section .data
    .balign 8
    .globl kt_boot_tsc, kt_boot_arg
kt_boot_tsc: .quad 0
kt_boot_arg: .quad 0
