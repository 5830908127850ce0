/*
 * tsc-exec.c - prints "tsc=N" (the time-stamp counter, which dom0 and every
 * domU read unoffset on Kiln, so it is one clock across domains), then
 * executes its arguments.  The dom0 benchmark uses it to time `kl create`
 * to the guest's first instruction (the bench guest logs the TSC at its
 * entry) and `kl list` round trips.  With no arguments it only prints.
 */
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
    printf("tsc=%llu\n", (unsigned long long)(((uint64_t)hi << 32) | lo));
    fflush(stdout);
    if (argc < 2)
        return 0;
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
