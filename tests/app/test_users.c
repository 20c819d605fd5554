/*
 * Users: each command's happy path, bad input for every field, email
 * uniqueness, roles and the last administrator, the KYC flow, deactivation,
 * idempotency keys, and the investor totals (icms__user_stats_add).
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/command.h"
#include "app/db.h"
#include "app/user_api.h"
#include "app/user_stats.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/audit.h"
#include "support/fault_store.h"
#include "test_users_fixture.h"

static int setup(void **state)
{
    (void)state;
    return icms_init() > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() >= 0 ? 0 : -1;
}

static const char *role_at(const cJSON *doc, int i)
{
    const cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "roles"), i);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

static int roles_count(const cJSON *doc)
{
    return cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "roles"));
}

static uint64_t digest(uf *f)
{
    uint64_t d;
    size_t keys;
    assert_icms_ok(icms_test_store_digest(uf_store(f), &d, &keys));
    return d;
}

/* ---- happy paths ---- */

static void test_bootstrap_creates_the_first_admin_once(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_bootstrap");
    int rc;
    cJSON *admin = uf_get(&f, &f.admin.req, f.admin.id, &rc);
    assert_icms_ok(rc);
    assert_string_equal(uf_str(admin, "name"), "Ada Admin");
    assert_string_equal(uf_str(admin, "status"), "ACTIVE");
    assert_int_equal(roles_count(admin), 1);
    assert_string_equal(role_at(admin, 0), "ADMIN");
    cJSON_Delete(admin);

    char *out = (char *)"untouched";
    assert_icms(ICMS_EEXISTS,
                icms_user_bootstrap_admin(
                    f.db, &f.host, "{\"name\":\"Bob\",\"email\":\"bob@example.com\"}", &out));
    assert_null(out);
    /* Only the host bootstraps; a user (even the admin) is refused before anything else. */
    assert_icms(ICMS_EFORBIDDEN,
                icms_user_bootstrap_admin(
                    f.db, &f.admin.req, "{\"name\":\"Bob\",\"email\":\"bob@example.com\"}", NULL));
    /* The audit entry and the event exist, and hold no personal data. */
    int count = 0;
    cJSON *event = uf_last_event(&f, "user.created", &count);
    assert_int_equal(count, 1);
    assert_string_equal(uf_str(cJSON_GetObjectItemCaseSensitive(event, "data"), "user_id"),
                        f.admin.id);
    char *event_text = cJSON_PrintUnformatted(event);
    assert_null(strstr(event_text, "ada@example.com"));
    assert_null(strstr(event_text, "Ada Admin"));
    cJSON_free(event_text);
    cJSON_Delete(event);
    cJSON *audit = uf_last_audit(&f, &count);
    assert_int_equal(count, 1);
    assert_string_equal(uf_str(audit, "action"), "user.bootstrap_admin");
    assert_string_equal(uf_str(audit, "actor"), "host");
    assert_string_equal(uf_str(audit, "subject"), f.admin.id);
    char *text = cJSON_PrintUnformatted(audit);
    assert_null(strstr(text, "ada@example.com"));
    assert_null(strstr(text, "Ada Admin"));
    cJSON_free(text);
    cJSON_Delete(audit);
    uf_close(&f);
}

static void test_bootstrap_refused_once_an_admin_exists(void **state)
{
    (void)state;
    icms_store *store;
    assert_icms_ok(icms_store_memory_new(&store));
    uf f;
    uf_open_store(&f, store, 0);
    assert_icms_ok(icms_user_create(
        f.db, &f.host, "{\"name\":\"Root\",\"email\":\"root@example.com\",\"roles\":[\"ADMIN\"]}",
        NULL));
    assert_icms(ICMS_EEXISTS,
                icms_user_bootstrap_admin(
                    f.db, &f.host, "{\"name\":\"Bob\",\"email\":\"bob@example.com\"}", NULL));
    uf_close(&f);
}

static void test_create_defaults_and_full_profile(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_create");
    char *out = NULL;
    assert_icms_ok(icms_user_create(
        f.db, &f.admin.req,
        "{\"name\":\"Grace Hopper\",\"email\":\"Grace@Example.com\",\"phone\":\"+14155550123\","
        "\"photo_url\":\"https://cdn.example.com/g.png\"}",
        &out));
    cJSON *summary = uf_json(out);
    /* The summary holds no personal data. */
    assert_false(uf_has(summary, "name"));
    assert_false(uf_has(summary, "email"));
    assert_false(uf_has(summary, "phone"));
    assert_string_equal(uf_str(summary, "status"), "ACTIVE");
    assert_string_equal(uf_str(summary, "kyc_status"), "NONE");
    assert_string_equal(uf_str(summary, "created_at"), "2026-01-01T00:00:00.000Z");
    assert_int_equal(roles_count(summary), 1);
    assert_string_equal(role_at(summary, 0), "INVESTOR");
    char id[37];
    snprintf(id, sizeof id, "%s", uf_str(summary, "id"));
    uint8_t raw[16];
    assert_icms_ok(icms_uuid_parse(id, raw, sizeof raw));
    cJSON_Delete(summary);

    icms_request self = ICMS_REQUEST_INIT;
    self.actor_id = id;
    int rc;
    cJSON *doc = uf_get(&f, &self, id, &rc);
    assert_icms_ok(rc);
    assert_string_equal(uf_str(doc, "name"), "Grace Hopper");
    assert_string_equal(uf_str(doc, "email"), "Grace@Example.com"); /* kept as written */
    assert_string_equal(uf_str(doc, "phone"), "+14155550123");
    assert_string_equal(uf_str(doc, "photo_url"), "https://cdn.example.com/g.png");
    const cJSON *kyc = cJSON_GetObjectItemCaseSensitive(doc, "kyc");
    assert_string_equal(uf_str(kyc, "status"), "NONE");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(kyc, "history")), 0);
    cJSON_Delete(doc);

    /* Roles given at creation, in canonical order whatever the input order. */
    assert_icms_ok(icms_user_create(f.db, &f.host,
                                    "{\"name\":\"Owner\",\"email\":\"o@example.com\","
                                    "\"roles\":[\"ADMIN\",\"OWNER\"]}",
                                    &out));
    summary = uf_json(out);
    assert_int_equal(roles_count(summary), 2);
    assert_string_equal(role_at(summary, 0), "OWNER");
    assert_string_equal(role_at(summary, 1), "ADMIN");
    cJSON_Delete(summary);
    /* And no roles at all is allowed. */
    assert_icms_ok(icms_user_create(
        f.db, &f.host, "{\"name\":\"Nobody\",\"email\":\"n@example.com\",\"roles\":[]}", &out));
    summary = uf_json(out);
    assert_int_equal(roles_count(summary), 0);
    cJSON_Delete(summary);
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

