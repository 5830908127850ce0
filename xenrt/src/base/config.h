/* config.h: the daemon's configuration.
 *
 * Everything has an embedded default so `xenrt serve` works with no file at
 * all (database ./var/xenrt.db, HTTP on 127.0.0.1:8080, two nested QEMU hosts).
 * A JSON file (`--config FILE`) overrides any subset, and command-line flags
 * override the file.  Paths are relative to the directory the daemon runs in,
 * normally the repository top.  Errors name the file, the key path and what
 * was expected, e.g. "config.json: hosts[1].memory_mib: expected integer
 * 128..65536", because an operator fixing a config has nothing else to go by.
 */
#ifndef XENRT_CONFIG_H
#define XENRT_CONFIG_H

#include <stddef.h>
#include <stdbool.h>

#define XENRT_PATH_MAX 512
#define XENRT_MAX_HOSTS 32
#define XENRT_MAX_WEBHOOKS 8
#define XENRT_MAX_SCHEDULES 16
#define XENRT_MAX_BRANCHES 8
#define XENRT_MAX_SUITES 8 /* per schedule */

/* Webhook events, a bit each. */
enum {
	WEBHOOK_FLIGHT_FINISHED = 1,
	WEBHOOK_REGRESSION = 2,
	WEBHOOK_TESTED_REF_PUSHED = 4,
	WEBHOOK_HOST_OFFLINE = 8,
};

/* POSTed as JSON for every event in `events` (config_auto.c). */
struct xenrt_webhook {
	char url[512]; /* http:// or https:// */
	unsigned events;
};

/* A recurring flight: every `every_s` seconds, or daily at `at` (UTC). */
struct xenrt_schedule_decl {
	char name[64]; /* [a-z0-9_-]+, unique */
	char repo[XENRT_PATH_MAX];
	char ref[256];
	char kind[16]; /* nightly (default), branch, gate */
	char suites[XENRT_MAX_SUITES][64];
	int nsuites;
	char runvars[1024]; /* a JSON object of strings, "" = none */
	char at[6];         /* "HH:MM", or "" */
	int every_s;        /* 0 when `at` is used */
};

/* A tracked branch: gate flights of (repo, branch) whose verdict is
 * tolerable push their revision to tested_ref in repo. */
struct xenrt_branch {
	char repo[XENRT_PATH_MAX];
	char branch[128];
	char tested_ref[256]; /* default refs/heads/tested/<branch> */
};

struct xenrt_host_decl {
	char name[64];       /* [a-z0-9_-]+, unique */
	char driver[16];     /* "qemu" (later "bochs", "physical") */
	char cpu_vendor[16]; /* "amd", "intel" or "" */
	char cpu_model[64];  /* QEMU -cpu value, e.g. "max" */
	int vcpus;           /* 1..64 */
	int memory_mib;      /* 128..65536 */
	char flags[128];     /* space-separated, e.g. "svm npt" */
};

struct xenrt_config {
	char db_path[XENRT_PATH_MAX];      /* var/xenrt.db */
	char state_dir[XENRT_PATH_MAX];    /* var */
	char log_dir[XENRT_PATH_MAX];      /* var/logs */
	char artifact_dir[XENRT_PATH_MAX]; /* var/artifacts */
	char work_dir[XENRT_PATH_MAX];     /* var/work: git worktrees and builds */
	char suites_dir[XENRT_PATH_MAX];   /* testsuites */
	char pxe_dir[XENRT_PATH_MAX];      /* pxe */
	char web_dir[XENRT_PATH_MAX];      /* web-status (CSS) */
	char http_addr[64];                /* 127.0.0.1 */
	int http_port;                     /* 8080; 0 = ephemeral (tests) */
	/* What nested hosts use to reach the daemon.  Empty in the file means
	 * "http://10.0.2.2:<http_port>", recomputed by config_set_port(). */
	char public_url[256];
	bool public_url_explicit;
	size_t nhosts;
	struct xenrt_host_decl hosts[XENRT_MAX_HOSTS];
	/* Per API token: flights it may have queued at once (more is 429),
	 * and the largest patch it may submit in bytes (more is 413). */
	int max_queued_per_token; /* 100 */
	int max_patch_bytes;      /* 524288 */
	/* The farm's automation (steward.c, webhook.c). */
	size_t nwebhooks;
	struct xenrt_webhook webhooks[XENRT_MAX_WEBHOOKS];
	int webhook_timeout_s;    /* 5: one delivery attempt */
	int webhook_retry_ms;     /* 5000: first back-off, doubled each time */
	int webhook_max_attempts; /* 6 */
	size_t nschedules;
	struct xenrt_schedule_decl schedules[XENRT_MAX_SCHEDULES];
	size_t nbranches;
	struct xenrt_branch branches[XENRT_MAX_BRANCHES];
	int steward_tick_ms; /* 1000: how often schedules etc. are looked at */
	int bisect_repeats;  /* 2: runs of a revision before its verdict counts */
};

/* The automation keys of the config file (config_auto.c): 1 when `key` is
 * not one of them, 0 when loaded, -1 with "file: key: what" in err. */
int config_auto_key(const char *file, const char *key, void *value, struct xenrt_config *cfg,
		    char *err, size_t errlen);

/* Fills every field with the embedded defaults. */
void config_defaults(struct xenrt_config *cfg);

/* Defaults, then the JSON file at `path` on top (NULL: defaults only).
 * Returns 0, or -1 with a precise message in err. */
int config_load(struct xenrt_config *cfg, const char *path, char *err, size_t errlen);

/* Sets the HTTP port (a --port flag) and, unless the config named a
 * public_url explicitly, the derived public_url. */
void config_set_port(struct xenrt_config *cfg, int port);

#endif
