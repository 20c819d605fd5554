/*
 * Auth commands against a store that fails its Nth call, for every N each
 * command makes: logins (first and later), refresh, password login (success
 * and the failure count), logout-all and key rotation. After every failure
 * the store is byte-for-byte what it was; with no failure the call succeeds.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/db.h"
#include "app_fixture.h"
#include "icms/auth.h"
#include "icms/sys/secrets.h"
#include "icms/users.h"
#include "support/fault_store.h"

typedef struct tf {
    fx f; /* only db and the users are used */
    icms_store *fault;
    icms_auth *auth;
    char refresh[64];
    char email[64];
} tf;

static int setup(void **state)
{
    tf *t = calloc(1, sizeof *t);
    assert_true(icms_init() > 0);
    icms_store *inner = NULL;
    assert_icms_ok(icms_store_memory_new(&inner));
    assert_icms_ok(icms_test_fault_store_new(&t->fault, inner, true));
    icms_options o = ICMS_OPTIONS_INIT;
    o.store = t->fault;
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &o.clock));
    t->f.clock = o.clock;
    assert_icms_ok(icms_open(&t->f.db, &o));
    fx_add_user(&t->f, &t->f.admin, ICMS_ROLE_ADMIN, "VERIFIED");
    fx_add_user(&t->f, &t->f.investor, ICMS_ROLE_INVESTOR, "NONE");
    t->f.host = (icms_request)ICMS_REQUEST_INIT;
    t->f.host.actor_kind = ICMS_ACTOR_HOST;
    t->f.anonymous = (icms_request)ICMS_REQUEST_INIT;
    icms_auth_options a = ICMS_AUTH_OPTIONS_INIT;
    uint8_t master[32];
    memset(master, 0x42, sizeof master);
    a.issuer = "https://icms.example";
    a.audience = "icms-api";
    a.password_opslimit = crypto_pwhash_OPSLIMIT_MIN;
    a.password_memlimit = crypto_pwhash_MEMLIMIT_MIN;
    assert_icms_ok(icms_secrets_static_new(master, 32, &a.secrets));
    assert_icms_ok(icms_auth_new(&t->auth, t->f.db, &a));
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    tf *t = *state;
    icms_auth_free(t->auth);
    icms_close(t->f.db);
    icms_shutdown();
    free(t);
    return 0;
}

typedef int (*op_fn)(tf *t, char **out);

/* Fail every call of op in turn; then run it clean and hand back its answer. */
static char *every_fault(tf *t, op_fn op, int expect)
{
    icms_store *inner = icms_test_fault_store_inner(t->fault);
    unsigned long faults = 0;
    for (unsigned long n = 1;; n++) {
        uint8_t *before = NULL, *after = NULL;
        size_t before_len = 0, after_len = 0;
        assert_icms_ok(icms_test_store_dump(inner, &before, &before_len));
        icms_test_fault_store_fail(t->fault, ICMS_TEST_FAULT_ANY, n, ICMS_ESTORAGE);
        char *out = NULL;
        int rc = op(t, &out);
        bool fired = icms_test_fault_store_fired(t->fault);
        icms_test_fault_store_fail(t->fault, ICMS_TEST_FAULT_ANY, 0, 0);
        if (!fired) {
            free(before);
            assert_icms(expect, rc);
            assert_true(faults > 3);
            return out;
        }
        faults++;
        if (rc == ICMS_OK)
            fail_msg("call %lu failed but the operation succeeded", n);
        assert_null(out);
        assert_icms_ok(icms_test_store_dump(inner, &after, &after_len));
        if (before_len != after_len || memcmp(before, after, before_len) != 0)
            fail_msg("store changed after a fault at call %lu (rc %d)", n, rc);
        free(before);
        free(after);
    }
}

static int op_login_new(tf *t, char **out)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "apple";
    id.subject = "apple-1";
    id.email = "faults@example.org";
    id.email_verified = 1;
    return icms_auth_login_external(t->auth, &t->f.anonymous, &id, out);
}

static void keep_refresh(tf *t, char *out)
{
    cJSON *doc = fx_json(out);
    snprintf(t->refresh, sizeof t->refresh, "%s", fx_str(doc, "refresh_token"));
    cJSON_Delete(doc);
}

static int op_refresh(tf *t, char **out)
{
    return icms_auth_refresh(t->auth, &t->f.anonymous, t->refresh, out);
}

static int op_password_ok(tf *t, char **out)
{
    icms_auth_password_login l = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    l.email = t->email;
    l.password = "fault-password";
    l.source = "203.0.113.9";
    return icms_auth_login_password(t->auth, &t->f.anonymous, &l, out);
}

static int op_password_wrong(tf *t, char **out)
{
    icms_auth_password_login l = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    l.email = t->email;
    l.password = "wrong-password";
    l.source = "203.0.113.9";
    return icms_auth_login_password(t->auth, &t->f.anonymous, &l, out);
}

static int op_logout_all(tf *t, char **out)
{
    return icms_auth_logout_all(t->f.db, &t->f.host, t->f.investor.id, out);
}

static int op_rotate(tf *t, char **out)
{
    return icms_auth_rotate_keys(t->auth, &t->f.host, out);
}

static int op_set_password(tf *t, char **out)
{
    *out = NULL;
    return icms_auth_password_set(t->auth, &t->f.host, t->f.investor.id, "fault-password");
}

static void test_login_and_refresh_under_faults(void **state)
{
    tf *t = *state;
    keep_refresh(t, every_fault(t, op_login_new, ICMS_OK)); /* creates the user */
    keep_refresh(t, every_fault(t, op_login_new, ICMS_OK)); /* links to it */
    keep_refresh(t, every_fault(t, op_refresh, ICMS_OK));   /* rotates */
    icms_free(every_fault(t, op_rotate, ICMS_OK));
    keep_refresh(t, every_fault(t, op_refresh, ICMS_OK)); /* signs with the new key */
}

static void test_passwords_and_logout_under_faults(void **state)
{
    tf *t = *state;
    char *out = NULL;
    assert_icms_ok(icms_user_get(t->f.db, &t->f.host, t->f.investor.id, &out));
    cJSON *u = fx_json(out);
    snprintf(t->email, sizeof t->email, "%s", fx_str(u, "email"));
    cJSON_Delete(u);
    every_fault(t, op_set_password, ICMS_OK);
    every_fault(t, op_password_wrong, ICMS_EUNAUTHENTICATED); /* the count commits or nothing */
    icms_free(every_fault(t, op_password_ok, ICMS_OK));
    icms_free(every_fault(t, op_password_ok, ICMS_OK));
    icms_free(every_fault(t, op_logout_all, ICMS_OK));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_and_refresh_under_faults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_passwords_and_logout_under_faults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
