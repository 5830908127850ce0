/*
 * test_domctl_pc_boot.c - unit tests of KILN_DOMCTL_PC_BOOT
 * (common/domctl_pc_boot.c) with the loader stubbed: every malformed field
 * and wrong target state refused before anything is touched, the image
 * handed to the loader intact while its staging pages in the domain's RAM
 * already read zero, the command line NUL-terminated at its length, vCPU 0
 * given the loader's entry state, and a refusing loader leaving vCPU 0
 * without one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../common/lib.c"
#include "../common/domctl_pc_boot.c"

#define RAM_PAGES 64u
#define STAGE     0x8000u
#define CMD_GPA   0x1000u
#define IMG_LEN   10000u

struct fake {
    struct domain d;
    struct vcpu v0;
    u8 *ram;
};

static struct fake target, caller;
static u8 image[IMG_LEN];
static struct {
    unsigned int loads, boot_regs;
    bool staging_was_zero, image_intact;
    char cmdline[KILN_PC_CMDLINE_MAX + 8];
    size_t size;
    int rc;              /* what the loader returns */
    bool alloc_fails;
} s;

void *alloc_pages(unsigned int order)
{
    return s.alloc_fails ? NULL : aligned_alloc(PAGE_SIZE, PAGE_SIZE << order);
}
void free_pages(void *p, unsigned int order) { (void)order; free(p); }
void *p2m_hva(struct domain *d, u64 gpa, size_t len)
{
    if (gpa >= d->p2m.nr_pages * PAGE_SIZE || len > PAGE_SIZE || (gpa & 4095) + len > PAGE_SIZE)
        return NULL;
    return ((struct fake *)d)->ram + gpa;
}
int copy_from_guest(struct domain *d, void *dst, u64 gpa, size_t len)
{
    if (gpa + len > d->p2m.nr_pages * PAGE_SIZE)
        return -KILN_EFAULT;
    memcpy(dst, ((struct fake *)d)->ram + gpa, len);
    return 0;
}
int pc_boot_multiboot(struct domain *d, const void *img, size_t size,
                      const struct pc_boot_args *a, struct hvm_boot_state *bs)
{
    const u8 *ram = ((struct fake *)d)->ram;
    s.loads++;
    s.size = size;
    s.image_intact = size == IMG_LEN && !memcmp(img, image, IMG_LEN);
    s.staging_was_zero = true;
    for (size_t i = 0; i < 3 * PAGE_SIZE; i++)
        s.staging_was_zero &= ram[STAGE + i] == 0;
    snprintf(s.cmdline, sizeof(s.cmdline), "%s", a->cmdline);
    bs->rip = 0x100020;
    bs->rax = 0x2badb002;
    return s.rc;
}
void vcpu_set_boot_regs(struct vcpu *v, const struct hvm_boot_state *b)
{
    assert_ptr_equal(v, &target.v0);
    assert_int_equal(b->rip, 0x100020);
    assert_int_equal(b->rax, 0x2badb002);
    s.boot_regs++;
}

static void make(struct fake *f, bool pc)
{
    free(f->ram);
    memset(f, 0, sizeof(*f));
    f->ram = calloc(RAM_PAGES, PAGE_SIZE);
    f->d.p2m.nr_pages = RAM_PAGES;
    f->d.pc_platform = pc;
    f->d.state = KILN_DOMSTATE_BUILDING;
    f->d.nr_vcpus = 1;
    f->d.vcpus[0] = &f->v0;
}

static int setup(void **state)
{
    (void)state;
    memset(&s, 0, sizeof(s));
    make(&target, true);
    make(&caller, false);
    for (size_t i = 0; i < IMG_LEN; i++)
        image[i] = (u8)(i * 7 + 1);
    memcpy(target.ram + STAGE, image, IMG_LEN);
    memcpy(caller.ram + CMD_GPA, "tsc.flat -a b", 13);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    free(target.ram);
    free(caller.ram);
    target.ram = caller.ram = NULL;
    return 0;
}

static const struct kiln_domctl_pc_boot good = {
    .image_gpa = STAGE, .image_len = IMG_LEN, .cmdline_gpa = CMD_GPA, .cmdline_len = 8,
    .kind = KILN_PC_BOOT_MULTIBOOT,
};

