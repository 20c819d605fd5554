/*
 * Who may see a project, who may list which records (read_rules.h): every
 * project state x every viewer (kind, anonymous or not, every role mask,
 * owner or not), every listing filter x every viewer x every record kind,
 * and every release listing filter x every viewer, against the rules as
 * docs/domain.md states them, written here as plain
 * conditions on names rather than copied from the code.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "domain/domain.h"

/* ---- the rules, as stated ---- */

/* "Every state but DRAFT is public": the states named in docs/domain.md as visible to all. */
static bool stated_public(icms_project_state_t state)
{
    static const char *const public_states[] = {
        "PUBLISHED", "FUNDING",   "FULLY_FUNDED", "PENDING_ADMIN_APPROVAL", "APPROVED",
        "IN_TRANSIT", "COMPLETED", "CANCELLED",    "EXPIRED"};
    const char *name = icms_project_state_name(state);
    for (size_t i = 0; name && i < ICMS__ARRAY_LEN(public_states); i++)
        if (strcmp(name, public_states[i]) == 0)
            return true;
    return false;
}

/* "Admin rights": the host, the library, a signed-in user holding ADMIN. */
static bool stated_admin_rights(const icms__viewer *v)
{
    if (v->anonymous)
        return false;
    if (v->kind == ICMS_ACTOR_HOST || v->kind == ICMS_ACTOR_SYSTEM)
        return true;
    return v->kind == ICMS_ACTOR_USER && (v->roles & ICMS_ROLE_ADMIN) == ICMS_ROLE_ADMIN;
}

/* "The owner": a signed-in caller whose id is the owner_id, whatever roles they hold now. */
static bool stated_owner(const icms__viewer *v)
{
    return !v->anonymous && v->owns_project;
}

/* "A DRAFT is seen by its owner and admins; everything else by everyone." */
static bool stated_visible(icms_project_state_t state, const icms__viewer *v)
{
    if (stated_public(state))
        return true;
    return stated_owner(v) || stated_admin_rights(v);
}

/* ---- the viewers ---- */

/* Every kind (and one unknown), anonymous or not, every role mask, owner or not. */
#define KIND_COUNT (ICMS_ACTOR_KIND_COUNT + 1)
#define VIEWER_COUNT (KIND_COUNT * 2 * (ICMS_ROLE_ALL + 1) * 2)

static icms__viewer viewer_at(size_t i)
{
    icms__viewer v;
    memset(&v, 0, sizeof v);
    v.kind = (icms_actor_kind_t)(i % KIND_COUNT);
    i /= KIND_COUNT;
    v.anonymous = (i % 2) != 0;
    i /= 2;
    v.roles = (unsigned)(i % (ICMS_ROLE_ALL + 1));
    i /= ICMS_ROLE_ALL + 1;
    v.owns_project = (i % 2) != 0;
    return v;
}

static void describe(const icms__viewer *v, char *buf, size_t len)
{
    snprintf(buf, len, "kind %d%s roles %u%s", (int)v->kind, v->anonymous ? " anonymous" : "",
             v->roles, v->owns_project ? " owner" : "");
}

/* Every state, and two that are not states. */
static const int states[] = {-1,
                             ICMS_PROJECT_DRAFT,
                             ICMS_PROJECT_PUBLISHED,
                             ICMS_PROJECT_FUNDING,
                             ICMS_PROJECT_FULLY_FUNDED,
                             ICMS_PROJECT_PENDING_ADMIN_APPROVAL,
                             ICMS_PROJECT_APPROVED,
                             ICMS_PROJECT_IN_TRANSIT,
                             ICMS_PROJECT_COMPLETED,
                             ICMS_PROJECT_CANCELLED,
                             ICMS_PROJECT_EXPIRED,
                             ICMS_PROJECT_STATE_COUNT};

/* ---- visibility ---- */

static void test_visible_every_state_and_viewer(void **state)
{
    (void)state;
    size_t checked = 0, hidden = 0;
    for (size_t s = 0; s < ICMS__ARRAY_LEN(states); s++) {
        icms_project_state_t st = (icms_project_state_t)states[s];
        for (size_t i = 0; i < VIEWER_COUNT; i++) {
            icms__viewer v = viewer_at(i);
            bool want = stated_visible(st, &v);
            if (icms__project_visible_to(st, &v) != want) {
                char who[80];
                describe(&v, who, sizeof who);
                fail_msg("state %d, %s: expected %s", states[s], who,
                         want ? "visible" : "hidden");
            }
            hidden += !want;
            checked++;
        }
    }
    assert_int_equal(checked, ICMS__ARRAY_LEN(states) * VIEWER_COUNT);
    /* Both answers occur: a draft (and a non-state) is hidden from some viewers. */
    assert_true(hidden > 0 && hidden < checked);
}