static void test_edge_values_are_accepted(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_edges");
    char name[2 * ICMS_USER_NAME_MAX + 1] = "";
    for (int i = 0; i < ICMS_USER_NAME_MAX / 2; i++)
        strcat(name, "\xc3\xa9"); /* é: 200 bytes, 100 characters */
    char email[ICMS_USER_EMAIL_MAX + 1];
    memset(email, 'a', sizeof email);
    memcpy(email, "x@", 2);
    /* x@ then labels of 63 'a's joined by dots, ending in ".com", 254 bytes in all */
    size_t pos = 2;
    while (pos + 64 + 4 <= ICMS_USER_EMAIL_MAX) {
        memset(email + pos, 'a', 63);
        email[pos + 63] = '.';
        pos += 64;
    }
    size_t rest = ICMS_USER_EMAIL_MAX - pos - 4;
    memset(email + pos, 'b', rest);
    memcpy(email + pos + rest, ".com", 4);
    email[ICMS_USER_EMAIL_MAX] = '\0';
    assert_int_equal(strlen(email), ICMS_USER_EMAIL_MAX);
    char url[ICMS_USER_PHOTO_URL_MAX + 1];
    strcpy(url, "https://cdn.example.com/");
    memset(url + strlen(url), 'p', ICMS_USER_PHOTO_URL_MAX - strlen(url));
    url[ICMS_USER_PHOTO_URL_MAX] = '\0';
    char *json = malloc(8192);
    snprintf(
        json, 8192,
        "{\"name\":\"%s\",\"email\":\"%s\",\"phone\":\"+123456789012345\",\"photo_url\":\"%s\"}",
        name, email, url);
    assert_icms_ok(icms_user_create(f.db, &f.host, json, NULL));
    /* Shortest phone, nulls for the optional fields, the simplest plausible email. */
    assert_icms_ok(icms_user_create(
        f.db, &f.host,
        "{\"name\":\"A\",\"email\":\"a.b+tag@x-y.io\",\"phone\":\"+12345678\",\"photo_url\":null}",
        NULL));
    assert_icms_ok(icms_user_create(f.db, &f.host,
                                    "{\"name\":\"B\",\"email\":\"b@x.io\",\"phone\":null}", NULL));
    free(json);
    uf_close(&f);
}

/* ---- bad input ---- */

struct bad_case {
    const char *json;
    const char *field; /* the message must start with this */
};

static const struct bad_case bad_creates[] = {
    {"not json", "document"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\"", "document"},
    {"[]", "document"},
    {"{\"name\":\"A\",\"name\":\"B\",\"email\":\"a@b.co\"}", "document"},
    {"{\"name\":\"A\xff\",\"email\":\"a@b.co\"}", "document"},
    {"{\"name\":\"\\ud800\",\"email\":\"a@b.co\"}", "document"},
    {"{\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":1,\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":null,\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"\",\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"   \",\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"A\\u0001B\",\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"A\\nB\",\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"A\\u0085B\",\"email\":\"a@b.co\"}", "name"},
    {"{\"name\":\"A\"}", "email"},
    {"{\"name\":\"A\",\"email\":7}", "email"},
    {"{\"name\":\"A\",\"email\":[\"a@b.co\"]}", "email"},
    {"{\"name\":\"A\",\"email\":\"\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"plain\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b.\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b..com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a b@c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\" a@c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b@c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\".a@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a.@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a..b@c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@-b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b-.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b_c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a(b)@c.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"\\u00e9@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a\\u0000@b.com\"}", "document"},
    {"{\"name\":\"A\",\"email\":\"a\\t@b.com\"}", "email"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"14155550123\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"+0155550123\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"+1234567\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"+1234567890123456\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"+1 415 555 0123\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":\"+1415555012a\"}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"phone\":14155550123}", "phone"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"http://x.com/a.png\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"HTTPS://x.com/a.png\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"ftp://x.com/a.png\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"https://\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"https:///a.png\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"https://x.com/a b.png\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"https://x.com/<script>\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"https://x.com/\\u00e9\"}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":true}", "photo_url"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":\"ADMIN\"}", "roles"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[\"KING\"]}", "roles[0]"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[\"admin\"]}", "roles[0]"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[1]}", "roles[0]"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[\"OWNER\",\"OWNER\"]}", "roles"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[\"OWNER\",\"ADMIN\",\"INVESTOR\",\"OWNER\"]}",
     "roles"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"nickname\":\"x\"}", "nickname"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"status\":\"ACTIVE\"}", "status"},
    {"{\"name\":\"A\",\"email\":\"a@b.co\",\"kyc\":{}}", "kyc"},
};

static void expect_field_error(int rc, const char *field, const char *input)
{
    if (rc != ICMS_EINVALID)
        fail_msg("%s: expected ICMS_EINVALID, got %s", input, icms_error_name(rc));
    const char *message = icms_error_last()->message;
    size_t n = strlen(field);
    if (strncmp(message, field, n) != 0 || message[n] != ':')
        fail_msg("%s: message \"%s\" does not start with \"%s:\"", input, message, field);
}

