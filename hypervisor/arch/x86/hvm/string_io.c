/*
 * string_io.c - INS and OUTS, with or without REP, on the ports a guest
 * sees.  XTF-style consoles print with REP OUTSB to port 0xe9, and OS
 * serial and IDE drivers move buffers the same way.
 *
 * The exit gives the port, direction, element size and REP.  It does not
 * give the segment OUTS reads through on this CPU model (no decode
 * assists): DS unless the instruction carries a segment prefix.  Its
 * address-size bits cannot be trusted either: QEMU 7.2 sets the bit one
 * above the right one (a 64-bit access reports bit 10, not bit 9).  So
 * both come from the instruction's own prefixes and the CPU mode.  INS
 * always writes through ES.  Each element goes through hvm_port_io like a single
 * IN or OUT.  A long REP is done in slices of STRING_IO_SLICE elements:
 * RIP stays on the instruction with RCX, RSI and RDI updated and the guest
 * executes the rest, as hardware resumes a REP after an interrupt, so one
 * instruction cannot keep a CPU in the hypervisor for long.  An element at
 * a linear address the guest's page tables do not map raises #PF (CR2 =
 * that address, the registers as the completed elements left them, RIP on
 * the instruction, as hardware does); one mapped outside the domain's RAM
 * destroys the domain, like any other access there.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/insn.h>

#define STRING_IO_SLICE 1024
#define EFLAGS_DF       (1ul << 10)
#define PF_WRITE        (1u << 1)   /* #PF error code bits */
#define PF_USER         (1u << 2)

struct string_insn {
    enum x86_seg seg;       /* what OUTS reads through */
    unsigned int addr_bytes;
};

/* Reads the prefixes of the string instruction at rip: the last segment
 * prefix (else DS) and the address size (the mode's, or the other one
 * with 0x67). */
static struct string_insn decode(struct vcpu *v, const struct hvm_paging *pg, u64 rip)
{
    u8 b[INSN_MAX_LEN];
    size_t n = hvm_fetch_insn(v, pg, rip, b, sizeof(b));
    struct string_insn si = { X86_SEG_DS, 0 };
    bool addr_override = false;

    for (size_t i = 0; i < n; i++) {
        switch (b[i]) {
        case 0x26: si.seg = X86_SEG_ES; continue;
        case 0x2e: si.seg = X86_SEG_CS; continue;
        case 0x36: si.seg = X86_SEG_SS; continue;
        case 0x3e: si.seg = X86_SEG_DS; continue;
        case 0x64: si.seg = X86_SEG_FS; continue;
        case 0x65: si.seg = X86_SEG_GS; continue;
        case 0x67: addr_override = true; continue;
        case 0x66: case 0xf0: case 0xf2: case 0xf3:
            continue;
        default:
            if (pg->cs_long && (b[i] & 0xf0) == 0x40)
                continue;   /* REX */
            break;
        }
        break;
    }
    if (pg->cs_long)
        si.addr_bytes = addr_override ? 4 : 8;
    else if (pg->cs_32)
        si.addr_bytes = addr_override ? 2 : 4;
    else
        si.addr_bytes = addr_override ? 4 : 2;
    return si;
}

/* An index register or RCX after an update of its low addr_bytes: a
 * 32-bit result zero-extends (as any 32-bit register write), a 16-bit one
 * keeps the upper bits. */
static u64 set_low(u64 reg, u64 val, unsigned int addr_bytes)
{
    if (addr_bytes == 8)
        return val;
    if (addr_bytes == 4)
        return val & 0xffffffffu;
    return (reg & ~0xffffull) | (val & 0xffff);
}

void hvm_string_io(struct vcpu *v, const struct hvm_paging *pg, const struct hvm_string_io *io)
{
    struct hvm_regs r;
    hvm->get_regs(v, &r);

    struct string_insn si = decode(v, pg, r.rip);
    u64 amask = si.addr_bytes == 8 ? ~0ull : si.addr_bytes == 4 ? 0xffffffffull : 0xffffull;
    u64 count = io->rep ? r.rcx & amask : 1;
    enum x86_seg seg = io->in ? X86_SEG_ES : si.seg;
    /* In 64-bit mode only FS and GS have a base. */
    u64 base = pg->cs_long && seg != X86_SEG_FS && seg != X86_SEG_GS ? 0 : hvm->seg_base(v, seg);
    u64 *index = io->in ? &r.rdi : &r.rsi;
    u64 step = (r.rflags & EFLAGS_DF) ? -(u64)io->size : io->size;
    u64 done = 0;

    for (; done < count && done < STRING_IO_SLICE; done++) {
        u64 va = base + (*index & amask);
        u32 val = 0;
        int rc;
        if (io->in) {
            hvm_port_io(v, io->port, io->size, true, &val);
            rc = hvm_copy_linear(v, pg, va, &val, io->size, true);
        } else {
            rc = hvm_copy_linear(v, pg, va, &val, io->size, false);
            if (!rc)
                hvm_port_io(v, io->port, io->size, false, &val);
        }
        if (rc == HVM_COPY_NOT_RAM) {
            domain_crash(v->domain, "%s of port 0x%x at 0x%lx, outside its RAM, rip=0x%lx",
                         io->in ? "INS" : "OUTS", io->port, (unsigned long)va,
                         (unsigned long)r.rip);
            return;
        }
        if (rc == HVM_COPY_UNMAPPED)
            break;
        *index = set_low(*index, *index + step, si.addr_bytes);
    }
    if (io->rep)
        r.rcx = set_low(r.rcx, count - done, si.addr_bytes);
    if (done == count)
        r.rip = io->next_rip;
    hvm->set_regs(v, &r);
    if (done < count && done < STRING_IO_SLICE) {
        /* Not present (guest_walk checks only P); INS writes memory. */
        u32 error = (io->in ? PF_WRITE : 0) | (r.cpl == 3 ? PF_USER : 0);
        hvm->inject_page_fault(v, base + (*index & amask), error);
    }
}
