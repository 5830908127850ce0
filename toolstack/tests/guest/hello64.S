/*
 * hello64.S - the smallest Kiln test guest: writes one line (with its RAM
 * size from RDI) to its console and powers off.  An ELF64 image whose entry
 * runs in 32-bit flat mode, as every Kiln guest starts (kiln_builder.h) -
 * the same shape as the hypervisor's kt guests.  A real image for the
 * builder's unit tests and for `kl create` / `kl console` in dom0.
 * Numbers are from kiln.h.
 */
    .code32
    .text
    .globl _start
_start:
    mov     $msg, %edi          /* paging is off: address == gpa */
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
    .ascii  "hello from a Kiln test guest (ELF64)\n"
    .set    msg_len, . - msg

    .bss
    .space  8192                /* zero-filled: exercises memsz > filesz */
