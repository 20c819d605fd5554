/*
 * Payments, exhaustively: every status x every action x every party mask x a
 * grid of amounts, windows and lateness, against an expectation written from
 * issue 5's words; the outcome classification; the initiate check.
 */
#include "support/test_support.h"

#include <string.h>

#include "domain/domain.h"

#define OWNER ICMS__PARTY_OWNER
#define ADMIN ICMS__PARTY_ADMIN
#define SYSTEM ICMS__PARTY_SYSTEM
#define INVESTOR ICMS__PARTY_INVESTOR

static unsigned who_may(icms__payment_action_t a)
{
    /* The investor (or a watcher in the host, or the library) attaches a txid; all else is
     * verification. */
    return a == ICMS__PAYMENT_SUBMIT ? (INVESTOR | ADMIN | SYSTEM) : SYSTEM;
}

static int starts_in(icms__payment_action_t a, icms_payment_status_t s)
{
    switch (a) {
    case ICMS__PAYMENT_SUBMIT:
        return s == ICMS_PAYMENT_PENDING || s == ICMS_PAYMENT_EXPIRED;
    case ICMS__PAYMENT_CONFIRM:
    case ICMS__PAYMENT_FAIL:
        return s == ICMS_PAYMENT_SUBMITTED;
    case ICMS__PAYMENT_EXPIRE:
        return s == ICMS_PAYMENT_PENDING;
    case ICMS__PAYMENT_REVERSE:
        return s == ICMS_PAYMENT_CONFIRMED || s == ICMS_PAYMENT_PARTIAL;
    }
    return 0;
}

/* Expected result of one question; *to and *event on success. */
static int expect(icms_payment_status_t s, icms__payment_action_t a, unsigned p,
                  const icms__payment_facts *f, icms_payment_status_t *to, const char **event)
{
    if (!(who_may(a) & p))
        return ICMS_EFORBIDDEN;
    if (!starts_in(a, s))
        return ICMS_EINVALID_TRANSITION;
    switch (a) {
    case ICMS__PAYMENT_SUBMIT:
        *to = ICMS_PAYMENT_SUBMITTED;
        *event = "payment.submitted";
        return ICMS_OK;
    case ICMS__PAYMENT_CONFIRM: {
        if (f->received <= 0)
            return ICMS_EINVALID_TRANSITION;
        /* Short only when on time and below what was still due. */
        int64_t due = f->expected < f->outstanding ? f->expected : f->outstanding;
        int short_paid = !f->late && f->received < due;
        *to = short_paid ? ICMS_PAYMENT_PARTIAL : ICMS_PAYMENT_CONFIRMED;
        *event = short_paid ? "payment.partially_confirmed" : "payment.confirmed";
        return ICMS_OK;
    }
    case ICMS__PAYMENT_FAIL:
        *to = ICMS_PAYMENT_FAILED;
        *event = "payment.failed";
        return ICMS_OK;
    case ICMS__PAYMENT_EXPIRE:
        if (!(f->now_ms >= f->expires_at_ms || f->project_ended))
            return ICMS_EINVALID_TRANSITION;
        *to = ICMS_PAYMENT_EXPIRED;
        *event = "payment.expired";
        return ICMS_OK;
    case ICMS__PAYMENT_REVERSE:
        *to = ICMS_PAYMENT_REVERSED;
        *event = "payment.reversed";
        return ICMS_OK;
    }
    return ICMS_ERROR;
}

