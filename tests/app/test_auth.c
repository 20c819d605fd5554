/*
 * Auth through the public API: external and password logins, access tokens
 * authenticating commands, refresh rotation and reuse detection, sessions,
 * logout and logout-all, key rotation and JWKS, the sweep, failed-login
 * throttling, and that no secret ever reaches a message or the store.
 */
#include "support/test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "app/auth_cmd.h"
#include "app/db.h"
#include "app_fixture.h"
#include "auth/store.h"
#include "core/core.h"
#include "icms/audit.h"
#include "icms/auth.h"
#include "icms/projects.h"
#include "icms/sys/secrets.h"
#include "icms/users.h"
#include "core/uuid.h"
#include "kv/run.h"
#include "support/fault_store.h"

#define MIN 60000LL

typedef struct ta {
    fx f;
    icms_auth *auth;
    uint8_t master[32];
    /* Every secret handed out or taken in, to scan messages and the store for. */
    char *secrets[256];
    size_t nsecrets;
} ta;

static void remember(ta *t, const char *secret)
{
    assert_true(t->nsecrets < ICMS__ARRAY_LEN(t->secrets));
    t->secrets[t->nsecrets++] = strdup(secret);
}

/* The last error's message must hold none of the secrets seen so far. */
static void message_clean(ta *t)
{
    const char *m = icms_error_last()->message;
    for (size_t i = 0; i < t->nsecrets; i++)
        if (strstr(m, t->secrets[i]))
            fail_msg("a secret leaked into an error message: %s", m);
}

static int open_auth(ta *t, const uint8_t master[32], const char *audience, unsigned long long ops,
                     icms_auth **out)
{
    icms_auth_options o = ICMS_AUTH_OPTIONS_INIT;
    o.issuer = "https://icms.example";
    o.audience = audience;
    o.password_opslimit = ops;
    o.password_memlimit = crypto_pwhash_MEMLIMIT_MIN; /* fast enough for valgrind */
    int rc = icms_secrets_static_new(master, 32, &o.secrets);
    if (rc)
        return rc;
    return icms_auth_new(out, t->f.db, &o);
}

static int setup(void **state)
{
    static int n;
    ta *t = calloc(1, sizeof *t);
    char name[32];
    snprintf(name, sizeof name, "auth_%d", n++);
    fx_open(&t->f, name);
    for (int i = 0; i < 32; i++)
        t->master[i] = (uint8_t)(i * 7 + 3);
    assert_icms_ok(open_auth(t, t->master, "icms-api", 1, &t->auth));
    *state = t;
    return 0;
}

static int teardown(void **state)
{
    ta *t = *state;
    assert_icms_ok(icms_audit_verify(t->f.db, NULL, NULL, 0, NULL));
    icms_auth_free(t->auth);
    fx_close(&t->f);
    for (size_t i = 0; i < t->nsecrets; i++)
        free(t->secrets[i]);
    free(t);
    return 0;
}

typedef struct pair {
    char access[2048];
    char refresh[64];
    char session[37];
    char user[37];
    int created;
} pair;

static void take_pair(ta *t, char *json, pair *p)
{
    cJSON *doc = fx_json(json);
    snprintf(p->access, sizeof p->access, "%s", fx_str(doc, "access_token"));
    snprintf(p->refresh, sizeof p->refresh, "%s", fx_str(doc, "refresh_token"));
    snprintf(p->session, sizeof p->session, "%s", fx_str(doc, "session_id"));
    snprintf(p->user, sizeof p->user, "%s", fx_str(doc, "user_id"));
    assert_string_equal(fx_str(doc, "token_type"), "Bearer");
    assert_int_equal(fx_int(doc, "expires_in"), 900);
    assert_int_equal(fx_int(doc, "refresh_expires_in"), 7 * 24 * 3600);
    p->created = cJSON_IsTrue(cJSON_GetObjectItem(doc, "user_created"));
    cJSON_Delete(doc);
    remember(t, p->access);
    remember(t, p->refresh);
}

static int login_ext(ta *t, const char *subject, const char *email, const char *device, pair *p)
{
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "google";
    id.subject = subject;
    id.email = email;
    id.email_verified = 1;
    id.device = device;
    char *out = NULL;
    int rc = icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out);
    if (rc == ICMS_OK)
        take_pair(t, out, p);
    else
        assert_null(out);
    return rc;
}

static int as_token(ta *t, const char *token, const char *user_id)
{
    icms_request r = ICMS_REQUEST_INIT;
    r.access_token = token;
    char *out = NULL;
    int rc = icms_user_get(t->f.db, &r, user_id, &out);
    icms_free(out);
    if (rc)
        message_clean(t);
    return rc;
}

