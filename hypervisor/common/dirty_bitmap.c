/*
 * dirty_bitmap.c - log-dirty bitmap operations (see dirty_bitmap.h).
 *
 * A batch is taken word by word with one atomic AND that clears exactly
 * the batch's bits of that word and returns what they were, so a writer
 * setting a bit at the same moment either lands before (the batch has it)
 * or after (the next batch has it).
 */
#include <kiln/dirty_bitmap.h>

u64 dirty_bitmap_bytes(u64 nbits)
{
    return (nbits + 63) / 64 * 8;
}

void dirty_bitmap_set(u64 *bm, u64 nbits, u64 bit)
{
    if (bit < nbits)
        __atomic_fetch_or(&bm[bit / 64], 1ull << (bit % 64), __ATOMIC_RELAXED);
}

void dirty_bitmap_set_range(u64 *bm, u64 nbits, u64 first_byte, u64 len)
{
    if (!len)
        return;
    u64 first = first_byte >> 12, last = (first_byte + len - 1) >> 12;
    for (u64 p = first; p <= last && p < nbits; p++)
        dirty_bitmap_set(bm, nbits, p);
}

u64 dirty_bitmap_take(u64 *bm, u64 nbits, u64 start, u64 *nr, u8 *out,
                      void (*fn)(void *ctx, u64 bit), void *ctx)
{
    u64 want = *nr, count = 0;
    if (start >= nbits)
        want = 0;
    else if (want > nbits - start)
        want = nbits - start;
    for (u64 i = 0; i < (want + 7) / 8; i++)
        out[i] = 0;
    u64 i = 0;
    while (i < want) {
        u64 bit = start + i, w = bit / 64, shift = bit % 64;
        u64 n = 64 - shift < want - i ? 64 - shift : want - i;
        u64 mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << shift;
        u64 got = __atomic_fetch_and(&bm[w], ~mask, __ATOMIC_RELAXED) & mask;
        for (u64 k = 0; got && k < n; k++) {
            if (!(got & (1ull << (shift + k))))
                continue;
            out[(i + k) / 8] |= (u8)(1u << ((i + k) % 8));
            count++;
            if (fn)
                fn(ctx, bit + k);
        }
        i += n;
    }
    *nr = want;
    return count;
}
