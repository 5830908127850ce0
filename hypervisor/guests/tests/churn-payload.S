/*
 * churn-payload.S - the children churn.c creates and destroys in a loop.
 * Position-dependent code for GPA 0x1000, entered in 32-bit flat mode
 * (SET_VCPU with cr3 = 0) on every vCPU.  Each kind ends up in another of
 * the hypervisor's teardown paths:
 *   spin    runs until destroyed (kicked out of guest mode on its CPU)
 *   halt    HLT in a loop: blocked on a CPU's wake list when destroyed
 *   yield   the yield hypercall in a loop (exits into the scheduler)
 *   finish  prints a line and powers itself off (reaped by its own CPU)
 *   triple  #UD with no IDT: a triple fault destroys it
 */
#define LOAD 0x1000
#define AT(sym) (LOAD + (sym) - churn_finish)

    .section .rodata
    .code32
    .globl churn_spin, churn_spin_end, churn_halt, churn_halt_end
    .globl churn_yield, churn_yield_end, churn_finish, churn_finish_end
    .globl churn_triple, churn_triple_end
churn_finish:
    movl $1, 0x200000           /* a 4 KiB-mapped page past the 2 MiB block */
    movl $1, %eax               /* KILN_HC_CONSOLE_WRITE */
    movl $AT(msg), %edi
    movl $(msg_end - msg), %esi
    vmmcall
    movl $4, %eax               /* KILN_HC_SHUTDOWN */
    xorl %edi, %edi             /* poweroff */
    vmmcall
1:  jmp 1b                      /* a second vCPU may get here first */
msg:
    .ascii "churn child: finished\n"
msg_end:
churn_finish_end:

churn_spin:
    movl $1, 0x200000
1:  jmp 1b
churn_spin_end:

churn_halt:
    movl $1, 0x200000
1:  hlt
    jmp 1b
churn_halt_end:

churn_yield:
1:  movl $2, %eax               /* KILN_HC_SCHED_YIELD */
    vmmcall
    jmp 1b
churn_yield_end:

churn_triple:
    ud2
churn_triple_end:
