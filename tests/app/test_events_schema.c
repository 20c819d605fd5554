/*
 * Every event validates against its JSON Schema in docs/events/: the events
 * of a lifecycle run here, and every event the other app suites left in
 * their databases (run after them: ctest DEPENDS). A small checker of the
 * schema keywords the files use: type, const, required, properties,
 * additionalProperties false, items, minimum, format uuid and date-time.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "support/test_support.h"

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "app/notify_doc.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "events_fixture.h"
#include "icms/auth.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "icms/sys/secrets.h"

/* ---- the checker ---- */

static bool is_type(const cJSON *v, const char *t)
{
    int64_t i;
    if (strcmp(t, "string") == 0)
        return cJSON_IsString(v);
    if (strcmp(t, "integer") == 0)
        return cJSON_IsNumber(v) && icms__json_int64(v, &i);
    if (strcmp(t, "number") == 0)
        return cJSON_IsNumber(v);
    if (strcmp(t, "boolean") == 0)
        return cJSON_IsBool(v);
    if (strcmp(t, "null") == 0)
        return cJSON_IsNull(v);
    if (strcmp(t, "array") == 0)
        return cJSON_IsArray(v);
    if (strcmp(t, "object") == 0)
        return cJSON_IsObject(v);
    fail_msg("schema names an unknown type %s", t);
    return false;
}

/* NULL when v matches s, else why not (static buffer). */
static const char *check(const cJSON *s, const cJSON *v, const char *path)
{
    static char why[512];
    const cJSON *type = cJSON_GetObjectItem(s, "type");
    if (cJSON_IsString(type) && !is_type(v, type->valuestring)) {
        snprintf(why, sizeof why, "%s: not %s", path, type->valuestring);
        return why;
    }
    if (cJSON_IsArray(type)) {
        bool any = false;
        const cJSON *t;
        cJSON_ArrayForEach(t, type) any = any || is_type(v, t->valuestring);
        if (!any) {
            snprintf(why, sizeof why, "%s: none of the types allowed", path);
            return why;
        }
    }
    const cJSON *c = cJSON_GetObjectItem(s, "const");
    if (c) {
        int64_t a, b;
        bool same = (cJSON_IsString(c) && cJSON_IsString(v) &&
                     strcmp(c->valuestring, v->valuestring) == 0) ||
                    (icms__json_int64(c, &a) && icms__json_int64(v, &b) && a == b);
        if (!same) {
            snprintf(why, sizeof why, "%s: not the constant", path);
            return why;
        }
    }
    const cJSON *min = cJSON_GetObjectItem(s, "minimum");
    int64_t n, m;
    if (min && icms__json_int64(min, &m) && icms__json_int64(v, &n) && n < m) {
        snprintf(why, sizeof why, "%s: below the minimum", path);
        return why;
    }
    const cJSON *format = cJSON_GetObjectItem(s, "format");
    if (cJSON_IsString(format) && cJSON_IsString(v)) {
        uint8_t id[16];
        int64_t ms;
        const char *f = format->valuestring, *text = v->valuestring;
        if ((strcmp(f, "uuid") == 0 && icms__uuid_parse(text, strlen(text), id) != ICMS_OK) ||
            (strcmp(f, "date-time") == 0 && icms__time_parse(text, strlen(text), &ms) != ICMS_OK)) {
            snprintf(why, sizeof why, "%s: not a %s", path, f);
            return why;
        }
    }
    const cJSON *req, *props = cJSON_GetObjectItem(s, "properties");
    cJSON_ArrayForEach(req, cJSON_GetObjectItem(s, "required"))
    {
        if (!icms__json_get(v, req->valuestring)) {
            snprintf(why, sizeof why, "%s.%s: required", path, req->valuestring);
            return why;
        }
    }
    const cJSON *member;
    if (cJSON_IsObject(v)) {
        cJSON_ArrayForEach(member, v)
        {
            const cJSON *ps = props ? icms__json_get(props, member->string) : NULL;
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, member->string);
            if (!ps && cJSON_IsFalse(cJSON_GetObjectItem(s, "additionalProperties"))) {
                snprintf(why, sizeof why, "%s: not allowed", sub);
                return why;
            }
            const char *r = ps ? check(ps, member, sub) : NULL;
            if (r)
                return r;
        }
    }
    const cJSON *items = cJSON_GetObjectItem(s, "items");
    if (items && cJSON_IsArray(v)) {
        cJSON_ArrayForEach(member, v)
        {
            const char *r = check(items, member, path);
            if (r)
                return r;
        }
    }
    return NULL;
}

/* ---- the schemas ---- */

static cJSON *schemas; /* type -> schema */

static void load_schemas(void)
{
    schemas = cJSON_CreateObject();
    DIR *d = opendir(ICMS_DOCS_EVENTS);
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", ICMS_DOCS_EVENTS, e->d_name);
        size_t n;
        char *text = icms_test_read_file(path, &n);
        cJSON *s = NULL;
        if (icms__json_parse(text, n, NULL, &s) != ICMS_OK)
            fail_msg("%s is not JSON: %s", path, icms_error_last()->message);
        free(text);
        const char *title = icms__json_get_string(s, "title");
        assert_non_null(title);
        assert_int_equal(strlen(title), len - 5); /* named after its type */
        assert_memory_equal(title, e->d_name, len - 5);
        assert_string_equal(icms__json_get_string(s, "$schema"),
                            "https://json-schema.org/draft/2020-12/schema");
        cJSON_AddItemToObject(schemas, title, s);
    }
    closedir(d);
    assert_true(cJSON_GetArraySize(schemas) >= 30);
}

static int validated;
static cJSON *types_seen;

static void validate(const char *json, size_t len, const char *where)
{
    cJSON *e = NULL;
    if (icms__json_parse(json, len, NULL, &e) != ICMS_OK)
        fail_msg("%s: an event is not JSON", where);
    const char *type = icms__json_get_string(e, "type");
    assert_non_null(type);
    const cJSON *s = icms__json_get(schemas, type);
    if (!s)
        fail_msg("%s: event type %s has no schema in docs/events/", where, type);
    const char *why = check(s, e, "event");
    if (why)
        fail_msg("%s: %s does not match its schema: %s\n%.*s", where, type, why, (int)len, json);
    if (!cJSON_GetObjectItem(types_seen, type))
        cJSON_AddTrueToObject(types_seen, type);
    validated++;
    cJSON_Delete(e);
}

/* ---- events from this run ---- */

static void test_lifecycle_events_validate(void **state)
{
    (void)state;
    fx f;
    fx_open(&f, "events_schema");
    char project[37], p1[37], p2[37], p3[37], *out = NULL;
    icms_request req = f.owner.req;
    req.correlation_id = "schema-run";
    assert_icms_ok(icms_project_create(f.db, &req, fx_project_json(30), &out));
    cJSON *draft = fx_json(out);
    assert_icms_ok(
        icms_project_cancel(f.db, &f.owner.req, fx_str(draft, "id"), "changed mind", NULL));
    cJSON_Delete(draft);
    ev_published_project(&f, 30, project);
    fx_request_profit(&f, &f.investor, project, 100000000, p1);
    fx_request_profit(&f, &f.investor2, project, 100000000, p2);
    assert_icms_ok(icms_participation_approve(f.db, &f.owner.req, p1, NULL));
    assert_icms_ok(icms_participation_reject(f.db, &f.owner.req, p2, "too small", NULL));
    ev_published_project(&f, 30, project);
    fx_request_profit(&f, &f.investor, project, 100000000, p3);
    assert_icms_ok(icms_participation_withdraw(f.db, &f.investor.req, p3, NULL));
    assert_icms_ok(icms_clock_fake_advance(f.clock, 31 * FX_DAY));
    assert_icms_ok(icms_tick(f.db, NULL)); /* project.expired, participation.cancelled */
    /* Sessions and keys: session.created, session.invalidated, auth.keys_rotated. */
    icms_auth_options o = ICMS_AUTH_OPTIONS_INIT;
    o.issuer = "https://icms.example";
    o.audience = "schema-test";
    o.password_opslimit = 1;
    o.password_memlimit = 8192;
    static const uint8_t master[32] = {7};
    assert_icms_ok(icms_secrets_static_new(master, 32, &o.secrets));
    icms_auth *auth = NULL;
    assert_icms_ok(icms_auth_new(&auth, f.db, &o));
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "google";
    id.subject = "schema-1";
    id.email = "schema@example.com";
    id.email_verified = 1;
    assert_icms_ok(icms_auth_login_external(auth, &f.host, &id, &out));
    cJSON *pair = fx_json(out);
    assert_icms_ok(icms_auth_logout(f.db, &f.host, fx_str(pair, "session_id"), NULL));
    cJSON_Delete(pair);
    assert_icms_ok(icms_auth_rotate_keys(auth, &f.host, &out));
    icms_free(out);
    icms_auth_free(auth);
    cJSON *all = ev_outbox(f.db);
    const cJSON *e;
    cJSON_ArrayForEach(e, all)
    {
        char *text = NULL;
        assert_icms_ok(icms__json_write(e, 0, &text, NULL));
        validate(text, strlen(text), "lifecycle");
        icms__free(text);
    }
    assert_true(cJSON_GetArraySize(all) >= 14);
    cJSON_Delete(all);
    static const char *expected[] = {"project.created",         "project.cancelled",
                                     "project.published",       "participation.requested",
                                     "participation.approved",  "participation.rejected",
                                     "participation.withdrawn", "project.funding_started",
                                     "project.expired",         "participation.cancelled",
                                     "session.created",         "session.invalidated",
                                     "auth.keys_rotated",       "user.created"};
    for (size_t i = 0; i < sizeof expected / sizeof *expected; i++)
        if (!cJSON_GetObjectItem(types_seen, expected[i]))
            fail_msg("the lifecycle run did not emit %s", expected[i]);
    fx_close(&f);
}

