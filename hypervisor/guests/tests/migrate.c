/*
 * migrate.c - the guest that live migration and save/restore move: it
 * keeps a counter and a memory pattern, and reports on whichever host it
 * runs how its state survived and its own downtime.
 *
 * Every beat it counts (in a register and in memory, which must agree),
 * chains the count into a hash, and measures the gap since the previous
 * beat with the TSC, which a restore carries on across the move; the
 * largest gap is the downtime the guest saw.  Its pattern is PAT_PAGES
 * pages whose contents follow from each page's stamp, so a page sent from
 * another round than its stamp shows up at the check.  It times itself
 * with the TSC only: the hypervisor's clock (KILN_HC_TIME) is the host's
 * and jumps when the guest moves, so it sleeps with HLT (which Kiln ends
 * within HVM_HLT_MAX_NS) instead of sched_block.  Every second it prints
 * a "# beat" line naming its current domain id, so a log shows where it
 * ran; at the end, three TAP results and one summary line:
 *   migrate-guest: beats=N moves=M max_gap_ms=G before_move_ms=B
 * where B is the largest gap before the first move (the guest's normal
 * jitter): a move should be the largest gap by far.
 *
 * migrate-dirty.c is the same guest rewriting its pattern without pause,
 * faster than a link drains it (pre-copy must end by its round limit).
 */
#include "kt.h"

#ifndef MIGRATE_DIRTY
#define MIGRATE_DIRTY 0
#endif
#define NAME        (MIGRATE_DIRTY ? "migrate-dirty" : "migrate")
#define PAT_PAGES   512                 /* 2 MiB of pattern */
#define RUN_MS      30000               /* TSC time the guest runs for */
#define SLEEP_MS    2                   /* idle variant: between beats */
/* A step of the host clock against the TSC that means "moved to another
 * host".  Large: a CPU-bound guest on a busy host saw the two disagree by
 * 50-450 ms for a beat or two (not understood yet), while two hosts'
 * clocks differ by their boot times; the domain id catches the rest. */
#define MOVE_JUMP_NS 2000000000ll

static u64 pattern[PAT_PAGES][512] __attribute__((aligned(4096)));
static u64 stamp[PAT_PAGES];
static volatile u64 counter, chain;
static u64 tsc_per_ms;

static u64 word(u64 page, u64 i, u64 s)
{
    u64 x = (page << 32) ^ (i * 0x9e3779b97f4a7c15ull) ^ (s * 0xc2b2ae3d27d4eb4full);
    x ^= x >> 29;
    return x * 0xbf58476d1ce4e5b9ull;
}

static void write_page(u64 p)
{
    stamp[p]++;
    for (u64 i = 0; i < 512; i++)
        pattern[p][i] = word(p, i, stamp[p]);
}

static u64 bad_pages(void)
{
    u64 bad = 0;
    for (u64 p = 0; p < PAT_PAGES; p++)
        for (u64 i = 0; i < 512; i++)
            if (pattern[p][i] != word(p, i, stamp[p])) {
                bad++;
                break;
            }
    return bad;
}

static u64 next_chain(u64 c, u64 n)
{
    return (c ^ n) * 0x100000001b3ull;
}

static u32 domid(void)
{
    return kt_cpuid(KILN_CPUID_VERSION, 0).b;
}

static void tsc_sleep_ms(u64 ms)
{
    u64 until = kt_rdtsc() + ms * tsc_per_ms;
    while (kt_rdtsc() < until)
        __asm__ __volatile__("hlt");
}

