/* api_model.h: the farm's read model, shared by the JSON API and the status
 * pages so both show the same thing from the same queries.
 *
 * Each function runs a fixed, small number of indexed queries whatever the
 * size of the result (one per table involved, never one per row), which is
 * what keeps a page fast with a year of flights.  Each returns 0 with *out
 * set, 404 when the object does not exist, or 500 with a message.
 */
#ifndef XENRT_API_MODEL_H
#define XENRT_API_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* The runs of a job a step's flake rate is computed over (as SQL text). */
#define MODEL_FLAKE_RUNS_SQL "50"

#define MODEL_PAGE_DEFAULT 50
#define MODEL_PAGE_MAX 500

/* {"flights": [flight + "jobs": {status: count}, "verdict", "gate"],
 * "next_before": id|null}:
 * flights with id < before, newest first; only those of `kind` unless it is
 * NULL (callers validate it with model_kind_valid). */
int model_flights(sqlite3 *db, const char *kind, int64_t before, int64_t limit, json_t **out,
		  char *err, size_t errlen);

/* True for the flight kinds of the schema: patch, branch, nightly, gate. */
int model_kind_valid(const char *kind);

/* A flight with its jobs, each job's steps (with log_url) and runvars, its
 * artifacts, "verdict" and "gate" (verdict.h). */
int model_flight(sqlite3 *db, int64_t id, json_t **out, char *err, size_t errlen);

/* A job with its steps (each with its metrics), runvars, hosts by attempt,
 * and the log files present on disk ("logs": [{attempt, name, size, url}]). */
int model_job(sqlite3 *db, const struct xenrt_config *cfg, int64_t id, json_t **out, char *err,
	      size_t errlen);

/* {"hosts": [...]} */
int model_hosts(sqlite3 *db, json_t **out, char *err, size_t errlen);

/* {"host": {...}, "events": [...], "next_before": id|null}; host_id 0 means
 * every host (newest first, with the host's name on each event).  Each
 * event has "logs": [{name, size, url}], the files of the health check it
 * starts or ends (empty for other events). */
int model_host_events(sqlite3 *db, const struct xenrt_config *cfg, int64_t host_id, int64_t before,
		      int64_t limit, json_t **out, char *err, size_t errlen);

/* The derived metric every finished flight has: seconds from submission
 * to verdict, one series per flight kind (bisection probes left out). */
#define MODEL_LATENCY_METRIC "verdict_latency_s"

/* {"metrics": [names]} when name is NULL (one index seek per distinct
 * name, then MODEL_LATENCY_METRIC); otherwise {"metric": name, "points": [...]} with the `limit` most
 * recent values of that metric, newest first, each with its flight, job,
 * step, revision and time. */
int model_metrics(sqlite3 *db, const char *name, int64_t limit, json_t **out, char *err,
		  size_t errlen);

#endif
