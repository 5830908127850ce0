/*
 * vmcs.h - Intel VT-x constants: VMCS field encodings, control bits, exit
 * reasons and the capability MSRs (Intel SDM vol. 3, appendices A-C).
 *
 * Without x86.h or any inline assembly, so that the host-built unit tests
 * can check the pure parts of the backend (vmx_caps.c) against them.
 */
#ifndef KILN_VMX_VMCS_H
#define KILN_VMX_VMCS_H

/* ---- capability MSRs ---------------------------------------------------- */
#define MSR_FEATURE_CONTROL        0x3a
#define FEATURE_CONTROL_LOCK       (1ul << 0)
#define FEATURE_CONTROL_VMX        (1ul << 2)   /* VMXON outside SMX */
#define MSR_VMX_BASIC              0x480
#define MSR_VMX_PINBASED           0x481
#define MSR_VMX_PROCBASED          0x482
#define MSR_VMX_EXIT               0x483
#define MSR_VMX_ENTRY              0x484
#define MSR_VMX_MISC               0x485
#define MSR_VMX_CR0_FIXED0         0x486
#define MSR_VMX_CR0_FIXED1         0x487
#define MSR_VMX_CR4_FIXED0         0x488
#define MSR_VMX_CR4_FIXED1         0x489
#define MSR_VMX_PROCBASED2         0x48b
#define MSR_VMX_EPT_VPID_CAP       0x48c
#define MSR_VMX_TRUE_PINBASED      0x48d
#define MSR_VMX_TRUE_PROCBASED     0x48e
#define MSR_VMX_TRUE_EXIT          0x48f
#define MSR_VMX_TRUE_ENTRY         0x490

#define VMX_BASIC_REVISION_MASK    0x7fffffffu
#define VMX_BASIC_TRUE_CTLS        (1ull << 55)
#define VMX_MISC_PREEMPT_RATE_MASK 0x1fu   /* timer ticks every 2^N TSC cycles */

#define EPT_CAP_WALK4              (1ull << 6)
#define EPT_CAP_WB                 (1ull << 14)
#define EPT_CAP_2M                 (1ull << 16)
#define EPT_CAP_INVEPT             (1ull << 20)
#define EPT_CAP_AD                 (1ull << 21)
#define EPT_CAP_INVEPT_SINGLE      (1ull << 25)
#define EPT_CAP_INVEPT_ALL         (1ull << 26)
#define VPID_CAP_INVVPID           (1ull << 32)
#define VPID_CAP_INVVPID_SINGLE    (1ull << 41)
#define VPID_CAP_INVVPID_ALL       (1ull << 42)

#define EPTP_WB                    6ull
#define EPTP_WALK4                 (3ull << 3)
#define EPTP_AD                    (1ull << 6)

#define INVEPT_SINGLE              1
#define INVEPT_ALL                 2
#define INVVPID_SINGLE             1
#define INVVPID_ALL                2

/* ---- control bits ------------------------------------------------------- */
#define PIN_EXT_INTR               (1u << 0)
#define PIN_NMI                    (1u << 3)
#define PIN_VIRTUAL_NMI            (1u << 5)
#define PIN_PREEMPT_TIMER          (1u << 6)

#define CPU_INTR_WINDOW            (1u << 2)
#define CPU_TSC_OFFSET             (1u << 3)
#define CPU_HLT                    (1u << 7)
#define CPU_INVLPG                 (1u << 9)
#define CPU_MWAIT                  (1u << 10)
#define CPU_RDPMC                  (1u << 11)
#define CPU_RDTSC                  (1u << 12)
#define CPU_CR3_LOAD               (1u << 15)
#define CPU_CR3_STORE              (1u << 16)
#define CPU_CR8_LOAD               (1u << 19)
#define CPU_CR8_STORE              (1u << 20)
#define CPU_TPR_SHADOW             (1u << 21)
#define CPU_NMI_WINDOW             (1u << 22)
#define CPU_MOV_DR                 (1u << 23)
#define CPU_IO_BITMAP              (1u << 25)
#define CPU_MSR_BITMAP             (1u << 28)
#define CPU_MONITOR                (1u << 29)
#define CPU_SECONDARY              (1u << 31)

#define CPU2_EPT                   (1u << 1)
#define CPU2_RDTSCP                (1u << 3)
#define CPU2_VPID                  (1u << 5)
#define CPU2_UNRESTRICTED          (1u << 7)
#define CPU2_INVPCID               (1u << 12)
#define CPU2_XSAVES                (1u << 20)

#define EXIT_SAVE_DEBUG            (1u << 2)
#define EXIT_HOST_64               (1u << 9)
#define EXIT_ACK_INTR              (1u << 15)
#define EXIT_SAVE_PAT              (1u << 18)
#define EXIT_LOAD_PAT              (1u << 19)
#define EXIT_SAVE_EFER             (1u << 20)
#define EXIT_LOAD_EFER             (1u << 21)

