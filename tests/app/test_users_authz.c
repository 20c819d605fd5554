/*
 * Who may do what to a user: every command against every kind of actor
 * (anonymous, the system, the user themself, another user without roles,
 * an owner, an investor, an administrator, the host, a deactivated user),
 * each on a fresh target. A refusal writes nothing and hands back nothing; a
 * hidden user is refused exactly like a missing one.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "core/uuid.h"
#include "support/fault_store.h"
#include "test_users_fixture.h"

enum actor { ANON, SYSTEM, SELF, OTHER, OWNER, INVESTOR, ADMIN, HOST, DEACTIVATED, ACTORS };
static const char *actor_names[ACTORS] = {"anonymous", "system", "self", "other user", "owner",
                                          "investor",  "admin",  "host", "deactivated"};

enum command {
    GET,
    HISTORY,
    UPDATE,
    GRANT,
    REVOKE,
    KYC_SUBMIT,
    KYC_DECIDE,
    DEACTIVATE,
    ERASE,
    CREATE,
    BOOTSTRAP,
    COMMANDS
};
static const char *command_names[COMMANDS] = {
    "get",         "history",         "update",           "grant_role",
    "revoke_role", "set_kyc PENDING", "set_kyc VERIFIED", "deactivate",
    "erase",       "create",          "bootstrap_admin"};

#define OK 0
#define NF ICMS_ENOTFOUND
#define FB ICMS_EFORBIDDEN
#define EX ICMS_EEXISTS
#define UA ICMS_EUNAUTHENTICATED

/* Rows: actors; columns: commands, in the order of the enums. */
static const int expected[ACTORS][COMMANDS] = {
    /*              get hist upd grant rev kycS kycD deact erase create boot */
    [ANON] = {NF, NF, NF, FB, FB, NF, NF, FB, NF, FB, FB},
    [SYSTEM] = {NF, NF, NF, FB, FB, NF, NF, FB, NF, FB, FB},
    [SELF] = {OK, OK, OK, FB, FB, OK, FB, FB, OK, FB, FB},
    [OTHER] = {OK, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB},
    [OWNER] = {OK, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB},
    [INVESTOR] = {OK, FB, FB, FB, FB, FB, FB, FB, FB, FB, FB},
    [ADMIN] = {OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, FB},
    [HOST] = {OK, OK, OK, OK, OK, OK, OK, OK, OK, OK, EX},
    [DEACTIVATED] = {UA, UA, UA, UA, UA, UA, UA, UA, UA, UA, UA},
};

struct world {
    uf f;
    uf_user other, owner, investor, deactivated;
    int serial; /* for fresh emails */
};

static const icms_request *request_of(struct world *w, enum actor a, uf_user *target)
{
    switch (a) {
    case ANON:
        return &w->f.anonymous;
    case SYSTEM:
        return &w->f.system;
    case SELF:
        return &target->req;
    case OTHER:
        return &w->other.req;
    case OWNER:
        return &w->owner.req;
    case INVESTOR:
        return &w->investor.req;
    case ADMIN:
        return &w->f.admin.req;
    case HOST:
        return &w->f.host;
    default:
        return &w->deactivated.req;
    }
}

static int run(struct world *w, enum command c, const icms_request *req, const char *id, char **out)
{
    icms_db *db = w->f.db;
    char json[200];
    switch (c) {
    case GET:
        return icms_user_get(db, req, id, out);
    case HISTORY:
        return icms_user_history(db, req, id, out);
    case UPDATE:
        return icms_user_update(db, req, id, "{\"name\":\"Renamed\"}", out);
    case GRANT:
        return icms_user_grant_role(db, req, id, "OWNER", out);
    case REVOKE:
        return icms_user_revoke_role(db, req, id, "INVESTOR", out);
    case KYC_SUBMIT:
        return icms_user_set_kyc(db, req, id, "PENDING", "{\"document\":\"passport\"}", out);
    case KYC_DECIDE:
        return icms_user_set_kyc(db, req, id, "VERIFIED", NULL, out);
    case DEACTIVATE:
        return icms_user_deactivate(db, req, id, out);
    case ERASE:
        return icms_user_erase(db, req, id, out);
    case CREATE:
        snprintf(json, sizeof json, "{\"name\":\"New\",\"email\":\"new%d@example.com\"}",
                 ++w->serial);
        return icms_user_create(db, req, json, out);
    default:
        snprintf(json, sizeof json, "{\"name\":\"Boot\",\"email\":\"boot%d@example.com\"}",
                 ++w->serial);
        return icms_user_bootstrap_admin(db, req, json, out);
    }
}

