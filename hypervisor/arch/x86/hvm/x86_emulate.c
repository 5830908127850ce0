/*
 * x86_emulate.c - performs the instructions that touch emulated device
 * memory (coverage and contract in include/kiln/x86_emulate.h).
 *
 * The instruction is decoded by insn_decode() (arch/x86/insn_len.c), which
 * already knows every prefix, the operand and address sizes, ModRM, SIB,
 * the displacement and where the immediate lies; this file only adds what
 * the instruction does.  Each handler first computes its memory operand,
 * then reads, then writes memory, and only then changes registers and
 * RFLAGS, so an exception or a refusal from the memory ops leaves the
 * guest's registers as they were (a REP keeps its completed elements).
 * Everything here is bounded by the instruction's own bytes except a REP,
 * which stops after X86EMUL_REP_SLICE elements.
 */
#include <kiln/x86_emulate.h>

#define FL_CF (1ull << 0)
#define FL_PF (1ull << 2)
#define FL_AF (1ull << 4)
#define FL_ZF (1ull << 6)
#define FL_SF (1ull << 7)
#define FL_DF (1ull << 10)
#define FL_OF (1ull << 11)
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* The eight ALU operations, numbered as in opcodes 00-3F and /r of 80-83. */
enum alu_op { ALU_ADD, ALU_OR, ALU_ADC, ALU_SBB, ALU_AND, ALU_SUB, ALU_XOR, ALU_CMP };

struct emu {
    struct x86_emul_ctx *c;
    const u8 *bytes;
    const struct insn *in;
    u64 next_rip;
    enum x86_seg seg;   /* the ModRM memory operand */
    u64 off;            /* its effective address, cut to the address size */
};

