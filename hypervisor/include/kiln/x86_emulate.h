/*
 * x86_emulate.h - emulation of the x86 instructions that touch device
 * memory (arch/x86/hvm/x86_emulate.c).
 *
 * This CPU model gives no decode assists: when a guest's access to emulated
 * device memory exits, the hypervisor fetches the instruction and performs
 * it itself.  The emulator is pure: it knows nothing of MMIO, page tables
 * or vCPUs.  It decodes the bytes (insn_decode), computes the linear
 * address of each memory operand from the registers and the segment bases
 * it is given, and reaches memory only through the caller's read/write
 * ops, which decide whether a linear address is RAM, a device or a fault.
 *
 * Supported, with a memory operand only (a register-only form never exits
 * on memory, so it is refused like any other form not listed):
 *   MOV 88/89/8A/8B, C6/C7 /0, A0-A3 (moffs); MOVZX/MOVSX 0F B6/B7/BE/BF;
 *   MOVSXD 63 (64-bit mode); ADD/OR/ADC/SBB/AND/SUB/XOR/CMP 00-3B and
 *   80/81/82/83; TEST 84/85, F6/F7 /0-/1; NOT/NEG F6/F7 /2-/3; INC/DEC
 *   FE/FF /0-/1; XCHG 86/87; BT/BTS/BTR/BTC 0F A3/AB/B3/BB and 0F BA
 *   /4-/7; MOVS A4/A5, STOS AA/AB and LODS AC/AD with or without REP.
 * in 16-, 32- and 64-bit code (real mode and vm86 are 16-bit code with
 * segment bases = selector * 16), with every legacy prefix and REX.
 * RFLAGS: CF PF AF ZF SF OF as the CPU computes them; flags the manuals
 * call undefined are left as they were (BT*) or cleared (AF after the
 * logic ops), as the CPUs and QEMU do.
 *
 * Not modelled: segment limits and attributes (only the bases are used),
 * the alignment check, single-step (#DB after the instruction) and
 * the instruction's own fetch (the caller provides the bytes).
 */
#ifndef KILN_X86_EMULATE_H
#define KILN_X86_EMULATE_H

#include <kiln/hvm.h>
#include <kiln/insn.h>
#include <kiln/types.h>

/* Results of x86_emulate() and of the memory ops. */
#define X86EMUL_OK           0  /* done (or a REP slice done: RIP left on it) */
#define X86EMUL_EXCEPTION    1  /* c->fault describes the exception to raise */
#define X86EMUL_UNHANDLEABLE 2  /* not supported, or memory the caller refuses */

/* A long REP is performed at most this many elements per call; RIP then
 * stays on the instruction with RCX/RSI/RDI updated, so the guest resumes
 * it, as hardware resumes a REP after an interrupt. */
#define X86EMUL_REP_SLICE 1024

#define X86_EXC_UD 6
#define X86_EXC_SS 12
#define X86_EXC_GP 13
#define X86_EXC_PF 14

/* The exception the instruction raises. */
struct x86_emul_fault {
    u8 vector;
    bool has_error;
    u32 error;
    u64 cr2;            /* #PF only: the faulting linear address */
};

struct x86_emul_ctx;

struct x86_emul_ops {
    /* Read or write len (1, 2, 4 or 8) bytes at a linear address (the
     * segment base already added; it may cross a page).  Return an
     * X86EMUL_* code; on X86EMUL_EXCEPTION they have filled c->fault. */
    int (*read)(struct x86_emul_ctx *c, u64 linear, void *buf, unsigned int len);
    int (*write)(struct x86_emul_ctx *c, u64 linear, const void *buf, unsigned int len);
};

struct x86_emul_ctx {
    /* Inputs. */
    const struct x86_emul_ops *ops;
    struct hvm_regs *regs;      /* in and out: GPRs, rip and rflags */
    enum insn_mode mode;        /* the code segment's: 16, 32 or 64 */
    u64 seg_base[6];            /* by enum x86_seg; only FS/GS count in 64-bit mode */
    bool la57;                  /* 57-bit linear addresses (CR4.LA57) */
    u64 cr0;                    /* what SMSW stores (its low 16 bits) */
    /* Outputs. */
    struct x86_emul_fault fault;
    struct insn insn;           /* the decoded instruction */
};

/*
 * Emulates the instruction in bytes[0..len) at c->regs->rip.
 *  X86EMUL_OK: registers updated, RIP past it (or still on a REP that has
 *    elements left);
 *  X86EMUL_EXCEPTION: raise c->fault; registers hold what the completed
 *    part left (a REP's finished elements), RIP still on the instruction;
 *  X86EMUL_UNHANDLEABLE: the registers must not be written back.
 * Every memory write happens after the reads it depends on, and registers
 * change only once all its memory accesses are done.
 */
int x86_emulate(struct x86_emul_ctx *c, const u8 *bytes, size_t len);

#endif
