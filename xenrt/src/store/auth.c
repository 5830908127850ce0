/* auth.c: API tokens: creation from the kernel's CSPRNG, SHA-256 at rest. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/evp.h>

#include "auth.h"
#include "db.h"

static void hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int sha256_hex(const char *s, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	if (!EVP_Digest(s, strlen(s), md, &len, EVP_sha256(), NULL) || len != sizeof md)
		return -1;
	hex(md, sizeof md, out);
	return 0;
}

static bool valid_token_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.@-",
			    s[i]))
			return false;
	return true;
}

int auth_token_create(sqlite3 *db, const char *name, char token_out[AUTH_TOKEN_HEX + 1], char *err,
		      size_t errlen)
{
	if (!valid_token_name(name)) {
		snprintf(err, errlen, "token name must be 1..63 characters of [A-Za-z0-9_.@-]");
		return -1;
	}
	unsigned char raw[32];
	size_t got = 0;
	while (got < sizeof raw) {
		ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
		if (n < 0) {
			snprintf(err, errlen, "getrandom: %m");
			return -1;
		}
		got += (size_t)n;
	}
	char token[AUTH_TOKEN_HEX + 1], digest[65];
	hex(raw, sizeof raw, token);
	if (sha256_hex(token, digest) < 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return -1;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "INSERT INTO api_tokens(name, token_sha256, created_at) "
				    "VALUES (?1, ?2, ?3)",
				    -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, digest, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 3, db_now());
		rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : sqlite3_extended_errcode(db);
	}
	if (rc == SQLITE_CONSTRAINT_UNIQUE)
		snprintf(err, errlen, "a token named '%s' already exists", name);
	else if (rc != SQLITE_OK)
		snprintf(err, errlen, "storing token: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	if (rc != SQLITE_OK)
		return -1;
	memcpy(token_out, token, sizeof token);
	return 0;
}

int auth_token_verify(sqlite3 *db, const char *token, char *name_out, size_t namelen, int *admin,
		      char *err, size_t errlen)
{
	/* Anything that is not 64 lowercase hex digits cannot be ours; checking
	 * first keeps arbitrary client bytes away from the hash and the query. */
	if (strlen(token) != AUTH_TOKEN_HEX || strspn(token, "0123456789abcdef") != AUTH_TOKEN_HEX)
		return 0;
	char digest[65];
	if (sha256_hex(token, digest) < 0) {
		snprintf(err, errlen, "SHA-256 failed");
		return -1;
	}
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT name, admin FROM api_tokens WHERE token_sha256 = ?1 "
				    "AND revoked_at IS NULL",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "checking token: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	int result = 0;
	if (rc == SQLITE_ROW) {
		snprintf(name_out, namelen, "%s", (const char *)sqlite3_column_text(st, 0));
		if (admin)
			*admin = sqlite3_column_int(st, 1) != 0;
		result = 1;
	} else if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "checking token: %s", sqlite3_errmsg(db));
		result = -1;
	}
	sqlite3_finalize(st);
	return result;
}

int auth_token_revoke(sqlite3 *db, const char *name, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "UPDATE api_tokens SET revoked_at = ?2 "
				    "WHERE name = ?1 AND revoked_at IS NULL",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "revoking token: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 2, db_now());
	rc = sqlite3_step(st);
	int changed = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "revoking token: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (changed == 0) {
		snprintf(err, errlen, "no live token named '%s'", name);
		return -1;
	}
	return 0;
}

int auth_token_set_admin(sqlite3 *db, const char *name, int admin, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "UPDATE api_tokens SET admin = ?2 "
				    "WHERE name = ?1 AND revoked_at IS NULL",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "changing token: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, admin != 0);
	rc = sqlite3_step(st);
	int changed = sqlite3_changes(db);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "changing token: %s", sqlite3_errmsg(db));
		return -1;
	}
	if (changed == 0) {
		snprintf(err, errlen, "no live token named '%s'", name);
		return -1;
	}
	return 0;
}

int auth_token_list(sqlite3 *db,
		    void (*fn)(void *arg, const char *name, double created_at, double revoked_at,
			       int admin),
		    void *arg, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT name, created_at, coalesce(revoked_at, 0), admin "
				    "FROM api_tokens ORDER BY id",
				    -1, &st, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "listing tokens: %s", sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(arg, (const char *)sqlite3_column_text(st, 0), sqlite3_column_double(st, 1),
		   sqlite3_column_double(st, 2), sqlite3_column_int(st, 3));
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "listing tokens: %s", sqlite3_errmsg(db));
		return -1;
	}
	return 0;
}