static void test_create_refuses_bad_input_naming_the_field(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_bad_create");
    uint64_t before = digest(&f);
    for (size_t i = 0; i < sizeof bad_creates / sizeof bad_creates[0]; i++) {
        char *out = (char *)"untouched";
        int rc = icms_user_create(f.db, &f.host, bad_creates[i].json, &out);
        expect_field_error(rc, bad_creates[i].field, bad_creates[i].json);
        assert_null(out);
    }
    /* Over-long values, one byte past each limit. */
    char *json = malloc(8192), *big = malloc(4096);
    memset(big, 'n', ICMS_USER_NAME_MAX + 1);
    big[ICMS_USER_NAME_MAX + 1] = '\0';
    snprintf(json, 8192, "{\"name\":\"%s\",\"email\":\"a@b.co\"}", big);
    expect_field_error(icms_user_create(f.db, &f.host, json, NULL), "name", "long name");
    memset(big, 'e', ICMS_USER_EMAIL_MAX + 1);
    memcpy(big, "e@", 2);
    memcpy(big + ICMS_USER_EMAIL_MAX + 1 - 4, ".com", 5);
    snprintf(json, 8192, "{\"name\":\"A\",\"email\":\"%s\"}", big);
    expect_field_error(icms_user_create(f.db, &f.host, json, NULL), "email", "long email");
    strcpy(big, "https://x.com/");
    memset(big + strlen(big), 'u', ICMS_USER_PHOTO_URL_MAX + 1 - strlen(big));
    big[ICMS_USER_PHOTO_URL_MAX + 1] = '\0';
    snprintf(json, 8192, "{\"name\":\"A\",\"email\":\"a@b.co\",\"photo_url\":\"%s\"}", big);
    expect_field_error(icms_user_create(f.db, &f.host, json, NULL), "photo_url", "long url");
    /* A local part over 64 bytes. */
    memset(big, 'l', 65);
    strcpy(big + 65, "@b.co");
    snprintf(json, 8192, "{\"name\":\"A\",\"email\":\"%s\"}", big);
    expect_field_error(icms_user_create(f.db, &f.host, json, NULL), "email", "long local part");
    /* A document far over any valid size is refused before it is read. */
    char *huge = malloc(200000);
    memset(huge, ' ', 199999);
    huge[0] = '{';
    huge[199998] = '}';
    huge[199999] = '\0';
    expect_field_error(icms_user_create(f.db, &f.host, huge, NULL), "document", "huge");
    free(huge);
    free(json);
    free(big);
    expect_field_error(icms_user_create(f.db, &f.host, NULL, NULL), "document", "NULL");
    /* Bootstrap refuses roles: its schema has none. */
    expect_field_error(
        icms_user_bootstrap_admin(f.db, &f.host,
                                  "{\"name\":\"A\",\"email\":\"a@b.co\",\"roles\":[]}", NULL),
        "roles", "bootstrap roles");
    /* A bad request context. */
    icms_request bad = f.host;
    bad.version = 99;
    assert_icms(ICMS_EVERSION,
                icms_user_create(f.db, &bad, "{\"name\":\"A\",\"email\":\"a@b.co\"}", NULL));
    assert_icms(ICMS_EINVALID,
                icms_user_create(NULL, &f.host, "{\"name\":\"A\",\"email\":\"a@b.co\"}", NULL));
    assert_icms(ICMS_EINVALID,
                icms_user_create(f.db, NULL, "{\"name\":\"A\",\"email\":\"a@b.co\"}", NULL));
    icms_request bad_actor = ICMS_REQUEST_INIT;
    bad_actor.actor_id = "not-an-id";
    assert_icms(ICMS_EUNAUTHENTICATED,
                icms_user_create(f.db, &bad_actor, "{\"name\":\"A\",\"email\":\"a@b.co\"}", NULL));
    assert_true(before == digest(&f));
    uf_close(&f);
}

static void test_update_refuses_bad_input_naming_the_field(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_bad_update");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    uint64_t before = digest(&f);
    static const struct bad_case bad_updates[] = {
        {"", "document"},
        {"{", "document"},
        {"null", "document"},
        {"{}", "document"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":\"\\u001f\"}", "name"},
        {"{\"email\":null}", "email"},
        {"{\"email\":\"x\"}", "email"},
        {"{\"email\":\"x@y\"}", "email"},
        {"{\"phone\":\"555\"}", "phone"},
        {"{\"phone\":false}", "phone"},
        {"{\"photo_url\":\"http://a.b/c\"}", "photo_url"},
        {"{\"roles\":[\"ADMIN\"]}", "roles"},
        {"{\"status\":\"ACTIVE\"}", "status"},
        {"{\"id\":\"x\"}", "id"},
        {"{\"name\":\"Ok\",\"extra\":1}", "extra"},
    };
    for (size_t i = 0; i < sizeof bad_updates / sizeof bad_updates[0]; i++) {
        int rc = icms_user_update(f.db, &u.req, u.id, bad_updates[i].json, NULL);
        expect_field_error(rc, bad_updates[i].field, bad_updates[i].json);
    }
    expect_field_error(icms_user_update(f.db, &u.req, u.id, NULL, NULL), "document", "NULL");
    /* Bad ids, for every call that takes one. */
    static const char *bad_ids[] = {"", "nope", "0190F5A2-7B3C-7DEF-8123-456789ABCDEF",
                                    "0190f5a2-7b3c-4def-8123-456789abcdef", NULL};
    for (size_t i = 0; i < sizeof bad_ids / sizeof bad_ids[0]; i++) {
        const char *id = bad_ids[i];
        expect_field_error(icms_user_update(f.db, &f.host, id, "{\"name\":\"X\"}", NULL), "id",
                           "update");
        expect_field_error(icms_user_get(f.db, &f.host, id, NULL), "id", "get");
        expect_field_error(icms_user_history(f.db, &f.host, id, NULL), "id", "history");
        expect_field_error(icms_user_grant_role(f.db, &f.host, id, "OWNER", NULL), "id", "grant");
        expect_field_error(icms_user_revoke_role(f.db, &f.host, id, "OWNER", NULL), "id", "revoke");
        expect_field_error(
            icms_user_set_kyc(f.db, &f.host, id, "PENDING", "{\"document\":\"passport\"}", NULL),
            "id", "kyc");
        expect_field_error(icms_user_deactivate(f.db, &f.host, id, NULL), "id", "deactivate");
        expect_field_error(icms_user_erase(f.db, &f.host, id, NULL), "id", "erase");
    }
    /* Bad role names. */
    static const char *bad_roles[] = {"", "admin", "KING", " ADMIN", NULL};
    for (size_t i = 0; i < sizeof bad_roles / sizeof bad_roles[0]; i++) {
        expect_field_error(icms_user_grant_role(f.db, &f.host, u.id, bad_roles[i], NULL), "role",
                           "grant role");
        expect_field_error(icms_user_revoke_role(f.db, &f.host, u.id, bad_roles[i], NULL), "role",
                           "revoke role");
    }
    assert_true(before == digest(&f));
    uf_close(&f);
}

/* ---- uniqueness ---- */

