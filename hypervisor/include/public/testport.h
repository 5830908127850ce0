/*
 * testport.h - the I/O ports the hypervisor emulates for every guest.
 *
 * Shared by the hypervisor (arch/x86/hvm/io.c) and the test guests
 * (guests/), so it depends on nothing.  These are a debugging and test
 * aid, not part of the hypercall ABI: a guest that prefers port I/O to the
 * console hypercall can write bytes to KT_PORT_CONSOLE or to the COM1 stub,
 * and the test guests read per-vCPU exit counters to prove an exit really
 * happened (e.g. that touching a fresh page caused a nested page fault).
 */
#ifndef KILN_PUBLIC_TESTPORT_H
#define KILN_PUBLIC_TESTPORT_H

/* out8: one byte of console output, logged per line as "(dN) ...".
 * in8 returns 0xe9 (the Bochs convention for "port present"). */
#define KT_PORT_CONSOLE   0xe9
/* out32: selects a counter (KT_STAT_*); in32: low 32 bits of that counter
 * for the calling vCPU. */
#define KT_PORT_STAT      0xea
/* out32 stores a value, in32 returns it: proves data flows both ways. */
#define KT_PORT_SCRATCH   0xeb
/* Does nothing at all: the cheapest exit there is (used by the bench). */
#define KT_PORT_NULL      0xed

/* out32, only with `bench` on the hypervisor command line (ignored
 * otherwise): the hypervisor times the native compute loop once, right
 * now, and logs it, so `make bench` can interleave native and guest runs. */
#define KT_PORT_BENCH     0xee

/* 16550-ish COM1 stub: THR writes go to the console, LSR says "empty". */
#define KT_PORT_COM1      0x3f8
#define KT_COM1_LSR       5
#define KT_COM1_LSR_IDLE  0x60

/* Only for a boot domain with `mmiotest` in its module string: scratch
 * registers at this guest-physical address, outside RAM, that read back
 * what was written.  Every access exits and goes through the MMIO
 * instruction emulator (arch/x86/hvm/mmio_scratch.c). */
#define KT_MMIO_SCRATCH       0xfe000000ull
#define KT_MMIO_SCRATCH_SIZE  4096

/* Exit counters, per vCPU, counted since the vCPU was created. */
enum kt_stat {
    KT_STAT_CPUID = 0,
    KT_STAT_MSR,
    KT_STAT_IO,
    KT_STAT_VMMCALL,
    KT_STAT_NPF,
    KT_STAT_HLT,
    KT_STAT_INTR,
    KT_STAT_TOTAL,
    KT_STAT_COUNT
};

#endif
