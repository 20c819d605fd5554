#include "app_fixture.h"

#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "app/ledger.h"
#include "app/records.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "icms/sys/store.h"
#include "kv/run.h"
#include "support/fault_store.h"

struct put_user {
    const uint8_t *id;
    cJSON *doc;
};

static int put_user(icms__tx *tx, void *arg)
{
    struct put_user *p = arg;
    return icms__record_put(tx, &icms__user_record, p->id, p->doc);
}

void fx_add_user(fx *f, fx_user *u, unsigned roles, const char *kyc)
{
    static int n;
    uint8_t id[16];
    assert_icms_ok(icms__uuid7_new(f->db->clock, id));
    icms__uuid_format(id, u->id);
    cJSON *doc = cJSON_CreateObject();
    char email[64];
    snprintf(email, sizeof email, "user%d@example.com", n++);
    cJSON_AddStringToObject(doc, "id", u->id);
    cJSON_AddStringToObject(doc, "name", "Test User");
    cJSON_AddStringToObject(doc, "email", email);
    cJSON *r = cJSON_AddArrayToObject(doc, "roles");
    if (roles & ICMS_ROLE_OWNER)
        cJSON_AddItemToArray(r, cJSON_CreateString("OWNER"));
    if (roles & ICMS_ROLE_INVESTOR)
        cJSON_AddItemToArray(r, cJSON_CreateString("INVESTOR"));
    if (roles & ICMS_ROLE_ADMIN)
        cJSON_AddItemToArray(r, cJSON_CreateString("ADMIN"));
    cJSON_AddStringToObject(doc, "status", "ACTIVE");
    cJSON *k = cJSON_AddObjectToObject(doc, "kyc");
    cJSON_AddStringToObject(k, "status", kyc);
    struct put_user p = {id, doc};
    assert_icms_ok(icms__db_write(f->db, put_user, &p));
    cJSON_Delete(doc);
    u->req = (icms_request)ICMS_REQUEST_INIT;
    u->req.actor_id = u->id;
}

void fx_open(fx *f, const char *name)
{
    memset(f, 0, sizeof *f);
    assert_true(icms_init() > 0);
    snprintf(f->path, sizeof f->path, "%s/icms.db", icms_test_tmpdir(name));
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    options.sqlite_sync = ICMS_SQLITE_SYNC_OFF; /* durability is the store suite's subject */
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_open(&f->db, &options));
    fx_add_user(f, &f->admin, ICMS_ROLE_ADMIN, "VERIFIED");
    fx_add_user(f, &f->owner, ICMS_ROLE_OWNER, "VERIFIED");
    fx_add_user(f, &f->investor, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_add_user(f, &f->investor2, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_add_user(f, &f->stranger, ICMS_ROLE_INVESTOR, "NONE");
    f->host = (icms_request)ICMS_REQUEST_INIT;
    f->host.actor_kind = ICMS_ACTOR_HOST;
    f->anonymous = (icms_request)ICMS_REQUEST_INIT;
}

void fx_reopen(fx *f, icms_options *options)
{
    int64_t now = icms_clock_now(f->clock);
    icms_close(f->db);
    options->path = f->path;
    options->sqlite_sync = ICMS_SQLITE_SYNC_OFF;
    assert_icms_ok(icms_clock_fake_new(now, &options->clock));
    f->clock = options->clock;
    assert_icms_ok(icms_open(&f->db, options));
}

void fx_close(fx *f)
{
    icms_close(f->db);
    f->db = NULL;
    icms_shutdown();
}

int fx_setup_named(void **state, const char *prefix)
{
    static int n;
    fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char name[64];
    snprintf(name, sizeof name, "%s_%d", prefix, n++);
    fx_open(f, name);
    *state = f;
    return 0;
}

int fx_teardown(void **state)
{
    fx *f = *state;
    fx_close(f);
    free(f);
    return 0;
}

uint64_t fx_digest(fx *f)
{
    uint64_t d;
    size_t keys;
    assert_icms_ok(icms_test_store_digest(f->db->store, &d, &keys));
    return d;
}

struct balance_read {
    char account[ICMS__ACCOUNT_MAX];
    int64_t value;
};

static int read_balance(icms__tx *tx, void *arg)
{
    struct balance_read *b = arg;
    return icms__ledger_balance(tx, b->account, &b->value);
}

long long fx_balance(fx *f, const char *kind, const char *id)
{
    struct balance_read b = {{0}, 0};
    icms__account(b.account, kind, id);
    assert_icms_ok(icms__db_read(f->db, read_balance, &b));
    return (long long)b.value;
}

cJSON *fx_json(char *text)
{
    assert_non_null(text);
    cJSON *doc = NULL;
    if (icms__json_parse(text, strlen(text), NULL, &doc) != ICMS_OK)
        fail_msg("not JSON: %s", text);
    icms_free(text);
    return doc;
}

const char *fx_str(const cJSON *doc, const char *field)
{
    const char *s = icms__json_get_string(doc, field);
    if (!s)
        fail_msg("no string field %s", field);
    return s;
}

long long fx_int(const cJSON *doc, const char *field)
{
    int64_t v;
    if (!icms__json_int64(icms__json_get(doc, field), &v))
        fail_msg("no integer field %s", field);
    return (long long)v;
}

const char *fx_project_json(int days)
{
    /* Per thread: threaded tests (test_events_push, test_threads) build projects at once. */
    static _Thread_local char json[2048];
    char expiry[32];
    int64_t ms = FX_NOW + days * FX_DAY;
    icms_time_format(ms, expiry, sizeof expiry);
    snprintf(json, sizeof json,
             "{\"title\":\"Olive oil from Crete\",\"expiry_date\":\"%s\","
             "\"exporter\":{\"name\":\"Kritsa Oils\",\"country\":\"GR\"},"
             "\"shipping_costs\":{\"freight\":300000000,\"transport\":50000000,"
             "\"international_fees\":25000001},"
             "\"products\":[{\"name\":\"Olive oil 5l\",\"unit\":\"can\",\"quantity\":100,"
             "\"unit_price\":2500000000},"
             "{\"name\":\"Olives 1kg\",\"unit\":\"jar\",\"quantity\":333,"
             "\"unit_price\":700000001}]}",
             expiry);
    return json;
}

void fx_published_project(fx *f, char *id_out)
{
    char *out = NULL;
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, fx_project_json(30), &out));
    cJSON *p = fx_json(out);
    snprintf(id_out, 37, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, id_out, NULL));
}

void fx_request_profit(fx *f, fx_user *u, const char *project, long long capital, char id[37])
{
    char json[128], *out = NULL;
    snprintf(json, sizeof json, "{\"type\":\"PROFIT\",\"capital\":%lld}", capital);
    assert_icms_ok(icms_participation_request(f->db, &u->req, project, json, &out));
    cJSON *p = fx_json(out);
    snprintf(id, 37, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
}

void fx_approved_profit(fx *f, fx_user *u, const char *project, long long capital, char id[37])
{
    fx_request_profit(f, u, project, capital, id);
    assert_icms_ok(icms_participation_approve(f->db, &f->owner.req, id, NULL));
}