static int do_refresh(ta *t, const char *refresh, pair *p)
{
    char *out = NULL;
    int rc = icms_auth_refresh(t->auth, &t->f.anonymous, refresh, &out);
    if (rc == ICMS_OK)
        take_pair(t, out, p);
    else {
        assert_null(out);
        message_clean(t);
    }
    return rc;
}

static bool store_contains(ta *t, const char *needle, size_t len)
{
    uint8_t *dump = NULL;
    size_t dump_len = 0;
    assert_icms_ok(icms_test_store_dump(t->f.db->store, &dump, &dump_len));
    bool found = false;
    for (size_t i = 0; !found && len <= dump_len && i + len <= dump_len; i++)
        found = memcmp(dump + i, needle, len) == 0;
    free(dump);
    return found;
}

static int count_in_store(ta *t, const char *needle)
{
    uint8_t *dump = NULL;
    size_t dump_len = 0, len = strlen(needle);
    assert_icms_ok(icms_test_store_dump(t->f.db->store, &dump, &dump_len));
    int n = 0;
    for (size_t i = 0; i + len <= dump_len; i++)
        n += memcmp(dump + i, needle, len) == 0;
    free(dump);
    return n;
}

/* ---- external logins ---- */

static void test_external_login_creates_then_links(void **state)
{
    ta *t = *state;
    pair a, b;
    assert_icms_ok(login_ext(t, "g-123", "New.Person@example.org", "Firefox on Linux", &a));
    assert_true(a.created);
    assert_icms_ok(login_ext(t, "g-123", "New.Person@example.org", "Phone", &b));
    assert_false(b.created);
    assert_string_equal(a.user, b.user);
    assert_string_not_equal(a.session, b.session);
    /* The new user is an ACTIVE investor with the verified email, named from it. */
    char *out = NULL;
    assert_icms_ok(icms_user_get(t->f.db, &t->f.host, a.user, &out));
    cJSON *u = fx_json(out);
    assert_string_equal(fx_str(u, "email"), "New.Person@example.org");
    assert_string_equal(fx_str(u, "name"), "New.Person");
    assert_string_equal(fx_str(u, "status"), "ACTIVE");
    cJSON_Delete(u);
    /* Its token works for commands: the user reads themself through it. */
    assert_icms_ok(as_token(t, a.access, a.user));
    assert_icms_ok(as_token(t, b.access, a.user));
    assert_int_equal(count_in_store(t, "\"user.created\""), 1);
    assert_int_equal(count_in_store(t, "\"session.created\""), 2);
    assert_int_equal(count_in_store(t, "\"auth.login\""), 2);
}

static void test_link_identity(void **state)
{
    ta *t = *state;
    pair a, b;
    assert_icms_ok(login_ext(t, "g-link", "linker@example.org", NULL, &a));
    icms_auth_identity apple = ICMS_AUTH_IDENTITY_INIT;
    apple.provider = "apple";
    apple.subject = "apple-777";
    apple.email = "linker@example.org";
    apple.email_verified = 1;
    char *out = NULL;
    /* Before linking, Apple with the same email is refused (no linking by email). */
    assert_icms(ICMS_EEXISTS, icms_auth_login_external(t->auth, &t->f.anonymous, &apple, &out));
    icms_request me = ICMS_REQUEST_INIT;
    me.access_token = a.access;
    assert_icms(ICMS_EFORBIDDEN, icms_auth_link_identity(t->auth, &t->f.anonymous, &apple, &out));
    assert_icms(ICMS_EFORBIDDEN, icms_auth_link_identity(t->auth, &t->f.host, &apple, &out));
    assert_icms_ok(icms_auth_link_identity(t->auth, &me, &apple, &out));
    cJSON *r = fx_json(out);
    assert_string_equal(fx_str(r, "user_id"), a.user);
    cJSON_Delete(r);
    assert_icms(ICMS_EEXISTS, icms_auth_link_identity(t->auth, &me, &apple, &out));
    /* Another user cannot take it over either. */
    assert_icms(ICMS_EEXISTS, icms_auth_link_identity(t->auth, &t->f.investor.req, &apple, &out));
    assert_icms_ok(icms_auth_login_external(t->auth, &t->f.anonymous, &apple, &out));
    take_pair(t, out, &b);
    assert_string_equal(b.user, a.user);
    assert_false(b.created);
}

