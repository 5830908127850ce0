/*
 * exits.c - every kind of exit the hypervisor handles, each proven by the
 * guest-visible result AND by the vCPU's exit counter (KT_PORT_STAT):
 * CPUID, RDMSR/WRMSR (allowed, and #GP for refused ones), port I/O in and
 * out, string port I/O (REP INS/OUTS, DF, segment and address-size
 * prefixes, #PF on an unmapped address), VMMCALL, nested page faults that map memory on demand, HLT, a timed
 * sched_block, physical interrupts arriving while the guest spins, and
 * SVM instructions (intercepted, #UD injected).
 * The clean shutdown at the end is checked by the scenario.
 */
#include "kt.h"

#define MSR_EFER      0xc0000080
#define MSR_LSTAR     0xc0000082
#define MSR_HSAVE_PA  0xc0010117
#define MSR_BOGUS     0x4b4c4e00
#define EFER_LME      (1u << 8)
#define EFER_LMA      (1u << 10)
#define EFER_SVME     (1u << 12)

static void test_msr(void)
{
    u32 before = kt_stat(KT_STAT_MSR);
    u64 efer = 0, lstar = 0, v = 0;
    int fault = kt_rdmsr_safe(MSR_EFER, &efer);
    kt_ok(fault == 0 && (efer & EFER_LMA) && (efer & EFER_LME) &&
          !(efer & EFER_SVME), "rdmsr EFER: long mode on, SVME hidden (%#lx)", (unsigned long)efer);
    kt_ok(kt_wrmsr_safe(MSR_LSTAR, 0xffffffff81234560ull) == 0 &&
          kt_rdmsr_safe(MSR_LSTAR, &lstar) == 0 && lstar == 0xffffffff81234560ull,
          "wrmsr/rdmsr LSTAR round trip");
    kt_ok(kt_rdmsr_safe(MSR_BOGUS, &v) == 13, "rdmsr of an unknown MSR raises #GP");
    kt_ok(kt_wrmsr_safe(MSR_HSAVE_PA, 0x1000) == 13, "wrmsr VM_HSAVE_PA (SVM) raises #GP");
    kt_ok(kt_wrmsr_safe(MSR_LSTAR, 0x0000800000000000ull) == 13,
          "wrmsr of a non-canonical LSTAR raises #GP");
    kt_ok(kt_stat(KT_STAT_MSR) - before == 6, "6 MSR exits counted (%u)",
          kt_stat(KT_STAT_MSR) - before);
}

static void test_io(void)
{
    u32 before = kt_stat(KT_STAT_IO);
    kt_outl(KT_PORT_SCRATCH, 0xfeedf00d);
    kt_ok(kt_inl(KT_PORT_SCRATCH) == 0xfeedf00d, "out/in 32-bit scratch port round trip");
    kt_ok(kt_inb(KT_PORT_CONSOLE) == KT_PORT_CONSOLE, "in8 of the console port reads 0xe9");
    kt_ok(kt_inb(KT_PORT_COM1 + KT_COM1_LSR) == KT_COM1_LSR_IDLE, "COM1 stub: LSR says idle");
    kt_ok(kt_inb(0x2f0) == 0xff, "unclaimed port reads as all ones");
    const char *s = "port console works\n";
    while (*s)
        kt_outb(KT_PORT_CONSOLE, (u8)*s++);
    s = "com1 stub works\n";
    while (*s)
        kt_outb(KT_PORT_COM1, (u8)*s++);
    /* After the access that read `before`: 5 above, 19 + 16 bytes, 2 to read. */
    u32 n = kt_stat(KT_STAT_IO) - before;
    kt_ok(n == 5 + 19 + 16 + 2, "every port access exited (%u)", n);
}

#define MSR_FS_BASE 0xc0000100

static u64 rep_outsb(u16 port, const void *buf, u64 n, bool backwards)
{
    __asm__ __volatile__("testb %b3, %b3; jz 1f; std; 1: rep outsb; cld"
                         : "+S"(buf), "+c"(n) : "d"(port), "q"(backwards) : "memory", "cc");
    return (u64)(uintptr_t)buf;
}

