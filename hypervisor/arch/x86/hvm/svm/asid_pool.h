/*
 * asid_pool.h - one CPU's Address Space IDs, handed out by generation
 * (pure: no CPU access, so tests/test_asid_pool.c runs it on the host).
 *
 * A CPU has ASIDs 1..nr-1 (0 is the host's; nr is CPUID 0x8000000a EBX,
 * 16 under QEMU TCG).  They are handed out in order; when they run out a
 * new generation starts and every ASID is handed out again.  A vCPU keeps
 * its ASID while it stays on the same CPU in the same generation.  An ASID
 * handed out a second time may still tag the previous holder's
 * translations, so its first VMRUN must flush them; ASIDs of the first
 * generation were never used and need no flush.  As in KVM and Xen, any
 * number of vCPUs share a CPU's ASIDs, at the cost of those flushes.
 */
#ifndef KILN_SVM_ASID_POOL_H
#define KILN_SVM_ASID_POOL_H

#include <kiln/types.h>

struct asid_pool {
    u32 next;
    u32 nr;             /* ASIDs of the CPU, the host's 0 included */
    u64 gen;            /* starts at 1 so a fresh holder (gen 0) never matches */
};

/* What a vCPU holds (one per vCPU, for the CPU it last ran on); a new
 * vCPU holds cpu -1. */
struct asid_holder {
    u32 asid;
    int cpu;            /* CPU the ASID belongs to, -1 = none */
    u64 gen;
};

/* nr < 2 is taken as 2 (one guest ASID). */
void asid_pool_init(struct asid_pool *p, u32 nr);
/*
 * Makes h's ASID valid on CPU `cpu`, whose pool p is.  Returns true when
 * the caller must flush the whole TLB at the next VMRUN with it (a reused
 * ASID), false when h kept its ASID or got one never used before.
 */
bool asid_pool_assign(struct asid_pool *p, unsigned int cpu, struct asid_holder *h);

#endif