static void test_external_login_refusals_change_nothing(void **state)
{
    ta *t = *state;
    char *out = NULL;
    assert_icms_ok(icms_user_get(t->f.db, &t->f.host, t->f.investor.id, &out));
    cJSON *u = fx_json(out);
    char taken[128];
    snprintf(taken, sizeof taken, "%s", fx_str(u, "email"));
    cJSON_Delete(u);
    uint64_t before, after;
    size_t keys;
    assert_icms_ok(icms_test_store_digest(t->f.db->store, &before, &keys));
    pair p;
    /* An existing user's email is never linked by email alone. */
    assert_icms(ICMS_EEXISTS, login_ext(t, "attacker", taken, NULL, &p));
    icms_auth_identity id = ICMS_AUTH_IDENTITY_INIT;
    id.provider = "google";
    id.subject = "s1";
    id.email = "x@example.org";
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.email_verified = 1;
    id.provider = "Google!";
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.provider = "google";
    id.subject = "";
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.subject = "s1";
    id.email = NULL;
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.email = "not-an-email";
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.email = "x@example.org";
    id.version = 9;
    assert_icms(ICMS_EVERSION, icms_auth_login_external(t->auth, &t->f.anonymous, &id, &out));
    id.version = ICMS_AUTH_IDENTITY_VERSION;
    icms_request idem = ICMS_REQUEST_INIT;
    idem.idempotency_key = "k1";
    assert_icms(ICMS_EINVALID, icms_auth_login_external(t->auth, &idem, &id, &out));
    assert_null(out);
    assert_icms_ok(icms_test_store_digest(t->f.db->store, &after, &keys));
    assert_true(before == after);
}

/* ---- access tokens ---- */

static void test_token_claims_and_request_rules(void **state)
{
    ta *t = *state;
    pair p;
    assert_icms_ok(login_ext(t, "g-1", "claims@example.org", NULL, &p));
    char *out = NULL;
    assert_icms_ok(icms_auth_verify(t->auth, p.access, &out));
    cJSON *c = fx_json(out);
    assert_string_equal(fx_str(c, "iss"), "https://icms.example");
    assert_string_equal(fx_str(c, "aud"), "icms-api");
    assert_string_equal(fx_str(c, "sub"), p.user);
    assert_string_equal(fx_str(c, "sid"), p.session);
    assert_int_equal(fx_int(c, "exp") - fx_int(c, "iat"), 900);
    assert_int_equal(fx_int(c, "iat"), FX_NOW / 1000);
    cJSON *roles = cJSON_GetObjectItem(c, "roles");
    assert_int_equal(cJSON_GetArraySize(roles), 1);
    assert_string_equal(cJSON_GetArrayItem(roles, 0)->valuestring, "INVESTOR");
    cJSON_Delete(c);
    /* A token together with actor_id, or with the host kind, is refused. */
    icms_request r = ICMS_REQUEST_INIT;
    r.access_token = p.access;
    r.actor_id = t->f.admin.id;
    assert_icms(ICMS_EINVALID, icms_user_get(t->f.db, &r, p.user, &out));
    r.actor_id = NULL;
    r.actor_kind = ICMS_ACTOR_HOST;
    assert_icms(ICMS_EINVALID, icms_user_get(t->f.db, &r, p.user, &out));
    /* The token's user acts with the store's roles: an investor may not create projects. */
    r.actor_kind = ICMS_ACTOR_USER;
    assert_icms(ICMS_EFORBIDDEN, icms_project_create(t->f.db, &r, fx_project_json(30), &out));
    assert_icms_ok(icms_user_grant_role(t->f.db, &t->f.host, p.user, "OWNER", NULL));
    assert_icms_ok(icms_project_create(t->f.db, &r, fx_project_json(30), &out));
    icms_free(out);
    /* A deactivated user's token stops at once. */
    assert_icms_ok(icms_user_deactivate(t->f.db, &t->f.host, p.user, NULL));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.access, p.user));
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_verify(t->auth, p.access, NULL));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, p.refresh, &p));
}

static void test_token_tampering_through_commands(void **state)
{
    ta *t = *state;
    pair p;
    assert_icms_ok(login_ext(t, "g-2", "tamper@example.org", NULL, &p));
    size_t len = strlen(p.access);
    /* Every byte of header, payload and signature (valgrind: every 7th, same code path). */
    size_t step = getenv("ICMS_VALGRIND") ? 7 : 1;
    for (size_t i = 0; i < len; i += step) {
        char saved = p.access[i];
        p.access[i] = saved == 'A' ? 'B' : 'A';
        if (p.access[i] == '.')
            continue;
        assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.access, p.user));
        p.access[i] = saved;
    }
    assert_icms_ok(as_token(t, p.access, p.user));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, "", p.user));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, "a.b.c", p.user));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.refresh, p.user));
}

static void test_token_times(void **state)
{
    ta *t = *state;
    pair p;
    assert_icms_ok(login_ext(t, "g-3", "times@example.org", NULL, &p));
    /* 15 minutes, and 30 s of leeway for a late clock. */
    icms_clock_fake_set(t->f.clock, FX_NOW + 15 * MIN + 29999);
    assert_icms_ok(as_token(t, p.access, p.user));
    icms_clock_fake_set(t->f.clock, FX_NOW + 15 * MIN + 30000);
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.access, p.user));
    assert_non_null(strstr(icms_error_last()->message, "expired"));
    /* Before nbf (a clock far behind the issuer's) beyond the leeway. */
    icms_clock_fake_set(t->f.clock, FX_NOW - 30001);
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.access, p.user));
    icms_clock_fake_set(t->f.clock, FX_NOW - 30000);
    assert_icms_ok(as_token(t, p.access, p.user));
}

