/* db.c: opening the database, host sync, small helpers shared by all users. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "migrate.h"
#include "writes.h"

/* Writers (executor, API) hold the lock for milliseconds; five seconds only
 * runs out when something is really stuck. */
#define BUSY_TIMEOUT_MS 5000

double db_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return rc;
}

int db_schema_version(void)
{
	return (int)xenrt_migrations_count;
}

int db_open_with(const char *path, const struct migration *set, size_t n, sqlite3 **out, char *err,
		 size_t errlen)
{
	sqlite3 *db = NULL;
	*out = NULL;
	int rc = sqlite3_open_v2(
		path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close_v2(db);
		return rc;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	char inner[512];
	rc = db_exec(db, "PRAGMA journal_mode = WAL", inner, sizeof inner);
	if (rc == SQLITE_OK)
		rc = db_exec(db, "PRAGMA foreign_keys = ON", inner, sizeof inner);
	/* WAL makes NORMAL durable against application crashes, which is the
	 * failure the farm must survive (kill -9 of the daemon). */
	if (rc == SQLITE_OK)
		rc = db_exec(db, "PRAGMA synchronous = NORMAL", inner, sizeof inner);
	if (rc == SQLITE_OK)
		rc = migrate_apply(db, set, n, inner, sizeof inner);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, inner);
		sqlite3_close_v2(db);
		return rc;
	}
	*out = db;
	return SQLITE_OK;
}

int db_open(const char *path, sqlite3 **out, char *err, size_t errlen)
{
	return db_open_with(path, xenrt_migrations, xenrt_migrations_count, out, err, errlen);
}

void db_close(sqlite3 *db)
{
	sqlite3_close_v2(db);
}

int db_sync_hosts(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen)
{
	char inner[256];
	int rc = db_exec(db, "BEGIN IMMEDIATE", err, errlen);
	if (rc != SQLITE_OK)
		return rc;
	if (writes_hosts_declared(db, cfg))
		rc = sqlite3_errcode(db) == SQLITE_OK ? SQLITE_ERROR : sqlite3_errcode(db);
	if (rc == SQLITE_OK)
		rc = db_exec(db, "COMMIT", inner, sizeof inner);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "syncing hosts: %s", sqlite3_errmsg(db));
		if (!sqlite3_get_autocommit(db))
			db_exec(db, "ROLLBACK", inner, sizeof inner);
	}
	return rc;
}
