/*
 * precopy.c - the pre-copy stopping rule (kiln_precopy.h).
 */
#include <errno.h>
#include <string.h>
#include "kiln_precopy.h"

int kiln_precopy_init(struct kiln_precopy *pc, const struct kiln_precopy_policy *p)
{
    memset(pc, 0, sizeof(*pc));
    if (p)
        pc->policy = *p;
    if (pc->policy.max_rounds > KILN_PRECOPY_MAX_ROUNDS)
        return -EINVAL;
    if (!pc->policy.max_rounds)
        pc->policy.max_rounds = KILN_PRECOPY_DEFAULT_ROUNDS;
    if (!pc->policy.stop_threshold)
        pc->policy.stop_threshold = KILN_PRECOPY_DEFAULT_THRESHOLD;
    return 0;
}

enum kiln_precopy_step kiln_precopy_next(struct kiln_precopy *pc, uint64_t dirty)
{
    if (pc->stopped)
        return KILN_PRECOPY_STOP_AND_COPY;
    if (pc->rounds == 0) {
        pc->rounds = 1;
        return KILN_PRECOPY_SEND_ALL;
    }
    /* Few enough left to send paused, or the guest out-runs the link. */
    if (dirty <= pc->policy.stop_threshold || pc->rounds >= pc->policy.max_rounds) {
        pc->stopped = 1;
        return KILN_PRECOPY_STOP_AND_COPY;
    }
    pc->rounds++;
    return KILN_PRECOPY_SEND_DIRTY;
}

void kiln_precopy_sent(struct kiln_precopy *pc, uint64_t n)
{
    /* The paused round goes in the slot after the last live one. */
    uint32_t i = pc->stopped ? pc->rounds : pc->rounds - 1;

    if (pc->rounds && i <= KILN_PRECOPY_MAX_ROUNDS)
        pc->pages[i] += n;
}