static void test_email_is_unique_regardless_of_case(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_unique");
    uf_user a, b;
    uf_create(&f, &a, "Alice", "alice@example.com", NULL);
    uf_create(&f, &b, "Bob", "bob@example.com", NULL);
    uint64_t before = digest(&f);
    static const char *taken[] = {"alice@example.com", "ALICE@EXAMPLE.COM", "Alice@Example.Com",
                                  "ada@EXAMPLE.com"};
    for (size_t i = 0; i < sizeof taken / sizeof taken[0]; i++) {
        char json[200];
        snprintf(json, sizeof json, "{\"name\":\"Copy\",\"email\":\"%s\"}", taken[i]);
        assert_icms(ICMS_EEXISTS, icms_user_create(f.db, &f.host, json, NULL));
        assert_non_null(strstr(icms_error_last()->message, "email"));
        snprintf(json, sizeof json, "{\"email\":\"%s\"}", taken[i]);
        assert_icms(ICMS_EEXISTS, icms_user_update(f.db, &b.req, b.id, json, NULL));
    }
    assert_true(before == digest(&f));
    /* Changing only the case of one's own address is fine, and keeps it unique. */
    assert_icms_ok(icms_user_update(f.db, &a.req, a.id, "{\"email\":\"Alice@Example.com\"}", NULL));
    assert_icms(ICMS_EEXISTS,
                icms_user_update(f.db, &b.req, b.id, "{\"email\":\"alice@example.COM\"}", NULL));
    /* Moving to a new address frees the old one. */
    assert_icms_ok(icms_user_update(f.db, &a.req, a.id, "{\"email\":\"alice@new.example\"}", NULL));
    assert_icms_ok(icms_user_update(f.db, &b.req, b.id, "{\"email\":\"ALICE@example.com\"}", NULL));
    assert_icms(
        ICMS_EEXISTS,
        icms_user_create(f.db, &f.host, "{\"name\":\"C\",\"email\":\"alice@new.example\"}", NULL));
    uf_close(&f);
}

/* ---- update ---- */

static void test_update_changes_profile_and_announces_field_names(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_update");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    assert_icms_ok(icms_clock_fake_advance(f.clock, 60000));
    char *out = NULL;
    assert_icms_ok(icms_user_update(f.db, &u.req, u.id,
                                    "{\"name\":\"Una Prime\",\"phone\":\"+447700900123\"}", &out));
    cJSON *summary = uf_json(out);
    assert_false(uf_has(summary, "name"));
    assert_string_equal(uf_str(summary, "updated_at"), "2026-01-01T00:01:00.000Z");
    assert_string_equal(uf_str(summary, "created_at"), "2026-01-01T00:00:00.000Z");
    cJSON_Delete(summary);
    int rc, count;
    cJSON *doc = uf_get(&f, &u.req, u.id, &rc);
    assert_string_equal(uf_str(doc, "name"), "Una Prime");
    assert_string_equal(uf_str(doc, "phone"), "+447700900123");
    cJSON_Delete(doc);
    cJSON *event = uf_last_event(&f, "user.updated", &count);
    assert_int_equal(count, 1);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(event, "data"));
    char expected[200];
    snprintf(expected, sizeof expected, "{\"fields\":[\"name\",\"phone\"],\"user_id\":\"%s\"}",
             u.id);
    assert_string_equal(text, expected);
    cJSON_free(text);
    cJSON_Delete(event);
    cJSON *audit = uf_last_audit(&f, NULL);
    assert_string_equal(uf_str(audit, "action"), "user.update");
    assert_string_equal(uf_str(audit, "actor"), u.id);
    text = cJSON_PrintUnformatted(audit);
    assert_null(strstr(text, "Una Prime"));
    assert_null(strstr(text, "+447700900123"));
    cJSON_free(text);
    cJSON_Delete(audit);

    /* null removes an optional field; an admin may edit too. */
    assert_icms_ok(icms_user_update(f.db, &f.admin.req, u.id, "{\"phone\":null}", NULL));
    doc = uf_get(&f, &u.req, u.id, &rc);
    assert_false(uf_has(doc, "phone"));
    cJSON_Delete(doc);
    /* An update that changes nothing writes nothing. */
    uint64_t before = digest(&f);
    assert_icms_ok(
        icms_user_update(f.db, &u.req, u.id, "{\"name\":\"Una Prime\",\"phone\":null}", &out));
    summary = uf_json(out);
    assert_string_equal(uf_str(summary, "id"), u.id);
    cJSON_Delete(summary);
    assert_true(before == digest(&f));
    uf_close(&f);
}

/* ---- roles ---- */