static void test_every_status_action_actor(void **state)
{
    (void)state;
    static const int64_t received[] = {0, 50, 99, 100, 101, 250};
    static const int64_t outstanding[] = {0, 60, 100, 300};
    size_t ok = 0;
    for (int s = 0; s < ICMS_PAYMENT_STATUS_COUNT; s++)
        for (int a = 0; a < ICMS__PAYMENT_ACTION_COUNT; a++)
            for (unsigned p = 0; p <= ICMS__PARTY_ALL; p++)
                for (size_t r = 0; r < 6; r++)
                    for (size_t o = 0; o < 4; o++)
                        for (int late = 0; late < 2; late++)
                            for (int ended = 0; ended < 2; ended++)
                                for (int64_t now = 999; now <= 1000; now++) {
                                    icms__payment_facts f = {
                                        now, 1000, ended, 100, outstanding[o], received[r], late};
                                    icms_payment_status_t to = 0;
                                    const char *event = NULL;
                                    icms__payment_decision d;
                                    int want =
                                        expect((icms_payment_status_t)s, (icms__payment_action_t)a,
                                               p, &f, &to, &event);
                                    int got =
                                        icms__payment_decide((icms_payment_status_t)s,
                                                             (icms__payment_action_t)a, p, &f, &d);
                                    if (got != want)
                                        fail_msg("%s %s parties=%x recv=%lld out=%lld late=%d "
                                                 "ended=%d now=%lld: got %s (%s), want %s",
                                                 icms_payment_status_name(s),
                                                 icms__payment_action_name(a), p,
                                                 (long long)f.received, (long long)f.outstanding,
                                                 late, ended, (long long)now, icms_error_name(got),
                                                 icms_error_last()->message, icms_error_name(want));
                                    if (got == ICMS_OK) {
                                        ok++;
                                        assert_int_equal(d.from, s);
                                        assert_int_equal(d.action, a);
                                        assert_int_equal(d.to, to);
                                        assert_string_equal(d.event, event);
                                    }
                                }
    assert_true(ok > 1000);
    icms__payment_facts bad = {0, 1, 0, 0, 0, 0, 0};
    icms__payment_decision d;
    assert_int_equal(
        icms__payment_decide(ICMS_PAYMENT_PENDING, ICMS__PAYMENT_SUBMIT, INVESTOR, &bad, &d),
        ICMS_EINVALID);
    bad.expected = 1;
    bad.received = -1;
    assert_int_equal(
        icms__payment_decide(ICMS_PAYMENT_PENDING, ICMS__PAYMENT_SUBMIT, INVESTOR, &bad, &d),
        ICMS_EINVALID);
    bad.received = 0;
    bad.outstanding = -1;
    assert_int_equal(
        icms__payment_decide(ICMS_PAYMENT_PENDING, ICMS__PAYMENT_SUBMIT, INVESTOR, &bad, &d),
        ICMS_EINVALID);
    assert_int_equal(
        icms__payment_decide(ICMS_PAYMENT_PENDING, ICMS__PAYMENT_SUBMIT, INVESTOR, &bad, NULL),
        ICMS_EINVALID);
}

static void check_outcome(int64_t expected, int64_t outstanding, int64_t received, bool late,
                          icms__payment_outcome_kind_t kind, int64_t credited, int64_t refund)
{
    icms__payment_outcome o;
    assert_icms_ok(icms__payment_classify(expected, outstanding, received, late, &o));
    assert_int_equal(o.kind, kind);
    assert_int_equal(o.credited, credited);
    assert_int_equal(o.refund_due, refund);
    assert_int_equal(o.outstanding_after, outstanding - credited);
    assert_int_equal(o.credited + o.refund_due, received);
}

