/*
 * fuzz_x86_emulate.c - libFuzzer target for the MMIO instruction emulator
 * (arch/x86/hvm/x86_emulate.c): random instruction bytes, registers,
 * segment bases and mode, run against a fake memory.
 *
 * Input: a mode/flags byte, 15 instruction bytes, then registers (8 bytes
 * each, as far as the input goes).  A bit mask from the input folds some
 * registers into the fake memory's window so that memory operands land
 * there often.  The fake memory checks every access the emulator makes
 * (width 1/2/4/8), faults outside its window and on writes to its second
 * page (so a read-modify-write can fault between its read and its write),
 * and refuses one page.
 * After the call the target asserts the contract of x86_emulate.h: the
 * result code, RIP (past the instruction, or on it for an unfinished REP or
 * an exception), the fault raised, the bounded number of accesses.
 */
#include <stdlib.h>
#include <string.h>

#include "../arch/x86/insn_len.c"
#include "../arch/x86/hvm/x86_emulate.c"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define WIN_BASE    0x10000ull
#define WIN_SIZE    0x2000u
#define RO_BASE     0x11000ull          /* the window's second page: writes fault */
#define REFUSE_BASE 0x20000ull          /* the op refuses this page */

static u8 window[WIN_SIZE];
static unsigned long accesses;

static int fake_access(struct x86_emul_ctx *c, u64 la, void *buf, unsigned int len, bool write)
{
    CHECK(len == 1 || len == 2 || len == 4 || len == 8);
    CHECK(c->mode == INSN_MODE_64 || la <= 0xffffffffull);   /* wrapped at 4 GiB */
    accesses++;
    if ((la & ~0xfffull) == REFUSE_BASE)
        return X86EMUL_UNHANDLEABLE;
    if (la < WIN_BASE || la - WIN_BASE > WIN_SIZE - len) {
        c->fault = (struct x86_emul_fault){ X86_EXC_PF, true, write ? 2u : 0u, la };
        return X86EMUL_EXCEPTION;
    }
    if (write && la + len > RO_BASE) {
        c->fault = (struct x86_emul_fault){ X86_EXC_PF, true, 3, la };
        return X86EMUL_EXCEPTION;
    }
    if (write)
        memcpy(window + (la - WIN_BASE), buf, len);
    else
        memcpy(buf, window + (la - WIN_BASE), len);
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

static const struct x86_emul_ops ops = { fake_read, fake_write };

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    static const enum insn_mode modes[4] = { INSN_MODE_64, INSN_MODE_32, INSN_MODE_16,
                                             INSN_MODE_64 };
    struct hvm_regs r, before;
    struct x86_emul_ctx c = { .ops = &ops, .regs = &r };
    u8 insn[INSN_MAX_LEN];
    size_t insn_len;
    u16 fold;
    int rc;

    if (size < 3 + INSN_MAX_LEN)
        return 0;
    c.mode = modes[data[0] & 3];
    c.la57 = data[0] & 4;
    fold = (u16)(data[1] | data[2] << 8);
    insn_len = 1 + (data[0] >> 4) % INSN_MAX_LEN;  /* how much of it was fetched */
    memcpy(insn, data + 3, sizeof(insn));
    data += 3 + INSN_MAX_LEN;
    size -= 3 + INSN_MAX_LEN;

    memset(&r, 0, sizeof(r));
    for (unsigned int i = 0; i < 18; i++) {
        u64 v = 0;
        if (size >= 8) {
            memcpy(&v, data, 8);
            data += 8;
            size -= 8;
        }
        if (i < 16) {
            *gpr(&r, i) = (fold >> i) & 1 ? WIN_BASE + (v & (WIN_SIZE - 1)) : v;
        } else if (i == 16) {
            r.rflags = v;
        } else {
            for (unsigned int s = 0; s < 6; s++)
                c.seg_base[s] = (v >> (8 * s)) & 1 ? WIN_BASE : 0;
        }
    }
    r.rip = 0x1000;
    before = r;
    accesses = 0;

    rc = x86_emulate(&c, insn, insn_len);
    CHECK(rc == X86EMUL_OK || rc == X86EMUL_EXCEPTION || rc == X86EMUL_UNHANDLEABLE);
    CHECK(accesses <= 2 * X86EMUL_REP_SLICE + 2);
    if (rc == X86EMUL_UNHANDLEABLE)
        return 0;
    CHECK(c.insn.len >= 1 && c.insn.len <= insn_len);
    if (rc == X86EMUL_EXCEPTION) {
        CHECK(r.rip == before.rip);
        CHECK(c.fault.vector == X86_EXC_PF || c.fault.vector == X86_EXC_GP ||
              c.fault.vector == X86_EXC_SS || c.fault.vector == X86_EXC_UD);
        CHECK(c.fault.has_error == (c.fault.vector != X86_EXC_UD));
        /* Only a REP may have changed registers before it faulted. */
        if (!c.insn.rep)
            CHECK(memcmp(&r, &before, sizeof(r)) == 0);
        return 0;
    }
    if (r.rip == before.rip) {
        /* A REP cut at a slice: the count went down by exactly a slice. */
        u64 mask = size_mask(c.insn.addrsize);
        CHECK(c.insn.rep && c.insn.opcode >= 0xa4 && c.insn.opcode <= 0xaf);   /* string insns */
        CHECK(((before.rcx - r.rcx) & mask) == X86EMUL_REP_SLICE);
    } else {
        CHECK(r.rip == before.rip + c.insn.len);
    }
    CHECK((r.rflags & ~FL_ARITH) == (before.rflags & ~FL_ARITH));
    return 0;
}
