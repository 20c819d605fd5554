/* The SQLite store's file layout: creating, checking and upgrading it (docs/storage.md). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "sqlite_internal.h"
#include "store_internal.h"

/* ---- schema ---- */

static void hex(char *out, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0xf];
    }
    out[2 * len] = '\0';
}

/* ---- append-only ranges ---- */

/* A growable SQL text; a failed append marks it failed (one check at the end). */
typedef struct sql_text {
    char *data;
    size_t len, cap;
    bool failed;
} sql_text;

static void sql_add(sql_text *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *data = icms__realloc(t->data, cap);
        if (!data) {
            t->failed = true;
            return;
        }
        t->data = data;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void sql_adds(sql_text *t, const char *s)
{
    sql_add(t, s, strlen(s));
}

static void sql_add_blob(sql_text *t, const uint8_t *bytes, size_t len)
{
    char pair[3];
    sql_adds(t, "X'");
    for (size_t i = 0; i < len; i++) {
        hex(pair, bytes + i, 1);
        sql_add(t, pair, 2);
    }
    sql_adds(t, "'");
}

/*
 * "col starts with one of the prefixes", as range comparisons: a key starts
 * with p exactly when p <= key < the least key above every extension of p.
 * A range compares in place; substr() would build a value per prefix per row.
 */
static void sql_add_ranges(sql_text *t, const char *col, sqlite3_stmt *prefixes)
{
    bool first = true;
    sql_adds(t, "(");
    while (sqlite3_step(prefixes) == SQLITE_ROW) {
        const uint8_t *p = sqlite3_column_blob(prefixes, 0);
        size_t len = (size_t)sqlite3_column_bytes(prefixes, 0);
        size_t end_len = len;
        while (end_len > 0 && p[end_len - 1] == 0xff)
            end_len--;
        sql_adds(t, first ? "(" : " OR (");
        first = false;
        sql_adds(t, col);
        sql_adds(t, " >= ");
        sql_add_blob(t, p, len);
        if (end_len > 0) { /* else nothing is above: every key from p on */
            uint8_t end[ICMS_STORE_KEY_MAX];
            memcpy(end, p, end_len);
            end[end_len - 1]++;
            sql_adds(t, " AND ");
            sql_adds(t, col);
            sql_adds(t, " < ");
            sql_add_blob(t, end, end_len);
        }
        sql_adds(t, ")");
    }
    if (first)
        sql_adds(t, "0");
    sql_adds(t, ")");
    sqlite3_reset(prefixes);
}

static int prepare_prefixes(sqlite3 *db, sqlite3_stmt **out)
{
    int rc = sqlite3_prepare_v2(db, "SELECT prefix FROM icms_append_only ORDER BY prefix", -1, out,
                                NULL);
    return rc == SQLITE_OK ? ICMS_OK
                           : icms__sqlite_error(db, rc, "reading the append-only prefixes");
}

static int exec_text(sqlite3 *db, sql_text *t, const char *what)
{
    int rc = t->failed ? icms__error(ICMS_ENOMEM, WHO ": %s: out of memory", what)
                       : icms__sqlite_exec(db, t->data, what);
    icms__free(t->data);
    t->data = NULL;
    return rc;
}

/*
 * Every key under a listed prefix belongs in kv_log: move the rows there
 * (a file of an older layout, or a prefix that is new). A key that is in both
 * tables already (only SQL behind the store's back makes one) fails the move
 * and with it the whole open.
 */
static int move_log_rows(sqlite3 *db)
{
    sqlite3_stmt *prefixes;
    int rc = prepare_prefixes(db, &prefixes);
    if (rc != 0)
        return rc;
    sql_text t = {0};
    sql_adds(&t, "INSERT INTO kv_log(k, v) SELECT k, v FROM kv WHERE ");
    sql_add_ranges(&t, "k", prefixes);
    sql_adds(&t, "; DELETE FROM kv WHERE ");
    sql_add_ranges(&t, "k", prefixes);
    sqlite3_finalize(prefixes);
    return exec_text(db, &t, "moving append-only rows to kv_log");
}

/*
 * The triggers of layout 3. On kv_log: no UPDATE, no DELETE, and no INSERT of
 * a key that exists (INSERT OR REPLACE deletes the old row without firing
 * delete triggers, recursive_triggers being off by default) or that lies
 * outside the ranges (such a row would never be read; refusing it also puts
 * the ranges into the schema, so that changing them moves schema_version).
 * On icms_append_only: no write at all, so that the prefix set changes only
 * with the schema, which every connection watches (ensure_schema drops these
 * triggers, adds prefixes and makes them again, in one transaction). kv has no
 * trigger: its rows are free, and a write to it runs no trigger program.
 */
static int create_triggers(sqlite3 *db)
{
    sqlite3_stmt *prefixes;
    int rc = prepare_prefixes(db, &prefixes);
    if (rc != 0)
        return rc;
    sql_text t = {0};
    sql_adds(&t, "CREATE TRIGGER icms_append_only_update BEFORE UPDATE ON kv_log"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
                 "CREATE TRIGGER icms_append_only_delete BEFORE DELETE ON kv_log"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
                 "CREATE TRIGGER icms_append_only_insert BEFORE INSERT ON kv_log WHEN NOT ");
    sql_add_ranges(&t, "new.k", prefixes);
    sql_adds(&t, " OR EXISTS (SELECT 1 FROM kv_log WHERE k = new.k)"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
                 "CREATE TRIGGER icms_prefixes_insert BEFORE INSERT ON icms_append_only"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
                 "CREATE TRIGGER icms_prefixes_update BEFORE UPDATE ON icms_append_only"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"
                 "CREATE TRIGGER icms_prefixes_delete BEFORE DELETE ON icms_append_only"
                 " BEGIN SELECT RAISE(ABORT, 'append-only'); END;");
    sqlite3_finalize(prefixes);
    return exec_text(db, &t, "creating append-only triggers");
}

/*
 * kv refuses keys under the append-only prefixes with a CHECK constraint, an
 * expression SQLite evaluates in place (no trigger program, so a write to kv
 * stays cheap). Such a row would never be read, since those keys are read from
 * kv_log. It matters most for a process of an older build (layout 2 kept every
 * row in kv) that still has the file open when this build upgrades it: its
 * next audit, ledger or outpoint write into kv fails with a constraint error
 * instead of landing where nothing reads it. SQLite cannot change a table's
 * CHECK in place, so kv is rebuilt, its rows copied once, whenever its
 * constraint is not the one the prefixes call for (a new file, an upgrade, a
 * new prefix).
 */
static int kv_check_text(sqlite3 *db, sql_text *t)
{
    sqlite3_stmt *prefixes;
    int rc = prepare_prefixes(db, &prefixes);
    if (rc != 0)
        return rc;
    sql_adds(t, "CONSTRAINT icms_not_append_only CHECK (NOT ");
    sql_add_ranges(t, "k", prefixes);
    sql_adds(t, ")");
    sqlite3_finalize(prefixes);
    return t->failed ? icms__error(ICMS_ENOMEM, WHO ": out of memory") : ICMS_OK;
}

/* *ok: kv's definition holds the constraint the recorded prefixes call for. */
static int kv_constrained(sqlite3 *db, bool *ok)
{
    *ok = false;
    sql_text check = {0};
    int code = kv_check_text(db, &check);
    sqlite3_stmt *st = NULL;
    int rc = code == 0 ? sqlite3_prepare_v2(db,
                                            "SELECT instr(sql, ?1) > 0 FROM sqlite_schema "
                                            "WHERE type = 'table' AND name = 'kv'",
                                            -1, &st, NULL)
                       : SQLITE_OK;
    if (code == 0 && rc != SQLITE_OK)
        code = icms__sqlite_error(db, rc, "reading kv's definition");
    if (code == 0) {
        sqlite3_bind_text(st, 1, check.data, -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            *ok = sqlite3_column_int(st, 0) == 1;
        else if (rc != SQLITE_DONE)
            code = icms__sqlite_error(db, rc, "reading kv's definition");
    }
    sqlite3_finalize(st);
    icms__free(check.data);
    return code;
}

static int constrain_kv(sqlite3 *db)
{
    bool ok;
    int code = kv_constrained(db, &ok);
    if (code != 0 || ok)
        return code;
    sql_text t = {0};
    sql_adds(&t, "CREATE TABLE icms_kv_rebuilt(k BLOB PRIMARY KEY, v BLOB NOT NULL, ");
    if ((code = kv_check_text(db, &t)) != 0) {
        icms__free(t.data);
        return code;
    }
    sql_adds(&t, ") WITHOUT ROWID;"
                 "INSERT INTO icms_kv_rebuilt(k, v) SELECT k, v FROM kv;"
                 "DROP TABLE kv;"
                 "ALTER TABLE icms_kv_rebuilt RENAME TO kv;");
    return exec_text(db, &t, "constraining kv");
}

/* Every trigger of layouts 2 and 3 (kv's of layout 2 share their names with kv_log's). */
static const char drop_triggers_sql[] = "DROP TRIGGER IF EXISTS icms_append_only_update;"
                                        "DROP TRIGGER IF EXISTS icms_append_only_delete;"
                                        "DROP TRIGGER IF EXISTS icms_append_only_insert;"
                                        "DROP TRIGGER IF EXISTS icms_prefixes_insert;"
                                        "DROP TRIGGER IF EXISTS icms_prefixes_update;"
                                        "DROP TRIGGER IF EXISTS icms_prefixes_delete;";

/* Record the handle's prefixes beside those already protected (never fewer). */
static int add_append_only_prefixes(sqlite3 *db, const icms_sqlite_options *o)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO icms_append_only(prefix) VALUES(?1)", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return icms__sqlite_error(db, rc, "recording the append-only prefixes");
    int code = ICMS_OK;
    for (size_t i = 0; o && i < o->append_only_count && code == ICMS_OK; i++) {
        sqlite3_bind_blob(st, 1, o->append_only_prefixes[i], (int)o->append_only_prefix_lens[i],
                          SQLITE_STATIC);
        rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            code = icms__sqlite_error(db, rc, "recording the append-only prefixes");
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    return code;
}

static int unhex_name(const char *h, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = h[2 * i + (size_t)j];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
            if (d < 0)
                return -1;
            v = v * 16 + d;
        }
        out[i] = (uint8_t)v;
    }
    return 0;
}

