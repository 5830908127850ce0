/*
 * entry.S - one round trip into an SVM guest.
 *
 * VMRUN switches only part of the CPU state, so around it:
 *   VMLOAD guest / VMSAVE guest  FS, GS, TR, LDTR, KernelGSBase, the
 *   VMLOAD host                  syscall and sysenter MSRs (VMRUN leaves
 *                                them alone), so the guest's survive the
 *                                hypervisor and ours (%gs = per-CPU, TR =
 *                                IST stacks) are back before any C code;
 *                                the host's never change, so svm_save_host
 *                                stores them once per svm_run, not per exit;
 *   GPRs other than RAX/RSP      by hand from/to struct svm_gprs.
 * Interrupts: GIF is cleared first and RFLAGS.IF set, so physical
 * interrupts in guest mode cause an INTR exit (V_INTR_MASKING) instead of
 * being lost, and once the host state is back, STGI lets the pending
 * interrupt be taken by the hypervisor's own IDT.  Between VMRUN and the
 * host VMLOAD nothing may touch %gs.  dom0 (host_irqs == 0) runs without
 * V_INTR_MASKING and with the host's IF clear: its physical interrupts go
 * to its own IDT in guest mode and stay pending across exits.
 *
 * void svm_enter(struct svm_gprs *g, paddr_t vmcb_pa, paddr_t host_save_pa,
 *                bool host_irqs)
 */
#define G_RBX 0
#define G_RCX 8
#define G_RDX 16
#define G_RSI 24
#define G_RDI 32
#define G_RBP 40
#define G_R8  48
#define G_R9  56
#define G_R10 64
#define G_R11 72
#define G_R12 80
#define G_R13 88
#define G_R14 96
#define G_R15 104

    .text
    .globl svm_save_host
/* void svm_save_host(paddr_t host_save_pa) */
svm_save_host:
    movq %rdi, %rax
    vmsave
    ret

    .globl svm_enter
svm_enter:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    pushq %rdi              /* 16(%rsp): gprs */
    pushq %rsi              /*  8(%rsp): vmcb */
    pushq %rdx              /*  0(%rsp): host save area */

    clgi
    testb %cl, %cl
    jz 1f
    sti
1:
    movq 8(%rsp), %rax
    vmload

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
    movq G_RDI(%rdi), %rdi

    vmrun                   /* rax = vmcb; back here on #VMEXIT */
    .globl svm_vmrun_next
svm_vmrun_next:             /* the host RIP VMRUN saves (svm_check_vmcb_holds_guest) */
    pushq %rdi
    movq 24(%rsp), %rdi     /* gprs (stack shifted by the push) */
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
    popq %rax
    movq %rax, G_RDI(%rdi)

    movq 8(%rsp), %rax
    vmsave
    movq 0(%rsp), %rax
    vmload
    stgi                    /* a pending host interrupt is taken here */
    cli

    addq $24, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