/* INS/OUTS (string port I/O), each with its registers checked after. */
static void test_string_io(void)
{
    static const char fwd[] = "rep outsb works\n";
    static const char back[] = "\nsdrawkcab bstuo";   /* "outsb backwards\n" read from its end */
    static const char via_fs[] = "fs outsb works\n";
    static char big[10000];
    u16 words[4] = { 0, 0, 0, 0 };

    u64 end = rep_outsb(KT_PORT_CONSOLE, fwd, sizeof(fwd) - 1, false);
    kt_ok(end == (u64)(uintptr_t)fwd + sizeof(fwd) - 1, "REP OUTSB: RSI past the string");
    end = rep_outsb(KT_PORT_CONSOLE, back + sizeof(back) - 2, sizeof(back) - 1, true);
    kt_ok(end == (u64)(uintptr_t)back - 1, "REP OUTSB with DF set walks down");

    /* FS:[RSI] with FS.base = the string - 0x1000: only a decoded FS prefix finds it. */
    u64 fsbase = (u64)(uintptr_t)via_fs - 0x1000, rsi = 0x1000, rcx = sizeof(via_fs) - 1;
    kt_ok(kt_wrmsr_safe(MSR_FS_BASE, fsbase) == 0, "FS base set");
    __asm__ __volatile__("rep outsb %%fs:(%%rsi), (%%dx)"
                         : "+S"(rsi), "+c"(rcx) : "d"(KT_PORT_CONSOLE) : "memory");
    kt_wrmsr_safe(MSR_FS_BASE, 0);

    /* A 0x67 prefix: ESI, not RSI, whose upper half would point at
     * nothing; the result zero-extends as any 32-bit register write. */
    static const char a32[] = "addr32 outsb works\n";
    rsi = (1ull << 32) | (u64)(uintptr_t)a32;
    rcx = sizeof(a32) - 1;
    __asm__ __volatile__("rep outsb (%%esi), (%%dx)"
                         : "+S"(rsi), "+c"(rcx) : "d"(KT_PORT_CONSOLE) : "memory");
    kt_ok(rsi == (u64)(uintptr_t)a32 + sizeof(a32) - 1 && rcx == 0,
          "REP OUTSB with a 32-bit address size uses ESI (RSI now %#lx)", (unsigned long)rsi);

    kt_outl(KT_PORT_SCRATCH, 0x1234abcd);
    u16 *di = words;
    u64 n = 4;
    __asm__ __volatile__("cld; rep insw" : "+D"(di), "+c"(n) : "d"(KT_PORT_SCRATCH) : "memory");
    kt_ok(n == 0 && di == words + 4 && words[0] == 0xabcd && words[3] == 0xabcd,
          "REP INSW: 4 words from the scratch port (%#x %#x), RDI and RCX updated",
          words[0], words[3]);

    u32 io0 = kt_stat(KT_STAT_IO);
    end = rep_outsb(KT_PORT_NULL, big, sizeof(big), false);
    u32 exits = kt_stat(KT_STAT_IO) - io0 - 1;   /* the last is kt_stat's own OUT */
    kt_ok(end == (u64)(uintptr_t)big + sizeof(big) && exits > 1 && exits < 100,
          "a 10000-byte REP OUTSB completes in slices (%u exits)", exits);
}

/* OUTS from, and INS into, a linear address the page tables do not map
 * (the guest maps only its low 4 GiB): #PF with CR2 = that address, the
 * write bit for INS, and RCX/RSI/RDI untouched as no element completed. */
static void test_string_io_fault(void)
{
    const u64 hole = 1ull << 32;
    u64 rsi = hole, rdi = hole, rcx = 3, cr2 = 0;

    kt_last_vector = -1;
    __asm__ __volatile__("leaq 1f(%%rip), %%r11; movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "rep outsb\n1:\n\tmovq $0, kt_fixup_rip(%%rip)"
                         : "+S"(rsi), "+c"(rcx) : "d"(KT_PORT_CONSOLE) : "r11", "memory");
    __asm__ __volatile__("movq %%cr2, %0" : "=r"(cr2));
    kt_ok(kt_last_vector == 14 && cr2 == hole && !(kt_last_error & 3) && rcx == 3 && rsi == hole,
          "REP OUTSB from an unmapped address: #PF (vector %d, CR2 %#lx, error %#lx)",
          kt_last_vector, (unsigned long)cr2, (unsigned long)kt_last_error);

    kt_last_vector = -1;
    __asm__ __volatile__("leaq 1f(%%rip), %%r11; movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "rep insb\n1:\n\tmovq $0, kt_fixup_rip(%%rip)"
                         : "+D"(rdi), "+c"(rcx) : "d"(KT_PORT_SCRATCH) : "r11", "memory");
    __asm__ __volatile__("movq %%cr2, %0" : "=r"(cr2));
    kt_ok(kt_last_vector == 14 && cr2 == hole && (kt_last_error & 3) == 2 && rcx == 3 && rdi == hole,
          "REP INSB into an unmapped address: #PF for a write (error %#lx)",
          (unsigned long)kt_last_error);
}

