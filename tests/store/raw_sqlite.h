/*
 * Reaching a store's SQLite file directly, as someone with the sqlite3 shell
 * would: for tests that build old layouts by hand or check what the file holds.
 */
#ifndef ICMS_TEST_RAW_SQLITE_H
#define ICMS_TEST_RAW_SQLITE_H

#include <stddef.h>

/* Run sql on the file; SQLite's result code, its message copied to err_out when given. */
int raw_exec(const char *path, const char *sql, char *err_out, size_t err_len);

/* The first column of the first row sql answers (a row is required). */
long long raw_int(const char *path, const char *sql);

/*
 * The three range triggers of a layout 2 file protecting the prefixes "a\0"
 * and "ledger/" (the icms_append_only rows the tests insert): string literals
 * to append to a layout 2 file's SQL.
 */
#define LAYOUT_2_TRIGGERS                                                                          \
    "CREATE TRIGGER icms_append_only_update BEFORE UPDATE ON kv WHEN"                              \
    " ((old.k >= X'6100' AND old.k < X'6101') OR (old.k >= X'6C65646765722F' AND"                  \
    " old.k < X'6C656467657230')) OR ((new.k >= X'6100' AND new.k < X'6101') OR"                   \
    " (new.k >= X'6C65646765722F' AND new.k < X'6C656467657230'))"                                 \
    " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"                                              \
    "CREATE TRIGGER icms_append_only_delete BEFORE DELETE ON kv WHEN"                              \
    " ((old.k >= X'6100' AND old.k < X'6101') OR (old.k >= X'6C65646765722F' AND"                  \
    " old.k < X'6C656467657230')) BEGIN SELECT RAISE(ABORT, 'append-only'); END;"                  \
    "CREATE TRIGGER icms_append_only_insert BEFORE INSERT ON kv WHEN"                              \
    " ((new.k >= X'6100' AND new.k < X'6101') OR (new.k >= X'6C65646765722F' AND"                  \
    " new.k < X'6C656467657230')) AND EXISTS (SELECT 1 FROM kv WHERE k = new.k)"                   \
    " BEGIN SELECT RAISE(ABORT, 'append-only'); END;"

#endif
