/*
 * ctl-payload.S - a child started directly in 64-bit long mode (SET_VCPU
 * with cr3 != 0).  Its page tables are built by ctl.c and written with
 * write_mem; this code at GPA 0x1000 prints one line and powers off.  The
 * MOVABS only decodes as intended in 64-bit mode, so the line appearing
 * proves the vCPU really started in long mode.
 */
#define LOAD 0x1000
#define AT(sym) (LOAD + (sym) - lm_payload)

    .section .rodata
    .code64
    .globl lm_payload, lm_payload_end
lm_payload:
    movabsq $AT(msg), %rdi
    movl $1, %eax               /* KILN_HC_CONSOLE_WRITE */
    movl $(msg_end - msg), %esi
    vmmcall
    movl $4, %eax               /* KILN_HC_SHUTDOWN */
    xorl %edi, %edi
    vmmcall
    ud2
msg:
    .ascii "long-mode child: started in 64-bit mode\n"
msg_end:
lm_payload_end:
