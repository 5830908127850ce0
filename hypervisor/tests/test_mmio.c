/*
 * test_mmio.c - unit tests of a domain's emulated device memory
 * (arch/x86/hvm/mmio.c) together with the guest page walk it relies on
 * (hvm_translate_linear in arch/x86/hvm/emulate.c).
 *
 * The domain is faked: 64 KiB of RAM in an array, long-mode page tables
 * built in it by the test, a backend whose registers are a struct, and two
 * devices that log every access.  Each test places an instruction at RIP,
 * takes the nested page fault hvm_nested_fault() would pass on, and checks
 * what the guest and the devices see: registers, RIP, the exception
 * injected (CR2, error code), each device access with its width, or the
 * domain's destruction and its log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../arch/x86/insn_len.c"
#include "../arch/x86/hvm/x86_emulate.c"
#include "../arch/x86/hvm/emulate.c"
#include "../arch/x86/hvm/mmio.c"

#define RAM_SIZE   0x10000u
#define DEV_A      0xfe000000ull        /* 8 KiB, logs and reads back */
#define DEV_B      0xfe100000ull        /* 4 KiB, refuses everything */
#define UNCLAIMED  0xfd000000ull
#define CODE       0x8000ull            /* linear == GPA for the low 64 KiB */

/* Linear layout (4 KiB pages through PML4 0x1000, PDPT 0x2000, PD 0x3000,
 * PT 0x4000): 0-0xffff RAM 1:1 writable, supervisor; then: */
#define LA_DEV     0x10000ull           /* -> DEV_A, 2 pages */
#define LA_UNCL    0x12000ull           /* -> UNCLAIMED */
#define LA_RO      0x13000ull           /* -> RAM 0x6000, read-only */
#define LA_USER    0x14000ull           /* -> DEV_A, user-accessible */
#define LA_DEV_B   0x15000ull           /* -> DEV_B */
#define LA_HOLE    0x16000ull           /* not present */

static u8 ram[RAM_SIZE];
static struct domain dom;
static struct vcpu vcpu = { .domain = &dom };
static struct hvm_regs regs;
static u64 cr0 = CR0_PG | CR0_PE | CR0_WP;
static char crash_msg[200];
static int crashes, injected_vector, set_regs_calls;
static u64 injected_cr2;
static u32 injected_error;

struct dev_access { char kind; u64 gpa; unsigned int size; u64 val; };
static struct dev_access dev_log[8];
static unsigned int ndev;
static u8 dev_a_mem[8192];
static int releases;

/* ---- the fake domain and backend --------------------------------------------- */

int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len)
{
    assert_ptr_equal(d, &dom);
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -KILN_EFAULT;
    memcpy(dst, ram + gpa, len);
    return 0;
}

int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    assert_ptr_equal(d, &dom);
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -KILN_EFAULT;
    memcpy(ram + gpa, src, len);
    return 0;
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    va_list ap;
    assert_ptr_equal(d, &dom);
    va_start(ap, fmt);
    vsnprintf(crash_msg, sizeof(crash_msg), fmt, ap);
    va_end(ap);
    crashes++;
}

static void get_regs(struct vcpu *v, struct hvm_regs *r) { (void)v; *r = regs; }
static void set_regs(struct vcpu *v, const struct hvm_regs *r) { (void)v; regs = *r; set_regs_calls++; }
static u64 seg_base(struct vcpu *v, enum x86_seg s) { (void)v; return s == X86_SEG_FS ? LA_DEV : 0; }

/* Exceptions other than #PF reach the common event queue (hvm_event.h). */
void hvm_event_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
    (void)v;
    injected_vector = vector;
    injected_error = has_error ? error : 0xdead;
}

static void inject_page_fault(struct vcpu *v, u64 linear, u32 error)
{
    hvm_event_exception(v, X86_EXC_PF, true, error);
    injected_cr2 = linear;
}

static void paging(struct vcpu *v, struct hvm_paging *pg)
{
    (void)v;
    *pg = (struct hvm_paging){ .cr0 = cr0, .cr3 = 0x1000, .cr4 = CR4_PAE,
                               .efer = EFER_LMA | EFER_LME, .cs_long = true };
}

static const struct hvm_ops fake_hvm = {
    .get_regs = get_regs, .set_regs = set_regs, .seg_base = seg_base,
    .inject_page_fault = inject_page_fault,
    .paging = paging,
};
const struct hvm_ops *hvm = &fake_hvm;