/* The cases the issue names, spelled out. */
static void test_visible_named_cases(void **state)
{
    (void)state;
    const icms__viewer investor = {ICMS_ACTOR_USER, false, ICMS_ROLE_INVESTOR, false};
    const icms__viewer other_owner = {ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, false};
    const icms__viewer owner = {ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, true};
    const icms__viewer owner_lost_role = {ICMS_ACTOR_USER, false, 0, true};
    const icms__viewer admin = {ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false};
    const icms__viewer host = {ICMS_ACTOR_HOST, false, ICMS_ROLE_ALL, false};
    const icms__viewer host_no_roles = {ICMS_ACTOR_HOST, false, 0, false};
    const icms__viewer library = {ICMS_ACTOR_SYSTEM, false, 0, false};
    const icms__viewer anonymous = {ICMS_ACTOR_USER, true, 0, false};
    const icms__viewer anonymous_claims = {ICMS_ACTOR_USER, true, ICMS_ROLE_ALL, true};

    assert_false(icms__project_visible_to(ICMS_PROJECT_DRAFT, NULL));
    assert_false(icms__project_visible_to(ICMS_PROJECT_DRAFT, &anonymous));
    assert_false(icms__project_visible_to(ICMS_PROJECT_DRAFT, &anonymous_claims));
    assert_false(icms__project_visible_to(ICMS_PROJECT_DRAFT, &investor));
    assert_false(icms__project_visible_to(ICMS_PROJECT_DRAFT, &other_owner));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &owner));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &owner_lost_role));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &admin));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &host));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &host_no_roles));
    assert_true(icms__project_visible_to(ICMS_PROJECT_DRAFT, &library));

    assert_true(icms__project_visible_to(ICMS_PROJECT_PUBLISHED, NULL));
    assert_true(icms__project_visible_to(ICMS_PROJECT_PUBLISHED, &anonymous));
    assert_true(icms__project_visible_to(ICMS_PROJECT_CANCELLED, &investor));
    assert_true(icms__project_visible_to(ICMS_PROJECT_EXPIRED, &other_owner));

    assert_false(icms__project_visible_to((icms_project_state_t)ICMS_PROJECT_STATE_COUNT,
                                          &investor));
    assert_true(icms__project_visible_to((icms_project_state_t)ICMS_PROJECT_STATE_COUNT, &admin));
}

/* Properties: more standing never hides anything; no viewer is the public. */
static void test_visible_properties(void **state)
{
    (void)state;
    for (size_t s = 0; s < ICMS__ARRAY_LEN(states); s++) {
        icms_project_state_t st = (icms_project_state_t)states[s];
        bool pub = icms__project_visible_to(st, NULL);
        for (size_t i = 0; i < VIEWER_COUNT; i++) {
            icms__viewer v = viewer_at(i);
            bool seen = icms__project_visible_to(st, &v);
            if (pub)
                assert_true(seen);
            if (v.anonymous)
                assert_int_equal(seen, pub);
            icms__viewer more = v;
            more.roles |= ICMS_ROLE_ADMIN;
            assert_true(!seen || icms__project_visible_to(st, &more));
            more = v;
            more.owns_project = true;
            assert_true(!seen || icms__project_visible_to(st, &more));
            if (icms__viewer_privileged(&v))
                assert_true(seen);
            assert_int_equal(icms__viewer_privileged(&v), stated_admin_rights(&v));
        }
    }
    assert_false(icms__viewer_privileged(NULL));
}

/* ---- listing ---- */

static const char *const nouns[] = {"participation", "payment", "refund", "payout"};

typedef struct expected_scope {
    int rc;
    icms__list_scope_t scope;
    char message[128];
} expected_scope;

/*
 * docs/domain.md: nobody anonymous lists anything; a project's records go to
 * its owner and admins; an investor's to that investor and admins; with no
 * filter a user gets their own, and an admin must say whose.
 */
