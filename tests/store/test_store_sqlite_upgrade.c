/*
 * The SQLite store's upgrade of a layout 2 file failing half-way
 * (docs/storage.md, "Layout 3"): opening rebuilds kv (its rows copied into a
 * new table with the icms_not_append_only CHECK, the old one dropped, the new
 * one renamed) in the same transaction as the rest of the upgrade. Whatever
 * fails inside it must leave the file exactly as it was (same schema, same
 * rows, still usable by a layout 2 build), and a later open must upgrade it.
 *
 * Two ways to fail it: a VFS shim, registered as SQLite's default so the
 * store opens its files through it, that makes the disk full (writes and
 * truncates SQLITE_FULL, syncs and reads SQLITE_IOERR) from the Nth I/O call
 * on, for N spread over the whole open; and a view on kv, made by hand as
 * someone with the sqlite3 shell could, that makes the rebuild's last step
 * (the rename, after the copy and the drop) fail.
 */
#include "support/test_support.h"

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/sys/store.h"
#include "raw_sqlite.h"
#include "store_kv.h"

static char tmpdir[4096];

static const char *db_path(const char *name)
{
    static char path[4200];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    return path;
}

/* ---- the failing disk ---- */

typedef struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* the default VFS's file, right after this struct */
    bool wal;
} shim_file;

static sqlite3_vfs *real_vfs;
static sqlite3_vfs shim_vfs;

static struct {
    bool armed;       /* count (and maybe fail) I/O calls */
    long calls;       /* I/O calls since armed */
    long fail_from;   /* 0: never; else the disk fails from this call on */
    long failed;      /* calls answered with an error */
    long wal_writes;  /* writes to a -wal file */
    long wal_runs;    /* runs of WAL writes between other I/O calls */
    long first_wal;   /* the call number of the first WAL write */
    long commit_sync; /* the call number of the last WAL sync right after frames: the commit's */
    bool last_was_wal;
} disk;

static int io_fault(int code)
{
    if (!disk.armed)
        return SQLITE_OK;
    disk.calls++;
    disk.last_was_wal = false;
    if (disk.fail_from != 0 && disk.calls >= disk.fail_from) {
        disk.failed++;
        return code;
    }
    return SQLITE_OK;
}

#define REAL(f) (((shim_file *)(f))->real)

static int shim_close(sqlite3_file *f)
{
    int rc = REAL(f)->pMethods->xClose(REAL(f));
    return rc;
}

static int shim_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
    int rc = io_fault(SQLITE_IOERR_READ);
    return rc ? rc : REAL(f)->pMethods->xRead(REAL(f), buf, n, off);
}

static int shim_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
    bool run = disk.last_was_wal;
    int rc = io_fault(SQLITE_FULL);
    if (rc)
        return rc;
    if (disk.armed && ((shim_file *)f)->wal) {
        if (disk.wal_writes++ == 0)
            disk.first_wal = disk.calls;
        disk.wal_runs += !run;
        disk.last_was_wal = true;
    }
    return REAL(f)->pMethods->xWrite(REAL(f), buf, n, off);
}

static int shim_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    int rc = io_fault(SQLITE_FULL);
    return rc ? rc : REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int shim_sync(sqlite3_file *f, int flags)
{
    bool after_frames = disk.last_was_wal;
    int rc = io_fault(SQLITE_IOERR_FSYNC);
    if (rc)
        return rc;
    /* The last sync of the WAL right after frames were written is the commit's. */
    if (disk.armed && after_frames && ((shim_file *)f)->wal)
        disk.commit_sync = disk.calls;
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int shim_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int shim_lock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xLock(REAL(f), level);
}

static int shim_unlock(sqlite3_file *f, int level)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int shim_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int shim_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int shim_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int shim_device(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int shim_shm_map(sqlite3_file *f, int region, int size, int extend, void volatile **out)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), region, size, extend, out);
}

static int shim_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), offset, n, flags);
}

static void shim_shm_barrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}

static int shim_shm_unmap(sqlite3_file *f, int delete_flag)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int shim_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    /* No memory-mapped pages: every page is read through xRead, where it can fail. */
    (void)f;
    (void)off;
    (void)n;
    *out = NULL;
    return SQLITE_OK;
}

static int shim_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    (void)f;
    (void)off;
    (void)p;
    return SQLITE_OK;
}

static const sqlite3_io_methods shim_io = {
    3,
    shim_close,
    shim_read,
    shim_write,
    shim_truncate,
    shim_sync,
    shim_file_size,
    shim_lock,
    shim_unlock,
    shim_check_reserved,
    shim_file_control,
    shim_sector_size,
    shim_device,
    shim_shm_map,
    shim_shm_lock,
    shim_shm_barrier,
    shim_shm_unmap,
    shim_fetch,
    shim_unfetch,
};

