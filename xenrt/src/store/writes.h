/* writes.h: the write model of flights, jobs, runvars, steps, metrics,
 * hosts and host events, as api_model.h is their read model: every INSERT
 * and UPDATE of those tables is one of these functions (writes.c, and
 * writes_hosts.c for the pool), so what a status may become and when is
 * decided in one place.  hostpool.c and db.c keep the pool's policy
 * (reservation, quarantine, health checks, the declared hosts) and write
 * through here.
 *
 * None opens a transaction: callers that need several writes to land
 * together (a submission, a claim, the end of an attempt) wrap them in
 * BEGIN IMMEDIATE ... COMMIT.  Every function returns 0 (or an id) on
 * success and -1 on a database error, logged with its statement.
 */
#ifndef XENRT_WRITES_H
#define XENRT_WRITES_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* --- flights --- */

struct flight_insert {
	const char *kind, *repo, *ref, *patch, *submitter;
	int64_t baseline;                                 /* 0: none */
	const char *idempotency_key, *idempotency_sha256; /* NULL: none */
	int64_t schedule_id, bisection_id;                /* 0: none */
};

int writes_flight(sqlite3 *db, const struct flight_insert *f, int64_t *id);

/* The revision the build resolved. */
int writes_flight_revision(sqlite3 *db, int64_t flight, const char *revision);

/* Asks the executor to cancel a queued or running flight: 1 done, 0 it
 * is not queued or running (any more), -1 error. */
int writes_flight_cancel(sqlite3 *db, int64_t flight);

/* Cancels the probes of a bisection that has its answer. */
int writes_probes_cancel(sqlite3 *db, int64_t bisection);

/* The steward drew the flight's consequences. */
int writes_flight_steward_done(sqlite3 *db, int64_t flight);

/* --- jobs --- */

/* A job of a new flight; text/sha (the suite as submitted) may be NULL. */
int writes_job(sqlite3 *db, int64_t flight, const char *name, int64_t depends_on, int hosts,
	       const char *text, const char *sha, int64_t *id);

/* The job's runvars: an object of strings. */
int writes_runvars(sqlite3 *db, int64_t job, json_t *runvars);

/* A claimed job runs (its attempt's log directory `log_rel`), and so
 * does its flight. */
int writes_job_claimed(sqlite3 *db, int64_t job, int64_t flight, const char *log_rel);

/* The end of an attempt: pass, fail or cancelled as is; broken requeues
 * the job for its next attempt while attempts remain. */
int writes_job_ended(sqlite3 *db, int64_t job, const char *status);

/* A job whose suite needs more hosts than the pool has: broken, with a
 * step saying why. */
int writes_job_impossible(sqlite3 *db, int64_t job, int attempt, const char *why);

/* A failed job of a gate flight gets its retest (executor.c): same suite
 * as submitted and runvars, retest_of and avoid_host set.  Nothing for
 * other flights or jobs. */
int writes_job_retest(sqlite3 *db, int64_t job);

/* After a crash: running steps are broken, running jobs requeued (or
 * broken when out of attempts). */
int writes_recover(sqlite3 *db);

/* Cancels queued jobs of cancelled flights, blocks queued jobs whose
 * dependency ended badly (with a step saying why), and decides every
 * flight with no queued or running job left. */
int writes_settle(sqlite3 *db);

/* --- steps and metrics --- */

/* A step of job/attempt with sequence number seq; finished: its end is
 * now too.  Returns its id or -1. */
int64_t writes_step(sqlite3 *db, int64_t job, int attempt, int seq, const char *name,
		    const char *status, const char *message, const char *log, int finished);

int writes_step_end(sqlite3 *db, int64_t step, const char *status, const char *message);

int writes_metric(sqlite3 *db, int64_t step, const char *name, double value, const char *unit);

/* --- hosts and host events (writes_hosts.c) --- */

/* The hosts table as cfg declares them: new ones idle, changed ones
 * updated, ones declared again back from offline, undeclared ones offline,
 * each change with its event. */
int writes_hosts_declared(sqlite3 *db, const struct xenrt_config *cfg);

/* A host's new state with its event (job: the job it concerns, 0 none;
 * reserved_by: < 0 unchanged, 0 none, else the job holding it).  The
 * event is the connection's last insert afterwards. */
int writes_host_state(sqlite3 *db, int64_t host, const char *state, int64_t job,
		      int64_t reserved_by, const char *reason);

/* The log directory of a health check's event. */
int writes_host_event_log_dir(sqlite3 *db, int64_t event, const char *log_dir);

/* Sets or clears a host's quarantine (needs a health check). */
int writes_host_needs_check(sqlite3 *db, int64_t host, int needs);

#endif
