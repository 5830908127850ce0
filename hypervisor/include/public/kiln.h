/*
 * kiln.h - the public ABI between the Kiln hypervisor and its guests.
 *
 * This header is shared, unchanged, by three worlds: the freestanding
 * hypervisor, guest kernels (test guests and dom0's Linux module), and
 * dom0 user space (libkiln).  It therefore includes nothing and defines its
 * own fixed-width types from compiler built-ins.
 *
 * Versioning: KILN_ABI_MAJOR changes only when an existing call or structure
 * changes meaning or layout; additions bump KILN_ABI_MINOR.  A guest checks
 * the major version from CPUID leaf KILN_CPUID_VERSION before its first
 * hypercall.  Every structure has explicit padding so its layout is the same
 * for every compiler and for 32/64-bit readers.
 *
 * Calling convention (VMMCALL, guest CPL 0 only; other CPLs get -KILN_EPERM):
 *   RAX = hypercall number, RDI, RSI, RDX, R10, R8 = arguments 1..5.
 *   Return value in RAX: >= 0 on success, a negated KILN_E* code on error.
 *   All other registers are preserved.
 * Pointers passed to the hypervisor are guest-physical addresses; a buffer
 * may not cross a page boundary unless the call says so.  The hypervisor
 * validates every argument and never trusts guest memory twice (it copies
 * in, checks, then acts).
 */
#ifndef KILN_PUBLIC_KILN_H
#define KILN_PUBLIC_KILN_H

typedef __UINT8_TYPE__  kiln_u8;
typedef __UINT16_TYPE__ kiln_u16;
typedef __UINT32_TYPE__ kiln_u32;
typedef __UINT64_TYPE__ kiln_u64;
typedef __INT64_TYPE__  kiln_i64;

#define KILN_ABI_MAJOR 1
#define KILN_ABI_MINOR 4

/* ---- CPUID leaves seen by every guest ---------------------------------- */

/* EAX = highest Kiln leaf; EBX,ECX,EDX = "KilnHVKilnHV" (little-endian). */
#define KILN_CPUID_SIGNATURE   0x40000000u
#define KILN_CPUID_SIG_EBX     0x6e6c694bu /* "Kiln" */
#define KILN_CPUID_SIG_ECX     0x694b5648u /* "HVKi" */
#define KILN_CPUID_SIG_EDX     0x56486e6cu /* "lnHV" */
/* EAX = (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR; EBX = domain id;
 * ECX = KILN_CPUID_F_* flags of this domain. */
#define KILN_CPUID_VERSION     0x40000001u
#define KILN_CPUID_F_PRIVILEGED (1u << 0) /* domain may use control calls */

/* ---- error codes (returned negated) ------------------------------------ */

#define KILN_EPERM   1  /* caller not allowed (not CPL0, not privileged) */
#define KILN_ENOENT  2  /* no such object */
#define KILN_ESRCH   3  /* no such domain */
#define KILN_E2BIG   7  /* argument too large */
#define KILN_ENOMEM 12  /* out of memory */
#define KILN_EFAULT 14  /* guest address not mapped or not owned by caller */
#define KILN_EBUSY  16  /* object in a state that forbids the call */
#define KILN_EEXIST 17  /* already exists */
#define KILN_EINVAL 22  /* malformed argument */
#define KILN_ENOSYS 38  /* unknown hypercall or sub-operation */
#define KILN_ENOSPC 28  /* a limit is reached (event channels) */

/* ---- hypercall numbers: every domain ----------------------------------- */

/* version(): returns (KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR. */
#define KILN_HC_VERSION        0
/* console_write(gpa buf, u64 len): len <= KILN_CONSOLE_MAX, one page at most.
 * Output goes to the hypervisor's log prefixed with the domain id. */
#define KILN_HC_CONSOLE_WRITE  1
#define KILN_CONSOLE_MAX       1024
/* sched_yield(): give up the rest of the timeslice. */
#define KILN_HC_SCHED_YIELD    2
/* sched_block(u64 deadline_ns): sleep until an event or the domain's clock
 * (time() below) reaches deadline_ns (0 = no deadline). */
