/*
 * Erasure leaves the id and an intact audit chain, and no personal data
 * anywhere in the store: every key and value is searched for the erased
 * name, email, phone, photo URL, KYC metadata and notes. And a failed
 * create, update or erase (every store call failing once, every allocation
 * failing once) leaves the store byte for byte as it was.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "core/core.h"
#include "icms/audit.h"
#include "icms/auth.h"
#include "icms/sys/secrets.h"
#include "support/fault_store.h"
#include "test_users_fixture.h"

/* Personal data of the person to be erased: each string is unique in the store. */
static const char *const personal[] = {
    "Zelda Quux-Original",       /* first name */
    "Zelda Quux-Renamed",        /* name after an update */
    "Zelda.Private@Example.org", /* email as written */
    "zelda.private@example.org", /* email as indexed */
    "zelda.second@example.org",  /* email after an update */
    "+4915112345678",
    "https://cdn.example.org/zelda-photo-987.png",
    "ZX-PASSPORT-4455",    /* in the KYC metadata */
    "note-about-zelda-77", /* an admin's KYC note */
};

static void assert_store_free_of(uf *f, const char *const *needles, size_t count)
{
    uint8_t *dump = NULL;
    size_t len = 0;
    assert_icms_ok(icms_test_store_dump(uf_store(f), &dump, &len));
    assert_true(len > 0);
    for (size_t i = 0; i < count; i++)
        if (uf_contains(dump, len, needles[i]))
            fail_msg("the store still holds \"%s\"", needles[i]);
    free(dump);
}

static void assert_store_holds(uf *f, const char *needle)
{
    uint8_t *dump = NULL;
    size_t len = 0;
    assert_icms_ok(icms_test_store_dump(uf_store(f), &dump, &len));
    if (!uf_contains(dump, len, needle))
        fail_msg("the store does not hold \"%s\"", needle);
    free(dump);
}

