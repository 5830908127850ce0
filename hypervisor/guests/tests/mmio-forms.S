/*
 * mmio-forms.S - the instruction forms guests/tests/mmio.c runs on RAM and
 * on MMIO.  Each is a function f(struct st *s): it loads RAX, RBX (the
 * memory's base), RCX, RDX, RSI, RDI and RFLAGS from *s, runs the form,
 * and stores them back.
 */
/* FORM name ... END_FORM: the instructions in between are the form. */
.macro FORM name
    .text
    .globl \name
\name:
    push %rbx
    push %rbp
    mov %rdi, %rbp
    mov 0(%rbp), %rax
    mov 8(%rbp), %rbx
    mov 16(%rbp), %rcx
    mov 24(%rbp), %rdx
    mov 32(%rbp), %rsi
    mov 40(%rbp), %rdi
    pushq 48(%rbp)
    popfq
.endm

.macro END_FORM
    pushfq
    popq 48(%rbp)
    mov %rax, 0(%rbp)
    mov %rbx, 8(%rbp)
    mov %rcx, 16(%rbp)
    mov %rdx, 24(%rbp)
    mov %rsi, 32(%rbp)
    mov %rdi, 40(%rbp)
    pop %rbp
    pop %rbx
    ret
.endm

FORM f_mov_store32
    movl %eax, 8(%rbx)
END_FORM
FORM f_mov_load64
    movq 16(%rbx), %rcx
END_FORM
FORM f_mov_store_ah
    movb %ah, 3(%rbx)
END_FORM
FORM f_mov_imm16
    movw $0x1234, 6(%rbx)
END_FORM
FORM f_mov_imm64
    movq $-5, 24(%rbx)
END_FORM
FORM f_mov_load8
    movb 5(%rbx), %dl
END_FORM
FORM f_mov_sib
    movl 4(%rbx,%rcx,1), %edx
END_FORM
FORM f_moffs_load
    .byte 0x64, 0xa1    /* mov %fs:8, %eax */
    .quad 8
END_FORM
FORM f_moffs_store
    .byte 0x64, 0x48, 0xa3    /* mov %rax, %fs:16 */
    .quad 16
END_FORM
FORM f_fs_load
    movq %fs:32, %rdx
END_FORM
FORM f_movzx8
    movzbl 1(%rbx), %eax
END_FORM
FORM f_movzx16
    movzwq 2(%rbx), %rax
END_FORM
FORM f_movsx16
    movswq 2(%rbx), %rdx
END_FORM
FORM f_movsx8
    movsbw 7(%rbx), %cx
END_FORM
FORM f_movsxd
    movslq 4(%rbx), %rcx
END_FORM
FORM f_add
    addl %eax, 8(%rbx)
END_FORM
FORM f_add_to_reg
    addb 9(%rbx), %al
END_FORM
FORM f_adc
    adcq 16(%rbx), %rcx
END_FORM
FORM f_sub_imm8
    subb $7, 5(%rbx)
END_FORM
FORM f_sbb
    sbbw %dx, 10(%rbx)
END_FORM
FORM f_and_imm
    andq $-16, 24(%rbx)
END_FORM
FORM f_or
    orl 12(%rbx), %edx
END_FORM
FORM f_xor
    xorw %ax, 14(%rbx)
END_FORM
FORM f_cmp_imm32
    cmpl $0x12345678, 8(%rbx)
END_FORM
FORM f_cmp_reg
    cmpq 16(%rbx), %rcx
END_FORM
FORM f_lock_add
    lock addl $0x7fffffff, 20(%rbx)
END_FORM
FORM f_inc
    lock incl 20(%rbx)
END_FORM
FORM f_dec
    decb 1(%rbx)
END_FORM
FORM f_neg
    negq 32(%rbx)
END_FORM
FORM f_not
    notw 40(%rbx)
END_FORM
FORM f_test
    testl %ecx, 8(%rbx)
END_FORM
FORM f_test_imm
    testb $0x81, 3(%rbx)
END_FORM
FORM f_xchg
    xchgq %rdx, 16(%rbx)
END_FORM
FORM f_xchg8
    xchgb %cl, 17(%rbx)
END_FORM
FORM f_bts
    btsl %ecx, (%rbx)
END_FORM
FORM f_btr_imm
    btrq $5, 8(%rbx)
END_FORM
FORM f_btc
    btcw %ax, 4(%rbx)
END_FORM
FORM f_bt
    btl $63, 12(%rbx)
END_FORM
FORM f_movsl
    lea 32(%rbx), %rsi
    lea 48(%rbx), %rdi
    movsl
END_FORM
FORM f_rep_stosw
    lea 8(%rbx), %rdi
    mov $3, %ecx
    rep stosw
END_FORM
FORM f_rep_movsb
    lea 8(%rbx), %rsi
    lea 40(%rbx), %rdi
    mov $5, %ecx
    rep movsb
END_FORM
FORM f_rep_movsb_df
    lea 40(%rbx), %rsi
    lea 60(%rbx), %rdi
    mov $4, %ecx
    std
    rep movsb
    cld
END_FORM
FORM f_rep_movsq_fs
    xor %esi, %esi
    lea 32(%rbx), %rdi
    mov $2, %ecx
    rep movsq %fs:(%rsi), %es:(%rdi)
END_FORM
FORM f_lodsq
    lea 16(%rbx), %rsi
    lodsq
END_FORM
FORM f_rep_stos_zero
    lea 8(%rbx), %rdi
    xor %ecx, %ecx
    rep stosb
END_FORM


/*
 * u32 compat_mmio(u32 base): five accesses to MMIO at base from a 32-bit
 * code segment in long mode (compatibility mode): stores 0x11223344 at
 * base and, through a 4-byte moffs (8 bytes in 64-bit code), at
 * KT_MMIO_SCRATCH + 0x210; adds 0x0101 to the word at base+2, reads that
 * word back (the result), REP STOSB three 0x77 bytes at base+8.  Runs on its own GDT:
 * the runtime's has no 32-bit code segment.
 */
    .text
    .globl compat_mmio
compat_mmio:
    push %rbx
    sub $16, %rsp
    sgdt (%rsp)
    lgdt compat_gdt_desc(%rip)
    mov %edi, %ebx
    pushq $0x18
    lea 1f(%rip), %rax
    push %rax
    lretq
    .code32
1:  movl $0x11223344, %eax
    movl %eax, (%ebx)
    movl %eax, 0xfe000210       /* KT_MMIO_SCRATCH + 0x210 */
    addw $0x0101, 2(%ebx)
    movzwl 2(%ebx), %edx
    lea 8(%ebx), %edi
    mov $3, %ecx
    mov $0x77, %al
    rep stosb
    ljmp $0x08, $2f
    .code64
2:  lgdt (%rsp)
    add $16, %rsp
    mov %edx, %eax
    pop %rbx
    ret

    .data
    .balign 8
compat_gdt:
    .quad 0
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, as the runtime's */
    .quad 0x00cf92000000ffff    /* 0x10: flat data, as the runtime's */
    .quad 0x00cf9a000000ffff    /* 0x18: 32-bit code */
compat_gdt_desc:
    .word compat_gdt_desc - compat_gdt - 1
    .quad compat_gdt

.section .note.GNU-stack, "", @progbits