#define KILN_HC_SCHED_BLOCK    3
/* shutdown(u32 reason): ends the calling domain; does not return. */
#define KILN_HC_SHUTDOWN       4
#define KILN_SHUTDOWN_POWEROFF 0 /* clean exit: domain is destroyed */
#define KILN_SHUTDOWN_REBOOT   1
#define KILN_SHUTDOWN_CRASH    2 /* the guest reports its own failure */
/* time(): nanoseconds of the domain's clock, monotonic, same on all CPUs:
 * since the hypervisor booted, unless the domain was restored or migrated,
 * when it goes on from its value there (KILN_DOMCTL_CLOCK). */
#define KILN_HC_TIME           5
/* vcpu_runtime(): nanoseconds the calling vCPU has run in guest mode. */
#define KILN_HC_VCPU_RUNTIME   6
/* ABI 1.3: evtchn_op(u32 cmd, gpa struct kiln_evtchn_op): event channels,
 * see event_channel.h (which has its own version number). */
#define KILN_HC_EVTCHN_OP      7

/* ---- hypercall numbers: privileged domains (dom0) only ------------------ */

/* domctl(gpa struct kiln_domctl): one operation on one domain; the structure
 * is read in, and written back with results.  Must not cross a page. */
#define KILN_HC_DOMCTL        16
/* sysctl(gpa struct kiln_sysctl): hypervisor-wide queries and settings. */
#define KILN_HC_SYSCTL        17
/* ABI 1.3: ioreq_op(u32 cmd, gpa struct kiln_ioreq_op): serving another
 * domain's MMIO and port accesses from dom0, see ioreq.h. */
#define KILN_HC_IOREQ_OP      18

/* ---- domctl ------------------------------------------------------------- */

#define KILN_DOMID_SELF   0x7ff0u
#define KILN_DOMID_INVALID 0x7fffu
#define KILN_NAME_MAX     32
#define KILN_MAX_VCPUS    64