static void test_roles_grant_revoke_and_the_last_admin(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_roles");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    char *out = NULL;
    assert_icms_ok(icms_user_grant_role(f.db, &f.admin.req, u.id, "OWNER", &out));
    cJSON *summary = uf_json(out);
    assert_int_equal(roles_count(summary), 2);
    assert_string_equal(role_at(summary, 0), "OWNER");
    assert_string_equal(role_at(summary, 1), "INVESTOR");
    cJSON_Delete(summary);
    int count;
    cJSON *event = uf_last_event(&f, "user.role_granted", &count);
    assert_int_equal(count, 1);
    assert_string_equal(uf_str(cJSON_GetObjectItemCaseSensitive(event, "data"), "role"), "OWNER");
    cJSON_Delete(event);
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_grant_role(f.db, &f.host, u.id, "OWNER", NULL));
    assert_icms_ok(icms_user_revoke_role(f.db, &f.host, u.id, "INVESTOR", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_revoke_role(f.db, &f.host, u.id, "INVESTOR", NULL));
    event = uf_last_event(&f, "user.role_revoked", &count);
    assert_int_equal(count, 1);
    cJSON_Delete(event);

    /* The only admin keeps ADMIN, cannot be deactivated, cannot be erased. */
    uint64_t before = digest(&f);
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_revoke_role(f.db, &f.admin.req, f.admin.id, "ADMIN", NULL));
    assert_non_null(strstr(icms_error_last()->message, "last active administrator"));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_revoke_role(f.db, &f.host, f.admin.id, "ADMIN", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_deactivate(f.db, &f.host, f.admin.id, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_erase(f.db, &f.admin.req, f.admin.id, NULL));
    assert_true(before == digest(&f));

    /* With a second admin, the first may step down; then it is the second's turn to be last. */
    assert_icms_ok(icms_user_grant_role(f.db, &f.admin.req, u.id, "ADMIN", NULL));
    assert_icms_ok(icms_user_revoke_role(f.db, &f.admin.req, f.admin.id, "ADMIN", NULL));
    /* Roles are read in each command's own transaction: the former admin is refused at once. */
    assert_icms(ICMS_EFORBIDDEN, icms_user_grant_role(f.db, &f.admin.req, u.id, "OWNER", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_revoke_role(f.db, &u.req, u.id, "ADMIN", NULL));
    /* A deactivated admin does not count: give the admin role back, deactivate, and retry. */
    assert_icms_ok(icms_user_grant_role(f.db, &u.req, f.admin.id, "ADMIN", NULL));
    assert_icms_ok(icms_user_deactivate(f.db, &u.req, f.admin.id, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_revoke_role(f.db, &f.host, u.id, "ADMIN", NULL));
    /* And bootstrap stays closed: it ran once. */
    assert_icms(ICMS_EEXISTS,
                icms_user_bootstrap_admin(f.db, &f.host,
                                          "{\"name\":\"Z\",\"email\":\"z@example.com\"}", NULL));
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

/* ---- KYC ---- */

static int kyc_history_len(uf *f, const char *id, cJSON **last)
{
    int rc;
    cJSON *doc = uf_get(f, &f->host, id, &rc);
    assert_icms_ok(rc);
    const cJSON *history =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "kyc"), "history");
    int n = cJSON_GetArraySize(history);
    if (last)
        *last = cJSON_Duplicate(cJSON_GetArrayItem(history, n - 1), 1);
    cJSON_Delete(doc);
    return n;
}

/* Every field of the KYC metadata schema, each at a valid value. */
#define KYC_FULL                                                                                   \
    "{\"document\":\"national_id\",\"country\":\"DE\",\"number\":"                                 \
    "\"T22000129\",\"date_of_birth\":\"2000-02-29\",\"nationality\":\"DE\",\"address\":{"          \
    "\"line1\":\"Hauptstr. 1\",\"line2\":\"c/o M\\u00fcller\",\"city\":\"Berlin\","                \
    "\"postal_code\":\"10115\",\"region\":\"BE\",\"country\":\"DE\"},\"provider\":\"acme-kyc\","   \
    "\"provider_reference\":\"case-42\",\"files\":[\"kyc/u1/front.jpg\",\"kyc/u1/back.jpg\"],"     \
    "\"extra\":{\"score\":0.93,\"checks\":[\"liveness\"]}}"

static void test_kyc_flow(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_kyc");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    /* The user cannot decide; an admin cannot decide what was never submitted. */
    assert_icms(ICMS_EFORBIDDEN, icms_user_set_kyc(f.db, &u.req, u.id, "VERIFIED", NULL, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_set_kyc(f.db, &f.admin.req, u.id, "VERIFIED", NULL, NULL));
    char *out = NULL;
    assert_icms_ok(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING",
                                     "{\"document\":\"passport\",\"country\":\"DE\"}", &out));
    cJSON *summary = uf_json(out);
    assert_string_equal(uf_str(summary, "kyc_status"), "PENDING");
    cJSON_Delete(summary);
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_set_kyc(f.db, &u.req, u.id, "PENDING",
                                                            "{\"document\":\"passport\"}", NULL));
    assert_icms(ICMS_EFORBIDDEN, icms_user_set_kyc(f.db, &u.req, u.id, "REJECTED", NULL, NULL));
    assert_icms_ok(icms_user_set_kyc(f.db, &f.admin.req, u.id, "REJECTED",
                                     "{\"note\":\"photo unreadable\"}", NULL));
    assert_icms_ok(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", KYC_FULL, NULL));
    assert_icms_ok(icms_user_set_kyc(f.db, &f.host, u.id, "VERIFIED", NULL, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_set_kyc(f.db, &f.host, u.id, "VERIFIED", NULL, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_set_kyc(f.db, &u.req, u.id, "PENDING",
                                                            "{\"document\":\"passport\"}", NULL));

    int rc;
    cJSON *doc = uf_get(&f, &u.req, u.id, &rc);
    const cJSON *kyc = cJSON_GetObjectItemCaseSensitive(doc, "kyc");
    assert_string_equal(uf_str(kyc, "status"), "VERIFIED");
    assert_string_equal(uf_str(cJSON_GetObjectItemCaseSensitive(kyc, "metadata"), "document"),
                        "national_id");
    const cJSON *history = cJSON_GetObjectItemCaseSensitive(kyc, "history");
    assert_int_equal(cJSON_GetArraySize(history), 4);
    static const char *statuses[] = {"PENDING", "REJECTED", "PENDING", "VERIFIED"};
    const char *by[] = {u.id, f.admin.id, u.id, "host"};
    for (int i = 0; i < 4; i++) {
        const cJSON *entry = cJSON_GetArrayItem(history, i);
        assert_string_equal(uf_str(entry, "status"), statuses[i]);
        assert_string_equal(uf_str(entry, "by"), by[i]);
        assert_string_equal(uf_str(entry, "at"), "2026-01-01T00:00:00.000Z");
        assert_int_equal(uf_has(entry, "note"), i == 1);
    }
    assert_string_equal(uf_str(cJSON_GetArrayItem(history, 1), "note"), "photo unreadable");
    cJSON_Delete(doc);
    int count;
    cJSON *event = uf_last_event(&f, "user.kyc_changed", &count);
    assert_int_equal(count, 4);
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(event, "data");
    assert_string_equal(uf_str(data, "from"), "PENDING");
    assert_string_equal(uf_str(data, "to"), "VERIFIED");
    assert_false(uf_has(data, "metadata"));
    cJSON_Delete(event);
    /* A verification may be withdrawn by an admin. */
    assert_icms_ok(icms_user_set_kyc(f.db, &f.admin.req, u.id, "REJECTED", NULL, NULL));

    /* An admin does not decide their own KYC; the host may. */
    assert_icms_ok(icms_user_set_kyc(f.db, &f.admin.req, f.admin.id, "PENDING",
                                     "{\"document\":\"passport\"}", NULL));
    assert_icms(ICMS_EFORBIDDEN,
                icms_user_set_kyc(f.db, &f.admin.req, f.admin.id, "VERIFIED", NULL, NULL));
    assert_icms_ok(icms_user_set_kyc(f.db, &f.host, f.admin.id, "VERIFIED", NULL, NULL));
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

static void test_kyc_refuses_bad_input(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_kyc_bad");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    uint64_t before = digest(&f);
    static const char *bad_status[] = {NULL, "", "NONE", "pending", "APPROVED"};
    for (size_t i = 0; i < sizeof bad_status / sizeof bad_status[0]; i++)
        expect_field_error(icms_user_set_kyc(f.db, &u.req, u.id, bad_status[i], "{}", NULL),
                           "status", "status");
    expect_field_error(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", NULL, NULL), "metadata",
                       "no metadata");
    static const char *bad_metadata[] = {
        "",
        "[]",
        "\"x\"",
        "42",
        "{\"a\":",
        "{\"document\":\"passport\",\"document\":\"other\"}",
        "{\"document\":\"passport\",\"extra\":{\"a\":\"\xc3\"}}",
        "{}",
        "{\"document\":\"PASSPORT\"}",
        "{\"document\":\"passport\",\"ssn\":\"123\"}",
        "{\"document\":\"passport\",\"country\":\"de\"}",
        "{\"document\":\"passport\",\"country\":\"DEU\"}",
        "{\"document\":\"passport\",\"nationality\":7}",
        "{\"document\":\"passport\",\"date_of_birth\":\"2001-02-30\"}",
        "{\"document\":\"passport\",\"date_of_birth\":\"2001-2-3\"}",
        "{\"document\":\"passport\",\"number\":\"\"}",
        "{\"document\":\"passport\",\"number\":\"A\\nB\"}",
        "{\"document\":\"passport\",\"address\":{\"line1\":\"Main St 1\",\"country\":\"DE\"}}",
        "{\"document\":\"passport\",\"address\":{\"line1\":\"x\",\"city\":\"y\",\"country\":"
        "\"DE\",\"zip\":\"1\"}}",
        "{\"document\":\"passport\",\"files\":[\"a\",1]}",
        "{\"document\":\"passport\",\"files\":\"a\"}",
        "{\"document\":\"passport\",\"extra\":[]}",
        "{\"document\":\"passport\",\"files\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\","
        "\"8\","
        "\"9\",\"10\",\"11\",\"12\",\"13\",\"14\",\"15\",\"16\",\"17\",\"18\",\"19\",\"20\",\"21\"]"
        "}",
    };
    for (size_t i = 0; i < sizeof bad_metadata / sizeof bad_metadata[0]; i++)
        expect_field_error(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", bad_metadata[i], NULL),
                           "metadata", bad_metadata[i]);
    /* 16 KiB is the limit, exactly: a document of that size, then one byte more. */
    static const char head[] = "{\"document\":\"passport\",\"extra\":{\"a\":\"";
    static const char tail[] = "\"}}";
    char *big = malloc(ICMS_USER_KYC_METADATA_MAX + 2);
    size_t fill = ICMS_USER_KYC_METADATA_MAX - (sizeof head - 1) - (sizeof tail - 1);
    memcpy(big, head, sizeof head - 1);
    memset(big + sizeof head - 1, 'x', fill);
    memcpy(big + sizeof head - 1 + fill, tail, sizeof tail); /* with the NUL */
    assert_int_equal(strlen(big), ICMS_USER_KYC_METADATA_MAX);
    big[ICMS_USER_KYC_METADATA_MAX] = ' ';
    big[ICMS_USER_KYC_METADATA_MAX + 1] = '\0';
    expect_field_error(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", big, NULL), "metadata",
                       "16 KiB + 1");
    big[ICMS_USER_KYC_METADATA_MAX] = '\0';
    assert_true(before == digest(&f));
    assert_icms_ok(icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", big, NULL));
    free(big);
    before = digest(&f);
    static const struct bad_case bad_notes[] = {
        {"[]", "document"},          {"{}", "note"},
        {"{\"note\":\"\"}", "note"}, {"{\"note\":1}", "note"},
        {"{\"why\":\"x\"}", "why"},  {"{", "note"},
    };
    for (size_t i = 0; i < sizeof bad_notes / sizeof bad_notes[0]; i++)
        expect_field_error(
            icms_user_set_kyc(f.db, &f.host, u.id, "REJECTED", bad_notes[i].json, NULL),
            bad_notes[i].field, bad_notes[i].json);
    char note[ICMS_USER_KYC_NOTE_MAX + 20];
    strcpy(note, "{\"note\":\"");
    memset(note + 9, 'n', ICMS_USER_KYC_NOTE_MAX + 1);
    strcpy(note + 9 + ICMS_USER_KYC_NOTE_MAX + 1, "\"}");
    expect_field_error(icms_user_set_kyc(f.db, &f.host, u.id, "REJECTED", note, NULL), "note",
                       "long note");
    assert_true(before == digest(&f));
    uf_close(&f);
}

static void test_kyc_history_keeps_the_last_fifty(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_kyc_history");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    for (int i = 0; i < 30; i++) { /* 60 moves */
        assert_icms_ok(icms_clock_fake_advance(f.clock, 1000));
        assert_icms_ok(
            icms_user_set_kyc(f.db, &u.req, u.id, "PENDING", "{\"document\":\"passport\"}", NULL));
        char note[64];
        snprintf(note, sizeof note, "{\"note\":\"round %d\"}", i);
        assert_icms_ok(icms_user_set_kyc(f.db, &f.admin.req, u.id, "REJECTED", note, NULL));
    }
    cJSON *last = NULL;
    assert_int_equal(kyc_history_len(&f, u.id, &last), ICMS_USER_KYC_HISTORY_MAX);
    assert_string_equal(uf_str(last, "note"), "round 29");
    assert_string_equal(uf_str(last, "at"), "2026-01-01T00:00:30.000Z");
    cJSON_Delete(last);
    int rc;
    cJSON *doc = uf_get(&f, &f.host, u.id, &rc);
    const cJSON *first = cJSON_GetArrayItem(
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "kyc"), "history"),
        0);
    /* 60 moves, 50 kept: the first kept is move 11, the PENDING of round 5. */
    assert_string_equal(uf_str(first, "status"), "PENDING");
    assert_string_equal(uf_str(first, "at"), "2026-01-01T00:00:06.000Z");
    cJSON_Delete(doc);
    uf_close(&f);
}

/* ---- deactivation ---- */

static void test_deactivated_user_cannot_act_and_is_hidden(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_deactivate");
    uf_user u, other;
    uf_create(&f, &u, "Una", "una@example.com", "[\"OWNER\",\"ADMIN\"]");
    uf_create(&f, &other, "Otto", "otto@example.com", NULL);
    char *out = NULL;
    assert_icms_ok(icms_user_deactivate(f.db, &f.admin.req, u.id, &out));
    cJSON *summary = uf_json(out);
    assert_string_equal(uf_str(summary, "status"), "DEACTIVATED");
    cJSON_Delete(summary);
    int rc, count;
    cJSON *event = uf_last_event(&f, "user.deactivated", &count);
    assert_int_equal(count, 1);
    cJSON_Delete(event);
    /* Whatever they try, including what their (admin) role allowed. */
    assert_icms(ICMS_EUNAUTHENTICATED, icms_user_get(f.db, &u.req, u.id, NULL));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_user_grant_role(f.db, &u.req, other.id, "OWNER", NULL));
    assert_icms(ICMS_EUNAUTHENTICATED,
                icms_user_update(f.db, &u.req, u.id, "{\"name\":\"Back\"}", NULL));
    /* Others no longer see them; an admin does. */
    assert_null(uf_get(&f, &other.req, u.id, &rc));
    assert_int_equal(rc, ICMS_ENOTFOUND);
    cJSON *doc = uf_get(&f, &f.admin.req, u.id, &rc);
    assert_string_equal(uf_str(doc, "status"), "DEACTIVATED");
    assert_string_equal(uf_str(doc, "deactivated_at"), "2026-01-01T00:00:00.000Z");
    cJSON_Delete(doc);
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_deactivate(f.db, &f.host, u.id, NULL));
    /* A deactivated admin does not count as an admin, for the bootstrap either. */
    uf_close(&f);
}

