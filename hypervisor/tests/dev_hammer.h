/*
 * dev_hammer.h - what the device model tests' hostile-guest loops share:
 * a deterministic pseudo-random source (xorshift64, so a failure repeats)
 * and the access widths a guest may try, valid or not.
 */
#ifndef TESTS_DEV_HAMMER_H
#define TESTS_DEV_HAMMER_H

#include <kiln/types.h>

static u64 hammer_state = 0x9e3779b97f4a7c15ull;

static u64 hammer_rand(void)
{
    hammer_state ^= hammer_state << 13;
    hammer_state ^= hammer_state >> 7;
    hammer_state ^= hammer_state << 17;
    return hammer_state;
}

/* An access width: mostly valid ones, sometimes 0, 3 or 8. */
static unsigned int hammer_size(void)
{
    static const unsigned int sizes[] = { 1, 1, 2, 4, 0, 3, 8 };
    return sizes[hammer_rand() % 7];
}

#endif
