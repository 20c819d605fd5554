/*
 * The project lifecycle, exhaustively: every state x every action x every
 * combination of parties x a grid of facts, against an expectation written
 * here independently of the table (as plain conditions, the way issue 3 and
 * the seed state the rules), so a wrong row in the table cannot agree with it.
 */
#include "support/test_support.h"

#include <string.h>

#include "core/core.h"
#include "domain/domain.h"

#define OWNER ICMS__PARTY_OWNER
#define ADMIN ICMS__PARTY_ADMIN
#define SYSTEM ICMS__PARTY_SYSTEM
#define INVESTOR ICMS__PARTY_INVESTOR

/* Who may ever take the action, in any state. */
static unsigned oracle_anyone(icms__project_action_t a)
{
    switch (a) {
    case ICMS__PROJECT_EDIT:
    case ICMS__PROJECT_PUBLISH:
        return OWNER;
    case ICMS__PROJECT_APPROVE:
    case ICMS__PROJECT_SHIP:
    case ICMS__PROJECT_COMPLETE:
        return ADMIN;
    case ICMS__PROJECT_CANCEL:
        return OWNER | ADMIN;
    default: /* start_funding, mark_fully_funded, request_admin_approval, back_to_funding, expire */
        return SYSTEM;
    }
}

/* Who may take the action in this state (0: the action does not start here). */
static unsigned oracle_here(icms__project_action_t a, icms_project_state_t s)
{
    switch (a) {
    case ICMS__PROJECT_EDIT:
    case ICMS__PROJECT_PUBLISH:
        return s == ICMS_PROJECT_DRAFT ? OWNER : 0;
    case ICMS__PROJECT_START_FUNDING:
        return s == ICMS_PROJECT_PUBLISHED ? SYSTEM : 0;
    case ICMS__PROJECT_MARK_FULLY_FUNDED:
        return s == ICMS_PROJECT_FUNDING ? SYSTEM : 0;
    case ICMS__PROJECT_REQUEST_ADMIN_APPROVAL:
        return s == ICMS_PROJECT_FULLY_FUNDED ? SYSTEM : 0;
    case ICMS__PROJECT_BACK_TO_FUNDING:
        return s == ICMS_PROJECT_FULLY_FUNDED || s == ICMS_PROJECT_PENDING_ADMIN_APPROVAL ? SYSTEM
                                                                                          : 0;
    case ICMS__PROJECT_APPROVE:
        return s == ICMS_PROJECT_PENDING_ADMIN_APPROVAL ? ADMIN : 0;
    case ICMS__PROJECT_SHIP:
        return s == ICMS_PROJECT_APPROVED ? ADMIN : 0;
    case ICMS__PROJECT_COMPLETE:
        return s == ICMS_PROJECT_IN_TRANSIT ? ADMIN : 0;
    case ICMS__PROJECT_CANCEL: {
        /* Issue 3: owner in DRAFT, PUBLISHED, FUNDING; admin in any state before IN_TRANSIT. */
        unsigned who = 0;
        if (s == ICMS_PROJECT_DRAFT || s == ICMS_PROJECT_PUBLISHED || s == ICMS_PROJECT_FUNDING)
            who |= OWNER;
        if (s < ICMS_PROJECT_IN_TRANSIT)
            who |= ADMIN;
        return who;
    }
    case ICMS__PROJECT_EXPIRE:
        return s == ICMS_PROJECT_PUBLISHED || s == ICMS_PROJECT_FUNDING ? SYSTEM : 0;
    }
    return 0;
}

static int oracle_guard(icms__project_action_t a, const icms__project_facts *f)
{
    int reached = f->target > 0 && f->funded >= f->target;
    switch (a) {
    case ICMS__PROJECT_PUBLISH:
        return f->product_count >= 1 && f->target >= 1 && f->deadline_ms > f->now_ms;
    case ICMS__PROJECT_START_FUNDING:
        return f->approved_participations >= 1 && f->deadline_ms > f->now_ms;
    case ICMS__PROJECT_MARK_FULLY_FUNDED:
    case ICMS__PROJECT_REQUEST_ADMIN_APPROVAL:
    case ICMS__PROJECT_APPROVE:
        return reached;
    case ICMS__PROJECT_BACK_TO_FUNDING:
        return !(f->funded >= f->target);
    case ICMS__PROJECT_EXPIRE:
        /* Test facts are small, so now - deadline cannot overflow here. */
        return f->now_ms >= f->deadline_ms && f->funded < f->target &&
               (!f->payment_in_flight || f->now_ms - f->deadline_ms >= f->grace_ms);
    default:
        return 1;
    }
}

