/* test_hostpool.c: reservation is all-or-nothing, two connections never get
 * the same host, quarantined hosts are not reserved until a health check
 * passes, crash recovery resets hosts, every change leaves a host_events
 * row. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"
#include "db.h"
#include "hostpool.h"
#include "fixture_farm.h"

static char err[512];

static int setup(void **state)
{
	struct fx_farm *f = fx_farm_new("/tmp/xenrt-pool-XXXXXX");

	if (!f)
		return -1;
	f->cfg.nhosts = 3;
	f->cfg.hosts[2] = f->cfg.hosts[1];
	snprintf(f->cfg.hosts[2].name, sizeof(f->cfg.hosts[2].name), "host2");
	if (fx_open_db(&f->cfg, &f->db) < 0)
		return -1;
	if (db_exec(f->db,
		    "INSERT INTO flights (id, kind, repo, ref, submitter, created_at)"
		    " VALUES (1, 'patch', '/r', 'main', 't', 0);"
		    "INSERT INTO jobs (id, flight_id, name, suite, hosts_needed) VALUES"
		    " (1, 1, 'a', 'smoke', 2), (2, 1, 'b', 'smoke', 2), (3, 1, 'c', 'smoke', 1),"
		    " (4, 1, 'd', 'smoke', 1)",
		    err, sizeof(err)) != SQLITE_OK)
		return -1;
	*state = f;
	return 0;
}

static int count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	int n = -1;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return n;
}

static void all_or_nothing(void **state)
{
	struct fx_farm *f = *state;
	struct pool_host h[HOSTPOOL_MAX_HOSTS];
	int events = count(f->db, "SELECT count(*) FROM host_events");

	assert_int_equal(hostpool_reserve(f->db, 1, 1, 2, h, err, sizeof(err)), 0);
	assert_string_equal(h[0].name, "host0");
	assert_string_equal(h[1].name, "host1");
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM hosts WHERE reserved_by = 1 AND state = 'reserved'"),
		2);
	assert_int_equal(
		count(f->db, "SELECT count(*) FROM job_hosts WHERE job_id = 1 AND attempt = 1"), 2);
	assert_int_equal(count(f->db, "SELECT count(*) FROM host_events"), events + 2);
	/* Only host2 is left: a 2-host job gets nothing, not one host. */
	assert_int_equal(hostpool_reserve(f->db, 2, 1, 2, h, err, sizeof(err)), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM hosts WHERE reserved_by = 2"), 0);
	assert_int_equal(count(f->db, "SELECT count(*) FROM hosts WHERE state = 'idle'"), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM host_events"), events + 2);
	/* Released, the 2-host job gets two. */
	assert_int_equal(hostpool_release(f->db, 1, 0, "job passed", err, sizeof(err)), 0);
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM hosts WHERE state = 'idle' AND reserved_by IS NULL"),
		3);
	assert_int_equal(hostpool_reserve(f->db, 2, 1, 2, h, err, sizeof(err)), 0);
	assert_int_equal(hostpool_reserve(f->db, 3, 1, 9, h, err, sizeof(err)), -1);
}

struct racer {
	const char *path;
	long long job;
	int rc;
	struct pool_host h[2];
	pthread_barrier_t *go;
};

static void *race(void *arg)
{
	struct racer *r = arg;
	char e[256];
	sqlite3 *db;

	if (db_open(r->path, &db, e, sizeof(e)) != SQLITE_OK) {
		r->rc = -2;
		return NULL;
	}
	pthread_barrier_wait(r->go);
	r->rc = hostpool_reserve(db, r->job, 1, 2, r->h, e, sizeof(e));
	db_close(db);
	return NULL;
}

/* Two connections (two threads) each want 2 of the 3 hosts at the same
 * moment: exactly one wins, and no host is held by both. */
