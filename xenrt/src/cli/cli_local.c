/* cli_local.c: subcommands that work on the local database directly:
 * `xenrt db migrate|version` (operators upgrading or inspecting a database
 * without starting the daemon), `xenrt token` (tokens are made on the
 * database, never over the API), `xenrt gc` (the artifact store, beside a
 * running daemon), and the config/token loaders shared by all subcommands. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include "cli.h"
#include "artifact_gc.h"
#include "auth.h"
#include "db.h"

/* mkdir -p: every missing directory of `path` (up to its last '/' when
 * parent_only). */
static int make_dirs(const char *path, bool parent_only)
{
	char buf[XENRT_PATH_MAX];
	snprintf(buf, sizeof buf, "%s", path);
	if (parent_only) {
		char *slash = strrchr(buf, '/');
		if (!slash)
			return 0;
		*slash = '\0';
	}
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (buf[0] && mkdir(buf, 0755) != 0 && errno != EEXIST) {
			fprintf(stderr, "xenrt: cannot create %s: %s\n", buf, strerror(errno));
			return -1;
		}
		*p = c;
		if (!c)
			break;
	}
	return 0;
}

int cli_prepare_dirs(const struct xenrt_config *cfg)
{
	if (make_dirs(cfg->state_dir, false) < 0 || make_dirs(cfg->db_path, true) < 0)
		return -1;
	return 0;
}

int cli_config(struct xenrt_config *cfg, const char *config_path, const char *db_path)
{
	char err[512];
	if (config_load(cfg, config_path, err, sizeof err) < 0) {
		fprintf(stderr, "xenrt: %s\n", err);
		return -1;
	}
	if (db_path) {
		if (strlen(db_path) >= sizeof cfg->db_path || !db_path[0]) {
			fprintf(stderr, "xenrt: --db: path empty or too long\n");
			return -1;
		}
		snprintf(cfg->db_path, sizeof cfg->db_path, "%s", db_path);
	}
	return 0;
}

/* `xenrt gc`'s own options. */
struct gc_opts {
	long long keep_flights;
	bool dry_run;
};

#define GC_KEEP_DEFAULT 50
#define GC_KEEP_MAX 1000000

/* The options every local subcommand takes: --config F and --db F, and
 * with gc non-NULL `xenrt gc`'s.  Returns 0, or -1 on an unknown option
 * (getopt has said which) or a bad value (said here). */
static int local_options(int argc, char **argv, const char **config_path, const char **db_path,
			 struct gc_opts *gc, bool *admin)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, 'd' },
		{ "keep-flights", required_argument, NULL, 'k' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "admin", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'c') {
			*config_path = optarg;
		} else if (o == 'd') {
			*db_path = optarg;
		} else if (o == 'k' && gc) {
			char *end;
			errno = 0;
			gc->keep_flights = strtoll(optarg, &end, 10);
			if (errno || end == optarg || *end || gc->keep_flights < 0 ||
			    gc->keep_flights > GC_KEEP_MAX) {
				fprintf(stderr,
					"xenrt: --keep-flights: expected an integer 0..%d, "
					"got '%s'\n",
					GC_KEEP_MAX, optarg);
				return -1;
			}
		} else if (o == 'n' && gc) {
			gc->dry_run = true;
		} else if (o == 'a' && admin) {
			*admin = true;
		} else {
			if (o == 'a')
				fprintf(stderr,
					"xenrt: --admin is an option of 'xenrt token create' "
					"only\n");
			if (o == 'k' || o == 'n')
				fprintf(stderr, "xenrt: --%s is an option of 'xenrt gc' only\n",
					o == 'k' ? "keep-flights" : "dry-run");
			return -1;
		}
	}
	return 0;
}

/* Loads the config and opens (creating and migrating) its database,
 * saying on stderr what went wrong. */
static int local_db(struct xenrt_config *cfg, const char *config_path, const char *db_path,
		    sqlite3 **db)
{
	char err[512];
	if (cli_config(cfg, config_path, db_path) < 0 || cli_prepare_dirs(cfg) < 0)
		return -1;
	if (db_open(cfg->db_path, db, err, sizeof err) != SQLITE_OK) {
		fprintf(stderr, "xenrt: %s\n", err);
		return -1;
	}
	return 0;
}

