/*
 * asm.h - constants shared by the assembly files (no C declarations here,
 * because the assembler includes it).
 */
#ifndef KILN_ASM_H
#define KILN_ASM_H

#define IMAGE_BASE_ASM 0xffffffff80000000
/* Physical address of an image symbol, usable before paging is on. */
#define PHYS(sym) ((sym) - IMAGE_BASE_ASM)

#define BOOT_CS64 0x08
#define BOOT_DS   0x10

#define BOOT_STACK_SIZE 16384

#ifdef __ASSEMBLER__
/* C code gets these from x86.h. */
#define PTE_P   0x001
#define PTE_W   0x002
#define PTE_PWT 0x008
#define PTE_PCD 0x010
#define PTE_PS  0x080

#define CR0_PE_BIT  0x00000001
#define CR0_WP_BIT  0x00010000
#define CR0_PG_BIT  0x80000000
#define CR0_NW_BIT  0x20000000  /* with CD: caches off, as a CPU comes out of reset */
#define CR0_CD_BIT  0x40000000
#define CR4_PAE_BIT 0x00000020
#define CR4_PGE_BIT 0x00000080
#define MSR_EFER_NUM 0xc0000080
#define EFER_LME_BIT 0x00000100
#define EFER_NXE_BIT 0x00000800
#endif

/* AP trampoline: copied to this physical page below 1 MiB (SIPI vector 0x08). */
#define TRAMPOLINE_PHYS 0x8000

#endif
