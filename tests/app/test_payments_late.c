/*
 * Lateness follows the clock, not the expiry sweep (docs/domain.md, "When a
 * payment is late"), on the fake clock against the fake gapcoind, with no
 * icms_tick anywhere: a transaction attached at (or after) the payment's
 * expires_at is late although the payment is still PENDING, and its money is
 * recorded and refunded in full; one attached a millisecond before
 * expires_at is on time however late it is confirmed. icms_check runs after
 * each (pay_teardown).
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/sys/clock.h"
#include "icms/util.h"
#include "pay_fixture.h"

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
static void verify_is_late(world *w, const char *id)
{
    char buf[64];
    cJSON *p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), TARGET);
    assert_int_equal(fx_int(p, "credited"), 0);
    assert_int_equal(fx_int(p, "refund_due"), TARGET);
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    assert_string_equal(state_of(w, buf), "FUNDING");
    long long amount = 0;
    char reason[64] = "";
    assert_int_equal(refunds(w, &amount, reason), 1);
    assert_int_equal(amount, TARGET);
    assert_string_equal(reason, "late payment");
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
    char id[37], buf[64];
    int64_t expires_at;
    start(w, "payments_late_before", id, &expires_at);
    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at - 1));
    cJSON *p = submit(w, id);
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);

    assert_icms_ok(icms_clock_fake_set(w->f.clock, expires_at + 86400 * 1000));
    chain_next(&w->c);
    p = verify(w, id);
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

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_attached_at_expiry_without_sweep_is_late),
        T(test_attached_after_expiry_without_sweep_is_late),
        T(test_attached_before_expiry_confirmed_after_is_on_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