/* A fresh target: an ACTIVE investor, with a submitted KYC when the command decides it. */
static void fresh_target(struct world *w, enum command c, uf_user *t)
{
    char email[64];
    snprintf(email, sizeof email, "target%d@example.com", ++w->serial);
    uf_create(&w->f, t, "Target Person", email, NULL);
    if (c == KYC_DECIDE)
        assert_icms_ok(icms_user_set_kyc(w->f.db, &w->f.host, t->id, "PENDING",
                                         "{\"document\":\"passport\"}", NULL));
}

static uint64_t digest(struct world *w)
{
    uint64_t d;
    size_t keys;
    assert_icms_ok(icms_test_store_digest(uf_store(&w->f), &d, &keys));
    return d;
}

static void open_world(struct world *w, const char *name)
{
    memset(w, 0, sizeof *w);
    uf_open(&w->f, name);
    uf_create(&w->f, &w->other, "Other", "other@example.com", "[]");
    uf_create(&w->f, &w->owner, "Owner", "owner@example.com", "[\"OWNER\"]");
    uf_create(&w->f, &w->investor, "Investor", "investor@example.com", "[\"INVESTOR\"]");
    uf_create(&w->f, &w->deactivated, "Gone", "gone@example.com", "[\"OWNER\",\"ADMIN\"]");
    assert_icms_ok(icms_user_deactivate(w->f.db, &w->f.host, w->deactivated.id, NULL));
}

static void test_matrix(void **state)
{
    (void)state;
    struct world w;
    open_world(&w, "users_authz");
    int cells = 0;
    for (int a = 0; a < ACTORS; a++) {
        for (int c = 0; c < COMMANDS; c++) {
            uf_user target;
            fresh_target(&w, (enum command)c, &target);
            const icms_request *req = request_of(&w, (enum actor)a, &target);
            uint64_t before = digest(&w);
            char *out = (char *)"untouched";
            int rc = run(&w, (enum command)c, req, target.id, &out);
            if (rc != expected[a][c])
                fail_msg("%s by %s: got %s (%s), expected %s", command_names[c], actor_names[a],
                         icms_error_name(rc), icms_error_last()->message,
                         icms_error_name(expected[a][c]));
            cells++;
            if (rc == ICMS_EFORBIDDEN) {
                /* The refusal names the call (or the KYC status asked for), nothing more. */
                const char *m = icms_error_last()->message;
                if (strncmp(m, "user.", 5) != 0 && strncmp(m, "status:", 7) != 0)
                    fail_msg("%s by %s: refusal \"%s\" does not name the call", command_names[c],
                             actor_names[a], m);
            }
            if (rc) {
                assert_null(out);
                if (before != digest(&w))
                    fail_msg("refused %s by %s changed the store", command_names[c],
                             actor_names[a]);
                continue;
            }
            cJSON *doc = uf_json(out);
            if (c == GET) {
                /* The whole profile for the user, admins and the host; the public view else. */
                bool full = a == SELF || a == ADMIN || a == HOST;
                assert_string_equal(uf_str(doc, "name"), "Target Person");
                assert_int_equal(uf_has(doc, "email"), full);
                assert_int_equal(uf_has(doc, "kyc"), full);
                assert_int_equal(uf_has(doc, "status"), full);
                assert_true(uf_has(doc, "roles"));
            } else if (c != HISTORY) {
                assert_false(uf_has(doc, "name")); /* summaries carry no personal data */
                assert_false(uf_has(doc, "email"));
            }
            cJSON_Delete(doc);
        }
    }
    assert_int_equal(cells, ACTORS * COMMANDS);
    uf_close(&w.f);
}

/*
 * A user another user may not see (deactivated, erased) and an id no user
 * has are refused with the same code and the same words, for every actor
 * and command, so a refusal never tells them apart.
 */
static void test_hidden_reads_exactly_like_missing(void **state)
{
    (void)state;
    struct world w;
    open_world(&w, "users_hidden");
    char missing[37];
    uint8_t raw[16];
    assert_icms_ok(icms__uuid7_new(NULL, raw));
    icms__uuid_format(raw, missing);
    for (int hidden = 0; hidden < 2; hidden++) {
        for (int a = 0; a < ACTORS; a++) {
            if (a == SELF || a == ADMIN || a == HOST)
                continue; /* they see everything */
            for (int c = 0; c < COMMANDS; c++) {
                if (c == CREATE || c == BOOTSTRAP)
                    continue;
                uf_user target;
                fresh_target(&w, (enum command)c, &target);
                if (hidden == 0)
                    assert_icms_ok(icms_user_deactivate(w.f.db, &w.f.host, target.id, NULL));
                else
                    assert_icms_ok(icms_user_erase(w.f.db, &w.f.host, target.id, NULL));
                const icms_request *req = request_of(&w, (enum actor)a, &target);
                uint64_t before = digest(&w);
                int rc_missing = run(&w, (enum command)c, req, missing, NULL);
                char message[512];
                snprintf(message, sizeof message, "%s", icms_error_last()->message);
                int rc_hidden = run(&w, (enum command)c, req, target.id, NULL);
                if (rc_missing != rc_hidden || strcmp(message, icms_error_last()->message) != 0)
                    fail_msg("%s by %s: missing gives %s \"%s\", %s gives %s \"%s\"",
                             command_names[c], actor_names[a], icms_error_name(rc_missing), message,
                             hidden ? "erased" : "deactivated", icms_error_name(rc_hidden),
                             icms_error_last()->message);
                assert_true(rc_hidden < 0);
                assert_true(before == digest(&w));
            }
        }
    }
    /* Whereas an admin sees the hidden user, and reads a missing one as missing. */
    int rc;
    assert_null(uf_get(&w.f, &w.f.admin.req, missing, &rc));
    assert_int_equal(rc, ICMS_ENOTFOUND);
    cJSON *doc = uf_get(&w.f, &w.f.admin.req, w.deactivated.id, &rc);
    assert_string_equal(uf_str(doc, "status"), "DEACTIVATED");
    cJSON_Delete(doc);
    uf_close(&w.f);
}

/* Admin-only commands are refused before the target is read: even a missing target is FORBIDDEN. */
static void test_admin_only_commands_refuse_before_reading(void **state)
{
    (void)state;
    struct world w;
    open_world(&w, "users_admin_only");
    char missing[37];
    uint8_t raw[16];
    assert_icms_ok(icms__uuid7_new(NULL, raw));
    icms__uuid_format(raw, missing);
    static const enum command admin_only[] = {GRANT, REVOKE, DEACTIVATE};
    for (size_t i = 0; i < sizeof admin_only / sizeof admin_only[0]; i++) {
        assert_icms(ICMS_EFORBIDDEN, run(&w, admin_only[i], &w.investor.req, missing, NULL));
        assert_icms(ICMS_EFORBIDDEN, run(&w, admin_only[i], &w.f.anonymous, missing, NULL));
        assert_icms(ICMS_ENOTFOUND, run(&w, admin_only[i], &w.f.admin.req, missing, NULL));
    }
    uf_close(&w.f);
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
        cmocka_unit_test(test_matrix),
        cmocka_unit_test(test_hidden_reads_exactly_like_missing),
        cmocka_unit_test(test_admin_only_commands_refuse_before_reading),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
