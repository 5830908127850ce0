/* cli_schedule.c: `xenrt schedule add|list|remove`, on the local database
 * like `xenrt token` (a running daemon picks changes up at its next look,
 * schedule.h).  Schedules of the config are listed too, but only the
 * config removes them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli.h"
#include "db.h"
#include "schedule.h"

#define USAGE                                                                              \
	"usage: xenrt schedule add NAME --repo R --ref REF --suite S [--suite S2 ...] "    \
	"[--kind nightly|branch|gate] [--runvar N=V ...] (--at HH:MM | --every SECONDS)\n" \
	"       xenrt schedule list | remove NAME   [--config F] [--db F]\n"

enum {
	O_CONFIG = 0x100,
	O_DB,
	O_REPO,
	O_REF,
	O_SUITE,
	O_KIND,
	O_RUNVAR,
	O_AT,
	O_EVERY
};

static void when(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;
	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
}

static int list(sqlite3 *db)
{
	json_t *doc;
	char err[512];
	if (schedule_list(db, &doc, err, sizeof err)) {
		fprintf(stderr, "xenrt schedule list: %s\n", err);
		return XENRT_EXIT_ERROR;
	}
	printf("%-20s %-7s %-8s %-14s %-20s %s\n", "NAME", "SOURCE", "KIND", "WHEN",
	       "NEXT RUN (UTC)", "REPO REF SUITES");
	size_t i, k;
	json_t *s, *v;
	json_array_foreach(json_object_get(doc, "schedules"), i, s)
	{
		char next[32], every[32];
		when(json_number_value(json_object_get(s, "next_run")), next, sizeof next);
		if (json_is_string(json_object_get(s, "at_time")))
			snprintf(every, sizeof every, "daily %s",
				 json_string_value(json_object_get(s, "at_time")));
		else
			snprintf(every, sizeof every, "every %llds",
				 (long long)json_integer_value(json_object_get(s, "every_s")));
		printf("%-20s %-7s %-8s %-14s %-20s %s %s",
		       json_string_value(json_object_get(s, "name")),
		       json_string_value(json_object_get(s, "source")),
		       json_string_value(json_object_get(s, "kind")), every, next,
		       json_string_value(json_object_get(s, "repo")),
		       json_string_value(json_object_get(s, "ref")));
		json_array_foreach(json_object_get(s, "suites"), k, v)
			printf("%s%s", k ? "," : " ", json_string_value(v));
		printf("\n");
	}
	json_decref(doc);
	return XENRT_EXIT_OK;
}

/* Fills d from the options; -1 (usage printed) when they do not make one. */
static int parse_add(int argc, char **argv, struct xenrt_schedule_decl *d, const char **config,
		     const char **dbp)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "db", required_argument, NULL, O_DB },
		{ "repo", required_argument, NULL, O_REPO },
		{ "ref", required_argument, NULL, O_REF },
		{ "suite", required_argument, NULL, O_SUITE },
		{ "kind", required_argument, NULL, O_KIND },
		{ "runvar", required_argument, NULL, O_RUNVAR },
		{ "at", required_argument, NULL, O_AT },
		{ "every", required_argument, NULL, O_EVERY },
		{ NULL, 0, NULL, 0 },
	};
	json_t *runvars = json_object(), *suites = json_array();
	json_t *decl = json_object();
	int o, bad = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case O_CONFIG:
			*config = optarg;
			break;
		case O_DB:
			*dbp = optarg;
			break;
		case O_REPO:
			json_object_set_new(decl, "repo", json_string(optarg));
			break;
		case O_REF:
			json_object_set_new(decl, "ref", json_string(optarg));
			break;
		case O_KIND:
			json_object_set_new(decl, "kind", json_string(optarg));
			break;
		case O_AT:
			json_object_set_new(decl, "at", json_string(optarg));
			break;
		case O_SUITE:
			json_array_append_new(suites, json_string(optarg));
			break;
		case O_EVERY: {
			char *end;
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg)
				bad = 1;
			else
				json_object_set_new(decl, "every_s", json_integer(v));
			break;
		}
		case O_RUNVAR: {
			char *eq = strchr(optarg, '=');
			if (!eq) {
				bad = 1;
				break;
			}
			*eq = '\0';
			json_object_set_new(runvars, optarg, json_string(eq + 1));
			break;
		}
		default:
			bad = 1;
		}
	}
	if (optind != argc - 2 || bad) {
		fputs(USAGE, stderr);
		json_decref(decl), json_decref(suites), json_decref(runvars);
		return -1;
	}
	json_object_set_new(decl, "name", json_string(argv[optind + 1]));
	json_object_set_new(decl, "suites", suites);
	if (json_object_size(runvars))
		json_object_set(decl, "runvars", runvars);
	json_decref(runvars);
	/* The same checks as a schedule in the config file. */
	struct xenrt_config tmp;
	char err[512];
	json_t *arr = json_pack("[O]", decl);
	json_decref(decl);
	int rc = config_auto_key("xenrt schedule add", "schedules", arr, &tmp, err, sizeof err);
	json_decref(arr);
	if (rc) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	*d = tmp.schedules[0];
	return 0;
}

int cli_schedule(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "", *config = NULL, *dbp = NULL;
	struct xenrt_schedule_decl d;
	if (!strcmp(verb, "add")) {
		if (parse_add(argc, argv, &d, &config, &dbp) < 0)
			return XENRT_EXIT_USAGE;
	} else if (!strcmp(verb, "list") || !strcmp(verb, "remove")) {
		static const struct option opts[] = {
			{ "config", required_argument, NULL, O_CONFIG },
			{ "db", required_argument, NULL, O_DB },
			{ NULL, 0, NULL, 0 },
		};
		int o;
		while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
			if (o == O_CONFIG)
				config = optarg;
			else if (o == O_DB)
				dbp = optarg;
			else
				return fputs(USAGE, stderr), XENRT_EXIT_USAGE;
		}
		if (optind != argc - (!strcmp(verb, "list") ? 1 : 2))
			return fputs(USAGE, stderr), XENRT_EXIT_USAGE;
	} else {
		fputs(USAGE, stderr);
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	sqlite3 *db;
	char err[512];
	if (cli_config(&cfg, config, dbp) < 0 || cli_prepare_dirs(&cfg) < 0)
		return XENRT_EXIT_ERROR;
	if (db_open(cfg.db_path, &db, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "xenrt: %s\n", err);
		return XENRT_EXIT_ERROR;
	}
	int rc = XENRT_EXIT_OK;
	if (!strcmp(verb, "list")) {
		rc = list(db);
	} else if (!strcmp(verb, "add")) {
		if (schedule_add(db, &cfg, &d, err, sizeof err)) {
			fprintf(stderr, "xenrt schedule add: %s\n", err);
			rc = XENRT_EXIT_ERROR;
		}
	} else if (schedule_remove(db, argv[argc - 1], err, sizeof err)) {
		fprintf(stderr, "xenrt schedule remove: %s\n", err);
		rc = XENRT_EXIT_ERROR;
	}
	db_close(db);
	return rc;
}
