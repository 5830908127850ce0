/* tested.c: moving a tracked branch's tested ref (see tested.h). */
#include "tested.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "db.h"
#include "proc.h"

#define GIT_TIMEOUT_S 120

const struct xenrt_branch *tested_branch(const struct xenrt_config *cfg, const char *repo,
					 const char *ref)
{
	if (!strncmp(ref, "refs/heads/", 11))
		ref += 11;
	for (size_t i = 0; i < cfg->nbranches; i++)
		if (!strcmp(cfg->branches[i].repo, repo) && !strcmp(cfg->branches[i].branch, ref))
			return &cfg->branches[i];
	return NULL;
}

int64_t tested_baseline(sqlite3 *db, const struct xenrt_config *cfg, const char *repo,
			const char *ref)
{
	const struct xenrt_branch *b = tested_branch(cfg, repo, ref);
	sqlite3_stmt *st;
	int64_t id = 0;
	if (!b || sqlite3_prepare_v2(db,
				     "SELECT flight_id FROM tested_pushes WHERE repo = ?1 AND "
				     "branch = ?2 AND ok = 1 ORDER BY id DESC LIMIT 1",
				     -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, b->repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->branch, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

/* Runs git with its output appended to log; 0 or -1 with why in err. */
static int git(char *const argv[], const char *log, char *err, size_t errlen)
{
	int code = -1;
	char e[256];
	if (proc_run(argv, NULL, NULL, log, GIT_TIMEOUT_S, NULL, NULL, &code, e, sizeof e) != 0) {
		snprintf(err, errlen, "%s %s: %s", argv[0], argv[3] ? argv[3] : "", e);
		return -1;
	}
	if (code != 0) {
		snprintf(err, errlen, "git %s exited with status %d (see %s)", argv[3], code, log);
		return -1;
	}
	return 0;
}

/* Moves the ref: update-ref in a local repository; for a URL, fetch the
 * branch into a bare mirror and push the revision from there. */
static int move_ref(const struct xenrt_config *cfg, const struct xenrt_branch *b,
		    const char *revision, const char *log, char *err, size_t errlen)
{
	bool url = strstr(b->repo, "://") || !strncmp(b->repo, "git@", 4);
	if (!url) {
		char *const argv[] = { "git",
				       "-C",
				       (char *)b->repo,
				       "update-ref",
				       (char *)b->tested_ref,
				       (char *)revision,
				       NULL };
		return git(argv, log, err, errlen);
	}
	char mirror[XENRT_PATH_MAX + 32], fetch[300], spec[400];
	snprintf(mirror, sizeof mirror, "%s/tested-mirror", cfg->state_dir);
	struct stat sb;
	if (stat(mirror, &sb) != 0) {
		char *const init[] = { "git", "init", "--quiet", "--bare", mirror, NULL };
		int code = -1;
		char e[256];
		if (proc_run(init, NULL, NULL, log, GIT_TIMEOUT_S, NULL, NULL, &code, e,
			     sizeof e) ||
		    code) {
			snprintf(err, errlen, "git init %s failed (see %s)", mirror, log);
			return -1;
		}
	}
	snprintf(fetch, sizeof fetch, "+refs/heads/%s:refs/xenrt/%s", b->branch, b->branch);
	char *const f[] = { "git", "-C", mirror, "fetch", "--quiet", (char *)b->repo, fetch, NULL };
	if (git(f, log, err, errlen))
		return -1;
	snprintf(spec, sizeof spec, "%s:%s", revision, b->tested_ref);
	char *const p[] = { "git",           "-C", mirror, "push", "--quiet", "--force",
			    (char *)b->repo, spec, NULL };
	return git(p, log, err, errlen);
}

static int record(sqlite3 *db, int64_t flight, const struct xenrt_branch *b, const char *revision,
		  int ok, const char *message)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "INSERT INTO tested_pushes(flight_id, repo, branch, ref, revision, "
			       "ok, message, at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
			       -1, &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, flight);
	sqlite3_bind_text(st, 2, b->repo, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->branch, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->tested_ref, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, revision, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, ok);
	sqlite3_bind_text(st, 7, message, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 8, db_now());
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -1;
	sqlite3_finalize(st);
	return rc;
}

int tested_push(sqlite3 *db, const struct xenrt_config *cfg, json_t *flight, char *err,
		size_t errlen)
{
	const char *kind = json_string_value(json_object_get(flight, "kind"));
	const char *repo = json_string_value(json_object_get(flight, "repo"));
	const char *ref = json_string_value(json_object_get(flight, "ref"));
	const char *revision = json_string_value(json_object_get(flight, "revision"));
	json_t *gate = json_object_get(flight, "gate");
	if (!kind || strcmp(kind, "gate") || !repo || !ref || !revision ||
	    !json_is_true(json_object_get(gate, "push")) ||
	    json_is_string(json_object_get(flight, "patch")))
		return 0;
	const struct xenrt_branch *b = tested_branch(cfg, repo, ref);
	if (!b)
		return 0;
	int64_t id = json_integer_value(json_object_get(flight, "id"));
	char log[XENRT_PATH_MAX + 64], msg[800];
	snprintf(log, sizeof log, "%s/%lld", cfg->log_dir, (long long)id);
	mkdir(cfg->log_dir, 0755);
	mkdir(log, 0755);
	snprintf(log, sizeof log, "%s/%lld/tested-push.log", cfg->log_dir, (long long)id);
	int rc = move_ref(cfg, b, revision, log, err, errlen);
	if (rc == 0)
		snprintf(msg, sizeof msg, "%s moved to %.12s", b->tested_ref, revision);
	else
		snprintf(msg, sizeof msg, "pushing %.12s to %s failed: %.400s", revision,
			 b->tested_ref, err);
	if (record(db, id, b, revision, rc == 0, msg) < 0) {
		snprintf(err, errlen, "recording the push: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (rc)
		snprintf(err, errlen, "%s", msg);
	return rc == 0 ? 1 : -1;
}
