/* hostpool.h: host states, reservation and quarantine (LAVA's model).
 *
 * States: idle -> reserved -> provisioning -> running -> idle, or -> broken
 * (quarantined, needs_health_check = 1) when a job on it ended broken; a
 * broken host is only reused after a health check passes; `offline` hosts
 * are never used.  Every state change writes a host_events row in the same
 * transaction, so the history always explains the present.
 */
#ifndef XENRT_HOSTPOOL_H
#define XENRT_HOSTPOOL_H

#include <sqlite3.h>
#include <stddef.h>

#define HOSTPOOL_MAX_HOSTS 8

/* Drivers the executor can run (SQL list).  Hosts declared with another
 * driver ("bochs", "physical") stay in the table and on the status page but
 * are never reserved or health-checked until their driver exists. */
#define HOSTPOOL_DRIVERS "('qemu')"

struct pool_host {
	long long id;
	char name[64];
	char cpu_model[64];
	int vcpus;
	int memory_mib;
};

/* Changes one host's state and records the event; the caller holds a
 * transaction.  job_id 0 = no job; reserved_by follows `reserved_by`
 * (-1 = leave as is, 0 = clear). */
int hostpool_set_state(sqlite3 *db, long long host_id, const char *state, long long job_id,
		       long long reserved_by, const char *reason, char *err, size_t errlen);

/* Takes `n` idle healthy hosts for attempt `attempt` of job_id, all or none,
 * inside the caller's transaction (BEGIN IMMEDIATE, so two daemons' or two
 * workers' reservations serialise).  Returns 0 (hosts filled in, job_hosts
 * written), 1 if fewer than n are free (nothing changed), -1 on error. */
int hostpool_reserve_locked(sqlite3 *db, long long job_id, int attempt, int n,
			    struct pool_host *hosts, char *err, size_t errlen);

/* Same, with its own BEGIN IMMEDIATE ... COMMIT. */
int hostpool_reserve(sqlite3 *db, long long job_id, int attempt, int n, struct pool_host *hosts,
		     char *err, size_t errlen);

/* Gives back every host job_id holds: to idle, or quarantined (broken,
 * needs_health_check) when `broken`.  Own transaction. */
int hostpool_release(sqlite3 *db, long long job_id, int broken, const char *reason, char *err,
		     size_t errlen);

/* Crash recovery: hosts left reserved/provisioning/running by a dead daemon
 * go back to idle (a quarantined host stays quarantined).  Returns the
 * number of hosts reset, or -1. */
int hostpool_reset_stale(sqlite3 *db, char *err, size_t errlen);

/* Picks a quarantined host due for a health check (broken or idle with
 * needs_health_check, not offline) and moves it to provisioning.  Returns 0
 * with *h filled, 1 if none, -1 on error.  The first check is due at once;
 * after a failed check the host is due again only if its last change is
 * older than `not_before` (retry spacing).  The check's log directory,
 * "health/<host>-<event id>" under the log root, is written to log_dir and
 * recorded on the event, so the API can serve the check's console. */
int hostpool_begin_health_check(sqlite3 *db, double not_before, struct pool_host *h, char *log_dir,
				size_t log_dir_len, char *err, size_t errlen);

/* Ends a health check: pass -> idle and healthy; fail -> broken again, or
 * offline after `failures` consecutive failures reached the limit.  The
 * event names the check's log_dir (from hostpool_begin_health_check). */
int hostpool_end_health_check(sqlite3 *db, long long host_id, const char *log_dir, int pass,
			      int give_up, const char *reason, char *err, size_t errlen);

/* Consecutive failed health checks since the host last passed one. */
int hostpool_health_failures(sqlite3 *db, long long host_id);

#endif
