/* steward.c: the farm's automation thread (see steward.h). */
#include "steward.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api_model.h"
#include "bisect.h"
#include "db.h"
#include "schedule.h"
#include "tested.h"
#include "writes.h"

struct steward {
	const struct xenrt_config *cfg;
	struct webhook_sender *ws;
	void (*kick)(void *arg);
	void *kick_arg;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	unsigned long kicks;
};

static void log_err(const char *what, const char *err)
{
	fprintf(stderr, "xenrt steward: %s: %s\n", what, err);
}

/* What a webhook says about a flight. */
static json_t *flight_summary(json_t *f)
{
	char url[64];
	snprintf(url, sizeof url, "/flights/%" JSON_INTEGER_FORMAT,
		 json_integer_value(json_object_get(f, "id")));
	json_t *v = json_object_get(f, "verdict");
	return json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:s}", "id",
			 json_object_get(f, "id"), "kind", json_object_get(f, "kind"), "repo",
			 json_object_get(f, "repo"), "ref", json_object_get(f, "ref"), "revision",
			 json_object_get(f, "revision"), "status", json_object_get(f, "status"),
			 "verdict", json_object_get(v, "summary"), "baseline_id",
			 json_object_get(f, "baseline_id"), "gate", json_object_get(f, "gate"),
			 "url", url);
}

static int queue(sqlite3 *db, const struct xenrt_config *cfg, unsigned event, json_t *payload)
{
	char err[256];
	int rc = payload ? webhook_queue(db, cfg, event, payload, err, sizeof err) : -1;
	if (rc)
		log_err("webhook", payload ? err : "out of memory");
	json_decref(payload);
	return rc;
}

/* Draws the consequences of one finished flight, once. */
static int flight_done(sqlite3 *db, const struct xenrt_config *cfg, int64_t id)
{
	json_t *f = NULL;
	char err[512];
	if (model_flight(db, id, &f, err, sizeof err)) {
		log_err("flight", err);
		return -1;
	}
	/* git runs here, before the transaction: nobody waits on it. */
	int pushed = tested_push(db, cfg, f, err, sizeof err);
	if (pushed < 0)
		log_err("tested ref", err);
	struct bisect_plan plan;
	int bisect = bisect_plan(db, f, &plan);
	bool probe = json_is_integer(json_object_get(f, "bisection_id"));
	int rc = db_exec(db, "BEGIN IMMEDIATE", err, sizeof err) == SQLITE_OK ? 0 : -1;
	if (rc == 0 && !probe) {
		rc |= queue(db, cfg, WEBHOOK_FLIGHT_FINISHED,
			    json_pack("{s:o}", "flight", flight_summary(f)));
		json_t *regs = json_object_get(json_object_get(f, "verdict"), "regressions");
		if (json_array_size(regs))
			rc |= queue(db, cfg, WEBHOOK_REGRESSION,
				    json_pack("{s:o, s:O}", "flight", flight_summary(f),
					      "regressions", regs));
	}
	if (rc == 0 && pushed > 0) {
		const char *repo = json_string_value(json_object_get(f, "repo"));
		const char *ref = json_string_value(json_object_get(f, "ref"));
		const struct xenrt_branch *b = tested_branch(cfg, repo, ref);
		rc |= queue(db, cfg, WEBHOOK_TESTED_REF_PUSHED,
			    json_pack("{s:o, s:s, s:s, s:s, s:O}", "flight", flight_summary(f),
				      "repo", b->repo, "branch", b->branch, "tested_ref",
				      b->tested_ref, "revision", json_object_get(f, "revision")));
	}
	if (rc == 0 && bisect) {
		int64_t bid;
		rc = bisect_create(db, &plan, &bid, err, sizeof err);
		if (rc)
			log_err("bisection", err);
	} else if (bisect) {
		json_decref(plan.commits);
	}
	if (rc == 0 && (writes_flight_steward_done(db, id) ||
			db_exec(db, "COMMIT", err, sizeof err) != SQLITE_OK))
		rc = -1;
	if (rc) {
		char ignored[128];
		db_exec(db, "ROLLBACK", ignored, sizeof ignored);
	}
	json_decref(f);
	return rc;
}