#define ENTRY_LOAD_DEBUG           (1u << 2)
#define ENTRY_IA32E                (1u << 9)
#define ENTRY_LOAD_PAT             (1u << 14)
#define ENTRY_LOAD_EFER            (1u << 15)

/* ---- VMCS fields -------------------------------------------------------- */
enum vmcs_field {
    VMCS_VPID                  = 0x0000,
    GUEST_ES_SEL               = 0x0800,    /* +2 per segment, ES..GS, LDTR, TR */
    GUEST_TR_SEL               = 0x080e,
    HOST_ES_SEL                = 0x0c00,
    HOST_CS_SEL                = 0x0c02,
    HOST_SS_SEL                = 0x0c04,
    HOST_DS_SEL                = 0x0c06,
    HOST_FS_SEL                = 0x0c08,
    HOST_GS_SEL                = 0x0c0a,
    HOST_TR_SEL                = 0x0c0c,
    IO_BITMAP_A                = 0x2000,
    IO_BITMAP_B                = 0x2002,
    MSR_BITMAP                 = 0x2004,
    TSC_OFFSET                 = 0x2010,
    EPT_POINTER                = 0x201a,
    GUEST_PHYS_ADDR            = 0x2400,
    VMCS_LINK_POINTER          = 0x2800,
    GUEST_DEBUGCTL             = 0x2802,
    GUEST_PAT                  = 0x2804,
    GUEST_EFER                 = 0x2806,
    GUEST_PDPTE0               = 0x280a,    /* +2 for PDPTE1-3 */
    HOST_PAT                   = 0x2c00,
    HOST_EFER                  = 0x2c02,
    PIN_CONTROLS               = 0x4000,
    CPU_CONTROLS               = 0x4002,
    EXCEPTION_BITMAP           = 0x4004,
    CR3_TARGET_COUNT           = 0x400a,
    EXIT_CONTROLS              = 0x400c,
    EXIT_MSR_STORE_COUNT       = 0x400e,
    EXIT_MSR_LOAD_COUNT        = 0x4010,
    ENTRY_CONTROLS             = 0x4012,
    ENTRY_MSR_LOAD_COUNT       = 0x4014,
    ENTRY_INTR_INFO            = 0x4016,
    ENTRY_EXC_ERROR            = 0x4018,
    ENTRY_INSN_LEN             = 0x401a,
    CPU_CONTROLS2              = 0x401e,
    VM_INSN_ERROR              = 0x4400,
    EXIT_REASON                = 0x4402,
    EXIT_INTR_INFO             = 0x4404,
    EXIT_INTR_ERROR            = 0x4406,
    IDT_VECTORING_INFO         = 0x4408,
    IDT_VECTORING_ERROR        = 0x440a,
    EXIT_INSN_LEN              = 0x440c,
    GUEST_ES_LIMIT             = 0x4800,    /* +2 per segment */
    GUEST_GDTR_LIMIT           = 0x4810,
    GUEST_IDTR_LIMIT           = 0x4812,
    GUEST_ES_AR                = 0x4814,    /* +2 per segment */
    GUEST_INTERRUPTIBILITY     = 0x4824,
    GUEST_ACTIVITY             = 0x4826,
    GUEST_SYSENTER_CS          = 0x482a,
    GUEST_PREEMPT_TIMER        = 0x482e,
    HOST_SYSENTER_CS           = 0x4c00,
    CR0_MASK                   = 0x6000,
    CR4_MASK                   = 0x6002,
    CR0_SHADOW                 = 0x6004,
    CR4_SHADOW                 = 0x6006,
    EXIT_QUALIFICATION         = 0x6400,
    GUEST_LINEAR_ADDR          = 0x640a,
    GUEST_CR0                  = 0x6800,
    GUEST_CR3                  = 0x6802,
    GUEST_CR4                  = 0x6804,
    GUEST_ES_BASE              = 0x6806,    /* +2 per segment */
    GUEST_GDTR_BASE            = 0x6816,
    GUEST_IDTR_BASE            = 0x6818,
    GUEST_DR7                  = 0x681a,
    GUEST_RSP                  = 0x681c,
    GUEST_RIP                  = 0x681e,
    GUEST_RFLAGS               = 0x6820,
    GUEST_PENDING_DBG          = 0x6822,
    GUEST_SYSENTER_ESP         = 0x6824,
    GUEST_SYSENTER_EIP         = 0x6826,
    HOST_CR0                   = 0x6c00,
    HOST_CR3                   = 0x6c02,
    HOST_CR4                   = 0x6c04,
    HOST_FS_BASE               = 0x6c06,
    HOST_GS_BASE               = 0x6c08,
    HOST_TR_BASE               = 0x6c0a,
    HOST_GDTR_BASE             = 0x6c0c,
    HOST_IDTR_BASE             = 0x6c0e,
    HOST_SYSENTER_ESP          = 0x6c10,
    HOST_SYSENTER_EIP          = 0x6c12,
    HOST_RSP                   = 0x6c14,
    HOST_RIP                   = 0x6c16,
};