static void test_wrong_audience_and_issuer(void **state)
{
    ta *t = *state;
    pair p;
    assert_icms_ok(login_ext(t, "g-4", "aud@example.org", NULL, &p));
    /* The database now expects another audience: tokens for the old one stop working. */
    icms_auth *other = NULL;
    assert_icms_ok(open_auth(t, t->master, "other-api", 1, &other));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p.access, p.user));
    assert_non_null(strstr(icms_error_last()->message, "audience"));
    icms_auth_free(other);
    assert_icms_ok(open_auth(t, t->master, "icms-api", 1, &other));
    assert_icms_ok(as_token(t, p.access, p.user));
    icms_auth_free(other);
    /* A handle with another master key cannot open the signing key. */
    uint8_t wrong[32];
    memset(wrong, 0x11, sizeof wrong);
    assert_icms(ICMS_ECORRUPT, open_auth(t, wrong, "icms-api", 1, &other));
    assert_null(other);
}

/* ---- refresh ---- */

static void test_refresh_rotation_and_reuse(void **state)
{
    ta *t = *state;
    pair p1, p2, p3, x;
    assert_icms_ok(login_ext(t, "g-5", "refresh@example.org", "laptop", &p1));
    icms_clock_fake_advance(t->f.clock, 10 * MIN);
    assert_icms_ok(do_refresh(t, p1.refresh, &p2));
    assert_string_equal(p2.session, p1.session);
    assert_string_not_equal(p2.refresh, p1.refresh);
    assert_string_not_equal(p2.access, p1.access);
    assert_icms_ok(as_token(t, p2.access, p2.user));
    icms_clock_fake_advance(t->f.clock, 10 * MIN);
    assert_icms_ok(do_refresh(t, p2.refresh, &p3));
    assert_icms_ok(as_token(t, p3.access, p3.user));
    /* p1's refresh token again: theft. The whole session is revoked, the thief's and the
     * owner's newest tokens with it. */
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, p1.refresh, &x));
    assert_non_null(strstr(icms_error_last()->message, "already used"));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, p3.access, p3.user));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, p3.refresh, &x));
    assert_int_equal(count_in_store(t, "\"session.invalidated\""), 1);
    assert_int_equal(count_in_store(t, "\"refresh_reuse\""), 3); /* session, event, audit */
    /* Reusing again changes nothing more. */
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, p1.refresh, &x));
    assert_int_equal(count_in_store(t, "\"session.invalidated\""), 1);
    /* Malformed and unknown tokens. */
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, "short", &x));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, NULL, &x));
    char unknown[44];
    memset(unknown, 'A', 43);
    unknown[43] = '\0';
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, unknown, &x));
}

struct racer {
    ta *t;
    const char *refresh;
    pthread_barrier_t *start;
    int rc;
    char *out;
};

static void *race_refresh(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(r->start);
    r->rc = icms_auth_refresh(r->t->auth, &r->t->f.anonymous, r->refresh, &r->out);
    return NULL;
}

/* Two holders of one refresh token at the same instant: one wins the rotation, the other's
 * attempt is a reuse, and the session ends for both. Clients must serialise refreshes. */
static void test_concurrent_refresh_is_reuse(void **state)
{
    ta *t = *state;
    pair p;
    assert_icms_ok(login_ext(t, "g-race", "race@example.org", NULL, &p));
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct racer r[2] = {{t, p.refresh, &start, 0, NULL}, {t, p.refresh, &start, 0, NULL}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&th[i], NULL, race_refresh, &r[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&start);
    int won = r[0].rc == ICMS_OK ? 0 : 1;
    assert_int_equal(r[won].rc, ICMS_OK);
    assert_int_equal(r[1 - won].rc, ICMS_EUNAUTHENTICATED);
    assert_null(r[1 - won].out);
    pair q;
    take_pair(t, r[won].out, &q);
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, q.access, q.user));
    assert_int_equal(count_in_store(t, "\"session.invalidated\""), 1);
}

static void test_refresh_expiry_slides_session(void **state)
{
    ta *t = *state;
    pair p, q, x;
    assert_icms_ok(login_ext(t, "g-6", "slide@example.org", NULL, &p));
    /* Refreshing on day 6 extends the session to day 13. */
    icms_clock_fake_advance(t->f.clock, 6 * FX_DAY);
    assert_icms_ok(do_refresh(t, p.refresh, &q));
    icms_clock_fake_advance(t->f.clock, 6 * FX_DAY);
    assert_icms_ok(as_token(t, q.access, q.user) == ICMS_EUNAUTHENTICATED ? 0 : -1);
    assert_icms_ok(do_refresh(t, q.refresh, &x));
    /* An unused refresh token 7 days old is refused. */
    icms_clock_fake_advance(t->f.clock, 7 * FX_DAY);
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, x.refresh, &q));
}