enum kiln_domctl_cmd {
    KILN_DOMCTL_CREATE       = 1, /* in: create; out: domid */
    KILN_DOMCTL_DESTROY      = 2, /* returns once freed (another domain) */
    KILN_DOMCTL_PAUSE        = 3,
    KILN_DOMCTL_UNPAUSE      = 4, /* also starts a newly built domain */
    KILN_DOMCTL_GETINFO      = 5, /* out: info; domid = first id >= domid */
    KILN_DOMCTL_WRITE_MEM    = 6, /* copy a page-sized buffer into the domain */
    KILN_DOMCTL_SET_VCPU     = 7, /* initial register state of one vCPU */
    KILN_DOMCTL_SCHED_GET    = 8, /* out: sched */
    KILN_DOMCTL_SCHED_SET    = 9, /* in: sched */
    KILN_DOMCTL_VCPU_PIN     = 10,/* in: pin */
    KILN_DOMCTL_SET_CPUID    = 11,/* in: cpuid override, one leaf per call */
    KILN_DOMCTL_CONSOLE_READ = 12,/* read the domain's console ring */
    /* ABI 1.1: dom0 maps page gfn of domain domid at local_gpa, a page of
     * its foreign window (physinfo.foreign_base/foreign_pages).  Errors:
     * EPERM caller not dom0 or domid is dom0, ESRCH no such domain, EBUSY
     * domain dying, EFAULT gfn not in its RAM, EINVAL local_gpa unaligned
     * or outside the window, EEXIST that window page is mapped already,
     * E2BIG KILN_FOREIGN_MAX_PER_DOMAIN pages of that domain mapped,
     * ENOSYS no window (no dom0).  Destroying the domain unmaps its pages
     * first: the window page then shows a zeroed hypervisor page until
     * dom0 unmaps it. */
    KILN_DOMCTL_MAP_FOREIGN  = 13,/* in: foreign */
    /* ABI 1.1: domid = KILN_DOMID_SELF, foreign.local_gpa = the window page
     * to free (gfn ignored).  ENOENT when nothing is mapped there. */
    KILN_DOMCTL_UNMAP_FOREIGN = 14,/* in: foreign */
    /* ABI 1.2, for save/restore and migration.  The target must be a domU
     * that is paused with no vCPU left in guest mode (GETINFO says PAUSED,
     * or it is still BUILDING): EBUSY otherwise. */
    /* vcpu_state.buf_gpa (one page in the caller) gets struct
     * kiln_vcpu_state of vCPU vcpu_state.vcpu.  EINVAL bad vCPU or size. */
    KILN_DOMCTL_GET_VCPU_STATE = 15,/* in: vcpu_state */
    /* Loads a whole vCPU state from buf_gpa after checking every field
     * (EINVAL, nothing changed, on any bad value); the vCPU may then run. */
    KILN_DOMCTL_SET_VCPU_STATE = 16,/* in: vcpu_state */
    /* Log-dirty mode of the domain's nested page tables: see log_dirty. */
    KILN_DOMCTL_LOG_DIRTY      = 17,/* in/out: log_dirty */
    /* ABI 1.2: copies read_mem.nr pages of the target (a domU, not dying;
     * it may be running) from read_mem.gfn on into the caller at buf_gpa,
     * page-aligned, nr * 4096 bytes: the one buffer allowed to span pages.
     * How save and migration read memory in bulk (a foreign mapping costs
     * two hypercalls and two TLB flushes per page).  EINVAL nr 0 or above
     * KILN_READ_MEM_MAX or buf unaligned, EFAULT pages outside the target's
     * RAM or the buffer not the caller's, EPERM target dom0. */
    KILN_DOMCTL_READ_MEM       = 18,/* in: read_mem */
    /* ABI 1.2: the domain's clock, what its KILN_HC_TIME returns (and
     * SCHED_BLOCK deadlines are read on): the host's clock plus an offset,
     * 0 until set, so a restored guest's clock goes on from where it was
     * on its old host.  clock.op GET (any domU) or SET (stopped, see
     * above); clock.time_ns in/out. */
    KILN_DOMCTL_CLOCK          = 19,/* in/out: clock */
    /* ABI 1.4: loads a PC domain (created with KILN_DOMCTL_CREATE_F_PC,
     * never unpaused, vCPU 0 without a boot state) exactly as the
     * hypervisor loads a boot module of that kind: the kernel, ACPI
     * tables, e820 and the protocol's hand-over structures, vCPU 0's entry
     * state (the others wait for INIT-SIPI).  The toolstack first copies
     * the kernel image into the domain's own RAM (WRITE_MEM or a foreign
     * mapping) at image_gpa; the hypervisor copies it out, zeroes those
     * pages again and loads from its copy, so the staging place is free
     * (the top of RAM is a good one).  Errors: EINVAL not a PC domain,
     * bad kind, lengths or alignment, or the image refused by the loader
     * (logged with the reason); EBUSY unpaused once or loaded already;
     * EFAULT image or command line outside RAM; E2BIG image larger than
     * KILN_PC_IMAGE_MAX; ENOMEM no room for the copy. */
    KILN_DOMCTL_PC_BOOT        = 20,/* in: pc_boot */
};

#define KILN_FOREIGN_MAX_PER_DOMAIN 512

/* Domain states reported by GETINFO. */
#define KILN_DOMSTATE_BUILDING 0 /* created, never unpaused */
#define KILN_DOMSTATE_RUNNING  1
#define KILN_DOMSTATE_PAUSED   2
#define KILN_DOMSTATE_DYING    3 /* shut down or killed, pages being freed */

struct kiln_domctl_create {
    kiln_u64 memory_kib;      /* guest RAM, multiple of 4 KiB, from GPA 0 */
    kiln_u32 vcpus;           /* 1..KILN_MAX_VCPUS (PC domains: 1..8) */
    kiln_u32 flags;           /* KILN_CPUID_F_* granted to the new domain,
                                 and KILN_DOMCTL_CREATE_F_* */
    char     name[KILN_NAME_MAX]; /* NUL-terminated */
};

