/*
 * insn_len.c - x86 instruction length decoder, also the decoder under the
 * MMIO instruction emulator (interface and coverage in include/kiln/insn.h).
 *
 * The decoder walks the instruction the way the CPU does: legacy and REX
 * prefixes, an optional VEX/EVEX prefix, the opcode (through the 0F, 0F38
 * and 0F3A escapes), ModRM, SIB, displacement, immediate.  What an opcode
 * takes after itself comes from the two shape tables below; the handful of
 * opcodes whose shape depends on something else are marked S and handled
 * in decode_special().  Every byte is fetched through fetch(), which is the
 * single place that enforces the 15-byte limit and the caller's buffer.
 */
#include <kiln/insn.h>

/* Shape of an opcode: what follows it. */
#define M    0x01 /* ModRM (and SIB/displacement as it says) */
#define I8   0x02 /* imm8 */
#define IZ   0x04 /* imm16 or imm32 by operand size */
#define I16  0x08 /* imm16 */
#define X64  0x10 /* invalid in 64-bit mode */
#define BAD  0x20 /* undefined */
#define S    0x40 /* shape depends on more than the opcode: decode_special() */
#define P    BAD  /* never looked up: prefixes and escapes are consumed first */

static const u8 shape_1byte[256] = {
    /*        0       1       2       3       4       5       6       7
     *        8       9       A       B       C       D       E       F */
    /* 00 */  M,      M,      M,      M,      I8,     IZ,     X64,    X64,
              M,      M,      M,      M,      I8,     IZ,     X64,    P,
    /* 10 */  M,      M,      M,      M,      I8,     IZ,     X64,    X64,
              M,      M,      M,      M,      I8,     IZ,     X64,    X64,
    /* 20 */  M,      M,      M,      M,      I8,     IZ,     P,      X64,
              M,      M,      M,      M,      I8,     IZ,     P,      X64,
    /* 30 */  M,      M,      M,      M,      I8,     IZ,     P,      X64,
              M,      M,      M,      M,      I8,     IZ,     P,      X64,
    /* 40 */  0,      0,      0,      0,      0,      0,      0,      0,
              0,      0,      0,      0,      0,      0,      0,      0,
    /* 50 */  0,      0,      0,      0,      0,      0,      0,      0,
              0,      0,      0,      0,      0,      0,      0,      0,
    /* 60 */  X64,    X64,    S,      M,      P,      P,      P,      P,
              IZ,     M|IZ,   I8,     M|I8,   0,      0,      0,      0,
    /* 70 */  I8,     I8,     I8,     I8,     I8,     I8,     I8,     I8,
              I8,     I8,     I8,     I8,     I8,     I8,     I8,     I8,
    /* 80 */  M|I8,   M|IZ,   M|I8|X64, M|I8, M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      S,
    /* 90 */  0,      0,      0,      0,      0,      0,      0,      0,
              0,      0,      S,      0,      0,      0,      0,      0,
    /* A0 */  S,      S,      S,      S,      0,      0,      0,      0,
              I8,     IZ,     0,      0,      0,      0,      0,      0,
    /* B0 */  I8,     I8,     I8,     I8,     I8,     I8,     I8,     I8,
              S,      S,      S,      S,      S,      S,      S,      S,
    /* C0 */  M|I8,   M|I8,   I16,    0,      S,      S,      M|I8,   M|IZ,
              I16|I8, 0,      I16,    0,      0,      I8,     X64,    0,
    /* D0 */  M,      M,      M,      M,      I8|X64, I8|X64, BAD,    0,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* E0 */  I8,     I8,     I8,     I8,     I8,     I8,     I8,     I8,
              IZ,     IZ,     S,      I8,     0,      0,      0,      0,
    /* F0 */  P,      0,      P,      P,      0,      0,      S,      S,
              0,      0,      0,      0,      0,      0,      M,      M,
};