static icms_project_state_t oracle_to(icms__project_action_t a)
{
    static const icms_project_state_t to[] = {
        [ICMS__PROJECT_EDIT] = ICMS_PROJECT_DRAFT,
        [ICMS__PROJECT_PUBLISH] = ICMS_PROJECT_PUBLISHED,
        [ICMS__PROJECT_START_FUNDING] = ICMS_PROJECT_FUNDING,
        [ICMS__PROJECT_MARK_FULLY_FUNDED] = ICMS_PROJECT_FULLY_FUNDED,
        [ICMS__PROJECT_REQUEST_ADMIN_APPROVAL] = ICMS_PROJECT_PENDING_ADMIN_APPROVAL,
        [ICMS__PROJECT_BACK_TO_FUNDING] = ICMS_PROJECT_FUNDING,
        [ICMS__PROJECT_APPROVE] = ICMS_PROJECT_APPROVED,
        [ICMS__PROJECT_SHIP] = ICMS_PROJECT_IN_TRANSIT,
        [ICMS__PROJECT_COMPLETE] = ICMS_PROJECT_COMPLETED,
        [ICMS__PROJECT_CANCEL] = ICMS_PROJECT_CANCELLED,
        [ICMS__PROJECT_EXPIRE] = ICMS_PROJECT_EXPIRED,
    };
    return to[a];
}

static const char *oracle_event(icms__project_action_t a)
{
    static const char *const ev[] = {
        [ICMS__PROJECT_EDIT] = "project.updated",
        [ICMS__PROJECT_PUBLISH] = "project.published",
        [ICMS__PROJECT_START_FUNDING] = "project.funding_started",
        [ICMS__PROJECT_MARK_FULLY_FUNDED] = "project.fully_funded",
        [ICMS__PROJECT_REQUEST_ADMIN_APPROVAL] = "project.approval_requested",
        [ICMS__PROJECT_BACK_TO_FUNDING] = "project.funding_reopened",
        [ICMS__PROJECT_APPROVE] = "project.approved",
        [ICMS__PROJECT_SHIP] = "project.shipped",
        [ICMS__PROJECT_COMPLETE] = "project.completed",
        [ICMS__PROJECT_CANCEL] = "project.cancelled",
        [ICMS__PROJECT_EXPIRE] = "project.expired",
    };
    return ev[a];
}

static int oracle_rc(icms_project_state_t s, icms__project_action_t a, unsigned parties,
                     const icms__project_facts *f)
{
    if (!(oracle_anyone(a) & parties))
        return ICMS_EFORBIDDEN;
    unsigned here = oracle_here(a, s);
    if (here == 0)
        return ICMS_EINVALID_TRANSITION;
    if (!(here & parties))
        return ICMS_EFORBIDDEN;
    return oracle_guard(a, f) ? ICMS_OK : ICMS_EINVALID_TRANSITION;
}

/* A grid of facts that makes every guard both hold and fail. */
#define DEADLINE 1000000
static size_t make_facts(icms__project_facts *out, size_t cap)
{
    static const size_t products[] = {0, 2};
    static const int64_t targets[] = {0, 1000};
    static const int64_t funded[] = {0, 999, 1000, 1500};
    static const int64_t now[] = {DEADLINE - 1, DEADLINE, DEADLINE + 499, DEADLINE + 500,
                                  DEADLINE + 10000};
    static const size_t approved[] = {0, 3};
    size_t n = 0;
    for (size_t p = 0; p < 2; p++)
        for (size_t t = 0; t < 2; t++)
            for (size_t fu = 0; fu < 4; fu++)
                for (size_t w = 0; w < 5; w++)
                    for (size_t ap = 0; ap < 2; ap++)
                        for (int flight = 0; flight < 2; flight++) {
                            assert_true(n < cap);
                            out[n++] = (icms__project_facts){
                                .now_ms = now[w],
                                .deadline_ms = DEADLINE,
                                .target = targets[t],
                                .funded = funded[fu],
                                .product_count = products[p],
                                .approved_participations = approved[ap],
                                .payment_in_flight = flight,
                                .grace_ms = 500,
                            };
                        }
    return n;
}