static expected_scope stated_scope(const char *noun, const icms__list_facts *f)
{
    expected_scope e = {ICMS_OK, ICMS__LIST_OWN, ""};
    bool admin = stated_admin_rights(&f->viewer);
    if (f->viewer.anonymous) {
        e.rc = ICMS_EFORBIDDEN;
        snprintf(e.message, sizeof e.message, "%ss are not public", noun);
    } else if (f->project_named) {
        if (admin || stated_owner(&f->viewer)) {
            e.scope = ICMS__LIST_PROJECT;
        } else {
            e.rc = ICMS_EFORBIDDEN;
            snprintf(e.message, sizeof e.message,
                     "only the project's owner and admins list its %ss", noun);
        }
    } else if (f->investor_named) {
        if (admin || f->investor_is_viewer) {
            e.scope = ICMS__LIST_INVESTOR;
        } else {
            e.rc = ICMS_EFORBIDDEN;
            snprintf(e.message, sizeof e.message, "an investor lists only their own %ss", noun);
        }
    } else if (admin) {
        e.rc = ICMS_EINVALID;
        snprintf(e.message, sizeof e.message, "filter by project_id or investor_id");
    }
    return e;
}

static void test_list_every_filter_and_viewer(void **state)
{
    (void)state;
    size_t checked = 0, outcomes[5] = {0};
    for (size_t n = 0; n < ICMS__ARRAY_LEN(nouns); n++) {
        for (size_t i = 0; i < VIEWER_COUNT; i++) {
            for (unsigned filter = 0; filter < 8; filter++) {
                icms__list_facts f;
                memset(&f, 0, sizeof f);
                f.viewer = viewer_at(i);
                f.project_named = (filter & 1u) != 0;
                f.investor_named = (filter & 2u) != 0;
                f.investor_is_viewer = (filter & 4u) != 0;
                expected_scope want = stated_scope(nouns[n], &f);
                icms__list_scope_t got = (icms__list_scope_t)99;
                int rc = icms__list_scope(nouns[n], &f, &got);
                char who[80];
                describe(&f.viewer, who, sizeof who);
                if (rc != want.rc)
                    fail_msg("%s, %s, filter %u: rc %d, expected %d (%s)", nouns[n], who, filter,
                             rc, want.rc, icms_error_last()->message);
                if (rc == ICMS_OK) {
                    if (got != want.scope)
                        fail_msg("%s, %s, filter %u: scope %d, expected %d", nouns[n], who,
                                 filter, (int)got, (int)want.scope);
                    outcomes[got]++;
                } else {
                    assert_int_equal(got, 99); /* untouched on refusal */
                    assert_string_equal(icms_error_last()->message, want.message);
                    outcomes[rc == ICMS_EFORBIDDEN ? 3 : 4]++;
                }
                checked++;
            }
        }
    }
    assert_int_equal(checked, ICMS__ARRAY_LEN(nouns) * VIEWER_COUNT * 8);
    for (size_t k = 0; k < ICMS__ARRAY_LEN(outcomes); k++)
        assert_true(outcomes[k] > 0); /* every answer occurs */
}

static void test_list_named_cases(void **state)
{
    (void)state;
    icms__list_scope_t scope;
    icms__list_facts investor_own = {{ICMS_ACTOR_USER, false, ICMS_ROLE_INVESTOR, false},
                                     false, false, false};
    assert_icms_ok(icms__list_scope("payment", &investor_own, &scope));
    assert_int_equal(scope, ICMS__LIST_OWN);

    icms__list_facts owner_by_project = {{ICMS_ACTOR_USER, false, 0, true}, true, true, false};
    assert_icms_ok(icms__list_scope("payment", &owner_by_project, &scope));
    assert_int_equal(scope, ICMS__LIST_PROJECT); /* project_id wins over investor_id */

    icms__list_facts investor_by_project = {{ICMS_ACTOR_USER, false, ICMS_ROLE_ALL & ~4u, false},
                                            true, true, true};
    assert_icms(ICMS_EFORBIDDEN, icms__list_scope("refund", &investor_by_project, &scope));
    assert_string_equal(icms_error_last()->message,
                        "only the project's owner and admins list its refunds");

    icms__list_facts host_by_investor = {{ICMS_ACTOR_HOST, false, ICMS_ROLE_ALL, false},
                                         false, true, false};
    assert_icms_ok(icms__list_scope("payout", &host_by_investor, &scope));
    assert_int_equal(scope, ICMS__LIST_INVESTOR);

    icms__list_facts admin_unfiltered = {{ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false},
                                         false, false, false};
    assert_icms(ICMS_EINVALID, icms__list_scope("payout", &admin_unfiltered, &scope));

    icms__list_facts anonymous_owner = {{ICMS_ACTOR_USER, true, ICMS_ROLE_ALL, true}, true,
                                        false, false};
    assert_icms(ICMS_EFORBIDDEN, icms__list_scope("participation", &anonymous_owner, &scope));
    assert_string_equal(icms_error_last()->message, "participations are not public");

    assert_icms(ICMS_EINVALID, icms__list_scope(NULL, &investor_own, &scope));
    assert_icms(ICMS_EINVALID, icms__list_scope("payment", NULL, &scope));
    assert_icms(ICMS_EINVALID, icms__list_scope("payment", &investor_own, NULL));
}

