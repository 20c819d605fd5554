/*
 * The audit chain against every kind of tampering, done to the real SQLite
 * file with the sqlite3 library, the way an intruder with file access would.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "app/db.h"
#include "audit/audit.h"
#include "audit/chain.h"
#include "core/core.h"
#include "icms/audit.h"

#define ENTRIES 10

typedef struct fixture {
    char path[4200];
    icms_db *db;
    uint8_t pk[ICMS_AUDIT_PUBLIC_KEY_BYTES];
    uint8_t sk[ICMS_AUDIT_SECRET_KEY_BYTES];
    char *checkpoint;
} fixture;

static int append_entry(icms__tx *tx, void *arg)
{
    int *n = arg;
    char subject[32];
    snprintf(subject, sizeof subject, "record-%d", *n);
    cJSON *data = cJSON_CreateObject();
    cJSON_AddNumberToObject(data, "n", *n);
    icms__audit_entry entry = {1700000000000 + *n, "admin", "test.append", subject, NULL, data};
    int rc = icms__audit_append(tx, &entry, NULL);
    cJSON_Delete(data);
    return rc;
}

static void open_db(fixture *f)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    assert_icms_ok(icms_open(&f->db, &options));
}

static int setup(void **state)
{
    static int counter;
    assert_true(icms_init() > 0);
    fixture *f = calloc(1, sizeof *f);
    char name[32];
    snprintf(name, sizeof name, "audit_%d", counter++);
    snprintf(f->path, sizeof f->path, "%s/icms.db", icms_test_tmpdir(name));
    open_db(f);
    for (int i = 1; i <= ENTRIES; i++)
        assert_icms_ok(icms__db_write(f->db, append_entry, &i));
    assert_icms_ok(icms_audit_keypair(f->pk, sizeof f->pk, f->sk, sizeof f->sk));
    assert_icms_ok(icms_audit_checkpoint(f->db, f->sk, sizeof f->sk, &f->checkpoint));
    /* The intruder works on the file while libicms has it closed. */
    icms_close(f->db);
    f->db = NULL;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    icms_close(f->db);
    icms_free(f->checkpoint);
    free(f);
    icms_shutdown();
    return 0;
}

/* Run SQL on the file; returns sqlite's result code. */
static int sql(fixture *f, const char *statement, int64_t seq_a, int64_t seq_b)
{
    sqlite3 *conn;
    assert_int_equal(sqlite3_open(f->path, &conn), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(conn, statement, -1, &stmt, NULL), SQLITE_OK);
    icms__key a, b;
    icms__audit_entry_key(&a, seq_a);
    icms__audit_entry_key(&b, seq_b);
    int params = sqlite3_bind_parameter_count(stmt);
    if (params >= 1)
        sqlite3_bind_blob(stmt, 1, a.bytes, (int)a.len, SQLITE_STATIC);
    if (params >= 2)
        sqlite3_bind_blob(stmt, 2, b.bytes, (int)b.len, SQLITE_STATIC);
    int rc = sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
    return rc;
}