static void test_erasure_leaves_no_personal_data(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_erase");
    /* A full life, with idempotency keys so that remembered answers are searched too. */
    icms_request host = f.host;
    host.idempotency_key = "create-zelda";
    host.correlation_id = "corr-create";
    char *out = NULL;
    assert_icms_ok(icms_user_create(
        f.db, &host,
        "{\"name\":\"Zelda Quux-Original\",\"email\":\"Zelda.Private@Example.org\","
        "\"phone\":\"+4915112345678\",\"photo_url\":\"https://cdn.example.org/"
        "zelda-photo-987.png\","
        "\"roles\":[\"OWNER\",\"INVESTOR\"]}",
        &out));
    cJSON *doc = uf_json(out);
    char id[37];
    snprintf(id, sizeof id, "%s", uf_str(doc, "id"));
    cJSON_Delete(doc);
    icms_request self = ICMS_REQUEST_INIT;
    self.actor_id = id;
    self.idempotency_key = "kyc-1";
    assert_icms_ok(icms_user_set_kyc(f.db, &self, id, "PENDING",
                                     "{\"document\":\"passport\",\"number\":\"ZX-"
                                     "PASSPORT-4455\",\"country\":\"DE\"}",
                                     NULL));
    icms_request admin = f.admin.req;
    admin.idempotency_key = "decide-1";
    assert_icms_ok(icms_user_set_kyc(f.db, &admin, id, "REJECTED",
                                     "{\"note\":\"note-about-zelda-77\"}", NULL));
    self.idempotency_key = "update-1";
    assert_icms_ok(icms_user_update(f.db, &self, id, "{\"name\":\"Zelda Quux-Renamed\"}", NULL));
    assert_store_holds(&f, "Zelda Quux-Renamed");
    assert_store_holds(&f, "zelda.private@example.org");
    assert_store_holds(&f, "note-about-zelda-77");
    assert_icms_ok(
        icms_user_update(f.db, &f.host, id, "{\"email\":\"zelda.second@example.org\"}", NULL));
    assert_icms_ok(icms_user_deactivate(f.db, &f.host, id, NULL));

    /* The admin erases (the user is deactivated and cannot act any more). */
    assert_icms_ok(icms_clock_fake_advance(f.clock, 5000));
    assert_icms_ok(icms_user_erase(f.db, &f.admin.req, id, &out));
    doc = uf_json(out);
    assert_string_equal(uf_str(doc, "id"), id);
    assert_string_equal(uf_str(doc, "status"), "ERASED");
    cJSON_Delete(doc);

    assert_store_free_of(&f, personal, sizeof personal / sizeof personal[0]);
    assert_store_holds(&f, id); /* ids stay: audit, events, the record itself */
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));

    /* What remains is the tombstone. */
    int rc;
    doc = uf_get(&f, &f.admin.req, id, &rc);
    assert_icms_ok(rc);
    assert_string_equal(uf_str(doc, "name"), "erased user");
    assert_string_equal(uf_str(doc, "status"), "ERASED");
    assert_string_equal(uf_str(doc, "erased_at"), "2026-01-01T00:00:05.000Z");
    assert_string_equal(uf_str(doc, "created_at"), "2026-01-01T00:00:00.000Z");
    assert_false(uf_has(doc, "email"));
    assert_false(uf_has(doc, "phone"));
    assert_false(uf_has(doc, "photo_url"));
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(doc, "roles")), 0);
    const cJSON *kyc = cJSON_GetObjectItemCaseSensitive(doc, "kyc");
    assert_string_equal(uf_str(kyc, "status"), "REJECTED");
    assert_false(uf_has(kyc, "metadata"));
    const cJSON *history = cJSON_GetObjectItemCaseSensitive(kyc, "history");
    assert_int_equal(cJSON_GetArraySize(history), 2);
    assert_string_equal(uf_str(cJSON_GetArrayItem(history, 1), "by"), f.admin.id);
    assert_false(uf_has(cJSON_GetArrayItem(history, 1), "note"));
    cJSON_Delete(doc);
    int count;
    cJSON *event = uf_last_event(&f, "user.erased", &count);
    assert_int_equal(count, 1);
    assert_string_equal(uf_str(event, "subject"), id);
    cJSON_Delete(event);

    /* Erased is final: no second erase, no update, no role, no KYC; the email is free again. */
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_erase(f.db, &f.host, id, NULL));
    assert_icms(ICMS_EINVALID_TRANSITION,
                icms_user_update(f.db, &f.host, id, "{\"name\":\"Back\"}", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_grant_role(f.db, &f.host, id, "OWNER", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_set_kyc(f.db, &f.host, id, "PENDING",
                                                            "{\"document\":\"passport\"}", NULL));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_user_deactivate(f.db, &f.host, id, NULL));
    self.idempotency_key = NULL;
    assert_icms(ICMS_EUNAUTHENTICATED, icms_user_get(f.db, &self, id, NULL));
    assert_icms_ok(icms_user_create(
        f.db, &f.host, "{\"name\":\"New Zelda\",\"email\":\"ZELDA.SECOND@example.org\"}", NULL));
    assert_icms_ok(icms_user_create(
        f.db, &f.host, "{\"name\":\"Newer Zelda\",\"email\":\"zelda.private@example.org\"}", NULL));
    /* A replayed create answers the stored summary, which names no one. */
    host.idempotency_key = "create-zelda";
    assert_icms_ok(icms_user_create(
        f.db, &host,
        "{\"name\":\"Zelda Quux-Original\",\"email\":\"Zelda.Private@Example.org\","
        "\"phone\":\"+4915112345678\",\"photo_url\":\"https://cdn.example.org/"
        "zelda-photo-987.png\","
        "\"roles\":[\"OWNER\",\"INVESTOR\"]}",
        &out));
    doc = uf_json(out);
    assert_string_equal(uf_str(doc, "id"), id);
    assert_false(uf_has(doc, "name"));
    cJSON_Delete(doc);
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

static void test_users_erase_themselves(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_erase_self");
    uf_user u, other;
    uf_create(&f, &u, "Selma Selferase", "selma@example.net", "[\"OWNER\"]");
    uf_create(&f, &other, "Other", "other@example.net", NULL);
    assert_icms(ICMS_EFORBIDDEN, icms_user_erase(f.db, &other.req, u.id, NULL));
    assert_icms_ok(icms_user_erase(f.db, &u.req, u.id, NULL));
    static const char *const gone[] = {"Selma Selferase", "selma@example.net"};
    assert_store_free_of(&f, gone, 2);
    /* They can no longer act, and others no longer see them. */
    assert_icms(ICMS_EUNAUTHENTICATED, icms_user_get(f.db, &u.req, u.id, NULL));
    assert_icms(ICMS_ENOTFOUND, icms_user_get(f.db, &other.req, u.id, NULL));
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

/* ---- erasure reaches auth's records ---- */

static void test_erasure_reaches_auth_records(void **state)
{
    (void)state;
    uf f;
    uf_open(&f, "users_erase_auth");
    icms_auth_options o = ICMS_AUTH_OPTIONS_INIT;
    o.issuer = "https://icms.example";
    o.audience = "icms-api";
    o.password_opslimit = 1;
    o.password_memlimit = 8192; /* Argon2id's minimum: the test is about erasure, not hashing */
    uint8_t master[32];
    for (int i = 0; i < 32; i++)
        master[i] = (uint8_t)(i * 5 + 1);
    assert_icms_ok(icms_secrets_static_new(master, sizeof master, &o.secrets));
    icms_auth *auth = NULL;
    assert_icms_ok(icms_auth_new(&auth, f.db, &o));

    /* First login with an external identity creates the user and links the identity. */
    icms_auth_identity who = ICMS_AUTH_IDENTITY_INIT;
    who.provider = "google";
    who.subject = "google-subject-ZQ77";
    who.email = "quinn.quux@example.net";
    who.email_verified = 1;
    who.name = "Quinn Quuxley";
    who.device = "Quinns-Pixel-Phone";
    char *out = NULL;
    assert_icms_ok(icms_auth_login_external(auth, &f.anonymous, &who, &out));
    cJSON *doc = uf_json(out);
    char id[37];
    snprintf(id, sizeof id, "%s", uf_str(doc, "user_id"));
    cJSON_Delete(doc);
    /* A password and a second session from another device. */
    assert_icms_ok(icms_auth_password_set(auth, &f.host, id, "correct horse battery"));
    icms_auth_password_login login = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    login.email = "quinn.quux@example.net";
    login.password = "correct horse battery";
    login.device = "Quinns-Laptop-Firefox";
    assert_icms_ok(icms_auth_login_password(auth, &f.anonymous, &login, &out));
    icms_free(out);
    assert_store_holds(&f, "google-subject-ZQ77");
    assert_store_holds(&f, "Quinns-Laptop-Firefox");

    assert_icms_ok(icms_user_erase(f.db, &f.host, id, NULL));
    static const char *const gone[] = {"google-subject-ZQ77", "Quinns-Pixel-Phone",
                                       "Quinns-Laptop-Firefox", "quinn.quux@example.net",
                                       "Quinn Quuxley"};
    assert_store_free_of(&f, gone, sizeof gone / sizeof gone[0]);
    /* Nothing of the account works any more: the password and the identity are gone. */
    out = NULL;
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_login_password(auth, &f.anonymous, &login, &out));
    assert_null(out);
    /* The same identity logging in again is a new person to us: a new user, a new id. */
    assert_icms_ok(icms_auth_login_external(auth, &f.anonymous, &who, &out));
    doc = uf_json(out);
    assert_string_not_equal(uf_str(doc, "user_id"), id);
    cJSON_Delete(doc);
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    icms_auth_free(auth);
    uf_close(&f);
}

/* ---- failures leave no trace ---- */

typedef int (*command_fn)(uf *f, int attempt);

static char target_id[37];

static int do_create(uf *f, int attempt)
{
    char json[200];
    snprintf(json, sizeof json,
             "{\"name\":\"Fay %d\",\"email\":\"fay%d@example.com\",\"phone\":\"+12025550100\"}",
             attempt, attempt);
    return icms_user_create(f->db, &f->host, json, NULL);
}

static int do_update(uf *f, int attempt)
{
    char json[200];
    snprintf(json, sizeof json, "{\"name\":\"Try %d\",\"email\":\"try%d@example.com\"}", attempt,
             attempt);
    return icms_user_update(f->db, &f->admin.req, target_id, json, NULL);
}

static int do_erase(uf *f, int attempt)
{
    (void)attempt;
    return icms_user_erase(f->db, &f->host, target_id, NULL);
}

static int do_revoke_admin(uf *f, int attempt)
{
    (void)attempt;
    return icms_user_revoke_role(f->db, &f->host, target_id, "ADMIN", NULL);
}

static int do_kyc(uf *f, int attempt)
{
    (void)attempt;
    return icms_user_set_kyc(f->db, &f->host, target_id, "PENDING",
                             "{\"document\":\"passport\",\"files\":[\"a\",\"b\",\"c\"]}", NULL);
}

/* The bootstrapped admin (who acts in do_update) and a target with every field and ADMIN. */
static void prepare(uf *f)
{
    char *out = NULL;
    assert_icms_ok(icms_user_bootstrap_admin(
        f->db, &f->host, "{\"name\":\"Ada\",\"email\":\"ada@example.com\"}", &out));
    cJSON *doc = uf_json(out);
    snprintf(f->admin.id, sizeof f->admin.id, "%s", uf_str(doc, "id"));
    cJSON_Delete(doc);
    icms_request init = ICMS_REQUEST_INIT;
    f->admin.req = init;
    f->admin.req.actor_id = f->admin.id;
    assert_icms_ok(icms_user_create(
        f->db, &f->host,
        "{\"name\":\"Target\",\"email\":\"target@example.com\",\"phone\":\"+12025550199\","
        "\"photo_url\":\"https://x.example/t.png\",\"roles\":[\"ADMIN\",\"OWNER\"]}",
        &out));
    doc = uf_json(out);
    snprintf(target_id, sizeof target_id, "%s", uf_str(doc, "id"));
    cJSON_Delete(doc);
}

static void fail_every_store_call(icms_store *inner, command_fn fn, const char *what)
{
    icms_store *fault;
    assert_icms_ok(icms_test_fault_store_new(&fault, inner, true));
    uf f;
    uf_open_store(&f, fault, 1); /* one attempt: a failure must surface, not be retried away */
    prepare(&f);
    static const int codes[] = {ICMS_ESTORAGE, ICMS_ECONFLICT, ICMS_EBUSY, ICMS_ENOMEM};
    unsigned long n;
    int attempt = 0;
    for (n = 1;; n++) {
        bool fired = false;
        for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
            uint64_t before, after;
            size_t kb, ka;
            assert_icms_ok(icms_test_store_digest(inner, &before, &kb));
            icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, n, codes[c]);
            int rc = fn(&f, ++attempt);
            fired = icms_test_fault_store_fired(fault);
            icms_test_fault_store_reset(fault);
            if (!fired) {
                assert_icms_ok(rc); /* every call has failed once; now it runs through */
                break;
            }
            if (rc != codes[c])
                fail_msg("%s: store call %lu failing with %s returned %s", what, n,
                         icms_error_name(codes[c]), icms_error_name(rc));
            assert_icms_ok(icms_test_store_digest(inner, &after, &ka));
            if (before != after || kb != ka)
                fail_msg("%s: store call %lu failing with %s changed the store", what, n,
                         icms_error_name(codes[c]));
        }
        if (!fired)
            break;
    }
    assert_true(n > 5); /* the command made several store calls, each failed once */
    assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
    uf_close(&f);
}

