/*
 * hello32.S - hello64.S as an ELF32 image (same 32-bit flat entry): one console
 * line, then power off.  Numbers are from kiln.h.
 */
    .code32
    .text
    .globl _start
_start:
    mov     $msg, %edi
    mov     $msg_len, %esi
    mov     $1, %eax            /* KILN_HC_CONSOLE_WRITE */
    vmmcall
    xor     %edi, %edi          /* KILN_SHUTDOWN_POWEROFF */
    mov     $4, %eax            /* KILN_HC_SHUTDOWN */
    vmmcall
1:  hlt
    jmp     1b

    .data
msg:
    .ascii  "hello from a Kiln test guest (ELF32)\n"
    .set    msg_len, . - msg
