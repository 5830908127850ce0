/*
 * test_x86_emulate.c - unit tests of the MMIO instruction emulator
 * (arch/x86/hvm/x86_emulate.c).
 *
 * The table holds instruction bytes (as GNU as encodes them), the
 * registers and memory before, and the exact effect expected: registers
 * that change (every other one must not), RFLAGS, and every memory access
 * the emulator makes, in order, with its width and value, which is what a
 * device model behind MMIO sees.  Memory is a fake: one window of bytes at
 * MEM_BASE; any access outside it raises #PF (CR2 = the address) like an
 * unmapped page, a write to the page at RO_BASE raises a protection
 * #PF, and an access in REFUSE_BASE's page is refused by the op (a device
 * the caller cannot handle).  Separate tests cover what a table
 * cannot: the ALU flags against the host CPU's own, long and faulting REPs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

/* The table leaves out what a case does not need. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

#include "../arch/x86/insn_len.c"
#include "../arch/x86/hvm/x86_emulate.c"

#define MEM_BASE    0x1000ull
#define MEM_SIZE    0x20000u
#define REFUSE_BASE 0x90000ull
#define RO_BASE     0x18000ull          /* a page of memory where writes fault */
#define RIP0        0x100000ull
#define MAX_LOG     8

struct access {
    char kind;          /* 'r' or 'w'; 0 ends a list */
    u64 addr;
    u8 len;
    u64 val;
};

static u8 mem[MEM_SIZE];
static struct access log_[MAX_LOG];
static unsigned int nlog, nreads, nwrites;

static int fake_access(struct x86_emul_ctx *c, u64 la, void *buf, unsigned int len, bool write)
{
    assert_true(len == 1 || len == 2 || len == 4 || len == 8);
    if ((la & ~0xfffull) == REFUSE_BASE)
        return X86EMUL_UNHANDLEABLE;
    if (la < MEM_BASE || la + len > MEM_BASE + MEM_SIZE) {
        c->fault = (struct x86_emul_fault){ X86_EXC_PF, true, write ? 2 : 0, la };
        return X86EMUL_EXCEPTION;
    }
    if (write && la + len > RO_BASE && la < RO_BASE + 0x1000) {
        c->fault = (struct x86_emul_fault){ X86_EXC_PF, true, 3, la };
        return X86EMUL_EXCEPTION;
    }
    if (write)
        memcpy(mem + (la - MEM_BASE), buf, len);
    else
        memcpy(buf, mem + (la - MEM_BASE), len);
    if (nlog < MAX_LOG) {
        struct access *a = &log_[nlog++];
        a->kind = write ? 'w' : 'r';
        a->addr = la;
        a->len = (u8)len;
        a->val = 0;
        memcpy(&a->val, write ? buf : (void *)(mem + (la - MEM_BASE)), len);
    }
    write ? nwrites++ : nreads++;
    return X86EMUL_OK;
}

static int fake_read(struct x86_emul_ctx *c, u64 la, void *buf, unsigned int len)
{
    return fake_access(c, la, buf, len, false);
}

static int fake_write(struct x86_emul_ctx *c, u64 la, const void *buf, unsigned int len)
{
    return fake_access(c, la, (void *)buf, len, true);
}

static const struct x86_emul_ops fake_ops = { fake_read, fake_write };

/* Register names for the table: the encoding order, then RIP and RFLAGS. */
enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15,
       RIP, RFL, NREGS };

static u64 *treg(struct hvm_regs *r, unsigned int n)
{
    if (n == RIP)
        return &r->rip;
    if (n == RFL)
        return &r->rflags;
    return gpr(r, n);
}

struct rv {
    u8 reg1;            /* register + 1; 0 ends a list */
    u64 val;
};
#define R(reg, v) { (reg) + 1, (v) }

struct tcase {
    const char *name;
    enum insn_mode mode;
    const char *bytes;
    size_t len;
    struct rv set[6];           /* registers before (others 0; RIP = RIP0, RFLAGS = 2) */
    struct access init[2];      /* memory before ('w' entries; the rest is zero) */
    struct rv segs[2];          /* segment bases, by enum x86_seg */
    int rc;
    struct rv expect[6];        /* registers after that differ from before (RIP past
                                 * the instruction on success unless listed) */
    struct access acc[MAX_LOG]; /* every access, in order */
    u8 vector;                  /* X86EMUL_EXCEPTION: the fault */
    u32 error;
};

#define B(s) s, sizeof(s) - 1
#define FL(x) (0x2ull | (x))
#define CF FL_CF
#define PF FL_PF
#define AF FL_AF
#define ZF FL_ZF
#define SF FL_SF
#define OF FL_OF
#define DF FL_DF

