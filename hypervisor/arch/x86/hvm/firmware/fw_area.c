/*
 * fw_area.c - room-taking in a host buffer that becomes guest memory.
 *
 * Why a folder of its own under arch/x86/hvm/: the tables and hand-over
 * structures built here (ACPI for an x86 PC, e820, Multiboot1, Linux's
 * boot_params, PVH's hvm_start_info) are all x86 formats describing the
 * virtual PC an HVM domU runs on, and none depends on the SVM or VT-x
 * backend; the folder keeps these pure, host-testable builders apart from
 * the code that runs guests.
 *
 * Builders take their room from a struct fw_area so that one bound check
 * (here) guards every write, and every pointer stored in guest memory is
 * computed from the area's guest-physical address.
 */
#include <kiln/firmware.h>
#include <kiln/lib.h>

void *fw_alloc(struct fw_area *a, size_t len, size_t align, u64 *gpa)
{
    if (!align || (align & (align - 1)) || a->used > a->size)
        return NULL;
    /* Align the guest address, not the host offset. */
    u64 at = a->gpa + a->used;
    u64 pad = ALIGN_UP(at, (u64)align) - at;
    if (pad > a->size - a->used || len > a->size - a->used - pad)
        return NULL;
    u8 *p = a->buf + a->used + pad;
    /* The padding too: all of buf[0..used) reaches the guest. */
    kmemset(a->buf + a->used, 0, pad + len);
    *gpa = at + pad;
    a->used += pad + len;
    return p;
}

u64 fw_put_string(struct fw_area *a, const char *s, size_t max)
{
    size_t n = kstrnlen(s, max);
    u64 gpa;
    char *p = fw_alloc(a, n + 1, 1, &gpa);
    if (!p)
        return 0;
    kmemcpy(p, s, n);
    p[n] = '\0';
    return gpa;
}
