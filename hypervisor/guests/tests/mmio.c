/*
 * mmio.c - the MMIO path end to end: instructions on emulated device
 * memory give what the same instructions give on RAM.
 *
 * Needs `mmiotest` in its module string: the hypervisor then emulates
 * scratch registers at KT_MMIO_SCRATCH that read back what was written
 * (testport.h), and every access to them exits and goes through the
 * instruction emulator.  Each form below runs twice from the same
 * registers and the same 64 bytes of memory, once on a RAM buffer and
 * once on the scratch registers; the CPU's own result on RAM is the
 * reference for the emulator's on MMIO: registers, the flags the manuals
 * define, memory.  Then what a table cannot show: each access really
 * exits, a long REP comes back in slices, and an operand the guest's page
 * tables do not map raises #PF with the right CR2 and error code, and
 * 32-bit code in long mode is emulated as 32-bit code.
 */
#include "kt.h"

#define MSR_FS_BASE 0xc0000100
#define FL_CF  0x001u
#define FL_ALL 0x8d5u   /* CF PF AF ZF SF OF */
#define WIN    64       /* bytes each form may touch */

struct st {
    u64 rax, rbx, rcx, rdx, rsi, rdi, rflags;
};

/* The forms, in mmio-forms.S: each loads RAX, RBX (the memory's base),
 * RCX, RDX, RSI, RDI and RFLAGS from *s, runs one instruction (or a few
 * setting up a string one) and stores them back; FS base also points at
 * the memory. */
void f_mov_store32(struct st *s);
void f_mov_load64(struct st *s);
void f_mov_store_ah(struct st *s);
void f_mov_imm16(struct st *s);
void f_mov_imm64(struct st *s);
void f_mov_load8(struct st *s);
void f_mov_sib(struct st *s);
void f_moffs_load(struct st *s);
void f_moffs_store(struct st *s);
void f_fs_load(struct st *s);
void f_movzx8(struct st *s);
void f_movzx16(struct st *s);
void f_movsx16(struct st *s);
void f_movsx8(struct st *s);
void f_movsxd(struct st *s);
void f_add(struct st *s);
void f_add_to_reg(struct st *s);
void f_adc(struct st *s);
void f_sub_imm8(struct st *s);
void f_sbb(struct st *s);
void f_and_imm(struct st *s);
void f_or(struct st *s);
void f_xor(struct st *s);
void f_cmp_imm32(struct st *s);
void f_cmp_reg(struct st *s);
void f_lock_add(struct st *s);
void f_inc(struct st *s);
void f_dec(struct st *s);
void f_neg(struct st *s);
void f_not(struct st *s);
void f_test(struct st *s);
void f_test_imm(struct st *s);
void f_xchg(struct st *s);
void f_xchg8(struct st *s);
void f_bts(struct st *s);
void f_btr_imm(struct st *s);
void f_btc(struct st *s);
void f_bt(struct st *s);
void f_movsl(struct st *s);
void f_rep_stosw(struct st *s);
void f_rep_movsb(struct st *s);
void f_rep_movsb_df(struct st *s);
void f_rep_movsq_fs(struct st *s);
void f_lodsq(struct st *s);
void f_rep_stos_zero(struct st *s);

struct form {
    const char *name;
    void (*fn)(struct st *s);
    u32 flags;          /* the RFLAGS bits that must match */
};

