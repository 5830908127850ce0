/*
 * svm_asid.c - Address Space IDs for SVM guests: each CPU's pool
 * (asid_pool.c: handed out by generation, any number of vCPUs per CPU)
 * applied to the vCPU's VMCB.  A reused ASID may still tag another
 * guest's translations, and this CPU model has no flush-by-ASID, so the
 * first VMRUN with a reused ASID flushes the whole TLB (TLB_CONTROL = 1).
 * Under QEMU TCG only 16 ASIDs exist, so generations turn over quickly
 * with many vCPUs; that costs flushes, never correctness.
 */
#include <kiln/percpu.h>
#include <kiln/x86.h>
#include "asid_pool.h"
#include "svm.h"

static struct asid_pool asid_pools[NR_CPUS];

void svm_asid_init_cpu(unsigned int cpu)
{
    asid_pool_init(&asid_pools[cpu], cpuid(0x8000000a).ebx);
}

void svm_asid_assign(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    unsigned int cpu = smp_processor_id();
    struct asid_holder h = { .asid = s->asid, .cpu = s->asid_cpu, .gen = s->asid_gen };

    bool flush = asid_pool_assign(&asid_pools[cpu], cpu, &h);
    s->asid = h.asid;
    s->asid_cpu = h.cpu;
    s->asid_gen = h.gen;
    s->vmcb->ctl.asid = s->asid;
    if (flush)
        s->vmcb->ctl.tlb_control = SVM_TLB_FLUSH_ALL;
}
