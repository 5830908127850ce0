/*
 * vmcb.h - the AMD-V Virtual Machine Control Block and the SVM constants
 * (AMD64 APM vol. 2, appendix B and chapter 15).  Offsets are checked at
 * compile time because a wrong one silently corrupts guest state.
 */
#ifndef KILN_SVM_VMCB_H
#define KILN_SVM_VMCB_H

#include <kiln/compiler.h>
#include <kiln/types.h>

/* Intercept vector 3 (misc1). */
#define SVM_INTR_INTR        (1u << 0)
#define SVM_INTR_NMI         (1u << 1)
#define SVM_INTR_SMI         (1u << 2)
#define SVM_INTR_INIT        (1u << 3)
#define SVM_INTR_VINTR       (1u << 4)
#define SVM_INTR_CPUID       (1u << 18)
#define SVM_INTR_IRET        (1u << 20)
#define SVM_INTR_RSM         (1u << 19)
#define SVM_INTR_INVD        (1u << 22)
#define SVM_INTR_HLT         (1u << 24)
#define SVM_INTR_INVLPGA     (1u << 26)
#define SVM_INTR_IOIO        (1u << 27)
#define SVM_INTR_MSR         (1u << 28)
#define SVM_INTR_TASK_SWITCH (1u << 29)
#define SVM_INTR_SHUTDOWN    (1u << 31)
/* Intercept vector 4 (misc2). */
#define SVM_INTR2_VMRUN      (1u << 0)
#define SVM_INTR2_VMMCALL    (1u << 1)
#define SVM_INTR2_VMLOAD     (1u << 2)
#define SVM_INTR2_VMSAVE     (1u << 3)
#define SVM_INTR2_STGI       (1u << 4)
#define SVM_INTR2_CLGI       (1u << 5)
#define SVM_INTR2_SKINIT     (1u << 6)
#define SVM_INTR2_XSETBV     (1u << 13)

/* Exit codes. */
#define SVM_EXIT_EXCP_BASE   0x40
#define SVM_EXIT_INTR        0x60
#define SVM_EXIT_NMI         0x61
#define SVM_EXIT_SMI         0x62
#define SVM_EXIT_INIT        0x63
#define SVM_EXIT_VINTR       0x64
#define SVM_EXIT_CPUID       0x72
#define SVM_EXIT_RSM         0x73
#define SVM_EXIT_IRET        0x74
#define SVM_EXIT_INVD        0x76
#define SVM_EXIT_HLT         0x78
#define SVM_EXIT_INVLPGA     0x7a
#define SVM_EXIT_IOIO        0x7b
#define SVM_EXIT_MSR         0x7c
#define SVM_EXIT_TASK_SWITCH 0x7d
#define SVM_EXIT_SHUTDOWN    0x7f
#define SVM_EXIT_VMRUN       0x80
#define SVM_EXIT_VMMCALL     0x81
#define SVM_EXIT_VMLOAD      0x82
#define SVM_EXIT_VMSAVE      0x83
#define SVM_EXIT_STGI        0x84
#define SVM_EXIT_CLGI        0x85
#define SVM_EXIT_SKINIT      0x86
#define SVM_EXIT_XSETBV      0x8d
#define SVM_EXIT_NPF         0x400
#define SVM_EXIT_INVALID     ((u64)-1)

/* IOIO EXITINFO1. */
#define SVM_IOIO_IN          (1u << 0)
#define SVM_IOIO_STR         (1u << 2)
#define SVM_IOIO_REP         (1u << 3)
#define SVM_IOIO_SZ_SHIFT    4        /* bits 4..6: 8/16/32-bit */
#define SVM_IOIO_PORT_SHIFT  16

/* EVENTINJ. */
#define SVM_EVTINJ_VALID     (1u << 31)
#define SVM_EVTINJ_ERR_VALID (1u << 11)
#define SVM_EVTINJ_TYPE_MASK (7u << 8)
#define SVM_EVTINJ_TYPE_INTR (0u << 8)
#define SVM_EVTINJ_TYPE_NMI  (2u << 8)
#define SVM_EVTINJ_TYPE_EXCP (3u << 8)
#define SVM_EVTINJ_TYPE_SOFT (4u << 8)

/* VINTR (control offset 0x60): V_TPR, V_IRQ, V_INTR_PRIO, V_IGN_TPR,
 * V_INTR_MASKING, V_INTR_VECTOR. */
#define SVM_VINTR_TPR_MASK    0xffull
#define SVM_VINTR_IRQ         (1ull << 8)
#define SVM_VINTR_PRIO_MASK   (0xfull << 16)
#define SVM_VINTR_IGN_TPR     (1ull << 20)
#define SVM_VINTR_MASKING    (1ull << 24)
#define SVM_VINTR_VECTOR_MASK (0xffull << 32)
#define SVM_NP_ENABLE        (1ull << 0)
#define SVM_TLB_FLUSH_ALL    1