static void concurrent_connections(void **state)
{
	struct fx_farm *f = *state;

	for (int round = 0; round < 20; round++) {
		pthread_barrier_t go;
		struct racer a = { .path = f->cfg.db_path, .job = 1, .go = &go };
		struct racer b = { .path = f->cfg.db_path, .job = 2, .go = &go };
		pthread_t ta, tb;

		pthread_barrier_init(&go, NULL, 2);
		pthread_create(&ta, NULL, race, &a);
		pthread_create(&tb, NULL, race, &b);
		pthread_join(ta, NULL);
		pthread_join(tb, NULL);
		pthread_barrier_destroy(&go);
		assert_true((a.rc == 0 && b.rc == 1) || (a.rc == 1 && b.rc == 0));
		assert_int_equal(
			count(f->db, "SELECT count(*) FROM hosts WHERE state = 'reserved'"), 2);
		assert_int_equal(
			count(f->db,
			      "SELECT count(DISTINCT reserved_by) FROM hosts WHERE reserved_by IS NOT NULL"),
			1);
		assert_int_equal(
			hostpool_release(f->db, a.rc == 0 ? 1 : 2, 0, "done", err, sizeof(err)), 0);
	}
}

static void quarantine_and_health_check(void **state)
{
	struct fx_farm *f = *state;
	struct pool_host h[HOSTPOOL_MAX_HOSTS], c;
	char ld[128], want[128], want2[300], got[300];

	assert_int_equal(hostpool_reserve(f->db, 3, 1, 1, h, err, sizeof(err)), 0);
	assert_string_equal(h[0].name, "host0");
	assert_int_equal(hostpool_release(f->db, 3, 1, "job broken: QEMU died", err, sizeof(err)),
			 0);
	assert_int_equal(
		count(f->db, "SELECT count(*) FROM hosts WHERE name = 'host0' AND state = 'broken'"
			     " AND needs_health_check = 1 AND reserved_by IS NULL"),
		1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM host_events WHERE new_state = 'broken'"
				      " AND reason = 'job broken: QEMU died' AND job_id = 3"),
			 1);
	/* Never reserved while quarantined, even if it looks idle. */
	assert_int_equal(db_exec(f->db, "UPDATE hosts SET state = 'idle' WHERE name = 'host0'", err,
				 sizeof(err)),
			 SQLITE_OK);
	assert_int_equal(hostpool_reserve(f->db, 1, 1, 3, h, err, sizeof(err)), 1);
	assert_int_equal(db_exec(f->db, "UPDATE hosts SET state = 'broken' WHERE name = 'host0'",
				 err, sizeof(err)),
			 SQLITE_OK);

	/* A failing health check keeps it broken, then gives up to offline. */
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 0);
	assert_string_equal(c.name, "host0");
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM hosts WHERE name = 'host0' AND state = 'provisioning'"),
		1);
	/* The check's logs are named after the event that starts it, and
     * both that event and the one ending the check point at them. */
	snprintf(want, sizeof(want), "health/host0-%d",
		 count(f->db, "SELECT max(id) FROM host_events WHERE reason = 'health check'"));
	assert_string_equal(ld, want);
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 1);
	assert_int_equal(hostpool_end_health_check(f->db, c.id, ld, 0, 0,
						   "health check failed: no banner", err,
						   sizeof(err)),
			 0);
	assert_int_equal(hostpool_health_failures(f->db, c.id), 1);
	assert_int_equal(count(f->db, "SELECT count(*) FROM host_events WHERE log_dir IS NOT NULL"),
			 2);
	fx_text(f->db, got, sizeof(got),
		"SELECT group_concat(log_dir, ' ') FROM host_events"
		" WHERE reason LIKE 'health check%%'");
	snprintf(want2, sizeof(want2), "%s %s", want, want);
	assert_string_equal(got, want2);
	assert_int_equal(
		count(f->db, "SELECT count(*) FROM hosts WHERE name = 'host0' AND state = 'broken'"
			     " AND needs_health_check = 1"),
		1);
	/* Retry spacing: not due before its last change. */
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1.0, &c, ld, sizeof(ld), err, sizeof(err)), 1);
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 0);
	assert_int_equal(hostpool_end_health_check(f->db, c.id, ld, 1, 0, "health check passed",
						   err, sizeof(err)),
			 0);
	assert_int_equal(hostpool_health_failures(f->db, c.id), 0);
	assert_int_equal(count(f->db,
			       "SELECT count(*) FROM hosts WHERE name = 'host0' AND state = 'idle'"
			       " AND needs_health_check = 0"),
			 1);
	assert_int_equal(hostpool_reserve(f->db, 1, 1, 3, h, err, sizeof(err)), 0);
	assert_int_equal(hostpool_release(f->db, 1, 0, "done", err, sizeof(err)), 0);

	assert_int_equal(hostpool_reserve(f->db, 3, 2, 1, h, err, sizeof(err)), 0);
	assert_int_equal(hostpool_release(f->db, 3, 1, "broken again", err, sizeof(err)), 0);
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 0);
	assert_int_equal(hostpool_end_health_check(f->db, c.id, ld, 0, 1,
						   "health check failed: gave up", err,
						   sizeof(err)),
			 0);
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM hosts WHERE name = 'host0' AND state = 'offline'"),
		1);
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 1);
}