/*
 * Layout 1 named its triggers icms_append_only_<prefix in hex>_<kind>: keep
 * each such prefix protected under layout 2, then drop those triggers.
 */
static int upgrade_layout_1(sqlite3 *db)
{
    sqlite3_stmt *names, *insert;
    int rc = sqlite3_prepare_v2(db,
                                "SELECT name FROM sqlite_schema WHERE type = 'trigger' AND "
                                "name GLOB 'icms_append_only_*_replace'",
                                -1, &names, NULL);
    if (rc != SQLITE_OK)
        return icms__sqlite_error(db, rc, "reading layout 1 triggers");
    rc = sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO icms_append_only(prefix) VALUES(?1)", -1,
                            &insert, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(names);
        return icms__sqlite_error(db, rc, "upgrading layout 1");
    }
    sql_text drops = {0};
    int code = ICMS_OK;
    while (code == ICMS_OK && (rc = sqlite3_step(names)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(names, 0);
        size_t hex_len = strlen(name) - strlen("icms_append_only_") - strlen("_replace");
        uint8_t prefix[ICMS_STORE_KEY_MAX];
        if (hex_len == 0 || hex_len % 2 || hex_len / 2 > sizeof prefix ||
            unhex_name(name + strlen("icms_append_only_"), hex_len / 2, prefix) != 0) {
            code = icms__error(ICMS_ECORRUPT, WHO ": unexpected trigger %s", name);
            break;
        }
        sqlite3_bind_blob(insert, 1, prefix, (int)(hex_len / 2), SQLITE_TRANSIENT);
        if (sqlite3_step(insert) != SQLITE_DONE)
            code = icms__sqlite_error(db, sqlite3_errcode(db), "upgrading layout 1");
        sqlite3_reset(insert);
        static const char *const kinds[] = {"update", "delete", "replace"};
        for (size_t k = 0; k < 3; k++) {
            sql_adds(&drops, "DROP TRIGGER IF EXISTS ");
            sql_add(&drops, name, strlen(name) - strlen("replace"));
            sql_adds(&drops, kinds[k]);
            sql_adds(&drops, ";");
        }
    }
    if (code == ICMS_OK && rc != SQLITE_DONE)
        code = icms__sqlite_error(db, rc, "reading layout 1 triggers");
    sqlite3_finalize(names);
    sqlite3_finalize(insert);
    if (code == ICMS_OK && drops.failed)
        code = icms__error(ICMS_ENOMEM, "out of memory");
    if (code == ICMS_OK && drops.data)
        code = icms__sqlite_exec(db, drops.data, "dropping layout 1 triggers");
    icms__free(drops.data);
    return code;
}

