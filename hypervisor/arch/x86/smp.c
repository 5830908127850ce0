/*
 * smp.c - bringing up the other CPUs, and talking to them afterwards.
 *
 * APs are started one at a time (they share the trampoline's parameter
 * words): INIT, (10 ms on old CPUs), SIPI, 200 us, SIPI, then wait up to a
 * second for the AP to mark itself online.  Each AP sets up its own descriptor tables
 * and LAPIC and drops into cpu_idle_loop().
 *
 * Cross-CPU calls use one mailbox per target CPU: a sender claims it
 * (busy 0 -> 1), fills it, sends VEC_CALL_FUNC, and the target runs the
 * function in its interrupt handler, then counts it done and frees it.
 * A sender spinning for a busy mailbox or for completion must have
 * interrupts on, or two CPUs calling each other would deadlock.
 */
#include <kiln/arch.h>
#include <kiln/asm.h>
#include <kiln/console.h>
#include <kiln/irq.h>
#include <kiln/lib.h>
#include <kiln/mm.h>
#include <kiln/smp.h>
#include <kiln/spinlock.h>
#include <kiln/time.h>
#include <kiln/traps.h>
#include <kiln/x86.h>

#define ICR_INIT    0x00004500u   /* INIT, level assert */
#define ICR_STARTUP 0x00004600u   /* SIPI; low byte = vector (page number) */
#define ICR_FIXED   0x00004000u   /* fixed delivery, level assert */
#define ICR_NMI     0x00004400u   /* NMI delivery */

extern char trampoline_start[], trampoline_end[];
extern u64 tr_stack, tr_entry;
extern u32 tr_cr3, tr_efer, tr_cpu;
extern u64 boot_pml4[];

struct call_mailbox {
    int busy;
    void (*fn)(void *);
    void *arg;
    u64 completed;
} __aligned(64);

static unsigned int nr_online = 1;
static struct call_mailbox mailbox[NR_CPUS];
static void (*kick_handler)(void);
static void (*main_loop)(void);

unsigned int smp_nr_cpus(void)
{
    return __atomic_load_n(&nr_online, __ATOMIC_ACQUIRE);
}

void smp_send_ipi(unsigned int cpu, u8 vector)
{
    struct percpu *p = percpu_of(cpu);
    if (p && p->online)
        lapic_send_ipi(p->apic_id, ICR_FIXED | vector);
}

void smp_kick(unsigned int cpu)
{
    smp_send_ipi(cpu, VEC_KICK);
}

void smp_set_kick_handler(void (*fn)(void))
{
    __atomic_store_n(&kick_handler, fn, __ATOMIC_RELEASE);
}

static void kick_interrupt(struct cpu_regs *regs)
{
    void (*fn)(void) = __atomic_load_n(&kick_handler, __ATOMIC_ACQUIRE);
    (void)regs;
    if (fn)
        fn();
}

static void call_interrupt(struct cpu_regs *regs)
{
    struct call_mailbox *mb = &mailbox[smp_processor_id()];

    (void)regs;
    mb->fn(mb->arg);
    __atomic_fetch_add(&mb->completed, 1, __ATOMIC_RELEASE);
    __atomic_store_n(&mb->busy, 0, __ATOMIC_RELEASE);
}

int smp_call_function(unsigned int cpu, void (*fn)(void *), void *arg, bool wait)
{
    struct percpu *p = percpu_of(cpu);
    if (!p || !p->online)
        return -1;
    if (cpu == smp_processor_id()) {
        unsigned long flags = local_irq_save();
        fn(arg);
        local_irq_restore(flags);
        return 0;
    }

    /* The mailbox stays claimed until fn has returned on the target, so
     * `completed` moves exactly once per call. */
    struct call_mailbox *mb = &mailbox[cpu];
    int expect = 0;
    while (!__atomic_compare_exchange_n(&mb->busy, &expect, 1, false,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        expect = 0;
        cpu_relax();
    }
    mb->fn = fn;
    mb->arg = arg;
    u64 target = __atomic_load_n(&mb->completed, __ATOMIC_ACQUIRE) + 1;
    smp_send_ipi(cpu, VEC_CALL_FUNC);
    if (wait) {
        while ((s64)(__atomic_load_n(&mb->completed, __ATOMIC_ACQUIRE) - target) < 0)
            cpu_relax();
    }
    return 0;
}

static unsigned int nr_stopped;

void smp_stop_others(void)
{
    unsigned int me = smp_processor_id(), sent = 0;
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
        struct percpu *p = percpu_of(cpu);
        if (cpu != me && p->online) {
            lapic_send_ipi(p->apic_id, ICR_NMI);
            sent++;
        }
    }
    /* Wait (bounded: a wedged CPU must not hide the report) until they
     * have all stopped, so nothing they do lands after the panic message. */
    u64 give_up = now_ns() + 100 * NSEC_PER_MSEC;
    while (__atomic_load_n(&nr_stopped, __ATOMIC_ACQUIRE) < sent && now_ns() < give_up)
        cpu_relax();
}