/* ---- events the other suites produced ---- */

static int on_file(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    size_t len = strlen(path);
    /*
     * Two suites write hand-made events, not the library's: the notification
     * suite (to reach every route) and the harness fault suite ("widget.*").
     */
    if (flag != FTW_F || len < 3 || strcmp(path + len - 3, ".db") != 0 ||
        strstr(path, "events_notify_") || strstr(path, "/faults_"))
        return 0;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return 0;
    }
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, "select v from kv where cast(v as text) like '{\"event_id\"%'", -1,
                           &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW)
            validate(sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0), path);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}

static void test_suite_events_validate(void **state)
{
    (void)state;
    const char *tmp = getenv("ICMS_TEST_TMP");
    assert_non_null(tmp);
    int before = validated;
    nftw(tmp, on_file, 16, FTW_PHYS);
    printf("validated %d events of %d types\n", validated, cJSON_GetArraySize(types_seen));
    assert_true(validated > before);
}

/* The checker can fail: a doctored event is refused, for each kind of fault. */
static void test_checker_refuses(void **state)
{
    (void)state;
    const cJSON *s = icms__json_get(schemas, "participation.requested");
    assert_non_null(s);
    static const char *good =
        "{\"event_id\":\"01900000-0000-7000-8000-000000000001\",\"type\":"
        "\"participation.requested\",\"occurred_at\":\"2026-01-01T00:00:00.000Z\","
        "\"correlation_id\":null,\"source\":\"libicms\",\"schema_version\":1,\"subject\":\"x\","
        "\"seq\":1,\"data\":{\"commitment\":5,\"investor_id\":\"i\",\"project_id\":\"p\","
        "\"status\":\"PENDING\",\"type\":\"PROFIT\"}}";
    cJSON *e = NULL;
    assert_icms_ok(icms__json_parse(good, strlen(good), NULL, &e));
    assert_null(check(s, e, "event"));
    cJSON_Delete(e);
    static const struct {
        const char *from, *to;
    } faults[] = {
        {"\"commitment\":5", "\"commitment\":\"5\""},
        {"\"commitment\":5,", ""},
        {"\"seq\":1", "\"seq\":0"},
        {"\"schema_version\":1", "\"schema_version\":2"},
        {"\"source\":\"libicms\"", "\"source\":\"other\""},
        {"\"correlation_id\":null", "\"correlation_id\":7"},
        {"01900000-0000-7000-8000-000000000001", "not-a-uuid"},
        {"2026-01-01T00:00:00.000Z", "yesterday"},
        {"\"seq\":1,", "\"seq\":1,\"extra\":true,"},
    };
    for (size_t i = 0; i < sizeof faults / sizeof *faults; i++) {
        char bad[1024];
        const char *at = strstr(good, faults[i].from);
        assert_non_null(at);
        snprintf(bad, sizeof bad, "%.*s%s%s", (int)(at - good), good, faults[i].to,
                 at + strlen(faults[i].from));
        assert_icms_ok(icms__json_parse(bad, strlen(bad), NULL, &e));
        if (!check(s, e, "event"))
            fail_msg("fault %zu passed the checker: %s", i, bad);
        cJSON_Delete(e);
    }
}

/* Every routed type is documented. */
static void test_routed_types_have_schemas(void **state)
{
    (void)state;
    for (size_t i = 0; i < icms__route_count; i++)
        if (!icms__json_get(schemas, icms__routes[i].type))
            fail_msg("routed type %s has no schema", icms__routes[i].type);
}

static int group_setup(void **state)
{
    (void)state;
    load_schemas();
    types_seen = cJSON_CreateObject();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    cJSON_Delete(schemas);
    cJSON_Delete(types_seen);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_refuses),
        cmocka_unit_test(test_routed_types_have_schemas),
        cmocka_unit_test(test_lifecycle_events_validate),
        cmocka_unit_test(test_suite_events_validate),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
