/* schedule.h: recurring flights.
 *
 * A schedule (config "schedules", or `xenrt schedule add` on the local
 * database) starts a flight of its repository, ref and suites every
 * `every_s` seconds or daily at "HH:MM" UTC.  The schedules table holds
 * each one's next_run; the steward starts every schedule whose next_run
 * has passed, once, and sets next_run to the first time after now.  So a
 * daemon that was down when a run was due starts it once when it comes
 * back, however many periods it missed, and a restart never starts a run
 * twice (the flight and the new next_run are one transaction).
 */
#ifndef XENRT_SCHEDULE_H
#define XENRT_SCHEDULE_H

#include <stdint.h>

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* The first time after `now` a schedule runs: now + every_s, or the next
 * HH:MM (UTC) strictly after now. */
double schedule_next(const char *at, int every_s, double now);

/* Makes the config's schedules rows of the table (source 'config'): new
 * ones get their first next_run, changed ones their new definition (and a
 * new next_run if their timing changed), removed ones go.  0 or -1. */
int schedule_sync(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen);

/* Starts the flight of every due schedule.  The number started, or -1. */
int schedule_run_due(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen);

/* `xenrt schedule add`: a schedule of source 'cli' (decl as from the
 * config; its suites must load).  0 or -1 with a message. */
int schedule_add(sqlite3 *db, const struct xenrt_config *cfg, const struct xenrt_schedule_decl *d,
		 char *err, size_t errlen);

/* `xenrt schedule remove`: 0, or -1 (no such schedule, or it comes from
 * the config). */
int schedule_remove(sqlite3 *db, const char *name, char *err, size_t errlen);

/* {"schedules": [{name, source, repo, ref, kind, suites, runvars, at_time,
 * every_s, next_run, last_run, last_flight}]} by name. */
int schedule_list(sqlite3 *db, json_t **out, char *err, size_t errlen);

#endif
