/*
 * What the SQLite store's files share: sqlite.c (connections, routing,
 * transactions, the port) and sqlite_schema.c (creating, checking and
 * upgrading a file's layout). Private to src/store.
 */
#ifndef ICMS_SRC_STORE_SQLITE_INTERNAL_H
#define ICMS_SRC_STORE_SQLITE_INTERNAL_H

#include <sqlite3.h>

#include "icms/sys/store.h"

#define WHO "sqlite store"

/* PRAGMA application_id of an icms store ("ICMS") and the layout version in user_version. */
#define ICMS_APPLICATION_ID 0x49434D53
/*
 * Layout 1 had three triggers per append-only prefix on kv; layout 2 kept the
 * prefixes in a table and three triggers on kv that covered them all, run for
 * every row written; layout 3 moves the append-only rows to kv_log and its
 * triggers with them. Files of layouts 1 and 2 are brought to 3 when opened.
 */
#define ICMS_LAYOUT_VERSION 3

/* SQLite's answer rc as our code, with the message recorded (what: what was being done). */
int icms__sqlite_error(sqlite3 *db, int rc, const char *what);
/* Run sql (no result rows); 0 or our code. */
int icms__sqlite_exec(sqlite3 *db, const char *sql, const char *what);
/* The first column of sql's first row, as an integer. */
int icms__sqlite_query_int(sqlite3 *db, const char *sql, sqlite3_int64 *out);

/*
 * Put the file in WAL mode and make its layout whole for options o (create,
 * check, upgrade, add prefixes), in one write transaction when anything must
 * change (sqlite_schema.c).
 */
int icms__sqlite_ensure_schema(sqlite3 *db, const icms_sqlite_options *o, unsigned int timeout_ms);

#endif