static void test_every_state_action_actor(void **state)
{
    (void)state;
    static icms__project_facts facts[1024];
    size_t nf = make_facts(facts, 1024);
    size_t decisions = 0, allowed = 0;
    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++)
        for (int a = 0; a < ICMS__PROJECT_ACTION_COUNT; a++)
            for (unsigned parties = 0; parties <= ICMS__PARTY_ALL; parties++)
                for (size_t i = 0; i < nf; i++) {
                    icms__project_decision d;
                    memset(&d, 0xAB, sizeof d);
                    icms__project_decision before = d;
                    int want = oracle_rc((icms_project_state_t)s, (icms__project_action_t)a,
                                         parties, &facts[i]);
                    int got = icms__project_decide(
                        (icms_project_state_t)s, (icms__project_action_t)a, parties, &facts[i], &d);
                    decisions++;
                    if (got != want)
                        fail_msg("%s %s parties=%x facts#%zu: got %s (%s), want %s",
                                 icms_project_state_name((icms_project_state_t)s),
                                 icms__project_action_name((icms__project_action_t)a), parties, i,
                                 icms_error_name(got), icms_error_last()->message,
                                 icms_error_name(want));
                    if (got == ICMS_OK) {
                        allowed++;
                        assert_int_equal(d.from, s);
                        assert_int_equal(d.action, a);
                        assert_int_equal(d.to, oracle_to((icms__project_action_t)a));
                        assert_string_equal(d.event, oracle_event((icms__project_action_t)a));
                    } else {
                        /* Refusal leaves the output alone and explains itself. */
                        assert_memory_equal(&d, &before, sizeof d);
                        assert_int_equal(icms_error_last()->code, want);
                        assert_true(strlen(icms_error_last()->message) > 10);
                    }
                }
    /* The grid is large enough to exercise both outcomes of everything. */
    assert_int_equal(decisions, (size_t)ICMS_PROJECT_STATE_COUNT * ICMS__PROJECT_ACTION_COUNT *
                                    (ICMS__PARTY_ALL + 1) * nf);
    assert_true(allowed > 1000);
}

/* Every action succeeds for some state, actor and facts: no dead rows. */
static void test_every_action_reachable(void **state)
{
    (void)state;
    static icms__project_facts facts[1024];
    size_t nf = make_facts(facts, 1024);
    for (int a = 0; a < ICMS__PROJECT_ACTION_COUNT; a++) {
        int ok = 0;
        for (int s = 0; s < ICMS_PROJECT_STATE_COUNT && !ok; s++)
            for (size_t i = 0; i < nf && !ok; i++) {
                icms__project_decision d;
                ok = icms__project_decide((icms_project_state_t)s, (icms__project_action_t)a,
                                          ICMS__PARTY_ALL, &facts[i], &d) == ICMS_OK;
            }
        if (!ok)
            fail_msg("action %s never succeeds", icms__project_action_name(a));
    }
}

static void test_final_states_have_no_way_out(void **state)
{
    (void)state;
    icms__project_facts f = {.now_ms = 1,
                             .deadline_ms = 2,
                             .target = 10,
                             .funded = 10,
                             .product_count = 1,
                             .approved_participations = 1};
    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
        int any = 0;
        for (int a = 0; a < ICMS__PROJECT_ACTION_COUNT; a++)
            any |= oracle_here((icms__project_action_t)a, (icms_project_state_t)s) != 0;
        assert_int_equal(icms_project_state_is_final((icms_project_state_t)s), !any);
        if (!any) {
            icms__project_decision d;
            for (int a = 0; a < ICMS__PROJECT_ACTION_COUNT; a++)
                assert_int_equal(icms__project_decide((icms_project_state_t)s,
                                                      (icms__project_action_t)a, ICMS__PARTY_ALL,
                                                      &f, &d),
                                 ICMS_EINVALID_TRANSITION);
        }
    }
}

