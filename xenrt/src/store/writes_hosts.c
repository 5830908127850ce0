/* writes_hosts.c: the write model's hosts and host events (writes.h):
 * the pool as the config declares it, state changes with their events,
 * quarantine flags and health checks' log directories. */
#include "writes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "db.h"

static int host_event(sqlite3 *db, sqlite3_int64 host_id, const char *old_state,
		      const char *new_state, const char *reason)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT INTO host_events(host_id, at, old_state, new_state, reason) "
		"VALUES (?1, ?2, ?3, ?4, ?5)",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, host_id);
	sqlite3_bind_double(st, 2, db_now());
	if (old_state)
		sqlite3_bind_text(st, 3, old_state, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, new_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(st);
	return rc;
}

/* Inserts or updates one declared host; brings it back if it was taken
 * offline because an earlier config no longer declared it. */
static int sync_one(sqlite3 *db, const struct xenrt_host_decl *h)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db, "SELECT id, state FROM hosts WHERE name = ?1", -1, &st,
				    NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_int64 id = 0;
	char state[32] = "";
	if (rc == SQLITE_ROW) {
		id = sqlite3_column_int64(st, 0);
		snprintf(state, sizeof state, "%s", (const char *)sqlite3_column_text(st, 1));
		rc = SQLITE_OK;
	} else if (rc == SQLITE_DONE) {
		rc = SQLITE_OK;
	} else {
		rc = sqlite3_errcode(db);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;

	const char *sql =
		id ? "UPDATE hosts SET driver = ?2, cpu_vendor = ?3, cpu_model = ?4, vcpus = ?5, "
		     "memory_mib = ?6, flags = ?7 WHERE id = ?1"
		   : "INSERT INTO hosts(driver, cpu_vendor, cpu_model, vcpus, memory_mib, flags, name, "
		     "state, updated_at) VALUES (?2, ?3, ?4, ?5, ?6, ?7, ?8, 'idle', ?9)";
	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	if (id)
		sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, h->driver, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, h->cpu_vendor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, h->cpu_model, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, h->vcpus);
	sqlite3_bind_int(st, 6, h->memory_mib);
	sqlite3_bind_text(st, 7, h->flags, -1, SQLITE_STATIC);
	if (!id) {
		sqlite3_bind_text(st, 8, h->name, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 9, db_now());
	}
	rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;

	if (!id)
		return host_event(db, sqlite3_last_insert_rowid(db), NULL, "idle",
				  "declared in the configuration");
	if (strcmp(state, "offline") != 0)
		return SQLITE_OK;
	rc = sqlite3_prepare_v2(db,
				"UPDATE hosts SET state = 'idle', updated_at = ?2 WHERE id = ?1",
				-1, &st, NULL);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_double(st, 2, db_now());
	rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return rc;
	return host_event(db, id, "offline", "idle", "declared in the configuration again");
}

/* Takes every host the configuration no longer declares offline.  A host
 * still reserved keeps its reservation; the executor's recovery decides what
 * happens to its job.  The declared names go in as one JSON array parameter
 * so the statement stays fully bound whatever the names contain. */
static int retire_undeclared(sqlite3 *db, const struct xenrt_config *cfg)
{
	json_t *names = json_array();
	if (!names)
		return SQLITE_NOMEM;
	for (size_t i = 0; i < cfg->nhosts; i++)
		json_array_append_new(names, json_string(cfg->hosts[i].name));
	char *list = json_dumps(names, JSON_COMPACT);
	json_decref(names);
	if (!list)
		return SQLITE_NOMEM;

	static const char *const sql[] = {
		"INSERT INTO host_events(host_id, at, old_state, new_state, reason) "
		"SELECT id, ?2, state, 'offline', 'no longer declared in the configuration' "
		"FROM hosts WHERE state != 'offline' "
		"AND name NOT IN (SELECT value FROM json_each(?1))",
		"UPDATE hosts SET state = 'offline', updated_at = ?2 WHERE state != 'offline' "
		"AND name NOT IN (SELECT value FROM json_each(?1))",
	};
	int rc = SQLITE_OK;
	double now = db_now();
	for (size_t i = 0; i < 2 && rc == SQLITE_OK; i++) {
		sqlite3_stmt *st;
		rc = sqlite3_prepare_v2(db, sql[i], -1, &st, NULL);
		if (rc != SQLITE_OK)
			break;
		sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, now);
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_finalize(st);
	}
	free(list);
	return rc;
}

int writes_hosts_declared(sqlite3 *db, const struct xenrt_config *cfg)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < cfg->nhosts && rc == SQLITE_OK; i++)
		rc = sync_one(db, &cfg->hosts[i]);
	if (rc == SQLITE_OK)
		rc = retire_undeclared(db, cfg);
	return rc == SQLITE_OK ? 0 : -1;
}

int writes_host_state(sqlite3 *db, int64_t host, const char *state, int64_t job,
		      int64_t reserved_by, const char *reason)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(
		db,
		"INSERT INTO host_events (host_id, at, old_state, new_state, job_id, reason)"
		" SELECT id, ?2, state, ?3, ?4, ?5 FROM hosts WHERE id = ?1",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, host);
	sqlite3_bind_double(st, 2, db_now());
	sqlite3_bind_text(st, 3, state, -1, SQLITE_STATIC);
	if (job)
		sqlite3_bind_int64(st, 4, job);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	rc = sqlite3_prepare_v2(
		db,
		"UPDATE hosts SET state = ?2, updated_at = ?3,"
		" reserved_by = CASE WHEN ?4 < 0 THEN reserved_by WHEN ?4 = 0 THEN NULL ELSE ?4 END"
		" WHERE id = ?1",
		-1, &st, NULL);
	if (rc != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, host);
	sqlite3_bind_text(st, 2, state, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, db_now());
	sqlite3_bind_int64(st, 4, reserved_by);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int writes_host_event_log_dir(sqlite3 *db, int64_t event, const char *log_dir)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE host_events SET log_dir = ?1 WHERE id = ?2", -1, &st,
			       NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(st, 1, log_dir, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, event);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int writes_host_needs_check(sqlite3 *db, int64_t host, int needs)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE hosts SET needs_health_check = ?2 WHERE id = ?1", -1,
			       &st, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_int64(st, 1, host);
	sqlite3_bind_int(st, 2, needs != 0);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}
