/*
 * When a payment counts as late (icms__payment_is_late) and when a project has
 * ended (icms__project_ended): every payment status x late mark x project
 * state, against the rule as docs/domain.md states it, on names.
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
 * "Late: the transaction was attached after the payment's window closed (the
 * payment was EXPIRED then, which the late mark remembers), or the project was
 * cancelled or expired."
 */
static bool stated_late(icms_payment_status_t status, bool marked, icms_project_state_t project)
{
    static const char *const window_closed[] = {"EXPIRED"};
    return marked ||
           named(icms_payment_status_name(status), window_closed,
                 ICMS__ARRAY_LEN(window_closed)) ||
           stated_ended(project);
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

static void test_late_every_combination(void **state)
{
    (void)state;
    size_t checked = 0, late = 0;
    for (int y = -1; y <= ICMS_PAYMENT_STATUS_COUNT; y++) {
        for (int marked = 0; marked <= 1; marked++) {
            for (int s = -1; s <= ICMS_PROJECT_STATE_COUNT; s++) {
                icms__payment_late_facts f = {(icms_payment_status_t)y, marked != 0,
                                              (icms_project_state_t)s};
                bool want = stated_late(f.status, f.marked_late, f.project_state);
                if (icms__payment_is_late(&f) != want)
                    fail_msg("payment status %d, marked %d, project state %d: expected %s", y,
                             marked, s, want ? "late" : "on time");
                late += want;
                checked++;
            }
        }
    }
    assert_int_equal(checked,
                     (ICMS_PAYMENT_STATUS_COUNT + 2) * 2 * (ICMS_PROJECT_STATE_COUNT + 2));
    assert_true(late > 0 && late < checked);
    assert_false(icms__payment_is_late(NULL));
}

/*
 * The two moments the application asks. Submitting: PENDING in a live project
 * is on time, from EXPIRED late. Confirming (SUBMITTED): the mark decides,
 * unless the project has ended meanwhile; money that is late is refunded whole.
 */
static void test_late_at_submit_and_confirm(void **state)
{
    (void)state;
    icms__payment_late_facts submit = {ICMS_PAYMENT_PENDING, false, ICMS_PROJECT_FUNDING};
    assert_false(icms__payment_is_late(&submit));
    submit.status = ICMS_PAYMENT_EXPIRED;
    assert_true(icms__payment_is_late(&submit));

    for (int s = 0; s < ICMS_PROJECT_STATE_COUNT; s++) {
        icms__payment_late_facts confirm = {ICMS_PAYMENT_SUBMITTED, false,
                                            (icms_project_state_t)s};
        bool on_time = !icms__payment_is_late(&confirm);
        assert_int_equal(on_time, s != ICMS_PROJECT_CANCELLED && s != ICMS_PROJECT_EXPIRED);
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
