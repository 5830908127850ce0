/*
 * svm_xsave.c - a vCPU's x87/SSE/AVX state and its XCR0 (VMRUN switches
 * neither).
 *
 * With XSAVE on the host, each CPU runs the hypervisor with CR4.OSXSAVE
 * and XCR0 = every component a guest may be offered (x87, SSE, AVX,
 * AVX-512, PKRU: host_xcr0).  A vCPU's whole state is restored from its own
 * area with that mask when its CPU takes it, so nothing of another vCPU's
 * registers (upper YMM halves included) survives into it, and saved with
 * it when the CPU lets it go; in between the guest's own XCR0 is loaded
 * before each VMRUN (the hypervisor uses no FPU/SIMD registers and may run
 * with it).  XSETBV exits and is checked against the domain's CPUID.
 * Without XSAVE on the host: FXSAVE/FXRSTOR of x87/SSE, as before.
 */
#include <kiln/hvm_event.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>
#include <kiln/x86.h>
#include "svm.h"

#define CR4_OSXSAVE   (1ul << 18)
#define XCR0_X87      (1ull << 0)
#define XCR0_SSE      (1ull << 1)
#define XCR0_AVX      (1ull << 2)
#define XCR0_AVX512   (7ull << 5)
#define XCR0_PKRU     (1ull << 9)
#define XCR0_OFFERED  (XCR0_X87 | XCR0_SSE | XCR0_AVX | XCR0_AVX512 | XCR0_PKRU)
#define EXC_UD 6
#define EXC_GP 13

static u64 host_xcr0;           /* 0: the host has no XSAVE */
static u64 cpu_xcr0[NR_CPUS];   /* what XCR0 holds on each CPU now */

static void xsetbv(u64 v)
{
    __asm__ __volatile__("xsetbv" :: "c"(0), "a"((u32)v), "d"((u32)(v >> 32)));
}

static void set_xcr0(u64 v)
{
    unsigned int cpu = smp_processor_id();
    if (cpu_xcr0[cpu] != v) {
        xsetbv(v);
        cpu_xcr0[cpu] = v;
    }
}

void svm_xsave_cpu_up(void)
{
    struct cpuid_regs l1 = cpuid(1);
    if (!((l1.ecx >> 26) & 1))
        return;
    /* Every CPU is the same model: the boot CPU's answer stands for all. */
    u64 mask = (cpuid_count(0xd, 0).eax | ((u64)cpuid_count(0xd, 0).edx << 32)) & XCR0_OFFERED;
    if ((mask & (XCR0_X87 | XCR0_SSE)) != (XCR0_X87 | XCR0_SSE) ||
        cpuid_count(0xd, 0).ecx > PAGE_SIZE)
        return;
    write_cr4(read_cr4() | CR4_OSXSAVE);
    xsetbv(mask);
    cpu_xcr0[smp_processor_id()] = mask;
    host_xcr0 = mask;
}

int svm_xsave_vcpu_init(struct svm_vcpu *s)
{
    s->xcr0 = XCR0_X87;
    /* A valid initial image: x87 control word and MXCSR defaults, every
     * XSTATE_BV bit clear (the rest starts in its init state). */
    *(u16 *)&s->fpu[0] = 0x37f;
    *(u32 *)&s->fpu[24] = 0x1f80;
    if (!host_xcr0)
        return 0;
    s->xsave = alloc_pages_zeroed(0);
    if (!s->xsave)
        return -KILN_ENOMEM;
    kmemcpy(s->xsave, s->fpu, sizeof(s->fpu));
    return 0;
}

void svm_xsave_vcpu_free(struct svm_vcpu *s)
{
    if (s->xsave)
        free_page(s->xsave);
    s->xsave = NULL;
}

void svm_xsave_load(struct svm_vcpu *s)
{
    if (!s->xsave) {
        __asm__ __volatile__("fxrstor64 %0" :: "m"(s->fpu));
        return;
    }
    set_xcr0(host_xcr0);
    __asm__ __volatile__("xrstor64 (%0)" :: "r"(s->xsave), "a"((u32)host_xcr0),
                         "d"((u32)(host_xcr0 >> 32)) : "memory");
}

void svm_xsave_put(struct svm_vcpu *s)
{
    if (!s->xsave) {
        __asm__ __volatile__("fxsave64 %0" : "=m"(s->fpu));
        return;
    }
    set_xcr0(host_xcr0);
    __asm__ __volatile__("xsave64 (%0)" :: "r"(s->xsave), "a"((u32)host_xcr0),
                         "d"((u32)(host_xcr0 >> 32)) : "memory");
}

void svm_xsave_before_entry(struct svm_vcpu *s)
{
    if (s->xsave)
        set_xcr0(s->xcr0);
}

/* QEMU 7.2's TCG does not intercept XSETBV: the guest's XSETBV then
 * reaches the (emulated) CPU, which checks it, and its XCR0 is whatever
 * the CPU holds after the exit. */
void svm_xsave_after_exit(struct svm_vcpu *s)
{
    if (!s->xsave)
        return;
    u32 lo, hi;
    __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    s->xcr0 = ((u64)hi << 32) | lo;
    cpu_xcr0[smp_processor_id()] = s->xcr0;
}

void svm_xsave_xsetbv(struct vcpu *v)
{
    struct svm_vcpu *s = svm_of(v);
    struct vmcb *vm = s->vmcb;
    u32 regs[4];
    hvm_cpuid(v, true, 0xd, 0, regs);
    u64 allowed = (regs[0] | ((u64)regs[3] << 32)) & host_xcr0;
    u64 val = (vm->save.rax & 0xffffffffu) | ((s->gprs.rdx & 0xffffffffu) << 32);

    if (!s->xsave || !allowed || !(vm->save.cr4 & CR4_OSXSAVE)) {
        hvm_event_exception(v, EXC_UD, false, 0);
        return;
    }
    /* x87 always; AVX on top of SSE; AVX-512's three together, on AVX. */
    bool bad = vm->save.cpl != 0 || (u32)s->gprs.rcx != 0 || !(val & XCR0_X87) ||
               (val & ~allowed) || ((val & XCR0_AVX) && !(val & XCR0_SSE)) ||
               ((val & XCR0_AVX512) && ((val & XCR0_AVX512) != XCR0_AVX512 ||
                                        !(val & XCR0_AVX)));
    if (bad) {
        hvm_event_exception(v, EXC_GP, true, 0);
        return;
    }
    if (svm_skip_insn(v))
        s->xcr0 = val;
}

bool svm_xsave_offered(void)
{
    return host_xcr0 != 0;
}
