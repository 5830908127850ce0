/* db.h: the daemon's SQLite database.
 *
 * db_open() is the only way a connection is made, so every connection of the
 * daemon (HTTP threads, executor, CLI) gets the same settings: WAL (readers
 * never block the executor's writes), foreign keys on, a busy timeout, and
 * the schema migrated to the version this binary knows.  A database written
 * by a newer binary is refused rather than misread.  SQLite connections are
 * not shared between threads: each thread opens its own.
 */
#ifndef XENRT_DB_H
#define XENRT_DB_H

#include <stddef.h>
#include <sqlite3.h>

#include "config.h"

/* Opens or creates the file, configures it, applies pending migrations.
 * Returns SQLITE_OK, or an SQLite error code with a message in err (*out is
 * then NULL). */
int db_open(const char *path, sqlite3 **out, char *err, size_t errlen);

/* Closes a connection from db_open (NULL is fine). */
void db_close(sqlite3 *db);

/* The schema version this binary's embedded migrations reach. */
int db_schema_version(void);

/* Makes the hosts table match the declared pool: inserts new hosts (idle),
 * updates the driver/CPU/memory/flags of known ones, takes hosts no longer
 * declared offline and brings re-declared offline hosts back to idle, each
 * change recorded in host_events.  One transaction.  Returns SQLITE_OK or an
 * error code with a message. */
int db_sync_hosts(sqlite3 *db, const struct xenrt_config *cfg, char *err, size_t errlen);

/* Wall-clock time as Unix seconds (the schema's REAL timestamps). */
double db_now(void);

/* Runs `sql` (no parameters) and reports failures with the message.
 * For BEGIN/COMMIT/ROLLBACK and fixed statements. */
int db_exec(sqlite3 *db, const char *sql, char *err, size_t errlen);

#endif
