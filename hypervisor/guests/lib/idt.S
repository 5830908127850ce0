/*
 * idt.S - exception entry stubs for guests that install an IDT.
 *
 * Each stub pushes a dummy error code where the CPU pushes none, then the
 * vector, so kt_exception() always sees the same frame layout.  Vectors
 * 32-255 (interrupts) have stubs too, each 16 bytes apart like the rest.
 */
    .text
    .code64

.macro stub vec, has_err
    .balign 16
stub_\vec:
    .if \has_err == 0
    pushq $0
    .endif
    pushq $\vec
    jmp common
.endm

    .globl kt_idt_stubs
kt_idt_stubs:
    stub 0, 0
    stub 1, 0
    stub 2, 0
    stub 3, 0
    stub 4, 0
    stub 5, 0
    stub 6, 0
    stub 7, 0
    stub 8, 1
    stub 9, 0
    stub 10, 1
    stub 11, 1
    stub 12, 1
    stub 13, 1
    stub 14, 1
    stub 15, 0
    stub 16, 0
    stub 17, 1
    stub 18, 0
    stub 19, 0
    stub 20, 0
    stub 21, 1
    stub 22, 0
    stub 23, 0
    stub 24, 0
    stub 25, 0
    stub 26, 0
    stub 27, 0
    stub 28, 0
    stub 29, 1
    stub 30, 1
    stub 31, 0
    vec = 32
    .rept 224
    .balign 16
    pushq $0
    pushq $vec
    jmp common
    vec = vec + 1
    .endr

common:
    pushq %rax
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    movq %rsp, %rdi            /* struct kt_frame * */
    call kt_exception
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rax
    addq $16, %rsp             /* vector and error code */
    iretq