static void test_classify(void **state)
{
    (void)state;
    check_outcome(100, 300, 100, false, ICMS__PAYMENT_EXACT, 100, 0);
    check_outcome(100, 300, 40, false, ICMS__PAYMENT_PARTIAL, 40, 0);
    check_outcome(100, 300, 0, false, ICMS__PAYMENT_PARTIAL, 0, 0);
    check_outcome(100, 300, 130, false, ICMS__PAYMENT_OVERPAID, 100, 30);
    /* The commitment shrank since the payment began (another payment confirmed). */
    check_outcome(100, 60, 60, false, ICMS__PAYMENT_EXACT, 60, 0);
    check_outcome(100, 60, 80, false, ICMS__PAYMENT_OVERPAID, 60, 20);
    check_outcome(100, 0, 100, false, ICMS__PAYMENT_OVERPAID, 0, 100);
    /* Late money is recorded and refunded in full. */
    check_outcome(100, 300, 100, true, ICMS__PAYMENT_LATE, 0, 100);
    check_outcome(100, 300, 0, true, ICMS__PAYMENT_LATE, 0, 0);
    check_outcome(INT64_MAX, INT64_MAX, INT64_MAX, false, ICMS__PAYMENT_EXACT, INT64_MAX, 0);
    check_outcome(1, INT64_MAX, INT64_MAX, false, ICMS__PAYMENT_OVERPAID, 1, INT64_MAX - 1);

    icms__payment_outcome o;
    assert_int_equal(icms__payment_classify(0, 1, 1, false, &o), ICMS_EINVALID);
    assert_int_equal(icms__payment_classify(1, -1, 1, false, &o), ICMS_EINVALID);
    assert_int_equal(icms__payment_classify(1, 1, -1, false, &o), ICMS_EINVALID);
    assert_int_equal(icms__payment_classify(1, 1, 1, false, NULL), ICMS_EINVALID);
    assert_string_equal(icms__payment_outcome_name(ICMS__PAYMENT_LATE), "late");
    assert_null(icms__payment_outcome_name((icms__payment_outcome_kind_t)9));
}

static void test_initiate(void **state)
{
    (void)state;
    icms__payment_initiate_facts f = {
        ICMS_PROJECT_FUNDING, ICMS_PARTICIPATION_APPROVED, 500, 200, ICMS_KYC_VERIFIED, true};
    assert_icms_ok(icms__payment_check_initiate(INVESTOR, &f));
    assert_int_equal(icms__payment_check_initiate(OWNER | ADMIN | SYSTEM, &f), ICMS_EFORBIDDEN);
    f.amount = 500;
    assert_icms_ok(icms__payment_check_initiate(INVESTOR, &f));
    f.amount = 501;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EINVALID);
    f.amount = 0;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EINVALID);
    f.amount = 10;
    f.kyc_status = ICMS_KYC_PENDING;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EFORBIDDEN);
    f.kyc_required = false;
    assert_icms_ok(icms__payment_check_initiate(INVESTOR, &f));
    for (int ps = 0; ps < ICMS_PROJECT_STATE_COUNT; ps++)
        for (int qs = 0; qs < ICMS_PARTICIPATION_STATUS_COUNT; qs++) {
            f.project_state = (icms_project_state_t)ps;
            f.participation_status = (icms_participation_status_t)qs;
            int want = ps == ICMS_PROJECT_FUNDING && qs == ICMS_PARTICIPATION_APPROVED
                           ? ICMS_OK
                           : ICMS_EINVALID_TRANSITION;
            assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), want);
        }
    f.project_state = ICMS_PROJECT_FUNDING;
    f.participation_status = ICMS_PARTICIPATION_APPROVED;
    f.outstanding = 0;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EINVALID_TRANSITION);
    f.outstanding = -3;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EINVALID);
    assert_int_equal(icms__payment_check_initiate(INVESTOR, NULL), ICMS_EINVALID);
    f.participation_status = (icms_participation_status_t)77;
    assert_int_equal(icms__payment_check_initiate(INVESTOR, &f), ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "(unknown)"));
}

static void test_names(void **state)
{
    (void)state;
    for (int a = 0; a < ICMS__PAYMENT_ACTION_COUNT; a++)
        assert_non_null(icms__payment_action_name((icms__payment_action_t)a));
    assert_null(icms__payment_action_name((icms__payment_action_t)5));
    for (unsigned g = 0; g < ICMS__YG_COUNT; g++)
        assert_non_null(icms__payment_guard_name(1u << g));
    assert_null(icms__payment_guard_name(0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_status_action_actor),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_initiate),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
