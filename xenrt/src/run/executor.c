/* executor.c: worker threads, the job queue, retries, flight verdicts and
 * crash recovery (see executor.h).
 *
 * Scheduling happens in one BEGIN IMMEDIATE transaction per pick, so two
 * workers (or two daemons on one database) never take the same job or
 * host.  Host jobs are served first-come first-served: when the oldest
 * runnable host job cannot get all its hosts, younger host jobs wait too,
 * so a 2-host job is never starved by a stream of 1-host jobs; build jobs
 * need no host and always proceed.
 *
 * Verdicts: a job is pass, fail (the code under test), broken (the farm),
 * blocked (its build did not pass) or cancelled.  A broken job is retried
 * (attempt + 1) while attempt < max_attempts.  A flight is decided when no
 * job is queued or running: cancelled if a cancel was requested, else fail
 * if any job failed, else broken if any job is broken, else pass.  Blocked
 * jobs follow from a failed or broken build, which already decides.
 *
 * Health checks (LAVA's model): a host whose job ended broken because of
 * the host (it never reached the hypervisor, or its QEMU died) is
 * quarantined; a job broken by anything else (a suite file gone, the
 * daemon stopping) leaves its hosts idle.  When a worker is idle it checks
 * a quarantined host: it boots the newest passed build's hypervisor on it
 * through iPXE and waits for the banner.  A failed check
 * keeps the host broken and is retried HEALTH_RETRY_S later; after
 * HEALTH_MAX_FAILURES consecutive failures the host goes offline until an
 * operator re-declares it (a daemon restart with the host in the config).
 */
#include "executor.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "driver_qemu.h"
#include "executor_internal.h"
#include "hostpool.h"
#include "provision_internal.h"
#include "ssh_client.h"
#include "writes.h"

#define MAX_WORKERS 8
#define IDLE_WAIT_MS 1000
#define HEALTH_RETRY_S 30
#define HEALTH_MAX_FAILURES 3

struct executor {
	const struct xenrt_config *cfg;
	pthread_t threads[MAX_WORKERS];
	int nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	unsigned long kicks;
};

struct worker {
	struct executor *ex;
	sqlite3 *db;
};

int executor_stopping(struct executor *ex)
{
	return __atomic_load_n(&ex->stop, __ATOMIC_ACQUIRE);
}

void executor_kick(struct executor *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->mu);
	ex->kicks++;
	pthread_cond_broadcast(&ex->cv);
	pthread_mutex_unlock(&ex->mu);
}

static void log_err(const char *what, const char *err)
{
	fprintf(stderr, "xenrt executor: %s: %s\n", what, err);
}

struct claim {
	long long job_id, flight_id;
	int attempt, hosts_needed;
	char suite[64];
};

/* Hosts that are or may become available (quarantined ones may pass their
 * health check; offline ones need an operator; drivers we cannot run yet
 * never will). */