static int shim_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags,
                     int *out_flags)
{
    (void)vfs;
    shim_file *f = (shim_file *)file;
    f->real = (sqlite3_file *)(f + 1);
    f->wal = (flags & SQLITE_OPEN_WAL) != 0;
    int rc = real_vfs->xOpen(real_vfs, name, f->real, flags, out_flags);
    f->base.pMethods = f->real->pMethods ? &shim_io : NULL;
    return rc;
}

static int shim_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return real_vfs->xDelete(real_vfs, name, sync_dir);
}

static int shim_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return real_vfs->xAccess(real_vfs, name, flags, out);
}

static int shim_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return real_vfs->xFullPathname(real_vfs, name, n, out);
}

static void shim_install(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    assert_non_null(real_vfs);
    shim_vfs = *real_vfs;
    shim_vfs.zName = "icms-test-full-disk";
    shim_vfs.szOsFile = (int)sizeof(shim_file) + real_vfs->szOsFile;
    shim_vfs.pNext = NULL;
    shim_vfs.xOpen = shim_open;
    shim_vfs.xDelete = shim_delete;
    shim_vfs.xAccess = shim_access;
    shim_vfs.xFullPathname = shim_full_pathname;
    assert_int_equal(sqlite3_vfs_register(&shim_vfs, 1), SQLITE_OK);
}

static void disk_arm(long fail_from)
{
    memset(&disk, 0, sizeof disk);
    disk.armed = true;
    disk.fail_from = fail_from;
}

/* ---- the file, read as someone with the sqlite3 shell would ---- */

/* FNV-1a over a byte string and its length, so that "ab","c" differs from "a","bc". */
static void mix(uint64_t *h, const void *bytes, size_t n)
{
    const unsigned char *p = bytes;
    uint64_t len = n;
    for (size_t i = 0; i < sizeof len; i++) {
        *h ^= (uint8_t)(len >> (8 * i));
        *h *= 1099511628211ULL;
    }
    for (size_t i = 0; i < n; i++) {
        *h ^= p[i];
        *h *= 1099511628211ULL;
    }
}

static void mix_query(sqlite3 *db, uint64_t *h, const char *sql, long long *rows)
{
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const void *b = sqlite3_column_blob(st, c);
            mix(h, b ? b : "", (size_t)sqlite3_column_bytes(st, c));
            mix(h, &(int){sqlite3_column_type(st, c)}, sizeof(int));
        }
        if (rows)
            (*rows)++;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
}

/*
 * The whole file as a digest: its marks, every schema object with its SQL,
 * and every row of every table in key order. *rows: how many rows.
 */
static uint64_t digest(const char *path, long long *rows)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    uint64_t h = 14695981039346656037ULL;
    mix_query(db, &h, "PRAGMA application_id", NULL);
    mix_query(db, &h, "PRAGMA user_version", NULL);
    mix_query(db, &h, "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY type, name",
              NULL);
    *rows = 0;
    sqlite3_stmt *tables;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT name FROM sqlite_schema WHERE type = 'table' "
                                        "ORDER BY name",
                                        -1, &tables, NULL),
                     SQLITE_OK);
    while (sqlite3_step(tables) == SQLITE_ROW) {
        char sql[256];
        const char *name = (const char *)sqlite3_column_text(tables, 0);
        mix(&h, name, strlen(name));
        snprintf(sql, sizeof sql, "SELECT * FROM \"%s\" ORDER BY 1", name);
        mix_query(db, &h, sql, rows);
    }
    sqlite3_finalize(tables);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
    return h;
}

/*
 * A layout 2 file as those builds made it (the prefixes "a\0" and "ledger/"
 * in a table, three triggers on kv), with 120 ledger rows, 400 free rows of
 * 1,000 bytes (more than SQLite's page cache holds under the soft heap limit
 * main() sets, so the copy into the rebuilt kv spills pages to the WAL and
 * reads evicted ones back: it does I/O of its own, in the middle of the
 * transaction) and rows under "m/", the prefix the new handle adds.
 */
static const char layout_2[] =
    "PRAGMA application_id = 1229147475; PRAGMA user_version = 2;"
    "CREATE TABLE kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE icms_append_only(prefix BLOB PRIMARY KEY) WITHOUT ROWID;"
    "INSERT INTO icms_append_only VALUES(X'6100'), (CAST('ledger/' AS BLOB));"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 400)"
    " INSERT INTO kv SELECT CAST(printf('free/%05d', i) AS BLOB), randomblob(1000) FROM c;"
    "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 120)"
    " INSERT INTO kv SELECT CAST(printf('ledger/%04d', i) AS BLOB),"
    " CAST(printf('entry %d', i) AS BLOB) FROM c;"
    "INSERT INTO kv VALUES(X'610001', CAST('audit' AS BLOB)),"
    " (CAST('m/1' AS BLOB), CAST('mid' AS BLOB)), (CAST('m/2' AS BLOB), CAST('mid2' AS BLOB));"
    LAYOUT_2_TRIGGERS;

