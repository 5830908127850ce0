/*
 * migctl-payload.S - the child of migctl.c, at GPA 0x1000 in 32-bit flat
 * mode: counts in EAX forever, stores the count at GPA 0x3000, and also at
 * the address found at GPA 0x5000 once the parent puts one there (so the
 * parent decides when a page is first touched).  It writes no other page:
 * the parent knows exactly which pages must come out dirty.
 */
    .section .rodata
    .code32
    .globl migctl_payload, migctl_payload_end
migctl_payload:
1:  incl %eax
    movl %eax, 0x3000
    movl 0x5000, %ebx
    testl %ebx, %ebx
    jz 1b
    movl %eax, (%ebx)
    jmp 1b
migctl_payload_end:
