/*
 * mmio.c - a domain's emulated device memory: the table of regions device
 * models claim, and what happens when the guest touches one (interface in
 * include/kiln/hvm_mmio.h).
 *
 * A claimed address is never mapped in the nested page table, so each
 * access exits as a nested page fault.  There are no decode assists on
 * this CPU model: the instruction is fetched through the guest's page
 * tables and performed by x86_emulate(), whose memory ops below translate
 * each linear address through those tables (rights checked, #PF for the
 * guest where they say so) and route every byte to guest RAM, to the
 * device claiming it, or, when it is neither, to the domain's end.  The
 * registers go back only when the instruction completed or raised an
 * exception; anything unsupported destroys the domain, logging the bytes.
 */
#include <kiln/console.h>
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/hvm_mmio.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/x86_emulate.h>

#define EFER_LMA      (1ul << 10)
#define CR4_LA57      (1ul << 12)
#define NPF_FETCH     (1ull << 4)   /* nested fault error code: an instruction fetch */
#define NPF_IN_WALK   (1ull << 33)  /* ... while reading the guest's page tables */

/* domain_build() allocates struct domain, table included, as one page. */
_Static_assert(sizeof(struct domain) <= PAGE_SIZE, "struct domain outgrew its page");

int hvm_mmio_register(struct domain *d, u64 base, u64 len, const struct hvm_mmio_ops *ops,
                      void *dev)
{
    struct hvm_mmio *m = &d->mmio;
    int rc = 0;

    if (!len || base + len < base || !ops || !ops->read || !ops->write || d->p2m.identity ||
        base < d->p2m.nr_pages * PAGE_SIZE)
        return -KILN_EINVAL;
    spin_lock(&m->lock);
    for (unsigned int i = 0; i < m->count; i++) {
        const struct hvm_mmio_region *r = &m->regions[i];
        if (base < r->base + r->len && r->base < base + len)
            rc = -KILN_EEXIST;
    }
    if (!rc && m->count >= HVM_MMIO_MAX_REGIONS)
        rc = -KILN_E2BIG;
    if (!rc) {
        m->regions[m->count] = (struct hvm_mmio_region){ base, len, ops, dev };
        /* Lock-free readers see the region complete or not at all. */
        __atomic_store_n(&m->count, m->count + 1, __ATOMIC_RELEASE);
    }
    spin_unlock(&m->lock);
    return rc;
}

void hvm_mmio_release(struct domain *d)
{
    struct hvm_mmio *m = &d->mmio;

    for (unsigned int i = 0; i < m->count; i++)
        if (m->regions[i].ops->release)
            m->regions[i].ops->release(m->regions[i].dev);
    m->count = 0;
}

static const struct hvm_mmio_region *find(struct domain *d, u64 gpa)
{
    unsigned int n = __atomic_load_n(&d->mmio.count, __ATOMIC_ACQUIRE);

    for (unsigned int i = 0; i < n && i < HVM_MMIO_MAX_REGIONS; i++) {
        const struct hvm_mmio_region *r = &d->mmio.regions[i];
        if (gpa - r->base < r->len)
            return r;
    }
    return NULL;
}

bool hvm_mmio_claimed(struct domain *d, u64 gpa)
{
    return find(d, gpa) != NULL;
}

/* ---- the emulator's memory ops -------------------------------------------- */

struct mmio_emul {
    struct x86_emul_ctx ctx;    /* first: the ops get &ctx */
    struct vcpu *v;
    struct hvm_paging pg;
    bool user;                  /* the guest runs at CPL 3 */
    bool bad;                   /* an access was refused: */
    u64 bad_gpa;                /* where, for the log */
    int dev_err;                /* the device's error, 0 if no device claims it */
    bool retry;                 /* a device answered HVM_MMIO_RETRY */
};

/* n (1..8) bytes at guest-physical gpa: RAM, one device's region, or
 * byte by byte when they straddle. */
static int access_gpa(struct mmio_emul *m, u64 gpa, u8 *buf, unsigned int n, bool write)
{
    struct domain *d = m->v->domain;
    const struct hvm_mmio_region *r = find(d, gpa);
    u64 val = 0;
    int rc;

    if (!r && !(write ? copy_to_guest(d, gpa, buf, n) : copy_from_guest(d, buf, gpa, n)))
        return X86EMUL_OK;
    if (r && gpa - r->base <= r->len - n && !(n & (n - 1))) {
        if (write) {
            kmemcpy(&val, buf, n);
            rc = r->ops->write(r->dev, m->v, gpa, n, val);
        } else {
            rc = r->ops->read(r->dev, m->v, gpa, n, &val);
            kmemcpy(buf, &val, n);
        }
        if (!rc)
            return X86EMUL_OK;
        if (rc == HVM_MMIO_RETRY) {
            m->retry = true;    /* abandon the instruction, nothing written back */
            return X86EMUL_UNHANDLEABLE;
        }
        m->bad = true;
        m->bad_gpa = gpa;
        m->dev_err = rc;
        return X86EMUL_UNHANDLEABLE;
    }
    if (n == 1) {
        m->bad = true;          /* neither RAM nor claimed */
        m->bad_gpa = gpa;
        return X86EMUL_UNHANDLEABLE;
    }
    for (unsigned int i = 0; i < n; i++)
        if ((rc = access_gpa(m, gpa + i, buf + i, 1, write)))
            return rc;
    return X86EMUL_OK;
}