/* ---- sessions ---- */

static cJSON *sessions(ta *t, const icms_request *req, const char *user, int expect)
{
    char *out = NULL;
    assert_icms(expect, icms_auth_sessions(t->f.db, req, user, &out));
    return expect == ICMS_OK ? fx_json(out) : NULL;
}

static void test_logout_and_logout_all(void **state)
{
    ta *t = *state;
    pair s[4];
    const char *devices[] = {"laptop", "phone", "tablet", "tv"};
    for (int i = 0; i < 4; i++) {
        assert_icms_ok(login_ext(t, "g-7", "many@example.org", devices[i], &s[i]));
        icms_clock_fake_advance(t->f.clock, 1000);
    }
    icms_request me = ICMS_REQUEST_INIT;
    me.access_token = s[0].access;
    cJSON *list = sessions(t, &me, s[0].user, ICMS_OK);
    cJSON *arr = cJSON_GetObjectItem(list, "sessions");
    assert_int_equal(cJSON_GetArraySize(arr), 4);
    assert_string_equal(fx_str(cJSON_GetArrayItem(arr, 0), "device"), "tv"); /* newest first */
    assert_string_equal(fx_str(cJSON_GetArrayItem(arr, 0), "status"), "ACTIVE");
    cJSON_Delete(list);
    /* Others may not list or end my sessions; an admin may. */
    assert_null(sessions(t, &t->f.investor.req, s[0].user, ICMS_EFORBIDDEN));
    cJSON_Delete(sessions(t, &t->f.admin.req, s[0].user, ICMS_OK));
    assert_icms(ICMS_ENOTFOUND, icms_auth_logout(t->f.db, &t->f.investor.req, s[1].session, NULL));
    /* Log out the phone: its tokens die, the others live. */
    char *out = NULL;
    assert_icms_ok(icms_auth_logout(t->f.db, &me, s[1].session, &out));
    icms_free(out);
    pair x;
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, s[1].access, s[1].user));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, s[1].refresh, &x));
    assert_icms_ok(as_token(t, s[2].access, s[2].user));
    assert_icms(ICMS_EINVALID_TRANSITION, icms_auth_logout(t->f.db, &me, s[1].session, NULL));
    /* Everywhere: the three live sessions end in one command, with three events. */
    assert_icms_ok(icms_auth_logout_all(t->f.db, &me, s[0].user, &out));
    cJSON *r = fx_json(out);
    assert_int_equal(fx_int(r, "revoked"), 3);
    cJSON_Delete(r);
    for (int i = 0; i < 4; i++) {
        assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, s[i].access, s[i].user));
        assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, s[i].refresh, &x));
    }
    assert_int_equal(count_in_store(t, "\"session.invalidated\""), 4);
    list = sessions(t, &t->f.host, s[0].user, ICMS_OK);
    arr = cJSON_GetObjectItem(list, "sessions");
    cJSON *item;
    cJSON_ArrayForEach(item, arr) assert_string_equal(fx_str(item, "status"), "REVOKED");
    cJSON_Delete(list);
    /* A new login still works after logout-all. */
    assert_icms_ok(login_ext(t, "g-7", "many@example.org", NULL, &x));
    assert_icms_ok(as_token(t, x.access, x.user));
    assert_icms(ICMS_EINVALID, icms_auth_logout(t->f.db, &me, "nope", NULL));
}

static void test_sweep_removes_expired_sessions(void **state)
{
    ta *t = *state;
    pair a, b;
    assert_icms_ok(login_ext(t, "g-8", "sweep@example.org", NULL, &a));
    icms_clock_fake_advance(t->f.clock, FX_DAY);
    assert_icms_ok(login_ext(t, "g-8", "sweep@example.org", NULL, &b));
    icms_clock_fake_advance(t->f.clock, 6 * FX_DAY); /* a is 7 days old exactly: expired */
    char *out = NULL;
    assert_icms_ok(icms_tick(t->f.db, &out));
    cJSON *r = fx_json(out);
    assert_int_equal(fx_int(r, "sessions_swept"), 1);
    cJSON_Delete(r);
    cJSON *list = sessions(t, &t->f.host, a.user, ICMS_OK);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "sessions")), 1);
    cJSON_Delete(list);
    pair x;
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, a.refresh, &x));
    assert_icms_ok(icms_tick(t->f.db, &out));
    r = fx_json(out);
    assert_int_equal(fx_int(r, "sessions_swept"), 0);
    cJSON_Delete(r);
}

/* ---- keys ---- */

