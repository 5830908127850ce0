/* test_automation.c: the pure parts of the farm's automation: when a
 * schedule runs next, the config's webhooks, schedules and branches with
 * their error messages, which webhooks an event is queued for, and a host
 * going offline notified once by the steward. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "config.h"
#include "fixture_farm.h"
#include "db.h"
#include "schedule.h"
#include "steward.h"
#include "tested.h"
#include "webhook.h"

static void next_run_of_intervals_and_times_of_day(void **state)
{
	(void)state;
	assert_true(schedule_next("", 3, 1000.5) == 1003.5);
	/* 2026-12-07 23:30:00 UTC */
	double now = 1796686200;
	struct tm tm;
	time_t t = (time_t)schedule_next("02:00", 0, now);
	gmtime_r(&t, &tm);
	assert_int_equal(tm.tm_mday, 8);
	assert_int_equal(tm.tm_hour, 2);
	assert_int_equal(tm.tm_min, 0);
	/* Later the same day; exactly now is not "after now". */
	assert_true(schedule_next("23:45", 0, now) == now + 900);
	assert_true(schedule_next("23:30", 0, now) == now + 86400);
}

/* Loads `json` as a config file; returns config_load's result, err set. */
static int load(const char *json, struct xenrt_config *cfg, char *err, size_t errlen)
{
	char path[] = "/tmp/xenrt-test-auto-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fputs(json, f);
	fclose(f);
	int rc = config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

static void expect_error(const char *json, const char *needle)
{
	struct xenrt_config cfg;
	char err[512];
	assert_int_equal(load(json, &cfg, err, sizeof err), -1);
	if (!strstr(err, needle))
		fprintf(stderr, "# '%s' lacks '%s'\n", err, needle);
	assert_non_null(strstr(err, needle));
}

static void config_loads_the_automation(void **state)
{
	(void)state;
	struct xenrt_config cfg;
	char err[512];
	assert_int_equal(
		load("{\"webhooks\": [{\"url\": \"http://h/x\", \"events\": [\"regression\", "
		     "\"host-offline\"]}], \"schedules\": [{\"name\": \"n\", \"repo\": \"/r\", "
		     "\"ref\": \"main\", \"suites\": [\"smoke\"], \"at\": \"02:30\", "
		     "\"runvars\": {\"b\": \"2\", \"a\": \"1\"}}], \"branches\": [{\"repo\": "
		     "\"/r\", \"branch\": \"main\"}], \"bisect_repeats\": 3}",
		     &cfg, err, sizeof err),
		0);
	assert_int_equal(cfg.nwebhooks, 1);
	assert_int_equal(cfg.webhooks[0].events, WEBHOOK_REGRESSION | WEBHOOK_HOST_OFFLINE);
	assert_string_equal(cfg.schedules[0].kind, "nightly");
	assert_string_equal(cfg.schedules[0].runvars, "{\"a\":\"1\",\"b\":\"2\"}");
	assert_string_equal(cfg.branches[0].tested_ref, "refs/heads/tested/main");
	assert_int_equal(cfg.bisect_repeats, 3);
	assert_ptr_equal(tested_branch(&cfg, "/r", "refs/heads/main"), &cfg.branches[0]);
	assert_ptr_equal(tested_branch(&cfg, "/r", "main"), &cfg.branches[0]);
	assert_null(tested_branch(&cfg, "/r", "dev"));
	assert_null(tested_branch(&cfg, "/other", "main"));
}

static void config_mistakes_are_named(void **state)
{
	(void)state;
	expect_error("{\"webhooks\": [{\"url\": \"ftp://x\", \"events\": [\"regression\"]}]}",
		     "webhooks[0].url: expected an http:// or https:// URL");
	expect_error("{\"webhooks\": [{\"url\": \"http://x\", \"events\": [\"boom\"]}]}",
		     "webhooks[0].events[0]: expected one of");
	expect_error("{\"webhooks\": [{\"url\": \"http://x\"}]}", "webhooks[0]: needs both");
	expect_error("{\"schedules\": [{\"name\": \"n\", \"repo\": \"/r\", \"ref\": \"m\", "
		     "\"suites\": [\"s\"], \"at\": \"25:00\"}]}",
		     "schedules[0].at: expected \"HH:MM\"");
	expect_error("{\"schedules\": [{\"name\": \"n\", \"repo\": \"/r\", \"ref\": \"m\", "
		     "\"suites\": [\"s\"], \"at\": \"01:00\", \"every_s\": 5}]}",
		     "schedules[0]: needs exactly one of at and every_s");
	expect_error("{\"schedules\": [{\"name\": \"n\", \"repo\": \"-x\", \"ref\": \"m\", "
		     "\"suites\": [\"s\"], \"every_s\": 5}]}",
		     "schedules[0].repo: expected a path");
	expect_error("{\"schedules\": [{\"name\": \"n\", \"repo\": \"/r\", \"ref\": \"m\", "
		     "\"suites\": [\"s\"], \"every_s\": 5}, {\"name\": \"n\", \"repo\": \"/r\", "
		     "\"ref\": \"m\", \"suites\": [\"s\"], \"every_s\": 5}]}",
		     "schedules[1].name: duplicate name");
	expect_error(
		"{\"branches\": [{\"repo\": \"/r\", \"branch\": \"m\", \"tested_ref\": \"x\"}]}",
		"branches[0].tested_ref: expected a full ref name");
	expect_error("{\"bisect_repeats\": 0}", "bisect_repeats: expected integer 1..5");
}

/* An event is queued once for every webhook subscribed to it, no other. */
static void events_go_to_their_subscribers(void **state)
{
	(void)state;
	struct fx_farm *f = fx_farm_new("/tmp/xenrt-test-auto-XXXXXX");
	assert_non_null(f);
	assert_int_equal(fx_open_db(&f->cfg, &f->db), 0);
	f->cfg.nwebhooks = 3;
	snprintf(f->cfg.webhooks[0].url, sizeof f->cfg.webhooks[0].url, "http://a/");
	f->cfg.webhooks[0].events = WEBHOOK_REGRESSION;
	snprintf(f->cfg.webhooks[1].url, sizeof f->cfg.webhooks[1].url, "http://b/");
	f->cfg.webhooks[1].events = WEBHOOK_REGRESSION | WEBHOOK_FLIGHT_FINISHED;
	snprintf(f->cfg.webhooks[2].url, sizeof f->cfg.webhooks[2].url, "http://c/");
	f->cfg.webhooks[2].events = WEBHOOK_HOST_OFFLINE;
	char err[256];
	json_t *p = json_pack("{s:i}", "x", 1);
	assert_int_equal(webhook_queue(f->db, &f->cfg, WEBHOOK_REGRESSION, p, err, sizeof err), 0);
	assert_int_equal(
		webhook_queue(f->db, &f->cfg, WEBHOOK_TESTED_REF_PUSHED, p, err, sizeof err), 0);
	json_decref(p);
	assert_int_equal(fx_scalar(f->db, "SELECT count(*) FROM webhook_deliveries"), 2);
	assert_int_equal(fx_scalar(f->db,
				   "SELECT count(*) FROM webhook_deliveries WHERE event = "
				   "'regression' AND status = 'pending' AND url IN ('http://a/', "
				   "'http://b/')"),
			 2);
	fx_farm_close(f->db, f->dir);
	free(f);
}

/* A host going offline is notified once, through the steward's tick. */
static void host_offline_is_notified_once(void **state)
{
	(void)state;
	struct fx_farm *f = fx_farm_new("/tmp/xenrt-test-auto-XXXXXX");
	assert_non_null(f);
	assert_int_equal(fx_open_db(&f->cfg, &f->db), 0);
	f->cfg.nwebhooks = 1;
	snprintf(f->cfg.webhooks[0].url, sizeof f->cfg.webhooks[0].url, "http://a/");
	f->cfg.webhooks[0].events = WEBHOOK_HOST_OFFLINE;
	char err[256];
	assert_int_equal(steward_tick(f->db, &f->cfg, NULL), 0);
	assert_int_equal(fx_scalar(f->db, "SELECT count(*) FROM webhook_deliveries"), 0);
	assert_int_equal(db_exec(f->db,
				 "INSERT INTO host_events(host_id, at, old_state, new_state, "
				 "reason) VALUES (1, 5, 'broken', 'offline', 'health check failed "
				 "3 times')",
				 err, sizeof err),
			 SQLITE_OK);
	steward_tick(f->db, &f->cfg, NULL);
	steward_tick(f->db, &f->cfg, NULL);
	assert_int_equal(
		fx_scalar(f->db,
			  "SELECT count(*) FROM webhook_deliveries WHERE event = "
			  "'host-offline' AND json_extract(payload, '$.host.name') = 'host0'"),
		1);
	fx_farm_close(f->db, f->dir);
	free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(next_run_of_intervals_and_times_of_day),
		cmocka_unit_test(config_loads_the_automation),
		cmocka_unit_test(config_mistakes_are_named),
		cmocka_unit_test(events_go_to_their_subscribers),
		cmocka_unit_test(host_offline_is_notified_once),
	};
	return cmocka_run_group_tests_name("automation", tests, NULL, NULL);
}
