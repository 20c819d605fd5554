/*
 * The whole library on the PostgreSQL store: icms_open with options.store =
 * icms_store_postgres_new (append-only audit, ledger and outpoint prefixes, as
 * icms_open gives the SQLite store), users, a project, publishing, investors
 * asking to take part from several threads at once (real serialization
 * conflicts, rerun by the command runner) and approvals, then icms_check.
 * Skips (77) without PostgreSQL binaries unless CI=true.
 */
#include "support/test_support.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "app/ledger.h"
#include "app/payment_doc.h"
#include "audit/audit.h"
#include "icms.h"
#include "icms/sys/store_postgres.h"
#include "kv/keys.h"
#include "support/pg_server.h"

static pg_server server;

#define INVESTORS 4

static icms_store *open_store(void)
{
    icms__key audit, ledger, outpoints;
    icms__audit_prefix(&audit);
    icms__ledger_prefix(&ledger);
    icms__outpoint_prefix(&outpoints);
    const uint8_t *prefixes[3] = {audit.bytes, ledger.bytes, outpoints.bytes};
    size_t lens[3] = {audit.len, ledger.len, outpoints.len};
    icms_postgres_options o = ICMS_POSTGRES_OPTIONS_INIT;
    o.table = "app";
    o.append_only_prefixes = prefixes;
    o.append_only_prefix_lens = lens;
    o.append_only_count = 3;
    icms_store *s = NULL;
    assert_icms_ok(icms_store_postgres_new(&s, server.conninfo, &o));
    return s;
}

static icms_db *open_db(void)
{
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = open_store();
    options.retry_attempts = 50; /* several threads race on one project */
    icms_db *db = NULL;
    assert_icms_ok(icms_open(&db, &options));
    return db;
}

static void to_hex(const icms__key *key, char hex[2 * 64 + 1])
{
    assert_true(key->len < 64);
    for (size_t i = 0; i < key->len; i++)
        snprintf(hex + 2 * i, 3, "%02x", key->bytes[i]);
}

