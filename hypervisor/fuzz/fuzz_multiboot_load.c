/*
 * fuzz_multiboot_load.c - libFuzzer target for the kernel image loaders of
 * PC domUs: Multiboot1 (header search, a.out kludge, ELF32), PVH (ELF
 * notes, ELF64) and the bzImage header checks, then the whole Multiboot
 * load into a fake domain.
 *
 * Input: 4 bytes choosing the domain's RAM size, then the image.  Beyond
 * "no crash, no out-of-bounds access" (ASan), it checks what the loaders
 * promise: a plan only names RAM the e820 gives the guest, its segments
 * are disjoint and inside the image, the entry lies in loaded bytes, and
 * a load writes nothing outside the domain's RAM.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address -DKILN_UNIT_TEST -Iinclude \
 *       fuzz/fuzz_multiboot_load.c -o /tmp/fuzz_mb && /tmp/fuzz_mb
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../common/lib.c"
#include "../arch/x86/hvm/firmware/fw_area.c"
#include "../arch/x86/hvm/firmware/e820.c"
#include "../arch/x86/hvm/firmware/acpi_build.c"
#include "../arch/x86/hvm/firmware/multiboot_info.c"
#include "../arch/x86/hvm/firmware/load_plan.c"
#include "../arch/x86/hvm/firmware/multiboot_load.c"
#include "../arch/x86/hvm/firmware/pvh.c"
#include "../arch/x86/hvm/firmware/linux_boot.c"
#include "../arch/x86/hvm/firmware/pc_boot.c"

#define MAX_RAM (64ull << 20)

unsigned char *kiln_test_phys_base;
static u8 *ram;

void printk(enum log_level level, const char *fmt, ...) { (void)level; (void)fmt; }
void *alloc_pages(unsigned int order) { return malloc(PAGE_SIZE << order); }
void free_pages(void *p, unsigned int order) { (void)order; free(p); }

int copy_to_guest(struct domain *d, u64 gpa, const void *src, size_t len)
{
    u64 bytes = d->memory_kib * 1024;
    /* The loaders must never ask for bytes outside the domain's RAM. */
    if (gpa > bytes || len > bytes - gpa)
        abort();
    memcpy(ram + gpa, src, len);
    return 0;
}

static void check_plan(const struct fw_plan *p, size_t size, u64 ram_bytes)
{
    bool entry_loaded = false;
    for (unsigned int i = 0; i < p->nr_seg; i++) {
        const struct fw_segment *s = &p->seg[i];
        u64 end = s->dst + s->memsz;
        if (s->filesz > s->memsz || s->offset > size || s->filesz > size - s->offset)
            abort();
        if (end > FW_LOW_RAM_END && (s->dst < FW_HIGH_RAM_START || end > ram_bytes))
            abort();
        for (unsigned int j = 0; j < i; j++)
            if (s->dst < p->seg[j].dst + p->seg[j].memsz && p->seg[j].dst < end)
                abort();
        entry_loaded |= p->entry >= s->dst && p->entry < s->dst + s->filesz;
    }
    if (!p->nr_seg || !entry_loaded)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    if (!ram && !(ram = malloc(MAX_RAM)))
        abort();
    u32 sel;
    memcpy(&sel, data, 4);
    /* Mostly valid sizes (2..64 MiB, 4 KiB steps), sometimes anything. */
    u64 ram_bytes = (sel & 1) ? (u64)sel << 8 : (2ull << 20) + ((u64)(sel >> 1) % 15873) * 4096;
    const u8 *image = data + 4;
    size -= 4;

    struct fw_plan p;
    if (!mb_plan_load(image, size, ram_bytes, &p))
        check_plan(&p, size, ram_bytes);
    if (!pvh_plan_load(image, size, ram_bytes, &p))
        check_plan(&p, size, ram_bytes);
    struct linux_image li;
    if (!linux_parse_bzimage(image, size, &li) &&
        (li.pm_offset + li.pm_size != size || li.init_size < li.pm_size || li.hdr_end > 0x290))
        abort();

    if (ram_bytes <= MAX_RAM) {
        struct domain d = { .memory_kib = ram_bytes / 1024, .nr_vcpus = 1 + (sel >> 29) };
        struct hvm_boot_state bs;
        struct pc_module mod = { data, size < 8192 ? size : 8192, "m" };
        struct pc_boot_args args = { .cmdline = "fuzz", .mods = &mod, .nr_mods = (sel >> 28) & 1 };
        if (!pc_boot_multiboot(&d, image, size, &args, &bs) && bs.rax != MB_BOOTLOADER_MAGIC)
            abort();
    }
    return 0;
}