/* ABI 1.4, in create.flags (never granted to the guest, not in info.flags):
 * F_PC makes a PC domain, with the emulated platform a boot module with a
 * Multiboot/PVH/Linux kernel gets (loaded with KILN_DOMCTL_PC_BOOT);
 * F_TESTDEV (with F_PC only) adds the pc-testdev and fw_cfg test devices
 * of kvm-unit-tests, as the boot-module option testdev does. */
#define KILN_DOMCTL_CREATE_F_PC      (1u << 16)
#define KILN_DOMCTL_CREATE_F_TESTDEV (1u << 17)

struct kiln_domctl_info {
    kiln_u64 memory_kib;
    kiln_u64 cpu_time_ns;     /* sum over vCPUs of time run in guest mode */
    kiln_u32 vcpus;
    kiln_u32 state;           /* KILN_DOMSTATE_* */
    kiln_u32 shutdown_reason; /* KILN_SHUTDOWN_* when state is DYING */
    kiln_u32 flags;
    char     name[KILN_NAME_MAX];
    /* ABI 1.4: the value a PC domain wrote to isa-debug-exit (port 0xf4),
     * when that ended it (shutdown_reason POWEROFF for 0, CRASH else). */
    kiln_u32 exit_code;
    kiln_u32 _pad;
};

struct kiln_domctl_write_mem {
    kiln_u64 dest_gpa;        /* in the target domain, page aligned */
    kiln_u64 src_gpa;         /* in the caller, one page */
    kiln_u64 len;             /* <= 4096 */
};

/* Initial state of a vCPU: 64-bit long mode with the given page tables, or
 * 32-bit protected flat mode when cr3 == 0 (multiboot-style entry). */
struct kiln_domctl_vcpu {
    kiln_u32 vcpu;
    kiln_u32 _pad;
    kiln_u64 rip, rsp, rdi, rsi, cr3;
};

#define KILN_PC_BOOT_MULTIBOOT 1   /* a Multiboot1 kernel, as `qemu -kernel` */
#define KILN_PC_IMAGE_MAX      (8u << 20)
#define KILN_PC_CMDLINE_MAX    2047

struct kiln_domctl_pc_boot {
    kiln_u64 image_gpa;       /* in the target domain, page aligned */
    kiln_u64 image_len;       /* 1..KILN_PC_IMAGE_MAX bytes */
    kiln_u64 cmdline_gpa;     /* in the caller, not crossing a page */
    kiln_u64 cmdline_len;     /* 0..KILN_PC_CMDLINE_MAX bytes, no NUL
                                 needed (the kernel sees it up to one) */
    kiln_u32 kind;            /* KILN_PC_BOOT_* */
    kiln_u32 _pad;
};

struct kiln_domctl_sched {
    kiln_u32 weight;          /* 1..65535, default 256 */
    kiln_u32 cap;             /* percent of one CPU, 0 = no cap */
};

struct kiln_domctl_pin {
    kiln_u32 vcpu;
    kiln_u32 _pad;
    kiln_u64 cpumask;         /* bit n = may run on physical CPU n; 0 = any */
};

struct kiln_domctl_cpuid {
    kiln_u32 leaf, subleaf;
    kiln_u32 eax, ebx, ecx, edx; /* ANDed with the host-derived policy */
};

struct kiln_domctl_console {
    kiln_u64 buf_gpa;         /* in the caller, one page */
    kiln_u64 len;             /* in: buffer size; out: bytes copied */
    kiln_u64 offset;          /* in/out: ring position to continue from */
};

struct kiln_domctl_foreign {
    kiln_u64 gfn;             /* page frame number in the target domain */
    kiln_u64 local_gpa;       /* page-aligned, inside the caller's window */
};