#define FREE_ROWS 400
#define LOG_ROWS 123 /* 120 ledger, 1 audit, 2 under "m/" */

static icms_sqlite_options upgrade_options(void)
{
    static const uint8_t mid[] = "m/";
    static const uint8_t *const prefixes[] = {mid};
    static const size_t lens[] = {sizeof mid - 1};
    icms_sqlite_options o = ICMS_SQLITE_OPTIONS_INIT;
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 1;
    return o;
}

/*
 * Still a layout 2 file for a layout 2 build: its put (word for word what
 * those builds ran) writes a free key, and its triggers still refuse
 * rewriting a ledger row.
 */
static void old_build_still_works(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *put;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO kv(k, v) VALUES(?1, ?2) ON CONFLICT(k) DO "
                                        "UPDATE SET v = excluded.v",
                                        -1, &put, NULL),
                     SQLITE_OK);
    sqlite3_bind_blob(put, 1, "ledger/0001", 11, SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, "rewritten", 9, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(put), SQLITE_CONSTRAINT);
    sqlite3_reset(put);
    sqlite3_bind_blob(put, 1, "old build", 9, SQLITE_STATIC);
    sqlite3_bind_blob(put, 2, "was here", 8, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(put), SQLITE_DONE);
    sqlite3_finalize(put);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Put the layout 2 file back at path from its copy. */
static void restore(const char *path, const char *pristine)
{
    static const char *const suffixes[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char file[4400];
        snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
        remove(file);
    }
    char sql[9000];
    snprintf(sql, sizeof sql, "VACUUM INTO '%s'", path);
    assert_int_equal(raw_exec(pristine, sql, NULL, 0), SQLITE_OK);
}

/* The open that finally works: layout 3, every row where it belongs, none lost. */
static void upgrades_now(const char *path, long long rows_before)
{
    icms_sqlite_options o = upgrade_options();
    icms_store *s = NULL;
    disk_arm(0);
    assert_icms_ok(icms_store_sqlite_new(&s, path, &o));
    disk.armed = false;
    assert_value(s, K("ledger/0120"), "entry 120");
    assert_value(s, K("m/2"), "mid2");
    assert_value(s, K("a\x00\x01"), "audit");
    assert_value(s, K("old build"), "was here");
    icms_store_free(s);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 3);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), FREE_ROWS + 1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), LOG_ROWS);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                   "name = 'kv' AND sql LIKE '%icms_not_append_only%'"),
                     1);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                   "'icms_kv_rebuilt'"),
                     0);
    long long rows;
    (void)digest(path, &rows);
    /* Every row once, plus the prefix "m/" recorded. */
    assert_int_equal(rows, rows_before + 1);
}

/*
 * The disk fills up at the Nth I/O call of the open, for N from the first
 * call to the last (every call near both ends, and spread evenly between,
 * through the copy of kv): the open fails, the file is exactly as it was and
 * a layout 2 build still uses it; with room again, it upgrades.
 */
