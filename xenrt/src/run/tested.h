/* tested.h: tested branches, as osstest's cr-daily-branch.
 *
 * A tracked branch (config "branches") has a tested ref, by default
 * refs/heads/tested/<branch>.  A gate flight of the branch whose verdict
 * lets it push (pass or tolerable) moves that ref to its revision: with
 * `git update-ref` in a local repository, with a real `git push` to a URL
 * (through a bare mirror under state_dir).  Every push, and every push
 * that failed, is a tested_pushes row shown with the flight; a failed push
 * is reported there and in the daemon's log, never retried silently.  The
 * last pushed flight of a branch is the baseline of its next flights.
 */
#ifndef XENRT_TESTED_H
#define XENRT_TESTED_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* The tracked branch that (repo, ref) names (ref "B" or "refs/heads/B"),
 * or NULL. */
const struct xenrt_branch *tested_branch(const struct xenrt_config *cfg, const char *repo,
					 const char *ref);

/* The last flight pushed to (repo, ref)'s tested ref; 0 when the branch is
 * not tracked or nothing was pushed yet. */
int64_t tested_baseline(sqlite3 *db, const struct xenrt_config *cfg, const char *repo,
			const char *ref);

/* Pushes a finished gate flight (as model_flight gives it, with "gate")
 * when its branch is tracked and the gate says push; records the outcome.
 * Runs git: call outside any transaction.  1 pushed, 0 nothing to do,
 * -1 the push failed (recorded, message in err). */
int tested_push(sqlite3 *db, const struct xenrt_config *cfg, json_t *flight, char *err,
		size_t errlen);

#endif
