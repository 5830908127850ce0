/*
 * npt.h - nested page table entry bits (AMD NPT uses the long-mode format,
 * Intel's EPT its own), without x86.h so that host-tested code (p2m_identity.c) can use them.
 * Entries carry U/S at every level: the CPU model checks nested entries as
 * user accesses, and without it every guest access faults.
 */
#ifndef KILN_HVM_NPT_H
#define KILN_HVM_NPT_H

#define NPT_P     (1ul << 0)
#define NPT_W     (1ul << 1)
#define NPT_U     (1ul << 2)
#define NPT_A     (1ul << 5)
#define NPT_D     (1ul << 6)
#define NPT_PS    (1ul << 7)
#define NPT_ADDR_MASK 0x000ffffffffff000ul

#define NPT_TABLE (NPT_P | NPT_W | NPT_U)
#define NPT_LEAF  (NPT_P | NPT_W | NPT_U | NPT_A | NPT_D)

/* Intel EPT entries (SDM vol. 3 ch. 29): read, write, execute in bits
 * 0-2, a leaf's memory type in bits 3-5 (6 = write-back), accessed and
 * dirty in bits 8 and 9 (when the EPTP enables them). */
#define EPT_R     (1ul << 0)
#define EPT_W     (1ul << 1)
#define EPT_X     (1ul << 2)
#define EPT_WB    (6ul << 3)
#define EPT_A     (1ul << 8)
#define EPT_D     (1ul << 9)

#define EPT_TABLE (EPT_R | EPT_W | EPT_X)
#define EPT_LEAF  (EPT_R | EPT_W | EPT_X | EPT_WB)

#endif
