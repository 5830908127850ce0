/* json_util.h: SQLite rows to JSON.
 *
 * Rows become objects keyed by column name, so the API's field names are the
 * schema's (documented once, in farm-db/migrations).  Text from the database
 * is not trusted to be UTF-8 (step names come from a test's console output):
 * invalid bytes become U+FFFD instead of breaking the whole response.
 */
#ifndef XENRT_JSON_UTIL_H
#define XENRT_JSON_UTIL_H

#include <jansson.h>
#include <sqlite3.h>

/* A JSON string for arbitrary bytes (never NULL unless out of memory). */
json_t *json_text(const char *s, size_t len);

/* Column i of the current row as JSON (null, integer, real or string). */
json_t *json_column(sqlite3_stmt *st, int i);

/* The current row as an object of all its columns. */
json_t *json_row(sqlite3_stmt *st);

/* The "id" of every object in `objects` as compact JSON text ("[3,2,1]"),
 * bound as one parameter of "IN (SELECT value FROM json_each(?))" so a page
 * of rows costs one query, not one per row.  malloc'd; NULL when out of
 * memory. */
char *json_ids(json_t *objects);

#endif