static u64 size_mask(unsigned int size)
{
    return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static u64 sign_extend(u64 v, unsigned int size)
{
    u64 sign = 1ull << (8 * size - 1);

    v &= size_mask(size);
    return (v & sign) ? v | ~size_mask(size) : v;
}

static int raise(struct x86_emul_ctx *c, u8 vector, bool has_error, u32 error)
{
    c->fault = (struct x86_emul_fault){ .vector = vector, .has_error = has_error,
                                        .error = error };
    return X86EMUL_EXCEPTION;
}

/* ---- registers ----------------------------------------------------------- */

/* General-purpose register n (0..15) in encoding order. */
static u64 *gpr(struct hvm_regs *r, unsigned int n)
{
    u64 *const by_number[16] = {
        &r->rax, &r->rcx, &r->rdx, &r->rbx, &r->rsp, &r->rbp, &r->rsi, &r->rdi,
        &r->r8, &r->r9, &r->r10, &r->r11, &r->r12, &r->r13, &r->r14, &r->r15,
    };
    return by_number[n & 15];
}

/* Without any REX prefix, byte registers 4..7 are AH, CH, DH, BH. */
static bool is_high8(const struct emu *e, unsigned int n, unsigned int size)
{
    return size == 1 && !e->in->rex && n >= 4 && n < 8;
}

static u64 reg_get(const struct emu *e, unsigned int n, unsigned int size)
{
    if (is_high8(e, n, size))
        return (*gpr(e->c->regs, n - 4) >> 8) & 0xff;
    return *gpr(e->c->regs, n) & size_mask(size);
}

/* A register write as the CPU does it: 8- and 16-bit writes keep the
 * other bits, a 32-bit write clears the upper half. */
static void reg_set(const struct emu *e, unsigned int n, unsigned int size, u64 val)
{
    u64 *p;

    if (is_high8(e, n, size)) {
        p = gpr(e->c->regs, n - 4);
        *p = (*p & ~0xff00ull) | ((val & 0xff) << 8);
        return;
    }
    p = gpr(e->c->regs, n);
    if (size == 4)
        *p = val & 0xffffffffu;
    else
        *p = (*p & ~size_mask(size)) | (val & size_mask(size));
}

/* ModRM.reg with REX.R. */
static unsigned int modrm_reg(const struct insn *in)
{
    return ((in->modrm >> 3) & 7) | ((in->rex & 0x04) ? 8 : 0);
}

/* An index register or RCX after a string step, updated in its low
 * addrsize bytes only (a 32-bit result clears the upper half). */
static u64 set_low(u64 reg, u64 val, unsigned int addrsize)
{
    if (addrsize == 8)
        return val;
    if (addrsize == 4)
        return val & 0xffffffffu;
    return (reg & ~0xffffull) | (val & 0xffff);
}

/* ---- operands -------------------------------------------------------------- */

static enum x86_seg prefix_seg(u8 prefix, enum x86_seg dflt)
{
    switch (prefix) {
    case 0x26: return X86_SEG_ES;
    case 0x2e: return X86_SEG_CS;
    case 0x36: return X86_SEG_SS;
    case 0x3e: return X86_SEG_DS;
    case 0x64: return X86_SEG_FS;
    case 0x65: return X86_SEG_GS;
    default:   return dflt;
    }
}

/* The immediate's n bytes starting skip bytes into it, zero-extended. */
static u64 imm(const struct emu *e, unsigned int skip, unsigned int n)
{
    u64 v = 0;

    for (unsigned int i = 0; i < n; i++)
        v |= (u64)e->bytes[e->in->imm_off + skip + i] << (8 * i);
    return v;
}

/* The whole immediate, sign-extended to size (imm8 of 83, imm32 of REX.W). */
static u64 imm_signed(const struct emu *e, unsigned int size)
{
    unsigned int n = e->in->imm_len;

    return sign_extend(imm(e, 0, n), n) & size_mask(size);
}

/* Computes the ModRM memory operand into e->seg and e->off.  Register
 * forms never exit on memory: they are refused. */
static int modrm_mem(struct emu *e)
{
    const struct insn *in = e->in;
    struct hvm_regs *r = e->c->regs;
    u8 mod = in->modrm >> 6, rm = in->modrm & 7;
    u64 ea = (u64)(s64)in->disp;
    enum x86_seg seg = X86_SEG_DS;

    if (!in->has_modrm || mod == 3)
        return X86EMUL_UNHANDLEABLE;
    if (in->addrsize == 2) {
        /* BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 alone if mod 0), BX */
        static const s8 base[8] = { 3, 3, 5, 5, -1, -1, 5, 3 };
        static const s8 index[8] = { 6, 7, 6, 7, 6, 7, -1, -1 };
        if (base[rm] >= 0 && !(rm == 6 && mod == 0)) {
            ea += *gpr(r, (unsigned int)base[rm]);
            if (base[rm] == 5)
                seg = X86_SEG_SS;
        }
        if (index[rm] >= 0)
            ea += *gpr(r, (unsigned int)index[rm]);
    } else if (in->rip_relative) {
        ea += e->next_rip;
    } else if (in->has_sib) {
        unsigned int b = in->sib & 7;
        unsigned int x = ((in->sib >> 3) & 7) | ((in->rex & 0x02) ? 8 : 0);
        if (x != 4)
            ea += *gpr(r, x) << (in->sib >> 6);
        if (!(b == 5 && mod == 0)) {
            b |= (in->rex & 0x01) ? 8 : 0;
            ea += *gpr(r, b);
            if (b == 4 || b == 5)
                seg = X86_SEG_SS;
        }
    } else if (!(rm == 5 && mod == 0)) {
        unsigned int b = rm | ((in->rex & 0x01) ? 8 : 0);
        ea += *gpr(r, b);
        if (b == 5)
            seg = X86_SEG_SS;
    }
    e->off = ea & size_mask(in->addrsize);
    e->seg = prefix_seg(in->seg, seg);
    return X86EMUL_OK;
}

static bool canonical(const struct x86_emul_ctx *c, u64 la)
{
    unsigned int shift = 64 - (c->la57 ? 57 : 48);

    return (u64)((s64)(la << shift) >> shift) == la;
}

/* seg:off to a linear address.  In 64-bit mode only FS and GS have a
 * base and the address must be canonical (#SS for the stack segment,
 * #GP otherwise); elsewhere it wraps at 4 GiB. */
static int linearize(struct emu *e, enum x86_seg seg, u64 off, unsigned int len, u64 *la)
{
    struct x86_emul_ctx *c = e->c;

    if (c->mode != INSN_MODE_64) {
        *la = (c->seg_base[seg] + off) & 0xffffffffu;
        return X86EMUL_OK;
    }
    *la = (seg == X86_SEG_FS || seg == X86_SEG_GS ? c->seg_base[seg] : 0) + off;
    if (!canonical(c, *la) || !canonical(c, *la + len - 1))
        return raise(c, seg == X86_SEG_SS ? X86_EXC_SS : X86_EXC_GP, true, 0);
    return X86EMUL_OK;
}

/* A memory op's result, with anything but the two known codes taken as a
 * refusal. */
static int op_result(int rc)
{
    return rc == X86EMUL_OK || rc == X86EMUL_EXCEPTION ? rc : X86EMUL_UNHANDLEABLE;
}

static int mem_read(struct emu *e, enum x86_seg seg, u64 off, unsigned int size, u64 *val)
{
    u64 la;
    int rc = linearize(e, seg, off, size, &la);

    *val = 0;
    if (rc)
        return rc;
    rc = op_result(e->c->ops->read(e->c, la, val, size));
    *val &= size_mask(size);
    return rc;
}

static int mem_write(struct emu *e, enum x86_seg seg, u64 off, unsigned int size, u64 val)
{
    u64 la;
    int rc = linearize(e, seg, off, size, &la);

    if (rc)
        return rc;
    return op_result(e->c->ops->write(e->c, la, &val, size));
}

/* LOCK is allowed only on a read-modify-write of memory; else #UD. */
static int check_lock(struct emu *e, bool lockable)
{
    if (e->in->lock && !lockable)
        return raise(e->c, X86_EXC_UD, false, 0);
    return X86EMUL_OK;
}

static int done(struct emu *e)
{
    e->c->regs->rip = e->next_rip;
    return X86EMUL_OK;
}

/* ---- arithmetic -------------------------------------------------------------- */

static bool parity_even(u64 v)
{
    v &= 0xff;
    v ^= v >> 4;
    v ^= v >> 2;
    v ^= v >> 1;
    return !(v & 1);
}

/* res (size bytes) and its CF/AF/OF into *fl, with ZF, SF, PF from res. */
static void set_flags(u64 *fl, u64 res, unsigned int size, bool cf, bool af, bool of)
{
    u64 f = *fl & ~FL_ARITH;

    res &= size_mask(size);
    f |= cf ? FL_CF : 0;
    f |= af ? FL_AF : 0;
    f |= of ? FL_OF : 0;
    f |= res ? 0 : FL_ZF;
    f |= (res >> (8 * size - 1)) & 1 ? FL_SF : 0;
    f |= parity_even(res) ? FL_PF : 0;
    *fl = f;
}

/* One of the eight ALU operations on size-byte a and b; RFLAGS in *fl. */
static u64 alu(enum alu_op op, u64 a, u64 b, unsigned int size, u64 *fl)
{
    u64 m = size_mask(size), res, vec;
    unsigned int top = 8 * size - 1;
    u64 cin = (op == ALU_ADC || op == ALU_SBB) && (*fl & FL_CF) ? 1 : 0;

    a &= m;
    b &= m;
    switch (op) {
    case ALU_ADD:
    case ALU_ADC:
        res = (a + b + cin) & m;
        vec = (a & b) | ((a ^ b) & ~res);       /* carry out of each bit */
        set_flags(fl, res, size, (vec >> top) & 1, (vec >> 3) & 1,
                  (((a ^ res) & (b ^ res)) >> top) & 1);
        return res;
    case ALU_SUB:
    case ALU_SBB:
    case ALU_CMP:
        res = (a - b - cin) & m;
        vec = (~a & b) | (~(a ^ b) & res);      /* borrow out of each bit */
        set_flags(fl, res, size, (vec >> top) & 1, (vec >> 3) & 1,
                  (((a ^ b) & (a ^ res)) >> top) & 1);
        return res;
    case ALU_OR:
        res = a | b;
        break;
    case ALU_AND:
        res = a & b;
        break;
    default:
        res = a ^ b;
        break;
    }
    set_flags(fl, res, size, false, false, false);
    return res;
}

/* ---- the instructions --------------------------------------------------------- */

/* 00-3B: ALU between memory and a register, either direction. */
static int emu_alu_rm(struct emu *e)
{
    const struct insn *in = e->in;
    enum alu_op op = (enum alu_op)(in->opcode >> 3);
    unsigned int size = (in->opcode & 1) ? in->opsize : 1, reg = modrm_reg(in);
    bool to_reg = in->opcode & 2;
    u64 m, res, fl = e->c->regs->rflags;
    int rc;

    if ((rc = check_lock(e, !to_reg && op != ALU_CMP)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    if (to_reg) {
        res = alu(op, reg_get(e, reg, size), m, size, &fl);
        if (op != ALU_CMP)
            reg_set(e, reg, size, res);
    } else {
        res = alu(op, m, reg_get(e, reg, size), size, &fl);
        if (op != ALU_CMP && (rc = mem_write(e, e->seg, e->off, size, res)))
            return rc;
    }
    e->c->regs->rflags = fl;
    return done(e);
}

/* 80-83: ALU between memory and an immediate. */
static int emu_alu_imm(struct emu *e)
{
    const struct insn *in = e->in;
    enum alu_op op = (enum alu_op)((in->modrm >> 3) & 7);
    unsigned int size = in->opcode == 0x81 || in->opcode == 0x83 ? in->opsize : 1;
    u64 m, res, fl = e->c->regs->rflags;
    int rc;

    if ((rc = check_lock(e, op != ALU_CMP)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    res = alu(op, m, imm_signed(e, size), size, &fl);
    if (op != ALU_CMP && (rc = mem_write(e, e->seg, e->off, size, res)))
        return rc;
    e->c->regs->rflags = fl;
    return done(e);
}

/* 84/85 TEST r/m, reg; F6/F7 group 3 (TEST imm, NOT, NEG). */
static int emu_test_group3(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1;
    unsigned int sub = in->opcode <= 0x85 ? 0 : (in->modrm >> 3) & 7;
    u64 m, res, fl = e->c->regs->rflags;
    int rc;

    if (sub >= 4)
        return X86EMUL_UNHANDLEABLE;            /* MUL, IMUL, DIV, IDIV */
    if ((rc = check_lock(e, sub >= 2)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    if (sub < 2) {
        u64 other = in->opcode <= 0x85 ? reg_get(e, modrm_reg(in), size) : imm_signed(e, size);
        alu(ALU_AND, m, other, size, &fl);
    } else {
        res = sub == 2 ? ~m : alu(ALU_SUB, 0, m, size, &fl);
        if ((rc = mem_write(e, e->seg, e->off, size, res)))
            return rc;
    }
    e->c->regs->rflags = fl;
    return done(e);
}

/* FE/FF /0 /1: INC and DEC, which leave CF alone. */
static int emu_incdec(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = in->opcode == 0xff ? in->opsize : 1, sub = (in->modrm >> 3) & 7;
    u64 m, res, fl = e->c->regs->rflags, cf = fl & FL_CF;
    int rc;

    if (sub > 1)
        return X86EMUL_UNHANDLEABLE;            /* CALL, JMP, PUSH */
    if ((rc = check_lock(e, true)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    res = alu(sub ? ALU_SUB : ALU_ADD, m, 1, size, &fl);
    if ((rc = mem_write(e, e->seg, e->off, size, res)))
        return rc;
    e->c->regs->rflags = (fl & ~FL_CF) | cf;
    return done(e);
}

/* 86/87: XCHG memory with a register (locked whatever the prefix). */
static int emu_xchg(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1, reg = modrm_reg(in);
    u64 m;
    int rc;

    if ((rc = modrm_mem(e)) || (rc = mem_read(e, e->seg, e->off, size, &m)) ||
        (rc = mem_write(e, e->seg, e->off, size, reg_get(e, reg, size))))
        return rc;
    reg_set(e, reg, size, m);
    return done(e);
}

/* 88-8B and C6/C7 /0: MOV between memory and a register or immediate. */
static int emu_mov(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1, reg = modrm_reg(in);
    u64 m;
    int rc;

    if (in->opcode >= 0xc6 && ((in->modrm >> 3) & 7) != 0)
        return X86EMUL_UNHANDLEABLE;            /* XABORT, XBEGIN */
    if ((rc = check_lock(e, false)) || (rc = modrm_mem(e)))
        return rc;
    if (in->opcode >= 0xc6)
        rc = mem_write(e, e->seg, e->off, size, imm_signed(e, size));
    else if (in->opcode <= 0x89)
        rc = mem_write(e, e->seg, e->off, size, reg_get(e, reg, size));
    else if (!(rc = mem_read(e, e->seg, e->off, size, &m)))
        reg_set(e, reg, size, m);
    return rc ? rc : done(e);
}

/* A0-A3: MOV between AL/rAX and the address in the instruction. */
static int emu_mov_moffs(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1;
    enum x86_seg seg = prefix_seg(in->seg, X86_SEG_DS);
    u64 off = imm(e, 0, in->imm_len), m;
    int rc;

    if ((rc = check_lock(e, false)))
        return rc;
    if (in->opcode >= 0xa2)
        rc = mem_write(e, seg, off, size, reg_get(e, 0, size));
    else if (!(rc = mem_read(e, seg, off, size, &m)))
        reg_set(e, 0, size, m);
    return rc ? rc : done(e);
}

/* 0F B6/B7/BE/BF: MOVZX and MOVSX; 63 in 64-bit mode: MOVSXD. */
static int emu_movx(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int src, reg = modrm_reg(in);
    bool sign;
    u64 m;
    int rc;

    if (in->map == INSN_MAP_1BYTE) {
        src = in->opsize == 8 ? 4 : in->opsize;
        sign = true;
    } else {
        src = (in->opcode & 1) ? 2 : 1;
        sign = in->opcode >= 0xbe;
    }
    if ((rc = check_lock(e, false)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, src, &m)))
        return rc;
    reg_set(e, reg, in->opsize, sign ? sign_extend(m, src) : m);
    return done(e);
}

/* 0F A3/AB/B3/BB (bit number in a register, which may reach outside the
 * operand) and 0F BA /4-/7 (bit number in imm8, modulo the width):
 * BT, BTS, BTR, BTC.  Only CF changes. */
static int emu_bt(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = in->opsize, bits = 8 * size, sub, shift = size == 8 ? 6 : size == 4 ? 5 : 4;
    u64 bit, m, fl = e->c->regs->rflags;
    int rc;

    if (in->opcode == 0xba) {
        sub = (in->modrm >> 3) & 7;
        if (sub < 4)
            return X86EMUL_UNHANDLEABLE;
    } else {
        sub = 4 + ((in->opcode >> 3) & 3);
    }
    if ((rc = check_lock(e, sub != 4)) || (rc = modrm_mem(e)))
        return rc;
    if (in->opcode == 0xba) {
        bit = imm(e, 0, 1) & (bits - 1);
    } else {
        s64 pos = (s64)sign_extend(reg_get(e, modrm_reg(in), size), size);
        e->off = (e->off + (u64)((pos >> shift) * (s64)size)) & size_mask(in->addrsize);
        bit = (u64)pos & (bits - 1);
    }
    if ((rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    fl = (fl & ~FL_CF) | ((m >> bit) & 1);
    if (sub != 4) {
        if (sub == 5)
            m |= 1ull << bit;
        else if (sub == 6)
            m &= ~(1ull << bit);
        else
            m ^= 1ull << bit;
        if ((rc = mem_write(e, e->seg, e->off, size, m)))
            return rc;
    }
    e->c->regs->rflags = fl;
    return done(e);
}

/* A4/A5 MOVS, AA/AB STOS, AC/AD LODS, with or without REP (F3, or F2,
 * which these treat alike): element by element, up to one slice. */
static int emu_string(struct emu *e)
{
    const struct insn *in = e->in;
    struct hvm_regs *r = e->c->regs;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1, as = in->addrsize;
    bool reads = in->opcode <= 0xa5 || in->opcode >= 0xac;
    bool writes = in->opcode <= 0xab;
    enum x86_seg src_seg = prefix_seg(in->seg, X86_SEG_DS);
    u64 amask = size_mask(as), count = in->rep ? r->rcx & amask : 1, n = 0;
    u64 step = (r->rflags & FL_DF) ? -(u64)size : size;
    u64 rsi = r->rsi, rdi = r->rdi, val = r->rax & size_mask(size);
    int rc;

    if ((rc = check_lock(e, false)))
        return rc;
    for (; n < count && n < X86EMUL_REP_SLICE; n++) {
        if (reads && (rc = mem_read(e, src_seg, rsi & amask, size, &val)))
            break;
        if (writes && (rc = mem_write(e, X86_SEG_ES, rdi & amask, size, val)))
            break;
        if (reads)
            rsi = set_low(rsi, rsi + step, as);
        if (writes)
            rdi = set_low(rdi, rdi + step, as);
    }
    if (rc == X86EMUL_UNHANDLEABLE)
        return rc;
    if (n) {
        r->rsi = rsi;
        r->rdi = rdi;
        if (in->rep)
            r->rcx = set_low(r->rcx, count - n, as);
        if (!writes)
            reg_set(e, 0, size, val);           /* LODS: the last element */
    }
    if (rc)
        return rc;
    return n == count ? done(e) : X86EMUL_OK;
}

/* 0F AF, 69, 6B: the two- and three-operand IMUL with a memory source.
 * CF and OF say the signed product did not fit the operand size; SF, ZF,
 * AF and PF are undefined: kept. */
static int emu_imul(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = in->opsize, reg = modrm_reg(in);
    u64 m, b, res, fl = e->c->regs->rflags;
    int rc;

    if ((rc = check_lock(e, false)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    b = in->map == INSN_MAP_0F ? *gpr(e->c->regs, reg) : imm_signed(e, size);
    __int128 full = (__int128)(s64)sign_extend(m & size_mask(size), size) *
                    (__int128)(s64)sign_extend(b & size_mask(size), size);
    res = (u64)full & size_mask(size);
    bool fits = (__int128)(s64)sign_extend(res, size) == full;
    fl &= ~(FL_CF | FL_OF);
    if (!fits)
        fl |= FL_CF | FL_OF;
    reg_set(e, reg, size, res);
    e->c->regs->rflags = fl;
    return done(e);
}

/* 0F BC/BD: BSF and BSR from memory.  A zero source sets ZF and leaves the
 * destination as it was (what AMD documents and Intel CPUs do); otherwise
 * ZF is cleared.  The other arithmetic flags are undefined: kept.  With F3
 * these are TZCNT/LZCNT: refused. */
static int emu_bitscan(struct emu *e)
{
    const struct insn *in = e->in;
    unsigned int size = in->opsize;
    u64 m, fl = e->c->regs->rflags;
    int rc;

    if (in->rep == 0xf3)
        return X86EMUL_UNHANDLEABLE;
    if ((rc = check_lock(e, false)) || (rc = modrm_mem(e)) ||
        (rc = mem_read(e, e->seg, e->off, size, &m)))
        return rc;
    m &= size_mask(size);
    if (!m) {
        e->c->regs->rflags = fl | FL_ZF;
        return done(e);
    }
    unsigned int bit = in->opcode == 0xbc ? (unsigned int)__builtin_ctzll(m)
                                          : 63u - (unsigned int)__builtin_clzll(m);
    reg_set(e, modrm_reg(in), size, bit);
    e->c->regs->rflags = fl & ~FL_ZF;
    return done(e);
}

/* 0F 01 /4 with a memory operand: SMSW stores CR0's low 16 bits (a word
 * whatever the operand size).  The other 0F 01 forms never touch device
 * memory in a guest that works: refused. */
static int emu_smsw(struct emu *e)
{
    const struct insn *in = e->in;
    int rc;
    if (((in->modrm >> 3) & 7) != 4)
        return X86EMUL_UNHANDLEABLE;
    if ((rc = check_lock(e, false)) || (rc = modrm_mem(e)) ||
        (rc = mem_write(e, e->seg, e->off, 2, e->c->cr0 & 0xffff)))
        return rc;
    return done(e);
}

/* A6/A7 CMPS and AE/AF SCAS, alone or with REPE (F3) / REPNE (F2):
 * element by element, up to one slice; a REP also ends on the element
 * whose ZF stops it (REPE: not equal, REPNE: equal), RIP then past it. */
static int emu_compare_string(struct emu *e)
{
    const struct insn *in = e->in;
    struct hvm_regs *r = e->c->regs;
    unsigned int size = (in->opcode & 1) ? in->opsize : 1, as = in->addrsize;
    bool cmps = in->opcode <= 0xa7;
    enum x86_seg src_seg = prefix_seg(in->seg, X86_SEG_DS);
    u64 amask = size_mask(as), count = in->rep ? r->rcx & amask : 1, n = 0;
    u64 step = (r->rflags & FL_DF) ? -(u64)size : size;
    u64 rsi = r->rsi, rdi = r->rdi, fl = r->rflags;
    bool stop = false;
    int rc;

    if ((rc = check_lock(e, false)))
        return rc;
    while (n < count && n < X86EMUL_REP_SLICE && !stop) {
        u64 a = r->rax, b;
        if (cmps && (rc = mem_read(e, src_seg, rsi & amask, size, &a)))
            break;
        if ((rc = mem_read(e, X86_SEG_ES, rdi & amask, size, &b)))
            break;
        alu(ALU_CMP, a, b, size, &fl);
        if (cmps)
            rsi = set_low(rsi, rsi + step, as);
        rdi = set_low(rdi, rdi + step, as);
        n++;
        if (in->rep)
            stop = in->rep == 0xf3 ? !(fl & FL_ZF) : (fl & FL_ZF) != 0;
    }
    if (rc == X86EMUL_UNHANDLEABLE)
        return rc;
    if (n) {
        r->rsi = rsi;
        r->rdi = rdi;
        r->rflags = fl;
        if (in->rep)
            r->rcx = set_low(r->rcx, count - n, as);
    }
    if (rc)
        return rc;
    return n == count || stop ? done(e) : X86EMUL_OK;
}

int x86_emulate(struct x86_emul_ctx *c, const u8 *bytes, size_t len)
{
    struct insn *in = &c->insn;
    struct emu e = { .c = c, .bytes = bytes, .in = in };
    u8 op;

    c->fault = (struct x86_emul_fault){ 0 };
    if (insn_decode(bytes, len, c->mode, in) < 0 || in->vex)
        return X86EMUL_UNHANDLEABLE;
    e.next_rip = c->regs->rip + in->len;
    if (c->mode != INSN_MODE_64)
        e.next_rip &= c->mode == INSN_MODE_32 ? 0xffffffffu : 0xffffu;
    op = in->opcode;

    if (in->map == INSN_MAP_0F) {
        switch (op) {
        case 0xb6: case 0xb7: case 0xbe: case 0xbf:
            return emu_movx(&e);
        case 0xa3: case 0xab: case 0xb3: case 0xbb: case 0xba:
            return emu_bt(&e);
        case 0x01:
            return emu_smsw(&e);
        case 0xbc: case 0xbd:
            return emu_bitscan(&e);
        case 0xaf:
            return emu_imul(&e);
        default:
            return X86EMUL_UNHANDLEABLE;
        }
    }
    if (in->map != INSN_MAP_1BYTE)
        return X86EMUL_UNHANDLEABLE;
    if (op < 0x40 && (op & 7) < 4)
        return emu_alu_rm(&e);
    switch (op) {
    case 0x63:
        return c->mode == INSN_MODE_64 ? emu_movx(&e) : X86EMUL_UNHANDLEABLE; /* else ARPL */
    case 0x69: case 0x6b:
        return emu_imul(&e);
    case 0x80: case 0x81: case 0x82: case 0x83:
        return emu_alu_imm(&e);
    case 0x84: case 0x85: case 0xf6: case 0xf7:
        return emu_test_group3(&e);
    case 0x86: case 0x87:
        return emu_xchg(&e);
    case 0x88: case 0x89: case 0x8a: case 0x8b: case 0xc6: case 0xc7:
        return emu_mov(&e);
    case 0xa0: case 0xa1: case 0xa2: case 0xa3:
        return emu_mov_moffs(&e);
    case 0xa4: case 0xa5: case 0xaa: case 0xab: case 0xac: case 0xad:
        return emu_string(&e);
    case 0xa6: case 0xa7: case 0xae: case 0xaf:
        return emu_compare_string(&e);
    case 0xfe: case 0xff:
        return emu_incdec(&e);
    default:
        return X86EMUL_UNHANDLEABLE;
    }
}
