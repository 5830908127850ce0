/*
 * stream_crc.c - CRC32C (Castagnoli, reflected polynomial 0x82f63b78), the
 * migration stream's checksum.
 *
 * Why CRC32C and not a SHA-256: the checksum guards against truncation and
 * corruption on the way (a broken link, a bad disk, a bug), not against an
 * attacker, who could recompute either one since the stream carries no key.
 * CRC32C finds every burst error up to 32 bits and every odd number of bit
 * flips, needs no library in the static `kl` (libcrypto is not in dom0's
 * image), and x86's SSE4.2 CRC32 instruction computes it at memory speed,
 * which matters when 256 MiB pass through it during a migration's downtime
 * budget.  Without SSE4.2 a byte table does it.
 */
#include <cpuid.h>
#include "kiln_stream.h"

#define POLY 0x82f63b78u

static uint32_t table[256];
static int table_ready;

static void build_table(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (c & 1 ? POLY : 0);
        table[i] = c;
    }
    table_ready = 1;
}

uint32_t kiln_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;

    if (!table_ready)
        build_table();
    crc = ~crc;
    while (len--)
        crc = (crc >> 8) ^ table[(crc ^ *p++) & 0xff];
    return ~crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc32c_hw(uint32_t crc, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t c = ~crc;

    while (len && ((uintptr_t)p & 7)) {
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t v;
        __builtin_memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    while (len--)
        c = __builtin_ia32_crc32qi((uint32_t)c, *p++);
    return ~(uint32_t)c;
}

static int have_sse42(void)
{
    static int known, yes;
    unsigned int a, b, c, d;

    if (!known) {
        yes = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_SSE4_2);
        known = 1;
    }
    return yes;
}

uint32_t kiln_crc32c(uint32_t crc, const void *buf, size_t len)
{
    return have_sse42() ? crc32c_hw(crc, buf, len) : kiln_crc32c_sw(crc, buf, len);
}
