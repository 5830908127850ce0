/* test_db.c: the database layer: migrations (fresh, idempotent reopen,
 * newer-version refusal, failing migration rolled back completely, malformed
 * sets), connection settings, and host sync from the config. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "fixture_farm.h"
#include "migrate.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/xenrt-test-db-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof path, "%s/x.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *text(sqlite3 *db, const char *sql, char *buf, size_t len)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	snprintf(buf, len, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return buf;
}

static void fresh_db_gets_current_version(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512], buf[32];
	assert_int_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
	assert_true(db_schema_version() >= 1);
	assert_int_equal(fx_scalar(db, "PRAGMA user_version"), db_schema_version());
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM schema_migrations"),
			 db_schema_version());
	assert_int_equal(fx_scalar(db, "SELECT max(version) FROM schema_migrations"),
			 db_schema_version());
	assert_string_equal(text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
	assert_int_equal(fx_scalar(db, "PRAGMA foreign_keys"), 1);
	/* The contract's tables are all there. */
	assert_int_equal(
		fx_scalar(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
			      "name IN ('flights', 'jobs', 'runvars', 'steps', 'metrics', 'hosts', "
			      "'host_events', 'api_tokens', 'artifacts', 'job_hosts')"),
		10);
	db_close(db);
}

static void reopen_is_idempotent(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512];
	for (int i = 0; i < 3; i++) {
		assert_int_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
		assert_int_equal(fx_scalar(db, "SELECT count(*) FROM schema_migrations"),
				 db_schema_version());
		assert_int_equal(fx_scalar(db, "PRAGMA user_version"), db_schema_version());
		db_close(db);
	}
}

static void foreign_keys_are_enforced(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512];
	assert_int_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
	assert_int_not_equal(db_exec(db,
				     "INSERT INTO jobs(flight_id, name, suite) "
				     "VALUES (999, 'x', 'x')",
				     err, sizeof err),
			     SQLITE_OK);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM jobs"), 0);
	db_close(db);
}

static void newer_database_is_refused(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512], sql[64];
	assert_int_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", db_schema_version() + 1);
	assert_int_equal(db_exec(db, sql, err, sizeof err), SQLITE_OK);
	db_close(db);
	assert_int_not_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
	assert_null(db);
	assert_non_null(strstr(err, "newer than this xenrt knows"));
	assert_non_null(strstr(err, path));
}

static const struct migration good_then_bad[] = {
	{ 1, "0001_base",
	  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
	  "name TEXT NOT NULL, applied_at REAL NOT NULL); CREATE TABLE a (x INTEGER);" },
	/* Creates a table, inserts, then fails: all of it must vanish. */
	{ 2, "0002_broken",
	  "CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1); "
	  "INSERT INTO no_such_table VALUES (1);" },
};

static void failing_migration_rolls_back(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512];
	assert_int_not_equal(db_open_with(path, good_then_bad, 2, &db, err, sizeof err), SQLITE_OK);
	assert_non_null(strstr(err, "0002_broken"));
	assert_non_null(strstr(err, "no_such_table"));
	/* Version 1 committed on its own; version 2 left no trace. */
	assert_int_equal(db_open_with(path, good_then_bad, 1, &db, err, sizeof err), SQLITE_OK);
	assert_int_equal(fx_scalar(db, "PRAGMA user_version"), 1);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM schema_migrations"), 1);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM sqlite_master WHERE name = 'b'"), 0);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM a"), 0);
	db_close(db);
}

static void set_with_gap_is_rejected(void **state)
{
	(void)state;
	static const struct migration gap[] = {
		{ 1, "0001_a",
		  "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
		  "name TEXT NOT NULL, applied_at REAL NOT NULL);" },
		{ 3, "0003_c", "CREATE TABLE c (x);" },
	};
	sqlite3 *db;
	char err[512];
	assert_int_not_equal(db_open_with(path, gap, 2, &db, err, sizeof err), SQLITE_OK);
	assert_non_null(strstr(err, "0003_c"));
}

static void unopenable_path_reports_error(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512];
	assert_int_not_equal(db_open("/nonexistent-dir/x/y.db", &db, err, sizeof err), SQLITE_OK);
	assert_null(db);
	assert_non_null(strstr(err, "/nonexistent-dir/x/y.db"));
}

static void host_sync_follows_config(void **state)
{
	(void)state;
	sqlite3 *db;
	char err[512], buf[64];
	struct xenrt_config cfg;
	config_defaults(&cfg);
	assert_int_equal(db_open(path, &db, err, sizeof err), SQLITE_OK);
	assert_int_equal(db_sync_hosts(db, &cfg, err, sizeof err), SQLITE_OK);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM hosts WHERE state = 'idle'"), 2);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM host_events"), 2);

	/* Idempotent: a second sync changes nothing and logs nothing. */
	assert_int_equal(db_sync_hosts(db, &cfg, err, sizeof err), SQLITE_OK);
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM host_events"), 2);

	/* host1 dropped, host0 resized: host1 goes offline, host0 is updated. */
	cfg.nhosts = 1;
	cfg.hosts[0].memory_mib = 2048;
	assert_int_equal(db_sync_hosts(db, &cfg, err, sizeof err), SQLITE_OK);
	assert_string_equal(
		text(db, "SELECT state FROM hosts WHERE name = 'host1'", buf, sizeof buf),
		"offline");
	assert_int_equal(fx_scalar(db, "SELECT memory_mib FROM hosts WHERE name = 'host0'"), 2048);
	assert_int_equal(
		fx_scalar(db, "SELECT count(*) FROM host_events WHERE new_state = 'offline'"), 1);

	/* Declared again: back to idle. */
	cfg.nhosts = 2;
	assert_int_equal(db_sync_hosts(db, &cfg, err, sizeof err), SQLITE_OK);
	assert_string_equal(
		text(db, "SELECT state FROM hosts WHERE name = 'host1'", buf, sizeof buf), "idle");
	assert_int_equal(fx_scalar(db, "SELECT count(*) FROM host_events"), 4);
	db_close(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(fresh_db_gets_current_version, setup, teardown),
		cmocka_unit_test_setup_teardown(reopen_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(foreign_keys_are_enforced, setup, teardown),
		cmocka_unit_test_setup_teardown(newer_database_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(failing_migration_rolls_back, setup, teardown),
		cmocka_unit_test_setup_teardown(set_with_gap_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(unopenable_path_reports_error, setup, teardown),
		cmocka_unit_test_setup_teardown(host_sync_follows_config, setup, teardown),
	};
	return cmocka_run_group_tests_name("db", tests, NULL, NULL);
}