static int usable_hosts(sqlite3 *db)
{
	sqlite3_stmt *st;
	int n = 0;

	if (sqlite3_prepare_v2(db,
			       "SELECT count(*) FROM hosts WHERE state != 'offline'"
			       " AND driver IN " HOSTPOOL_DRIVERS,
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static int impossible_job(sqlite3 *db, const struct claim *c)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "suite needs %d hosts, the pool has %d usable", c->hosts_needed,
		 usable_hosts(db));
	return writes_job_impossible(db, c->job_id, c->attempt, msg);
}

/* Picks and marks running the next runnable job: 0 claimed, 1 none, -1. */
static int claim_job(sqlite3 *db, struct claim *c)
{
	struct pool_host hosts[HOSTPOOL_MAX_HOSTS];
	char err[256];
	sqlite3_stmt *st;
	int found = 1, host_jobs_blocked = 0;

	if (db_exec(db, "BEGIN IMMEDIATE", err, sizeof(err)) != SQLITE_OK)
		return -1;
	if (writes_settle(db))
		goto fail;
	if (sqlite3_prepare_v2(
		    db,
		    "SELECT j.id, j.flight_id, j.attempt, j.hosts_needed, j.suite FROM jobs j"
		    " JOIN flights f ON f.id = j.flight_id"
		    " WHERE j.status = 'queued' AND f.cancel_requested = 0"
		    " AND (j.depends_on IS NULL OR (SELECT d.status FROM jobs d WHERE d.id = j.depends_on) = 'pass')"
		    " ORDER BY j.id",
		    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while (found == 1 && sqlite3_step(st) == SQLITE_ROW) {
		c->job_id = sqlite3_column_int64(st, 0);
		c->flight_id = sqlite3_column_int64(st, 1);
		c->attempt = sqlite3_column_int(st, 2);
		c->hosts_needed = sqlite3_column_int(st, 3);
		snprintf(c->suite, sizeof(c->suite), "%s",
			 (const char *)sqlite3_column_text(st, 4));
		if (c->hosts_needed == 0) {
			found = 0;
		} else if (c->hosts_needed > usable_hosts(db)) {
			/* It could never run, and FIFO would make every job wait on it. */
			if (impossible_job(db, c))
				found = -1;
		} else if (!host_jobs_blocked) {
			int rc = hostpool_reserve_locked(db, c->job_id, c->attempt, c->hosts_needed,
							 hosts, err, sizeof(err));
			if (rc < 0) {
				log_err("reserve", err);
				found = -1;
			} else if (rc == 0) {
				found = 0;
			} else {
				host_jobs_blocked = 1;
			}
		}
	}
	sqlite3_finalize(st);
	if (found < 0)
		goto fail;
	if (found == 0) {
		char rel[128];
		snprintf(rel, sizeof(rel), "%lld/%lld/%d", c->flight_id, c->job_id, c->attempt);
		if (writes_job_claimed(db, c->job_id, c->flight_id, rel))
			goto fail;
	}
	if (db_exec(db, "COMMIT", err, sizeof(err)) != SQLITE_OK)
		goto fail;
	return found;
fail:
	db_exec(db, "ROLLBACK", err, sizeof(err));
	return -1;
}

/* Records the end of an attempt: hosts back (quarantined if broken), the
 * job decided or requeued for another attempt, the flight settled. */
static void finish_job(struct executor *ex, sqlite3 *db, const struct claim *c, enum verdict v,
		       int host_fault, const char *msg)
{
	char err[256], reason[300];

	if (c->hosts_needed) {
		snprintf(reason, sizeof(reason), "job %lld attempt %d ended %s: %.200s", c->job_id,
			 c->attempt, verdict_name(v), msg);
		if (hostpool_release(db, c->job_id, v == V_BROKEN && host_fault, reason, err,
				     sizeof(err)))
			log_err("release hosts", err);
	}
	if (db_exec(db, "BEGIN IMMEDIATE", err, sizeof(err)) != SQLITE_OK) {
		log_err("finish job", err);
		return;
	}
	if (writes_job_ended(db, c->job_id, verdict_name(v)) ||
	    (v == V_FAIL && writes_job_retest(db, c->job_id)) || writes_settle(db) ||
	    db_exec(db, "COMMIT", err, sizeof(err)) != SQLITE_OK) {
		db_exec(db, "ROLLBACK", err, sizeof(err));
		log_err("finish job", "could not record the verdict");
	}
	executor_kick(ex);
}

static void run_claimed(struct executor *ex, sqlite3 *db, const struct claim *c)
{
	struct job_run jr = {
		.db = db,
		.cfg = ex->cfg,
		.ex = ex,
		.flight_id = c->flight_id,
		.job_id = c->job_id,
		.attempt = c->attempt,
	};
	char msg[512] = "";
	enum verdict v;

	snprintf(jr.suite, sizeof(jr.suite), "%s", c->suite);
	if (jobrun_prepare(&jr, msg, sizeof(msg))) {
		step_record(&jr, "prepare", "broken", msg, NULL);
		v = V_BROKEN;
	} else if (strcmp(c->suite, "build") == 0 && c->hosts_needed == 0) {
		v = build_job_run(&jr, msg, sizeof(msg));
	} else {
		v = test_job_run(&jr, NULL, 0, msg, sizeof(msg));
	}
	finish_job(ex, db, c, v, jr.host_fault, msg);
}

/* One health check if a quarantined host is due: 0 ran one, 1 none. */
static int health_check(struct executor *ex, sqlite3 *db)
{
	struct pool_host h;
	char err[512], hex[65], msg[512] = "";
	struct job_run jr = { .db = db, .cfg = ex->cfg, .ex = ex, .attempt = 1 };
	enum verdict v;
	int failures, rc;

	if (provision_health_artifact(db, hex, err, sizeof(err)) != 0)
		return 1; /* nothing built yet to check with: stay quarantined */
	rc = hostpool_begin_health_check(db, db_now() - HEALTH_RETRY_S, &h, jr.log_rel,
					 sizeof(jr.log_rel), err, sizeof(err));
	if (rc)
		return 1;
	snprintf(jr.suite, sizeof(jr.suite), "health");
	snprintf(jr.log_abs, sizeof(jr.log_abs), "%s/health", ex->cfg->log_dir);
	mkdir(ex->cfg->log_dir, 0755);
	mkdir(jr.log_abs, 0755);
	snprintf(jr.log_abs, sizeof(jr.log_abs), "%s/%s", ex->cfg->log_dir, jr.log_rel);
	if (mkdir(jr.log_abs, 0755)) {
		v = V_BROKEN;
		snprintf(msg, sizeof(msg), "cannot create %.400s", jr.log_abs);
	} else {
		v = test_job_run(&jr, &h, 1, msg, sizeof(msg));
	}
	if (executor_stopping(ex)) {
		/* Interrupted, not failed: the next start checks it again. */
		hostpool_end_health_check(db, h.id, jr.log_rel, 0, 0, "health check interrupted",
					  err, sizeof(err));
		return 0;
	}
	failures = hostpool_health_failures(db, h.id);
	if (v == V_PASS)
		snprintf(err, sizeof(err), "health check passed");
	else
		snprintf(err, sizeof(err), "health check failed: %.400s", msg);
	if (hostpool_end_health_check(db, h.id, jr.log_rel, v == V_PASS,
				      v != V_PASS && failures + 1 >= HEALTH_MAX_FAILURES, err, msg,
				      sizeof(msg)))
		log_err("health check", msg);
	executor_kick(ex);
	return 0;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct executor *ex = w->ex;

	while (!executor_stopping(ex)) {
		struct claim c;
		unsigned long seen;
		int rc;

		pthread_mutex_lock(&ex->mu);
		seen = ex->kicks;
		pthread_mutex_unlock(&ex->mu);
		rc = claim_job(w->db, &c);
		if (rc == 0) {
			run_claimed(ex, w->db, &c);
			continue;
		}
		if (rc == 1 && health_check(ex, w->db) == 0)
			continue;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += IDLE_WAIT_MS / 1000;
		pthread_mutex_lock(&ex->mu);
		while (!ex->stop && ex->kicks == seen &&
		       pthread_cond_timedwait(&ex->cv, &ex->mu, &until) == 0)
			;
		pthread_mutex_unlock(&ex->mu);
	}
	db_close(w->db);
	free(w);
	return NULL;
}

/* What a dead daemon left: QEMU processes (killed through their pid
 * files), jobs marked running (their running steps become broken, the job
 * is retried while attempts remain), hosts held (reset). */
static int recover(const struct xenrt_config *cfg, sqlite3 *db, char *err, size_t errlen)
{
	int killed = qemu_kill_stale(cfg), reset;

	if (killed)
		fprintf(stderr, "xenrt executor: killed %d stale QEMU host(s)\n", killed);
	if (db_exec(db, "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		return -1;
	if (writes_recover(db) || writes_settle(db) ||
	    db_exec(db, "COMMIT", err, errlen) != SQLITE_OK) {
		char e2[64];
		db_exec(db, "ROLLBACK", e2, sizeof(e2));
		snprintf(err, errlen, "crash recovery failed: %s", sqlite3_errmsg(db));
		return -1;
	}
	reset = hostpool_reset_stale(db, err, errlen);
	if (reset < 0)
		return -1;
	if (reset)
		fprintf(stderr, "xenrt executor: reset %d host(s) left in use\n", reset);
	return 0;
}

struct executor *executor_start(const struct xenrt_config *cfg, char *err, size_t errlen)
{
	struct executor *ex = calloc(1, sizeof(*ex));
	sqlite3 *db;
	int n;

	if (!ex) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ex->cfg = cfg;
	pthread_mutex_init(&ex->mu, NULL);
	pthread_cond_init(&ex->cv, NULL);
	if (db_open(cfg->db_path, &db, err, errlen) != SQLITE_OK) {
		free(ex);
		return NULL;
	}
	if (recover(cfg, db, err, errlen)) {
		db_close(db);
		free(ex);
		return NULL;
	}
	db_close(db);
	/* The farm's dom0 login key, made once before any worker or boot
     * script can want it (two workers must not both run ssh-keygen). */
	char priv[1100], pub[1100];
	if (ssh_farm_key(cfg, priv, sizeof(priv), pub, sizeof(pub), err, errlen)) {
		free(ex);
		return NULL;
	}
	/* One worker per host, plus one so a build runs while hosts are busy. */
	n = (int)cfg->nhosts + 1;
	if (n > MAX_WORKERS)
		n = MAX_WORKERS;
	for (int i = 0; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (w)
			w->ex = ex;
		if (!w || db_open(cfg->db_path, &w->db, err, errlen) != SQLITE_OK ||
		    pthread_create(&ex->threads[i], NULL, worker_main, w)) {
			if (w && !err[0])
				snprintf(err, errlen, "cannot start worker thread");
			if (w)
				db_close(w->db);
			free(w);
			executor_stop(ex);
			return NULL;
		}
		ex->nthreads++;
	}
	return ex;
}

void executor_stop(struct executor *ex)
{
	if (!ex)
		return;
	pthread_mutex_lock(&ex->mu);
	__atomic_store_n(&ex->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&ex->cv);
	pthread_mutex_unlock(&ex->mu);
	for (int i = 0; i < ex->nthreads; i++)
		pthread_join(ex->threads[i], NULL);
	pthread_mutex_destroy(&ex->mu);
	pthread_cond_destroy(&ex->cv);
	free(ex);
}
