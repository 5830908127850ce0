/* migrate.c: applies embedded schema migrations, one transaction each.
 *
 * user_version is the source of truth for "what is applied" (it is part of
 * the database header, so it commits atomically with the migration);
 * schema_migrations is the operator-readable history.  The first migration
 * creates schema_migrations itself, so its row is written after its SQL.
 */
#include <stdio.h>

#include "db.h"
#include "migrate.h"

static int user_version(sqlite3 *db, int *out, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
		return rc;
	}
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = SQLITE_OK;
	} else {
		snprintf(err, errlen, "reading schema version: %s", sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return rc;
}

static int record(sqlite3 *db, const struct migration *m, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?1, ?2, ?3)",
		-1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, db_now());
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	}
	if (rc != SQLITE_OK)
		snprintf(err, errlen, "migration %s: recording it: %s", m->name,
			 sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;

	/* PRAGMA takes no bound parameters; the version is our own integer. */
	char sql[64];
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
	return db_exec(db, sql, err, errlen);
}

/* Applies set[have] where `have` is read inside the write transaction, so two
 * processes opening a fresh database at once cannot both apply a migration.
 * Sets *done when nothing is left. */
static int apply_next(sqlite3 *db, const struct migration *set, size_t n, int *done, char *err,
		      size_t errlen)
{
	char inner[256];
	int rc = db_exec(db, "BEGIN IMMEDIATE", err, errlen);
	if (rc != SQLITE_OK)
		return rc;
	int have;
	rc = user_version(db, &have, err, errlen);
	if (rc == SQLITE_OK && have > (int)n) {
		snprintf(err, errlen,
			 "database schema version %d is newer than this xenrt knows (%zu): "
			 "refusing to open it; use a newer xenrt",
			 have, n);
		rc = SQLITE_ERROR;
	}
	*done = rc == SQLITE_OK && have == (int)n;
	if (rc == SQLITE_OK && !*done) {
		const struct migration *m = &set[have];
		char *msg = NULL;
		rc = sqlite3_exec(db, m->sql, NULL, NULL, &msg);
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "migration %s failed: %s", m->name,
				 msg ? msg : sqlite3_errstr(rc));
			sqlite3_free(msg);
		} else {
			rc = record(db, m, err, errlen);
		}
	}
	if (rc == SQLITE_OK)
		rc = db_exec(db, "COMMIT", err, errlen);
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
		db_exec(db, "ROLLBACK", inner, sizeof inner);
	return rc;
}

int migrate_apply(sqlite3 *db, const struct migration *set, size_t n, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		if (set[i].version != (int)i + 1) {
			snprintf(err, errlen, "embedded migration %s has version %d, expected %zu",
				 set[i].name, set[i].version, i + 1);
			return SQLITE_ERROR;
		}
	}
	/* The common case, an up-to-date database, takes no write lock. */
	int have;
	int rc = user_version(db, &have, err, errlen);
	if (rc != SQLITE_OK)
		return rc;
	int done = have == (int)n;
	while (!done) {
		rc = apply_next(db, set, n, &done, err, errlen);
		if (rc != SQLITE_OK)
			return rc;
	}
	return SQLITE_OK;
}
