/*
 * spin.c - a CPU-bound guest for the scheduler tests: it computes forever
 * without a single exit of its own, until the observer destroys it.
 */
#include "kt.h"

void kt_main(void)
{
    kt_printf("spin: computing until destroyed\n");
    volatile u64 x = 1;
    for (;;)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
}