static const struct form forms[] = {
    { "mov r32 -> m", f_mov_store32, FL_ALL },
    { "mov m -> r64", f_mov_load64, FL_ALL },
    { "mov ah -> m", f_mov_store_ah, FL_ALL },
    { "mov imm16 -> m", f_mov_imm16, FL_ALL },
    { "mov imm32 (sign-extended) -> m64", f_mov_imm64, FL_ALL },
    { "mov m -> dl", f_mov_load8, FL_ALL },
    { "mov base+index+disp -> r32", f_mov_sib, FL_ALL },
    { "mov fs:moffs -> eax", f_moffs_load, FL_ALL },
    { "mov rax -> fs:moffs", f_moffs_store, FL_ALL },
    { "mov fs:disp32 -> rdx", f_fs_load, FL_ALL },
    { "movzx m8", f_movzx8, FL_ALL },
    { "movzx m16 -> r64", f_movzx16, FL_ALL },
    { "movsx m16 -> r64", f_movsx16, FL_ALL },
    { "movsx m8 -> r16", f_movsx8, FL_ALL },
    { "movsxd", f_movsxd, FL_ALL },
    { "add r32 -> m", f_add, FL_ALL },
    { "add m8 -> al", f_add_to_reg, FL_ALL },
    { "adc m64 -> rcx", f_adc, FL_ALL },
    { "sub imm8 -> m8", f_sub_imm8, FL_ALL },
    { "sbb r16 -> m16", f_sbb, FL_ALL },
    { "and imm8 (sign-extended) -> m64", f_and_imm, FL_ALL },
    { "or m32 -> edx", f_or, FL_ALL },
    { "xor r16 -> m16", f_xor, FL_ALL },
    { "cmp imm32, m32", f_cmp_imm32, FL_ALL },
    { "cmp m64, rcx", f_cmp_reg, FL_ALL },
    { "lock add imm32 -> m32", f_lock_add, FL_ALL },
    { "lock inc m32", f_inc, FL_ALL },
    { "dec m8", f_dec, FL_ALL },
    { "neg m64", f_neg, FL_ALL },
    { "not m16", f_not, FL_ALL },
    { "test r32, m32", f_test, FL_ALL },
    { "test imm8, m8", f_test_imm, FL_ALL },
    { "xchg r64, m64", f_xchg, FL_ALL },
    { "xchg r8, m8", f_xchg8, FL_ALL },
    { "bts r32, m", f_bts, FL_CF },
    { "btr imm8, m64", f_btr_imm, FL_CF },
    { "btc r16, m", f_btc, FL_CF },
    { "bt imm8 (mod 32), m32", f_bt, FL_CF },
    { "movsl m -> m", f_movsl, FL_ALL },
    { "rep stosw x3", f_rep_stosw, FL_ALL },
    { "rep movsb x5", f_rep_movsb, FL_ALL },
    { "rep movsb x4 with DF", f_rep_movsb_df, FL_ALL },
    { "rep movsq x2 from fs:", f_rep_movsq_fs, FL_ALL },
    { "lodsq", f_lodsq, FL_ALL },
    { "rep stosb with rcx 0", f_rep_stos_zero, FL_ALL },
};

u32 compat_mmio(u32 base);

static u8 ram[4096] __attribute__((aligned(4096)));
static u8 ram2[4096] __attribute__((aligned(4096)));
static volatile u64 *const scratch = (volatile u64 *)(uintptr_t)KT_MMIO_SCRATCH;

/* The same 64 bytes at base, written as quadwords (on MMIO: 8 exits). */
static void fill(u64 base, unsigned int seed)
{
    for (unsigned int i = 0; i < WIN / 8; i++) {
        u64 q = 0;
        for (unsigned int b = 0; b < 8; b++)
            q |= (u64)(u8)((i * 8 + b) * 37 + seed) << (8 * b);
        ((volatile u64 *)(uintptr_t)base)[i] = q;
    }
}

static void run(const struct form *f, u64 base, u64 flags_in, struct st *out, u64 mem[WIN / 8])
{
    *out = (struct st){ .rax = 0xfedcba98765400f3ull, .rbx = base, .rcx = 45,
                        .rdx = 0x8000000000000001ull, .rsi = 0, .rdi = 0, .rflags = flags_in };
    kt_wrmsr_safe(MSR_FS_BASE, base);
    f->fn(out);
    kt_wrmsr_safe(MSR_FS_BASE, 0);
    for (unsigned int i = 0; i < WIN / 8; i++)
        mem[i] = ((volatile u64 *)(uintptr_t)base)[i];
}

