/*
 * svm_asid.c - Address Space IDs for SVM guests.
 *
 * Each CPU hands out its ASIDs (1..max-1; 0 is the host's) in order and
 * starts a new generation when they run out.  A vCPU keeps its ASID while
 * it stays on the same CPU in the same generation.  A reused ASID may still
 * tag another guest's translations, and this CPU model has no flush-by-ASID,
 * so the first VMRUN with a reused ASID flushes the whole TLB
 * (TLB_CONTROL = 1).  Under QEMU TCG only 16 ASIDs exist, so generations
 * turn over quickly with many vCPUs; that costs flushes, never correctness.
 */
#include <kiln/percpu.h>
#include <kiln/x86.h>
#include "svm.h"

struct asid_cpu {
    u32 next;
    u32 max;            /* number of ASIDs (CPUID 0x8000000a EBX) */
    u64 gen;            /* starts at 1 so a fresh vCPU (gen 0) never matches */
};

static struct asid_cpu asid_cpus[NR_CPUS];

void svm_asid_init_cpu(unsigned int cpu)
{
    struct asid_cpu *a = &asid_cpus[cpu];
    a->max = cpuid(0x8000000a).ebx;
    if (a->max < 2)
        a->max = 2;
    a->next = 1;
    a->gen = 1;
}

void svm_asid_assign(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    unsigned int cpu = smp_processor_id();
    struct asid_cpu *a = &asid_cpus[cpu];

    if (s->asid_cpu == (int)cpu && s->asid_gen == a->gen)
        return;
    bool reuse = a->gen > 1;
    if (a->next >= a->max) {
        a->gen++;
        a->next = 1;
        reuse = true;
    }
    s->asid = a->next++;
    s->asid_gen = a->gen;
    s->asid_cpu = (int)cpu;
    s->vmcb->ctl.asid = s->asid;
    if (reuse)
        s->vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
}
