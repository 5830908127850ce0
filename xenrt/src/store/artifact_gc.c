/* artifact_gc.c: removes artifacts no flight needs (see artifact_gc.h). */
#include "artifact_gc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "db.h"
#include "provision_internal.h"

/* Artifacts no kept flight links, oldest first.  ?1 newest flights kept,
 * ?2 the health check's artifact (or NULL). */
static const char *const unused_sql =
	"SELECT sha256 FROM artifacts WHERE sha256 NOT IN ("
	" SELECT sha256 FROM flight_artifacts WHERE flight_id IN"
	"  (SELECT id FROM flights ORDER BY id DESC LIMIT ?1)"
	" OR flight_id IN (SELECT id FROM flights WHERE status IN ('queued', 'running')))"
	" AND sha256 IS NOT ?2 ORDER BY created_at, sha256";

struct victims {
	char (*hex)[ARTIFACT_HEX_LEN + 1];
	size_t n;
};

static int sqlerr(sqlite3 *db, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s: %s", what, sqlite3_errmsg(db));
	return -1;
}

static int choose(sqlite3 *db, long long keep_flights, struct victims *v, char *err, size_t errlen)
{
	char health[ARTIFACT_HEX_LEN + 1];
	int hrc = provision_health_artifact(db, health, err, errlen);
	if (hrc < 0)
		return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, unused_sql, -1, &st, NULL) != SQLITE_OK)
		return sqlerr(db, "choosing artifacts", err, errlen);
	sqlite3_bind_int64(st, 1, keep_flights);
	if (hrc == 0)
		sqlite3_bind_text(st, 2, health, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *hex = (const char *)sqlite3_column_text(st, 0);
		/* The store never records another name; skip rather than build
		 * a path from one. */
		if (!artifact_name_valid(hex))
			continue;
		void *grown = realloc(v->hex, (v->n + 1) * sizeof *v->hex);
		if (!grown) {
			sqlite3_finalize(st);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		v->hex = grown;
		memcpy(v->hex[v->n++], hex, ARTIFACT_HEX_LEN + 1);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : sqlerr(db, "choosing artifacts", err, errlen);
}

/* Deletes one artifact's rows (its links first: they reference it). */
static int delete_rows(sqlite3 *db, const char *hex, char *err, size_t errlen)
{
	static const char *const sql[] = {
		"DELETE FROM flight_artifacts WHERE sha256 = ?1",
		"DELETE FROM artifacts WHERE sha256 = ?1",
	};
	for (size_t i = 0; i < sizeof sql / sizeof sql[0]; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql[i], -1, &st, NULL) != SQLITE_OK)
			return sqlerr(db, "deleting artifact", err, errlen);
		sqlite3_bind_text(st, 1, hex, -1, SQLITE_STATIC);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return sqlerr(db, "deleting artifact", err, errlen);
	}
	return 0;
}

/* The file's size, -1 if missing; with `remove`, unlinks it. */
static int take_file(const char *artifact_dir, const char *hex, int remove, long long *bytes,
		     char *err, size_t errlen)
{
	char path[4096];
	struct stat sb;
	if (artifact_path(artifact_dir, hex, path, sizeof path)) {
		snprintf(err, errlen, "artifact directory path too long");
		return -1;
	}
	if (lstat(path, &sb)) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return -1;
		}
		*bytes = -1;
		return 0;
	}
	*bytes = sb.st_size;
	if (remove && unlink(path)) {
		snprintf(err, errlen, "removing %s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

int artifact_gc(sqlite3 *db, const char *artifact_dir, long long keep_flights, int dry_run,
		gc_each_fn each, void *arg, struct gc_report *out, char *err, size_t errlen)
{
	struct victims v = { 0 };
	char e2[128];
	int rc = -1, lock = -1;
	memset(out, 0, sizeof *out);
	/* A dry run only reads: no lock, no write transaction, no lock file. */
	if (!dry_run && (lock = artifact_lock(artifact_dir, 1, err, errlen)) < 0)
		return -1;
	if (db_exec(db, dry_run ? "BEGIN" : "BEGIN IMMEDIATE", err, errlen) != SQLITE_OK)
		goto out;
	rc = choose(db, keep_flights, &v, err, errlen);
	for (size_t i = 0; rc == 0 && !dry_run && i < v.n; i++)
		rc = delete_rows(db, v.hex[i], err, errlen);
	if (rc == 0) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, "SELECT count(*) FROM artifacts", -1, &st, NULL) ==
			    SQLITE_OK &&
		    sqlite3_step(st) == SQLITE_ROW)
			out->kept = sqlite3_column_int64(st, 0) - (dry_run ? (long long)v.n : 0);
		else
			rc = sqlerr(db, "counting artifacts", err, errlen);
		sqlite3_finalize(st);
	}
	if (rc == 0 && !dry_run && db_exec(db, "COMMIT", err, errlen) != SQLITE_OK)
		rc = -1;
	if (rc || dry_run)
		db_exec(db, "ROLLBACK", e2, sizeof e2);
	/* Files only once no row names them any more. */
	for (size_t i = 0; rc == 0 && i < v.n; i++) {
		long long bytes;
		rc = take_file(artifact_dir, v.hex[i], !dry_run, &bytes, err, errlen);
		if (rc)
			break;
		out->files++;
		out->bytes += bytes > 0 ? bytes : 0;
		if (each)
			each(arg, v.hex[i], bytes);
	}
out:
	if (lock >= 0)
		artifact_unlock(lock);
	free(v.hex);
	return rc;
}