/* ---- idempotency ---- */

static void test_idempotency_keys(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_idem");
    icms_request req = f.host;
    req.idempotency_key = "create-1";
    char *first = NULL, *again = NULL;
    const char *json = "{\"name\":\"Ida\",\"email\":\"ida@example.com\"}";
    assert_icms_ok(icms_user_create(f.db, &req, json, &first));
    assert_icms_ok(icms_clock_fake_advance(f.clock, 1000));
    /* The same request, even spelled differently, replays the first answer. */
    assert_icms_ok(icms_user_create(
        f.db, &req, "{ \"email\": \"ida@example.com\", \"name\": \"Ida\" }", &again));
    assert_string_equal(first, again);
    icms_free(again);
    int count;
    cJSON_Delete(uf_last_event(&f, "user.created", &count));
    assert_int_equal(count, 2); /* the admin's and Ida's: the replay created nothing */
    /* The same key for another request is refused, and writes nothing. */
    uint64_t before = digest(&f);
    assert_icms(
        ICMS_EIDEMPOTENCY,
        icms_user_create(f.db, &req, "{\"name\":\"Ida\",\"email\":\"ida2@example.com\"}", NULL));
    cJSON *doc = uf_json(first);
    char id[37];
    snprintf(id, sizeof id, "%s", uf_str(doc, "id"));
    cJSON_Delete(doc);
    assert_icms(ICMS_EIDEMPOTENCY, icms_user_deactivate(f.db, &req, id, NULL));
    assert_true(before == digest(&f));
    /* Keys belong to their actor: the admin may use the same key for something else. */
    icms_request admin = f.admin.req;
    admin.idempotency_key = "create-1";
    assert_icms_ok(icms_user_grant_role(f.db, &admin, id, "OWNER", &first));
    assert_icms_ok(
        icms_user_grant_role(f.db, &admin, id, "OWNER", &again)); /* a replay, not a refusal */
    assert_string_equal(first, again);
    icms_free(first);
    icms_free(again);
    assert_icms(ICMS_EIDEMPOTENCY, icms_user_grant_role(f.db, &admin, id, "ADMIN", NULL));
    /* Updates and KYC replay too. */
    icms_request self = ICMS_REQUEST_INIT;
    self.actor_id = id;
    self.idempotency_key = "k";
    assert_icms_ok(icms_user_update(f.db, &self, id, "{\"name\":\"Ida B\"}", NULL));
    assert_icms_ok(icms_user_update(f.db, &self, id, "{\"name\":\"Ida B\"}", NULL));
    cJSON_Delete(uf_last_event(&f, "user.updated", &count));
    assert_int_equal(count, 1);
    assert_icms(ICMS_EIDEMPOTENCY, icms_user_update(f.db, &self, id, "{\"name\":\"Ida C\"}", NULL));
    self.idempotency_key = "kyc";
    assert_icms_ok(icms_user_set_kyc(f.db, &self, id, "PENDING",
                                     "{\"document\":\"passport\",\"number\":\"1\"}", NULL));
    assert_icms_ok(icms_user_set_kyc(f.db, &self, id, "PENDING",
                                     "{\"document\":\"passport\",\"number\":\"1\"}", NULL));
    assert_icms(ICMS_EIDEMPOTENCY,
                icms_user_set_kyc(f.db, &self, id, "PENDING",
                                  "{\"document\":\"passport\",\"number\":\"2\"}", NULL));
    /* After 24 hours the key is free again: the same request now runs (and is refused). */
    assert_icms_ok(icms_clock_fake_advance(f.clock, ICMS_IDEMPOTENCY_WINDOW_MS));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_set_kyc(f.db, &self, id, "PENDING",
                                  "{\"document\":\"passport\",\"number\":\"1\"}", NULL));
    uf_close(&f);
}

