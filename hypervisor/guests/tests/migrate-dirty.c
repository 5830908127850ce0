/*
 * migrate-dirty.c - migrate.c's guest rewriting its pattern as fast as it
 * can, eight pages a beat and no pause between beats: it dirties memory
 * faster than pre-copy can send it, so a migration ends by its round limit
 * and the guest reports the downtime that cost.
 */
#define MIGRATE_DIRTY 1
#include "migrate.c"