/* A pointer register matches when equal, or equal relative to its base. */
static bool same_ptr(u64 a, u64 abase, u64 b, u64 bbase)
{
    return a == b || a - abase == b - bbase;
}

static void test_forms(void)
{
    unsigned int bad = 0, n = 0;

    for (unsigned int i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        for (u64 cf = 0; cf <= 1; cf++) {
            const struct form *f = &forms[i];
            const u64 mbase = KT_MMIO_SCRATCH, rbase = (u64)(uintptr_t)ram;
            struct st r, m;
            u64 rmem[WIN / 8], mmem[WIN / 8];
            u32 npf;
            bool ok;

            fill(rbase, i);
            fill(mbase, i);
            run(f, rbase, 0x2 | cf, &r, rmem);
            npf = kt_stat(KT_STAT_NPF);
            run(f, mbase, 0x2 | cf, &m, mmem);
            npf = kt_stat(KT_STAT_NPF) - npf;
            ok = r.rax == m.rax && r.rcx == m.rcx && r.rdx == m.rdx &&
                 same_ptr(r.rsi, rbase, m.rsi, mbase) && same_ptr(r.rdi, rbase, m.rdi, mbase) &&
                 ((r.rflags ^ m.rflags) & f->flags) == 0 &&
                 npf >= WIN / 8 + (f->fn != f_rep_stos_zero);   /* read-back + its own */
            for (unsigned int q = 0; q < WIN / 8; q++)
                ok = ok && rmem[q] == mmem[q];
            n++;
            if (!ok) {
                bad++;
                kt_diag("%s (CF %lu): RAM rax %lx rcx %lx rdx %lx fl %lx / MMIO rax %lx rcx %lx rdx %lx fl %lx, %u exits",
                        f->name, (unsigned long)cf, (unsigned long)r.rax, (unsigned long)r.rcx,
                        (unsigned long)r.rdx, (unsigned long)r.rflags, (unsigned long)m.rax,
                        (unsigned long)m.rcx, (unsigned long)m.rdx, (unsigned long)m.rflags, npf);
                for (unsigned int q = 0; q < WIN / 8; q++)
                    if (rmem[q] != mmem[q])
                        kt_diag("  +%u: RAM %lx MMIO %lx", q * 8, (unsigned long)rmem[q],
                                (unsigned long)mmem[q]);
            }
        }
    }
    kt_ok(bad == 0, "%u instruction forms x CF in: MMIO gives what RAM gives (%u differ)", n, bad);
}

static void test_one_exit_per_access(void)
{
    u32 npf = kt_stat(KT_STAT_NPF);
    u32 v = *(volatile u32 *)(uintptr_t)(KT_MMIO_SCRATCH + 0x100);

    scratch[0x108 / 8] = 0x1122334455667788ull;
    v += *(volatile u32 *)(uintptr_t)(KT_MMIO_SCRATCH + 0x10c);
    npf = kt_stat(KT_STAT_NPF) - npf;
    kt_ok(npf == 3 && v == 0x11223344u + *(volatile u32 *)(uintptr_t)(KT_MMIO_SCRATCH + 0x100),
          "every MMIO access exits, none gets mapped (%u exits for 3 accesses)", npf);
}

/* REP STOSQ fills the whole scratch page in one exit (512 < a slice);
 * REP MOVSB copies its 4096 bytes to RAM in 4 slices of 1024. */
