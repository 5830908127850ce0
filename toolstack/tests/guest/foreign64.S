/*
 * foreign64.S - the guest side of the foreign-mapping test (dom0 maps a
 * page of this guest through /dev/kiln).  Fills the first half of the page
 * at GPA 0x200000 (gfn 0x200) with word i = 0x6b696c6e + i, says so on its
 * console, then yields until dom0 has written a message at 0x200800 and the
 * flag "REP!" at 0x200ffc, prints that message from its own RAM ("foreign:
 * dom0 says: ..."), and blocks for good (dom0 destroys it).  32-bit flat
 * entry with paging off, as every Kiln guest starts: address == gpa.
 * Hypercall numbers are kiln.h's.
 */
    .set    PAGE, 0x200000
    .set    WORDS, 512
    .set    FIRST, 0x6b696c6e
    .set    REPLY, PAGE + 0x800
    .set    FLAG, PAGE + 0xffc
    .set    FLAG_SET, 0x21504552        /* "REP!" */

    .code32
    .text
    .globl _start
_start:
    xor     %ecx, %ecx
1:  lea     FIRST(%ecx), %eax
    mov     %eax, PAGE(,%ecx,4)
    inc     %ecx
    cmp     $WORDS, %ecx
    jne     1b

    mov     $ready, %edi
    mov     $ready_len, %esi
    mov     $1, %eax                    /* KILN_HC_CONSOLE_WRITE */
    vmmcall

2:  cmpl    $FLAG_SET, FLAG
    je      3f
    mov     $2, %eax                    /* KILN_HC_SCHED_YIELD */
    vmmcall
    jmp     2b

3:  mov     $says, %edi
    mov     $says_len, %esi
    mov     $1, %eax
    vmmcall
    xor     %esi, %esi                  /* the message's length, at most 64 */
4:  cmpb    $0, REPLY(%esi)
    je      5f
    inc     %esi
    cmp     $64, %esi
    jne     4b
5:  mov     $REPLY, %edi
    mov     $1, %eax
    vmmcall
    mov     $nl, %edi
    mov     $1, %esi
    mov     $1, %eax
    vmmcall

6:  xor     %edi, %edi                  /* no deadline: sleep until destroyed */
    mov     $3, %eax                    /* KILN_HC_SCHED_BLOCK */
    vmmcall
    jmp     6b

    .section .rodata
ready:
    .ascii  "foreign: pattern ready at gfn 0x200\n"
    .set    ready_len, . - ready
says:
    .ascii  "foreign: dom0 says: "
    .set    says_len, . - says
nl:
    .ascii  "\n"