static void test_key_rotation_and_jwks(void **state)
{
    ta *t = *state;
    pair old, fresh;
    char *out = NULL;
    assert_icms_ok(icms_auth_jwks(t->auth, &out));
    cJSON *jwks = fx_json(out);
    cJSON *keys = cJSON_GetObjectItem(jwks, "keys");
    assert_int_equal(cJSON_GetArraySize(keys), 1);
    cJSON *k = cJSON_GetArrayItem(keys, 0);
    assert_string_equal(fx_str(k, "kty"), "OKP");
    assert_string_equal(fx_str(k, "crv"), "Ed25519");
    assert_string_equal(fx_str(k, "use"), "sig");
    assert_string_equal(fx_str(k, "alg"), "EdDSA");
    assert_int_equal(strlen(fx_str(k, "x")), 43);
    char old_kid[64];
    snprintf(old_kid, sizeof old_kid, "%s", fx_str(k, "kid"));
    cJSON_Delete(jwks);
    assert_icms_ok(login_ext(t, "g-9", "keys@example.org", NULL, &old));
    assert_icms(ICMS_EFORBIDDEN, icms_auth_rotate_keys(t->auth, &t->f.investor.req, &out));
    icms_clock_fake_advance(t->f.clock, 5 * MIN);
    assert_icms_ok(icms_auth_rotate_keys(t->auth, &t->f.admin.req, &out));
    cJSON *rot = fx_json(out);
    char new_kid[64];
    snprintf(new_kid, sizeof new_kid, "%s", fx_str(rot, "kid"));
    assert_string_not_equal(new_kid, old_kid);
    assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(rot, "retired"), 0)->valuestring,
                        old_kid);
    cJSON_Delete(rot);
    /* Both keys published, the new one first; the old token still verifies. */
    assert_icms_ok(icms_auth_jwks(t->auth, &out));
    jwks = fx_json(out);
    keys = cJSON_GetObjectItem(jwks, "keys");
    assert_int_equal(cJSON_GetArraySize(keys), 2);
    assert_string_equal(fx_str(cJSON_GetArrayItem(keys, 0), "kid"), new_kid);
    assert_string_equal(fx_str(cJSON_GetArrayItem(keys, 1), "kid"), old_kid);
    cJSON_Delete(jwks);
    assert_icms_ok(as_token(t, old.access, old.user));
    assert_icms_ok(login_ext(t, "g-9", "keys@example.org", NULL, &fresh));
    assert_icms_ok(icms_auth_verify(t->auth, fresh.access, NULL));
    /* New tokens name the new key. */
    char header[256];
    size_t hl = (size_t)(strchr(fresh.access, '.') - fresh.access);
    uint8_t raw[256];
    size_t n = 0;
    assert_icms_ok(icms__b64url_decode(fresh.access, hl, raw, sizeof raw, &n));
    snprintf(header, sizeof header, "%.*s", (int)n, raw);
    assert_non_null(strstr(header, new_kid));
    assert_non_null(strstr(header, "\"alg\":\"EdDSA\""));
    /* The old key's private half is gone from the store at once. */
    assert_int_equal(count_in_store(t, "\"sealed\""), 1);
    /* Once every token it signed has expired, the old key leaves the JWKS and verifies
     * nothing, even a token whose own exp would still pass. */
    icms_clock_fake_advance(t->f.clock, 15 * MIN + 30000);
    assert_icms_ok(icms_auth_jwks(t->auth, &out));
    jwks = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(jwks, "keys")), 1);
    cJSON_Delete(jwks);
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, old.access, old.user));
    assert_non_null(strstr(icms_error_last()->message, "retired")); /* refused by its key */
}

/* ---- passwords ---- */

static int login_pw(ta *t, const char *email, const char *password, const char *source, pair *p)
{
    icms_auth_password_login l = ICMS_AUTH_PASSWORD_LOGIN_INIT;
    l.email = email;
    l.password = password;
    l.source = source;
    l.device = "cli";
    char *out = NULL;
    int rc = icms_auth_login_password(t->auth, &t->f.anonymous, &l, &out);
    if (rc == ICMS_OK)
        take_pair(t, out, p);
    else {
        assert_null(out);
        message_clean(t);
    }
    return rc;
}

static const char *email_of(ta *t, const char *id, char *buf, size_t size)
{
    char *out = NULL;
    assert_icms_ok(icms_user_get(t->f.db, &t->f.host, id, &out));
    cJSON *u = fx_json(out);
    snprintf(buf, size, "%s", fx_str(u, "email"));
    cJSON_Delete(u);
    return buf;
}