static s64 call(struct kiln_domctl_pc_boot b)
{
    return domctl_pc_boot(&caller.v0, &b, &target.d);
}

static void loads_through_the_loader(void **state)
{
    (void)state;
    caller.v0.domain = &caller.d;
    assert_int_equal(call(good), 0);
    assert_int_equal(s.loads, 1);
    assert_true(s.image_intact);
    assert_true(s.staging_was_zero);
    assert_string_equal(s.cmdline, "tsc.flat");   /* its length, not the NUL */
    assert_int_equal(s.boot_regs, 1);
}

/* Each refusal: its error, the loader never reached, RAM untouched. */
static void refuse(struct kiln_domctl_pc_boot b, s64 want)
{
    caller.v0.domain = &caller.d;
    assert_int_equal(call(b), want);
    assert_int_equal(s.loads, 0);
    assert_int_equal(s.boot_regs, 0);
    assert_memory_equal(target.ram + STAGE, image, IMG_LEN);
}

static void malformed_fields(void **state)
{
    struct kiln_domctl_pc_boot b;
    (void)state;
    b = good; b.kind = 2;                    refuse(b, -KILN_EINVAL);
    b = good; b._pad = 1;                    refuse(b, -KILN_EINVAL);
    b = good; b.image_len = 0;               refuse(b, -KILN_EINVAL);
    b = good; b.image_gpa = STAGE + 8;       refuse(b, -KILN_EINVAL);
    b = good; b.image_len = KILN_PC_IMAGE_MAX + 1ull; refuse(b, -KILN_E2BIG);
    b = good; b.cmdline_len = KILN_PC_CMDLINE_MAX + 1; refuse(b, -KILN_EINVAL);
    b = good; b.cmdline_gpa = CMD_GPA + 4090; refuse(b, -KILN_EINVAL);   /* crosses a page */
    b = good; b.image_gpa = (RAM_PAGES - 1) * PAGE_SIZE; b.image_len = 2 * PAGE_SIZE;
    refuse(b, -KILN_EFAULT);
    b = good; b.image_gpa = 0xfffffffffffff000ull; b.image_len = 0x2000;
    refuse(b, -KILN_EFAULT);
    b = good; b.cmdline_gpa = RAM_PAGES * PAGE_SIZE; refuse(b, -KILN_EFAULT);
}

static void wrong_target_state(void **state)
{
    (void)state;
    target.d.pc_platform = false;
    refuse(good, -KILN_EINVAL);
    target.d.pc_platform = true;
    target.d.state = KILN_DOMSTATE_RUNNING;
    refuse(good, -KILN_EBUSY);
    target.d.state = KILN_DOMSTATE_BUILDING;
    target.d.running = 1;
    refuse(good, -KILN_EBUSY);
    target.d.running = 0;
    target.v0.initialised = true;   /* loaded already */
    refuse(good, -KILN_EBUSY);
    target.v0.initialised = false;
    s.alloc_fails = true;
    refuse(good, -KILN_ENOMEM);
}

static void longest_command_line(void **state)
{
    struct kiln_domctl_pc_boot b = good;
    (void)state;
    caller.v0.domain = &caller.d;
    memset(caller.ram + CMD_GPA, 'x', PAGE_SIZE);
    b.cmdline_len = KILN_PC_CMDLINE_MAX;
    assert_int_equal(call(b), 0);
    assert_int_equal(strlen(s.cmdline), KILN_PC_CMDLINE_MAX);
    b.cmdline_len = 0;
    target.v0.initialised = false;
    assert_int_equal(call(b), 0);
    assert_string_equal(s.cmdline, "");
}

static void loader_refusal_leaves_vcpu0_alone(void **state)
{
    (void)state;
    caller.v0.domain = &caller.d;
    s.rc = -KILN_EINVAL;
    assert_int_equal(call(good), -KILN_EINVAL);
    assert_int_equal(s.loads, 1);
    assert_int_equal(s.boot_regs, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(loads_through_the_loader, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(wrong_target_state, setup, teardown),
        cmocka_unit_test_setup_teardown(longest_command_line, setup, teardown),
        cmocka_unit_test_setup_teardown(loader_refusal_leaves_vcpu0_alone, setup, teardown),
    };
    return cmocka_run_group_tests_name("domctl_pc_boot", tests, NULL, NULL);
}