static void test_vmmcall(void)
{
    u32 before = kt_stat(KT_STAT_VMMCALL);
    s64 v = kt_hc_version();
    s64 bad = kt_hypercall(0x1234, 0, 0, 0, 0, 0);
    u32 n = kt_stat(KT_STAT_VMMCALL) - before;
    kt_ok(v == ((KILN_ABI_MAJOR << 16) | KILN_ABI_MINOR) && bad == -KILN_ENOSYS,
          "VMMCALL: version %ld, unknown call %ld", (long)v, (long)bad);
    kt_ok(n == 2, "2 VMMCALL exits counted (%u)", n);
}

static void test_npf(void)
{
    u64 ram = kt_boot_arg * 1024;
    volatile u64 *p = (volatile u64 *)(uintptr_t)(ram - 8192);
    u32 before = kt_stat(KT_STAT_NPF);
    u64 old = *p;
    u32 after_read = kt_stat(KT_STAT_NPF);
    *p = 0x5a5a5a5a5a5a5a5aull;
    kt_ok(old == 0, "untouched guest RAM reads as zero");
    kt_ok(after_read == before + 1, "first touch of a page is one nested page fault (%u -> %u)",
          before, after_read);
    kt_ok(*p == 0x5a5a5a5a5a5a5a5aull && kt_stat(KT_STAT_NPF) == after_read,
          "the mapping stays: write/read back without a further fault");
}

static void test_hlt(void)
{
    u32 before = kt_stat(KT_STAT_HLT);
    s64 t0 = kt_hc_time();
    __asm__ __volatile__("cli; hlt" ::: "memory");
    s64 dt = kt_hc_time() - t0;
    kt_ok(kt_stat(KT_STAT_HLT) == before + 1 && dt > 1000000 && dt < 500000000,
          "HLT exits and the vCPU sleeps until its tick (%ld us)", (long)(dt / 1000));
}

static void test_block(void)
{
    s64 t0 = kt_hc_time(), r0 = kt_hc_vcpu_runtime();
    kt_hc_block((u64)t0 + 50000000);
    s64 dt = kt_hc_time() - t0, ran = kt_hc_vcpu_runtime() - r0;
    kt_ok(dt >= 50000000 && dt < 1000000000, "sched_block(now + 50 ms) wakes by the timer (%ld us)",
          (long)(dt / 1000));
    kt_ok(ran < dt / 4, "a blocked vCPU does not run (%ld us of guest time)", (long)(ran / 1000));
}

static void test_interrupts(void)
{
    u32 intr0 = kt_stat(KT_STAT_INTR);
    s64 t0 = kt_hc_time();
    u64 tsc0 = kt_rdtsc(), spins = 0;
    while (kt_hc_time() - t0 < 200000000)
        for (int i = 0; i < 100000; i++, spins++)
            __asm__ __volatile__("" ::: "memory");
    u32 intrs = kt_stat(KT_STAT_INTR) - intr0;
    kt_ok(intrs > 0, "physical interrupts exit while the guest spins (%u in 200 ms)", intrs);
    kt_ok(kt_rdtsc() > tsc0 && spins > 0, "guest kept running through them (%lu spins)",
          (unsigned long)spins);
}

/* SVM is hidden: its instructions must raise #UD, never reach the host. */
static void test_svm_insns(void)
{
    int v[7] = {
        KT_TRY("xorl %%eax, %%eax; vmrun"), KT_TRY("xorl %%eax, %%eax; vmload"),
        KT_TRY("xorl %%eax, %%eax; vmsave"), KT_TRY("stgi"), KT_TRY("clgi"),
        KT_TRY("xorl %%eax, %%eax; xorl %%ecx, %%ecx; invlpga"), KT_TRY("xorl %%eax, %%eax; skinit"),
    };
    bool all_ud = true;
    for (int i = 0; i < 7; i++)
        all_ud = all_ud && v[i] == 6;
    kt_ok(all_ud, "VMRUN VMLOAD VMSAVE STGI CLGI INVLPGA SKINIT raise #UD (%d %d %d %d %d %d %d)",
          v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}

void kt_main(void)
{
    kt_plan(32);
    kt_idt_install();
    u32 c0 = kt_stat(KT_STAT_CPUID);
    kt_cpuid(0, 0);
    kt_cpuid(1, 0);
    kt_ok(kt_stat(KT_STAT_CPUID) - c0 == 2, "CPUID exits (2 counted)");
    test_msr();
    test_io();
    test_string_io();
    test_string_io_fault();
    test_vmmcall();
    test_npf();
    test_hlt();
    test_block();
    test_interrupts();
    test_svm_insns();
    kt_ok(kt_failures() == 0, "all exit checks passed; powering off");
}
