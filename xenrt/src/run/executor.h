/* executor.h: the daemon's back end, which runs flights.
 *
 * The executor owns everything after submission: build jobs, host
 * reservation, PXE provisioning of nested hosts, running suite steps with
 * timeouts, recording steps/metrics/logs as they happen, retries of broken
 * jobs, cancellation, and crash recovery of what a dead daemon left behind.
 * It runs in its own worker threads, each with its own SQLite connection.
 */
#ifndef XENRT_EXECUTOR_H
#define XENRT_EXECUTOR_H

#include <stddef.h>

struct xenrt_config;
struct executor;

/* Opens the executor's DB connections, performs crash recovery (jobs left
 * 'running' are marked broken and requeued while attempt < max_attempts,
 * hosts left reserved/provisioning/running are reset and their QEMU
 * processes killed through their pid files), then starts the workers.
 * Returns NULL with a message in err on failure.  cfg must outlive the
 * executor. */
struct executor *executor_start(const struct xenrt_config *cfg, char *err, size_t errlen);

/* Stops the workers, kills running hosts, marks interrupted jobs so that the
 * next start retries them, and frees everything. */
void executor_stop(struct executor *ex);

/* New work was submitted or a cancel was requested: look at the queue now. */
void executor_kick(struct executor *ex);

#endif