static void test_store_failures_leave_no_trace_memory(void **state)
{
    (void)state;
    static const command_fn fns[] = {do_create, do_update, do_erase, do_revoke_admin, do_kyc};
    static const char *names[] = {"create", "update", "erase", "revoke ADMIN", "set_kyc"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        icms_store *inner;
        assert_icms_ok(icms_store_memory_new(&inner));
        fail_every_store_call(inner, fns[i], names[i]);
    }
}

static void test_store_failures_leave_no_trace_sqlite(void **state)
{
    (void)state;
    static const command_fn fns[] = {do_create, do_update, do_erase};
    static const char *names[] = {"create", "update", "erase"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/icms.db", icms_test_tmpdir("users_faults_sqlite"));
        icms_store *inner;
        assert_icms_ok(icms_store_sqlite_new(&inner, path, NULL));
        fail_every_store_call(inner, fns[i], names[i]);
    }
}

static void test_allocation_failures_leave_no_trace(void **state)
{
    (void)state;
    static const command_fn fns[] = {do_create, do_update, do_erase, do_kyc};
    static const char *names[] = {"create", "update", "erase", "set_kyc"};
    for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
        icms_store *inner;
        assert_icms_ok(icms_store_memory_new(&inner));
        uf f;
        uf_open_store(&f, inner, 1);
        prepare(&f);
        long n;
        for (n = 1; n < 100000; n++) {
            uint64_t before, after;
            size_t kb, ka;
            assert_icms_ok(icms_test_store_digest(inner, &before, &kb));
            icms__alloc_fail_after(n);
            int rc = fns[i](&f, (int)n);
            icms__alloc_fail_after(0);
            if (rc == ICMS_OK)
                break;
            assert_icms_ok(icms_test_store_digest(inner, &after, &ka));
            if (before != after)
                fail_msg("%s: allocation %ld failing (%s) changed the store", names[i], n,
                         icms_error_name(rc));
        }
        assert_true(n > 10);
        assert_icms_ok(icms_audit_verify(f.db, NULL, NULL, 0, NULL));
        uf_close(&f);
    }
}

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_erasure_leaves_no_personal_data),
        cmocka_unit_test(test_users_erase_themselves),
        cmocka_unit_test(test_erasure_reaches_auth_records),
        cmocka_unit_test(test_store_failures_leave_no_trace_memory),
        cmocka_unit_test(test_store_failures_leave_no_trace_sqlite),
        cmocka_unit_test(test_allocation_failures_leave_no_trace),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
