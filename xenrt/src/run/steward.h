/* steward.h: the thread that makes the farm run itself.
 *
 * Every steward_tick_ms (or when kicked) it looks at the database, which
 * holds all its state, so a restarted daemon carries on where a dead one
 * stopped:
 *   - starts the flights of due schedules (schedule.h);
 *   - draws the consequences of each newly finished flight, once
 *     (flights.steward_done): a gate flight of a tracked branch moves the
 *     tested ref (tested.h); a regression of a gate or nightly flight is
 *     bisected (bisect.h); webhooks are queued for flight-finished,
 *     regression and tested-ref-pushed (webhook.h);
 *   - queues host-offline webhooks for hosts that went offline;
 *   - moves running bisections on (their probe flights).
 * New flights kick the executor through `kick`.
 */
#ifndef XENRT_STEWARD_H
#define XENRT_STEWARD_H

#include <stddef.h>

#include <sqlite3.h>

#include "config.h"
#include "webhook.h"

struct steward;

/* Syncs the config's schedules into the database and starts the thread.
 * NULL with a message on failure. */
struct steward *steward_start(const struct xenrt_config *cfg, struct webhook_sender *ws,
			      void (*kick)(void *arg), void *kick_arg, char *err, size_t errlen);

/* Something changed (a flight submitted or finished): look now. */
void steward_kick(struct steward *s);

void steward_stop(struct steward *s);

/* One pass of the steward's work on db (what the thread does every tick);
 * returns how many flights it started.  For tests that drive it step by
 * step. */
int steward_tick(sqlite3 *db, const struct xenrt_config *cfg, struct webhook_sender *ws);

#endif