static const struct tcase cases[] = {
    /* ---- MOV, 64-bit ---- */
    { "mov %eax,(%rbx)", INSN_MODE_64, B("\x89\x03"),
      { R(RAX, 0xffffffff12345678), R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 4, 0x12345678 } } },
    { "mov %rax,(%rbx) (REX.W)", INSN_MODE_64, B("\x48\x89\x03"),
      { R(RAX, 0x1122334455667788), R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 8, 0x1122334455667788 } } },
    { "mov %ax,(%rbx) (66)", INSN_MODE_64, B("\x66\x89\x03"),
      { R(RAX, 0x5678), R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 2, 0x5678 } } },
    { "mov 0x10(%rbx,%rcx,4),%r9w keeps the upper bits", INSN_MODE_64,
      B("\x66\x44\x8b\x4c\x8b\x10"),
      { R(RBX, 0x1000), R(RCX, 0x40), R(R9, 0xaaaaaaaaaaaaaaaa) },
      { { 'w', 0x1110, 2, 0xbeef } }, {}, X86EMUL_OK,
      { R(R9, 0xaaaaaaaaaaaabeef) }, { { 'r', 0x1110, 2, 0xbeef } } },
    { "mov (%rbx),%eax zero-extends", INSN_MODE_64, B("\x8b\x03"),
      { R(RAX, 0xffffffffffffffff), R(RBX, 0x1200) }, { { 'w', 0x1200, 4, 0x80000001 } }, {},
      X86EMUL_OK, { R(RAX, 0x80000001) }, { { 'r', 0x1200, 4, 0x80000001 } } },
    { "mov (%rbx),%al keeps the rest", INSN_MODE_64, B("\x8a\x03"),
      { R(RAX, 0x1111111111111111), R(RBX, 0x1200) }, { { 'w', 0x1200, 1, 0xee } }, {},
      X86EMUL_OK, { R(RAX, 0x11111111111111ee) }, { { 'r', 0x1200, 1, 0xee } } },
    { "mov %ah,(%rbx): AH without REX", INSN_MODE_64, B("\x88\x23"),
      { R(RAX, 0xab12), R(RBX, 0x1100), R(RSP, 0x77) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 1, 0xab } } },
    { "mov %sil,(%rbx): SIL with REX 40", INSN_MODE_64, B("\x40\x88\x33"),
      { R(RSI, 0x12c3), R(RBX, 0x1100), R(RDX, 0xff00) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 1, 0xc3 } } },
    { "mov (%rbx),%ch writes bits 15:8", INSN_MODE_64, B("\x8a\x3b"),
      { R(RBX, 0x1200), R(RDI, 0x5555) }, { { 'w', 0x1200, 1, 0x9a } }, {}, X86EMUL_OK,
      { R(RBX, 0x9a00) }, { { 'r', 0x1200, 1, 0x9a } } },
    { "movb $0x7f,(%rdi)", INSN_MODE_64, B("\xc6\x07\x7f"),
      { R(RDI, 0x1300) }, {}, {}, X86EMUL_OK, {}, { { 'w', 0x1300, 1, 0x7f } } },
    { "movq $-2,8(%rsi): imm32 sign-extended", INSN_MODE_64, B("\x48\xc7\x46\x08\xfe\xff\xff\xff"),
      { R(RSI, 0x1300) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1308, 8, 0xfffffffffffffffe } } },
    { "movw $0x1234,(%rbx)", INSN_MODE_64, B("\x66\xc7\x03\x34\x12"),
      { R(RBX, 0x1300) }, {}, {}, X86EMUL_OK, {}, { { 'w', 0x1300, 2, 0x1234 } } },
    { "movabs 0x1000,%eax (moffs64)", INSN_MODE_64, B("\xa1\x00\x10\x00\x00\x00\x00\x00\x00"),
      { R(RAX, 0xffffffffffffffff) }, { { 'w', 0x1000, 4, 0xcafe } }, {}, X86EMUL_OK,
      { R(RAX, 0xcafe) }, { { 'r', 0x1000, 4, 0xcafe } } },
    { "movabs %al,0x1000", INSN_MODE_64, B("\xa2\x00\x10\x00\x00\x00\x00\x00\x00"),
      { R(RAX, 0x99) }, {}, {}, X86EMUL_OK, {}, { { 'w', 0x1000, 1, 0x99 } } },
    { "movabs %rax,0x1008 (REX.W A3)", INSN_MODE_64, B("\x48\xa3\x08\x10\x00\x00\x00\x00\x00\x00"),
      { R(RAX, 0x0102030405060708) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1008, 8, 0x0102030405060708 } } },
    { "addr32 mov 0x1000,%eax (moffs32)", INSN_MODE_64, B("\x67\xa1\x00\x10\x00\x00"),
      {}, { { 'w', 0x1000, 4, 7 } }, {}, X86EMUL_OK, { R(RAX, 7) }, { { 'r', 0x1000, 4, 7 } } },
    { "mov 0x100(%rip),%ecx: relative to the next RIP", INSN_MODE_64,
      B("\x8b\x0d\x00\x01\x00\x00"), { R(RIP, 0x1000) }, { { 'w', 0x1106, 4, 0x42 } }, {},
      X86EMUL_OK, { R(RCX, 0x42) }, { { 'r', 0x1106, 4, 0x42 } } },
    { "mov -0x10(%rip),%eax", INSN_MODE_64, B("\x8b\x05\xf0\xff\xff\xff"),
      { R(RIP, 0x2000) }, {}, {}, X86EMUL_OK, {}, { { 'r', 0x1ff6, 4, 0 } } },
    { "mov %fs:(%rbx),%eax: FS base counts in 64-bit mode", INSN_MODE_64, B("\x64\x8b\x03"),
      { R(RBX, 0x100) }, { { 'w', 0x2100, 4, 0x5a5a } }, { R(X86_SEG_FS, 0x2000) }, X86EMUL_OK,
      { R(RAX, 0x5a5a) }, { { 'r', 0x2100, 4, 0x5a5a } } },
    { "mov %gs:(%rbx),%eax", INSN_MODE_64, B("\x65\x8b\x03"),
      { R(RBX, 0x100) }, {}, { R(X86_SEG_GS, 0x3000) }, X86EMUL_OK, {},
      { { 'r', 0x3100, 4, 0 } } },
    { "mov %es:(%rbx),%eax: ES base ignored in 64-bit mode", INSN_MODE_64, B("\x26\x8b\x03"),
      { R(RBX, 0x1100) }, {}, { R(X86_SEG_ES, 0x100000) }, X86EMUL_OK, {},
      { { 'r', 0x1100, 4, 0 } } },
    { "mov (%r13),%eax via REX.B (mod 1, disp8 0)", INSN_MODE_64, B("\x41\x8b\x45\x00"),
      { R(R13, 0x1400) }, {}, {}, X86EMUL_OK, {}, { { 'r', 0x1400, 4, 0 } } },
    { "mov (%r12,%r15,8),%r8: REX.B in SIB base, REX.X in index", INSN_MODE_64,
      B("\x4f\x8b\x04\xfc"), { R(R12, 0x1000), R(R15, 0x20) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1100, 8, 0 } } },
    { "mov 0x1200(,%rsi,2),%eax: SIB without base", INSN_MODE_64,
      B("\x8b\x04\x75\x00\x12\x00\x00"), { R(RSI, 0x80) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1300, 4, 0 } } },
    { "mov (%rsp,%riz),%eax: index 4 is none", INSN_MODE_64, B("\x8b\x04\x24"),
      { R(RSP, 0x1500) }, {}, {}, X86EMUL_OK, {}, { { 'r', 0x1500, 4, 0 } } },
    { "addr32 mov (%ebx),%eax: the address wraps at 4 GiB", INSN_MODE_64, B("\x67\x8b\x03"),
      { R(RBX, 0xffffffff00001100) }, {}, {}, X86EMUL_OK, {}, { { 'r', 0x1100, 4, 0 } } },
    { "rep prefix on MOV is ignored", INSN_MODE_64, B("\xf3\x89\x03"),
      { R(RBX, 0x1100), R(RCX, 5), R(RAX, 3) }, {}, {}, X86EMUL_OK, {},
      { { 'w', 0x1100, 4, 3 } } },

    /* ---- MOVZX / MOVSX / MOVSXD ---- */
    { "movzbl (%rbx),%eax", INSN_MODE_64, B("\x0f\xb6\x03"),
      { R(RBX, 0x1200), R(RAX, ~0ull) }, { { 'w', 0x1200, 1, 0x80 } }, {}, X86EMUL_OK,
      { R(RAX, 0x80) }, { { 'r', 0x1200, 1, 0x80 } } },
    { "movzwq (%rbx),%rax", INSN_MODE_64, B("\x48\x0f\xb7\x03"),
      { R(RBX, 0x1200), R(RAX, ~0ull) }, { { 'w', 0x1200, 2, 0x8001 } }, {}, X86EMUL_OK,
      { R(RAX, 0x8001) }, { { 'r', 0x1200, 2, 0x8001 } } },
    { "movsbw (%rbx),%ax", INSN_MODE_64, B("\x66\x0f\xbe\x03"),
      { R(RBX, 0x1200), R(RAX, 0x1234567812345678) }, { { 'w', 0x1200, 1, 0x80 } }, {},
      X86EMUL_OK, { R(RAX, 0x123456781234ff80) }, { { 'r', 0x1200, 1, 0x80 } } },
    { "movswl (%rbx),%eax", INSN_MODE_64, B("\x0f\xbf\x03"),
      { R(RBX, 0x1200) }, { { 'w', 0x1200, 2, 0x8000 } }, {}, X86EMUL_OK,
      { R(RAX, 0xffff8000) }, { { 'r', 0x1200, 2, 0x8000 } } },
    { "movsbq (%rbx),%r10", INSN_MODE_64, B("\x4c\x0f\xbe\x13"),
      { R(RBX, 0x1200) }, { { 'w', 0x1200, 1, 0xfe } }, {}, X86EMUL_OK,
      { R(R10, 0xfffffffffffffffe) }, { { 'r', 0x1200, 1, 0xfe } } },
    { "movslq (%rbx),%rdx", INSN_MODE_64, B("\x48\x63\x13"),
      { R(RBX, 0x1200) }, { { 'w', 0x1200, 4, 0x80000000 } }, {}, X86EMUL_OK,
      { R(RDX, 0xffffffff80000000) }, { { 'r', 0x1200, 4, 0x80000000 } } },
    { "63 outside 64-bit mode is ARPL: refused", INSN_MODE_32, B("\x63\x13"),
      { R(RBX, 0x1200) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },

    /* ---- ALU with a memory operand ---- */
    { "add %eax,(%rbx): carry, zero, parity", INSN_MODE_64, B("\x01\x03"),
      { R(RAX, 1), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 0xffffffff } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | ZF | PF | AF)) },
      { { 'r', 0x1100, 4, 0xffffffff }, { 'w', 0x1100, 4, 0 } } },
    { "add (%rbx),%al: signed overflow", INSN_MODE_64, B("\x02\x03"),
      { R(RAX, 0x7f), R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 1 } }, {}, X86EMUL_OK,
      { R(RAX, 0x80), R(RFL, FL(OF | SF | AF)) }, { { 'r', 0x1100, 1, 1 } } },
    { "adc %rax,(%rbx) with CF in", INSN_MODE_64, B("\x48\x11\x03"),
      { R(RAX, 0xffffffffffffffff), R(RBX, 0x1100), R(RFL, FL(CF)) },
      { { 'w', 0x1100, 8, 5 } }, {}, X86EMUL_OK, { R(RFL, FL(CF | AF | PF)) },
      { { 'r', 0x1100, 8, 5 }, { 'w', 0x1100, 8, 5 } } },
    { "sbb (%rbx),%cx with CF in: borrow", INSN_MODE_64, B("\x66\x1b\x0b"),
      { R(RCX, 0xffff0000), R(RBX, 0x1100), R(RFL, FL(CF)) }, { { 'w', 0x1100, 2, 0 } }, {},
      X86EMUL_OK, { R(RCX, 0xffffffff), R(RFL, FL(CF | SF | PF | AF)) },
      { { 'r', 0x1100, 2, 0 } } },
    { "or %edx,(%rbx) clears CF and OF", INSN_MODE_64, B("\x09\x13"),
      { R(RDX, 0x80000000), R(RBX, 0x1100), R(RFL, FL(CF | OF)) }, { { 'w', 0x1100, 4, 1 } },
      {}, X86EMUL_OK, { R(RFL, FL(SF)) },
      { { 'r', 0x1100, 4, 1 }, { 'w', 0x1100, 4, 0x80000001 } } },
    { "and %dl,(%rbx) to zero", INSN_MODE_64, B("\x20\x13"),
      { R(RDX, 0xf0), R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0x0f } }, {}, X86EMUL_OK,
      { R(RFL, FL(ZF | PF)) }, { { 'r', 0x1100, 1, 0x0f }, { 'w', 0x1100, 1, 0 } } },
    { "sub %eax,(%rbx) below zero", INSN_MODE_64, B("\x29\x03"),
      { R(RAX, 2), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 1 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | SF | PF | AF)) },
      { { 'r', 0x1100, 4, 1 }, { 'w', 0x1100, 4, 0xffffffff } } },
    { "xor %eax,(%rbx)", INSN_MODE_64, B("\x31\x03"),
      { R(RAX, 0xff), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 0x0f } }, {}, X86EMUL_OK,
      { R(RFL, FL(PF)) }, { { 'r', 0x1100, 4, 0x0f }, { 'w', 0x1100, 4, 0xf0 } } },
    { "cmp %eax,(%rbx) writes nothing", INSN_MODE_64, B("\x39\x03"),
      { R(RAX, 5), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 5 } }, {}, X86EMUL_OK,
      { R(RFL, FL(ZF | PF)) }, { { 'r', 0x1100, 4, 5 } } },
    { "cmp (%rbx),%eax leaves the register", INSN_MODE_64, B("\x3b\x03"),
      { R(RAX, 0x80000000), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 1 } }, {}, X86EMUL_OK,
      { R(RFL, FL(OF | AF | PF)) }, { { 'r', 0x1100, 4, 1 } } },
    { "addl $0x12345678,(%rbx)", INSN_MODE_64, B("\x81\x03\x78\x56\x34\x12"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 0x10 } }, {}, X86EMUL_OK, { R(RFL, FL(PF)) },
      { { 'r', 0x1100, 4, 0x10 }, { 'w', 0x1100, 4, 0x12345688 } } },
    { "addb $0x80,(%rbx)", INSN_MODE_64, B("\x80\x03\x80"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0x80 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | ZF | OF | PF)) },
      { { 'r', 0x1100, 1, 0x80 }, { 'w', 0x1100, 1, 0 } } },
    { "subw $1,(%rbx): 83 imm8 sign-extended", INSN_MODE_64, B("\x66\x83\x2b\x01"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 2, 0x8000 } }, {}, X86EMUL_OK,
      { R(RFL, FL(OF | AF | PF)) },
      { { 'r', 0x1100, 2, 0x8000 }, { 'w', 0x1100, 2, 0x7fff } } },
    { "orq $-1,(%rbx)", INSN_MODE_64, B("\x48\x83\x0b\xff"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, { R(RFL, FL(SF | PF)) },
      { { 'r', 0x1100, 8, 0 }, { 'w', 0x1100, 8, ~0ull } } },
    { "cmpl $5,(%rbx)", INSN_MODE_64, B("\x83\x3b\x05"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 3 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | SF | AF)) }, { { 'r', 0x1100, 4, 3 } } },
    { "lock addl $1,(%rbx)", INSN_MODE_64, B("\xf0\x83\x03\x01"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1100, 4, 0 }, { 'w', 0x1100, 4, 1 } } },
    { "lock cmp: #UD before any access", INSN_MODE_64, B("\xf0\x39\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },
    { "lock add to a register: #UD", INSN_MODE_64, B("\xf0\x03\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },
    { "lock mov: #UD", INSN_MODE_64, B("\xf0\x89\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },
    { "add %eax,%ebx (no memory): refused", INSN_MODE_64, B("\x01\xc3"),
      {}, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },

    /* ---- TEST, NOT, NEG, INC, DEC ---- */
    { "test %eax,(%rbx)", INSN_MODE_64, B("\x85\x03"),
      { R(RAX, 0x80000000), R(RBX, 0x1100), R(RFL, FL(CF | OF)) },
      { { 'w', 0x1100, 4, 0xffffffff } }, {}, X86EMUL_OK, { R(RFL, FL(SF | PF)) },
      { { 'r', 0x1100, 4, 0xffffffff } } },
    { "test %bl,(%rbx)", INSN_MODE_64, B("\x84\x1b"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0xff } }, {}, X86EMUL_OK,
      { R(RFL, FL(ZF | PF)) }, { { 'r', 0x1100, 1, 0xff } } },
    { "testl $0x100,(%rbx)", INSN_MODE_64, B("\xf7\x03\x00\x01\x00\x00"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 0x300 } }, {}, X86EMUL_OK,
      { R(RFL, FL(PF)) }, { { 'r', 0x1100, 4, 0x300 } } },
    { "testb $1,(%rbx)", INSN_MODE_64, B("\xf6\x03\x01"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 2 } }, {}, X86EMUL_OK,
      { R(RFL, FL(ZF | PF)) }, { { 'r', 0x1100, 1, 2 } } },
    { "notl (%rbx): flags untouched", INSN_MODE_64, B("\xf7\x13"),
      { R(RBX, 0x1100), R(RFL, FL(CF)) }, { { 'w', 0x1100, 4, 0xf0f0f0f0 } }, {}, X86EMUL_OK,
      {}, { { 'r', 0x1100, 4, 0xf0f0f0f0 }, { 'w', 0x1100, 4, 0x0f0f0f0f } } },
    { "negq (%rbx)", INSN_MODE_64, B("\x48\xf7\x1b"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 8, 1 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | SF | PF | AF)) },
      { { 'r', 0x1100, 8, 1 }, { 'w', 0x1100, 8, ~0ull } } },
    { "negb (%rbx) of 0: CF clear", INSN_MODE_64, B("\xf6\x1b"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, { R(RFL, FL(ZF | PF)) },
      { { 'r', 0x1100, 1, 0 }, { 'w', 0x1100, 1, 0 } } },
    { "negb (%rbx) of 0x80: OF", INSN_MODE_64, B("\xf6\x1b"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0x80 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | OF | SF)) }, { { 'r', 0x1100, 1, 0x80 }, { 'w', 0x1100, 1, 0x80 } } },
    { "incl (%rbx) keeps CF", INSN_MODE_64, B("\xff\x03"),
      { R(RBX, 0x1100), R(RFL, FL(CF)) }, { { 'w', 0x1100, 4, 0x7fffffff } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | OF | SF | AF | PF)) },
      { { 'r', 0x1100, 4, 0x7fffffff }, { 'w', 0x1100, 4, 0x80000000 } } },
    { "decw (%rbx) to zero, CF stays clear", INSN_MODE_64, B("\x66\xff\x0b"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 2, 1 } }, {}, X86EMUL_OK, { R(RFL, FL(ZF | PF)) },
      { { 'r', 0x1100, 2, 1 }, { 'w', 0x1100, 2, 0 } } },
    { "mulb (%rbx): refused", INSN_MODE_64, B("\xf6\x23"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
    { "call *(%rbx): refused", INSN_MODE_64, B("\xff\x13"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },

    /* ---- XCHG ---- */
    { "xchg %eax,(%rbx)", INSN_MODE_64, B("\x87\x03"),
      { R(RAX, 0xffffffff00000001), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 0x22 } }, {},
      X86EMUL_OK, { R(RAX, 0x22) }, { { 'r', 0x1100, 4, 0x22 }, { 'w', 0x1100, 4, 1 } } },
    { "xchg %cl,(%rbx)", INSN_MODE_64, B("\x86\x0b"),
      { R(RCX, 0x1234), R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0x56 } }, {}, X86EMUL_OK,
      { R(RCX, 0x1256) }, { { 'r', 0x1100, 1, 0x56 }, { 'w', 0x1100, 1, 0x34 } } },

    /* ---- BT family ---- */
    { "bt %eax,(%rbx): bit 35 is in the next dword", INSN_MODE_64, B("\x0f\xa3\x03"),
      { R(RAX, 35), R(RBX, 0x1100) }, { { 'w', 0x1104, 4, 8 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF)) }, { { 'r', 0x1104, 4, 8 } } },
    { "bts %rax,(%rbx) with a negative bit offset", INSN_MODE_64, B("\x48\x0f\xab\x03"),
      { R(RAX, (u64)-1), R(RBX, 0x1108) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1100, 8, 0 }, { 'w', 0x1100, 8, 1ull << 63 } } },
    { "btr %ax,(%rbx)", INSN_MODE_64, B("\x66\x0f\xb3\x03"),
      { R(RAX, 15), R(RBX, 0x1100) }, { { 'w', 0x1100, 2, 0x8001 } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF)) }, { { 'r', 0x1100, 2, 0x8001 }, { 'w', 0x1100, 2, 1 } } },
    { "btc %eax,(%rbx)", INSN_MODE_64, B("\x0f\xbb\x03"),
      { R(RAX, 4), R(RBX, 0x1100), R(RFL, FL(CF)) }, {}, {}, X86EMUL_OK, { R(RFL, FL(0)) },
      { { 'r', 0x1100, 4, 0 }, { 'w', 0x1100, 4, 0x10 } } },
    { "btl $33,(%rbx): imm modulo 32", INSN_MODE_64, B("\x0f\xba\x23\x21"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 2 } }, {}, X86EMUL_OK, { R(RFL, FL(CF)) },
      { { 'r', 0x1100, 4, 2 } } },
    { "btsq $63,(%rbx)", INSN_MODE_64, B("\x48\x0f\xba\x2b\x3f"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1100, 8, 0 }, { 'w', 0x1100, 8, 1ull << 63 } } },
    { "lock bt: #UD", INSN_MODE_64, B("\xf0\x0f\xa3\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },

    /* ---- string instructions ---- */
    { "stosb", INSN_MODE_64, B("\xaa"),
      { R(RAX, 0x41), R(RDI, 0x1100) }, {}, {}, X86EMUL_OK, { R(RDI, 0x1101) },
      { { 'w', 0x1100, 1, 0x41 } } },
    { "stosl with DF: RDI walks down", INSN_MODE_64, B("\xab"),
      { R(RAX, 0x41424344), R(RDI, 0x1100), R(RFL, FL(DF)) }, {}, {}, X86EMUL_OK,
      { R(RDI, 0x10fc) }, { { 'w', 0x1100, 4, 0x41424344 } } },
    { "rep stosq x3", INSN_MODE_64, B("\xf3\x48\xab"),
      { R(RAX, 7), R(RDI, 0x1100), R(RCX, 3) }, {}, {}, X86EMUL_OK,
      { R(RDI, 0x1118), R(RCX, 0) },
      { { 'w', 0x1100, 8, 7 }, { 'w', 0x1108, 8, 7 }, { 'w', 0x1110, 8, 7 } } },
    { "rep stosb with RCX = 0 does nothing", INSN_MODE_64, B("\xf3\xaa"),
      { R(RDI, 0x1100) }, {}, {}, X86EMUL_OK, {}, {} },
    { "rep movsb x2", INSN_MODE_64, B("\xf3\xa4"),
      { R(RSI, 0x1200), R(RDI, 0x1100), R(RCX, 2) }, { { 'w', 0x1200, 2, 0xbbaa } }, {},
      X86EMUL_OK, { R(RSI, 0x1202), R(RDI, 0x1102), R(RCX, 0) },
      { { 'r', 0x1200, 1, 0xaa }, { 'w', 0x1100, 1, 0xaa },
        { 'r', 0x1201, 1, 0xbb }, { 'w', 0x1101, 1, 0xbb } } },
    { "rep movsw with DF x2", INSN_MODE_64, B("\x66\xf3\xa5"),
      { R(RSI, 0x1202), R(RDI, 0x1102), R(RCX, 2), R(RFL, FL(DF)) },
      { { 'w', 0x1200, 4, 0x22221111 } }, {}, X86EMUL_OK,
      { R(RSI, 0x11fe), R(RDI, 0x10fe), R(RCX, 0) },
      { { 'r', 0x1202, 2, 0x2222 }, { 'w', 0x1102, 2, 0x2222 },
        { 'r', 0x1200, 2, 0x1111 }, { 'w', 0x1100, 2, 0x1111 } } },
    { "movsl from an FS-based source (the override applies to RSI)", INSN_MODE_64,
      B("\x64\xa5"), { R(RSI, 0x100), R(RDI, 0x1100) }, { { 'w', 0x2100, 4, 0x99 } },
      { R(X86_SEG_FS, 0x2000), R(X86_SEG_ES, 0x5000) }, X86EMUL_OK,
      { R(RSI, 0x104), R(RDI, 0x1104) },
      { { 'r', 0x2100, 4, 0x99 }, { 'w', 0x1100, 4, 0x99 } } },
    { "lodsl", INSN_MODE_64, B("\xad"),
      { R(RSI, 0x1100), R(RAX, ~0ull) }, { { 'w', 0x1100, 4, 0x1234 } }, {}, X86EMUL_OK,
      { R(RSI, 0x1104), R(RAX, 0x1234) }, { { 'r', 0x1100, 4, 0x1234 } } },
    { "rep lodsb keeps the last", INSN_MODE_64, B("\xf3\xac"),
      { R(RSI, 0x1100), R(RCX, 2), R(RAX, 0x5500) }, { { 'w', 0x1100, 2, 0x0201 } }, {},
      X86EMUL_OK, { R(RSI, 0x1102), R(RCX, 0), R(RAX, 0x5502) },
      { { 'r', 0x1100, 1, 1 }, { 'r', 0x1101, 1, 2 } } },
    { "addr32 rep stosb: EDI and ECX, upper halves cleared", INSN_MODE_64, B("\x67\xf3\xaa"),
      { R(RDI, 0x100001100), R(RCX, 0x100000001), R(RAX, 1) }, {}, {}, X86EMUL_OK,
      { R(RDI, 0x1101), R(RCX, 0) }, { { 'w', 0x1100, 1, 1 } } },
    { "rep stosb (F2) acts as REP", INSN_MODE_64, B("\xf2\xaa"),
      { R(RDI, 0x1100), R(RCX, 1), R(RAX, 9) }, {}, {}, X86EMUL_OK,
      { R(RDI, 0x1101), R(RCX, 0) }, { { 'w', 0x1100, 1, 9 } } },
    { "rep stosb faulting on its second element", INSN_MODE_64, B("\xf3\xaa"),
      { R(RDI, MEM_BASE + MEM_SIZE - 1), R(RCX, 5), R(RAX, 3) }, {}, {}, X86EMUL_EXCEPTION,
      { R(RDI, MEM_BASE + MEM_SIZE), R(RCX, 4) },
      { { 'w', MEM_BASE + MEM_SIZE - 1, 1, 3 } }, X86_EXC_PF, 2 },
    { "lock stosb: #UD", INSN_MODE_64, B("\xf0\xaa"),
      { R(RDI, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },
    { "cmpsb, equal bytes: ZF PF", INSN_MODE_64, B("\xa6"),
      { R(RSI, 0x1200), R(RDI, 0x1100) }, { { 'w', 0x1200, 1, 5 }, { 'w', 0x1100, 1, 5 } }, {},
      X86EMUL_OK, { R(RSI, 0x1201), R(RDI, 0x1101), R(RFL, FL(ZF | PF)) },
      { { 'r', 0x1200, 1, 5 }, { 'r', 0x1100, 1, 5 } } },
    { "repe cmpsb stops at the first difference", INSN_MODE_64, B("\xf3\xa6"),
      { R(RSI, 0x1200), R(RDI, 0x1100), R(RCX, 5) },
      { { 'w', 0x1200, 2, 0x0201 }, { 'w', 0x1100, 2, 0x0301 } }, {}, X86EMUL_OK,
      { R(RSI, 0x1202), R(RDI, 0x1102), R(RCX, 3), R(RFL, FL(CF | SF | AF | PF)) },
      { { 'r', 0x1200, 1, 1 }, { 'r', 0x1100, 1, 1 }, { 'r', 0x1201, 1, 2 },
        { 'r', 0x1101, 1, 3 } } },
    { "repne scasw finds AX, DF walks down", INSN_MODE_64, B("\x66\xf2\xaf"),
      { R(RAX, 0x4242), R(RDI, 0x1102), R(RCX, 4), R(RFL, FL(DF)) },
      { { 'w', 0x1100, 4, 0x00074242 } }, {}, X86EMUL_OK,
      { R(RDI, 0x10fe), R(RCX, 2), R(RFL, FL(DF | ZF | PF)) },
      { { 'r', 0x1102, 2, 0x0007 }, { 'r', 0x1100, 2, 0x4242 } } },
    { "repe cmpsq with RCX = 0 does nothing", INSN_MODE_64, B("\xf3\x48\xa7"),
      { R(RSI, 0x1200), R(RDI, 0x1100) }, {}, {}, X86EMUL_OK, {}, {} },
    { "smsw (%r12): a word of CR0", INSN_MODE_64, B("\x41\x0f\x01\x24\x24"),
      { R(R12, 0x1100) }, {}, {}, X86EMUL_OK, {}, { { 'w', 0x1100, 2, 0x0033 } } },
    { "bsfw (%rbx),%ax", INSN_MODE_64, B("\x66\x0f\xbc\x03"),
      { R(RBX, 0x1100), R(RAX, ~0ull), R(RFL, FL(ZF)) }, { { 'w', 0x1100, 2, 0xc000 } }, {},
      X86EMUL_OK, { R(RAX, ~0xffffull | 14), R(RFL, FL(0)) }, { { 'r', 0x1100, 2, 0xc000 } } },
    { "bsrq (%rbx),%rdx", INSN_MODE_64, B("\x48\x0f\xbd\x13"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 8, 0xc00000000000ull } }, {}, X86EMUL_OK,
      { R(RDX, 47) }, { { 'r', 0x1100, 8, 0xc00000000000ull } } },
    { "bsfl of zero: ZF, destination kept", INSN_MODE_64, B("\x0f\xbc\x03"),
      { R(RBX, 0x1100), R(RAX, 0x1234) }, {}, {}, X86EMUL_OK, { R(RFL, FL(ZF)) },
      { { 'r', 0x1100, 4, 0 } } },
    { "imulw (%rbx),%ax", INSN_MODE_64, B("\x66\x0f\xaf\x03"),
      { R(RBX, 0x1100), R(RAX, 0x1234567812345678ull) }, { { 'w', 0x1100, 2, 51 } }, {},
      X86EMUL_OK, { R(RAX, 0x12345678123439e8ull), R(RFL, FL(CF | OF)) },
      { { 'r', 0x1100, 2, 51 } } },
    { "imull $51,(%rbx),%eax: fits", INSN_MODE_64, B("\x6b\x03\x33"),
      { R(RBX, 0x1100), R(RAX, ~0ull), R(RFL, FL(CF | OF)) }, { { 'w', 0x1100, 4, 2 } }, {},
      X86EMUL_OK, { R(RAX, 102), R(RFL, FL(0)) }, { { 'r', 0x1100, 4, 2 } } },
    { "imulq $311,(%rbx),%rax", INSN_MODE_64, B("\x48\x69\x03\x37\x01\x00\x00"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 8, 0x1234567812345678ull } }, {}, X86EMUL_OK,
      { R(RAX, 0x1d950bde1d950bc8ull), R(RFL, FL(CF | OF)) },   /* overflowed */
      { { 'r', 0x1100, 8, 0x1234567812345678ull } } },
    { "tzcnt (F3 0F BC): refused", INSN_MODE_64, B("\xf3\x0f\xbc\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
    { "sgdt (%rax): refused", INSN_MODE_64, B("\x0f\x01\x00"),
      { R(RAX, 0x1100) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
    { "lock cmpsb: #UD", INSN_MODE_64, B("\xf0\xa6"),
      { R(RDI, 0x1100), R(RSI, 0x1100) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_UD, 0 },

    /* ---- 32-bit protected mode ---- */
    { "32: mov %eax,(%ebx) with a DS base", INSN_MODE_32, B("\x89\x03"),
      { R(RAX, 0xdead), R(RBX, 0x100) }, {}, { R(X86_SEG_DS, 0x1000) }, X86EMUL_OK, {},
      { { 'w', 0x1100, 4, 0xdead } } },
    { "32: mov (%ebp),%eax uses SS", INSN_MODE_32, B("\x8b\x45\x00"),
      { R(RBP, 0x100) }, {}, { R(X86_SEG_SS, 0x2000), R(X86_SEG_DS, 0x1000) }, X86EMUL_OK,
      {}, { { 'r', 0x2100, 4, 0 } } },
    { "32: mov (%esp),%eax uses SS", INSN_MODE_32, B("\x8b\x04\x24"),
      { R(RSP, 0x100) }, {}, { R(X86_SEG_SS, 0x2000) }, X86EMUL_OK, {},
      { { 'r', 0x2100, 4, 0 } } },
    { "32: ds mov (%ebp),%eax: override beats SS", INSN_MODE_32, B("\x3e\x8b\x45\x00"),
      { R(RBP, 0x100) }, {}, { R(X86_SEG_SS, 0x2000), R(X86_SEG_DS, 0x1000) }, X86EMUL_OK,
      {}, { { 'r', 0x1100, 4, 0 } } },
    { "32: mov 0x1000,%ax (66, moffs32)", INSN_MODE_32, B("\x66\xa1\x00\x10\x00\x00"),
      { R(RAX, 0xffffffff) }, { { 'w', 0x1000, 2, 0x4321 } }, {}, X86EMUL_OK,
      { R(RAX, 0xffff4321) }, { { 'r', 0x1000, 2, 0x4321 } } },
    { "32: mov 0x1000 (disp32 without SIB, no RIP-relative)", INSN_MODE_32,
      B("\x8b\x05\x00\x10\x00\x00"), {}, {}, {}, X86EMUL_OK, {}, { { 'r', 0x1000, 4, 0 } } },
    { "32: the linear address wraps at 4 GiB", INSN_MODE_32, B("\x8b\x03"),
      { R(RBX, 0x1100) }, {}, { R(X86_SEG_DS, 0xffffff00) }, X86EMUL_OK, {},
      { { 'r', 0x1000, 4, 0 } } },
    { "32: addr16 mov (%bx,%si),%eax", INSN_MODE_32, B("\x67\x8b\x00"),
      { R(RBX, 0xffff1000), R(RSI, 0x100) }, {}, {}, X86EMUL_OK, {},
      { { 'r', 0x1100, 4, 0 } } },
    { "32: rep stosw x2", INSN_MODE_32, B("\x66\xf3\xab"),
      { R(RAX, 0xabcd), R(RDI, 0x100), R(RCX, 2) }, {}, { R(X86_SEG_ES, 0x1000) }, X86EMUL_OK,
      { R(RDI, 0x104), R(RCX, 0) }, { { 'w', 0x1100, 2, 0xabcd }, { 'w', 0x1102, 2, 0xabcd } } },
    { "32: RIP wraps at 4 GiB", INSN_MODE_32, B("\x89\x03"),
      { R(RIP, 0xffffffff), R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, { R(RIP, 1) },
      { { 'w', 0x1100, 4, 0 } } },

    { "32: lock xchg %eax,(%ebx)", INSN_MODE_32, B("\xf0\x87\x03"),
      { R(RAX, 5), R(RBX, 0x1100) }, { { 'w', 0x1100, 4, 9 } }, {}, X86EMUL_OK,
      { R(RAX, 9) }, { { 'r', 0x1100, 4, 9 }, { 'w', 0x1100, 4, 5 } } },
    { "32: movzbl (%ebx),%eax", INSN_MODE_32, B("\x0f\xb6\x03"),
      { R(RAX, 0xffffffff), R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0xf0 } }, {}, X86EMUL_OK,
      { R(RAX, 0xf0) }, { { 'r', 0x1100, 1, 0xf0 } } },
    { "32: subl $1,(%ebx) (83)", INSN_MODE_32, B("\x83\x2b\x01"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, { R(RFL, FL(CF | SF | PF | AF)) },
      { { 'r', 0x1100, 4, 0 }, { 'w', 0x1100, 4, 0xffffffff } } },
    { "32: movw $0x55aa,(%ebx) (66)", INSN_MODE_32, B("\x66\xc7\x03\xaa\x55"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, {}, { { 'w', 0x1100, 2, 0x55aa } } },
    { "32: 82 /0 is ADD imm8 outside 64-bit mode", INSN_MODE_32, B("\x82\x03\x01"),
      { R(RBX, 0x1100) }, { { 'w', 0x1100, 1, 0xff } }, {}, X86EMUL_OK,
      { R(RFL, FL(CF | ZF | PF | AF)) }, { { 'r', 0x1100, 1, 0xff }, { 'w', 0x1100, 1, 0 } } },

    /* ---- 16-bit code (real mode: base = selector * 16) ---- */
    { "16: add %ax,(%bx)", INSN_MODE_16, B("\x01\x07"),
      { R(RAX, 0xffff0001), R(RBX, 0x100) }, { { 'w', 0x1100, 2, 0x7fff } },
      { R(X86_SEG_DS, 0x1000) }, X86EMUL_OK, { R(RFL, FL(OF | SF | AF | PF)) },
      { { 'r', 0x1100, 2, 0x7fff }, { 'w', 0x1100, 2, 0x8000 } } },
    { "16: addl $0x10000,(%bx): 66 makes imm32", INSN_MODE_16,
      B("\x66\x81\x07\x00\x00\x01\x00"), { R(RBX, 0x100) }, {}, { R(X86_SEG_DS, 0x1000) },
      X86EMUL_OK, { R(RFL, FL(PF)) }, { { 'r', 0x1100, 4, 0 }, { 'w', 0x1100, 4, 0x10000 } } },
    { "16: testb $0x80,(%bx)", INSN_MODE_16, B("\xf6\x07\x80"),
      { R(RBX, 0x100) }, { { 'w', 0x1100, 1, 0x80 } }, { R(X86_SEG_DS, 0x1000) }, X86EMUL_OK,
      { R(RFL, FL(SF)) }, { { 'r', 0x1100, 1, 0x80 } } },
    { "16: rep movsw: SI wraps at 64 KiB, CX and the upper halves", INSN_MODE_16,
      B("\xf3\xa5"), { R(RSI, 0xabcdfffe), R(RDI, 0x100), R(RCX, 0x10002) },
      { { 'w', 0x10ffe, 2, 0x1234 }, { 'w', 0x1000, 2, 0x5678 } },
      { R(X86_SEG_DS, 0x1000), R(X86_SEG_ES, 0x2000) }, X86EMUL_OK,
      { R(RSI, 0xabcd0002), R(RDI, 0x104), R(RCX, 0x10000) },
      { { 'r', 0x10ffe, 2, 0x1234 }, { 'w', 0x2100, 2, 0x1234 },
        { 'r', 0x1000, 2, 0x5678 }, { 'w', 0x2102, 2, 0x5678 } } },
    { "16: real-mode segment 0x1234 (base 0x12340)", INSN_MODE_16, B("\x8b\x07"),
      { R(RBX, 0x10) }, {}, { R(X86_SEG_DS, 0x12340) }, X86EMUL_OK, {},
      { { 'r', 0x12350, 2, 0 } } },
    { "16: mov %ax,(%bx,%si)", INSN_MODE_16, B("\x89\x00"),
      { R(RAX, 0x12345678), R(RBX, 0x80), R(RSI, 0x80) }, {}, { R(X86_SEG_DS, 0x1000) },
      X86EMUL_OK, {}, { { 'w', 0x1100, 2, 0x5678 } } },
    { "16: mov (%bp),%al uses SS", INSN_MODE_16, B("\x8a\x46\x00"),
      { R(RBP, 0x100) }, {}, { R(X86_SEG_SS, 0x2000) }, X86EMUL_OK, {},
      { { 'r', 0x2100, 1, 0 } } },
    { "16: 0x12(%bp,%di) with 66: 32-bit load, SS", INSN_MODE_16, B("\x66\x8b\x43\x12"),
      { R(RBP, 0x80), R(RDI, 0x6e) }, { { 'w', 0x2100, 4, 0x01020304 } },
      { R(X86_SEG_SS, 0x2000) }, X86EMUL_OK, { R(RAX, 0x01020304) },
      { { 'r', 0x2100, 4, 0x01020304 } } },
    { "16: offsets wrap at 64 KiB", INSN_MODE_16, B("\x8b\x00"),
      { R(RBX, 0xffff), R(RSI, 0x101) }, {}, { R(X86_SEG_DS, 0x1000) }, X86EMUL_OK, {},
      { { 'r', 0x1100, 2, 0 } } },
    { "16: addr32 mov (%ebx),%ax", INSN_MODE_16, B("\x67\x8b\x03"),
      { R(RBX, 0x11000) }, {}, { R(X86_SEG_DS, 0x100) }, X86EMUL_OK, {},
      { { 'r', 0x11100, 2, 0 } }, },
    { "16: movb $5,0x1234 (disp16 alone)", INSN_MODE_16, B("\xc6\x06\x34\x12\x05"),
      {}, {}, { R(X86_SEG_DS, 0x100) }, X86EMUL_OK, {}, { { 'w', 0x1334, 1, 5 } } },
    { "16: stosb updates DI only", INSN_MODE_16, B("\xaa"),
      { R(RDI, 0xabcd0100), R(RAX, 0x7) }, {}, { R(X86_SEG_ES, 0x1000) }, X86EMUL_OK,
      { R(RDI, 0xabcd0101) }, { { 'w', 0x1100, 1, 7 } } },
    { "16: IP wraps at 64 KiB", INSN_MODE_16, B("\x89\x07"),
      { R(RIP, 0xffff), R(RBX, 0x1100) }, {}, {}, X86EMUL_OK, { R(RIP, 1) },
      { { 'w', 0x1100, 2, 0 } } },

    /* ---- faults and refusals ---- */
    { "unmapped operand: #PF, nothing changes", INSN_MODE_64, B("\x8b\x03"),
      { R(RBX, 0x80000) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_PF, 0 },
    { "write to an unmapped operand: #PF with W", INSN_MODE_64, B("\x89\x03"),
      { R(RBX, 0x80000) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_PF, 2 },
    { "RMW of an unmapped operand: #PF on the read", INSN_MODE_64, B("\x01\x03"),
      { R(RBX, 0x80000) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_PF, 0 },
    { "add to read-only memory: read made, #PF(P|W), RFLAGS kept", INSN_MODE_64, B("\x01\x03"),
      { R(RBX, RO_BASE), R(RAX, 1), R(RFL, FL(CF)) }, {}, {}, X86EMUL_EXCEPTION, {},
      { { 'r', RO_BASE, 4, 0 } }, X86_EXC_PF, 3 },
    { "addl $1 to read-only memory", INSN_MODE_64, B("\x83\x03\x01"),
      { R(RBX, RO_BASE) }, {}, {}, X86EMUL_EXCEPTION, {}, { { 'r', RO_BASE, 4, 0 } },
      X86_EXC_PF, 3 },
    { "neg of read-only memory", INSN_MODE_64, B("\xf7\x1b"),
      { R(RBX, RO_BASE) }, {}, {}, X86EMUL_EXCEPTION, {}, { { 'r', RO_BASE, 4, 0 } },
      X86_EXC_PF, 3 },
    { "inc of read-only memory", INSN_MODE_64, B("\xff\x03"),
      { R(RBX, RO_BASE) }, {}, {}, X86EMUL_EXCEPTION, {}, { { 'r', RO_BASE, 4, 0 } },
      X86_EXC_PF, 3 },
    { "bts on read-only memory", INSN_MODE_64, B("\x0f\xba\x2b\x01"),
      { R(RBX, RO_BASE) }, {}, {}, X86EMUL_EXCEPTION, {}, { { 'r', RO_BASE, 4, 0 } },
      X86_EXC_PF, 3 },
    { "xchg with read-only memory leaves the register", INSN_MODE_64, B("\x87\x03"),
      { R(RBX, RO_BASE), R(RAX, 7) }, {}, {}, X86EMUL_EXCEPTION, {}, { { 'r', RO_BASE, 4, 0 } },
      X86_EXC_PF, 3 },
    { "refused by the op", INSN_MODE_64, B("\x8b\x03"),
      { R(RBX, REFUSE_BASE) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
    { "non-canonical address: #GP(0)", INSN_MODE_64, B("\x8b\x03"),
      { R(RBX, 0x0000800000000000) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_GP, 0 },
    { "non-canonical via RSP: #SS(0)", INSN_MODE_64, B("\x8b\x04\x24"),
      { R(RSP, 0x8000000000000000) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_SS, 0 },
    { "an access whose last byte is non-canonical: #GP", INSN_MODE_64, B("\x48\x8b\x03"),
      { R(RBX, 0x00007ffffffffffc) }, {}, {}, X86EMUL_EXCEPTION, {}, {}, X86_EXC_GP, 0 },
    { "truncated instruction: refused", INSN_MODE_64, B("\x8b"),
      {}, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
    { "VEX (vmovdqu): refused", INSN_MODE_64, B("\xc5\xfe\x6f\x03"),
      { R(RBX, 0x1100) }, {}, {}, X86EMUL_UNHANDLEABLE, {}, {} },
};

static void setup_regs(struct hvm_regs *r, const struct rv *set)
{
    memset(r, 0, sizeof(*r));
    r->rip = RIP0;
    r->rflags = 2;
    for (; set->reg1; set++)
        *treg(r, set->reg1 - 1u) = set->val;
}

static void run_case(const struct tcase *t)
{
    struct hvm_regs r, want;
    struct x86_emul_ctx c = { .ops = &fake_ops, .regs = &r, .mode = t->mode,
                              .cr0 = 0x80050033 };  /* PG AM WP NE ET MP PE */
    unsigned int i;

    print_message("# %s\n", t->name);
    memset(mem, 0, sizeof(mem));
    nlog = nreads = nwrites = 0;
    for (i = 0; i < 2 && t->init[i].kind; i++)
        memcpy(mem + (t->init[i].addr - MEM_BASE), &t->init[i].val, t->init[i].len);
    for (i = 0; i < 2 && t->segs[i].reg1; i++)
        c.seg_base[t->segs[i].reg1 - 1] = t->segs[i].val;
    setup_regs(&r, t->set);
    want = r;
    if (t->rc == X86EMUL_OK)
        want.rip = (r.rip + t->len) & (t->mode == INSN_MODE_64 ? ~0ull :
                                       t->mode == INSN_MODE_32 ? 0xffffffffull : 0xffffull);
    for (const struct rv *e = t->expect; e->reg1; e++)
        *treg(&want, e->reg1 - 1u) = e->val;

    int rc = x86_emulate(&c, (const u8 *)t->bytes, t->len);
    assert_int_equal(rc, t->rc);
    if (rc != X86EMUL_UNHANDLEABLE) {
        for (i = 0; i < NREGS; i++)
            if (*treg(&r, i) != *treg(&want, i))
                fail_msg("%s: register %u is %#llx, expected %#llx", t->name, i,
                         (unsigned long long)*treg(&r, i), (unsigned long long)*treg(&want, i));
    }
    if (rc == X86EMUL_EXCEPTION) {
        assert_int_equal(c.fault.vector, t->vector);
        assert_int_equal(c.fault.error, t->error);
        assert_int_equal(c.fault.has_error, t->vector != X86_EXC_UD);
    }
    for (i = 0; i < MAX_LOG && t->acc[i].kind; i++) {
        if (i >= nlog)
            fail_msg("%s: access %u (%c %#llx) never made", t->name, i, t->acc[i].kind,
                     (unsigned long long)t->acc[i].addr);
        if (log_[i].kind != t->acc[i].kind || log_[i].addr != t->acc[i].addr ||
            log_[i].len != t->acc[i].len || log_[i].val != t->acc[i].val)
            fail_msg("%s: access %u is %c %#llx/%u = %#llx, expected %c %#llx/%u = %#llx",
                     t->name, i, log_[i].kind, (unsigned long long)log_[i].addr, log_[i].len,
                     (unsigned long long)log_[i].val, t->acc[i].kind,
                     (unsigned long long)t->acc[i].addr, t->acc[i].len,
                     (unsigned long long)t->acc[i].val);
    }
    assert_int_equal(nlog, i);
}

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_case(&cases[i]);
}

/* The flags of every ALU operation, width and a spread of operands,
 * against what this host's CPU computes for the same operation. */
#define NATIVE(insn, sfx, type, a, b, flin, res, flout)                              \
    __asm__ volatile("sub $128, %%rsp; push %[fi]; popfq; " insn sfx " %[bb], %[aa]; " \
                     "pushfq; pop %[fo]; add $128, %%rsp"                            \
                     : [aa] "+r"(a), [fo] "=r"(flout)                                \
                     : [bb] "r"(b), [fi] "r"(flin)                                   \
                     : "cc");                                                        \
    res = a

static u64 native(enum alu_op op, unsigned int size, u64 a, u64 b, u64 flin, u64 *flout)
{
#define CASE_SIZES(o, mn)                                                                   \
    case o:                                                                                 \
        if (size == 1) { u8 x = (u8)a, y = (u8)b; NATIVE(mn, "b", u8, x, y, flin, a, *flout); } \
        else if (size == 2) { u16 x = (u16)a, y = (u16)b; NATIVE(mn, "w", u16, x, y, flin, a, *flout); } \
        else if (size == 4) { u32 x = (u32)a, y = (u32)b; NATIVE(mn, "l", u32, x, y, flin, a, *flout); } \
        else { u64 x = a, y = b; NATIVE(mn, "q", u64, x, y, flin, a, *flout); }             \
        return a
    switch (op) {
    CASE_SIZES(ALU_ADD, "add");
    CASE_SIZES(ALU_OR, "or");
    CASE_SIZES(ALU_ADC, "adc");
    CASE_SIZES(ALU_SBB, "sbb");
    CASE_SIZES(ALU_AND, "and");
    CASE_SIZES(ALU_SUB, "sub");
    CASE_SIZES(ALU_XOR, "xor");
    CASE_SIZES(ALU_CMP, "cmp");
    }
    return 0;
}

static void test_alu_flags_match_cpu(void **state)
{
    static const u64 vals[] = { 0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x0f, 0x10,
                                0x7fffffff, 0x80000000, 0xffffffff, 0x7fffffffffffffff,
                                0x8000000000000000, ~0ull, 0x123456789abcdef0 };
    const size_t n = sizeof(vals) / sizeof(vals[0]);
    (void)state;
    for (unsigned int op = ALU_ADD; op <= ALU_CMP; op++)
        for (unsigned int size = 1; size <= 8; size *= 2)
            for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                    for (u64 cf = 0; cf <= 1; cf++) {
                        u64 flin = 0x202 | cf, want_fl, got_fl = flin;
                        u64 want = native((enum alu_op)op, size, vals[i], vals[j], flin, &want_fl);
                        u64 got = alu((enum alu_op)op, vals[i], vals[j], size, &got_fl);
                        if (op != ALU_CMP && (got & size_mask(size)) != (want & size_mask(size)))
                            fail_msg("op %u size %u: %#llx vs %#llx", op, size,
                                     (unsigned long long)got, (unsigned long long)want);
                        if ((got_fl & FL_ARITH) != (want_fl & FL_ARITH))
                            fail_msg("op %u size %u a %#llx b %#llx cf %llu: flags %#llx, CPU %#llx",
                                     op, size, (unsigned long long)vals[i],
                                     (unsigned long long)vals[j], (unsigned long long)cf,
                                     (unsigned long long)got_fl, (unsigned long long)want_fl);
                    }
}

/* A REP longer than a slice stops after X86EMUL_REP_SLICE elements with
 * RIP on the instruction, and a second call finishes it. */
static void test_rep_slices(void **state)
{
    struct hvm_regs r;
    struct x86_emul_ctx c = { .ops = &fake_ops, .regs = &r, .mode = INSN_MODE_64 };
    const u64 count = X86EMUL_REP_SLICE + 100;
    (void)state;

    memset(mem, 0, sizeof(mem));
    setup_regs(&r, (const struct rv[]){ R(RDI, MEM_BASE), R(RCX, count), R(RAX, 0x5a), {} });
    nlog = nreads = nwrites = 0;
    assert_int_equal(x86_emulate(&c, (const u8 *)"\xf3\xaa", 2), X86EMUL_OK);
    assert_int_equal(r.rip, RIP0);
    assert_int_equal(r.rcx, 100);
    assert_int_equal(r.rdi, MEM_BASE + X86EMUL_REP_SLICE);
    assert_int_equal(nwrites, X86EMUL_REP_SLICE);
    assert_int_equal(x86_emulate(&c, (const u8 *)"\xf3\xaa", 2), X86EMUL_OK);
    assert_int_equal(r.rip, RIP0 + 2);
    assert_int_equal(r.rcx, 0);
    assert_int_equal(r.rdi, MEM_BASE + count);
    for (u64 i = 0; i < count; i++)
        assert_int_equal(mem[i], 0x5a);
    assert_int_equal(mem[count], 0);
}

/* REP MOVSD walking down with DF=1 across the start of memory: the
 * elements before the fault are done, registers say how far, RIP stays. */
static void test_rep_movs_fault_midway(void **state)
{
    struct hvm_regs r;
    struct x86_emul_ctx c = { .ops = &fake_ops, .regs = &r, .mode = INSN_MODE_64 };
    (void)state;

    memset(mem, 0, sizeof(mem));
    for (unsigned int i = 0; i < 16; i++)
        mem[0x800 + i] = (u8)(i + 1);
    setup_regs(&r, (const struct rv[]){ R(RSI, MEM_BASE + 0x80c), R(RDI, MEM_BASE + 8),
                                        R(RCX, 10), R(RFL, FL(DF)), {} });
    nlog = nreads = nwrites = 0;
    assert_int_equal(x86_emulate(&c, (const u8 *)"\xf3\xa5", 2), X86EMUL_EXCEPTION);
    assert_int_equal(c.fault.vector, X86_EXC_PF);
    assert_int_equal(c.fault.cr2, MEM_BASE - 4);
    assert_int_equal(c.fault.error, 2);
    assert_int_equal(r.rip, RIP0);
    assert_int_equal(r.rcx, 7);                 /* 3 elements done: dest 8, 4, 0 */
    assert_int_equal(r.rdi, MEM_BASE - 4);
    assert_int_equal(r.rsi, MEM_BASE + 0x800);
    assert_int_equal(memcmp(mem, mem + 0x804, 12), 0);
}

/* The 15-byte limit, and every byte of the buffer being looked at only
 * within len: the same instruction cut short is refused. */
static void test_length_limits(void **state)
{
    struct hvm_regs r;
    struct x86_emul_ctx c = { .ops = &fake_ops, .regs = &r, .mode = INSN_MODE_64 };
    const u8 ok15[15] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                          0x66, 0x89, 0x43, 0x10 };
    const u8 long16[16] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
                            0x66, 0x66, 0x89, 0x43, 0x10 };
    (void)state;

    setup_regs(&r, (const struct rv[]){ R(RBX, 0x1100), {} });
    nlog = 0;
    assert_int_equal(x86_emulate(&c, ok15, 15), X86EMUL_OK);
    assert_int_equal(r.rip, RIP0 + 15);
    assert_int_equal(log_[0].len, 2);
    assert_int_equal(x86_emulate(&c, long16, 16), X86EMUL_UNHANDLEABLE);
    assert_int_equal(x86_emulate(&c, ok15, 14), X86EMUL_UNHANDLEABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_alu_flags_match_cpu),
        cmocka_unit_test(test_rep_slices),
        cmocka_unit_test(test_rep_movs_fault_midway),
        cmocka_unit_test(test_length_limits),
    };
    return cmocka_run_group_tests_name("x86_emulate", tests, NULL, NULL);
}