/* Run SQL on the server directly, as an operator would; it must succeed. */
static void sql_ok(const char *sql)
{
    PGconn *c = PQconnectdb(server.conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* How many rows of the table have keys under prefix. */
static int prefix_rows(const icms__key *prefix)
{
    char hex[2 * 64 + 1], sql[512];
    to_hex(prefix, hex);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM app WHERE substring(k FROM 1 FOR %zu) = decode('%s', 'hex')",
             prefix->len, hex);
    PGconn *c = PQconnectdb(server.conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    int n = atoi(PQgetvalue(r, 0, 0));
    PQclear(r);
    PQfinish(c);
    return n;
}

static void id_of(char *json, char id[ICMS_UUID_STRING_SIZE])
{
    cJSON *doc = cJSON_Parse(json);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "id");
    assert_true(cJSON_IsString(item));
    snprintf(id, ICMS_UUID_STRING_SIZE, "%s", item->valuestring);
    cJSON_Delete(doc);
    icms_free(json);
}

typedef struct investor_job {
    icms_db *db;
    const char *project_id;
    char id[ICMS_UUID_STRING_SIZE];
    char request_id[ICMS_UUID_STRING_SIZE];
    int rc;
} investor_job;

static void *request_participation(void *arg)
{
    investor_job *j = arg;
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_id = j->id;
    char *out = NULL;
    j->rc = icms_participation_request(j->db, &req, j->project_id,
                                       "{\"type\":\"PROFIT\",\"capital\":1000000000}", &out);
    if (j->rc == 0)
        id_of(out, j->request_id);
    return NULL;
}

static void test_whole_flow_on_postgres(void **state)
{
    (void)state;
    assert_true(icms_init() > 0);
    icms_db *db = open_db();
    icms_request host = ICMS_REQUEST_INIT;
    host.actor_kind = ICMS_ACTOR_HOST;
    char *out = NULL, owner_id[ICMS_UUID_STRING_SIZE], project_id[ICMS_UUID_STRING_SIZE];
    assert_icms_ok(icms_user_create(
        db, &host, "{\"name\":\"Olga Owner\",\"email\":\"olga@example.com\",\"roles\":[\"OWNER\"]}",
        &out));
    id_of(out, owner_id);
    investor_job jobs[INVESTORS];
    for (int i = 0; i < INVESTORS; i++) {
        char json[128];
        snprintf(json, sizeof json, "{\"name\":\"Investor %d\",\"email\":\"i%d@example.com\"}", i,
                 i);
        assert_icms_ok(icms_user_create(db, &host, json, &out));
        jobs[i] = (investor_job){db, project_id, "", "", 0};
        id_of(out, jobs[i].id);
        assert_icms_ok(icms_user_set_kyc(db, &host, jobs[i].id, "PENDING",
                                         "{\"document\":\"passport\"}", NULL));
        assert_icms_ok(icms_user_set_kyc(db, &host, jobs[i].id, "VERIFIED", NULL, NULL));
    }
    icms_request owner = ICMS_REQUEST_INIT;
    owner.actor_id = owner_id;
    assert_icms_ok(icms_project_create(db, &owner,
                                       "{\"title\":\"Olive oil from Crete\","
                                       "\"expiry_date\":\"2099-01-01T00:00:00Z\","
                                       "\"shipping_costs\":{\"freight\":50000000},"
                                       "\"products\":[{\"name\":\"Olive oil 5l\",\"unit\":\"can\","
                                       "\"quantity\":40,\"unit_price\":2500000000}]}",
                                       &out));
    id_of(out, project_id);
    assert_icms_ok(icms_project_publish(db, &owner, project_id, NULL));

    /* The investors ask at the same moment: their commands touch the same project. */
    pthread_t th[INVESTORS];
    for (int i = 0; i < INVESTORS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, request_participation, &jobs[i]), 0);
    for (int i = 0; i < INVESTORS; i++) {
        pthread_join(th[i], NULL);
        assert_icms_ok(jobs[i].rc);
    }
    for (int i = 0; i < INVESTORS; i++)
        assert_icms_ok(icms_participation_approve(db, &owner, jobs[i].request_id, NULL));
    assert_icms_ok(icms_project_get(db, &owner, project_id, &out));
    assert_non_null(strstr(out, "\"state\":\"FUNDING\""));
    icms_free(out);

    assert_icms_ok(icms_check(db, &host, &out));
    assert_non_null(strstr(out, "\"ok\":true"));
    icms_free(out);
    icms_close(db);

    /* The audit log is append-only in the table itself: an operator's edit is refused. */
    PGconn *c = PQconnectdb(server.conninfo);
    assert_int_equal(PQstatus(c), CONNECTION_OK);
    icms__key audit;
    icms__audit_prefix(&audit);
    char hex[2 * 64 + 1] = "";
    assert_true(audit.len < 64);
    for (size_t i = 0; i < audit.len; i++)
        snprintf(hex + 2 * i, 3, "%02x", audit.bytes[i]);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE app SET v = v WHERE substring(k FROM 1 FOR %zu) = decode('%s', 'hex')",
             audit.len, hex);
    PGresult *r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_FATAL_ERROR);
    assert_string_equal(PQresultErrorField(r, PG_DIAG_SQLSTATE), "IC001");
    PQclear(r);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM app WHERE substring(k FROM 1 FOR %zu) = decode('%s', 'hex')",
             audit.len, hex);
    r = PQexec(c, sql);
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_true(atoi(PQgetvalue(r, 0, 0)) >= 2 + 2 * INVESTORS);
    PQclear(r);
    PQfinish(c);

    /* A second process's view: reopen the same table, everything is there and still checks. */
    db = open_db();
    assert_icms_ok(icms_check(db, &host, &out));
    assert_non_null(strstr(out, "\"ok\":true"));
    icms_free(out);
    icms_close(db);

    /*
     * A format 1 table (what an older libicms left: no by_project_status
     * entries, stamped 1) is upgraded by the next open, as on SQLite.
     */
    icms__key index, stamp;
    icms__key_init(&index);
    icms__key_str(&index, "i");
    icms__key_str(&index, "participation");
    icms__key_str(&index, "by_project_status");
    icms__key_init(&stamp);
    icms__key_str(&stamp, "meta");
    icms__key_str(&stamp, "format");
    assert_int_equal(prefix_rows(&index), INVESTORS);
    char index_hex[2 * 64 + 1], stamp_hex[2 * 64 + 1];
    to_hex(&index, index_hex);
    to_hex(&stamp, stamp_hex);
    char downgrade[1024];
    snprintf(downgrade, sizeof downgrade,
             "BEGIN; DELETE FROM app WHERE substring(k FROM 1 FOR %zu) = decode('%s', 'hex'); "
             "UPDATE app SET v = convert_to('{\"format\":1}', 'UTF8') WHERE k = decode('%s', "
             "'hex'); COMMIT",
             index.len, index_hex, stamp_hex);
    sql_ok(downgrade);
    assert_int_equal(prefix_rows(&index), 0);
    db = open_db();
    assert_int_equal(prefix_rows(&index), INVESTORS);
    assert_icms_ok(icms_check(db, &host, &out));
    assert_non_null(strstr(out, "\"ok\":true"));
    icms_free(out);
    char filter[128];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"APPROVED\"}",
             project_id);
    assert_icms_ok(icms_participation_list(db, &owner, filter, &out));
    cJSON *page = cJSON_Parse(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), INVESTORS);
    cJSON_Delete(page);
    icms_free(out);
    icms_close(db);
    icms_shutdown();
}

int main(void)
{
    int started = pg_server_start_for_test(&server, "test_store_postgres_app");
    if (started != 0)
        return started;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole_flow_on_postgres),
    };
    int rc = cmocka_run_group_tests_name("libicms on the postgres store", tests, NULL, NULL);
    pg_server_destroy(&server);
    return rc;
}
