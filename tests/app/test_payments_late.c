/*
 * Lateness follows the clock, not the expiry sweep (docs/domain.md, "When a
 * payment is late"; docs/payments.md), on the fake clock against the fake
 * gapcoind, with no icms_tick anywhere: a transaction attached at (or after)
 * the payment's expires_at, or the project's expiry_date, is late although
 * neither the payment nor the project has been swept, and its money is
 * recorded and refunded in full; one attached a millisecond before either is
 * on time however late it is confirmed; a cancelled project makes money
 * confirmed after it late. icms_check runs after each (pay_teardown). One
 * table test runs every combination through payment_late.c against the rule
 * as stated.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/payment_late.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/sys/clock.h"
#include "icms/util.h"
#include "pay_fixture.h"

/* publish_small_project's expiry_date, 2026-02-01T00:00:00Z. */
#define PROJECT_DEADLINE 1769904000000LL
#define HOUR (3600 * 1000LL)

static int setup(void **state)
{
    return pay_setup_named(state, "payments_late");
}

/* A funded-in-one-go scenario: the investor's transaction "pay" of TARGET, mined 6 deep. */
static void start(world *w, const char *name, char payment_id[37], int64_t *expires_at)
{
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    chain_start(&w->c, pay, name);
    chain_attach(&w->f, &w->c, 0);
    publish_small_project(w);
    char part[37];
    approved(w, &w->f.investor, TARGET, part);
    cJSON *payment = initiate(w, &w->f.investor, part, "late-1", 0);
    snprintf(payment_id, 37, "%s", fx_str(payment, "id"));
    assert_icms_ok(icms_time_parse(fx_str(payment, "expires_at"), expires_at));
    assert_true(*expires_at > icms_clock_now(w->f.clock));
    cJSON_Delete(payment);
}

static cJSON *get(world *w, const char *id)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_get(w->f.db, &w->f.investor.req, id, &out));
    return fx_json(out);
}

static cJSON *submit(world *w, const char *id)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, id,
                                       fake_node_txid(&w->c.node, "pay"), &out));
    return fx_json(out);
}

/* The investor's refunds: how many, and the amount and reason of the first. */
static int refunds(world *w, long long *amount, char reason[64])
{
    char *out = NULL;
    assert_icms_ok(icms_refund_list(w->f.db, &w->f.investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    int n = cJSON_GetArraySize(items);
    if (n > 0) {
        cJSON *first = cJSON_GetArrayItem(items, 0);
        *amount = fx_int(first, "amount");
        snprintf(reason, 64, "%s", fx_str(first, "reason"));
    }
    cJSON_Delete(page);
    return n;
}

/*
 * Verify payment id and check what a late payment comes to: recorded as
 * CONFIRMED (its money is found), nothing credited, the project not funded,
 * and one refund of the whole amount for "late payment".
 */
static void verify_is_late_in(world *w, const char *id, const char *project_state)
{
    char buf[64];
    cJSON *p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), TARGET);
    assert_int_equal(fx_int(p, "credited"), 0);
    assert_int_equal(fx_int(p, "refund_due"), TARGET);
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    assert_string_equal(state_of(w, buf), project_state);
    long long amount = 0;
    char reason[64] = "";
    assert_int_equal(refunds(w, &amount, reason), 1);
    assert_int_equal(amount, TARGET);
    assert_string_equal(reason, "late payment");
}

static void verify_is_late(world *w, const char *id)
{
    verify_is_late_in(w, id, "FUNDING"); /* no sweep has expired the project */
}

/* Confirmed on time: credited in full, not late, the project funded, nothing to refund. */
static void verify_is_on_time(world *w, const char *id)
{
    char buf[64];
    cJSON *p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), TARGET);
    assert_int_equal(fx_int(p, "credited"), TARGET);
    assert_int_equal(fx_int(p, "refund_due"), 0);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    assert_int_equal(funded(w), TARGET);
    assert_string_equal(state_of(w, buf), "PENDING_ADMIN_APPROVAL");
    long long amount = 0;
    char reason[64] = "";
    assert_int_equal(refunds(w, &amount, reason), 0);
}

/* Attached at expires_at exactly, never swept: late, confirmed, refunded whole. */
static void test_attached_at_expiry_without_sweep_is_late(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    start(w, "payments_late_at", id, &expires_at);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at));
    cJSON *p = get(w, id);
    assert_string_equal(fx_str(p, "status"), "PENDING"); /* no sweep has run */
    cJSON_Delete(p);

    p = submit(w, id);
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    chain_next(&w->c);
    verify_is_late(w, id);
}