/* len bytes at a linear address: both pages of a straddling access are
 * translated before either is touched, as the CPU faults before writing. */
static int access_linear(struct x86_emul_ctx *c, u64 la, u8 *buf, unsigned int len, bool write)
{
    struct mmio_emul *m = (struct mmio_emul *)c;
    unsigned int access = (write ? HVM_ACCESS_WRITE : 0) | (m->user ? HVM_ACCESS_USER : 0);
    u64 gpa[2];
    unsigned int part[2], parts = 0, done = 0;
    u32 pf_error;
    int rc;

    while (done < len && parts < 2) {
        u64 at = m->pg.cs_long ? la + done : (la + done) & 0xffffffffu;
        unsigned int n = 4096 - (unsigned int)(at & 4095);
        if (n > len - done)
            n = len - done;
        if (hvm_translate_linear(m->v, &m->pg, at, access, &gpa[parts], &pf_error)) {
            c->fault = (struct x86_emul_fault){ .vector = X86_EXC_PF, .has_error = true,
                                                .error = pf_error, .cr2 = at };
            return X86EMUL_EXCEPTION;
        }
        part[parts++] = n;
        done += n;
    }
    if (done < len)
        return X86EMUL_UNHANDLEABLE;    /* more than 8 bytes: never asked */
    for (unsigned int i = 0, off = 0; i < parts; off += part[i], i++)
        if ((rc = access_gpa(m, gpa[i], buf + off, part[i], write)))
            return rc;
    return X86EMUL_OK;
}

static int op_read(struct x86_emul_ctx *c, u64 la, void *buf, unsigned int len)
{
    return access_linear(c, la, buf, len, false);
}

static int op_write(struct x86_emul_ctx *c, u64 la, const void *buf, unsigned int len)
{
    u8 copy[8];

    if (len > sizeof(copy))
        return X86EMUL_UNHANDLEABLE;
    kmemcpy(copy, buf, len);
    return access_linear(c, la, copy, len, true);
}

static const struct x86_emul_ops mmio_ops = { op_read, op_write };

/* ---- the fault ------------------------------------------------------------- */

/* "8b 03 ..." for the log line. */
static void hex_bytes(char *out, size_t size, const u8 *b, size_t n)
{
    size_t pos = 0;

    out[0] = '\0';
    for (size_t i = 0; i < n && pos + 4 <= size; i++)
        pos += (size_t)ksnprintf(out + pos, size - pos, i ? " %02x" : "%02x", b[i]);
}

int hvm_mmio_fault(struct vcpu *v, u64 gpa, u64 error_code)
{
    struct domain *d = v->domain;
    struct hvm_regs regs;
    struct mmio_emul m = { .v = v };
    u8 bytes[INSN_MAX_LEN];
    char hex[3 * INSN_MAX_LEN + 1];
    size_t n;
    int rc;

    hvm->get_regs(v, &regs);
    if (error_code & (NPF_FETCH | NPF_IN_WALK)) {
        domain_crash(d, "%s at GPA 0x%lx, emulated device memory, rip=0x%lx",
                     (error_code & NPF_FETCH) ? "instruction fetch" : "page table read",
                     (unsigned long)gpa, (unsigned long)regs.rip);
        return -1;
    }
    hvm->paging(v, &m.pg);
    n = hvm_fetch_insn(v, &m.pg, regs.rip, bytes, sizeof(bytes));
    m.user = regs.cpl == 3;
    m.ctx.ops = &mmio_ops;
    m.ctx.regs = &regs;
    m.ctx.mode = insn_mode_from_cs((m.pg.efer & EFER_LMA) != 0, m.pg.cs_long, m.pg.cs_32);
    m.ctx.la57 = m.pg.cs_long && (m.pg.cr4 & CR4_LA57);
    m.ctx.cr0 = m.pg.cr0;
    for (unsigned int s = X86_SEG_ES; s <= X86_SEG_GS; s++)
        m.ctx.seg_base[s] = hvm->seg_base(v, (enum x86_seg)s);

    rc = x86_emulate(&m.ctx, bytes, n);
    if (m.retry)
        return 0;       /* the vCPU waits; it executes the instruction again */
    v->mmio_insns++;
    if (rc == X86EMUL_UNHANDLEABLE) {
        hex_bytes(hex, sizeof(hex), bytes, m.ctx.insn.len ? m.ctx.insn.len : n);
        if (m.bad && m.dev_err)
            domain_crash(d, "device at GPA 0x%lx refused the access (error %d) of [%s] at rip=0x%lx",
                         (unsigned long)m.bad_gpa, m.dev_err, hex, (unsigned long)regs.rip);
        else if (m.bad)
            domain_crash(d, "access to GPA 0x%lx outside its RAM by [%s] at rip=0x%lx",
                         (unsigned long)m.bad_gpa, hex, (unsigned long)regs.rip);
        else
            domain_crash(d, "cannot emulate [%s] at rip=0x%lx touching GPA 0x%lx",
                         hex, (unsigned long)regs.rip, (unsigned long)gpa);
        return -1;
    }
    hvm->set_regs(v, &regs);
    if (rc == X86EMUL_EXCEPTION) {
        if (m.ctx.fault.vector == X86_EXC_PF)
            hvm->inject_page_fault(v, m.ctx.fault.cr2, m.ctx.fault.error);
        else
            hvm_event_exception(v, m.ctx.fault.vector, m.ctx.fault.has_error,
                                m.ctx.fault.error);
    }
    return 0;
}
