/* executor_steps.c: step and metric rows, written as they happen (see
 * executor_internal.h). */
#include "executor_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "writes.h"

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case V_PASS:
		return "pass";
	case V_FAIL:
		return "fail";
	case V_BROKEN:
		return "broken";
	case V_CANCELLED:
		return "cancelled";
	}
	return "broken";
}

double mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int mkdir_p(char *path)
{
	for (char *p = path + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(path, 0755) && errno != EEXIST) {
				*p = '/';
				return -1;
			}
			*p = '/';
		}
	}
	return mkdir(path, 0755) && errno != EEXIST ? -1 : 0;
}

int jobrun_prepare(struct job_run *jr, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc;

	snprintf(jr->log_rel, sizeof(jr->log_rel), "%lld/%lld/%d", jr->flight_id, jr->job_id,
		 jr->attempt);
	snprintf(jr->log_abs, sizeof(jr->log_abs), "%s/%s", jr->cfg->log_dir, jr->log_rel);
	if (mkdir_p(jr->log_abs)) {
		snprintf(err, errlen, "%s: %s", jr->log_abs, strerror(errno));
		return -1;
	}
	rc = sqlite3_prepare_v2(jr->db,
				"SELECT coalesce(max(seq), 0) + 1 FROM steps WHERE job_id = ?1", -1,
				&st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "steps: %s", sqlite3_errmsg(jr->db));
		return -1;
	}
	sqlite3_bind_int64(st, 1, jr->job_id);
	rc = sqlite3_step(st);
	jr->next_seq = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 1;
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW) {
		snprintf(err, errlen, "steps: %s", sqlite3_errmsg(jr->db));
		return -1;
	}
	return 0;
}

static long long insert_step(struct job_run *jr, const char *name, const char *status,
			     const char *message, const char *log, int finished)
{
	if (jr->job_id == 0) /* a health check: nothing to record */
		return 0;
	long long id = writes_step(jr->db, jr->job_id, jr->attempt, jr->next_seq, name, status,
				   message, log, finished);
	if (id > 0)
		jr->next_seq++;
	else
		fprintf(stderr, "xenrt: step '%s' of job %lld not recorded\n", name, jr->job_id);
	return id;
}

long long step_begin(struct job_run *jr, const char *name, const char *log)
{
	return insert_step(jr, name, "running", NULL, log, 0);
}

long long step_record(struct job_run *jr, const char *name, const char *status, const char *message,
		      const char *log)
{
	return insert_step(jr, name, status, message, log, 1);
}

int step_end(struct job_run *jr, long long step_id, const char *status, const char *message)
{
	if (step_id <= 0)
		return step_id < 0 ? -1 : 0;
	return writes_step_end(jr->db, step_id, status, message);
}

int metric_add(struct job_run *jr, long long step_id, const char *name, double value,
	       const char *unit)
{
	if (step_id <= 0)
		return step_id < 0 ? -1 : 0;
	return writes_metric(jr->db, step_id, name, value, unit);
}

int jobrun_should_stop(struct job_run *jr)
{
	sqlite3_stmt *st;
	int stop = 0;

	if (executor_stopping(jr->ex))
		return 1;
	if (jr->flight_id == 0)
		return 0;
	if (sqlite3_prepare_v2(jr->db, "SELECT cancel_requested FROM flights WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_int64(st, 1, jr->flight_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		stop = sqlite3_column_int(st, 0) != 0;
	sqlite3_finalize(st);
	return stop;
}