/* ---- listing releases ---- */

/*
 * docs/domain.md: nobody anonymous lists releases; without admin rights a
 * caller lists their own (naming another owner is refused, anything else only
 * narrows); with admin rights a project's, else an owner's, else a status's,
 * and naming none is refused.
 */
static expected_scope stated_release_scope(const icms__release_list_facts *f)
{
    expected_scope e = {ICMS_OK, ICMS__LIST_OWN, ""};
    if (f->viewer.anonymous) {
        e.rc = ICMS_EFORBIDDEN;
        snprintf(e.message, sizeof e.message, "releases are not public");
    } else if (!stated_admin_rights(&f->viewer)) {
        if (f->owner_named && !f->owner_is_viewer) {
            e.rc = ICMS_EFORBIDDEN;
            snprintf(e.message, sizeof e.message, "an owner lists only their own releases");
        }
    } else if (f->project_named) {
        e.scope = ICMS__LIST_PROJECT;
    } else if (f->owner_named) {
        e.scope = ICMS__LIST_OWNER;
    } else if (f->status_named) {
        e.scope = ICMS__LIST_STATUS;
    } else {
        e.rc = ICMS_EINVALID;
        snprintf(e.message, sizeof e.message, "filter by project_id, owner_id or status");
    }
    return e;
}

static void test_release_list_every_filter_and_viewer(void **state)
{
    (void)state;
    size_t checked = 0, scopes[ICMS__LIST_STATUS + 1] = {0}, forbidden = 0, invalid = 0;
    for (size_t i = 0; i < VIEWER_COUNT; i++) {
        for (unsigned filter = 0; filter < 16; filter++) {
            icms__release_list_facts f;
            memset(&f, 0, sizeof f);
            f.viewer = viewer_at(i);
            f.project_named = (filter & 1u) != 0;
            f.owner_named = (filter & 2u) != 0;
            f.owner_is_viewer = (filter & 4u) != 0;
            f.status_named = (filter & 8u) != 0;
            expected_scope want = stated_release_scope(&f);
            icms__list_scope_t got = (icms__list_scope_t)99;
            int rc = icms__release_list_scope(&f, &got);
            char who[80];
            describe(&f.viewer, who, sizeof who);
            if (rc != want.rc)
                fail_msg("release, %s, filter %u: rc %d, expected %d (%s)", who, filter, rc,
                         want.rc, icms_error_last()->message);
            if (rc == ICMS_OK) {
                if (got != want.scope)
                    fail_msg("release, %s, filter %u: scope %d, expected %d", who, filter,
                             (int)got, (int)want.scope);
                scopes[got]++;
            } else {
                assert_int_equal(got, 99); /* untouched on refusal */
                assert_string_equal(icms_error_last()->message, want.message);
                forbidden += rc == ICMS_EFORBIDDEN;
                invalid += rc == ICMS_EINVALID;
            }
            checked++;
        }
    }
    assert_int_equal(checked, VIEWER_COUNT * 16);
    /* Every answer occurs but the investor's, which is not a release's. */
    assert_int_equal(scopes[ICMS__LIST_INVESTOR], 0);
    assert_true(scopes[ICMS__LIST_PROJECT] > 0 && scopes[ICMS__LIST_OWN] > 0);
    assert_true(scopes[ICMS__LIST_OWNER] > 0 && scopes[ICMS__LIST_STATUS] > 0);
    assert_true(forbidden > 0 && invalid > 0);
}

