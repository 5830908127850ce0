/*
 * hvm.h - the hardware-virtualisation backend interface.
 *
 * Common code (domains, the per-CPU scheduling loop, hypercalls) talks to
 * the CPU's virtualisation extension only through struct hvm_ops, behind
 * which the SVM (arch/x86/hvm/svm/) and VT-x (arch/x86/hvm/vmx/) backends
 * sit; hvm_init() picks the one the CPU offers.  A backend's
 * run() stays in guest mode, handling every exit it can with the common
 * helpers declared below (CPUID policy, port I/O, nested page faults,
 * hypercalls), and returns only when the scheduling loop has work to do.
 *
 * Guest-visible behaviour every backend implements:
 *  - vCPUs start in 32-bit flat protected mode with paging off (cr3 == 0),
 *    in 64-bit long mode on caller-provided page tables (cr3 != 0), or in
 *    real mode (a SIPI);
 *  - events (exceptions, NMIs, the interrupt controller's interrupts) are
 *    delivered as hvm_event.h decides, before each entry;
 *  - HLT is hvm_vcpu_halt(): for a domain with an interrupt controller it
 *    blocks until an event ends it; without one (Kiln's test guests) it
 *    lasts until woken or HVM_HLT_MAX_NS passed, their "timer tick";
 *  - an exception the guest cannot deliver ends in a triple fault, which
 *    destroys the domain (never the hypervisor).
 */
#ifndef KILN_HVM_H
#define KILN_HVM_H

#include <kiln/types.h>

struct vcpu;
struct domain;
struct kiln_vcpu_state;

#define HVM_HLT_MAX_NS 10000000ull   /* 10 ms */

/* The guest's general-purpose registers and the few control values the
 * common code needs (hypercall arguments, CPL checks, logging). */
struct hvm_regs {
    u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    u64 r8, r9, r10, r11, r12, r13, r14, r15;
    u64 rip, rflags;
    unsigned int cpl;
    bool long_mode;     /* 64-bit code segment (LMA and CS.L) */
};

/* Initial state of a vCPU (see struct kiln_domctl_vcpu); rax and rbx
 * carry the Multiboot magic and info address, rbx PVH's start info.  With
 * real_mode, the state a SIPI gives: real mode at CS = cs_sel (base
 * cs_sel << 4), IP 0, the other registers as after INIT. */
struct hvm_boot_state {
    u64 rip, rsp, rdi, rsi, cr3;
    u64 rax, rbx;
    bool real_mode;
    u16 cs_sel;
};

enum x86_seg { X86_SEG_ES, X86_SEG_CS, X86_SEG_SS, X86_SEG_DS, X86_SEG_FS, X86_SEG_GS };

struct hvm_paging;

struct hvm_ops {
    const char *name;
    /* Enables the extension on the calling CPU (once per CPU). */
    int (*cpu_up)(void);
    int (*vcpu_init)(struct vcpu *v);
    void (*vcpu_destroy)(struct vcpu *v);
    void (*vcpu_set_boot_state)(struct vcpu *v, const struct hvm_boot_state *s);
    /* Runs v until hvm_vcpu_must_leave(v) (called with interrupts off). */
    void (*run)(struct vcpu *v);
    void (*get_regs)(struct vcpu *v, struct hvm_regs *r);
    /* Writes back the GPRs, rip and rflags. */
    void (*set_regs)(struct vcpu *v, const struct hvm_regs *r);
    /* A segment register's base (what OUTS reads through). */
    u64 (*seg_base)(struct vcpu *v, enum x86_seg seg);
    /* Queues a #PF for the next entry, with CR2 = linear (other exceptions:
     * hvm_event_exception). */
    void (*inject_page_fault)(struct vcpu *v, u64 linear, u32 error);
    /* Drops v's cached translations (guest and nested) before its next
     * entry: after a nested page table entry was changed or removed. */
    void (*flush_tlb)(struct vcpu *v);
    /* What the guest's TSC adds to the host's (guest TSC = host + this). */
    u64 (*tsc_offset)(struct vcpu *v);
    /* True when the backend switches XCR0 and the XSAVE state per vCPU
     * (known once the boot CPU is up): domUs may then be offered XSAVE. */
    bool (*xsave_switched)(void);
    /* The paging state and code segment, for walking the guest's tables. */
    void (*paging)(struct vcpu *v, struct hvm_paging *pg);
    /* Migration (v paused, on no CPU): the whole architectural state in
     * the public ABI's backend-neutral form.  set_state checks every field
     * first and returns -KILN_EINVAL, changing nothing, on any bad one. */
    void (*get_state)(struct vcpu *v, struct kiln_vcpu_state *s);
    int (*set_state)(struct vcpu *v, const struct kiln_vcpu_state *s);
    /* Drops v's TLB entries (nested translations included) at its next
     * entry; v is not in guest mode. */
    void (*tlb_flush)(struct vcpu *v);
};

/* The backend in use, NULL until hvm_init() succeeded. */
extern const struct hvm_ops *hvm;

/* Picks and enables a backend on the boot CPU (0 or -KILN_ENOSYS). */
int hvm_init(void);
/* Backend probes: return their ops if this CPU supports them. */
const struct hvm_ops *svm_probe(void);
const struct hvm_ops *vmx_probe(void);