/* Attached an hour after expires_at, confirmed later still, never swept: the same. */
static void test_attached_after_expiry_without_sweep_is_late(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    start(w, "payments_late_after", id, &expires_at);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at + 3600 * 1000));
    cJSON *p = submit(w, id);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    assert_icms_ok(icms_clock_fake_advance(w->f.clock, 3600 * 1000));
    chain_next(&w->c);
    verify_is_late(w, id);
}

/* Attached 1 ms before expires_at, confirmed a day after it: on time, credited in full. */
static void test_attached_before_expiry_confirmed_after_is_on_time(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    start(w, "payments_late_before", id, &expires_at);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at - 1));
    cJSON *p = submit(w, id);
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);

    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at + 86400 * 1000));
    chain_next(&w->c);
    verify_is_on_time(w, id);
}

/*
 * The project's expiry_date passes 23 hours into the payment's window; the
 * transaction is attached at the deadline exactly (and confirmed an hour
 * later), with no sweep: the project is still FUNDING and the payment still
 * PENDING when it is attached, and the money is late, refunded in full.
 */
static void test_attached_at_project_expiry_without_sweep_is_late(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    assert_icms_ok(icms_clock_fake_set(w->f.clock, PROJECT_DEADLINE - HOUR));
    start(w, "payments_late_project_at", id, &expires_at);
    assert_true(expires_at > PROJECT_DEADLINE); /* the payment's own window is still open */
    assert_icms_ok(icms_clock_fake_set(w->f.clock, PROJECT_DEADLINE));
    cJSON *p = get(w, id);
    assert_string_equal(fx_str(p, "status"), "PENDING");
    cJSON_Delete(p);
    p = submit(w, id);
    /* Submission already marks it: the answer says late before any confirmation. */
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    assert_icms_ok(icms_clock_fake_advance(w->f.clock, HOUR));
    chain_next(&w->c);
    verify_is_late(w, id);
}

/* Attached 1 ms before the project's expiry_date, confirmed a day after it: on time. */
static void test_attached_before_project_expiry_confirmed_after_is_on_time(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    assert_icms_ok(icms_clock_fake_set(w->f.clock, PROJECT_DEADLINE - HOUR));
    start(w, "payments_late_project_before", id, &expires_at);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, PROJECT_DEADLINE - 1));
    cJSON *p = submit(w, id);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, PROJECT_DEADLINE + 24 * HOUR));
    chain_next(&w->c);
    verify_is_on_time(w, id);
}

/*
 * Attached in time (well before both deadlines), the project cancelled before
 * it confirms: late as before, refunded in full.
 */
static void test_confirmed_after_cancellation_is_late(void **state)
{
    world *w = *state;
    char id[37];
    int64_t expires_at;
    start(w, "payments_late_cancelled", id, &expires_at);
    cJSON *p = submit(w, id);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_cancel(w->f.db, &w->f.owner.req, w->project, "port closed", NULL));
    chain_next(&w->c);
    verify_is_late_in(w, id, "CANCELLED");
}

/* ---- the rule, every combination, through payment_late.c ---- */

/*
 * "Late: attached at or after the payment's expires_at, or at or after the
 * project's expiry_date while the project is one the sweep would expire
 * (PUBLISHED or FUNDING), by the clock; attached is the submitted_at, or now
 * when it is being attached now. Or the late mark, or a payment EXPIRED as it
 * is attached, or a cancelled or expired project." Unreadable times read as
 * passed.
 */
static bool stated_late(icms_payment_status_t status, bool mark, const char *project_state,
                        int64_t now, int64_t submitted, int64_t expires, int64_t deadline)
{
    int64_t attached = submitted != 0 ? submitted : now;
    bool open = project_state &&
                (strcmp(project_state, "PUBLISHED") == 0 || strcmp(project_state, "FUNDING") == 0);
    bool ended = project_state &&
                 (strcmp(project_state, "CANCELLED") == 0 || strcmp(project_state, "EXPIRED") == 0);
    return mark || status == ICMS_PAYMENT_EXPIRED || ended || attached >= expires ||
           (open && attached >= deadline);
}