/* A host whose driver does not exist yet is never reserved or checked. */
static void unsupported_driver_not_used(void **state)
{
	struct fx_farm *f = *state;
	struct pool_host h[HOSTPOOL_MAX_HOSTS], c;
	char ld[128];

	assert_int_equal(db_exec(f->db,
				 "UPDATE hosts SET driver = 'bochs' WHERE name = 'host0';"
				 "UPDATE hosts SET driver = 'physical', needs_health_check = 1,"
				 " state = 'broken' WHERE name = 'host1'",
				 err, sizeof(err)),
			 SQLITE_OK);
	assert_int_equal(hostpool_reserve(f->db, 1, 1, 2, h, err, sizeof(err)), 1);
	assert_int_equal(hostpool_reserve(f->db, 3, 1, 1, h, err, sizeof(err)), 0);
	assert_string_equal(h[0].name, "host2");
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 1);
}

static void crash_recovery_resets(void **state)
{
	struct fx_farm *f = *state;
	struct pool_host h[HOSTPOOL_MAX_HOSTS], c;
	char ld[128];
	char e[128];

	assert_int_equal(hostpool_reserve(f->db, 1, 1, 2, h, err, sizeof(err)), 0);
	assert_int_equal(db_exec(f->db, "BEGIN", e, sizeof(e)), SQLITE_OK);
	assert_int_equal(
		hostpool_set_state(f->db, h[0].id, "running", 1, -1, "booted", err, sizeof(err)),
		0);
	assert_int_equal(db_exec(f->db, "COMMIT", e, sizeof(e)), SQLITE_OK);
	/* host2 quarantined and interrupted mid health check. */
	assert_int_equal(hostpool_reserve(f->db, 3, 1, 1, &c, err, sizeof(err)), 0);
	assert_int_equal(hostpool_release(f->db, 3, 1, "broken", err, sizeof(err)), 0);
	assert_int_equal(
		hostpool_begin_health_check(f->db, 1e12, &c, ld, sizeof(ld), err, sizeof(err)), 0);

	assert_int_equal(hostpool_reset_stale(f->db, err, sizeof(err)), 3);
	assert_int_equal(count(f->db, "SELECT count(*) FROM hosts WHERE reserved_by IS NOT NULL"),
			 0);
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM hosts WHERE state = 'idle' AND needs_health_check = 0"),
		2);
	assert_int_equal(
		count(f->db, "SELECT count(*) FROM hosts WHERE name = 'host2' AND state = 'broken'"
			     " AND needs_health_check = 1"),
		1);
	assert_int_equal(
		count(f->db,
		      "SELECT count(*) FROM host_events WHERE reason LIKE 'reset by crash recovery%'"),
		3);
	assert_int_equal(hostpool_reset_stale(f->db, err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(all_or_nothing, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(concurrent_connections, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(quarantine_and_health_check, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(unsupported_driver_not_used, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(crash_recovery_resets, setup, fx_farm_teardown),
	};
	return cmocka_run_group_tests_name("hostpool", tests, NULL, NULL);
}