static int dev_a_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    assert_ptr_equal(dev, dev_a_mem);
    assert_ptr_equal(v, &vcpu);
    assert_true(gpa >= DEV_A && gpa + size <= DEV_A + sizeof(dev_a_mem));
    *val = 0;
    memcpy(val, dev_a_mem + (gpa - DEV_A), size);
    if (ndev < 8)
        dev_log[ndev++] = (struct dev_access){ 'r', gpa, size, *val };
    return 0;
}

static int dev_a_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    assert_ptr_equal(dev, dev_a_mem);
    assert_ptr_equal(v, &vcpu);
    assert_true(gpa >= DEV_A && gpa + size <= DEV_A + sizeof(dev_a_mem));
    memcpy(dev_a_mem + (gpa - DEV_A), &val, size);
    if (ndev < 8)
        dev_log[ndev++] = (struct dev_access){ 'w', gpa, size, val };
    return 0;
}

static void dev_release(void *dev) { (void)dev; releases++; }

static int dev_b_refuse(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)dev; (void)v; (void)gpa; (void)size; (void)val;
    return -KILN_EINVAL;
}

static int dev_b_refuse_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)dev; (void)v; (void)gpa; (void)size; (void)val;
    return -KILN_EINVAL;
}

static const struct hvm_mmio_ops dev_a_ops = { dev_a_read, dev_a_write, dev_release };
static const struct hvm_mmio_ops dev_b_ops = { dev_b_refuse, dev_b_refuse_write, NULL };

static void map(u64 la, u64 gpa, u64 flags)
{
    u64 pte = gpa | flags;
    memcpy(ram + 0x4000 + ((la >> 12) & 511) * 8, &pte, 8);
}

static int setup(void **state)
{
    u64 e;
    (void)state;
    memset(ram, 0, sizeof(ram));
    memset(dev_a_mem, 0, sizeof(dev_a_mem));
    memset(&dom, 0, sizeof(dom));
    dom.p2m.nr_pages = RAM_SIZE / PAGE_SIZE;
    e = 0x2000 | PTE_P | PTE_W | PTE_U;
    memcpy(ram + 0x1000, &e, 8);
    e = 0x3000 | PTE_P | PTE_W | PTE_U;
    memcpy(ram + 0x2000, &e, 8);
    e = 0x4000 | PTE_P | PTE_W | PTE_U;
    memcpy(ram + 0x3000, &e, 8);
    for (u64 la = 0; la < RAM_SIZE; la += PAGE_SIZE)
        map(la, la, PTE_P | PTE_W);
    map(LA_DEV, DEV_A, PTE_P | PTE_W);
    map(LA_DEV + 0x1000, DEV_A + 0x1000, PTE_P | PTE_W);
    map(LA_UNCL, UNCLAIMED, PTE_P | PTE_W);
    map(LA_RO, 0x6000, PTE_P);
    map(LA_USER, DEV_A, PTE_P | PTE_W | PTE_U);
    map(LA_DEV_B, DEV_B, PTE_P | PTE_W);
    assert_int_equal(hvm_mmio_register(&dom, DEV_A, 8192, &dev_a_ops, dev_a_mem), 0);
    assert_int_equal(hvm_mmio_register(&dom, DEV_B, 4096, &dev_b_ops, NULL), 0);
    regs = (struct hvm_regs){ .rip = CODE, .rflags = 2 };
    cr0 = CR0_PG | CR0_PE | CR0_WP;
    crash_msg[0] = '\0';
    crashes = injected_vector = set_regs_calls = 0;
    injected_cr2 = injected_error = 0;
    ndev = releases = 0;
    return 0;
}

/* Places the instruction at RIP and takes the fault at gpa. */
static int fault(const char *bytes, size_t len, u64 gpa)
{
    memcpy(ram + CODE, bytes, len);
    return hvm_mmio_fault(&vcpu, gpa, 1ull << 32 | 6);
}
#define FAULT(b, gpa) fault(b, sizeof(b) - 1, gpa)

/* ---- registration -------------------------------------------------------------- */

