/*
 * kiln_precopy.h - when live migration stops copying a running guest.
 *
 * Pre-copy sends every page while the guest runs (round 1), then in each
 * further round the pages it dirtied meanwhile, until few enough are left
 * to send with the guest paused, or the round limit says the guest dirties
 * memory faster than the link drains it.  Xen's rule of thumb, kept here:
 * stop at or below ~50 dirty pages or after 5 live rounds.  Pure code (no
 * clock, no hypercall), so the rule is unit-tested (tests/unit/test_precopy.c).
 */
#ifndef KILN_PRECOPY_H
#define KILN_PRECOPY_H

#include <stdint.h>

#define KILN_PRECOPY_DEFAULT_ROUNDS    5
#define KILN_PRECOPY_DEFAULT_THRESHOLD 50
#define KILN_PRECOPY_MAX_ROUNDS        32   /* upper bound of max_rounds */

struct kiln_precopy_policy {
    uint32_t max_rounds;       /* live rounds, 1..KILN_PRECOPY_MAX_ROUNDS; 0 = default */
    uint64_t stop_threshold;   /* stop when this many dirty pages or fewer remain; 0 = default */
};

enum kiln_precopy_step {
    KILN_PRECOPY_SEND_ALL,     /* live round 1: every page, the guest running */
    KILN_PRECOPY_SEND_DIRTY,   /* another live round: the pages dirtied since */
    KILN_PRECOPY_STOP_AND_COPY,/* pause; send the dirty pages and the state */
};

struct kiln_precopy {
    struct kiln_precopy_policy policy;
    uint32_t rounds;           /* live rounds decided so far */
    int stopped;               /* STOP_AND_COPY was decided */
    uint64_t pages[KILN_PRECOPY_MAX_ROUNDS + 1];  /* pages sent per round, last = paused */
};

/* Starts a migration with policy p (NULL: the defaults); -EINVAL (from
 * errno.h) for a max_rounds above KILN_PRECOPY_MAX_ROUNDS. */
int kiln_precopy_init(struct kiln_precopy *pc, const struct kiln_precopy_policy *p);
/* What to do next.  dirty is the number of pages dirtied since the last
 * round started (ignored for the first call).  After STOP_AND_COPY every
 * call answers STOP_AND_COPY again. */
enum kiln_precopy_step kiln_precopy_next(struct kiln_precopy *pc, uint64_t dirty);
/* Records that the round just decided sent n pages (for the figures). */
void kiln_precopy_sent(struct kiln_precopy *pc, uint64_t n);

#endif /* KILN_PRECOPY_H */
