/* executor_local.c: the steps of suites that boot nothing (provision =
 * none): a `local` step runs its command with /bin/sh on the daemon's
 * machine, on behalf of one of the job's reserved hosts.
 *
 * Such suites exist so the farm's own logic (schedules, tested refs, flaky
 * retests, bisection) is tested end to end through the real executor, host
 * pool and verdicts in seconds instead of minutes of nested boots.  The
 * command learns what to test from its environment: XENRT_REPO and
 * XENRT_REVISION (the flight's repository and the commit its build
 * resolved), XENRT_FLIGHT, XENRT_JOB, XENRT_ATTEMPT, XENRT_HOST (the
 * reserved host's name) and XENRT_LOG_DIR (the attempt's log directory,
 * also its working directory).  Exit status 0 passes, any other fails, a
 * timeout fails; a command that cannot be started is broken.
 */
#include "executor_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
#include "suite.h"

#define LOCAL_ENV_MAX 512

static int stop_requested(void *ctx)
{
	return jobrun_should_stop(ctx);
}

/* The flight's repository and resolved revision ("" when unknown). */
static void flight_source(struct job_run *jr, char *repo, size_t repolen, char *rev, size_t revlen)
{
	sqlite3_stmt *st;

	repo[0] = rev[0] = '\0';
	if (sqlite3_prepare_v2(jr->db,
			       "SELECT repo, coalesce(revision, '') FROM flights WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, jr->flight_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(repo, repolen, "%s", (const char *)sqlite3_column_text(st, 0));
		snprintf(rev, revlen, "%s", (const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
}

enum verdict local_step_run(struct job_run *jr, const struct suite_step *st, const char *host,
			    char *msg, size_t msglen)
{
	extern char **environ;
	char repo[4200], rev[80], log[96], path[1200], err[256];
	char vars[7][4400];
	const char *env[LOCAL_ENV_MAX + 8];
	size_t n = 0;
	long long id;
	int code = -1, rc;

	flight_source(jr, repo, sizeof(repo), rev, sizeof(rev));
	snprintf(vars[0], sizeof(vars[0]), "XENRT_REPO=%s", repo);
	snprintf(vars[1], sizeof(vars[1]), "XENRT_REVISION=%s", rev);
	snprintf(vars[2], sizeof(vars[2]), "XENRT_FLIGHT=%lld", jr->flight_id);
	snprintf(vars[3], sizeof(vars[3]), "XENRT_JOB=%lld", jr->job_id);
	snprintf(vars[4], sizeof(vars[4]), "XENRT_ATTEMPT=%d", jr->attempt);
	snprintf(vars[5], sizeof(vars[5]), "XENRT_HOST=%s", host);
	snprintf(vars[6], sizeof(vars[6]), "XENRT_LOG_DIR=%s", jr->log_abs);
	for (size_t i = 0; environ[i] && n < LOCAL_ENV_MAX; i++)
		if (strncmp(environ[i], "XENRT_", 6) && strncmp(environ[i], "MAKEFLAGS=", 10) &&
		    strncmp(environ[i], "MAKELEVEL=", 10) && strncmp(environ[i], "MFLAGS=", 7))
			env[n++] = environ[i];
	for (size_t i = 0; i < 7; i++)
		env[n++] = vars[i];
	env[n] = NULL;

	snprintf(log, sizeof(log), "local-%s.log", st->name);
	snprintf(path, sizeof(path), "%s/%s", jr->log_abs, log);
	id = step_begin(jr, st->name, log);
	char *const argv[] = { "/bin/sh", "-c", (char *)st->command, NULL };
	rc = proc_run(argv, jr->log_abs, (char *const *)env, path, st->timeout_s, stop_requested,
		      jr, &code, err, sizeof(err));
	if (rc > 0 && jobrun_should_stop(jr)) {
		int stopping = executor_stopping(jr->ex);
		snprintf(msg, msglen, stopping ? "daemon stopped" : "cancelled");
		step_end(jr, id, stopping ? "broken" : "skip", msg);
		return stopping ? V_BROKEN : V_CANCELLED;
	}
	if (rc < 0) {
		snprintf(msg, msglen, "%s: cannot run: %s", st->name, err);
		step_end(jr, id, "broken", msg);
		return V_BROKEN;
	}
	if (rc > 0)
		snprintf(msg, msglen, "%s: timed out after %ds", st->name, st->timeout_s);
	else if (code != 0)
		snprintf(msg, msglen, "%s: exited with status %d (see %s)", st->name, code, log);
	else
		msg[0] = '\0';
	step_end(jr, id, msg[0] ? "fail" : "pass", msg[0] ? msg : NULL);
	return msg[0] ? V_FAIL : V_PASS;
}