/* Properties: admin rights never see less; the anonymous see nothing. */
static void test_release_list_properties(void **state)
{
    (void)state;
    for (size_t i = 0; i < VIEWER_COUNT; i++) {
        for (unsigned filter = 0; filter < 16; filter++) {
            icms__release_list_facts f = {viewer_at(i), (filter & 1u) != 0, (filter & 2u) != 0,
                                          (filter & 4u) != 0, (filter & 8u) != 0};
            icms__list_scope_t scope = ICMS__LIST_OWN;
            int rc = icms__release_list_scope(&f, &scope);
            if (f.viewer.anonymous)
                assert_int_equal(rc, ICMS_EFORBIDDEN);
            /* Whose releases it is, is in the release: owning the project changes nothing. */
            icms__release_list_facts flipped = f;
            flipped.viewer.owns_project = !f.viewer.owns_project;
            icms__list_scope_t flipped_scope = ICMS__LIST_OWN;
            assert_int_equal(icms__release_list_scope(&flipped, &flipped_scope), rc);
            assert_int_equal(flipped_scope, scope);
            /* Without admin rights the answer is the viewer's own or a refusal. */
            if (!icms__viewer_privileged(&f.viewer))
                assert_true(rc != ICMS_OK || scope == ICMS__LIST_OWN);
            /* What anyone may list by a filter naming something, an admin may list too. */
            icms__release_list_facts admin = f;
            admin.viewer.roles |= ICMS_ROLE_ADMIN;
            admin.viewer.kind = ICMS_ACTOR_USER;
            if (rc == ICMS_OK && (f.project_named || f.owner_named || f.status_named))
                assert_icms_ok(icms__release_list_scope(&admin, &scope));
        }
    }
}

static void test_release_list_named_cases(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        icms__release_list_facts facts;
        int rc;
        icms__list_scope_t scope; /* when allowed */
        const char *message;      /* when refused */
    } cases[] = {
        {"the host's wallet, by status",
         {{ICMS_ACTOR_HOST, false, 0, false}, false, false, false, true},
         ICMS_OK, ICMS__LIST_STATUS, NULL},
        {"an owner, no filter",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, true}, false, false, false, false},
         ICMS_OK, ICMS__LIST_OWN, NULL},
        {"an owner naming themselves, their project and a status",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, true}, true, true, true, true},
         ICMS_OK, ICMS__LIST_OWN, NULL},
        /* Not refused: narrowed to the caller's own, so it lists nothing. */
        {"an owner, by another's project",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_OWNER, false}, true, false, false, false},
         ICMS_OK, ICMS__LIST_OWN, NULL},
        {"the project's owner naming another owner",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_ALL & ~4u, true}, true, true, false, false},
         ICMS_EFORBIDDEN, ICMS__LIST_OWN, "an owner lists only their own releases"},
        /* An admin names the narrowest: a project before an owner before a status. */
        {"an admin, by everything",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false}, true, true, false, true},
         ICMS_OK, ICMS__LIST_PROJECT, NULL},
        {"an admin, by owner and status",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false}, false, true, false, true},
         ICMS_OK, ICMS__LIST_OWNER, NULL},
        {"an admin, no filter",
         {{ICMS_ACTOR_USER, false, ICMS_ROLE_ADMIN, false}, false, false, false, false},
         ICMS_EINVALID, ICMS__LIST_OWN, "filter by project_id, owner_id or status"},
        {"anonymous, claiming everything",
         {{ICMS_ACTOR_USER, true, ICMS_ROLE_ALL, true}, false, false, false, true},
         ICMS_EFORBIDDEN, ICMS__LIST_OWN, "releases are not public"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++) {
        icms__list_scope_t scope = (icms__list_scope_t)99;
        int rc = icms__release_list_scope(&cases[i].facts, &scope);
        if (rc != cases[i].rc)
            fail_msg("%s: rc %d, expected %d", cases[i].what, rc, cases[i].rc);
        if (rc == ICMS_OK && scope != cases[i].scope)
            fail_msg("%s: scope %d, expected %d", cases[i].what, (int)scope,
                     (int)cases[i].scope);
        if (rc != ICMS_OK) {
            assert_int_equal(scope, 99);
            assert_string_equal(icms_error_last()->message, cases[i].message);
        }
    }
    icms__list_scope_t scope;
    assert_icms(ICMS_EINVALID, icms__release_list_scope(NULL, &scope));
    assert_icms(ICMS_EINVALID, icms__release_list_scope(&cases[0].facts, NULL));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_visible_every_state_and_viewer),
        cmocka_unit_test(test_visible_named_cases),
        cmocka_unit_test(test_visible_properties),
        cmocka_unit_test(test_list_every_filter_and_viewer),
        cmocka_unit_test(test_list_named_cases),
        cmocka_unit_test(test_release_list_every_filter_and_viewer),
        cmocka_unit_test(test_release_list_properties),
        cmocka_unit_test(test_release_list_named_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
