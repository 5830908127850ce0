/* test_artifact_gc.c: `xenrt gc` on a real database and store: what it
 * keeps (the newest flights', unfinished flights', the health check's),
 * what it frees and reports, that a dry run changes nothing, that a build
 * storing an artifact while gc removes the same content never ends with a
 * row whose file is gone, and that gc waits for a store in progress. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "artifact_gc.h"
#include "db.h"
#include "fixture_farm.h"

static char err[512];

static int setup(void **state)
{
	return fx_farm_setup(state, "/tmp/xenrt-gc-XXXXXX");
}

static void exec(sqlite3 *db, const char *sql)
{
	if (db_exec(db, sql, err, sizeof err) != SQLITE_OK)
		fail_msg("%s", err);
}

/* Stores `content` (as a file) for flight `flight` as `role`. */
static void store(sqlite3 *db, struct fx_farm *f, long long flight, const char *role,
		  const char *content, char hex[ARTIFACT_HEX_LEN + 1])
{
	char src[128];
	snprintf(src, sizeof src, "%s/src-%lld-%s", f->dir, flight, role);
	FILE *fp = fopen(src, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
	if (artifact_store(db, f->cfg.artifact_dir, src, flight, role, hex, err, sizeof err))
		fail_msg("store: %s", err);
	unlink(src);
}

static int on_disk(struct fx_farm *f, const char *hex)
{
	char path[XENRT_PATH_MAX + 80];
	struct stat sb;
	assert_int_equal(artifact_path(f->cfg.artifact_dir, hex, path, sizeof path), 0);
	return stat(path, &sb) == 0;
}

static long long rows(struct fx_farm *f, const char *hex)
{
	char sql[256];
	snprintf(sql, sizeof sql,
		 "SELECT (SELECT count(*) FROM artifacts WHERE sha256 = '%.64s') + "
		 "(SELECT count(*) FROM flight_artifacts WHERE sha256 = '%.64s')",
		 hex, hex);
	return fx_scalar(f->db, sql);
}

/* Flights, oldest first: 1 still running (its artifact must stay however
 * old), 2 passed, 3 the newest passed build (its hypervisor is what a
 * health check boots), 4 failed its build but shares a guest with 2,
 * 5 queued. */
enum {
	RUNNING,
	OLD_HV,
	OLD_ONLY,
	HEALTH_HV,
	HEALTH_GUEST,
	SHARED,
	N_ART
};

static void old_farm(struct fx_farm *f, char hex[N_ART][ARTIFACT_HEX_LEN + 1])
{
	exec(f->db,
	     "INSERT INTO flights (id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'running'), (2, 'branch', '/r', 'm', 't', 2, 'pass'), "
	     "(3, 'branch', '/r', 'm', 't', 3, 'pass'), (4, 'patch', '/r', 'm', 't', 4, 'fail'), "
	     "(5, 'gate', '/r', 'm', 't', 5, 'queued');"
	     "INSERT INTO jobs (flight_id, name, suite, hosts_needed, status, finished_at) VALUES "
	     "(1, 'build', 'build', 0, 'pass', 10), (2, 'build', 'build', 0, 'pass', 20), "
	     "(3, 'build', 'build', 0, 'pass', 30), (4, 'build', 'build', 0, 'fail', 40), "
	     "(5, 'build', 'build', 0, 'queued', NULL);");
	store(f->db, f, 1, "hypervisor", "running flight's kiln", hex[RUNNING]);
	store(f->db, f, 2, "hypervisor", "old kiln", hex[OLD_HV]);
	store(f->db, f, 2, "guest-only", "old guest", hex[OLD_ONLY]);
	store(f->db, f, 2, "guest-shared", "shared guest", hex[SHARED]);
	store(f->db, f, 3, "hypervisor", "health kiln", hex[HEALTH_HV]);
	store(f->db, f, 3, "guest-x", "newer guest", hex[HEALTH_GUEST]);
	store(f->db, f, 4, "guest-shared", "shared guest", hex[SHARED]);
}

struct seen {
	int n;
	char hex[8][ARTIFACT_HEX_LEN + 1];
	long long bytes[8];
};

static void record_seen(void *arg, const char hex[ARTIFACT_HEX_LEN + 1], long long bytes)
{
	struct seen *s = arg;
	assert_true(s->n < 8);
	memcpy(s->hex[s->n], hex, ARTIFACT_HEX_LEN + 1);
	s->bytes[s->n++] = bytes;
}

/* gc (a dry run or not) of old_farm() keeping flights 3, 4 and 5: it
 * reports flight 2's hypervisor and its own guest as freed, into `seen`. */
static void gc_keeping_three(struct fx_farm *f, int dry_run, struct seen *seen)
{
	struct gc_report rep;
	assert_int_equal(artifact_gc(f->db, f->cfg.artifact_dir, 3, dry_run, record_seen, seen,
				     &rep, err, sizeof err),
			 0);
	assert_int_equal(rep.files, 2);
	assert_int_equal(rep.bytes, strlen("old kiln") + strlen("old guest"));
	assert_int_equal(rep.kept, 4);
	assert_int_equal(seen->n, 2);
}

static void keeps_what_is_in_use_and_frees_the_rest(void **state)
{
	struct fx_farm *f = *state;
	char hex[N_ART][ARTIFACT_HEX_LEN + 1];
	old_farm(f, hex);
	struct seen seen = { 0 };
	gc_keeping_three(f, 0, &seen);
	int first_hv = !strcmp(seen.hex[0], hex[OLD_HV]);
	assert_string_equal(seen.hex[!first_hv], hex[OLD_HV]);
	assert_int_equal(seen.bytes[!first_hv], strlen("old kiln"));
	assert_string_equal(seen.hex[first_hv], hex[OLD_ONLY]);
	for (int i = 0; i < N_ART; i++) {
		int gone = i == OLD_HV || i == OLD_ONLY;
		assert_int_equal(on_disk(f, hex[i]), !gone);
		assert_int_equal(rows(f, hex[i]) == 0, gone);
	}
	/* Flight 2 keeps its link to what flight 4 still uses. */
	assert_int_equal(
		fx_scalar(f->db, "SELECT count(*) FROM flight_artifacts WHERE flight_id = 2"), 1);
	/* Keeping only flight 5: the health check's guest is not what it
	 * boots, so it goes, and so does the guest only flight 4 kept; the
	 * health check's hypervisor stays. */
	struct gc_report rep;
	assert_int_equal(
		artifact_gc(f->db, f->cfg.artifact_dir, 1, 0, NULL, NULL, &rep, err, sizeof err),
		0);
	assert_int_equal(rep.files, 2);
	assert_true(on_disk(f, hex[HEALTH_HV]));
	assert_true(on_disk(f, hex[RUNNING]));
	assert_false(on_disk(f, hex[HEALTH_GUEST]));
	assert_false(on_disk(f, hex[SHARED]));
	/* Nothing left to free: a second run is a no-op. */
	assert_int_equal(
		artifact_gc(f->db, f->cfg.artifact_dir, 1, 0, NULL, NULL, &rep, err, sizeof err),
		0);
	assert_int_equal(rep.files, 0);
	assert_int_equal(rep.kept, 2);
	/* Even keeping no flight at all, the running flight's and the health
	 * check's artifacts stay. */
	assert_int_equal(
		artifact_gc(f->db, f->cfg.artifact_dir, 0, 0, NULL, NULL, &rep, err, sizeof err),
		0);
	assert_int_equal(rep.files, 0);
	assert_true(on_disk(f, hex[RUNNING]) && on_disk(f, hex[HEALTH_HV]));
}

/* Every row of the two tables plus the store's file names. */
static void state_text(struct fx_farm *f, char *out, size_t len)
{
	fx_text(f->db, out, len,
		"SELECT (SELECT group_concat(sha256 || size, ',') FROM artifacts) "
		"|| '|' || (SELECT group_concat(flight_id || role || sha256, ',') FROM flight_artifacts)");
	char cmd[XENRT_PATH_MAX + 32];
	snprintf(cmd, sizeof cmd, "ls -a '%s'", f->cfg.artifact_dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t used = strlen(out);
	used += fread(out + used, 1, len - used - 1, p);
	out[used] = '\0';
	assert_int_equal(pclose(p), 0);
}

static void dry_run_reports_and_changes_nothing(void **state)
{
	struct fx_farm *f = *state;
	char hex[N_ART][ARTIFACT_HEX_LEN + 1], before[4096], after[4096];
	old_farm(f, hex);
	state_text(f, before, sizeof before);
	struct seen seen = { 0 };
	gc_keeping_three(f, 1, &seen);
	assert_true(!strcmp(seen.hex[0], hex[OLD_HV]) || !strcmp(seen.hex[1], hex[OLD_HV]));
	state_text(f, after, sizeof after);
	assert_string_equal(before, after);
}

/* A build of a running flight stores, again, content gc is removing. */
struct restore {
	struct fx_farm *f;
	const char *content;
	char hex[ARTIFACT_HEX_LEN + 1];
	int rc;
};

static void *restore_main(void *arg)
{
	struct restore *r = arg;
	sqlite3 *db;
	char e[512], src[128];
	if (fx_open_db(&r->f->cfg, &db) < 0) {
		r->rc = -1;
		return NULL;
	}
	snprintf(src, sizeof src, "%s/src-thread", r->f->dir);
	FILE *fp = fopen(src, "w");
	if (fp) {
		fputs(r->content, fp);
		fclose(fp);
	}
	r->rc = artifact_store(db, r->f->cfg.artifact_dir, src, 2, "hypervisor", r->hex, e,
			       sizeof e);
	if (r->rc)
		fprintf(stderr, "# store: %s\n", e);
	db_close(db);
	return NULL;
}

static void never_removes_what_a_running_build_stores(void **state)
{
	struct fx_farm *f = *state;
	exec(f->db,
	     "INSERT INTO flights (id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'pass'), (2, 'branch', '/r', 'm', 't', 2, 'running'), "
	     "(3, 'branch', '/r', 'm', 't', 3, 'pass')");
	for (int round = 0; round < 40; round++) {
		char content[64], hex[ARTIFACT_HEX_LEN + 1];
		snprintf(content, sizeof content, "kiln build %d", round);
		/* Only old flight 1 uses it: gc's to take, unless the running
		 * flight's build gets it first. */
		exec(f->db, "DELETE FROM flight_artifacts WHERE flight_id = 2");
		store(f->db, f, 1, "hypervisor", content, hex);
		struct restore r = { .f = f, .content = content };
		pthread_t t;
		assert_int_equal(pthread_create(&t, NULL, restore_main, &r), 0);
		if (round % 2)
			usleep(200);
		struct gc_report rep;
		assert_int_equal(artifact_gc(f->db, f->cfg.artifact_dir, 1, 0, NULL, NULL, &rep,
					     err, sizeof err),
				 0);
		assert_int_equal(pthread_join(t, NULL), 0);
		/* The build never fails for it, and what it linked is there. */
		assert_int_equal(r.rc, 0);
		assert_string_equal(r.hex, hex);
		assert_int_equal(
			fx_scalar(f->db,
				  "SELECT count(*) FROM flight_artifacts fa JOIN artifacts a "
				  "USING (sha256) WHERE fa.flight_id = 2"),
			1);
		assert_true(on_disk(f, hex));
	}
}

struct gc_run {
	struct fx_farm *f;
	atomic_int done;
	int rc;
	struct gc_report rep;
};

static void *gc_main(void *arg)
{
	struct gc_run *g = arg;
	sqlite3 *db;
	char e[512];
	g->rc = fx_open_db(&g->f->cfg, &db);
	if (g->rc == 0) {
		g->rc = artifact_gc(db, g->f->cfg.artifact_dir, 1, 0, NULL, NULL, &g->rep, e,
				    sizeof e);
		db_close(db);
	}
	atomic_store(&g->done, 1);
	return NULL;
}

/* While a build holds the store (file written, rows not yet committed), gc
 * waits: it can neither take the rows the build is about to write nor
 * unlink the file the build just renamed into place. */
static void waits_for_a_store_in_progress(void **state)
{
	struct fx_farm *f = *state;
	char hex[ARTIFACT_HEX_LEN + 1];
	exec(f->db,
	     "INSERT INTO flights (id, kind, repo, ref, submitter, created_at, status) VALUES "
	     "(1, 'branch', '/r', 'm', 't', 1, 'pass'), (2, 'branch', '/r', 'm', 't', 2, 'pass')");
	store(f->db, f, 1, "hypervisor", "old kiln", hex);
	int lock = artifact_lock(f->cfg.artifact_dir, 0, err, sizeof err);
	assert_true(lock >= 0);
	struct gc_run g = { .f = f };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, gc_main, &g), 0);
	usleep(300 * 1000);
	assert_int_equal(atomic_load(&g.done), 0);
	assert_true(on_disk(f, hex));
	assert_int_equal(rows(f, hex), 2);
	artifact_unlock(lock);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(g.rc, 0);
	assert_int_equal(g.rep.files, 1);
	assert_false(on_disk(f, hex));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(keeps_what_is_in_use_and_frees_the_rest, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(dry_run_reports_and_changes_nothing, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(never_removes_what_a_running_build_stores, setup,
						fx_farm_teardown),
		cmocka_unit_test_setup_teardown(waits_for_a_store_in_progress, setup,
						fx_farm_teardown),
	};
	return cmocka_run_group_tests_name("artifact_gc", tests, NULL, NULL);
}
