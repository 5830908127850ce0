/*
 * fuzz_mmio.c - libFuzzer target for the MMIO fault path (arch/x86/hvm/
 * mmio.c) and the guest page walk under it (arch/x86/hvm/emulate.c): the
 * guest's page tables, instruction and registers are all hostile input.
 *
 * Input: a mode byte (paging mode, CR0.WP, CPL 3, code segment size, DF,
 * CF), CR3, 15 bytes placed at GPA 0x8000 (RIP is linear 0x8000), then the
 * guest's RAM from GPA 0 as far as the input goes, which holds its page
 * tables; registers are small numbers from RAM's first bytes so that
 * operands land in mapped memory.
 * One device claims 8 KiB at DEV; it aborts on any access outside that or
 * of a width other than 1/2/4/8.  The fault must end in a completed
 * instruction, an exception for the guest, or the domain's destruction.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lib.c"
#include "../arch/x86/insn_len.c"
#include "../arch/x86/hvm/x86_emulate.c"
#include "../arch/x86/hvm/emulate.c"
#include "../arch/x86/hvm/mmio.c"

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

#define RAM_SIZE 0x10000u
#define DEV      0xfe000000ull
#define DEV_SIZE 0x2000u

static u8 ram[RAM_SIZE];
static struct domain dom;
static struct vcpu vcpu = { .domain = &dom };
static struct hvm_regs regs;
static struct hvm_paging paging_state;
static int crashes, injected;
static u8 injected_vector;

int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len)
{
    CHECK(d == &dom);
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -KILN_EFAULT;
    memcpy(dst, ram + gpa, len);
    return 0;
}

int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    CHECK(d == &dom);
    if (gpa >= RAM_SIZE || len > RAM_SIZE - gpa)
        return -KILN_EFAULT;
    memcpy(ram + gpa, src, len);
    return 0;
}

void domain_crash(struct domain *d, const char *fmt, ...)
{
    CHECK(d == &dom);
    (void)fmt;
    crashes++;
}

static void get_regs(struct vcpu *v, struct hvm_regs *r) { (void)v; *r = regs; }
static void set_regs(struct vcpu *v, const struct hvm_regs *r) { (void)v; regs = *r; }
static u64 seg_base(struct vcpu *v, enum x86_seg s) { (void)v; return (u64)s * 0x1000; }
static void paging(struct vcpu *v, struct hvm_paging *pg) { (void)v; *pg = paging_state; }

/* Exceptions other than #PF reach the common event queue (hvm_event.h). */
void hvm_event_exception(struct vcpu *v, u8 vector, bool has_error, u32 error)
{
    (void)v; (void)has_error; (void)error;
    injected++;
    injected_vector = vector;
}

static void inject_page_fault(struct vcpu *v, u64 linear, u32 error)
{
    (void)linear;
    CHECK(!(error & ~7u));
    hvm_event_exception(v, X86_EXC_PF, true, error);
}

static const struct hvm_ops fake_hvm = {
    .get_regs = get_regs, .set_regs = set_regs, .seg_base = seg_base,
    .inject_page_fault = inject_page_fault,
    .paging = paging,
};
const struct hvm_ops *hvm = &fake_hvm;

static u8 dev_mem[DEV_SIZE];

static void check_access(u64 gpa, unsigned int size)
{
    CHECK(size == 1 || size == 2 || size == 4 || size == 8);
    CHECK(gpa >= DEV && gpa - DEV <= DEV_SIZE - size);
}

static int dev_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    CHECK(dev == dev_mem && v == &vcpu);
    check_access(gpa, size);
    *val = 0;
    memcpy(val, dev_mem + (gpa - DEV), size);
    return 0;
}

static int dev_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    CHECK(dev == dev_mem && v == &vcpu);
    check_access(gpa, size);
    memcpy(dev_mem + (gpa - DEV), &val, size);
    return 0;
}

static const struct hvm_mmio_ops dev_ops = { dev_read, dev_write, NULL };

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
    static const u64 modes[5][3] = {        /* cr4, efer, cr0 paging */
        { CR4_PAE, EFER_LMA | EFER_LME, CR0_PG },
        { CR4_PAE | CR4_LA57, EFER_LMA | EFER_LME, CR0_PG },
        { CR4_PAE, 0, CR0_PG },
        { CR4_PSE, 0, CR0_PG },
        { 0, 0, 0 },
    };
    u8 mode;
    int rc;

    if (size < 3 + INSN_MAX_LEN)
        return 0;
    mode = data[0];
    memset(&dom, 0, sizeof(dom));
    dom.p2m.nr_pages = RAM_SIZE / PAGE_SIZE;
    CHECK(hvm_mmio_register(&dom, DEV, DEV_SIZE, &dev_ops, dev_mem) == 0);
    memset(ram, 0, sizeof(ram));
    memcpy(ram + 0x8000, data + 3, INSN_MAX_LEN);
    size -= 3 + INSN_MAX_LEN;
    memcpy(ram, data + 3 + INSN_MAX_LEN, size < 0x8000 ? size : 0x8000);

    const u64 *m = modes[(mode & 7) % 5];
    paging_state = (struct hvm_paging){
        .cr0 = CR0_PE | m[2] | ((mode & 8) ? CR0_WP : 0),
        .cr3 = (u64)(data[1] | data[2] << 8) & ~0xfffull,
        .cr4 = m[0], .efer = m[1],
        .cs_long = (m[1] & EFER_LMA) && (mode & 0x10),
        .cs_32 = mode & 0x20,
    };
    memset(&regs, 0, sizeof(regs));
    for (unsigned int i = 0; i < 16; i++) {
        u16 v;
        memcpy(&v, ram + 2 * i, 2);
        *gpr(&regs, i) = v;
    }
    regs.rip = 0x8000;
    regs.rflags = 2 | ((mode & 0x40) ? FL_DF : 0) | ((mode >> 7) & 1);
    regs.cpl = (mode & 0x80) ? 3 : 0;
    crashes = injected = 0;

    rc = hvm_mmio_fault(&vcpu, DEV, 1ull << 32);
    CHECK(rc == 0 || rc == -1);
    CHECK(crashes == (rc == -1));
    CHECK(injected <= 1 && !(rc == -1 && injected));
    if (injected)
        CHECK(injected_vector == X86_EXC_PF || injected_vector == X86_EXC_GP ||
              injected_vector == X86_EXC_SS || injected_vector == X86_EXC_UD);
    return 0;
}
