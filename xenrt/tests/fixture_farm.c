/* fixture_farm.c: see fixture_farm.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "db.h"
#include "fixture_farm.h"

void fx_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof cmd, fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

void fx_text(sqlite3 *db, char *out, size_t outlen, const char *fmt, ...)
{
	char sql[2048];
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, outlen, "%s", (const char *)sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
}

long long fx_scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long long v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

int fx_farm_dirs(struct xenrt_config *cfg, char *dir, size_t dirlen, const char *pattern)
{
	snprintf(dir, dirlen, "%s", pattern);
	if (!mkdtemp(dir))
		return -1;
	config_defaults(cfg);
	snprintf(cfg->db_path, sizeof cfg->db_path, "%s/xenrt.db", dir);
	snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", dir);
	snprintf(cfg->log_dir, sizeof cfg->log_dir, "%s/logs", dir);
	snprintf(cfg->artifact_dir, sizeof cfg->artifact_dir, "%s/artifacts", dir);
	snprintf(cfg->work_dir, sizeof cfg->work_dir, "%s/work", dir);
	return 0;
}

int fx_open_db(const struct xenrt_config *cfg, sqlite3 **db)
{
	char err[512];

	if (db_open(cfg->db_path, db, err, sizeof err) != SQLITE_OK ||
	    db_sync_hosts(*db, cfg, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "# %s: %s\n", cfg->db_path, err);
		return -1;
	}
	return 0;
}

void fx_farm_close(sqlite3 *db, const char *dir)
{
	db_close(db);
	fx_sh("rm -rf %s", dir);
}

struct fx_farm *fx_farm_new(const char *pattern)
{
	struct fx_farm *f = calloc(1, sizeof *f);

	if (f && fx_farm_dirs(&f->cfg, f->dir, sizeof f->dir, pattern) < 0) {
		free(f);
		return NULL;
	}
	return f;
}

int fx_farm_setup(void **state, const char *pattern)
{
	struct fx_farm *f = fx_farm_new(pattern);

	if (!f)
		return -1;
	*state = f;
	if (fx_open_db(&f->cfg, &f->db) < 0) {
		/* cmocka runs no tear-down after a failed set-up. */
		fx_farm_teardown(state);
		*state = NULL;
		return -1;
	}
	return 0;
}

int fx_farm_teardown(void **state)
{
	struct fx_farm *f = *state;

	fx_farm_close(f->db, f->dir);
	free(f);
	return 0;
}

void fx_wait_flight(sqlite3 *db, long long flight, const char *want)
{
	char status[32];

	for (int i = 0; i < 600; i++) {
		fx_text(db, status, sizeof status, "SELECT status FROM flights WHERE id = %lld",
			flight);
		if (strcmp(status, "queued") && strcmp(status, "running"))
			break;
		usleep(100000);
	}
	assert_string_equal(status, want);
}

const char *fx_repo_top(void)
{
	const char *top = getenv("XENRT_TOP");
	return top && *top ? top : "..";
}