#define MSR_VM_CR            0xc0010114
#define MSR_VM_HSAVE_PA      0xc0010117
#define VM_CR_SVMDIS         (1u << 4)

/* Segment attributes in the VMCB's packed format: type:4 S DPL:2 P | AVL L DB G. */
#define SEG_ATTR_CODE32      0xc9b
#define SEG_ATTR_CODE64      0xa9b
#define SEG_ATTR_DATA        0xc93
#define SEG_ATTR_TSS_BUSY    0x08b
#define SEG_ATTR_LDT         0x082
/* Real mode after a SIPI: 16-bit, present, accessed code/data, a 16-bit
 * busy TSS. */
#define SEG_ATTR_REAL_CODE   0x09b
#define SEG_ATTR_REAL_DATA   0x093
#define SEG_ATTR_TSS16_BUSY  0x083
#define SEG_ATTR_L           (1u << 9)
#define SEG_ATTR_DB          (1u << 10)

struct vmcb_seg {
    u16 sel;
    u16 attr;
    u32 limit;
    u64 base;
};

struct vmcb_control {
    u32 intercept_cr;               /* 0x000 */
    u32 intercept_dr;               /* 0x004 */
    u32 intercept_exceptions;       /* 0x008 */
    u32 intercept_misc1;            /* 0x00c */
    u32 intercept_misc2;            /* 0x010 */
    u8  rsvd1[0x03c - 0x014];
    u16 pause_filter_thresh;        /* 0x03c */
    u16 pause_filter_count;         /* 0x03e */
    u64 iopm_base_pa;               /* 0x040 */
    u64 msrpm_base_pa;              /* 0x048 */
    u64 tsc_offset;                 /* 0x050 */
    u32 asid;                       /* 0x058 */
    u8  tlb_control;                /* 0x05c */
    u8  rsvd2[3];
    u64 vintr;                      /* 0x060 */
    u64 interrupt_shadow;           /* 0x068 */
    u64 exitcode;                   /* 0x070 */
    u64 exitinfo1;                  /* 0x078 */
    u64 exitinfo2;                  /* 0x080 */
    u64 exitintinfo;                /* 0x088 */
    u64 np_enable;                  /* 0x090 */
    u8  rsvd3[0x0a8 - 0x098];
    u64 eventinj;                   /* 0x0a8 */
    u64 n_cr3;                      /* 0x0b0 */
    u64 virt_ext;                   /* 0x0b8 */
    u32 clean;                      /* 0x0c0 */
    u32 rsvd4;
    u64 next_rip;                   /* 0x0c8 */
    u8  insn_len;                   /* 0x0d0 */
    u8  insn_bytes[15];
    u8  rsvd5[0x400 - 0x0e0];
};

struct vmcb_save {
    struct vmcb_seg es, cs, ss, ds, fs, gs, gdtr, ldtr, idtr, tr; /* 0x400 */
    u8  rsvd1[0x4cb - 0x4a0];
    u8  cpl;                        /* 0x4cb */
    u32 rsvd2;
    u64 efer;                       /* 0x4d0 */
    u8  rsvd3[0x548 - 0x4d8];
    u64 cr4;                        /* 0x548 */
    u64 cr3;
    u64 cr0;
    u64 dr7;
    u64 dr6;
    u64 rflags;
    u64 rip;                        /* 0x578 */
    u8  rsvd4[0x5d8 - 0x580];
    u64 rsp;                        /* 0x5d8 */
    u8  rsvd5[0x5f8 - 0x5e0];
    u64 rax;                        /* 0x5f8 */
    u64 star, lstar, cstar, sfmask, kernel_gs_base;
    u64 sysenter_cs, sysenter_esp, sysenter_eip;
    u64 cr2;                        /* 0x640 */
    u8  rsvd6[0x668 - 0x648];
    u64 g_pat;                      /* 0x668 */
    u64 dbgctl;
    u64 br_from, br_to, lastexcpfrom, lastexcpto;
};

struct vmcb {
    struct vmcb_control ctl;
    struct vmcb_save save;
};

BUILD_BUG_ON(__builtin_offsetof(struct vmcb, ctl.iopm_base_pa) != 0x040);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, ctl.asid) != 0x058);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, ctl.exitcode) != 0x070);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, ctl.eventinj) != 0x0a8);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, ctl.next_rip) != 0x0c8);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.es) != 0x400);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.cpl) != 0x4cb);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.efer) != 0x4d0);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.cr4) != 0x548);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.rip) != 0x578);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.rsp) != 0x5d8);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.rax) != 0x5f8);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.cr2) != 0x640);
BUILD_BUG_ON(__builtin_offsetof(struct vmcb, save.g_pat) != 0x668);
BUILD_BUG_ON(sizeof(struct vmcb) > 4096);

#endif