static void test_password_login(void **state)
{
    ta *t = *state;
    remember(t, "correct horse battery staple");
    char email[128];
    email_of(t, t->f.investor.id, email, sizeof email);
    pair p;
    assert_icms(ICMS_EUNAUTHENTICATED,
                login_pw(t, email, "correct horse battery staple", NULL, &p));
    /* Only the user, an admin or the host may set it; at least 8 bytes. */
    assert_icms(ICMS_EFORBIDDEN, icms_auth_password_set(t->auth, &t->f.investor2.req,
                                                        t->f.investor.id, "whatever123"));
    assert_icms(ICMS_EINVALID,
                icms_auth_password_set(t->auth, &t->f.investor.req, t->f.investor.id, "short"));
    assert_icms_ok(icms_auth_password_set(t->auth, &t->f.investor.req, t->f.investor.id,
                                          "correct horse battery staple"));
    assert_icms_ok(login_pw(t, email, "correct horse battery staple", "192.0.2.1", &p));
    assert_string_equal(p.user, t->f.investor.id);
    assert_icms_ok(as_token(t, p.access, p.user));
    /* Case of the email does not matter; the password's does. */
    for (char *c = email; *c; c++)
        if (*c >= 'a' && *c <= 'z')
            *c = (char)(*c - 'a' + 'A');
    assert_icms_ok(login_pw(t, email, "correct horse battery staple", NULL, &p));
    assert_icms(ICMS_EUNAUTHENTICATED,
                login_pw(t, email, "Correct horse battery staple", NULL, &p));
    char wrong_msg[256];
    snprintf(wrong_msg, sizeof wrong_msg, "%s", icms_error_last()->message);
    /* An unknown email answers exactly like a wrong password. */
    assert_icms(ICMS_EUNAUTHENTICATED, login_pw(t, "nobody@example.org", "whatever123", NULL, &p));
    assert_string_equal(icms_error_last()->message, wrong_msg);
    /* The store holds an Argon2id string, not the password. */
    assert_false(store_contains(t, "correct horse", 13));
    assert_true(store_contains(t, "$argon2id$", 10));
}

static void test_password_throttling(void **state)
{
    ta *t = *state;
    char email[128];
    email_of(t, t->f.owner.id, email, sizeof email);
    assert_icms_ok(icms_auth_password_set(t->auth, &t->f.host, t->f.owner.id, "owner-password"));
    pair p;
    for (int i = 0; i < 5; i++)
        assert_icms(ICMS_EUNAUTHENTICATED, login_pw(t, email, "guess-0000", NULL, &p));
    /* The account is locked for the rest of the window, even with the right password. */
    assert_icms(ICMS_ELIMIT, login_pw(t, email, "owner-password", NULL, &p));
    icms_clock_fake_advance(t->f.clock, 15 * MIN - 1);
    assert_icms(ICMS_ELIMIT, login_pw(t, email, "owner-password", NULL, &p));
    icms_clock_fake_advance(t->f.clock, 1);
    assert_icms_ok(login_pw(t, email, "owner-password", NULL, &p));
    /* A success clears the account's count: four more failures do not lock it. */
    for (int i = 0; i < 4; i++)
        assert_icms(ICMS_EUNAUTHENTICATED, login_pw(t, email, "guess-0001", NULL, &p));
    assert_icms_ok(login_pw(t, email, "owner-password", NULL, &p));
    /* Per source: 20 failures from one address across many accounts lock the address. */
    char other[64];
    for (int i = 0; i < 20; i++) {
        snprintf(other, sizeof other, "victim%d@example.org", i);
        assert_icms(ICMS_EUNAUTHENTICATED, login_pw(t, other, "guess-0002", "198.51.100.7", &p));
    }
    assert_icms(ICMS_ELIMIT, login_pw(t, email, "owner-password", "198.51.100.7", &p));
    assert_icms_ok(login_pw(t, email, "owner-password", "198.51.100.8", &p));
    /* Once their window has passed, icms_tick drops the counters, and the addresses with them. */
    assert_true(store_contains(t, "198.51.100.7", 12));
    assert_true(store_contains(t, "victim3@example.org", 19));
    icms_clock_fake_advance(t->f.clock, 15 * MIN - 1);
    assert_icms_ok(icms_tick(t->f.db, NULL));
    assert_true(store_contains(t, "198.51.100.7", 12));
    icms_clock_fake_advance(t->f.clock, 1);
    assert_icms_ok(icms_tick(t->f.db, NULL));
    assert_false(store_contains(t, "198.51.100.7", 12));
    assert_false(store_contains(t, "victim3@example.org", 19));
}

static void test_password_rehash(void **state)
{
    ta *t = *state;
    char email[128];
    email_of(t, t->f.admin.id, email, sizeof email);
    assert_icms_ok(icms_auth_password_set(t->auth, &t->f.admin.req, t->f.admin.id, "admin-pass-1"));
    assert_true(store_contains(t, "t=1,", 4));
    /* The host raises the limits: the next login rehashes. */
    icms_auth *stronger = NULL;
    assert_icms_ok(open_auth(t, t->master, "icms-api", 2, &stronger));
    icms_auth *saved = t->auth;
    t->auth = stronger;
    pair p;
    assert_icms_ok(login_pw(t, email, "admin-pass-1", NULL, &p));
    assert_false(store_contains(t, "t=1,", 4));
    assert_true(store_contains(t, "t=2,", 4));
    assert_icms(ICMS_EUNAUTHENTICATED, login_pw(t, email, "admin-pass-2", NULL, &p));
    assert_icms_ok(login_pw(t, email, "admin-pass-1", NULL, &p));
    t->auth = saved;
    icms_auth_free(stronger);
}

