/* test_artifact.c: the content-addressed store: hashes are right, content
 * is stored once, names are strictly 64 hex digits, rows are recorded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include "artifact.h"
#include "db.h"
#include "fixture_farm.h"

static int setup(void **state)
{
	return fx_farm_setup(state, "/tmp/xenrt-art-XXXXXX");
}

static void write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
}

static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' || strncmp(e->d_name, ".tmp", 4) == 0)
			n++;
	closedir(d);
	return n;
}

static void stores_by_sha256_once(void **state)
{
	struct fx_farm *f = *state;
	char src[128], hex[65], hex2[65], path[256], err[256], buf[16];
	sqlite3_stmt *st;
	FILE *fp;

	assert_int_equal(db_exec(f->db,
				 "INSERT INTO flights (id, kind, repo, ref, submitter, created_at) "
				 "VALUES (7, 'patch', '/r', 'main', 't', 0)",
				 err, sizeof(err)),
			 SQLITE_OK);
	snprintf(src, sizeof(src), "%s/a.txt", f->dir);
	write_file(src, "abc");
	assert_int_equal(artifact_store(f->db, f->cfg.artifact_dir, src, 7, "hypervisor", hex, err,
					sizeof(err)),
			 0);
	/* sha256("abc"), the FIPS 180-2 test vector. */
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(artifact_path(f->cfg.artifact_dir, hex, path, sizeof(path)), 0);
	fp = fopen(path, "r");
	assert_non_null(fp);
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "abc");

	/* Same content again: same name, one file, one row, no temp left. */
	snprintf(src, sizeof(src), "%s/b.txt", f->dir);
	write_file(src, "abc");
	assert_int_equal(artifact_store(f->db, f->cfg.artifact_dir, src, 7, "guest-x", hex2, err,
					sizeof(err)),
			 0);
	assert_string_equal(hex, hex2);
	assert_int_equal(count_files(f->cfg.artifact_dir), 1);
	assert_int_equal(sqlite3_prepare_v2(f->db, "SELECT count(*), max(size) FROM artifacts", -1,
					    &st, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	assert_int_equal(sqlite3_column_int(st, 1), 3);
	sqlite3_finalize(st);
}

static void links_roles_to_flights(void **state)
{
	struct fx_farm *f = *state;
	char src[128], hex[65], got[65], err[256];

	assert_int_equal(db_exec(f->db,
				 "INSERT INTO flights (id, kind, repo, ref, submitter, created_at) "
				 "VALUES (7, 'patch', '/r', 'main', 't', 0)",
				 err, sizeof(err)),
			 SQLITE_OK);
	snprintf(src, sizeof(src), "%s/k.elf", f->dir);
	write_file(src, "kernel");
	assert_int_equal(artifact_store(f->db, f->cfg.artifact_dir, src, 7, "hypervisor", hex, err,
					sizeof(err)),
			 0);
	assert_int_equal(artifact_lookup(f->db, 7, "hypervisor", got, err, sizeof(err)), 0);
	assert_string_equal(got, hex);
	assert_int_equal(artifact_lookup(f->db, 7, "guest-none", got, err, sizeof(err)), 1);
	/* No such flight: neither the link nor the artifact's row is kept. */
	write_file(src, "other kernel");
	assert_int_equal(artifact_store(f->db, f->cfg.artifact_dir, src, 8, "hypervisor", hex, err,
					sizeof(err)),
			 -1);
	assert_int_equal(fx_scalar(f->db, "SELECT count(*) FROM artifacts"), 1);
	assert_int_equal(fx_scalar(f->db, "SELECT count(*) FROM flight_artifacts"), 1);
}

static void missing_source_is_an_error(void **state)
{
	struct fx_farm *f = *state;
	char hex[65], err[256];

	assert_int_equal(artifact_store(f->db, f->cfg.artifact_dir, "/nonexistent/x", 7,
					"hypervisor", hex, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "/nonexistent/x: No such file"));
}

static void only_64_hex_names(void **state)
{
	static const char *const bad[] = {
		"",
		"../../etc/passwd",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0",
		"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a/",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2001%2e",
	};
	char path[256];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(artifact_name_valid(bad[i]));
		assert_int_equal(artifact_path("/s", bad[i], path, sizeof(path)), -1);
	}
	assert_false(artifact_name_valid(NULL));
	assert_true(artifact_name_valid(
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(stores_by_sha256_once, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(links_roles_to_flights, setup, fx_farm_teardown),
		cmocka_unit_test_setup_teardown(missing_source_is_an_error, setup,
						fx_farm_teardown),
		cmocka_unit_test(only_64_hex_names),
	};
	return cmocka_run_group_tests_name("artifact", tests, NULL, NULL);
}
