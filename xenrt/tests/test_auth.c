/* test_auth.c: API tokens: creation, verification, revocation, and that
 * only a hash ever reaches the database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth.h"
#include "db.h"

static char dir[64];

static int setup(void **state)
{
	snprintf(dir, sizeof dir, "/tmp/xenrt-test-auth-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char path[128], err[512];
	snprintf(path, sizeof path, "%s/x.db", dir);
	sqlite3 *db;
	if (db_open(path, &db, err, sizeof err) != SQLITE_OK)
		return -1;
	*state = db;
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd);
}

static void create_then_verify(void **state)
{
	sqlite3 *db = *state;
	char tok[AUTH_TOKEN_HEX + 1], name[64], err[256];
	assert_int_equal(auth_token_create(db, "alice", tok, err, sizeof err), 0);
	assert_int_equal(strlen(tok), 64);
	assert_int_equal(strspn(tok, "0123456789abcdef"), 64);
	assert_int_equal(auth_token_verify(db, tok, name, sizeof name, NULL, err, sizeof err), 1);
	assert_string_equal(name, "alice");
}

static void tokens_are_random_and_hashed(void **state)
{
	sqlite3 *db = *state;
	char a[AUTH_TOKEN_HEX + 1], b[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(db, "a", a, err, sizeof err), 0);
	assert_int_equal(auth_token_create(db, "b", b, err, sizeof err), 0);
	assert_string_not_equal(a, b);
	/* The plain token appears nowhere in the table. */
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM api_tokens WHERE "
					    "token_sha256 = ?1 OR name = ?1",
					    -1, &st, NULL),
			 SQLITE_OK);
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
}

static void wrong_tokens_are_rejected(void **state)
{
	sqlite3 *db = *state;
	char tok[AUTH_TOKEN_HEX + 1], name[64], err[256];
	assert_int_equal(auth_token_create(db, "alice", tok, err, sizeof err), 0);
	char other[AUTH_TOKEN_HEX + 1];
	memcpy(other, tok, sizeof other);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_int_equal(auth_token_verify(db, other, name, sizeof name, NULL, err, sizeof err), 0);
	assert_int_equal(auth_token_verify(db, "", name, sizeof name, NULL, err, sizeof err), 0);
	assert_int_equal(
		auth_token_verify(db, "' OR 1=1 --", name, sizeof name, NULL, err, sizeof err), 0);
	char upper[AUTH_TOKEN_HEX + 1];
	for (size_t i = 0; i <= AUTH_TOKEN_HEX; i++)
		upper[i] = (char)(tok[i] >= 'a' && tok[i] <= 'f' ? tok[i] - 32 : tok[i]);
	if (strcmp(upper, tok) != 0)
		assert_int_equal(
			auth_token_verify(db, upper, name, sizeof name, NULL, err, sizeof err), 0);
	char longer[AUTH_TOKEN_HEX + 2];
	snprintf(longer, sizeof longer, "%s0", tok);
	assert_int_equal(auth_token_verify(db, longer, name, sizeof name, NULL, err, sizeof err),
			 0);
}

static void revoked_token_stops_working(void **state)
{
	sqlite3 *db = *state;
	char tok[AUTH_TOKEN_HEX + 1], name[64], err[256];
	assert_int_equal(auth_token_create(db, "bob", tok, err, sizeof err), 0);
	assert_int_equal(auth_token_revoke(db, "bob", err, sizeof err), 0);
	assert_int_equal(auth_token_verify(db, tok, name, sizeof name, NULL, err, sizeof err), 0);
	/* Revoking twice or an unknown name is an error with a message. */
	assert_int_equal(auth_token_revoke(db, "bob", err, sizeof err), -1);
	assert_non_null(strstr(err, "bob"));
	assert_int_equal(auth_token_revoke(db, "nobody", err, sizeof err), -1);
}

static void duplicate_and_bad_names_are_refused(void **state)
{
	sqlite3 *db = *state;
	char tok[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(db, "ci", tok, err, sizeof err), 0);
	assert_int_equal(auth_token_create(db, "ci", tok, err, sizeof err), -1);
	assert_non_null(strstr(err, "already exists"));
	assert_int_equal(auth_token_create(db, "", tok, err, sizeof err), -1);
	assert_int_equal(auth_token_create(db, "a b", tok, err, sizeof err), -1);
	assert_int_equal(
		auth_token_create(db, "x'; DROP TABLE api_tokens; --", tok, err, sizeof err), -1);
}

static void count_cb(void *arg, const char *name, double created, double revoked, int admin)
{
	(void)admin;
	int *n = arg;
	(void)name;
	assert_true(created > 0);
	if (revoked > 0)
		n[1]++;
	n[0]++;
}

static void list_reports_every_token(void **state)
{
	sqlite3 *db = *state;
	char tok[AUTH_TOKEN_HEX + 1], err[256];
	assert_int_equal(auth_token_create(db, "one", tok, err, sizeof err), 0);
	assert_int_equal(auth_token_create(db, "two", tok, err, sizeof err), 0);
	assert_int_equal(auth_token_revoke(db, "one", err, sizeof err), 0);
	int n[2] = { 0, 0 };
	assert_int_equal(auth_token_list(db, count_cb, n, err, sizeof err), 0);
	assert_int_equal(n[0], 2);
	assert_int_equal(n[1], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(create_then_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(tokens_are_random_and_hashed, setup, teardown),
		cmocka_unit_test_setup_teardown(wrong_tokens_are_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(revoked_token_stops_working, setup, teardown),
		cmocka_unit_test_setup_teardown(duplicate_and_bad_names_are_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(list_reports_every_token, setup, teardown),
	};
	return cmocka_run_group_tests_name("auth", tests, NULL, NULL);
}
