/*
 * traps.c - the IDT, exception reports and interrupt dispatch.
 *
 * An exception the hypervisor did not expect is always fatal and always
 * loud: vector, error code, every register, the control registers and a
 * frame-pointer backtrace go to the log, then panic() stops the machine with
 * a non-zero exit.  There is deliberately no "try to continue".
 */
#include <kiln/arch.h>
#include <kiln/console.h>
#include <kiln/lib.h>
#include <kiln/ksyms.h>
#include <kiln/mm.h>
#include <kiln/percpu.h>
#include <kiln/smp.h>
#include <kiln/traps.h>
#include <kiln/x86.h>

struct idt_gate {
    u16 offset_low;
    u16 selector;
    u8 ist;
    u8 type_attr;
    u16 offset_mid;
    u32 offset_high;
    u32 reserved;
} __packed;

extern char trap_stubs[];

static struct idt_gate idt[256] __aligned(16);
static irq_handler_t irq_handlers[256];

static const char *const exception_names[32] = {
    "#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
    "#BR bound range", "#UD invalid opcode", "#NM device not available",
    "#DF double fault", "coprocessor overrun", "#TS invalid TSS",
    "#NP segment not present", "#SS stack fault", "#GP general protection",
    "#PF page fault", "reserved", "#MF x87 error", "#AC alignment check",
    "#MC machine check", "#XM SIMD error", "#VE virtualization",
    "#CP control protection", "reserved", "reserved", "reserved", "reserved",
    "reserved", "reserved", "#HV hypervisor injection", "#VC VMM communication",
    "#SX security", "reserved",
};

static void set_gate(unsigned int vec, unsigned int ist)
{
    u64 addr = (u64)(trap_stubs + 16 * vec);
    idt[vec] = (struct idt_gate){
        .offset_low = (u16)addr,
        .selector = 0x08,
        .ist = (u8)ist,
        .type_attr = 0x8e,   /* present, DPL0, 64-bit interrupt gate */
        .offset_mid = (u16)(addr >> 16),
        .offset_high = (u32)(addr >> 32),
    };
}

void traps_init(void)
{
    for (unsigned int v = 0; v < 256; v++)
        set_gate(v, 0);
    set_gate(2, 2);    /* NMI: IST2 */
    set_gate(8, 1);    /* #DF: IST1 */
    set_gate(18, 3);   /* #MC: IST3 */
}

void traps_load(void)
{
    struct {
        u16 limit;
        u64 base;
    } __packed idtr = { sizeof(idt) - 1, (u64)idt };
    __asm__ __volatile__("lidt %0" :: "m"(idtr));
}

int irq_set_handler(u8 vector, irq_handler_t fn)
{
    if (vector < 32)
        return -1;
    irq_handlers[vector] = fn;
    return 0;
}

/* Only follow frame pointers into memory that is surely mapped: the image
 * (the boot stack), the low direct map, or a mapped stack page (both words
 * of a frame sit in one page, as rbp is 8-byte aligned and not the last
 * word of a page... or the next page is checked too). */
static bool plausible_frame(u64 rbp)
{
    if (rbp & 7)
        return false;
    if (rbp >= IMAGE_BASE && rbp < IMAGE_BASE + (1ul << 30) - 16)
        return true;
    if (rbp >= DIRECTMAP_BASE && rbp < DIRECTMAP_BASE + (4ul << 30) - 16)
        return true;
    return paging_is_stack(rbp) && paging_is_stack(rbp + 8);
}

static void print_address(const char *label, u64 addr)
{
    u64 off;
    const char *name = ksym_lookup(addr, &off);
    if (name)
        pr_err("  %s %016llx %s+0x%llx", label, (unsigned long long)addr, name,
               (unsigned long long)off);
    else
        pr_err("  %s %016llx", label, (unsigned long long)addr);
}