static void test_messages_name_the_reason(void **state)
{
    (void)state;
    icms__project_facts f = {.now_ms = 10, .deadline_ms = 100, .target = 500, .product_count = 0};
    icms__project_decision d;
    assert_int_equal(icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_PUBLISH, OWNER, &f, &d),
                     ICMS_EINVALID_TRANSITION);
    assert_string_equal(icms_error_last()->message,
                        "cannot publish a project in state DRAFT: the project has no products");

    f.product_count = 1;
    f.now_ms = 100;
    assert_int_equal(icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_PUBLISH, OWNER, &f, &d),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "deadline has passed"));

    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_APPROVED, ICMS__PROJECT_CANCEL, OWNER, &f, &d),
        ICMS_EFORBIDDEN);
    assert_string_equal(icms_error_last()->message,
                        "only an admin may cancel a project in state APPROVED");

    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_APPROVE, OWNER | INVESTOR, &f, &d),
        ICMS_EFORBIDDEN);
    assert_string_equal(icms_error_last()->message, "only an admin may approve a project");

    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_IN_TRANSIT, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
        ICMS_EINVALID_TRANSITION);
    assert_string_equal(icms_error_last()->message, "cannot cancel a project in state IN_TRANSIT");

    assert_int_equal(icms__project_decide(ICMS_PROJECT_FUNDING, ICMS__PROJECT_CANCEL, 0, &f, &d),
                     ICMS_EFORBIDDEN);
    assert_string_equal(icms_error_last()->message,
                        "only the project owner or an admin may cancel a project");

    f.payment_in_flight = true;
    f.grace_ms = 1000;
    f.now_ms = 150;
    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_FUNDING, ICMS__PROJECT_EXPIRE, SYSTEM, &f, &d),
        ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "grace window"));
    f.now_ms = 1100; /* deadline + grace */
    assert_icms_ok(
        icms__project_decide(ICMS_PROJECT_FUNDING, ICMS__PROJECT_EXPIRE, SYSTEM, &f, &d));
    assert_int_equal(d.to, ICMS_PROJECT_EXPIRED);
    assert_string_equal(d.event, "project.expired");
}

static void test_bad_arguments(void **state)
{
    (void)state;
    icms__project_facts f = {.now_ms = 1, .deadline_ms = 2, .target = 10};
    icms__project_decision d;
    assert_int_equal(
        icms__project_decide((icms_project_state_t)10, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
        ICMS_EINVALID);
    assert_int_equal(
        icms__project_decide((icms_project_state_t)-1, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
        ICMS_EINVALID);
    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_DRAFT, (icms__project_action_t)11, ADMIN, &f, &d),
        ICMS_EINVALID);
    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_CANCEL, ADMIN, NULL, &d),
        ICMS_EINVALID);
    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_CANCEL, ADMIN, &f, NULL),
        ICMS_EINVALID);
    f.target = -1;
    assert_int_equal(icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
                     ICMS_EINVALID);
    f.target = 1;
    f.funded = -1;
    assert_int_equal(icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
                     ICMS_EINVALID);
    f.funded = 0;
    f.grace_ms = -5;
    assert_int_equal(icms__project_decide(ICMS_PROJECT_DRAFT, ICMS__PROJECT_CANCEL, ADMIN, &f, &d),
                     ICMS_EINVALID);
    size_t n;
    icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
    assert_int_equal(icms__project_settle(ICMS_PROJECT_FUNDING, &f, NULL, &n), ICMS_EINVALID);
    f.grace_ms = 0;
    assert_int_equal(icms__project_settle(ICMS_PROJECT_FUNDING, &f, steps, NULL), ICMS_EINVALID);
    assert_int_equal(icms__project_follow_up(ICMS_PROJECT_FUNDING, &f, NULL), ICMS_EINVALID);
    assert_int_equal(icms__project_follow_up((icms_project_state_t)99, &f, &d), ICMS_EINVALID);
}

/* A grace window reaching past INT64_MAX saturates instead of wrapping into the past. */
static void test_grace_window_does_not_wrap(void **state)
{
    (void)state;
    icms__project_facts f = {.now_ms = INT64_MAX - 1,
                             .deadline_ms = INT64_MAX - 10,
                             .target = 10,
                             .funded = 0,
                             .payment_in_flight = true,
                             .grace_ms = INT64_MAX};
    icms__project_decision d;
    assert_int_equal(
        icms__project_decide(ICMS_PROJECT_FUNDING, ICMS__PROJECT_EXPIRE, SYSTEM, &f, &d),
        ICMS_EINVALID_TRANSITION);
}