void smp_nmi_others(void)
{
    unsigned int me = smp_processor_id();
    for (unsigned int cpu = 0; cpu < NR_CPUS; cpu++) {
        struct percpu *p = percpu_of(cpu);
        if (cpu != me && p->online)
            lapic_send_ipi(p->apic_id, ICR_NMI);
    }
}

void smp_stop_self(void)
{
    local_irq_disable();
    __atomic_fetch_add(&nr_stopped, 1, __ATOMIC_ACQ_REL);
    for (;;)
        halt();
}

void smp_set_main_loop(void (*fn)(void))
{
    __atomic_store_n(&main_loop, fn, __ATOMIC_RELEASE);
    for (unsigned int cpu = 0; cpu < smp_nr_cpus(); cpu++) {
        if (cpu != smp_processor_id())
            smp_kick(cpu);
    }
}

void cpu_idle_loop(void)
{
    for (;;) {
        local_irq_disable();
        void (*fn)(void) = __atomic_load_n(&main_loop, __ATOMIC_ACQUIRE);
        if (fn) {
            local_irq_enable();
            fn();
            local_irq_disable();
        }
        /* An interrupt that arrived since the cli above is still pending,
         * so it ends this hlt at once: no lost wakeups. */
        safe_halt();
    }
}

void smp_ipi_init(void)
{
    irq_set_handler(VEC_KICK, kick_interrupt);
    irq_set_handler(VEC_CALL_FUNC, call_interrupt);
}

void ap_entry(unsigned int cpu);
void ap_entry(unsigned int cpu)
{
    cpu_early_init(cpu);
    if (cpu_tables_init(cpu) < 0)
        panic("CPU %u: no memory for its IST stacks", cpu);
    lapic_init();
    lapic_timer_init();
    __atomic_fetch_add(&nr_online, 1, __ATOMIC_ACQ_REL);
    __atomic_store_n(&this_cpu()->online, true, __ATOMIC_RELEASE);
    cpu_idle_loop();
}

/*
 * The MP specification's 10 ms wait after INIT is for old external APICs;
 * CPUs with an integrated APIC (Intel family 6 and later, AMD family 0xf
 * and later) accept the SIPI at once.  Skipping the wait saves 10 ms of
 * boot time per CPU.
 */
static bool needs_init_delay(void)
{
    struct cpuid_regs v = cpuid(0), f = cpuid(1);
    unsigned int family = ((f.eax >> 8) & 0xf) + ((f.eax >> 20) & 0xff);
    bool intel = v.ebx == 0x756e6547;   /* "Genu" */
    bool amd = v.ebx == 0x68747541;     /* "Auth" */
    return !((intel && family >= 6) || (amd && family >= 0xf));
}

static int start_ap(unsigned int cpu, u32 apic_id)
{
    char *tramp = phys_to_virt(TRAMPOLINE_PHYS);
    void *stack_top = stack_alloc(STACK_ORDER);
    struct percpu *p = percpu_of(cpu);

    if (!stack_top)
        return -1;
    p->apic_id = apic_id;
    p->stack_top = stack_top;

    kmemcpy(tramp, trampoline_start, (size_t)(trampoline_end - trampoline_start));
#define TR_PARAM(sym) ((void *)(tramp + ((char *)&(sym) - trampoline_start)))
    *(u64 *)TR_PARAM(tr_stack) = (u64)p->stack_top;
    *(u64 *)TR_PARAM(tr_entry) = (u64)ap_entry;
    *(u32 *)TR_PARAM(tr_cr3) = (u32)virt_to_phys(boot_pml4);
    *(u32 *)TR_PARAM(tr_efer) = (u32)(rdmsr(MSR_EFER) & (EFER_LME | EFER_NXE));
    *(u32 *)TR_PARAM(tr_cpu) = cpu;
#undef TR_PARAM
    __asm__ __volatile__("mfence" ::: "memory");

    lapic_send_ipi(apic_id, ICR_INIT);
    if (needs_init_delay())
        udelay(10000);
    for (int i = 0; i < 2; i++) {
        lapic_send_ipi(apic_id, ICR_STARTUP | (TRAMPOLINE_PHYS >> 12));
        udelay(200);
    }
    u64 give_up = now_ns() + NSEC_PER_SEC;
    while (!__atomic_load_n(&p->online, __ATOMIC_ACQUIRE)) {
        if (now_ns() > give_up) {
            /* The AP may still wake up later and use its stack: leave it. */
            p->stack_top = NULL;
            return -1;
        }
        cpu_relax();
    }
    return 0;
}

void smp_boot_aps(const struct acpi_info *acpi)
{
    struct percpu *bsp = this_cpu();
    unsigned int next = 1;

    bsp->online = true;
    local_irq_enable();   /* APs are waited for with interrupts on */
    for (unsigned int i = 0; i < acpi->nr_cpus; i++) {
        u32 id = acpi->apic_ids[i];
        if (id == bsp->apic_id)
            continue;
        if (start_ap(next, id) < 0) {
            pr_err("SMP: CPU with APIC id %u did not come up", id);
            continue;
        }
        pr_info("SMP: CPU %u (APIC id %u) online", next, id);
        next++;
    }
}