static void test_upgrade_on_a_full_disk_changes_nothing(void **state)
{
    (void)state;
    const char *path = db_path("full-disk-upgrade.db");
    assert_int_equal(raw_exec(path, layout_2, NULL, 0), SQLITE_OK);
    long long rows;
    uint64_t before = digest(path, &rows);
    assert_int_equal(rows, 2 + FREE_ROWS + LOG_ROWS);

    /* A dry run on a copy: how many I/O calls the open makes, and that kv's copy spills. */
    char copy_path[4300];
    snprintf(copy_path, sizeof copy_path, "%s.dry", path);
    {
        char sql[4400];
        snprintf(sql, sizeof sql, "VACUUM INTO '%s'", copy_path);
        assert_int_equal(raw_exec(path, sql, NULL, 0), SQLITE_OK);
    }
    icms_sqlite_options o = upgrade_options();
    icms_store *s = NULL;
    disk_arm(0);
    assert_icms_ok(icms_store_sqlite_new(&s, copy_path, &o));
    long total = disk.calls, wal_writes = disk.wal_writes, runs = disk.wal_runs;
    long commit = disk.commit_sync, first_wal = disk.first_wal;
    disk.armed = false;
    icms_store_free(s);
    assert_int_equal(raw_int(copy_path, "PRAGMA user_version"), 3);
    print_message("upgrade open: %ld I/O calls, %ld WAL writes in %ld runs, the commit's sync "
                  "at call %ld\n",
                  total, wal_writes, runs, commit);
    /*
     * Pages went to the WAL in many runs between reads before the commit's
     * sync: the transaction spilled while it copied kv, so the failures below
     * land in the middle of the rebuild, not only at its commit.
     */
    assert_true(runs > 100);
    assert_true(commit > total / 2 && commit <= total);

    /*
     * An open that fails must leave the file exactly as it was; one that
     * succeeds (a failure after the commit, in SQLite's checkpoint, which a
     * commit does not report; or a run needing fewer calls) must leave it
     * upgraded whole. Neither may leave anything in between.
     */
    char pristine[4300];
    snprintf(pristine, sizeof pristine, "%s.pristine", path);
    {
        char sql[4400];
        snprintf(sql, sizeof sql, "VACUUM INTO '%s'", pristine);
        assert_int_equal(raw_exec(path, sql, NULL, 0), SQLITE_OK);
    }
    long tried = 0, upgraded = 0, failed_opens = 0, mid_rebuild = 0;
    long stride = commit / 40;
    for (long n = 1; n <= total; n++) {
        bool near = n <= 12 || (n >= commit - 8 && n <= commit + 8) || n > total - 4;
        if (!near && n % stride != 0)
            continue;
        disk_arm(n);
        s = NULL;
        int rc = icms_store_sqlite_new(&s, path, &o);
        long failed = disk.failed;
        disk.armed = false;
        tried++;
        if (rc == ICMS_OK) {
            icms_store_free(s);
            assert_int_equal(raw_int(path, "PRAGMA user_version"), 3);
            assert_int_equal(raw_int(path, "SELECT count(*) FROM kv_log"), LOG_ROWS);
            assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), FREE_ROWS);
            upgraded++;
            restore(path, pristine);
            assert_true(digest(path, &rows) == before);
            continue;
        }
        assert_null(s);
        assert_true(failed > 0);
        assert_true(rc == ICMS_ESTORAGE || rc == ICMS_EBUSY || rc == ICMS_ECORRUPT);
        if (digest(path, &rows) != before)
            fail_msg("the file changed after a failed open, the disk full from I/O call %ld "
                     "(commit %ld): %s; now layout %lld",
                     n, commit, icms_error_last()->message, raw_int(path, "PRAGMA user_version"));
        failed_opens++;
        mid_rebuild += n > first_wal && n < commit;
    }
    print_message("%ld opens on a full disk: %ld failed (%ld while the transaction wrote to the "
                  "WAL), %ld succeeded\n",
                  tried, failed_opens, mid_rebuild, upgraded);
    assert_true(mid_rebuild > 30);

    old_build_still_works(path);
    (void)digest(path, &rows);
    upgrades_now(path, rows);
}

/*
 * A view on kv (made by hand) lets the rebuild copy kv and drop it, and then
 * makes the rename of the copy fail: the last step of the rebuild. Nothing
 * of it stays; once the view is gone, the open upgrades.
 */
static void test_upgrade_failing_at_the_rename_changes_nothing(void **state)
{
    (void)state;
    const char *path = db_path("view-upgrade.db");
    assert_int_equal(raw_exec(path, layout_2, NULL, 0), SQLITE_OK);
    assert_int_equal(raw_exec(path, "CREATE VIEW held AS SELECT k FROM kv", NULL, 0), SQLITE_OK);
    long long rows;
    uint64_t before = digest(path, &rows);

    icms_sqlite_options o = upgrade_options();
    icms_store *s = NULL;
    assert_icms(ICMS_ESTORAGE, icms_store_sqlite_new(&s, path, &o));
    assert_null(s);
    /* It got as far as the rename: the copy was made and kv dropped. */
    assert_non_null(strstr(icms_error_last()->message, "held"));
    assert_true(digest(path, &rows) == before);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), 2);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM kv"), FREE_ROWS + LOG_ROWS);

    old_build_still_works(path);
    assert_int_equal(raw_exec(path, "DROP VIEW held", NULL, 0), SQLITE_OK);
    (void)digest(path, &rows);
    upgrades_now(path, rows);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", icms_test_tmpdir("store_sqlite_upgrade"));
    shim_install();
    /* A small page cache (SQLite recycles pages above it): the upgrade spills early. */
    sqlite3_soft_heap_limit64(128 * 1024);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upgrade_on_a_full_disk_changes_nothing),
        cmocka_unit_test(test_upgrade_failing_at_the_rename_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
