/*
 * mmio_scratch.c - a test device: KT_MMIO_SCRATCH_SIZE bytes of scratch
 * registers at guest-physical KT_MMIO_SCRATCH (testport.h) that read back
 * what was written, at any width and alignment.
 *
 * It lets a test guest drive the whole MMIO path (nested page fault, fetch,
 * emulation, device op) with every instruction form and compare the result
 * with the same instruction on RAM.  Only a boot domain whose module string
 * asks for it (`mmiotest`, domain_boot.c) gets one, so it is no way in for
 * other guests; each such domain has its own page, freed with the domain.
 */
#include <kiln/domain.h>
#include <kiln/hvm_mmio.h>
#include <kiln/lib.h>
#include <kiln/mm.h>

_Static_assert(KT_MMIO_SCRATCH_SIZE == PAGE_SIZE, "the scratch registers are one page");

/* The region table only passes accesses inside the region: off and size
 * are within the page. */
static int scratch_read(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 *val)
{
    (void)v;
    *val = 0;
    kmemcpy(val, (u8 *)dev + (gpa - KT_MMIO_SCRATCH), size);
    return 0;
}

static int scratch_write(void *dev, struct vcpu *v, u64 gpa, unsigned int size, u64 val)
{
    (void)v;
    kmemcpy((u8 *)dev + (gpa - KT_MMIO_SCRATCH), &val, size);
    return 0;
}

static void scratch_release(void *dev)
{
    free_page(dev);
}

static const struct hvm_mmio_ops scratch_ops = {
    .read = scratch_read, .write = scratch_write, .release = scratch_release,
};

int hvm_mmio_scratch_attach(struct domain *d)
{
    void *page = alloc_pages_zeroed(0);
    int rc;

    if (!page)
        return -KILN_ENOMEM;
    rc = hvm_mmio_register(d, KT_MMIO_SCRATCH, KT_MMIO_SCRATCH_SIZE, &scratch_ops, page);
    if (rc)
        free_page(page);
    return rc;
}
