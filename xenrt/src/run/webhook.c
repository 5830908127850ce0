/* webhook.c: queuing and sending webhook deliveries (see webhook.h). */
#include "webhook.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "db.h"

#define POLL_MS 250

struct sender {
	struct webhook_sender *ws;
	const char *url;
	pthread_t thread;
	bool started;
};

struct webhook_sender {
	const struct xenrt_config *cfg;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	unsigned long kicks;
	size_t n;
	struct sender senders[XENRT_MAX_WEBHOOKS];
};

const char *webhook_event_name(unsigned event)
{
	switch (event) {
	case WEBHOOK_FLIGHT_FINISHED:
		return "flight-finished";
	case WEBHOOK_REGRESSION:
		return "regression";
	case WEBHOOK_TESTED_REF_PUSHED:
		return "tested-ref-pushed";
	case WEBHOOK_HOST_OFFLINE:
		return "host-offline";
	}
	return "unknown";
}

int webhook_queue(sqlite3 *db, const struct xenrt_config *cfg, unsigned event, json_t *payload,
		  char *err, size_t errlen)
{
	char *text = NULL;
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		if (!(cfg->webhooks[i].events & event))
			continue;
		if (!text && !(text = json_dumps(payload, JSON_COMPACT))) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(db,
					    "INSERT INTO webhook_deliveries(url, event, payload, "
					    "next_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)",
					    -1, &st, NULL);
		if (rc == SQLITE_OK) {
			sqlite3_bind_text(st, 1, cfg->webhooks[i].url, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, webhook_event_name(event), -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 3, text, -1, SQLITE_STATIC);
			sqlite3_bind_double(st, 4, db_now());
			rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
			sqlite3_finalize(st);
		}
		if (rc != SQLITE_OK) {
			snprintf(err, errlen, "queuing a webhook: %s", sqlite3_errmsg(db));
			free(text);
			return -1;
		}
	}
	free(text);
	return 0;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p, (void)arg;
	return size * n;
}

static bool stopping(struct webhook_sender *ws)
{
	return __atomic_load_n(&ws->stop, __ATOMIC_ACQUIRE);
}

/* libcurl's progress callback: a stopping daemon abandons the attempt
 * (it stays pending) instead of waiting out a dead listener. */
static int abandon(void *ws, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)a, (void)b, (void)c, (void)d;
	return stopping(ws);
}

/* One POST.  0 for a 2xx answer, else -1 with why in err. */
static int post(struct webhook_sender *ws, const char *url, long long id, const char *event,
		const char *body, long *status, char *err, size_t errlen)
{
	const struct xenrt_config *cfg = ws->cfg;
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	char h1[96], h2[64];
	snprintf(h1, sizeof h1, "X-Xenrt-Event: %s", event);
	snprintf(h2, sizeof h2, "X-Xenrt-Delivery: %lld", id);
	struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	hdrs = curl_slist_append(hdrs, h1);
	hdrs = curl_slist_append(hdrs, h2);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)cfg->webhook_timeout_s);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)cfg->webhook_timeout_s);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, abandon);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, ws);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	CURLcode rc = curl_easy_perform(c);
	*status = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(rc));
		return -1;
	}
	if (*status < 200 || *status > 299) {
		snprintf(err, errlen, "HTTP %ld", *status);
		return -1;
	}
	return 0;
}

