/* webhook.h: notifications POSTed as JSON to the URLs the config names.
 *
 * Queuing is a database insert (webhook_queue), done by the steward in the
 * transaction that records why; nothing on the farm's path ever waits for
 * a listener.  Sending is done by one thread per configured URL
 * (webhook_start), so a dead or slow listener delays only its own
 * deliveries: each attempt is bounded by webhook_timeout_s, a failed one
 * (transport error or non-2xx) is retried after webhook_retry_ms, doubled
 * every time, and after webhook_max_attempts the delivery is `failed`.
 * Every attempt's outcome stays in webhook_deliveries (GET /api/webhooks).
 *
 * A delivery is {"event": E, "delivery": id, "at": unix time, ...payload}
 * with headers X-Xenrt-Event and X-Xenrt-Delivery.
 */
#ifndef XENRT_WEBHOOK_H
#define XENRT_WEBHOOK_H

#include <jansson.h>
#include <sqlite3.h>

#include "config.h"

/* The event's name as in the config and the payload ("flight-finished",
 * ...) for one WEBHOOK_* bit. */
const char *webhook_event_name(unsigned event);

/* Queues `payload` (borrowed) for every webhook subscribed to `event`.
 * Runs in the caller's transaction.  0, or -1 with a message. */
int webhook_queue(sqlite3 *db, const struct xenrt_config *cfg, unsigned event, json_t *payload,
		  char *err, size_t errlen);

struct webhook_sender;

/* Starts the senders (none when the config has no webhooks).  NULL with a
 * message on failure. */
struct webhook_sender *webhook_start(const struct xenrt_config *cfg, char *err, size_t errlen);

/* A delivery was queued: look now rather than at the next poll. */
void webhook_kick(struct webhook_sender *ws);

/* Stops the senders (an attempt in progress ends within its timeout). */
void webhook_stop(struct webhook_sender *ws);

#endif