/* The follow-up chain, against the oracle: apply automatic steps until none applies. */
static void test_settle_matches_oracle(void **state)
{
    (void)state;
    static icms__project_facts facts[1024];
    size_t nf = make_facts(facts, 1024);
    static const icms__project_action_t autos[] = {
        ICMS__PROJECT_START_FUNDING, ICMS__PROJECT_MARK_FULLY_FUNDED,
        ICMS__PROJECT_REQUEST_ADMIN_APPROVAL, ICMS__PROJECT_BACK_TO_FUNDING};
    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++)
        for (size_t i = 0; i < nf; i++) {
            icms__project_decision want[8];
            size_t nwant = 0;
            icms_project_state_t cur = (icms_project_state_t)s;
            for (int progressed = 1; progressed && nwant < 8;) {
                progressed = 0;
                for (size_t k = 0; k < ICMS__ARRAY_LEN(autos); k++)
                    if (oracle_here(autos[k], cur) && oracle_guard(autos[k], &facts[i])) {
                        want[nwant++] = (icms__project_decision){cur, autos[k], oracle_to(autos[k]),
                                                                 oracle_event(autos[k])};
                        cur = oracle_to(autos[k]);
                        progressed = 1;
                        break;
                    }
            }
            icms__project_decision got[ICMS__PROJECT_SETTLE_MAX];
            size_t ngot = 99;
            assert_icms_ok(icms__project_settle((icms_project_state_t)s, &facts[i], got, &ngot));
            assert_int_equal(ngot, nwant);
            for (size_t k = 0; k < ngot; k++) {
                assert_int_equal(got[k].from, want[k].from);
                assert_int_equal(got[k].action, want[k].action);
                assert_int_equal(got[k].to, want[k].to);
                assert_string_equal(got[k].event, want[k].event);
            }
            /* A settled project has nothing more to do. */
            icms__project_decision d;
            icms_project_state_t rest = ngot ? got[ngot - 1].to : (icms_project_state_t)s;
            assert_int_equal(icms__project_follow_up(rest, &facts[i], &d), 0);
        }
}

static void test_settle_named_chains(void **state)
{
    (void)state;
    icms__project_facts f = {.now_ms = 10,
                             .deadline_ms = 100,
                             .target = 1000,
                             .funded = 1000,
                             .product_count = 1,
                             .approved_participations = 2};
    icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
    size_t n = 0;
    /* The last confirmed payment: FUNDING -> FULLY_FUNDED -> PENDING_ADMIN_APPROVAL at once. */
    assert_icms_ok(icms__project_settle(ICMS_PROJECT_FUNDING, &f, steps, &n));
    assert_int_equal(n, 2);
    assert_int_equal(steps[0].to, ICMS_PROJECT_FULLY_FUNDED);
    assert_string_equal(steps[0].event, "project.fully_funded");
    assert_int_equal(steps[1].to, ICMS_PROJECT_PENDING_ADMIN_APPROVAL);
    /* A re-org un-funds a project awaiting approval: back to FUNDING. */
    f.funded = 400;
    assert_icms_ok(icms__project_settle(ICMS_PROJECT_PENDING_ADMIN_APPROVAL, &f, steps, &n));
    assert_int_equal(n, 1);
    assert_int_equal(steps[0].action, ICMS__PROJECT_BACK_TO_FUNDING);
    assert_int_equal(steps[0].to, ICMS_PROJECT_FUNDING);
    /* ...but not once approved: the table has no way back from APPROVED. */
    assert_icms_ok(icms__project_settle(ICMS_PROJECT_APPROVED, &f, steps, &n));
    assert_int_equal(n, 0);
    /* The first approval moves PUBLISHED -> FUNDING. */
    assert_icms_ok(icms__project_settle(ICMS_PROJECT_PUBLISHED, &f, steps, &n));
    assert_int_equal(n, 1);
    assert_string_equal(steps[0].event, "project.funding_started");
    f.approved_participations = 0;
    assert_icms_ok(icms__project_settle(ICMS_PROJECT_PUBLISHED, &f, steps, &n));
    assert_int_equal(n, 0);
}

static void test_parties(void **state)
{
    (void)state;
    const unsigned all = ICMS_ROLE_ALL;
    assert_int_equal(icms__parties(ICMS_ACTOR_SYSTEM, all, 1, 1), SYSTEM);
    assert_int_equal(icms__parties(ICMS_ACTOR_HOST, 0, 0, 0), ADMIN);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, 0, 1, 1), 0u);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, ICMS_ROLE_OWNER, 1, 1), OWNER);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, ICMS_ROLE_OWNER, 0, 1), 0u);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, ICMS_ROLE_INVESTOR, 0, 1), INVESTOR);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, ICMS_ROLE_ADMIN, 0, 0), ADMIN);
    assert_int_equal(icms__parties(ICMS_ACTOR_USER, all, 1, 1), OWNER | ADMIN | INVESTOR);
    assert_int_equal(icms__parties((icms_actor_kind_t)7, all, 1, 1), 0u);
    char buf[96];
    icms__parties_describe(OWNER | ADMIN | SYSTEM, buf, sizeof buf);
    assert_string_equal(buf, "the project owner, an admin or the system");
    icms__parties_describe(0, buf, sizeof buf);
    assert_string_equal(buf, "nobody");
    icms__parties_describe(ICMS__PARTY_ALL, buf, 12);
    assert_true(strlen(buf) < 12);
}

