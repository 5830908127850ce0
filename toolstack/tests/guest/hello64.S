/*
 * hello64.S - the smallest Kiln test guest, 64-bit entry (see kiln_builder.h):
 * writes one line to its console and powers off.  It is a real image for
 * the domain builder's unit tests and, once dom0 runs on Kiln, for
 * `kl create` / `kl console` / `kl destroy`.  Numbers are from kiln.h.
 */
    .code64
    .text
    .globl _start
_start:
    lea     msg(%rip), %rdi     /* identity mapped: address == gpa */
    mov     $msg_len, %esi
    mov     $1, %eax            /* KILN_HC_CONSOLE_WRITE */
    vmmcall
    xor     %edi, %edi          /* KILN_SHUTDOWN_POWEROFF */
    mov     $4, %eax            /* KILN_HC_SHUTDOWN */
    vmmcall
1:  hlt
    jmp     1b

    .section .rodata
msg:
    .ascii  "hello from a Kiln test guest (64-bit)\n"
    .set    msg_len, . - msg

    .bss
    .space  8192                /* zero-filled: exercises memsz > filesz */