/* ---- common helpers for backends ---------------------------------------- */

/* CPUID as seen by v's domain; osxsave mirrors the guest's CR4.OSXSAVE. */
void hvm_cpuid(struct vcpu *v, bool osxsave, u32 leaf, u32 subleaf, u32 out[4]);
/* Reads the host's CPUID leaves (once, boot CPU); 0 or a KILN_E* code. */
int hvm_cpuid_host_init(void);
/* A domain's policy, derived from the host's: allocates d->cpuid. */
int hvm_cpuid_domain_init(struct domain *d);
void hvm_cpuid_domain_free(struct domain *d);

/* Emulated port I/O: the domain's own port handlers (a PC domain's
 * devices), then Kiln's test ports (testport.h); size 1, 2 or 4.  Unknown
 * ports read as all ones and ignore writes, as on real hardware. */
void hvm_port_io(struct vcpu *v, u16 port, unsigned int size, bool in, u32 *val);

/* A domain's port handlers (ioport.c): ports [first, first + count) go to
 * read/write with ctx; the value is already masked to size bytes. */
typedef u32 (*hvm_port_read_t)(void *ctx, u16 port, unsigned int size);
typedef void (*hvm_port_write_t)(void *ctx, u16 port, unsigned int size, u32 val);
#define HVM_MAX_PORT_HANDLERS 16
struct hvm_port_handler {
    u16 first, count;
    hvm_port_read_t read;
    hvm_port_write_t write;
    void *ctx;
};
struct hvm_ioports {
    unsigned int nr;
    struct hvm_port_handler h[HVM_MAX_PORT_HANDLERS];
};
/* Registers a range while the domain is built: 0, -KILN_EEXIST (overlaps
 * one registered) or -KILN_E2BIG (table full). */
int hvm_port_register(struct domain *d, u16 first, u16 count, hvm_port_read_t read,
                      hvm_port_write_t write, void *ctx);
/* The handler for port, or NULL. */
const struct hvm_port_handler *hvm_port_find(const struct domain *d, u16 port);
/* dom0's port accesses that exit (its IOPM intercepts only COM1's shared
 * registers, SERIAL_SHARED_REGS): forwarded to the hardware. */
void dom0_port_io(u16 port, unsigned int size, bool in, u32 *val);

/* A nested page fault at gpa: maps the page when it is inside the domain's
 * RAM, emulates the instruction when a device claims gpa (hvm_mmio.h), and
 * returns 0; otherwise the domain is destroyed and -1 returned. */
int hvm_nested_fault(struct vcpu *v, u64 gpa, u64 error_code);

/* Reads up to len bytes of the instruction stream at CS:rip through the
 * guest's own segmentation and paging (mode from the backend).
 * Returns the number of bytes read (0 if rip is not mapped). */
struct hvm_paging {
    u64 cr0, cr3, cr4, efer;
    u64 cs_base;            /* added to rip outside 64-bit mode */
    bool cs_long, cs_32;
};
size_t hvm_fetch_insn(struct vcpu *v, const struct hvm_paging *pg, u64 rip, u8 *buf,
                      size_t len);
/* Copies len bytes between buf and the guest's linear address va through
 * its paging (segmentation is the caller's); 0, HVM_COPY_UNMAPPED when the
 * guest's page tables do not map a byte (a #PF for the guest), or
 * HVM_COPY_NOT_RAM when they map it outside the domain's RAM. */
#define HVM_COPY_UNMAPPED 1
#define HVM_COPY_NOT_RAM  2
int hvm_copy_linear(struct vcpu *v, const struct hvm_paging *pg, u64 va, void *buf, size_t len,
                    bool to_guest);
/* Translates the linear address va for an access by the guest (rights
 * checked like the CPU: U at CPL 3, W for writes, CR0.WP): 0 and *gpa, or
 * HVM_COPY_UNMAPPED and the #PF error code the guest must get. */
#define HVM_ACCESS_WRITE 1
#define HVM_ACCESS_USER  2
int hvm_translate_linear(struct vcpu *v, const struct hvm_paging *pg, u64 va,
                         unsigned int access, u64 *gpa, u32 *pf_error);

/* An INS or OUTS exit, as the backend decoded it. */
struct hvm_string_io {
    u16 port;
    u8 size;                /* element: 1, 2 or 4 bytes */
    bool in, rep;
    u64 next_rip;           /* the instruction after it */
};
/* Performs it (a slice of it, for a long REP: RIP then stays on it with
 * RCX/RSI/RDI updated so the guest goes on) through hvm_port_io, element
 * by element, and writes the registers back.  An element the guest's page
 * tables do not map raises #PF in the guest; one they map outside its RAM
 * destroys the domain.  string_io.c. */
void hvm_string_io(struct vcpu *v, const struct hvm_paging *pg, const struct hvm_string_io *io);

/* Length of the instruction at the guest's rip, or 0 when it cannot be
 * decoded (the caller then destroys the domain). */
unsigned int hvm_insn_length(struct vcpu *v, const struct hvm_paging *pg, u64 rip);

/* True when the scheduling loop must take over (reschedule, timer, the
 * vCPU blocked or yielded, its domain paused or dying). */
bool hvm_vcpu_must_leave(struct vcpu *v);

#endif