/* ---- investor history ---- */

struct stats_call {
    uint8_t id[16];
    int64_t invested, refunded, joined;
};

static int add_stats(icms__tx *tx, void *arg)
{
    struct stats_call *call = arg;
    return icms__user_stats_add(tx, call->id, call->invested, call->refunded, call->joined);
}

static void history_of(uf *f, const icms_request *req, const char *id, long long expect[3])
{
    char *out = NULL;
    assert_icms_ok(icms_user_history(f->db, req, id, &out));
    /* Parse with our exact reader's rules: compare the text of the numbers. */
    char expected[300];
    snprintf(expected, sizeof expected,
             "{\"user_id\":\"%s\",\"invested\":%lld,\"refunded\":%lld,\"projects_joined\":%lld}",
             id, expect[0], expect[1], expect[2]);
    assert_string_equal(out, expected);
    icms_free(out);
}

static void test_investor_history_and_stats_add(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_history");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    long long zero[3] = {0, 0, 0};
    history_of(&f, &u.req, u.id, zero);

    struct stats_call call = {{0}, 150000000, 0, 1};
    assert_icms_ok(icms_uuid_parse(u.id, call.id, sizeof call.id));
    assert_icms_ok(icms__db_write(f.db, add_stats, &call));
    call = (struct stats_call){{0}, INT64_MAX - 150000000, 25, 2};
    assert_icms_ok(icms_uuid_parse(u.id, call.id, sizeof call.id));
    assert_icms_ok(icms__db_write(f.db, add_stats, &call));
    long long max[3] = {INT64_MAX, 25, 3};
    history_of(&f, &f.admin.req, u.id, max);

    /* Overflow, and totals below zero, are refused with nothing written. */
    uint64_t before = digest(&f);
    call.invested = 1, call.refunded = 0, call.joined = 0;
    assert_icms(ICMS_EINVALID, icms__db_write(f.db, add_stats, &call));
    assert_non_null(strstr(icms_error_last()->message, "invested"));
    call.invested = 0, call.refunded = -26;
    assert_icms(ICMS_EINVALID, icms__db_write(f.db, add_stats, &call));
    assert_non_null(strstr(icms_error_last()->message, "refunded"));
    call.refunded = 0, call.joined = INT64_MAX;
    assert_icms(ICMS_EINVALID, icms__db_write(f.db, add_stats, &call));
    call.invested = INT64_MIN, call.joined = 0;
    assert_icms(ICMS_EINVALID, icms__db_write(f.db, add_stats, &call));
    /* A correction may lower a total. Nothing at all is a no-op. */
    assert_true(before == digest(&f));
    call = (struct stats_call){{0}, -INT64_MAX, -25, -3};
    assert_icms_ok(icms_uuid_parse(u.id, call.id, sizeof call.id));
    assert_icms_ok(icms__db_write(f.db, add_stats, &call));
    history_of(&f, &f.host, u.id, zero);
    before = digest(&f);
    call.invested = call.refunded = call.joined = 0;
    assert_icms_ok(icms__db_write(f.db, add_stats, &call));
    assert_true(before == digest(&f));
    /* No such user. */
    call.joined = 1;
    assert_icms_ok(icms__uuid7_new(NULL, call.id));
    assert_icms(ICMS_ENOTFOUND, icms__db_write(f.db, add_stats, &call));
    assert_true(before == digest(&f));
    uf_close(&f);
}

