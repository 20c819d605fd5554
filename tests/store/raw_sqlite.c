#include "raw_sqlite.h"

#include "support/test_support.h"

#include <sqlite3.h>
#include <stdio.h>

int raw_exec(const char *path, const char *sql, char *err_out, size_t err_len)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 2000);
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);
    if (err_out)
        snprintf(err_out, err_len, "%s", err ? err : "");
    sqlite3_free(err);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return rc;
}

long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return v;
}