static int finished_flights(sqlite3 *db, const struct xenrt_config *cfg)
{
	sqlite3_stmt *st;
	int64_t ids[32];
	int n = 0;
	if (sqlite3_prepare_v2(db,
			       "SELECT id FROM flights WHERE steward_done = 0 AND status NOT IN "
			       "('queued', 'running') ORDER BY id LIMIT 32",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW)
		ids[n++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	for (int i = 0; i < n; i++)
		if (flight_done(db, cfg, ids[i]))
			return -1;
	return n;
}

/* host-offline webhooks for the host events since the last look (the
 * mark moves in the same transaction as the queued deliveries). */
static int hosts_offline(sqlite3 *db, const struct xenrt_config *cfg)
{
	char err[256];
	sqlite3_stmt *st;
	/* Most ticks see no new event: a read, not a write transaction. */
	if (sqlite3_prepare_v2(db,
			       "SELECT coalesce(max(id), 0) > (SELECT CAST(value AS INTEGER) "
			       "FROM farm_state WHERE key = 'host_offline_seen') FROM host_events",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	int fresh = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!fresh)
		return 0;
	if (db_exec(db, "BEGIN IMMEDIATE", err, sizeof err) != SQLITE_OK)
		return -1;
	int rc =
		sqlite3_prepare_v2(
			db,
			"SELECT e.id, e.new_state, h.name, e.reason, e.at FROM host_events e "
			"JOIN hosts h ON h.id = e.host_id WHERE e.id > (SELECT CAST(value AS INTEGER) "
			"FROM farm_state WHERE key = 'host_offline_seen') ORDER BY e.id LIMIT 100",
			-1, &st, NULL) == SQLITE_OK
			? 0
			: -1;
	long long last = -1;
	while (rc == 0 && sqlite3_step(st) == SQLITE_ROW) {
		last = sqlite3_column_int64(st, 0);
		if (strcmp((const char *)sqlite3_column_text(st, 1), "offline") == 0)
			rc = queue(db, cfg, WEBHOOK_HOST_OFFLINE,
				   json_pack("{s:{s:s, s:s, s:f, s:I}}", "host", "name",
					     (const char *)sqlite3_column_text(st, 2), "reason",
					     (const char *)sqlite3_column_text(st, 3), "at",
					     sqlite3_column_double(st, 4), "event",
					     (json_int_t)last));
	}
	sqlite3_finalize(st);
	if (rc == 0 && last >= 0) {
		char sql[128];
		snprintf(sql, sizeof sql,
			 "UPDATE farm_state SET value = '%lld' WHERE key = "
			 "'host_offline_seen'",
			 last);
		if (db_exec(db, sql, err, sizeof err) != SQLITE_OK)
			rc = -1;
	}
	char ignored[128];
	if (rc == 0 && db_exec(db, "COMMIT", err, sizeof err) == SQLITE_OK)
		return 0;
	db_exec(db, "ROLLBACK", ignored, sizeof ignored);
	return -1;
}

int steward_tick(sqlite3 *db, const struct xenrt_config *cfg, struct webhook_sender *ws)
{
	char err[512];
	int started = schedule_run_due(db, cfg, err, sizeof err);
	if (started < 0) {
		log_err("schedules", err);
		started = 0;
	}
	int done = finished_flights(db, cfg);
	if (done < 0)
		log_err("finished flights", sqlite3_errmsg(db));
	if (hosts_offline(db, cfg) < 0)
		log_err("host events", sqlite3_errmsg(db));
	int probes = bisect_tick(db, cfg, err, sizeof err);
	if (probes < 0) {
		log_err("bisection", err);
		probes = 0;
	}
	if (done > 0 || cfg->nwebhooks)
		webhook_kick(ws);
	return started + probes;
}

static bool stopping(struct steward *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_ACQUIRE);
}

static void *steward_main(void *arg)
{
	struct steward *s = arg;
	sqlite3 *db;
	char err[512];
	if (db_open(s->cfg->db_path, &db, err, sizeof err) != SQLITE_OK) {
		log_err("database", err);
		return NULL;
	}
	while (!stopping(s)) {
		pthread_mutex_lock(&s->mu);
		unsigned long seen = s->kicks;
		pthread_mutex_unlock(&s->mu);
		if (steward_tick(db, s->cfg, s->ws) > 0 && s->kick)
			s->kick(s->kick_arg);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		long ns = until.tv_nsec + (long)s->cfg->steward_tick_ms % 1000 * 1000000L;
		until.tv_sec += s->cfg->steward_tick_ms / 1000 + ns / 1000000000L;
		until.tv_nsec = ns % 1000000000L;
		pthread_mutex_lock(&s->mu);
		while (!s->stop && s->kicks == seen &&
		       pthread_cond_timedwait(&s->cv, &s->mu, &until) == 0)
			;
		pthread_mutex_unlock(&s->mu);
	}
	db_close(db);
	return NULL;
}

struct steward *steward_start(const struct xenrt_config *cfg, struct webhook_sender *ws,
			      void (*kick)(void *arg), void *kick_arg, char *err, size_t errlen)
{
	sqlite3 *db;
	if (db_open(cfg->db_path, &db, err, errlen) != SQLITE_OK)
		return NULL;
	int rc = schedule_sync(db, cfg, err, errlen);
	db_close(db);
	if (rc)
		return NULL;
	struct steward *s = calloc(1, sizeof *s);
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->cfg = cfg, s->ws = ws, s->kick = kick, s->kick_arg = kick_arg;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	if (pthread_create(&s->thread, NULL, steward_main, s)) {
		snprintf(err, errlen, "cannot start the steward thread");
		free(s);
		return NULL;
	}
	return s;
}

void steward_kick(struct steward *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	s->kicks++;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

void steward_stop(struct steward *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->mu);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	free(s);
}