static void test_history_survives_erasure(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_history_erased");
    uf_user u;
    uf_create(&f, &u, "Una", "una@example.com", NULL);
    struct stats_call call = {{0}, 42, 7, 1};
    assert_icms_ok(icms_uuid_parse(u.id, call.id, sizeof call.id));
    assert_icms_ok(icms__db_write(f.db, add_stats, &call));
    assert_icms_ok(icms_user_erase(f.db, &u.req, u.id, NULL));
    long long expect[3] = {42, 7, 1};
    history_of(&f, &f.admin.req, u.id, expect);
    uf_close(&f);
}

/* ---- what other commands use: icms__user_insert, icms__user_find_by_email ---- */

struct insert_call {
    const char *json;
    uint8_t id[16];
};

static int insert_fn(icms__cmd *cmd)
{
    struct insert_call *call = cmd->arg;
    cJSON *input = cJSON_Parse(call->json);
    if (!input)
        return ICMS_ENOMEM;
    int rc = icms__user_insert(cmd, input, call->id, NULL);
    cJSON_Delete(input);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.login", "test", NULL); /* the caller's own entry */
    return rc;
}

struct find_call {
    const char *email;
    uint8_t id[16];
};

static int find_fn(icms__cmd *cmd)
{
    struct find_call *call = cmd->arg;
    return icms__user_find_by_email(cmd->tx, call->email, call->id);
}

static int find(uf *f, const char *email, char id_text[37])
{
    struct find_call call = {email, {0}};
    int rc = icms__query(f->db, &f->host, find_fn, &call, NULL);
    if (rc == ICMS_OK)
        icms__uuid_format(call.id, id_text);
    return rc;
}

static void test_internal_insert_and_find_by_email(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_internal");
    struct insert_call call = {"{\"name\":\"Lin\",\"email\":\"Lin@Example.com\"}", {0}};
    assert_icms_ok(icms__command(f.db, &f.host, "test.insert", NULL, insert_fn, &call, NULL));
    char id[37], found[37];
    icms__uuid_format(call.id, id);
    int count, rc;
    cJSON *event = uf_last_event(&f, "user.created", &count);
    assert_int_equal(count, 2);
    assert_string_equal(uf_str(event, "subject"), id);
    cJSON_Delete(event);
    cJSON *doc = uf_get(&f, &f.host, id, &rc);
    assert_string_equal(uf_str(doc, "status"), "ACTIVE");
    assert_string_equal(uf_str(cJSON_GetObjectItemCaseSensitive(doc, "kyc"), "status"), "NONE");
    assert_string_equal(role_at(doc, 0), "INVESTOR");
    cJSON_Delete(doc);
    /* Every rule of icms_user_create holds. */
    uint64_t before = digest(&f);
    call.json = "{\"name\":\"Lin 2\",\"email\":\"lin@EXAMPLE.com\"}";
    assert_icms(ICMS_EEXISTS,
                icms__command(f.db, &f.host, "test.insert", NULL, insert_fn, &call, NULL));
    call.json = "{\"name\":\"Lin 2\",\"email\":\"lin@example\"}";
    assert_icms(ICMS_EINVALID,
                icms__command(f.db, &f.host, "test.insert", NULL, insert_fn, &call, NULL));
    assert_string_equal(icms_error_last()->message,
                        "email: the domain needs a dot (name@example.com)");
    call.json = "{\"name\":\"Lin 2\",\"email\":\"lin2@example.com\",\"admin\":true}";
    assert_icms(ICMS_EINVALID,
                icms__command(f.db, &f.host, "test.insert", NULL, insert_fn, &call, NULL));
    assert_true(before == digest(&f));

    /* Lookup ignores ASCII case, refuses what is not an address, forgets erased users. */
    assert_icms_ok(find(&f, "lin@example.com", found));
    assert_string_equal(found, id);
    assert_icms_ok(find(&f, "LIN@EXAMPLE.COM", found));
    assert_string_equal(found, id);
    assert_icms_ok(find(&f, "ADA@example.com", found));
    assert_string_equal(found, f.admin.id);
    assert_icms(ICMS_ENOTFOUND, find(&f, "nobody@example.com", found));
    assert_icms(ICMS_EINVALID, find(&f, "not an address", found));
    assert_icms(ICMS_EINVALID, find(&f, NULL, found));
    assert_icms_ok(icms_user_erase(f.db, &f.host, id, NULL));
    assert_icms(ICMS_ENOTFOUND, find(&f, "lin@example.com", found));
    uf_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bootstrap_creates_the_first_admin_once),
        cmocka_unit_test(test_bootstrap_refused_once_an_admin_exists),
        cmocka_unit_test(test_create_defaults_and_full_profile),
        cmocka_unit_test(test_edge_values_are_accepted),
        cmocka_unit_test(test_create_refuses_bad_input_naming_the_field),
        cmocka_unit_test(test_update_refuses_bad_input_naming_the_field),
        cmocka_unit_test(test_email_is_unique_regardless_of_case),
        cmocka_unit_test(test_update_changes_profile_and_announces_field_names),
        cmocka_unit_test(test_roles_grant_revoke_and_the_last_admin),
        cmocka_unit_test(test_kyc_flow),
        cmocka_unit_test(test_kyc_refuses_bad_input),
        cmocka_unit_test(test_kyc_history_keeps_the_last_fifty),
        cmocka_unit_test(test_deactivated_user_cannot_act_and_is_hidden),
        cmocka_unit_test(test_idempotency_keys),
        cmocka_unit_test(test_investor_history_and_stats_add),
        cmocka_unit_test(test_history_survives_erasure),
        cmocka_unit_test(test_internal_insert_and_find_by_email),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