void backtrace_print(u64 rbp)
{
    char label[8];

    pr_err("backtrace:");
    for (int depth = 0; depth < 24 && plausible_frame(rbp); depth++) {
        const u64 *frame = (const u64 *)rbp;
        if (!frame[1])
            break;
        ksnprintf(label, sizeof(label), "#%d", depth);
        print_address(label, frame[1]);
        if (frame[0] <= rbp)   /* stacks grow down: callers are higher */
            break;
        rbp = frame[0];
    }
}

static void dump_regs(const struct cpu_regs *r)
{
    pr_err("RIP %04llx:%016llx RFLAGS %016llx",
           (unsigned long long)r->cs, (unsigned long long)r->rip, (unsigned long long)r->rflags);
    pr_err("RSP %04llx:%016llx",
           (unsigned long long)r->ss, (unsigned long long)r->rsp);
    pr_err("RAX %016llx RBX %016llx RCX %016llx",
           (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx);
    pr_err("RDX %016llx RSI %016llx RDI %016llx",
           (unsigned long long)r->rdx, (unsigned long long)r->rsi, (unsigned long long)r->rdi);
    pr_err("RBP %016llx R8  %016llx R9  %016llx",
           (unsigned long long)r->rbp, (unsigned long long)r->r8, (unsigned long long)r->r9);
    pr_err("R10 %016llx R11 %016llx R12 %016llx",
           (unsigned long long)r->r10, (unsigned long long)r->r11, (unsigned long long)r->r12);
    pr_err("R13 %016llx R14 %016llx R15 %016llx",
           (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15);
    pr_err("CR0 %016llx CR2 %016llx CR3 %016llx CR4 %016llx",
           (unsigned long long)read_cr0(), (unsigned long long)read_cr2(),
           (unsigned long long)read_cr3(), (unsigned long long)read_cr4());
}

static __noreturn void fatal_exception(struct cpu_regs *r)
{
    struct percpu *p = this_cpu();

    pr_err("FATAL EXCEPTION %llu (%s) error code 0x%llx on CPU %u in %s context",
           (unsigned long long)r->vector, exception_names[r->vector],
           (unsigned long long)r->error_code, p->cpu_id,
           p->in_guest ? "guest-entry" : "hypervisor");
    dump_regs(r);
    if ((r->vector == 8 && paging_is_stack_guard(r->rsp - 8)) ||
        (r->vector == 14 && paging_is_stack_guard(read_cr2())))
        pr_err("STACK OVERFLOW: RSP %016llx ran into the guard page",
               (unsigned long long)r->rsp);
    print_address("at", r->rip);
    panic_frame(r->rbp, "fatal exception %llu (%s) at %016llx", (unsigned long long)r->vector,
                exception_names[r->vector], (unsigned long long)r->rip);
}

void trap_dispatch(struct cpu_regs *r);
void trap_dispatch(struct cpu_regs *r)
{
    if (r->vector < 32) {
        if (r->vector == 2) {
            if (panic_in_progress())   /* smp_stop_others() */
                smp_stop_self();
            /* Also where this CPU is: an NMI sent to a wedged machine (the
             * QEMU harness injects one before it kills a run that timed
             * out) then shows what each CPU was doing.  The first one is
             * passed on to every other CPU, once. */
            static int fanned_out;
            if (!__atomic_exchange_n(&fanned_out, 1, __ATOMIC_ACQ_REL))
                smp_nmi_others();
            pr_warn("NMI on CPU %u at %016llx, ignored", smp_processor_id(),
                    (unsigned long long)r->rip);
            print_address("at", r->rip);
            backtrace_print(r->rbp);
            return;
        }
        fatal_exception(r);
    }

    irq_handler_t fn = irq_handlers[r->vector];
    if (fn)
        fn(r);
    else if (r->vector != VEC_SPURIOUS)
        pr_warn("unexpected interrupt vector %llu on CPU %u",
                (unsigned long long)r->vector, smp_processor_id());
    /* Spurious interrupts are never in service, so they take no EOI. */
    if (r->vector != VEC_SPURIOUS)
        lapic_eoi();
}