int cli_db(int argc, char **argv)
{
	const char *config_path = NULL, *db_path = NULL;
	if (local_options(argc, argv, &config_path, &db_path, NULL, NULL) < 0)
		return XENRT_EXIT_USAGE;
	if (optind != argc - 1 ||
	    (strcmp(argv[optind], "migrate") && strcmp(argv[optind], "version"))) {
		fprintf(stderr, "usage: xenrt db migrate|version [--config F] [--db F]\n");
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	sqlite3 *db;
	if (local_db(&cfg, config_path, db_path, &db) < 0)
		return XENRT_EXIT_ERROR;
	db_close(db);
	if (strcmp(argv[optind], "version") == 0)
		printf("%d\n", db_schema_version());
	else
		printf("%s: schema at version %d\n", cfg.db_path, db_schema_version());
	return XENRT_EXIT_OK;
}

int cli_read_token(const struct xenrt_config *cfg, char *out, size_t len)
{
	const char *env = getenv("XENRT_TOKEN");
	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	char path[XENRT_PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/token", cfg->state_dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr,
			"xenrt: no token: set XENRT_TOKEN or create %s "
			"(xenrt token create NAME > %s)\n",
			path, path);
		return -1;
	}
	if (!fgets(out, (int)len, f)) {
		fprintf(stderr, "xenrt: %s is empty\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

static void print_token(void *arg, const char *name, double created_at, double revoked_at,
			int admin)
{
	(void)arg;
	char when[32], gone[32] = "live";
	time_t t = (time_t)created_at;
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", gmtime(&t));
	if (revoked_at > 0) {
		t = (time_t)revoked_at;
		strftime(gone, sizeof gone, "revoked %Y-%m-%d %H:%M:%S", gmtime(&t));
	}
	printf("%-32s created %s UTC  %s%s\n", name, when, gone, admin ? "  admin" : "");
}

int cli_token(int argc, char **argv)
{
	const char *config_path = NULL, *db_path = NULL;
	bool admin = false;
	if (local_options(argc, argv, &config_path, &db_path, NULL, &admin) < 0)
		return XENRT_EXIT_USAGE;
	const char *verb = optind < argc ? argv[optind] : "";
	bool named = !strcmp(verb, "create") || !strcmp(verb, "revoke");
	bool bare = !strcmp(verb, "list") || !strcmp(verb, "check");
	if (!((named && optind == argc - 2) || (bare && optind == argc - 1)) ||
	    (admin && strcmp(verb, "create"))) {
		fprintf(stderr,
			"usage: xenrt token create NAME [--admin] | list | revoke NAME | check  "
			"[--config F] [--db F]\n");
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	sqlite3 *db;
	if (local_db(&cfg, config_path, db_path, &db) < 0)
		return XENRT_EXIT_ERROR;
	char err[1024];
	int rc = 0;
	if (!strcmp(verb, "create")) {
		char token[AUTH_TOKEN_HEX + 1];
		rc = auth_token_create(db, argv[optind + 1], token, err, sizeof err);
		if (rc == 0 && admin)
			rc = auth_token_set_admin(db, argv[optind + 1], 1, err, sizeof err);
		if (rc == 0) {
			printf("%s\n", token);
			fprintf(stderr, "xenrt: token '%s' created; it is shown only this once\n",
				argv[optind + 1]);
		}
	} else if (!strcmp(verb, "revoke")) {
		rc = auth_token_revoke(db, argv[optind + 1], err, sizeof err);
	} else if (!strcmp(verb, "list")) {
		rc = auth_token_list(db, print_token, NULL, err, sizeof err);
	} else {
		char token[128], name[64];
		rc = cli_read_token(&cfg, token, sizeof token);
		if (rc == 0) {
			int ok = auth_token_verify(db, token, name, sizeof name, NULL, err,
						   sizeof err);
			if (ok == 1)
				printf("valid token '%s'\n", name);
			else if (ok == 0)
				snprintf(err, sizeof err, "the token is not valid for %s",
					 cfg.db_path);
			rc = ok == 1 ? 0 : -1;
		} else {
			err[0] = '\0';
		}
	}
	db_close(db);
	if (rc < 0) {
		if (err[0])
			fprintf(stderr, "xenrt token %s: %s\n", verb, err);
		return XENRT_EXIT_ERROR;
	}
	return XENRT_EXIT_OK;
}

static void print_freed(void *arg, const char hex[ARTIFACT_HEX_LEN + 1], long long bytes)
{
	const struct gc_opts *gc = arg;
	if (bytes < 0)
		printf("%s %s (its file was already gone)\n",
		       gc->dry_run ? "would remove" : "removed", hex);
	else
		printf("%s %s (%lld bytes)\n", gc->dry_run ? "would remove" : "removed", hex,
		       bytes);
}

int cli_gc(int argc, char **argv)
{
	const char *config_path = NULL, *db_path = NULL;
	struct gc_opts gc = { GC_KEEP_DEFAULT, false };
	if (local_options(argc, argv, &config_path, &db_path, &gc, NULL) < 0 || optind != argc) {
		fprintf(stderr,
			"usage: xenrt gc [--keep-flights N] [--dry-run] [--config F] [--db F]\n");
		return XENRT_EXIT_USAGE;
	}
	struct xenrt_config cfg;
	sqlite3 *db;
	if (local_db(&cfg, config_path, db_path, &db) < 0)
		return XENRT_EXIT_ERROR;
	struct gc_report rep;
	char err[1024];
	int rc = artifact_gc(db, cfg.artifact_dir, gc.keep_flights, gc.dry_run, print_freed, &gc,
			     &rep, err, sizeof err);
	db_close(db);
	if (rc < 0) {
		fprintf(stderr, "xenrt gc: %s\n", err);
		return XENRT_EXIT_ERROR;
	}
	printf("%s %lld artifact file(s), %lld bytes; kept %lld in use (newest %lld flights, "
	       "unfinished flights, health check)\n",
	       gc.dry_run ? "would free" : "freed", rep.files, rep.bytes, rep.kept,
	       gc.keep_flights);
	return XENRT_EXIT_OK;
}