void kt_main(void)
{
    kt_plan(3);
    /* The TSC rate, from the hypervisor's clock, before any move. */
    s64 h0 = kt_hc_time();
    u64 t0 = kt_rdtsc();
    kt_sleep_ns(100000000);
    tsc_per_ms = (kt_rdtsc() - t0) * 1000000 / (u64)(kt_hc_time() - h0);
    for (u64 p = 0; p < PAT_PAGES; p++)
        write_page(p);
    u32 dom = domid(), first_dom = dom;
    kt_diag("%s: started in d%u, TSC %lu kHz, %u pattern pages", NAME, dom,
            (unsigned long)tsc_per_ms, PAT_PAGES);

    u64 local = 0, mismatches = 0, moves = 0, max_gap = 0, before_move = 0, next_p = 0;
    s64 last_off = 0;
    bool have_off = false, step_pending = false;
    u64 step_gap = 0, step_max = 0;
    u64 start = kt_rdtsc(), last = start, next_print = start + 1000 * tsc_per_ms;
    while (kt_rdtsc() - start < RUN_MS * tsc_per_ms) {
        local++;
        counter++;
        chain = next_chain(chain, counter);
        if (counter != local)
            mismatches++;
        /* A move shows as a new domain id (save and restore on one host)
         * or as a step of the hypervisor's clock against the TSC (another
         * host: the TSC is carried on, the host's clock is its own, and
         * the domain id there may well be the same).  A clock sample
         * counts only if nothing came between its halves, and a step only
         * if the next sample confirms it.  The move's gap is that of the
         * beat the step began. */
        u64 now = kt_rdtsc(), gap = now - last;
        u32 d = domid();
        bool moved = d != dom;
        u64 move_gap = gap, max_before = max_gap;
        u64 t1 = kt_rdtsc();
        s64 host = kt_hc_time();
        u64 t2 = kt_rdtsc();
        if (!moved && t2 - t1 < tsc_per_ms) {
            s64 off = host - (s64)((t1 + t2) / 2 * 1000000 / tsc_per_ms);
            bool step = have_off && (off - last_off > MOVE_JUMP_NS || last_off - off > MOVE_JUMP_NS);
            if (step && step_pending) {
                moved = true;
                move_gap = step_gap;
                max_before = step_max;
            } else if (step) {
                step_gap = gap;
                step_max = max_gap;
            }
            step_pending = step && !moved;
            if (!step || moved)
                last_off = off;
            have_off = true;
        }
        if (moved) {
            if (!moves++)
                before_move = max_before;
            kt_diag("%s: moved from d%u to d%u at beat %lu, after a %lu ms gap", NAME, dom, d,
                    (unsigned long)local, (unsigned long)(move_gap / tsc_per_ms));
            dom = d;
            have_off = step_pending = false;   /* the new host's clock: a new reference */
        }
        if (gap > max_gap)
            max_gap = gap;
        last = now;
        if (MIGRATE_DIRTY) {
            for (int k = 0; k < 8; k++, next_p = (next_p + 1) % PAT_PAGES)
                write_page(next_p);
        } else {
            write_page(next_p);
            next_p = (next_p + 1) % PAT_PAGES;
            tsc_sleep_ms(SLEEP_MS);
        }
        if (now >= next_print) {
            kt_diag("beat %lu in d%u: largest gap %lu ms", (unsigned long)local, d,
                    (unsigned long)(max_gap / tsc_per_ms));
            next_print = now + 1000 * tsc_per_ms;
        }
    }
    if (!moves)
        before_move = max_gap;
    u64 c = 0;
    for (u64 n = 1; n <= counter; n++)
        c = next_chain(c, n);
    kt_ok(mismatches == 0 && counter == local && c == chain,
          "counter continuous: %lu beats, registers and memory agree", (unsigned long)local);
    u64 bad = bad_pages();
    kt_ok(bad == 0, "memory pattern intact (%lu of %u pages wrong)", (unsigned long)bad, PAT_PAGES);
    kt_ok(max_gap > 0, "largest heartbeat gap %lu ms (moved %lu time(s), d%u to d%u)",
          (unsigned long)(max_gap / tsc_per_ms), (unsigned long)moves, first_dom, dom);
    kt_printf("migrate-guest: beats=%lu moves=%lu max_gap_ms=%lu before_move_ms=%lu\n",
              (unsigned long)local, (unsigned long)moves, (unsigned long)(max_gap / tsc_per_ms),
              (unsigned long)(before_move / tsc_per_ms));
}