static void test_create(void **state)
{
    (void)state;
    for (unsigned roles = 0; roles <= ICMS_ROLE_ALL; roles++) {
        assert_int_equal(icms__project_check_create(ICMS_ACTOR_USER, roles),
                         roles & ICMS_ROLE_OWNER ? ICMS_OK : ICMS_EFORBIDDEN);
        assert_icms_ok(icms__project_check_create(ICMS_ACTOR_HOST, roles));
        assert_int_equal(icms__project_check_create(ICMS_ACTOR_SYSTEM, roles), ICMS_EFORBIDDEN);
    }
    assert_int_equal(icms__project_check_create((icms_actor_kind_t)9, ICMS_ROLE_ALL),
                     ICMS_EINVALID);
}

static void test_action_names(void **state)
{
    (void)state;
    for (int a = 0; a < ICMS__PROJECT_ACTION_COUNT; a++) {
        icms__project_action_t back;
        const char *name = icms__project_action_name((icms__project_action_t)a);
        assert_non_null(name);
        assert_icms_ok(icms__project_action_parse(name, &back));
        assert_int_equal(back, a);
    }
    icms__project_action_t out = ICMS__PROJECT_SHIP;
    assert_null(icms__project_action_name((icms__project_action_t)ICMS__PROJECT_ACTION_COUNT));
    assert_int_equal(icms__project_action_parse("fly", &out), ICMS_EINVALID);
    assert_int_equal(icms__project_action_parse(NULL, &out), ICMS_EINVALID);
    assert_int_equal(out, ICMS__PROJECT_SHIP);
    for (unsigned g = 0; g < ICMS__PG_COUNT; g++)
        assert_non_null(icms__project_guard_name(1u << g));
    assert_null(icms__project_guard_name(1u << ICMS__PG_COUNT));
    assert_null(icms__project_guard_name(3));
}

/* Funds can be taken back while funding and before approval, never after. */
static void test_funds_reversible_until_approval(void **state)
{
    (void)state;
    for (int st = ICMS_PROJECT_DRAFT; st <= ICMS_PROJECT_EXPIRED; st++) {
        bool expected = st == ICMS_PROJECT_FUNDING || st == ICMS_PROJECT_FULLY_FUNDED ||
                        st == ICMS_PROJECT_PENDING_ADMIN_APPROVAL;
        if (icms__project_funds_reversible((icms_project_state_t)st) != expected)
            fail_msg("state %s", icms_project_state_name((icms_project_state_t)st));
    }
}

/* Before approval a re-org un-funds; once ended it unwinds the refunds; in between nothing. */
static void test_what_a_reorg_does_by_state(void **state)
{
    (void)state;
    for (int st = 0; st < ICMS_PROJECT_STATE_COUNT; st++) {
        icms_project_state_t s = (icms_project_state_t)st;
        icms__reversal_t want = icms__project_funds_reversible(s) ? ICMS__REVERSAL_UNFUND
                                : icms__project_ended(s)          ? ICMS__REVERSAL_UNWIND
                                                                  : ICMS__REVERSAL_NONE;
        assert_int_equal(icms__payment_reversal(s), want);
    }
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_FUNDING), ICMS__REVERSAL_UNFUND);
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_PENDING_ADMIN_APPROVAL),
                     ICMS__REVERSAL_UNFUND);
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_CANCELLED), ICMS__REVERSAL_UNWIND);
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_EXPIRED), ICMS__REVERSAL_UNWIND);
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_APPROVED), ICMS__REVERSAL_NONE);
    assert_int_equal(icms__payment_reversal(ICMS_PROJECT_COMPLETED), ICMS__REVERSAL_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_state_action_actor),
        cmocka_unit_test(test_funds_reversible_until_approval),
        cmocka_unit_test(test_what_a_reorg_does_by_state),
        cmocka_unit_test(test_every_action_reachable),
        cmocka_unit_test(test_final_states_have_no_way_out),
        cmocka_unit_test(test_messages_name_the_reason),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_grace_window_does_not_wrap),
        cmocka_unit_test(test_settle_matches_oracle),
        cmocka_unit_test(test_settle_named_chains),
        cmocka_unit_test(test_parties),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_action_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