/*
 * True when the file already has everything this handle asks for, checked
 * without the write lock, so that opening an existing store never waits
 * behind a long writer. Anything missing or odd goes to the locked path,
 * which checks again and answers with the precise error.
 */
static int schema_ready(sqlite3 *db, const icms_sqlite_options *o, bool *ready)
{
    *ready = false;
    sqlite3_int64 app_id = 0, layout = 0, n = 0;
    int code = icms__sqlite_query_int(db, "PRAGMA application_id", &app_id);
    if (code == 0)
        code = icms__sqlite_query_int(db, "PRAGMA user_version", &layout);
    if (code == 0)
        code = icms__sqlite_query_int(
            db,
            "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name IN "
            "('kv', 'kv_log', 'icms_append_only')",
            &n);
    if (code != 0 || app_id != ICMS_APPLICATION_ID || layout != ICMS_LAYOUT_VERSION || n != 3)
        return code;
    /* The six triggers, each on its table (a layout 2 name left on kv does not count). */
    code = icms__sqlite_query_int(
        db,
        "SELECT count(*) = 6 FROM sqlite_schema WHERE type = 'trigger' AND "
        "((tbl_name = 'kv_log' AND name IN ('icms_append_only_update', "
        "'icms_append_only_delete', 'icms_append_only_insert')) OR "
        "(tbl_name = 'icms_append_only' AND name IN ('icms_prefixes_insert', "
        "'icms_prefixes_update', 'icms_prefixes_delete')))",
        &n);
    if (code != 0 || n != 1)
        return code;
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM icms_append_only WHERE prefix = ?1", -1,
                                &st, NULL);
    if (rc != SQLITE_OK)
        return icms__sqlite_error(db, rc, "reading the append-only prefixes");
    for (size_t i = 0; o && i < o->append_only_count; i++) {
        sqlite3_bind_blob(st, 1, o->append_only_prefixes[i], (int)o->append_only_prefix_lens[i],
                          SQLITE_STATIC);
        rc = sqlite3_step(st);
        bool listed = rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == 1;
        sqlite3_reset(st);
        if (rc != SQLITE_ROW) {
            sqlite3_finalize(st);
            return icms__sqlite_error(db, rc, "reading the append-only prefixes");
        }
        if (!listed) {
            sqlite3_finalize(st);
            return ICMS_OK;
        }
    }
    sqlite3_finalize(st);
    bool constrained;
    if ((code = kv_constrained(db, &constrained)) != 0 || !constrained)
        return code;
    *ready = true;
    return ICMS_OK;
}

