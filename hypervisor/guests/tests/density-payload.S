/*
 * density-payload.S - the tiny guest density.c starts a hundred times:
 * position-dependent code for GPA 0x1000, entered in 32-bit flat mode
 * (SET_VCPU with cr3 = 0), that counts at 0x2000 for ever, so the CPU time
 * its creator reads keeps growing only while it is really scheduled.
 */
    .section .rodata
    .code32
    .globl density_payload, density_payload_end
density_payload:
1:  incl 0x2000
    jmp 1b
density_payload_end:
