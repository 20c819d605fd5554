/*
 * Participation requests, exhaustively: every status x every action x every
 * party mask x every project state around the deadline, against an
 * expectation written from issue 3's words; and the checks for a new request.
 */
#include "support/test_support.h"

#include <string.h>

#include "domain/domain.h"

#define OWNER ICMS__PARTY_OWNER
#define ADMIN ICMS__PARTY_ADMIN
#define SYSTEM ICMS__PARTY_SYSTEM
#define INVESTOR ICMS__PARTY_INVESTOR

static unsigned who_may(icms__participation_action_t a)
{
    switch (a) {
    case ICMS__PARTICIPATION_APPROVE:
    case ICMS__PARTICIPATION_REJECT:
        return OWNER; /* "The owner approves or rejects" */
    case ICMS__PARTICIPATION_WITHDRAW:
        return INVESTOR; /* "the investor may withdraw while pending" */
    case ICMS__PARTICIPATION_CANCEL:
        return SYSTEM; /* "open requests end (CANCELLED) in the same transaction" */
    }
    return 0;
}

static int starts_in(icms__participation_action_t a, icms_participation_status_t s)
{
    if (a == ICMS__PARTICIPATION_CANCEL)
        return s == ICMS_PARTICIPATION_PENDING || s == ICMS_PARTICIPATION_APPROVED;
    return s == ICMS_PARTICIPATION_PENDING;
}

static int project_open(const icms__participation_facts *f)
{
    return (f->project_state == ICMS_PROJECT_PUBLISHED ||
            f->project_state == ICMS_PROJECT_FUNDING) &&
           f->now_ms < f->deadline_ms;
}

static int guard_ok(icms__participation_action_t a, const icms__participation_facts *f)
{
    if (a == ICMS__PARTICIPATION_APPROVE)
        return project_open(f);
    if (a == ICMS__PARTICIPATION_CANCEL)
        return f->project_state == ICMS_PROJECT_CANCELLED ||
               f->project_state == ICMS_PROJECT_EXPIRED;
    return 1;
}

static int expect_rc(icms_participation_status_t s, icms__participation_action_t a,
                     unsigned parties, const icms__participation_facts *f)
{
    if (!(who_may(a) & parties))
        return ICMS_EFORBIDDEN;
    if (!starts_in(a, s))
        return ICMS_EINVALID_TRANSITION;
    return guard_ok(a, f) ? ICMS_OK : ICMS_EINVALID_TRANSITION;
}

static void expect_target(icms__participation_action_t a, icms_participation_status_t *to,
                          const char **event)
{
    switch (a) {
    case ICMS__PARTICIPATION_APPROVE:
        *to = ICMS_PARTICIPATION_APPROVED;
        *event = "participation.approved";
        return;
    case ICMS__PARTICIPATION_REJECT:
        *to = ICMS_PARTICIPATION_REJECTED;
        *event = "participation.rejected";
        return;
    case ICMS__PARTICIPATION_WITHDRAW:
        *to = ICMS_PARTICIPATION_WITHDRAWN;
        *event = "participation.withdrawn";
        return;
    case ICMS__PARTICIPATION_CANCEL:
        *to = ICMS_PARTICIPATION_CANCELLED;
        *event = "participation.cancelled";
        return;
    }
}

static void test_every_status_action_actor(void **state)
{
    (void)state;
    size_t ok = 0;
    for (int s = 0; s < ICMS_PARTICIPATION_STATUS_COUNT; s++)
        for (int a = 0; a < ICMS__PARTICIPATION_ACTION_COUNT; a++)
            for (unsigned p = 0; p <= ICMS__PARTY_ALL; p++)
                for (int ps = 0; ps < ICMS_PROJECT_STATE_COUNT; ps++)
                    for (int64_t now = 99; now <= 101; now++) {
                        icms__participation_facts f = {(icms_project_state_t)ps, now, 100};
                        icms__participation_decision d;
                        int want = expect_rc((icms_participation_status_t)s,
                                             (icms__participation_action_t)a, p, &f);
                        int got =
                            icms__participation_decide((icms_participation_status_t)s,
                                                       (icms__participation_action_t)a, p, &f, &d);
                        if (got != want)
                            fail_msg("%s %s parties=%x project=%s now=%lld: got %s (%s) want %s",
                                     icms_participation_status_name(s),
                                     icms__participation_action_name(a), p,
                                     icms_project_state_name(ps), (long long)now,
                                     icms_error_name(got), icms_error_last()->message,
                                     icms_error_name(want));
                        if (got == ICMS_OK) {
                            icms_participation_status_t to;
                            const char *event;
                            expect_target((icms__participation_action_t)a, &to, &event);
                            assert_int_equal(d.from, s);
                            assert_int_equal(d.action, a);
                            assert_int_equal(d.to, to);
                            assert_string_equal(d.event, event);
                            ok++;
                        }
                    }
    assert_true(ok > 100);
}

static void test_project_end_cancels_open_requests(void **state)
{
    (void)state;
    for (int s = 0; s < ICMS_PARTICIPATION_STATUS_COUNT; s++)
        for (int ps = 0; ps < ICMS_PROJECT_STATE_COUNT; ps++) {
            icms__participation_facts f = {(icms_project_state_t)ps, 0, 100};
            icms__participation_decision d;
            int ended = ps == ICMS_PROJECT_CANCELLED || ps == ICMS_PROJECT_EXPIRED;
            int open = s == ICMS_PARTICIPATION_PENDING || s == ICMS_PARTICIPATION_APPROVED;
            int rc = icms__participation_follow_up((icms_participation_status_t)s, &f, &d);
            assert_int_equal(rc, ended && open);
            assert_int_equal(icms__participation_status_is_final((icms_participation_status_t)s),
                             !open);
            if (rc == 1) {
                assert_int_equal(d.to, ICMS_PARTICIPATION_CANCELLED);
                assert_string_equal(d.event, "participation.cancelled");
            }
        }
    icms__participation_facts bad = {(icms_project_state_t)42, 0, 1};
    icms__participation_decision d;
    assert_int_equal(icms__participation_follow_up(ICMS_PARTICIPATION_PENDING, &bad, &d),
                     ICMS_EINVALID);
    assert_int_equal(icms__participation_decide(ICMS_PARTICIPATION_PENDING,
                                                ICMS__PARTICIPATION_REJECT, OWNER, &bad, &d),
                     ICMS_EINVALID);
    assert_int_equal(icms__participation_follow_up(ICMS_PARTICIPATION_PENDING, &bad, NULL),
                     ICMS_EINVALID);
}

/* The request check, in the order the rules are stated, over every combination. */
static void test_request_check(void **state)
{
    (void)state;
    size_t ok = 0;
    for (unsigned p = 0; p <= ICMS__PARTY_ALL; p++)
        for (int ps = 0; ps < ICMS_PROJECT_STATE_COUNT; ps++)
            for (int64_t now = 99; now <= 100; now++)
                for (int open = 0; open < 2; open++)
                    for (int owns = 0; owns < 2; owns++)
                        for (int k = 0; k < ICMS_KYC_STATUS_COUNT; k++)
                            for (int req = 0; req < 2; req++) {
                                icms__participation_request_facts f = {
                                    {(icms_project_state_t)ps, now, 100},
                                    owns,
                                    open,
                                    (icms_kyc_status_t)k,
                                    req};
                                int want;
                                if (!(p & INVESTOR) || (p & OWNER) || owns)
                                    want = ICMS_EFORBIDDEN;
                                else if (!((ps == ICMS_PROJECT_PUBLISHED ||
                                            ps == ICMS_PROJECT_FUNDING) &&
                                           now < 100))
                                    want = ICMS_EINVALID_TRANSITION;
                                else if (open)
                                    want = ICMS_EEXISTS;
                                else if (req && k != ICMS_KYC_VERIFIED)
                                    want = ICMS_EFORBIDDEN;
                                else
                                    want = ICMS_OK;
                                int got = icms__participation_check_request(p, &f);
                                if (got != want)
                                    fail_msg(
                                        "parties=%x project=%s now=%lld open=%d kyc=%s req=%d: "
                                        "got %s (%s), want %s",
                                        p, icms_project_state_name(ps), (long long)now, open,
                                        icms_kyc_status_name(k), req, icms_error_name(got),
                                        icms_error_last()->message, icms_error_name(want));
                                ok += got == ICMS_OK;
                            }
    assert_true(ok > 0);
    assert_int_equal(icms__participation_check_request(INVESTOR, NULL), ICMS_EINVALID);
    icms__participation_request_facts f = {
        {ICMS_PROJECT_PUBLISHED, 1, 100}, 0, 0, ICMS_KYC_NONE, 1};
    assert_int_equal(icms__participation_check_request(INVESTOR, &f), ICMS_EFORBIDDEN);
    assert_non_null(strstr(icms_error_last()->message, "KYC"));
    assert_int_equal(icms__participation_check_request(INVESTOR | OWNER, &f), ICMS_EFORBIDDEN);
    assert_non_null(strstr(icms_error_last()->message, "owner"));
    f.kyc_status = ICMS_KYC_VERIFIED;
    assert_icms_ok(icms__participation_check_request(INVESTOR, &f));
    f.requester_owns_project = true; /* an owner who dropped the OWNER role */
    assert_int_equal(icms__participation_check_request(INVESTOR, &f), ICMS_EFORBIDDEN);
}

static void test_names(void **state)
{
    (void)state;
    for (int a = 0; a < ICMS__PARTICIPATION_ACTION_COUNT; a++)
        assert_non_null(icms__participation_action_name((icms__participation_action_t)a));
    assert_null(icms__participation_action_name((icms__participation_action_t)4));
    assert_string_equal(icms__participation_guard_name(ICMS__QG_PROJECT_OPEN), "project open");
    assert_null(icms__participation_guard_name(4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_action_actor),
        cmocka_unit_test(test_project_end_cancels_open_requests),
        cmocka_unit_test(test_request_check),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
