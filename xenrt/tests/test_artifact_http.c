/* test_artifact_http.c: the boot service over real HTTP (libmicrohttpd on
 * a loopback port, libcurl as the host): artifacts by hash, strict names
 * (path traversal, wrong length, upper case, encoded dots all 4xx), boot
 * scripts only for hosts that have something to boot. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <curl/curl.h>
#include <microhttpd.h>

#include "artifact.h"
#include "boot_service.h"
#include "buf.h"
#include "config.h"
#include "db.h"

static struct xenrt_config cfg;
static struct MHD_Daemon *mhd;
static unsigned port;
static char dir[] = "/tmp/xenrt-boot-XXXXXX";
static char hex[65];
static char err[512];

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
				  const char *method, const char *version, const char *data,
				  size_t *size, void **ptr)
{
	enum MHD_Result ret;
	static const char miss[] = "not ours";
	struct MHD_Response *r;

	(void)cls;
	(void)method;
	(void)version;
	(void)data;
	(void)size;
	(void)ptr;
	if (boot_service_handle(c, &cfg, url, &ret))
		return ret;
	r = MHD_create_response_from_buffer(sizeof(miss) - 1, (void *)miss, MHD_RESPMEM_PERSISTENT);
	ret = MHD_queue_response(c, 418, r);
	MHD_destroy_response(r);
	return ret;
}

static int setup(void **state)
{
	char src[128];
	sqlite3 *db;
	FILE *f;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	config_defaults(&cfg);
	snprintf(cfg.db_path, sizeof(cfg.db_path), "%s/db", dir);
	snprintf(cfg.artifact_dir, sizeof(cfg.artifact_dir), "%s/art", dir);
	if (db_open(cfg.db_path, &db, err, sizeof(err)) != SQLITE_OK ||
	    db_sync_hosts(db, &cfg, err, sizeof(err)) != SQLITE_OK)
		return -1;
	snprintf(src, sizeof(src), "%s/k", dir);
	f = fopen(src, "w");
	fputs("kernel bytes", f);
	fclose(f);
	if (db_exec(db,
		    "INSERT INTO flights (id, kind, repo, ref, submitter, created_at) "
		    "VALUES (1, 'patch', '/r', 'main', 't', 0)",
		    err, sizeof(err)) != SQLITE_OK ||
	    artifact_store(db, cfg.artifact_dir, src, 1, "hypervisor", hex, err, sizeof(err)))
		return -1;
	db_close(db);
	mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, NULL,
			       MHD_OPTION_END);
	if (!mhd)
		return -1;
	port = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT)->port;
	return 0;
}

static int teardown(void **state)
{
	char cmd[64];

	(void)state;
	MHD_stop_daemon(mhd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* GET path (sent as is, no normalisation) with its body in b->data ("" when
 * empty); returns the status code.  The body of b's previous GET is freed,
 * so a test reuses one zeroed struct buf and frees b->data once at the end. */
static long get(const char *path, struct buf *b)
{
	char url[512];
	CURL *c = curl_easy_init();
	long code = 0;

	free(b->data);
	*b = (struct buf){ 0 };
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, buf_append);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	if (!b->data)
		b->data = strdup("");
	assert_non_null(b->data);
	return code;
}

static void serves_artifacts_by_hash(void **state)
{
	struct buf b = { 0 };
	char path[200];

	(void)state;
	snprintf(path, sizeof(path), "/artifacts/%s", hex);
	assert_int_equal(get(path, &b), 200);
	assert_string_equal(b.data, "kernel bytes");
	snprintf(path, sizeof(path), "/artifacts/%s/kiln.elf", hex);
	assert_int_equal(get(path, &b), 200);
	assert_string_equal(b.data, "kernel bytes");
	assert_int_equal(
		get("/artifacts/0000000000000000000000000000000000000000000000000000000000000000",
		    &b),
		404);
	free(b.data);
}

static void rejects_bad_names(void **state)
{
	static const char *const bad[] = {
		"/artifacts/../db",
		"/artifacts/..%2f..%2fetc%2fpasswd",
		"/artifacts/%2e%2e/db",
		"/artifacts/",
		"/artifacts/abc",
		"/artifacts/BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"/artifacts/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/../../db",
		"/artifacts/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/.hidden",
		"/artifacts/ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'%20OR%201=1",
	};
	struct buf b = { 0 };

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		long code = get(bad[i], &b);
		if (code != 400)
			fail_msg("%s: HTTP %ld, wanted 400", bad[i], code);
	}
	free(b.data);
}

/* A symlink planted in the store under an artifact's name is not followed:
 * the boot service serves only regular files of the store itself. */
static void symlinks_in_the_store_are_not_followed(void **state)
{
	static const char planted[] =
		"1111111111111111111111111111111111111111111111111111111111111111";
	char secret[128], link[700];
	struct buf b = { 0 };
	FILE *f;
	long code;

	(void)state;
	snprintf(secret, sizeof(secret), "%s/secret", dir);
	f = fopen(secret, "w");
	assert_non_null(f);
	fputs("do not serve", f);
	fclose(f);
	assert_int_equal(artifact_path(cfg.artifact_dir, planted, link, sizeof(link)), 0);
	assert_int_equal(symlink(secret, link), 0);
	snprintf(link, sizeof(link), "/artifacts/%s", planted);
	code = get(link, &b);
	if (code == 200 || strstr(b.data, "do not serve"))
		fail_msg("%s: HTTP %ld '%s'", link, code, b.data);
	assert_int_equal(code, 404);
	free(b.data);
}

static void boot_scripts(void **state)
{
	struct buf b = { 0 };

	(void)state;
	/* An idle host has nothing to boot; unknown and malformed hosts neither. */
	assert_int_equal(get("/boot/host0.ipxe", &b), 404);
	assert_non_null(strstr(b.data, "nothing to boot"));
	assert_int_equal(get("/boot/nohost.ipxe", &b), 404);
	assert_int_equal(get("/boot/host0", &b), 404);
	assert_int_equal(get("/boot/..%2fhost0.ipxe", &b), 400);
	assert_int_equal(get("/boot/Host0';--.ipxe", &b), 400);
	/* Not a boot-service route: left to the API router. */
	assert_int_equal(get("/api/flights", &b), 418);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(serves_artifacts_by_hash),
		cmocka_unit_test(rejects_bad_names),
		cmocka_unit_test(symlinks_in_the_store_are_not_followed),
		cmocka_unit_test(boot_scripts),
	};
	return cmocka_run_group_tests_name("boot_service", tests, setup, teardown);
}