static const u8 shape_0f[256] = {
    /* 00 */  M,      M,      M,      M,      BAD,    0,      0,      0,
              0,      0,      BAD,    0,      BAD,    M,      BAD,    BAD,
    /* 10 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* 20 */  S,      S,      S,      S,      BAD,    BAD,    BAD,    BAD,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* 30 */  0,      0,      0,      0,      0,      0,      BAD,    0,
              P,      BAD,    P,      BAD,    BAD,    BAD,    BAD,    BAD,
    /* 40 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* 50 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* 60 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* 70 */  M|I8,   M|I8,   M|I8,   M|I8,   M,      M,      M,      0,
              S,      M,      BAD,    BAD,    M,      M,      M,      M,
    /* 80 */  IZ,     IZ,     IZ,     IZ,     IZ,     IZ,     IZ,     IZ,
              IZ,     IZ,     IZ,     IZ,     IZ,     IZ,     IZ,     IZ,
    /* 90 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* A0 */  0,      0,      0,      M,      M|I8,   M,      BAD,    BAD,
              0,      0,      0,      M,      M|I8,   M,      M,      M,
    /* B0 */  M,      M,      M,      M,      M,      M,      M,      M,
              S,      M,      M|I8,   M,      M,      M,      M,      M,
    /* C0 */  M,      M,      M|I8,   M,      M|I8,   M|I8,   M|I8,   M,
              0,      0,      0,      0,      0,      0,      0,      0,
    /* D0 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* E0 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
    /* F0 */  M,      M,      M,      M,      M,      M,      M,      M,
              M,      M,      M,      M,      M,      M,      M,      M,
};

struct dec {
    const u8 *buf;
    size_t avail;        /* bytes the caller gave, capped at INSN_MAX_LEN */
    u8 pos;
    enum insn_mode mode;
    struct insn *in;
    int err;             /* first error met, 0 if none */
};

/* The next byte, or 0 with d->err set: past 15 bytes is TOO_LONG (the CPU
 * raises #GP whatever follows), past the caller's buffer TRUNCATED. */
static u8 fetch(struct dec *d)
{
    if (d->err)
        return 0;
    if (d->pos >= INSN_MAX_LEN) {
        d->err = INSN_ERR_TOO_LONG;
        return 0;
    }
    if (d->pos >= d->avail) {
        d->err = INSN_ERR_TRUNCATED;
        return 0;
    }
    return d->buf[d->pos++];
}

/* Looks at the next byte without consuming it (for the VEX/LES choice). */
static int peek(struct dec *d, u8 *b)
{
    u8 pos = d->pos;

    *b = fetch(d);
    d->pos = pos;
    return d->err;
}

static void fetch_n(struct dec *d, unsigned int n)
{
    while (n-- && !d->err)
        fetch(d);
}

enum insn_mode insn_mode_from_cs(bool long_mode, bool cs_l, bool cs_d)
{
    if (long_mode && cs_l)
        return INSN_MODE_64;
    return cs_d ? INSN_MODE_32 : INSN_MODE_16;
}

/* Legacy prefixes and REX.  A REX not directly before the opcode (or the
 * VEX/EVEX byte) is ignored, as the CPU does. */
static void decode_prefixes(struct dec *d)
{
    struct insn *in = d->in;
    u8 b;

    for (;;) {
        if (peek(d, &b))
            return;
        switch (b) {
        case 0x26: case 0x2e: case 0x36: case 0x3e: case 0x64: case 0x65:
            in->seg = b;
            break;
        case 0x66:
            in->opsize_prefix = true;
            break;
        case 0x67:
            in->addrsize = d->mode == INSN_MODE_64 ? 4 : (u8)(6 - d->mode);
            break;
        case 0xf0:
            in->lock = true;
            break;
        case 0xf2: case 0xf3:
            in->rep = b;
            break;
        default:
            if (d->mode == INSN_MODE_64 && (b & 0xf0) == 0x40) {
                fetch(d);
                in->rex = b;
                continue;
            }
            return;
        }
        fetch(d);
        in->rex = 0;
    }
}

static void set_opsize(struct dec *d)
{
    struct insn *in = d->in;

    if (d->mode == INSN_MODE_64 && (in->rex & 0x08))
        in->opsize = 8;
    else if (d->mode == INSN_MODE_16)
        in->opsize = in->opsize_prefix ? 4 : 2;
    else
        in->opsize = in->opsize_prefix ? 2 : 4;
}

static void decode_modrm(struct dec *d)
{
    struct insn *in = d->in;
    u8 mod, rm;
    u32 raw = 0;
    unsigned int i;

    in->has_modrm = true;
    in->modrm = fetch(d);
    mod = in->modrm >> 6;
    rm = in->modrm & 7;
    if (mod == 3)
        return;
    if (in->addrsize == 2) {
        if (mod == 1)
            in->disp_len = 1;
        else if (mod == 2 || rm == 6)
            in->disp_len = 2;
    } else {
        if (rm == 4) {
            in->has_sib = true;
            in->sib = fetch(d);
            if (mod == 0 && (in->sib & 7) == 5)
                in->disp_len = 4;
        } else if (mod == 0 && rm == 5) {
            in->disp_len = 4;
            in->rip_relative = d->mode == INSN_MODE_64;
        }
        if (mod == 1)
            in->disp_len = 1;
        else if (mod == 2)
            in->disp_len = 4;
    }
    for (i = 0; i < in->disp_len; i++)
        raw |= (u32)fetch(d) << (8 * i);
    if (in->disp_len == 1)
        in->disp = (s8)(u8)raw;
    else if (in->disp_len == 2)
        in->disp = (s16)(u16)raw;
    else
        in->disp = (s32)raw;
}

/* A VEX or EVEX prefix; d->pos is at its first byte, which was checked to
 * be one.  Sets map and consumes the prefix. */
static void decode_vex(struct dec *d, u8 first)
{
    struct insn *in = d->in;
    u8 p0, p1;

    /* 66, F2, F3, LOCK or REX before VEX/EVEX is #UD. */
    if (in->opsize_prefix || in->rep || in->lock || in->rex) {
        d->err = INSN_ERR_INVALID;
        return;
    }
    fetch(d);
    if (first == 0xc5) {
        in->vex = 2;
        fetch(d);                /* R, vvvv, L, pp: no effect on length */
        in->map = INSN_MAP_0F;
        return;
    }
    p0 = fetch(d);
    p1 = fetch(d);
    if (first == 0xc4) {
        in->vex = 3;
        in->map = p0 & 0x1f;
        if (in->map < INSN_MAP_0F || in->map > INSN_MAP_0F3A)
            d->err = INSN_ERR_INVALID;
        if (d->mode == INSN_MODE_64 && (p1 & 0x80))
            in->opsize = 8; /* VEX.W: matters only for register widths */
        return;
    }
    in->vex = 4;
    fetch(d); /* P2: masking, vector length, broadcast; no effect on length */
    in->map = p0 & 0x07;
    if (!(p1 & 0x04) || in->map == 0 || in->map == 4 || in->map == 7)
        d->err = INSN_ERR_INVALID;
}

/* C4/C5 (LES/LDS or VEX) and 62 (BOUND or EVEX): outside 64-bit mode these
 * are VEX/EVEX only when the next byte would be a register-form ModRM,
 * which LES/LDS/BOUND cannot have. */
static bool is_vex_prefix(const struct dec *d, u8 op)
{
    if (op != 0xc4 && op != 0xc5 && op != 0x62)
        return false;
    if (d->mode == INSN_MODE_64)
        return true;
    if (d->pos + 1u >= d->avail)
        return false; /* the fetches that follow report the shortage */
    return (d->buf[d->pos + 1] & 0xc0) == 0xc0;
}

/* Opcodes marked S.  Returns their shape bits, or BAD. */
static u8 decode_special(struct dec *d)
{
    struct insn *in = d->in;
    u8 op = in->opcode, next;

    if (in->map == INSN_MAP_1BYTE) {
        switch (op) {
        case 0x62: case 0xc4: case 0xc5:     /* BOUND, LES, LDS: memory only */
            return d->mode == INSN_MODE_64 ? BAD : M;
        case 0x8f:                           /* POP r/m is /0; others: XOP */
            if (peek(d, &next))
                return 0;
            return (next & 0x38) == 0 ? M : BAD;
        case 0x9a: case 0xea:                /* far pointer: offset then selector */
            if (d->mode == INSN_MODE_64)
                return BAD;
            in->imm_len = (u8)(2 + (in->opsize == 2 ? 2 : 4));
            return 0;
        case 0xa0: case 0xa1: case 0xa2: case 0xa3: /* moffs: address size */
            in->imm_len = in->addrsize;
            return 0;
        case 0xf6: case 0xf7:                /* TEST (/0, /1) has an immediate */
            if (peek(d, &next))
                return 0;
            if ((next & 0x30) != 0)
                return M;
            return op == 0xf6 ? (M | I8) : (M | IZ);
        default:                             /* B8+r: MOV reg, imm16/32/64 */
            in->imm_len = in->opsize;
            return 0;
        }
    }
    switch (op) {                            /* 0F map */
    case 0x20: case 0x21: case 0x22: case 0x23:
        /* MOV to/from CR/DR: the ModRM always names a register, whatever
         * its mod bits say, so no SIB or displacement ever follows. */
        in->has_modrm = true;
        in->modrm = fetch(d);
        return 0;
    case 0x78:                               /* VMREAD; EXTRQ/INSERTQ take ib,ib */
        if (in->opsize_prefix || in->rep == 0xf2)
            in->imm_len = 2;
        return M;
    default:                                 /* B8: POPCNT with F3, else JMPE */
        return in->rep == 0xf3 ? M : BAD;
    }
}

static u8 shape_of(struct dec *d)
{
    struct insn *in = d->in;
    u8 shape;

    switch (in->map) {
    case INSN_MAP_1BYTE:
        shape = shape_1byte[in->opcode];
        break;
    case INSN_MAP_0F:
        shape = shape_0f[in->opcode];
        /* Under VEX/EVEX only ModRM-taking 0F opcodes exist, plus
         * VZEROUPPER/VZEROALL (VEX 0F 77). */
        if (in->vex && !(shape & M) && !(in->vex != 4 && in->opcode == 0x77))
            return BAD;
        if (in->vex && (shape & S))
            return BAD;
        break;
    case INSN_MAP_0F3A:
        return M | I8;
    default:                                 /* 0F38, EVEX maps 5 and 6 */
        return M;
    }
    if ((shape & X64) && d->mode == INSN_MODE_64)
        return BAD;
    if (shape & S)
        shape = decode_special(d);
    return shape;
}

int insn_decode(const u8 *buf, size_t len, enum insn_mode mode, struct insn *out)
{
    struct dec d = { buf, len < INSN_MAX_LEN ? len : INSN_MAX_LEN, 0, mode, out, 0 };
    struct insn *in = out;
    u8 op, shape;

    if (mode != INSN_MODE_16 && mode != INSN_MODE_32 && mode != INSN_MODE_64)
        return INSN_ERR_INVALID;
    *in = (struct insn){ 0 };
    in->addrsize = (u8)mode;
    decode_prefixes(&d);
    set_opsize(&d);
    if (peek(&d, &op))
        return d.err;
    if (is_vex_prefix(&d, op))
        decode_vex(&d, op);
    op = fetch(&d);
    if (!in->vex && op == 0x0f) {
        op = fetch(&d);
        in->map = INSN_MAP_0F;
        if (op == 0x38 || op == 0x3a) {
            in->map = op == 0x38 ? INSN_MAP_0F38 : INSN_MAP_0F3A;
            op = fetch(&d);
        }
    }
    if (d.err)
        return d.err;
    in->opcode = op;

    shape = shape_of(&d);
    if (d.err)
        return d.err;
    if (shape & BAD)
        return INSN_ERR_INVALID;
    if (shape & M)
        decode_modrm(&d);
    if (shape & I16)
        in->imm_len += 2;
    if (shape & I8)
        in->imm_len += 1;
    if (shape & IZ)
        in->imm_len += in->opsize == 2 ? 2 : 4;
    in->imm_off = d.pos;
    fetch_n(&d, in->imm_len);
    if (d.err)
        return d.err;
    in->len = d.pos;
    return 0;
}

int insn_length(const u8 *buf, size_t len, enum insn_mode mode)
{
    struct insn in;
    int rc = insn_decode(buf, len, mode, &in);

    return rc < 0 ? rc : in.len;
}
