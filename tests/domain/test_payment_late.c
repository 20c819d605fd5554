/*
 * When a payment counts as late (icms__payment_is_late) and when a project has
 * ended (icms__project_ended): every payment status x late mark x project
 * state x moment of attaching (not yet: now; or a stored submitted_at) x now,
 * each moment just before, at and just after the payment's expires_at, against
 * the rule as docs/domain.md states it, on names.
 */
#include "support/test_support.h"

#include <string.h>

#include "core/core.h"
#include "domain/domain.h"

static bool named(const char *name, const char *const *names, size_t count)
{
    for (size_t i = 0; name && i < count; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* "Ended": the project was cancelled or expired. */
static bool stated_ended(icms_project_state_t state)
{
    static const char *const ended[] = {"CANCELLED", "EXPIRED"};
    return named(icms_project_state_name(state), ended, ICMS__ARRAY_LEN(ended));
}

/*
 * "Late: the transaction was attached at or after the payment's expires_at (by
 * the clock, whether or not the sweep has expired it yet; when it is being
 * attached, that is now, else its submitted_at), or while the payment was
 * EXPIRED (which the late mark remembers), or the project was cancelled or
 * expired. A transaction attached before expires_at is on time, however late
 * it is confirmed."
 */
static bool stated_late(const icms__payment_late_facts *f)
{
    static const char *const window_closed[] = {"EXPIRED"};
    bool attaching_now = f->submitted_at_ms == 0;
    int64_t attached = attaching_now ? f->now_ms : f->submitted_at_ms;
    bool after_window = !(attached < f->expires_at_ms);
    return f->marked_late ||
           named(icms_payment_status_name(f->status), window_closed,
                 ICMS__ARRAY_LEN(window_closed)) ||
           stated_ended(f->project_state) || after_window;
}

static void test_project_ended_every_state(void **state)
{
    (void)state;
    size_t ended = 0;
    for (int s = -1; s <= ICMS_PROJECT_STATE_COUNT; s++) {
        icms_project_state_t st = (icms_project_state_t)s;
        assert_int_equal(icms__project_ended(st), stated_ended(st));
        ended += icms__project_ended(st);
    }
    assert_int_equal(ended, 2);
    assert_false(icms__project_ended(ICMS_PROJECT_COMPLETED)); /* final, but not ended */
}

/* The windows' ends the combinations are tried against: an early instant and a 2026 one. */
static const int64_t window_ends[] = {1000, 1767225600000};

static void test_late_every_combination(void **state)
{
    (void)state;
    /* Relative to expires_at: just before, at, just after; 0 marks "attached now". */
    static const int64_t offsets[] = {-1, 0, 1};
    size_t checked = 0, late = 0, by_clock_only = 0;
    for (size_t e = 0; e < ICMS__ARRAY_LEN(window_ends); e++) {
        int64_t expires = window_ends[e];
        for (int y = -1; y <= ICMS_PAYMENT_STATUS_COUNT; y++)
            for (int marked = 0; marked <= 1; marked++)
                for (int s = -1; s <= ICMS_PROJECT_STATE_COUNT; s++)
                    for (size_t sub = 0; sub <= ICMS__ARRAY_LEN(offsets); sub++)
                        for (size_t n = 0; n < ICMS__ARRAY_LEN(offsets); n++) {
                            icms__payment_late_facts f = {
                                (icms_payment_status_t)y,
                                marked != 0,
                                (icms_project_state_t)s,
                                expires + offsets[n],
                                expires,
                                sub == ICMS__ARRAY_LEN(offsets) ? 0 : expires + offsets[sub]};
                            bool want = stated_late(&f);
                            if (icms__payment_is_late(&f) != want)
                                fail_msg("payment status %d, marked %d, project state %d, "
                                         "now %lld, expires_at %lld, submitted_at %lld: "
                                         "expected %s",
                                         y, marked, s, (long long)f.now_ms,
                                         (long long)f.expires_at_ms,
                                         (long long)f.submitted_at_ms,
                                         want ? "late" : "on time");
                            late += want;
                            icms__payment_late_facts untimed = f;
                            untimed.now_ms = untimed.submitted_at_ms = 0;
                            untimed.expires_at_ms = INT64_MAX;
                            by_clock_only += want && !icms__payment_is_late(&untimed);
                            checked++;
                        }
    }
    assert_int_equal(checked, ICMS__ARRAY_LEN(window_ends) * (ICMS_PAYMENT_STATUS_COUNT + 2) * 2 *
                                  (ICMS_PROJECT_STATE_COUNT + 2) * 4 * 3);
    assert_true(late > 0 && late < checked);
    assert_true(by_clock_only > 0); /* the clock decides cases the status alone did not */
    assert_false(icms__payment_is_late(NULL));
}

/*
 * The two moments the application asks, on a 2026 clock. Submitting a
 * PENDING payment in a live project: before expires_at on time, at or after it
 * late even though the sweep has not expired it; from EXPIRED late.
 * Confirming (SUBMITTED): the moment of attaching decides, not the moment of
 * confirming, unless the payment is marked late or the project has ended
 * meanwhile; money that is late is refunded whole.
 */
static void test_late_at_submit_and_confirm(void **state)
{
    (void)state;
    const int64_t expires = window_ends[1];
    icms__payment_late_facts submit = {ICMS_PAYMENT_PENDING, false, ICMS_PROJECT_FUNDING,
                                       expires - 1, expires, 0};
    assert_false(icms__payment_is_late(&submit));
    submit.now_ms = expires; /* at expires_at: the window is closed */
    assert_true(icms__payment_is_late(&submit));
    submit.now_ms = expires + 3600 * 1000;
    assert_true(icms__payment_is_late(&submit));
    submit.status = ICMS_PAYMENT_EXPIRED; /* swept: late whatever the clock says */
    submit.now_ms = 0;
    submit.expires_at_ms = INT64_MAX;
    assert_true(icms__payment_is_late(&submit));
    /* An expires_at that could not be read (INT64_MIN, payment_late.h): late. */
    icms__payment_late_facts unreadable = {ICMS_PAYMENT_SUBMITTED, false, ICMS_PROJECT_FUNDING,
                                           expires, INT64_MIN, expires - 1};
    assert_true(icms__payment_is_late(&unreadable));

    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
        bool ended = s == ICMS_PROJECT_CANCELLED || s == ICMS_PROJECT_EXPIRED;
        /* Attached a second before the end, confirmed a day after it, never swept. */
        icms__payment_late_facts confirm = {ICMS_PAYMENT_SUBMITTED, false,
                                            (icms_project_state_t)s, expires + 86400 * 1000,
                                            expires, expires - 1000};
        bool on_time = !icms__payment_is_late(&confirm);
        assert_int_equal(on_time, !ended);
        /* Attached at the end itself: late, confirmed whenever. */
        icms__payment_late_facts at_end = confirm;
        at_end.submitted_at_ms = expires;
        assert_true(icms__payment_is_late(&at_end));
        at_end.now_ms = expires;
        assert_true(icms__payment_is_late(&at_end));
        confirm.marked_late = true;
        assert_true(icms__payment_is_late(&confirm));

        icms__payment_outcome o;
        assert_icms_ok(icms__payment_classify(1000, 1000, 1000, !on_time, &o));
        assert_int_equal(o.credited, on_time ? 1000 : 0);
        assert_int_equal(o.refund_due, on_time ? 0 : 1000);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_project_ended_every_state),
        cmocka_unit_test(test_late_every_combination),
        cmocka_unit_test(test_late_at_submit_and_confirm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
