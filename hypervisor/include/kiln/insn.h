/*
 * insn.h - x86 instruction length decoding (arch/x86/insn_len.c).
 *
 * Without NRIP-save (QEMU's SVM has none) the hypervisor must find the
 * length of every instruction it emulates or skips (CPUID, RDMSR, WRMSR,
 * IN/OUT, HLT, VMMCALL, INVLPG, MOV CR...) to advance the guest's RIP, and
 * the MMIO emulator (x86_emulate.h) decodes with insn_decode() what a
 * faulting instruction reads or writes.  Both are pure functions over at
 * most 15 bytes fetched from the guest.
 *
 * Coverage: legacy prefixes, REX, VEX (2/3 byte), EVEX, the one-byte, 0F,
 * 0F38 and 0F3A opcode maps, ModRM/SIB/displacement in 16-, 32- and 64-bit
 * addressing (RIP-relative included) and every immediate form.  Opcodes
 * that are undefined, 3DNow! (0F 0F, 0F 0E) and AMD XOP are rejected.
 * Inside the 0F38/0F3A maps every opcode is taken to have the map's shape
 * (ModRM; plus imm8 for 0F3A): undefined ones fault in the guest anyway.
 * Vendor differences follow AMD, which Kiln runs on: in 64-bit mode an
 * operand-size prefix shortens near CALL/JMP/Jcc displacements to 16 bits.
 */
#ifndef KILN_INSN_H
#define KILN_INSN_H

#include <kiln/types.h>

#define INSN_MAX_LEN 15

/* Errors (negative returns). */
#define INSN_ERR_INVALID   (-1) /* undefined or unsupported encoding */
#define INSN_ERR_TOO_LONG  (-2) /* would exceed INSN_MAX_LEN bytes (#GP) */
#define INSN_ERR_TRUNCATED (-3) /* decodable only with more bytes than given */

/* Default operand/address size of the code segment. */
enum insn_mode {
    INSN_MODE_16 = 2, /* real mode, vm86, or CS.D = 0 */
    INSN_MODE_32 = 4, /* protected or compatibility mode with CS.D = 1 */
    INSN_MODE_64 = 8, /* long mode with CS.L = 1 */
};

enum insn_map {
    INSN_MAP_1BYTE = 0,
    INSN_MAP_0F    = 1,
    INSN_MAP_0F38  = 2,
    INSN_MAP_0F3A  = 3,
    INSN_MAP_5     = 5, /* EVEX only (AVX512-FP16) */
    INSN_MAP_6     = 6,
};

/* Everything the length decoder learns about one instruction. */
struct insn {
    u8 len;             /* total bytes, prefixes included */
    u8 opsize;          /* effective operand size in bytes: 2, 4 or 8 */
    u8 addrsize;        /* effective address size: 2, 4 or 8 */
    u8 rex;             /* REX byte in effect, 0 if none */
    u8 rep;             /* last of F2/F3, or 0 */
    u8 seg;             /* last segment override prefix byte, or 0 */
    bool opsize_prefix; /* 66 present */
    bool lock;          /* F0 present */
    u8 vex;             /* 0, 2 (C5), 3 (C4) or 4 (EVEX) */
    u8 map;             /* enum insn_map */
    u8 opcode;
    bool has_modrm;
    u8 modrm;
    bool has_sib;
    u8 sib;
    bool rip_relative;
    u8 disp_len;        /* 0, 1, 2 or 4 */
    s32 disp;           /* sign-extended */
    u8 imm_len;         /* total immediate bytes (ENTER: 3) */
    u8 imm_off;         /* offset of the first immediate byte */
};

/* Long mode active with CS.L -> 64; else CS.D selects 32 or 16. */
enum insn_mode insn_mode_from_cs(bool long_mode, bool cs_l, bool cs_d);

/* Decodes buf[0..len) (len may exceed 15; only 15 are looked at).
 * Returns 0 and fills *out, or an INSN_ERR_*. */
int insn_decode(const u8 *buf, size_t len, enum insn_mode mode, struct insn *out);

/* The instruction's length (1..15), or an INSN_ERR_*. */
int insn_length(const u8 *buf, size_t len, enum insn_mode mode);

#endif
