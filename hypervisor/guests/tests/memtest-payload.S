/*
 * memtest-payload.S - the tiny guests memtest.c builds 100 times.  Each is
 * position-dependent code for GPA 0x1000, entered in 32-bit flat mode
 * (SET_VCPU with cr3 = 0).  "finish" touches a page in the 4 KiB-mapped
 * tail of its RAM (so nested page-table pages get allocated), prints a
 * line and powers off; "spin" touches the same page and loops until its
 * creator destroys it.
 */
#define LOAD 0x1000
#define AT(sym) (LOAD + (sym) - payload_finish)

    .section .rodata
    .code32
    .globl payload_finish, payload_finish_end, payload_spin, payload_spin_end
payload_finish:
    movl $1, 0x200000           /* 4 KiB-backed page past the 2 MiB block */
    movl $1, %eax               /* KILN_HC_CONSOLE_WRITE */
    movl $AT(msg), %edi
    movl $(msg_end - msg), %esi
    vmmcall
    movl $4, %eax               /* KILN_HC_SHUTDOWN */
    xorl %edi, %edi             /* poweroff */
    vmmcall
    ud2
msg:
    .ascii "payload: hello from a domain built with write_mem\n"
msg_end:
payload_finish_end:

payload_spin:
    movl $1, 0x200000
1:  jmp 1b
payload_spin_end:
