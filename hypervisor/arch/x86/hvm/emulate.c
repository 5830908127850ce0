/*
 * emulate.c - reading the guest's instruction stream and its memory by
 * linear address (string port I/O).
 *
 * This CPU model has neither NRIP-save nor decode assists, so to step over
 * an intercepted instruction the hypervisor reads it through the guest's
 * own page tables (whatever paging mode the guest is in) and decodes its
 * length.  Guest page-table entries are read with copy_from_guest, so a
 * hostile guest's tables can only point into its own RAM.  The walk
 * checks presence and the W/U rights; it sets no accessed or dirty bits.
 */
#include <kiln/domain.h>
#include <kiln/hvm.h>
#include <kiln/insn.h>
#include <kiln/x86.h>

#define EFER_LMA  (1ul << 10)
#define CR4_PSE   (1ul << 4)
#define CR4_LA57  (1ul << 12)
#define PF_ERR_P  (1u << 0)     /* #PF error code: a protection violation */
#define PF_ERR_W  (1u << 1)     /* ... on a write */
#define PF_ERR_U  (1u << 2)     /* ... at CPL 3 */

#define PTE_PERM  (PTE_W | PTE_U)

/* Linear to guest-physical; 0 on success, -1 if not mapped.  *perm gets
 * the W and U bits that hold at every level (what the access rights of
 * the translation are). */
static int guest_walk(struct domain *d, const struct hvm_paging *pg, u64 va, u64 *gpa,
                      u64 *perm)
{
    *perm = PTE_PERM;
    if (!(pg->cr0 & CR0_PG)) {
        *gpa = pg->cs_long ? va : va & 0xffffffffu;
        return 0;
    }
    if (!(pg->efer & EFER_LMA) && !(pg->cr4 & CR4_PAE)) {
        /* Legacy 2-level paging, 4-byte entries, optional 4 MiB pages. */
        u32 pde, pte;
        va &= 0xffffffffu;
        if (copy_from_guest(d, &pde, (pg->cr3 & 0xfffff000u) + ((va >> 22) * 4), 4) ||
            !(pde & PTE_P))
            return -1;
        *perm &= pde;
        if ((pde & PTE_PS) && (pg->cr4 & CR4_PSE)) {
            *gpa = (pde & 0xffc00000u) | (va & 0x3fffffu);
            return 0;
        }
        if (copy_from_guest(d, &pte, (pde & 0xfffff000u) + (((va >> 12) & 1023) * 4), 4) ||
            !(pte & PTE_P))
            return -1;
        *perm &= pte;
        *gpa = (pte & 0xfffff000u) | (va & 0xfffu);
        return 0;
    }

    u64 table, e;
    int level;
    if (pg->efer & EFER_LMA) {
        table = pg->cr3 & PTE_ADDR_MASK;
        level = (pg->cr4 & CR4_LA57) ? 5 : 4;   /* Linux uses 5 levels when offered */
    } else {
        /* PAE: the PDPTE selected by bits 31:30 (it has no W/U bits). */
        va &= 0xffffffffu;
        if (copy_from_guest(d, &e, (pg->cr3 & 0xffffffe0u) + ((va >> 30) * 8), 8) ||
            !(e & PTE_P))
            return -1;
        table = e & PTE_ADDR_MASK;
        level = 2;
    }
    for (; level >= 1; level--) {
        unsigned int shift = 12 + 9 * (level - 1);
        if (copy_from_guest(d, &e, table + ((va >> shift) & 511) * 8, 8) || !(e & PTE_P))
            return -1;
        *perm &= e;
        if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
            u64 size = 1ull << shift;
            *gpa = (e & PTE_ADDR_MASK & ~(size - 1)) | (va & (size - 1));
            return 0;
        }
        table = e & PTE_ADDR_MASK;
    }
    return -1;
}

int hvm_translate_linear(struct vcpu *v, const struct hvm_paging *pg, u64 va,
                         unsigned int access, u64 *gpa, u32 *pf_error)
{
    bool write = access & HVM_ACCESS_WRITE, user = access & HVM_ACCESS_USER;
    u32 error = (write ? PF_ERR_W : 0) | (user ? PF_ERR_U : 0);
    u64 perm;

    if (guest_walk(v->domain, pg, va, gpa, &perm)) {
        *pf_error = error;
        return HVM_COPY_UNMAPPED;
    }
    /* CPL 3 needs U everywhere; writes need W everywhere, except a
     * supervisor write with CR0.WP clear. */
    if ((user && !(perm & PTE_U)) ||
        (write && !(perm & PTE_W) && (user || (pg->cr0 & CR0_WP)))) {
        *pf_error = error | PF_ERR_P;
        return HVM_COPY_UNMAPPED;
    }
    return 0;
}

/* Copies up to len bytes between buf and linear address va, page by page
 * (outside 64-bit mode linear addresses wrap at 4 GiB); returns how many
 * were copied, and why it stopped short in *why (HVM_COPY_*). */
static size_t copy_linear(struct vcpu *v, const struct hvm_paging *pg, u64 va, void *buf,
                          size_t len, bool to_guest, int *why)
{
    size_t done = 0;
    *why = 0;
    while (done < len) {
        u64 gpa, perm, at = pg->cs_long ? va + done : (va + done) & 0xffffffffu;
        size_t n = 4096 - (at & 4095);
        if (n > len - done)
            n = len - done;
        if (guest_walk(v->domain, pg, at, &gpa, &perm)) {
            *why = HVM_COPY_UNMAPPED;
            break;
        }
        u8 *b = (u8 *)buf + done;
        if (to_guest ? copy_to_guest(v->domain, gpa, b, n) : copy_from_guest(v->domain, b, gpa, n)) {
            *why = HVM_COPY_NOT_RAM;
            break;
        }
        done += n;
    }
    return done;
}

size_t hvm_fetch_insn(struct vcpu *v, const struct hvm_paging *pg, u64 rip, u8 *buf,
                      size_t len)
{
    int why;
    /* Outside 64-bit mode, code lives at CS.base + EIP. */
    return copy_linear(v, pg, pg->cs_long ? rip : pg->cs_base + rip, buf, len, false, &why);
}

int hvm_copy_linear(struct vcpu *v, const struct hvm_paging *pg, u64 va, void *buf, size_t len,
                    bool to_guest)
{
    int why;
    copy_linear(v, pg, va, buf, len, to_guest, &why);
    return why;
}

unsigned int hvm_insn_length(struct vcpu *v, const struct hvm_paging *pg, u64 rip)
{
    u8 b[INSN_MAX_LEN];
    size_t n = hvm_fetch_insn(v, pg, rip, b, sizeof(b));
    if (!n)
        return 0;
    bool lma = (pg->efer & EFER_LMA) != 0;
    int len = insn_length(b, n, insn_mode_from_cs(lma, pg->cs_long, pg->cs_32));
    return len > 0 ? (unsigned int)len : 0;
}