static void test_register_rules(void **state)
{
    (void)state;
    assert_int_equal(hvm_mmio_register(&dom, DEV_A + 0x1000, 16, &dev_a_ops, NULL), -KILN_EEXIST);
    assert_int_equal(hvm_mmio_register(&dom, DEV_A - 1, 2, &dev_a_ops, NULL), -KILN_EEXIST);
    assert_int_equal(hvm_mmio_register(&dom, RAM_SIZE - 8, 16, &dev_a_ops, NULL), -KILN_EINVAL);
    assert_int_equal(hvm_mmio_register(&dom, 0xf0000000, 0, &dev_a_ops, NULL), -KILN_EINVAL);
    assert_int_equal(hvm_mmio_register(&dom, ~0ull - 8, 16, &dev_a_ops, NULL), -KILN_EINVAL);
    assert_int_equal(hvm_mmio_register(&dom, 0xf0000000, 16, &dev_b_ops, NULL), 0);
    assert_int_equal(hvm_mmio_register(&dom, 0xf1000000, 16, NULL, NULL), -KILN_EINVAL);
    for (unsigned int i = 3; i < HVM_MMIO_MAX_REGIONS; i++)
        assert_int_equal(hvm_mmio_register(&dom, 0xe0000000 + i * 0x1000, 0x1000, &dev_b_ops, NULL), 0);
    assert_int_equal(hvm_mmio_register(&dom, 0xd0000000, 16, &dev_b_ops, NULL), -KILN_E2BIG);
    assert_true(hvm_mmio_claimed(&dom, DEV_A + 8191));
    assert_false(hvm_mmio_claimed(&dom, DEV_A + 8192));
    assert_false(hvm_mmio_claimed(&dom, UNCLAIMED));

    hvm_mmio_release(&dom);
    assert_int_equal(releases, 1);              /* DEV_A's op; the others have none */
    assert_false(hvm_mmio_claimed(&dom, DEV_A));

    dom.p2m.identity = true;                    /* dom0's devices are its own */
    assert_int_equal(hvm_mmio_register(&dom, 0xf0000000, 16, &dev_b_ops, NULL), -KILN_EINVAL);
}

/* ---- emulation through the guest's tables ----------------------------------------- */

static void test_store_and_load(void **state)
{
    (void)state;
    regs.rax = 0x1122334455667788ull;
    regs.rbx = LA_DEV + 4;
    assert_int_equal(FAULT("\x89\x03", DEV_A + 4), 0);             /* mov %eax,(%rbx) */
    assert_int_equal(ndev, 1);
    assert_int_equal(dev_log[0].kind, 'w');
    assert_int_equal(dev_log[0].gpa, DEV_A + 4);
    assert_int_equal(dev_log[0].size, 4);
    assert_int_equal(dev_log[0].val, 0x55667788);
    assert_int_equal(regs.rip, CODE + 2);
    assert_int_equal(set_regs_calls, 1);

    regs.rip = CODE;
    assert_int_equal(FAULT("\x64\x48\x8b\x0c\x25\x04\x00\x00\x00", DEV_A + 4), 0); /* mov %fs:4,%rcx */
    assert_int_equal(regs.rcx, 0x55667788);
    assert_int_equal(dev_log[1].size, 8);
    assert_int_equal(regs.rip, CODE + 9);
    assert_int_equal(crashes, 0);
    assert_int_equal(injected_vector, 0);
}

