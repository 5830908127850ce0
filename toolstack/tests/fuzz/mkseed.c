/*
 * mkseed.c - writes a small valid stream (every record kind) to the file
 * given, as the fuzzer's starting corpus: mutating a valid stream reaches
 * far deeper into the reader than random bytes do.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "kiln_stream.h"

static int file_write(void *ctx, const void *buf, size_t len)
{
    return fwrite(buf, 1, len, ctx) == len ? 0 : -EIO;
}

int main(int argc, char **argv)
{
    struct kiln_stream_header h = { .memory_kib = 32, .nr_pages = 8, .vcpus = 1, .weight = 256,
                                    .nr_cpuid = 1 };
    struct kiln_stream_cpuid leaf = { .leaf = 1, .ecx = 0x80000001, .edx = 0x178bfbff };
    static unsigned char page[4096], zero[4096];
    uint64_t gfns[2] = { 1, 7 };
    const void *data[2] = { page, zero };
    struct kiln_vcpu_state s = { .size = sizeof(s), .rip = 0x100000, .rflags = 2,
                                 .fpu_format = KILN_FPU_FXSAVE, .fpu_size = KILN_FPU_FXSAVE_SIZE };
    struct kiln_stream_writer w;
    FILE *f;
    int r;

    if (argc != 2 || !(f = fopen(argv[1], "wb"))) {
        fprintf(stderr, "usage: mkseed FILE\n");
        return 2;
    }
    strcpy(h.name, "seed");
    memset(page, 0xa5, 64);
    r = kiln_stream_writer_init(&w, file_write, f);
    if (!r)
        r = kiln_stream_write_header(&w, &h, &leaf, NULL);
    if (!r)
        r = kiln_stream_write_pages(&w, gfns, data, 2);
    if (!r)
        r = kiln_stream_write_vcpu(&w, &s);
    if (!r)
        r = kiln_stream_write_platform(&w, KILN_DEV_RTC, 1, 0, "rtc!", 4);
    if (!r)
        r = kiln_stream_write_end(&w, 0, 0, 0);
    if (fclose(f) || r) {
        fprintf(stderr, "mkseed: %s\n", strerror(r ? -r : errno));
        return 1;
    }
    return 0;
}
