/*
 * entry.S - one round trip into a VT-x guest.
 *
 * VM entry loads the guest's RSP and RIP from the VMCS and VM exit loads
 * the host's from HOST_RSP/HOST_RIP (vmx_exit_entry), so the other GPRs
 * are switched here by hand from/to struct vmx_gprs.  HOST_RSP is written
 * on every entry: it is this stack frame, whose pointer to the GPR block
 * the exit path finds at 0(%rsp).  A VM exit leaves RFLAGS at 2 (host
 * interrupts off); vmx_run takes a pending host interrupt afterwards.

 *
 * int vmx_enter(struct vmx_gprs *g, bool launched)
 *     0 after a VM exit, 1 when VMLAUNCH/VMRESUME failed.
 */
#define G_RAX 0
#define G_RBX 8
#define G_RCX 16
#define G_RDX 24
#define G_RSI 32
#define G_RDI 40
#define G_RBP 48
#define G_R8  56
#define G_R9  64
#define G_R10 72
#define G_R11 80
#define G_R12 88
#define G_R13 96
#define G_R14 104
#define G_R15 112
#define HOST_RSP 0x6c14

    .text
    .globl vmx_enter
vmx_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi              /* 0(%rsp): gprs, found again at the exit */

    movl $HOST_RSP, %eax
    vmwrite %rsp, %rax
    testb %sil, %sil        /* the MOVs below leave ZF alone */

    movq G_RBX(%rdi), %rbx
    movq G_RCX(%rdi), %rcx
    movq G_RDX(%rdi), %rdx
    movq G_RSI(%rdi), %rsi
    movq G_RBP(%rdi), %rbp
    movq G_R8(%rdi), %r8
    movq G_R9(%rdi), %r9
    movq G_R10(%rdi), %r10
    movq G_R11(%rdi), %r11
    movq G_R12(%rdi), %r12
    movq G_R13(%rdi), %r13
    movq G_R14(%rdi), %r14
    movq G_R15(%rdi), %r15
    movq G_RAX(%rdi), %rax
    movq G_RDI(%rdi), %rdi
    jnz 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* Still here: the instruction failed, nothing of the guest ran. */
    movl $1, %eax
    jmp 3f

    .globl vmx_exit_entry
vmx_exit_entry:             /* HOST_RIP */
    pushq %rdi
    movq 8(%rsp), %rdi
    movq %rax, G_RAX(%rdi)
    movq %rbx, G_RBX(%rdi)
    movq %rcx, G_RCX(%rdi)
    movq %rdx, G_RDX(%rdi)
    movq %rsi, G_RSI(%rdi)
    movq %rbp, G_RBP(%rdi)
    movq %r8, G_R8(%rdi)
    movq %r9, G_R9(%rdi)
    movq %r10, G_R10(%rdi)
    movq %r11, G_R11(%rdi)
    movq %r12, G_R12(%rdi)
    movq %r13, G_R13(%rdi)
    movq %r14, G_R14(%rdi)
    movq %r15, G_R15(%rdi)
    popq G_RDI(%rdi)
    xorl %eax, %eax
3:
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