static void test_long_rep(void)
{
    u64 rdi = KT_MMIO_SCRATCH, rcx = 512, rsi;
    u32 npf;
    bool same = true;

    kt_memset(ram2, 0, sizeof(ram2));           /* mapped before counting */
    npf = kt_stat(KT_STAT_NPF);
    __asm__ __volatile__("rep stosq" : "+D"(rdi), "+c"(rcx) : "a"(0x0102030405060708ull) : "memory");
    npf = kt_stat(KT_STAT_NPF) - npf;
    kt_ok(rcx == 0 && rdi == KT_MMIO_SCRATCH + 4096 && npf == 1,
          "REP STOSQ of 512 quadwords to MMIO: one exit (%u), RDI and RCX done", npf);

    for (unsigned int i = 0; i < 4096; i += 8)
        scratch[i / 8] = 0x0101010101010101ull * (u8)(i / 8);
    rsi = KT_MMIO_SCRATCH;
    rdi = (u64)(uintptr_t)ram2;
    rcx = 4096;
    npf = kt_stat(KT_STAT_NPF);
    __asm__ __volatile__("rep movsb" : "+S"(rsi), "+D"(rdi), "+c"(rcx) :: "memory");
    npf = kt_stat(KT_STAT_NPF) - npf;
    for (unsigned int i = 0; i < 4096; i++)
        same = same && ram2[i] == (u8)(i / 8);
    kt_ok(same && rcx == 0 && rsi == KT_MMIO_SCRATCH + 4096 && npf == 4,
          "REP MOVSB of 4096 bytes from MMIO to RAM: 4 slices (%u exits), data intact", npf);
}

/* MOVSB from MMIO to a linear address the guest's tables do not map
 * (above 4 GiB): #PF, CR2 = that address, error "write, not present",
 * registers untouched. */
static void test_fault_in_other_operand(void)
{
    const u64 hole = 1ull << 32;
    u64 rsi = KT_MMIO_SCRATCH, rdi = hole, rcx = 2, cr2 = 0;

    kt_last_vector = -1;
    __asm__ __volatile__("leaq 1f(%%rip), %%r11; movq %%r11, kt_fixup_rip(%%rip)\n\t"
                         "rep movsb\n1:\n\tmovq $0, kt_fixup_rip(%%rip)"
                         : "+S"(rsi), "+D"(rdi), "+c"(rcx) :: "r11", "memory");
    __asm__ __volatile__("movq %%cr2, %0" : "=r"(cr2));
    kt_ok(kt_last_vector == 14 && cr2 == hole && (kt_last_error & 7) == 2 && rcx == 2 &&
          rsi == KT_MMIO_SCRATCH && rdi == hole,
          "REP MOVSB from MMIO to an unmapped address: #PF (vector %d, CR2 %#lx, error %#lx)",
          kt_last_vector, (unsigned long)cr2, (unsigned long)kt_last_error);
}

/* The same path from 32-bit code in long mode: the emulator must take the
 * mode from the code segment, not from EFER. */
static void test_compat_mode(void)
{
    volatile u8 *p = (volatile u8 *)(uintptr_t)(KT_MMIO_SCRATCH + 0x200);
    u32 npf, word;

    for (unsigned int i = 0; i < 20; i++)
        p[i] = 0;
    npf = kt_stat(KT_STAT_NPF);
    word = compat_mmio((u32)(KT_MMIO_SCRATCH + 0x200));
    npf = kt_stat(KT_STAT_NPF) - npf;
    kt_ok(*(volatile u32 *)p == 0x12233344u && word == 0x1223 && p[8] == 0x77 &&
          p[9] == 0x77 && p[10] == 0x77 && p[11] == 0 && *(volatile u32 *)(p + 16) == 0x11223344u &&
          npf == 5,
          "compatibility mode: MOV, MOV moffs32, ADD, MOVZX, REP STOSB on MMIO (%u exits, word %#x)",
          npf, word);
}

void kt_main(void)
{
    kt_plan(7);
    kt_idt_install();
    test_forms();
    test_one_exit_per_access();
    test_long_rep();
    test_fault_in_other_operand();
    test_compat_mode();
    kt_ok(kt_failures() == 0, "all MMIO checks passed; powering off");
}