static void set_time(cJSON *doc, const char *field, int64_t ms)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, field);
    if (ms == INT64_MIN) { /* unreadable */
        assert_non_null(cJSON_AddStringToObject(doc, field, "not a time"));
        return;
    }
    if (ms == 0) /* absent */
        return;
    char text[ICMS_TIME_STRING_SIZE];
    assert_icms_ok(icms__time_format(ms, text));
    assert_non_null(cJSON_AddStringToObject(doc, field, text));
}

static void test_every_combination_against_the_rule(void **state)
{
    (void)state;
    const int64_t T = PROJECT_DEADLINE;
    /* Moments around both deadlines; expires_at and expiry_date take each in turn. */
    const int64_t moments[] = {T - HOUR - 1, T - HOUR, T - HOUR + 1, T - 1, T, T + 1};
    const size_t nm = ICMS__ARRAY_LEN(moments);
    size_t late = 0, on_time = 0, by_project = 0;
    for (int st = -1; st <= ICMS_PROJECT_STATE_COUNT; st++) {
        const char *state_name = icms_project_state_name((icms_project_state_t)st);
        cJSON *project = cJSON_CreateObject();
        assert_non_null(project);
        if (state_name)
            assert_non_null(cJSON_AddStringToObject(project, "state", state_name));
        icms_project_state_t pstate =
            state_name ? (icms_project_state_t)st : (icms_project_state_t)ICMS_PROJECT_STATE_COUNT;
        for (size_t d = 0; d <= nm; d++) {
            int64_t deadline = d < nm ? moments[d] : INT64_MIN; /* last: unreadable */
            set_time(project, "expiry_date", deadline);
            for (size_t e = 0; e <= nm; e++) {
                int64_t expires = e < nm ? moments[e] : INT64_MIN;
                for (size_t s = 0; s <= nm; s++) {
                    int64_t submitted = s < nm ? moments[s] : 0; /* last: attaching now */
                    for (size_t n = 0; n < nm; n++) {
                        int64_t now = moments[n];
                        if (submitted != 0 && submitted > now)
                            continue;
                        cJSON *payment = cJSON_CreateObject();
                        assert_non_null(payment);
                        set_time(payment, "expires_at", expires);
                        set_time(payment, "submitted_at", submitted);
                        for (int ps = 0; ps < ICMS_PAYMENT_STATUS_COUNT; ps++) {
                            for (int mark = 0; mark < 2; mark++) {
                                icms_payment_status_t status = (icms_payment_status_t)ps;
                                icms__payment_late_facts f = {status, mark != 0, pstate, 0, 0, 0};
                                icms__payment_late_times(&f, payment, now);
                                icms__payment_late_project(&f, project);
                                bool got = icms__payment_is_late(&f);
                                bool want = stated_late(status, mark != 0, state_name, now,
                                                        submitted, expires, deadline);
                                if (got != want)
                                    fail_msg("state %s status %d mark %d now %lld submitted "
                                             "%lld expires %lld deadline %lld: %d, stated %d",
                                             state_name ? state_name : "(none)", ps, mark,
                                             (long long)now, (long long)submitted,
                                             (long long)expires, (long long)deadline, got, want);
                                late += got;
                                on_time += !got;
                                /* late by the project's date alone */
                                by_project += got && !mark && status != ICMS_PAYMENT_EXPIRED &&
                                              !stated_late(status, false, state_name, now,
                                                           submitted, expires, INT64_MAX);
                            }
                        }
                        cJSON_Delete(payment);
                    }
                }
            }
        }
        cJSON_Delete(project);
    }
    /* Every branch was reached, the project's date among them. */
    assert_true(late > 0 && on_time > 0 && by_project > 0);
    /* A NULL project changes nothing. */
    icms__payment_late_facts f = {ICMS_PAYMENT_PENDING, false, ICMS_PROJECT_FUNDING, 0, 0, 0};
    f.expires_at_ms = T;
    icms__payment_late_project(&f, NULL);
    assert_int_equal(f.expires_at_ms, T);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_attached_at_expiry_without_sweep_is_late),
        T(test_attached_after_expiry_without_sweep_is_late),
        T(test_attached_before_expiry_confirmed_after_is_on_time),
        T(test_attached_at_project_expiry_without_sweep_is_late),
        T(test_attached_before_project_expiry_confirmed_after_is_on_time),
        T(test_confirmed_after_cancellation_is_late),
        cmocka_unit_test(test_every_combination_against_the_rule),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