/* What a determined intruder does first: remove the append-only triggers. */
static void drop_triggers(fixture *f)
{
    sqlite3 *conn;
    assert_int_equal(sqlite3_open(f->path, &conn), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(conn, "SELECT name FROM sqlite_master WHERE type='trigger'",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    char *drops[8];
    int n = 0;
    while (sqlite3_step(stmt) == SQLITE_ROW && n < 8)
        drops[n++] = sqlite3_mprintf("DROP TRIGGER \"%w\"", sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
    assert_true(n >= 2); /* one for UPDATE, one for DELETE */
    for (int i = 0; i < n; i++) {
        assert_int_equal(sqlite3_exec(conn, drops[i], NULL, NULL, NULL), SQLITE_OK);
        sqlite3_free(drops[i]);
    }
    sqlite3_close(conn);
}

/* Verify with the checkpoint (or without); returns the verdict code and the report's bad_seq. */
static int verify(fixture *f, bool with_checkpoint, int64_t *bad_seq, char *reason, size_t size)
{
    if (!f->db)
        open_db(f);
    char *report = NULL;
    int rc = icms_audit_verify(f->db, with_checkpoint ? f->checkpoint : NULL, f->pk, sizeof f->pk,
                               &report);
    assert_non_null(report);
    cJSON *doc = cJSON_Parse(report);
    *bad_seq = (int64_t)cJSON_GetObjectItem(doc, "bad_seq")->valuedouble;
    snprintf(reason, size, "%s", cJSON_GetObjectItem(doc, "reason")->valuestring);
    assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(doc, "valid")), rc == ICMS_OK);
    assert_int_equal((int64_t)cJSON_GetObjectItem(doc, "entries")->valuedouble >= 0, 1);
    cJSON_Delete(doc);
    icms_free(report);
    return rc;
}

static void test_untouched_chain_verifies(void **state)
{
    fixture *f = *state;
    int64_t bad;
    char reason[200];
    assert_icms_ok(verify(f, true, &bad, reason, sizeof reason));
    assert_icms_ok(verify(f, false, &bad, reason, sizeof reason));
    assert_string_equal(reason, "");
}

static void test_triggers_refuse_update_and_delete(void **state)
{
    fixture *f = *state;
    assert_int_equal(sql(f, "UPDATE kv_log SET v = X'00' WHERE k = ?1", 3, 0), SQLITE_CONSTRAINT);
    assert_int_equal(sql(f, "DELETE FROM kv_log WHERE k = ?1", 3, 0), SQLITE_CONSTRAINT);
    int64_t bad;
    char reason[200];
    assert_icms_ok(verify(f, true, &bad, reason, sizeof reason));
}

static void test_edited_entry_is_found(void **state)
{
    fixture *f = *state;
    drop_triggers(f);
    assert_int_equal(sql(f,
                         "UPDATE kv_log SET v = replace(CAST(v AS TEXT), 'record-4', 'record-9') "
                         "WHERE k = ?1",
                         4, 0),
                     SQLITE_DONE);
    int64_t bad;
    char reason[200];
    assert_int_equal(verify(f, true, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_int_equal(bad, 5); /* entry 5 no longer links to the edited entry 4 */
    assert_non_null(strstr(reason, "edited"));
}

static void test_edited_last_entry_is_found_by_checkpoint(void **state)
{
    fixture *f = *state;
    drop_triggers(f);
    assert_int_equal(sql(f,
                         "UPDATE kv_log SET v = replace(CAST(v AS TEXT), 'record-10', 'record-11') "
                         "WHERE k = ?1",
                         ENTRIES, 0),
                     SQLITE_DONE);
    int64_t bad;
    char reason[200];
    assert_int_equal(verify(f, true, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_int_equal(bad, ENTRIES);
}

static void test_deleted_entry_is_found(void **state)
{
    fixture *f = *state;
    drop_triggers(f);
    assert_int_equal(sql(f, "DELETE FROM kv_log WHERE k = ?1", 6, 0), SQLITE_DONE);
    int64_t bad;
    char reason[200];
    assert_int_equal(verify(f, false, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_int_equal(bad, 6);
    assert_non_null(strstr(reason, "missing"));
}

static void test_reordered_entries_are_found(void **state)
{
    fixture *f = *state;
    drop_triggers(f);
    /* Swap the values of entries 2 and 3 through a scratch key. */
    assert_int_equal(sql(f, "UPDATE kv_log SET k = X'00' WHERE k = ?1", 2, 0), SQLITE_DONE);
    assert_int_equal(sql(f, "UPDATE kv_log SET k = ?1 WHERE k = ?2", 2, 3), SQLITE_DONE);
    assert_int_equal(sql(f, "UPDATE kv_log SET k = ?1 WHERE k = X'00'", 3, 0), SQLITE_DONE);
    int64_t bad;
    char reason[200];
    assert_int_equal(verify(f, false, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_int_equal(bad, 2);
    assert_non_null(strstr(reason, "reordered"));
}

static void test_truncation_is_found_by_checkpoint(void **state)
{
    fixture *f = *state;
    drop_triggers(f);
    assert_int_equal(sql(f, "DELETE FROM kv_log WHERE k >= ?1 AND k <= ?2", ENTRIES - 1, ENTRIES),
                     SQLITE_DONE);
    int64_t bad;
    char reason[200];
    /* Without a checkpoint a shortened chain is self-consistent: that is what checkpoints are for.
     */
    assert_icms_ok(verify(f, false, &bad, reason, sizeof reason));
    assert_int_equal(verify(f, true, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_int_equal(bad, ENTRIES);
    assert_non_null(strstr(reason, "truncated"));
}

static void test_forged_checkpoint_is_refused(void **state)
{
    fixture *f = *state;
    uint8_t other_pk[32], other_sk[64];
    assert_icms_ok(icms_audit_keypair(other_pk, 32, other_sk, 64));
    memcpy(f->pk, other_pk, 32);
    int64_t bad;
    char reason[200];
    assert_int_equal(verify(f, true, &bad, reason, sizeof reason), ICMS_ECORRUPT);
    assert_non_null(strstr(reason, "signature"));
}

static void test_malformed_checkpoint_and_keys(void **state)
{
    fixture *f = *state;
    open_db(f);
    char *report = NULL;
    assert_int_equal(icms_audit_verify(f->db, "{\"seq\":1}", f->pk, 32, &report), ICMS_EINVALID);
    assert_int_equal(icms_audit_verify(f->db, "[]", f->pk, 32, &report), ICMS_EINVALID);
    assert_int_equal(icms_audit_verify(f->db, f->checkpoint, f->pk, 31, &report), ICMS_EINVALID);
    assert_null(report);
    char *cp = NULL;
    assert_int_equal(icms_audit_checkpoint(f->db, f->sk, 32, &cp), ICMS_EINVALID);
    assert_null(cp);
    uint8_t pk[32], sk[64];
    assert_int_equal(icms_audit_keypair(pk, 32, sk, 63), ICMS_EINVALID);
}

static void test_chain_continues_after_reopen(void **state)
{
    fixture *f = *state;
    open_db(f);
    for (int i = ENTRIES + 1; i <= ENTRIES + 3; i++)
        assert_icms_ok(icms__db_write(f->db, append_entry, &i));
    int64_t bad;
    char reason[200];
    /* The old checkpoint still holds: the chain grew past it without changing it. */
    assert_icms_ok(verify(f, true, &bad, reason, sizeof reason));
}

/*
 * Two handles on one file take turns: each remembers where the chain ended
 * after its own commits (kv/hints.h), and must notice the other's entries
 * rather than link to a stale head. The chain verifies, with no seq twice.
 */
static void test_two_handles_take_turns(void **state)
{
    fixture *f = *state;
    open_db(f);
    icms_db *other;
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    assert_icms_ok(icms_open(&other, &options));
    int n = ENTRIES;
    for (int round = 0; round < 6; round++) {
        icms_db *db = round % 2 ? other : f->db;
        for (int i = 0; i <= round % 3; i++) {
            n++;
            assert_icms_ok(icms__db_write(db, append_entry, &n));
        }
    }
    icms_close(other);
    int64_t bad;
    char reason[200];
    assert_icms_ok(verify(f, true, &bad, reason, sizeof reason));
    icms__tx tx;
    assert_icms_ok(icms__tx_begin(f->db->store, ICMS_STORE_READ, &tx));
    int64_t seq;
    uint8_t hash[ICMS__AUDIT_HASH_LEN];
    assert_icms_ok(icms__audit_head(&tx, &seq, hash));
    icms__tx_rollback(&tx);
    assert_int_equal(seq, n);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_untouched_chain_verifies),
        T(test_triggers_refuse_update_and_delete),
        T(test_edited_entry_is_found),
        T(test_edited_last_entry_is_found_by_checkpoint),
        T(test_deleted_entry_is_found),
        T(test_reordered_entries_are_found),
        T(test_truncation_is_found_by_checkpoint),
        T(test_forged_checkpoint_is_refused),
        T(test_malformed_checkpoint_and_keys),
        T(test_chain_continues_after_reopen),
        T(test_two_handles_take_turns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
