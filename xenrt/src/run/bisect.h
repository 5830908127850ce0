/* bisect.h: automatic bisection of a regression.
 *
 * When a gate or nightly flight regresses against its baseline, the farm
 * bisects the commits between the two (git rev-list --ancestry-path
 * baseline..flight, oldest first) for the first regressed job and step, by
 * itself.  Each probe is a flight of that job's suite alone at one
 * revision (flights.bisection_id).  A revision's result is trusted once
 * `bisect_repeats` probes agree: the baseline's revision is good, the
 * flight's own failure counts as one observation of its revision.  A
 * revision whose probes disagree makes the bisection `unreproducible`, and
 * so does a flight revision that passes when probed again.
 *
 * Probes use the pool's capacity: every usable host gets one while the
 * search needs them.  The search goes on from results seen once
 * (tentative) while the repeats that confirm them run beside the next
 * midpoint, so n commits take about log2(n) + 1 rounds of flights.  The
 * first bad commit is trusted when it is bad and its parent good, both
 * confirmed; it is shown on /bisections/<id>, in GET /api/bisections/<id>,
 * with its flight ("bisection") and in a gate flight's reason.
 */
#ifndef XENRT_BISECT_H
#define XENRT_BISECT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* What a bisection of a finished flight would test: filled by bisect_plan
 * (which runs git), written by bisect_create. */
struct bisect_plan {
	int64_t flight_id, baseline_id;
	char suite[64];
	char step[512];
	char good[80], bad[80];
	json_t *commits;  /* [{sha, subject}], oldest first, ending with bad */
	char failed[300]; /* set: the bisection cannot run, and why */
};

/* 1 when `flight` (as model_flight gives it, with its verdict) needs a
 * bisection: kind gate or nightly, a regression, not itself a probe.
 * Fills *p (commits from git; p->failed says why it cannot be done).
 * Runs git: call outside any transaction.  0 when there is nothing to
 * bisect. */
int bisect_plan(sqlite3 *db, json_t *flight, struct bisect_plan *p);

/* Writes the bisection (in the caller's transaction); frees p->commits.
 * 0 with *id, or -1 with a message. */
int bisect_create(sqlite3 *db, struct bisect_plan *p, int64_t *id, char *err, size_t errlen);

/* Moves every running bisection on: records what finished probes say,
 * ends it when the answer is trusted, submits the next probes.  Returns
 * the number of probe flights submitted, or -1. */
int bisect_tick(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen);

/* A bisection with its commits, each one's probe results and the answer:
 * 0, 404 or 500 (read model, like api_model.h). */
int bisect_show(sqlite3 *db, int64_t id, json_t **out, char *err, size_t errlen);

#endif