/* ---- erasure ---- */

static int erase_fn(icms__cmd *cmd)
{
    return icms__auth_erase_user(cmd, cmd->arg);
}

/* What the users module's erase hook calls: nothing personal of the user stays in auth. */
static void test_erase_user_removes_auth_data(void **state)
{
    ta *t = *state;
    pair a, b, x;
    assert_icms_ok(login_ext(t, "g-erase-subject", "erase@example.org", "erase-device", &a));
    assert_icms_ok(login_ext(t, "g-erase-subject", "erase@example.org", NULL, &b));
    assert_icms_ok(icms_auth_password_set(t->auth, &t->f.host, a.user, "erase-password"));
    pair other;
    assert_icms_ok(login_ext(t, "g-other", "other@example.org", "other-device", &other));
    assert_true(store_contains(t, "g-erase-subject", 15));
    assert_true(store_contains(t, "erase-device", 12));
    uint8_t id[16];
    assert_icms_ok(icms__uuid_parse(a.user, strlen(a.user), id));
    assert_icms_ok(icms__command(t->f.db, &t->f.host, "test.erase", NULL, erase_fn, id, NULL));
    assert_false(store_contains(t, "g-erase-subject", 15));
    assert_false(store_contains(t, "erase-device", 12));
    assert_false(store_contains(t, "$argon2id$", 10));
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, a.access, a.user));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, b.refresh, &x));
    /* Another user's data is untouched. */
    assert_true(store_contains(t, "other-device", 12));
    assert_icms_ok(as_token(t, other.access, other.user));
}

/* ---- secrets never leak ---- */

static void test_no_secret_in_store_or_messages(void **state)
{
    ta *t = *state;
    pair a, b, x;
    assert_icms_ok(login_ext(t, "g-10", "leak@example.org", NULL, &a));
    assert_icms_ok(do_refresh(t, a.refresh, &b));
    assert_icms(ICMS_EUNAUTHENTICATED, do_refresh(t, a.refresh, &x));
    remember(t, "leak-password-1");
    assert_icms_ok(icms_auth_password_set(t->auth, &t->f.host, a.user, "leak-password-1"));
    assert_icms(ICMS_EUNAUTHENTICATED,
                login_pw(t, "leak@example.org", "leak-password-2", NULL, &x));
    assert_icms_ok(login_pw(t, "leak@example.org", "leak-password-1", NULL, &x));
    b.access[strlen(b.access) - 3] ^= 1;
    assert_icms(ICMS_EUNAUTHENTICATED, as_token(t, b.access, b.user));
    assert_icms_ok(icms_auth_rotate_keys(t->auth, &t->f.host, NULL));
    /* Neither any token, any password, nor the master key appears anywhere in the store
     * (records, audit log, events), in text, hex or base64url. */
    for (size_t i = 0; i < t->nsecrets; i++) {
        assert_false(store_contains(t, t->secrets[i], strlen(t->secrets[i])));
        /* Nor any long piece of one (a signature, a payload). */
        size_t len = strlen(t->secrets[i]);
        for (size_t off = 0; off + 24 <= len; off += 24)
            if (store_contains(t, t->secrets[i] + off, 24))
                fail_msg("24 bytes of secret %zu found in the store", i);
    }
    char hex[65], b64[44];
    sodium_bin2hex(hex, sizeof hex, t->master, 32);
    icms__b64url_encode(t->master, 32, b64);
    assert_false(store_contains(t, (const char *)t->master, 32));
    assert_false(store_contains(t, hex, 64));
    assert_false(store_contains(t, b64, 43));
    /* Error messages, one per kind of refusal, hold none of them either. */
    icms_request r = ICMS_REQUEST_INIT;
    r.access_token = a.refresh;
    assert_icms(ICMS_EUNAUTHENTICATED, icms_user_get(t->f.db, &r, a.user, NULL));
    message_clean(t);
    assert_icms(ICMS_EUNAUTHENTICATED, icms_auth_verify(t->auth, a.access, NULL));
    message_clean(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_external_login_creates_then_links, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_external_login_refusals_change_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_token_claims_and_request_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_tampering_through_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_token_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_audience_and_issuer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_rotation_and_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refresh_expiry_slides_session, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_refresh_is_reuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logout_and_logout_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sweep_removes_expired_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_key_rotation_and_jwks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_login, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_throttling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_rehash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_user_removes_auth_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_secret_in_store_or_messages, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
