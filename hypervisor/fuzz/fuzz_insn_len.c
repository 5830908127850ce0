/*
 * fuzz_insn_len.c - libFuzzer target for the instruction length decoder
 * (arch/x86/insn_len.c), which reads bytes fetched from hostile guests.
 *
 * Input: one byte choosing the mode, then up to 15+ instruction bytes.
 * Beyond the sanitizers' checks it asserts what callers rely on: a decoded
 * instruction is 1..15 bytes inside the buffer, its parts add up (the
 * immediate ends it), its sizes are real ones, and the answer depends only
 * on its own bytes: decoding exactly those gives the same instruction,
 * and one byte fewer is TRUNCATED.
 */
#include <stdlib.h>

#include "../arch/x86/insn_len.c"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static const enum insn_mode modes[3] = { INSN_MODE_16, INSN_MODE_32, INSN_MODE_64 };

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

/* Field by field: the struct has padding, which no decoder writes. */
static bool same(const struct insn *a, const struct insn *b)
{
    return a->len == b->len && a->opsize == b->opsize && a->addrsize == b->addrsize &&
           a->rex == b->rex && a->rep == b->rep && a->seg == b->seg &&
           a->opsize_prefix == b->opsize_prefix && a->lock == b->lock && a->vex == b->vex &&
           a->map == b->map && a->opcode == b->opcode && a->has_modrm == b->has_modrm &&
           a->modrm == b->modrm && a->has_sib == b->has_sib && a->sib == b->sib &&
           a->rip_relative == b->rip_relative && a->disp_len == b->disp_len &&
           a->disp == b->disp && a->imm_len == b->imm_len && a->imm_off == b->imm_off;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    struct insn in, again;
    enum insn_mode mode;
    int rc;

    if (size < 1)
        return 0;
    mode = modes[data[0] % 3];
    data++;
    size--;

    rc = insn_decode(data, size, mode, &in);
    CHECK(rc == 0 || rc == INSN_ERR_INVALID || rc == INSN_ERR_TOO_LONG ||
          rc == INSN_ERR_TRUNCATED);
    CHECK(insn_length(data, size, mode) == (rc < 0 ? rc : in.len));
    if (rc == INSN_ERR_TRUNCATED)
        CHECK(size < INSN_MAX_LEN);
    if (rc < 0)
        return 0;

    CHECK(in.len >= 1 && in.len <= INSN_MAX_LEN && in.len <= size);
    CHECK(in.imm_off + in.imm_len == in.len);
    CHECK(in.disp_len == 0 || in.disp_len == 1 || in.disp_len == 2 || in.disp_len == 4);
    CHECK(in.opsize == 2 || in.opsize == 4 || in.opsize == 8);
    CHECK(in.addrsize == 2 || in.addrsize == 4 || in.addrsize == 8);
    CHECK(mode == INSN_MODE_64 || (in.rex == 0 && in.addrsize != 8 && !in.rip_relative));
    CHECK(!in.has_sib || in.has_modrm);

    /* Only its own bytes matter. */
    CHECK(insn_decode(data, in.len, mode, &again) == 0);
    CHECK(same(&in, &again));
    CHECK(insn_decode(data, in.len - 1u, mode, &again) == INSN_ERR_TRUNCATED);
    return 0;
}
