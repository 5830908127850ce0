/* fixture_farm.h: helpers shared by the unit tests that drive a real
 * database (and, for the executor tests, a real executor) in a temporary
 * directory.  They live in one place so that every test sets up its farm
 * the same way and fails with the same messages.  tests/fixture_*.c are
 * linked into every test program by xenrt/Makefile. */
#ifndef XENRT_FIXTURE_FARM_H
#define XENRT_FIXTURE_FARM_H

#include <stddef.h>

#include <sqlite3.h>

#include "config.h"

/* Runs a shell command (printf-style); a non-zero exit fails the test. */
void fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* The first column of the first row of a query (printf-style SQL) as
 * text, "" when there is no row or it is NULL. */
void fx_text(sqlite3 *db, char *out, size_t outlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The first column of the first row of `sql` as an integer; the row must
 * exist. */
long long fx_scalar(sqlite3 *db, const char *sql);

/* Makes a temporary directory from `pattern` (mkdtemp, "/tmp/...-XXXXXX")
 * in dir and points cfg (defaults otherwise) at it: db, state,
 * logs, artifacts, work.  Returns 0, or -1 if the directory cannot be made. */
int fx_farm_dirs(struct xenrt_config *cfg, char *dir, size_t dirlen, const char *pattern);

/* Opens (creating) cfg's database and declares cfg's hosts in it; on
 * failure prints why and returns -1. */
int fx_open_db(const struct xenrt_config *cfg, sqlite3 **db);

/* Closes the database and removes the farm's directory. */
void fx_farm_close(sqlite3 *db, const char *dir);

/* A farm as a test's cmocka state: cfg points into dir (see fx_farm_dirs),
 * db is the test's own connection to cfg's database. */
struct fx_farm {
	char dir[64];
	struct xenrt_config cfg;
	sqlite3 *db;
};

/* A new farm from `pattern` whose database is not open yet, so that a
 * set-up can change cfg first; NULL if it cannot be made. */
struct fx_farm *fx_farm_new(const char *pattern);

/* cmocka set-up helper for tests that need only the database: a new farm
 * from `pattern` with cfg's defaults and its database open (fx_open_db),
 * in *state.  Returns 0, or -1 (nothing left behind). */
int fx_farm_setup(void **state, const char *pattern);

/* cmocka tear-down for a struct fx_farm state: closes its database,
 * removes its directory and frees it. */
int fx_farm_teardown(void **state);

/* Waits up to a minute for a flight to leave queued/running, then checks
 * that it ended with status `want`. */
void fx_wait_flight(sqlite3 *db, long long flight, const char *want);

/* The repository top (XENRT_TOP, else ".."): testsuites/, pxe/, web-status/. */
const char *fx_repo_top(void);

#endif