/* Sends this URL's next due delivery: 1 sent (or tried), 0 none due. */
static int deliver_one(struct sender *s, sqlite3 *db)
{
	const struct xenrt_config *cfg = s->ws->cfg;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, event, payload, attempts FROM webhook_deliveries "
			       "WHERE status = 'pending' AND url = ?1 AND next_at <= ?2 "
			       "ORDER BY next_at, id LIMIT 1",
			       -1, &st, NULL) != SQLITE_OK)
		return 0;
	sqlite3_bind_text(st, 1, s->url, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, db_now());
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return 0;
	}
	long long id = sqlite3_column_int64(st, 0);
	char event[32];
	snprintf(event, sizeof event, "%s", (const char *)sqlite3_column_text(st, 1));
	json_t *doc = json_loads((const char *)sqlite3_column_text(st, 2), 0, NULL);
	int attempts = sqlite3_column_int(st, 3) + 1;
	sqlite3_finalize(st);
	if (!doc)
		doc = json_object();
	json_object_set_new(doc, "event", json_string(event));
	json_object_set_new(doc, "delivery", json_integer(id));
	json_object_set_new(doc, "at", json_real(db_now()));
	char *body = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	char err[256] = "out of memory";
	long status = 0;
	int ok = body && post(s->ws, s->url, id, event, body, &status, err, sizeof err) == 0;
	free(body);
	if (!ok && stopping(s->ws))
		return 1; /* abandoned, not failed: tried again after the restart */
	/* Back-off: webhook_retry_ms, doubled after every failed attempt. */
	double backoff = cfg->webhook_retry_ms / 1000.0 *
			 (double)(1u << (attempts < 20 ? attempts - 1 : 19));
	const char *next = ok                                      ? "delivered"
			   : attempts >= cfg->webhook_max_attempts ? "failed"
								   : "pending";
	if (sqlite3_prepare_v2(
		    db,
		    "UPDATE webhook_deliveries SET status = ?2, attempts = ?3, "
		    "http_status = ?4, last_error = ?5, next_at = ?6, "
		    "delivered_at = CASE WHEN ?2 = 'delivered' THEN ?7 END WHERE id = ?1",
		    -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, id);
		sqlite3_bind_text(st, 2, next, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 3, attempts);
		if (status)
			sqlite3_bind_int64(st, 4, status);
		if (!ok)
			sqlite3_bind_text(st, 5, err, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 6, db_now() + backoff);
		sqlite3_bind_double(st, 7, db_now());
		if (sqlite3_step(st) != SQLITE_DONE)
			fprintf(stderr, "xenrt webhook: recording delivery %lld: %s\n", id,
				sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	return 1;
}

static void *sender_main(void *arg)
{
	struct sender *s = arg;
	struct webhook_sender *ws = s->ws;
	sqlite3 *db = NULL;
	char err[256];
	while (!stopping(ws) && !db) {
		if (db_open(ws->cfg->db_path, &db, err, sizeof err) != SQLITE_OK) {
			fprintf(stderr, "xenrt webhook: %s\n", err);
			db = NULL;
			struct timespec ts = { 1, 0 };
			nanosleep(&ts, NULL);
		}
	}
	while (!stopping(ws)) {
		pthread_mutex_lock(&ws->mu);
		unsigned long seen = ws->kicks;
		pthread_mutex_unlock(&ws->mu);
		if (deliver_one(s, db))
			continue;
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += POLL_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L)
			until.tv_sec++, until.tv_nsec -= 1000000000L;
		pthread_mutex_lock(&ws->mu);
		while (!ws->stop && ws->kicks == seen &&
		       pthread_cond_timedwait(&ws->cv, &ws->mu, &until) == 0)
			;
		pthread_mutex_unlock(&ws->mu);
	}
	db_close(db);
	return NULL;
}

struct webhook_sender *webhook_start(const struct xenrt_config *cfg, char *err, size_t errlen)
{
	struct webhook_sender *ws = calloc(1, sizeof *ws);
	if (!ws) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	ws->cfg = cfg;
	pthread_mutex_init(&ws->mu, NULL);
	pthread_cond_init(&ws->cv, NULL);
	/* One sender per distinct URL. */
	for (size_t i = 0; i < cfg->nwebhooks; i++) {
		bool dup = false;
		for (size_t j = 0; j < ws->n; j++)
			dup |= !strcmp(ws->senders[j].url, cfg->webhooks[i].url);
		if (dup)
			continue;
		struct sender *s = &ws->senders[ws->n];
		s->ws = ws;
		s->url = cfg->webhooks[i].url;
		if (pthread_create(&s->thread, NULL, sender_main, s)) {
			snprintf(err, errlen, "cannot start a webhook thread");
			webhook_stop(ws);
			return NULL;
		}
		s->started = true;
		ws->n++;
	}
	return ws;
}

void webhook_kick(struct webhook_sender *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->mu);
	ws->kicks++;
	pthread_cond_broadcast(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
}

void webhook_stop(struct webhook_sender *ws)
{
	if (!ws)
		return;
	pthread_mutex_lock(&ws->mu);
	__atomic_store_n(&ws->stop, 1, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&ws->cv);
	pthread_mutex_unlock(&ws->mu);
	for (size_t i = 0; i < ws->n; i++)
		if (ws->senders[i].started)
			pthread_join(ws->senders[i].thread, NULL);
	pthread_mutex_destroy(&ws->mu);
	pthread_cond_destroy(&ws->cv);
	free(ws);
}
