/* auth.h: API tokens.
 *
 * A token is 32 random bytes shown once as 64 hex characters; the database
 * keeps only its SHA-256, so a copied database grants nothing.  Tokens are
 * created, listed and revoked on the local database (`xenrt token`), never
 * over the API: whoever can write the database file already owns the farm.
 */
#ifndef XENRT_AUTH_H
#define XENRT_AUTH_H

#include <stddef.h>
#include <sqlite3.h>

#define AUTH_TOKEN_HEX 64

/* Creates a token called `name` (1..63 characters of [A-Za-z0-9_.@-]) and
 * writes its 64 hex characters plus NUL to token_out.  Fails if the name
 * exists (revoked names stay taken, so audit history stays unambiguous).
 * Returns 0 or -1 with a message. */
int auth_token_create(sqlite3 *db, const char *name, char token_out[AUTH_TOKEN_HEX + 1], char *err,
		      size_t errlen);

/* 1 if `token` is a live token (its name copied to name_out and, when
 * admin is not NULL, whether it is an admin token to *admin), 0 if not, -1
 * on database error (message in err). */
int auth_token_verify(sqlite3 *db, const char *token, char *name_out, size_t namelen, int *admin,
		      char *err, size_t errlen);

/* Grants (admin = 1) or withdraws (0) admin rights of the live token `name`:
 * an admin token may cancel any flight, others only their own.  0, or -1
 * with a message. */
int auth_token_set_admin(sqlite3 *db, const char *name, int admin, char *err, size_t errlen);

/* Revokes the live token `name`.  0, or -1 with a message (unknown name,
 * already revoked, database error). */
int auth_token_revoke(sqlite3 *db, const char *name, char *err, size_t errlen);

/* Calls fn for every token, oldest first; revoked_at is 0 for live ones. */
int auth_token_list(sqlite3 *db,
		    void (*fn)(void *arg, const char *name, double created_at, double revoked_at,
			       int admin),
		    void *arg, char *err, size_t errlen);

#endif