struct kiln_domctl_vcpu_state {
    kiln_u32 vcpu;
    kiln_u32 size;            /* sizeof(struct kiln_vcpu_state) */
    kiln_u64 buf_gpa;         /* in the caller, within one page */
};

/*
 * LOG_DIRTY (ABI 1.2), target paused (see above):
 *  ENABLE: write-protects every mapped page (2 MiB mappings are split),
 *     clears the bitmap; from then on the first write to a page marks it
 *     dirty (so do the hypervisor's own writes into the domain).  EEXIST
 *     if on already, ENOMEM.
 *  READ_CLEAN: copies bits [start_gfn, start_gfn + nr) of the dirty bitmap
 *     into buf_gpa (one page in the caller: nr <= KILN_LOG_DIRTY_BATCH;
 *     bit i of byte i/8 is start_gfn + i), clears them and write-protects
 *     those pages again.  nr is cut to the domain's size; out: nr covered,
 *     dirty = pages set among them.  ENOENT if log-dirty is off, EINVAL if
 *     start_gfn is beyond the domain.
 *  DISABLE: stops logging and frees the bitmap.  ENOENT if it was off.
 */
#define KILN_READ_MEM_MAX 16          /* pages per READ_MEM */

struct kiln_domctl_read_mem {
    kiln_u64 gfn;
    kiln_u64 buf_gpa;         /* in the caller, page-aligned, nr pages */
    kiln_u32 nr;
    kiln_u32 _pad;
};

#define KILN_CLOCK_GET 1
#define KILN_CLOCK_SET 2

struct kiln_domctl_clock {
    kiln_u32 op;              /* KILN_CLOCK_* */
    kiln_u32 _pad;
    kiln_u64 time_ns;
};

#define KILN_LOG_DIRTY_ENABLE     1
#define KILN_LOG_DIRTY_DISABLE    2
#define KILN_LOG_DIRTY_READ_CLEAN 3
#define KILN_LOG_DIRTY_BATCH      32768u   /* bits in one 4 KiB page */

struct kiln_domctl_log_dirty {
    kiln_u32 op;              /* KILN_LOG_DIRTY_* */
    kiln_u32 _pad;
    kiln_u64 start_gfn;
    kiln_u64 nr;              /* in: bits wanted; out: bits copied */
    kiln_u64 buf_gpa;
    kiln_u64 dirty;           /* out */
};

struct kiln_domctl {
    kiln_u32 cmd;             /* enum kiln_domctl_cmd */
    kiln_u32 domid;           /* in/out */
    union {
        struct kiln_domctl_create    create;
        struct kiln_domctl_info      info;
        struct kiln_domctl_write_mem write_mem;
        struct kiln_domctl_vcpu      vcpu;
        struct kiln_domctl_sched     sched;
        struct kiln_domctl_pin       pin;
        struct kiln_domctl_cpuid     cpuid;
        struct kiln_domctl_console   console;
        struct kiln_domctl_foreign   foreign;   /* ABI 1.1 */
        struct kiln_domctl_vcpu_state vcpu_state; /* ABI 1.2 */
        struct kiln_domctl_log_dirty log_dirty;  /* ABI 1.2 */
        struct kiln_domctl_read_mem  read_mem;   /* ABI 1.2 */
        struct kiln_domctl_clock     clock;      /* ABI 1.2 */
        struct kiln_domctl_pc_boot   pc_boot;   /* ABI 1.4 */
        kiln_u8                      _size[128];
    } u;
};

/* ---- a vCPU's whole state (ABI 1.2) -------------------------------------- */

/* A segment or descriptor-table register.  attr packs the descriptor's
 * attribute bits: 0-3 type, 4 S, 5-6 DPL, 7 P, 8 AVL, 9 L, 10 D/B, 11 G
 * (GDTR/IDTR: sel and attr 0).  Backend-neutral: VT-x's access rights hold
 * the same bits, spread out. */
struct kiln_seg_state {
    kiln_u16 sel;
    kiln_u16 attr;
    kiln_u32 limit;
    kiln_u64 base;
};