/* Guest segment registers in VMCS order: field = first + 2 * index. */
enum vmx_seg { VSEG_ES, VSEG_CS, VSEG_SS, VSEG_DS, VSEG_FS, VSEG_GS, VSEG_LDTR, VSEG_TR,
               VSEG_COUNT };

/* Segment access rights: the descriptor's type/S/DPL/P byte in bits 7:0,
 * AVL/L/D-B/G in bits 15:12, "unusable" in bit 16. */
#define AR_ACCESSED                (1u << 0)
#define AR_DPL_SHIFT               5
#define AR_P                       (1u << 7)
#define AR_L                       (1u << 13)
#define AR_DB                      (1u << 14)
#define AR_G                       (1u << 15)
#define AR_UNUSABLE                (1u << 16)
#define AR_CODE32                  0xc09bu      /* G, D, P, S, execute/read, accessed */
#define AR_CODE64                  0xa09bu      /* G, L, P, S, execute/read, accessed */
#define AR_DATA                    0xc093u      /* G, B, P, S, read/write, accessed */
#define AR_REAL_CODE               0x009bu
#define AR_REAL_DATA               0x0093u
#define AR_TSS_BUSY                0x008bu      /* busy 32/64-bit TSS */

/* Interruption information (VM-entry injection, exit, IDT vectoring). */
#define INTR_INFO_VALID            (1u << 31)
#define INTR_INFO_ERR_VALID        (1u << 11)
#define INTR_INFO_NMI_UNBLOCK      (1u << 12)   /* exits: an IRET unblocked NMIs */
#define INTR_TYPE_SHIFT            8
#define INTR_TYPE_MASK             (7u << 8)
#define INTR_TYPE_EXT              (0u << 8)
#define INTR_TYPE_NMI              (2u << 8)
#define INTR_TYPE_HW_EXC           (3u << 8)
#define INTR_TYPE_SW_INT           (4u << 8)
#define INTR_TYPE_PRIV_SW_EXC      (5u << 8)
#define INTR_TYPE_SW_EXC           (6u << 8)

/* Guest interruptibility state. */
#define INTR_BLOCK_STI             (1u << 0)
#define INTR_BLOCK_MOV_SS          (1u << 1)
#define INTR_BLOCK_NMI             (1u << 3)

/* Basic exit reasons (bits 15:0 of EXIT_REASON; bit 31: entry failed). */
enum vmx_exit_reason {
    EXIT_EXCEPTION_NMI         = 0,
    EXIT_EXT_INTR              = 1,
    EXIT_TRIPLE_FAULT          = 2,
    EXIT_INIT                  = 3,
    EXIT_SIPI                  = 4,
    EXIT_INTR_WINDOW           = 7,
    EXIT_NMI_WINDOW            = 8,
    EXIT_TASK_SWITCH           = 9,
    EXIT_CPUID                 = 10,
    EXIT_GETSEC                = 11,
    EXIT_HLT                   = 12,
    EXIT_INVD                  = 13,
    EXIT_RDPMC                 = 15,
    EXIT_VMCALL                = 18,
    EXIT_VMCLEAR               = 19,
    EXIT_VMLAUNCH              = 20,
    EXIT_VMPTRLD               = 21,
    EXIT_VMPTRST               = 22,
    EXIT_VMREAD                = 23,
    EXIT_VMRESUME              = 24,
    EXIT_VMWRITE               = 25,
    EXIT_VMXOFF                = 26,
    EXIT_VMXON                 = 27,
    EXIT_CR_ACCESS             = 28,
    EXIT_IO                    = 30,
    EXIT_RDMSR                 = 31,
    EXIT_WRMSR                 = 32,
    EXIT_INVALID_STATE         = 33,
    EXIT_MSR_LOADING           = 34,
    EXIT_MWAIT                 = 36,
    EXIT_MONITOR               = 39,
    EXIT_MACHINE_CHECK         = 41,
    EXIT_EPT_VIOLATION         = 48,
    EXIT_EPT_MISCONFIG         = 49,
    EXIT_INVEPT                = 50,
    EXIT_INVVPID               = 53,
    EXIT_PREEMPT_TIMER         = 52,
    EXIT_XSETBV                = 55,
    EXIT_VMFUNC                = 59,
};
#define EXIT_REASON_ENTRY_FAILED   (1u << 31)

/* I/O exit qualification. */
#define IOQ_SIZE_MASK              7u           /* size - 1 */
#define IOQ_IN                     (1u << 3)
#define IOQ_STRING                 (1u << 4)
#define IOQ_REP                    (1u << 5)
#define IOQ_PORT_SHIFT             16

/* EPT violation qualification. */
#define EPTQ_READ                  (1ull << 0)
#define EPTQ_WRITE                 (1ull << 1)
#define EPTQ_FETCH                 (1ull << 2)
#define EPTQ_PRESENT_MASK          (7ull << 3)  /* the entry allowed R/W/X */
#define EPTQ_LINEAR_VALID          (1ull << 7)
#define EPTQ_FINAL                 (1ull << 8)  /* the access itself, not a guest walk */
#define EPTQ_NMI_UNBLOCK           (1ull << 12)

#endif
