/* verdict.h: a flight's verdict and, for gate flights, the release gate's
 * answer.  One implementation for every place that shows them (the flight
 * and its list in the API and on the status pages, `xenrt show`, `xenrt
 * list`, and `xenrt submit --wait`'s exit code), so they can never disagree.
 */
#ifndef XENRT_VERDICT_H
#define XENRT_VERDICT_H

#include <stddef.h>

#include <jansson.h>
#include <sqlite3.h>

/* For every flight object in the array `flights` (each with at least id,
 * kind, status, baseline_id and revision, as the flights table names them)
 * sets "verdict" {summary, regressions, failures, broken, known, flaky},
 * "bisection" (the farm's bisection of its regression: {id, status,
 * first_bad, message, url}, or null) and "gate" (null unless kind is gate;
 * its reason names the first bad commit once a bisection found it).  Two
 * queries for all the flights however many there are.  Returns 0, or 500
 * with a message. */
int verdict_attach(sqlite3 *db, json_t *flights, char *err, size_t errlen);

#endif