#define KILN_FPU_FXSAVE       1     /* fpu[] is a 512-byte FXSAVE64 image */
#define KILN_FPU_FXSAVE_SIZE  512
/* pending_event: an event the vCPU delivers at its next entry (an exception
 * being re-delivered after an exit, an injected interrupt).  Bits 0-7
 * vector, 8-10 type, 11 error code valid, 31 valid, 32-63 error code. */
#define KILN_EVENT_VALID      (1u << 31)
#define KILN_EVENT_ERR_VALID  (1u << 11)
#define KILN_EVENT_TYPE_SHIFT 8
#define KILN_EVENT_TYPE_INTR  0     /* external interrupt */
#define KILN_EVENT_TYPE_NMI   2
#define KILN_EVENT_TYPE_EXCP  3     /* hardware exception */
#define KILN_EVENT_TYPE_SOFT  4     /* software interrupt (INTn) */

/*
 * Everything a paused vCPU needs to go on elsewhere, as GET_VCPU_STATE
 * reads it and SET_VCPU_STATE (after checking every field) writes it.
 * tsc is the guest's TSC at the moment of the call, not an offset, so the
 * value means the same on any host.  tsc_aux is always 0 (guests are not
 * offered RDTSCP) and xcr0 always 1 (guests cannot XSETBV): SET refuses
 * other values until those are switched per vCPU.
 */
struct kiln_vcpu_state {
    kiln_u32 vcpu;
    kiln_u32 size;            /* sizeof(struct kiln_vcpu_state) */
    kiln_u64 rax, rbx, rcx, rdx, rsi, rdi, rbp, rsp;
    kiln_u64 r8, r9, r10, r11, r12, r13, r14, r15;
    kiln_u64 rip, rflags;
    struct kiln_seg_state es, cs, ss, ds, fs, gs, ldtr, tr, gdtr, idtr;
    kiln_u64 cr0, cr2, cr3, cr4, cr8, efer;
    kiln_u64 dr6, dr7;
    kiln_u64 star, lstar, cstar, sfmask, kernel_gs_base;
    kiln_u64 sysenter_cs, sysenter_esp, sysenter_eip;
    kiln_u64 pat;
    kiln_u64 tsc;
    kiln_u64 tsc_aux;
    kiln_u64 xcr0;
    kiln_u64 pending_event;   /* KILN_EVENT_* */
    kiln_u32 interrupt_shadow;/* 1: the next instruction runs with interrupts held off */
    kiln_u32 cpl;
    kiln_u32 fpu_format;      /* KILN_FPU_FXSAVE */
    kiln_u32 fpu_size;        /* KILN_FPU_FXSAVE_SIZE */
    kiln_u8  fpu[KILN_FPU_FXSAVE_SIZE];
};

/* ---- sysctl ------------------------------------------------------------- */

enum kiln_sysctl_cmd {
    KILN_SYSCTL_PHYSINFO     = 1, /* out: physinfo */
    KILN_SYSCTL_LOG_READ     = 2, /* the hypervisor's log ring ("kl dmesg") */
};

struct kiln_sysctl_physinfo {
    kiln_u64 total_pages;     /* 4 KiB pages the hypervisor manages */
    kiln_u64 free_pages;      /* of those, free right now */
    kiln_u64 cpu_khz;
    kiln_u32 nr_cpus;
    kiln_u32 nr_domains;
    /* ABI 1.1: dom0's foreign window, a range of its physical address
     * space that is neither its RAM nor MMIO (reserved in its e820) where
     * MAP_FOREIGN puts other domains' pages.  0/0 for other callers. */
    kiln_u64 foreign_base;
    kiln_u32 foreign_pages;
    kiln_u32 _pad;
};

struct kiln_sysctl {
    kiln_u32 cmd;
    kiln_u32 _pad;
    union {
        struct kiln_sysctl_physinfo physinfo;
        struct kiln_domctl_console  log; /* same shape as a console read */
        kiln_u8                     _size[128];
    } u;
};

#endif /* KILN_PUBLIC_KILN_H */