/*
 * Put the file in WAL mode. Asking again on a WAL file is free. Switching a
 * new file needs an exclusive lock and SQLite does not run the busy handler
 * for it, so processes creating one file together retry here, for as long as
 * the busy timeout allows.
 */
static int set_wal(sqlite3 *db, unsigned int timeout_ms)
{
    unsigned int waited = 0;
    for (;;) {
        sqlite3_stmt *st;
        int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &st, NULL);
        if (rc != SQLITE_OK)
            return icms__sqlite_error(db, rc, "setting WAL mode");
        rc = sqlite3_step(st);
        const unsigned char *mode = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
        bool wal = mode && sqlite3_stricmp((const char *)mode, "wal") == 0;
        int code = rc == SQLITE_ROW || rc == SQLITE_DONE
                       ? ICMS_OK
                       : icms__sqlite_error(db, rc, "setting WAL mode");
        sqlite3_finalize(st);
        if (code == ICMS_EBUSY && waited < timeout_ms) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            waited += 10;
            continue;
        }
        if (code != 0)
            return code;
        if (!wal)
            return icms__error(ICMS_ESTORAGE, WHO ": %s cannot use WAL mode",
                               sqlite3_db_filename(db, "main"));
        return ICMS_OK;
    }
}

/* Create or check the layout, in one write transaction so that racing openers agree. */
int icms__sqlite_ensure_schema(sqlite3 *db, const icms_sqlite_options *o, unsigned int timeout_ms)
{
    int code = set_wal(db, timeout_ms);
    if (code != 0)
        return code;
    bool ready;
    if ((code = schema_ready(db, o, &ready)) != 0 || ready)
        return code;

    if ((code = icms__sqlite_exec(db, "BEGIN IMMEDIATE", "creating the schema")) != 0)
        return code;
    sqlite3_int64 app_id = 0, layout = 0;
    if ((code = icms__sqlite_query_int(db, "PRAGMA application_id", &app_id)) != 0)
        goto fail;
    if ((code = icms__sqlite_query_int(db, "PRAGMA user_version", &layout)) != 0)
        goto fail;
    if (app_id != 0 && app_id != ICMS_APPLICATION_ID) {
        code = icms__error(ICMS_ESTORAGE, WHO ": the file is another application's database");
        goto fail;
    }
    if (layout > ICMS_LAYOUT_VERSION) {
        code = icms__error(ICMS_EVERSION, WHO ": layout version %lld is newer than this build's %d",
                           (long long)layout, ICMS_LAYOUT_VERSION);
        goto fail;
    }
    if (app_id == 0) {
        /* A new file (or an empty one another tool created). */
        sqlite3_int64 tables = 0;
        if ((code = icms__sqlite_query_int(
                 db,
                 "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name "
                 "NOT IN ('kv', 'kv_log', 'icms_append_only')",
                 &tables)) != 0)
            goto fail;
        if (tables != 0) {
            code = icms__error(ICMS_ESTORAGE,
                               WHO ": the file holds tables that are not an icms store");
            goto fail;
        }
        char sql[160];
        snprintf(sql, sizeof sql, "PRAGMA application_id=%d; PRAGMA user_version=%d",
                 ICMS_APPLICATION_ID, ICMS_LAYOUT_VERSION);
        if ((code = icms__sqlite_exec(db, sql, "marking the file")) != 0)
            goto fail;
    }
    /*
     * Whatever was there (a new file, layout 1 or 2, a layout 3 file missing a
     * prefix or a trigger), the same steps make it whole: the triggers go, the
     * prefixes are added, their rows move to kv_log, the triggers come back.
     * One transaction, so a failure anywhere leaves the file as it was.
     */
    code =
        icms__sqlite_exec(db,
                          "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) "
                          "WITHOUT ROWID;"
                          "CREATE TABLE IF NOT EXISTS kv_log(k BLOB PRIMARY KEY, v BLOB NOT NULL) "
                          "WITHOUT ROWID;"
                          "CREATE TABLE IF NOT EXISTS icms_append_only(prefix BLOB PRIMARY KEY) "
                          "WITHOUT ROWID",
                          "creating the tables");
    if (code == 0)
        code = icms__sqlite_exec(db, drop_triggers_sql, "dropping append-only triggers");
    if (code == 0 && layout == 1)
        code = upgrade_layout_1(db);
    if (code == 0)
        code = add_append_only_prefixes(db, o);
    if (code == 0)
        code = move_log_rows(db);
    if (code == 0)
        code = constrain_kv(db);
    if (code == 0)
        code = create_triggers(db);
    if (code == 0 && layout != ICMS_LAYOUT_VERSION) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", ICMS_LAYOUT_VERSION);
        code = icms__sqlite_exec(db, sql, "marking the layout");
    }
    if (code != 0)
        goto fail;
    if ((code = icms__sqlite_exec(db, "COMMIT", "creating the schema")) != 0)
        goto fail;
    return ICMS_OK;
fail:
    if (!sqlite3_get_autocommit(db)) {
        /* Keep the first error's message: the rollback must not overwrite it. */
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    }
    return code;
}