/* MOVSQ from the device to RAM, and from RAM to the device. */
static void test_movs_between_ram_and_device(void **state)
{
    (void)state;
    memcpy(dev_a_mem + 0x10, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    regs.rsi = LA_DEV + 0x10;
    regs.rdi = 0x7000;
    assert_int_equal(FAULT("\x48\xa5", DEV_A + 0x10), 0);
    assert_memory_equal(ram + 0x7000, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(regs.rsi, LA_DEV + 0x18);
    assert_int_equal(regs.rdi, 0x7008);

    regs.rip = CODE;
    regs.rsi = 0x7000;
    regs.rdi = LA_DEV + 0x1ff8;                 /* the last quadword of the region */
    assert_int_equal(FAULT("\x48\xa5", DEV_A + 0x1ff8), 0);
    assert_memory_equal(dev_a_mem + 0x1ff8, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);
    assert_int_equal(crashes, 0);
}

/* A write across a page boundary: both pages are translated first, so a
 * second page that is not present faults before the device sees anything. */
static void test_straddling_access(void **state)
{
    (void)state;
    regs.rbx = LA_DEV + 0x1ffc;                 /* second device page, then LA_UNCL */
    regs.rax = 0xaabbccdd11223344ull;
    map(LA_UNCL, 0, 0);                         /* make the next page not present */
    assert_int_equal(FAULT("\x48\x89\x03", DEV_A + 0x1ffc), 0);
    assert_int_equal(injected_vector, X86_EXC_PF);
    assert_int_equal(injected_cr2, LA_UNCL);
    assert_int_equal(injected_error, 2);        /* write, not present */
    assert_int_equal(ndev, 0);
    assert_int_equal(regs.rip, CODE);

    /* RAM then device: 4 bytes each side, the device's as one access. */
    regs.rbx = LA_DEV - 4;
    assert_int_equal(FAULT("\x48\x89\x03", DEV_A), 0);
    assert_memory_equal(ram + 0xfffc, "\x44\x33\x22\x11", 4);
    assert_int_equal(ndev, 1);
    assert_int_equal(dev_log[0].size, 4);
    assert_int_equal(dev_log[0].val, 0xaabbccdd);

    /* Misaligned across the end of the region into unclaimed space. */
    map(LA_DEV + 0x2000, DEV_A + 0x2000, PTE_P | PTE_W);
    regs.rip = CODE;
    regs.rbx = LA_DEV + 0x1ffe;
    assert_int_equal(FAULT("\x89\x03", DEV_A + 0x1ffe), -1);
    assert_string_equal(crash_msg, "access to GPA 0xfe002000 outside its RAM by [89 03] at rip=0x8000");
}

static void test_guest_page_faults(void **state)
{
    (void)state;
    /* The other operand not present: #PF, no device access, RIP stays. */
    regs.rsi = LA_DEV;
    regs.rdi = LA_HOLE + 8;
    assert_int_equal(FAULT("\xa4", DEV_A), 0);
    assert_int_equal(injected_vector, X86_EXC_PF);
    assert_int_equal(injected_cr2, LA_HOLE + 8);
    assert_int_equal(injected_error, 2);
    assert_int_equal(regs.rip, CODE);
    assert_int_equal(regs.rdi, LA_HOLE + 8);

    /* Read-only RAM with CR0.WP: protection fault (P|W). */
    injected_vector = 0;
    regs.rdi = LA_RO;
    assert_int_equal(FAULT("\xa4", DEV_A), 0);
    assert_int_equal(injected_vector, X86_EXC_PF);
    assert_int_equal(injected_error, 3);
    assert_int_equal(ndev, 2);                  /* the source was read each time */

    /* Without CR0.WP a supervisor write goes through. */
    cr0 &= ~CR0_WP;
    injected_vector = 0;
    assert_int_equal(FAULT("\xa4", DEV_A), 0);
    assert_int_equal(injected_vector, 0);
    assert_int_equal(regs.rip, CODE + 1);
}

/* CPL 3: a supervisor-only page faults with U set; a user page works. */
static void test_user_mode(void **state)
{
    (void)state;
    regs.cpl = 3;
    regs.rbx = LA_DEV;
    assert_int_equal(FAULT("\x8b\x03", DEV_A), 0);
    assert_int_equal(injected_vector, X86_EXC_PF);
    assert_int_equal(injected_error, 5);        /* P | U */
    assert_int_equal(ndev, 0);

    injected_vector = 0;
    regs.rbx = LA_USER + 0x20;
    assert_int_equal(FAULT("\x8b\x03", DEV_A + 0x20), 0);
    assert_int_equal(injected_vector, 0);
    assert_int_equal(ndev, 1);
    assert_int_equal(dev_log[0].gpa, DEV_A + 0x20);
}

/* Exceptions the emulator raises itself reach the guest. */
static void test_emulator_exceptions(void **state)
{
    (void)state;
    assert_int_equal(FAULT("\xf0\x89\x03", DEV_A), 0);           /* lock mov: #UD */
    assert_int_equal(injected_vector, X86_EXC_UD);
    assert_int_equal(injected_error, 0xdead);                   /* no error code */
    regs.rbx = 0x8000000000000000ull;
    assert_int_equal(FAULT("\x8b\x03", DEV_A), 0);               /* non-canonical: #GP(0) */
    assert_int_equal(injected_vector, X86_EXC_GP);
    assert_int_equal(injected_error, 0);
    assert_int_equal(regs.rip, CODE);
}

static void test_domain_destroyed(void **state)
{
    (void)state;
    regs.rbx = LA_DEV;
    assert_int_equal(FAULT("\xf0\x0f\xb1\x0b", DEV_A), -1);       /* lock cmpxchg */
    assert_string_equal(crash_msg, "cannot emulate [f0 0f b1 0b] at rip=0x8000 touching GPA 0xfe000000");
    assert_int_equal(set_regs_calls, 0);

    regs.rsi = LA_DEV;
    regs.rdi = LA_UNCL;
    assert_int_equal(FAULT("\xa4", DEV_A), -1);
    assert_string_equal(crash_msg, "access to GPA 0xfd000000 outside its RAM by [a4] at rip=0x8000");

    regs.rbx = LA_DEV_B + 8;
    assert_int_equal(FAULT("\x8b\x03", DEV_B + 8), -1);
    assert_string_equal(crash_msg,
                        "device at GPA 0xfe100008 refused the access (error -22) of [8b 03] at rip=0x8000");

    assert_int_equal(hvm_mmio_fault(&vcpu, DEV_A, 1ull << 32 | 0x10), -1);
    assert_string_equal(crash_msg, "instruction fetch at GPA 0xfe000000, emulated device memory, rip=0x8000");
    assert_int_equal(hvm_mmio_fault(&vcpu, DEV_A, 1ull << 33 | 4), -1);
    assert_string_equal(crash_msg, "page table read at GPA 0xfe000000, emulated device memory, rip=0x8000");

    regs.rip = LA_HOLE;                         /* the code itself cannot be read */
    assert_int_equal(hvm_mmio_fault(&vcpu, DEV_A, 1ull << 32 | 6), -1);
    assert_string_equal(crash_msg, "cannot emulate [] at rip=0x16000 touching GPA 0xfe000000");
    assert_int_equal(crashes, 6);
    assert_int_equal(ndev, 1);                  /* MOVSB read its source first */
}

/* The other paging modes of the walk: 2-level with a 4 MiB page, PAE. */
static void test_walk_legacy_and_pae(void **state)
{
    struct hvm_paging pg = { .cr0 = CR0_PG | CR0_WP, .cr3 = 0x1000, .cr4 = CR4_PSE };
    u32 pde = 0x00400000u | PTE_P | PTE_PS;     /* linear 4-8 MiB -> GPA 4 MiB, read-only */
    u64 gpa, pdpte = 0x2000 | PTE_P, pae_pde = 0x3000 | PTE_P | PTE_W, pae_pte = 0x5000 | PTE_P | PTE_W | PTE_U;
    u32 err;
    (void)state;

    memset(ram + 0x1000, 0, 0x4000);
    memcpy(ram + 0x1000 + 1 * 4, &pde, 4);
    assert_int_equal(hvm_translate_linear(&vcpu, &pg, 0x00412345, 0, &gpa, &err), 0);
    assert_int_equal(gpa, 0x00412345);
    assert_int_equal(hvm_translate_linear(&vcpu, &pg, 0x00412345, HVM_ACCESS_WRITE, &gpa, &err),
                     HVM_COPY_UNMAPPED);
    assert_int_equal(err, 3);
    assert_int_equal(hvm_translate_linear(&vcpu, &pg, 0x00812345, 0, &gpa, &err), HVM_COPY_UNMAPPED);
    assert_int_equal(err, 0);

    pg.cr4 = CR4_PAE;
    memset(ram + 0x1000, 0, 0x4000);
    memcpy(ram + 0x1000, &pdpte, 8);
    memcpy(ram + 0x2000, &pae_pde, 8);
    memcpy(ram + 0x3000 + 7 * 8, &pae_pte, 8);
    assert_int_equal(hvm_translate_linear(&vcpu, &pg, 0x7abc, HVM_ACCESS_WRITE, &gpa, &err), 0);
    assert_int_equal(gpa, 0x5abc);
    /* U is clear in the PDE: CPL 3 may not use it, whatever the PTE says. */
    assert_int_equal(hvm_translate_linear(&vcpu, &pg, 0x7abc, HVM_ACCESS_USER, &gpa, &err),
                     HVM_COPY_UNMAPPED);
    assert_int_equal(err, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_register_rules, setup),
        cmocka_unit_test_setup(test_store_and_load, setup),
        cmocka_unit_test_setup(test_movs_between_ram_and_device, setup),
        cmocka_unit_test_setup(test_straddling_access, setup),
        cmocka_unit_test_setup(test_guest_page_faults, setup),
        cmocka_unit_test_setup(test_user_mode, setup),
        cmocka_unit_test_setup(test_emulator_exceptions, setup),
        cmocka_unit_test_setup(test_domain_destroyed, setup),
        cmocka_unit_test_setup(test_walk_legacy_and_pae, setup),
    };
    return cmocka_run_group_tests_name("mmio", tests, NULL, NULL);
}
