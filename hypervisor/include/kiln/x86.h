/*
 * x86.h - thin wrappers around x86 instructions (port I/O, MSRs, CPUID,
 * control registers, TSC) and the architectural constants used with them.
 * Only for code that runs on the machine: no KILN_UNIT_TEST variant, so
 * host-testable logic must not include it.
 */
#ifndef KILN_X86_H
#define KILN_X86_H

#include <kiln/types.h>

#define CR0_PE (1ul << 0)
#define CR0_WP (1ul << 16)
#define CR0_NW (1ul << 29)
#define CR0_CD (1ul << 30)
#define CR0_PG (1ul << 31)
#define CR4_PAE (1ul << 5)
#define CR4_PGE (1ul << 7)

#define MSR_EFER          0xc0000080
#define EFER_SCE          (1ul << 0)
#define EFER_LME          (1ul << 8)
#define EFER_NXE          (1ul << 11)
#define EFER_SVME         (1ul << 12)
#define MSR_FS_BASE       0xc0000100
#define MSR_GS_BASE       0xc0000101
#define MSR_KERNEL_GS_BASE 0xc0000102
#define MSR_TSC_AUX       0xc0000103
#define MSR_PKRS          0x6e1
#define MSR_MISC_ENABLE   0x1a0
#define MSR_APIC_BASE     0x1b
#define MSR_TSC_DEADLINE  0x6e0

/* Page-table entry bits. */
#define PTE_P    (1ul << 0)
#define PTE_W    (1ul << 1)
#define PTE_U    (1ul << 2)
#define PTE_PWT  (1ul << 3)
#define PTE_PCD  (1ul << 4)
#define PTE_A    (1ul << 5)
#define PTE_D    (1ul << 6)
#define PTE_PS   (1ul << 7)
#define PTE_G    (1ul << 8)
#define PTE_NX   (1ul << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ul

static inline void outb(u16 port, u8 v) { __asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ __volatile__("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ __volatile__("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u16 inw(u16 port) { u16 v; __asm__ __volatile__("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

/* A port access of 1, 2 or 4 bytes, for code forwarding another's access. */
static inline u32 port_read(u16 port, unsigned int size)
{
    return size == 4 ? inl(port) : size == 2 ? inw(port) : inb(port);
}

static inline void port_write(u16 port, unsigned int size, u32 v)
{
    if (size == 4)
        outl(port, v);
    else if (size == 2)
        outw(port, (u16)v);
    else
        outb(port, (u8)v);
}

static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ __volatile__("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}

struct cpuid_regs { u32 eax, ebx, ecx, edx; };

static inline struct cpuid_regs cpuid_count(u32 leaf, u32 subleaf)
{
    struct cpuid_regs r;
    __asm__ __volatile__("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                         : "a"(leaf), "c"(subleaf));
    return r;
}

static inline struct cpuid_regs cpuid(u32 leaf) { return cpuid_count(leaf, 0); }

static inline u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    return ((u64)hi << 32) | lo;
}

#define DEFINE_CR(n) \
    static inline u64 read_cr##n(void) { u64 v; __asm__ __volatile__("mov %%cr" #n ", %0" : "=r"(v)); return v; } \
    static inline void write_cr##n(u64 v) { __asm__ __volatile__("mov %0, %%cr" #n :: "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static inline void halt(void) { __asm__ __volatile__("hlt" ::: "memory"); }

/* sti takes effect after the next instruction, so no interrupt can slip in
 * between the two and leave us halted with a wakeup already consumed. */
static inline void safe_halt(void) { __asm__ __volatile__("sti; hlt" ::: "memory"); }

static inline void invlpg(const void *va) { __asm__ __volatile__("invlpg (%0)" :: "r"(va) : "memory"); }

static inline void flush_tlb_local(void) { write_cr3(read_cr3()); }

static inline u64 read_rbp(void) { u64 v; __asm__ __volatile__("mov %%rbp, %0" : "=r"(v)); return v; }

#endif
