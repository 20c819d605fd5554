/*
 * Payments end to end against the fake gapcoind over the real libcurl
 * transport: paying, confirming at depth, partial and excess payments, a
 * transaction offered twice, a re-org, a node that is down, refunds after a
 * cancellation, and icms_check after every scenario.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "core/core.h"
#include "pay_fixture.h"
#include "scale_fixture.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/users.h"
#include "icms/sys/clock.h"
#include "icms/sys/transport.h"
#include "support/fault_store.h"

static void test_pay_confirm_at_depth_and_complete(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 2);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], TARGET));
    char payout[512];
    snprintf(payout, sizeof payout, "[%s]",
             chain_tx(&w->c, "payout", w->c.refund_script, TARGET + 30000000));
    chain_step_blocks(&w->c, pay, 1, "[]");  /* mined: 1 confirmation */
    chain_step_blocks(&w->c, "[]", 5, "[]"); /* 6 confirmations */
    chain_step_blocks(&w->c, payout, 6, "[]");
    cJSON *payment = one_initiated(w, pay, "payments_happy", "pay-1");
    const char *part = fx_str(payment, "participation_id");
    char buf[64];
    assert_string_equal(state_of(w, buf), "FUNDING");

    assert_string_equal(fx_str(payment, "status"), "PENDING");
    assert_string_equal(fx_str(payment, "address"), w->c.addresses[0]);
    assert_int_equal(fx_int(payment, "amount"), TARGET);
    const char *id = fx_str(payment, "id");

    /* Idempotent: the same key and request give the same payment. */
    cJSON *again = initiate(w, &w->f.investor, part, "pay-1", 0);
    assert_string_equal(fx_str(again, "id"), id);
    cJSON_Delete(again);

    const char *txid = fake_node_txid(&w->c.node, "pay");
    char *out = NULL;
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, id, txid, &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    cJSON_Delete(p);

    p = verify(w, id); /* in the mempool */
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_int_equal(fx_int(p, "confirmations"), 0);
    cJSON_Delete(p);
    chain_next(&w->c);
    p = verify(w, id); /* one block deep: not yet */
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_int_equal(fx_int(p, "confirmations"), 1);
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    chain_next(&w->c);
    p = verify(w, id); /* six deep: confirmed, and the project is fully funded */
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), TARGET);
    assert_int_equal(fx_int(p, "credited"), TARGET);
    assert_int_equal(fx_int(p, "refund_due"), 0);
    cJSON_Delete(p);
    assert_int_equal(funded(w), TARGET);
    assert_string_equal(state_of(w, buf), "PENDING_ADMIN_APPROVAL");

    /* Verifying again changes nothing. */
    cJSON_Delete(verify(w, id));
    assert_int_equal(funded(w), TARGET);

    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    assert_icms_ok(icms_project_ship(w->f.db, &w->f.admin.req, w->project,
                                     "{\"container_number\":\"CSQU3054383\",\"vessel\":\"Ever\","
                                     "\"bill_of_lading\":\"BL1\",\"port_of_loading\":\"Piraeus\","
                                     "\"port_of_discharge\":\"Hamburg\","
                                     "\"eta\":\"2026-03-01T00:00:00Z\"}",
                                     NULL));
    assert_int_equal(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                             "{\"profit\":30000000}", NULL),
                     ICMS_EINVALID_TRANSITION); /* not yet completed */
    assert_icms_ok(icms_project_complete(w->f.db, &w->f.admin.req, w->project, NULL));
    assert_string_equal(state_of(w, buf), "COMPLETED");

    /* The declared profit: the one PROFIT investor gets capital + all of it. */
    assert_int_equal(icms_project_distribute(w->f.db, &w->f.owner.req, w->project,
                                             "{\"profit\":30000000}", NULL),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                             "{\"profit\":-1}", NULL),
                     ICMS_EINVALID);
    assert_icms_ok(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                           "{\"profit\":30000000}", NULL));
    assert_int_equal(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                             "{\"profit\":1}", NULL),
                     ICMS_EINVALID_TRANSITION); /* once */
    assert_icms_ok(icms_payout_list(w->f.db, &w->f.investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *due = cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0);
    assert_int_equal(fx_int(due, "amount"), TARGET + 30000000);
    assert_int_equal(fx_int(due, "profit_share"), 30000000);
    assert_string_equal(fx_str(due, "address"), w->c.refund_address);
    char payout_id[37];
    snprintf(payout_id, sizeof payout_id, "%s", fx_str(due, "id"));
    cJSON_Delete(page);
    chain_next(&w->c);
    assert_icms_ok(icms_payout_record(w->f.db, &w->f.host, payout_id,
                                      fake_node_txid(&w->c.node, "payout"), &out));
    cJSON *paid = fx_json(out);
    assert_string_equal(fx_str(paid, "status"), "PAID");
    cJSON_Delete(paid);
    /* The investor's history followed the money. */
    assert_icms_ok(icms_user_history(w->f.db, &w->f.investor.req, w->f.investor.id, &out));
    cJSON *history = fx_json(out);
    assert_int_equal(fx_int(history, "invested"), TARGET);
    assert_int_equal(fx_int(history, "projects_joined"), 1);
    cJSON_Delete(history);
    cJSON_Delete(payment);
}

static void test_partial_excess_and_duplicate(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char mempool[2048];
    snprintf(mempool, sizeof mempool, "[%s,%s]",
             chain_tx(&w->c, "short", w->c.scripts[0], 60000000),   /* 0.6 of 1 GAP due */
             chain_tx(&w->c, "over", w->c.scripts[1], 80000000));   /* 0.8 for 0.5 due */
    chain_step_blocks(&w->c, mempool, 6, "[]");
    chain_start(&w->c, mempool, "payments_partial");
    chain_attach(&w->f, &w->c, 0);
    cJSON *pa, *pb;
    two_approved(w, &pa, &pb);
    const char *short_tx = fake_node_txid(&w->c.node, "short");
    const char *over_tx = fake_node_txid(&w->c.node, "over");
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(pa, "id"), short_tx,
                                       NULL));
    /* The same transaction cannot be attached to a second payment. */
    assert_int_equal(icms_payment_submit(w->f.db, &w->f.investor2.req, fx_str(pb, "id"),
                                         short_tx, NULL),
                     ICMS_EEXISTS);
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor2.req, fx_str(pb, "id"), over_tx,
                                       NULL));
    chain_next(&w->c);
    cJSON *ra = verify(w, fx_str(pa, "id"));
    assert_string_equal(fx_str(ra, "status"), "PARTIAL");
    assert_int_equal(fx_int(ra, "credited"), 60000000);
    cJSON *rb = verify(w, fx_str(pb, "id"));
    assert_string_equal(fx_str(rb, "status"), "CONFIRMED");
    assert_int_equal(fx_int(rb, "credited"), 50000000);
    assert_int_equal(fx_int(rb, "refund_due"), 30000000);
    assert_int_equal(funded(w), 110000000);
    char buf[64];
    assert_string_equal(state_of(w, buf), "FUNDING");

    /* The excess is a refund due to investor2, at their refund address. */
    char *out = NULL, filter[128];
    snprintf(filter, sizeof filter, "{\"investor_id\":\"%s\"}", w->f.investor2.id);
    assert_icms_ok(icms_refund_list(w->f.db, &w->f.investor2.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    cJSON *refund = cJSON_GetArrayItem(items, 0);
    assert_int_equal(fx_int(refund, "amount"), 30000000);
    assert_string_equal(fx_str(refund, "status"), "DUE");
    assert_string_equal(fx_str(refund, "address"), w->c.refund_address);
    cJSON_Delete(page);
    /* The investor still owes 0.4 GAP: a second payment for the rest is allowed. */
    cJSON *rest = initiate(w, &w->f.investor, fx_str(pa, "participation_id"), "k-a2", 0);
    assert_int_equal(fx_int(rest, "amount"), 40000000);
    cJSON_Delete(rest);
    cJSON_Delete(ra);
    cJSON_Delete(rb);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static void test_reorg_reverses_and_unfunds(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    chain_step_reorg(&w->c, 7, 8, "[]"); /* a longer chain without the payment */
    cJSON *payment = one_initiated(w, pay, "payments_reorg", "k");
    char buf[64];
    const char *id = fx_str(payment, "id");
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, id,
                                       fake_node_txid(&w->c.node, "pay"), NULL));
    chain_next(&w->c);
    cJSON_Delete(verify(w, id));
    assert_string_equal(state_of(w, buf), "PENDING_ADMIN_APPROVAL");
    chain_next(&w->c); /* the re-org */
    cJSON *p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "REVERSED");
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    assert_string_equal(state_of(w, buf), "FUNDING");
    cJSON_Delete(payment);
}

static void test_node_down_changes_nothing(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    cJSON *payment = one_initiated(w, pay, "payments_down", "k");
    const char *id = fx_str(payment, "id");
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, id,
                                       fake_node_txid(&w->c.node, "pay"), NULL));
    chain_next(&w->c);
    chain_attach(&w->f, &w->c, 1); /* the node is unreachable now */
    uint64_t before, after;
    size_t kb, ka;
    assert_icms_ok(icms_test_store_digest(w->f.db->store, &before, &kb));
    char *out = NULL;
    assert_int_equal(icms_payment_verify(w->f.db, &w->f.host, id, &out), ICMS_ETRANSPORT);
    assert_null(out);
    assert_null(strstr(icms_error_last()->message, FAKE_NODE_PASSWORD));
    assert_icms_ok(icms_test_store_digest(w->f.db->store, &after, &ka));
    assert_true(before == after);
    /* Back up: the same payment confirms; nothing was lost. */
    chain_attach(&w->f, &w->c, 0);
    cJSON *p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    cJSON_Delete(p);
    cJSON_Delete(payment);
}

static void test_cancel_refunds_and_late_payment(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char mempool[2048], refund_tx[512];
    snprintf(mempool, sizeof mempool, "[%s,%s]",
             chain_tx(&w->c, "early", w->c.scripts[0], 100000000),
             chain_tx(&w->c, "late", w->c.scripts[1], 50000000));
    snprintf(refund_tx, sizeof refund_tx, "[%s]",
             chain_tx(&w->c, "refund", w->c.refund_script, 100000000));
    chain_step_blocks(&w->c, mempool, 6, "[]");
    chain_step_blocks(&w->c, refund_tx, 6, "[]");
    chain_start(&w->c, mempool, "payments_cancel");
    chain_attach(&w->f, &w->c, 0);
    cJSON *pa, *pb;
    two_approved(w, &pa, &pb);
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(pa, "id"),
                                       fake_node_txid(&w->c.node, "early"), NULL));
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor2.req, fx_str(pb, "id"),
                                       fake_node_txid(&w->c.node, "late"), NULL));
    chain_next(&w->c);
    cJSON_Delete(verify(w, fx_str(pa, "id"))); /* confirmed before the cancellation */
    /* The owner cannot cancel once funding started? They can: FUNDING is before shipping. */
    assert_icms_ok(icms_project_cancel(w->f.db, &w->f.owner.req, w->project, "port closed", NULL));
    cJSON *rb = verify(w, fx_str(pb, "id")); /* confirmed after: late, refunded in full */
    assert_int_equal(fx_int(rb, "credited"), 0);
    assert_int_equal(fx_int(rb, "refund_due"), 50000000);
    cJSON_Delete(rb);

    char *out = NULL;
    assert_icms_ok(icms_refund_list(w->f.db, &w->f.investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *refund = cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0);
    assert_int_equal(fx_int(refund, "amount"), 100000000);
    char refund_id[37];
    snprintf(refund_id, sizeof refund_id, "%s", fx_str(refund, "id"));
    cJSON_Delete(page);

    const char *paid_tx = fake_node_txid(&w->c.node, "refund");
    /* Not mined yet: refused, nothing settled. */
    assert_int_equal(icms_refund_record(w->f.db, &w->f.admin.req, refund_id, paid_tx, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(icms_refund_record(w->f.db, &w->f.investor.req, refund_id, paid_tx, NULL),
                     ICMS_EFORBIDDEN);
    chain_next(&w->c);
    assert_icms_ok(icms_refund_record(w->f.db, &w->f.admin.req, refund_id, paid_tx, &out));
    cJSON *settled = fx_json(out);
    assert_string_equal(fx_str(settled, "status"), "PAID");
    cJSON_Delete(settled);
    /* Nothing is refunded twice. */
    assert_int_equal(icms_refund_record(w->f.db, &w->f.admin.req, refund_id, paid_tx, NULL),
                     ICMS_EINVALID_TRANSITION);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

/*
 * A payment whose window closed (the sweep expired it) and that is paid
 * anyway is late (icms__payment_is_late): attached, confirmed, refunded whole.
 */
static void test_paid_after_its_window_is_late(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "slow", w->c.scripts[0], TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    cJSON *payment = one_initiated(w, pay, "payments_after_window", "slow-1");
    char buf[64];
    char id[37];
    snprintf(id, sizeof id, "%s", fx_str(payment, "id"));
    cJSON_Delete(payment);

    assert_icms_ok(icms_clock_fake_advance(w->f.clock, ICMS_PAYMENT_WINDOW_MS));
    char *out = NULL;
    assert_icms_ok(icms_tick(w->f.db, &out));
    icms_free(out);
    assert_icms_ok(icms_payment_get(w->f.db, &w->f.investor.req, id, &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "status"), "EXPIRED");
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);

    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, id,
                                       fake_node_txid(&w->c.node, "slow"), &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "status"), "SUBMITTED");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "late")));
    cJSON_Delete(p);
    chain_next(&w->c);
    p = verify(w, id);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    assert_int_equal(fx_int(p, "received"), TARGET);
    assert_int_equal(fx_int(p, "credited"), 0);
    assert_int_equal(fx_int(p, "refund_due"), TARGET);
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    assert_string_equal(state_of(w, buf), "FUNDING");

    assert_icms_ok(icms_refund_list(w->f.db, &w->f.investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *refund = cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0);
    assert_int_equal(fx_int(refund, "amount"), TARGET);
    assert_string_equal(fx_str(refund, "reason"), "late payment");
    cJSON_Delete(page);
}

static void test_transaction_that_pays_elsewhere_fails(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "wrong", w->c.scripts[5], TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    cJSON *payment = one_initiated(w, pay, "payments_wrong", "k");
    /* Known to the node, a transaction that pays elsewhere is refused at once. */
    assert_int_equal(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(payment, "id"),
                                         fake_node_txid(&w->c.node, "wrong"), NULL),
                     ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "pays nothing to this payment's address"));
    /* Attached while the node could not be asked, it fails when verified. */
    chain_attach(&w->f, &w->c, 1);
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(payment, "id"),
                                       fake_node_txid(&w->c.node, "wrong"), NULL));
    chain_attach(&w->f, &w->c, 0);
    chain_next(&w->c);
    cJSON *p = verify(w, fx_str(payment, "id"));
    assert_string_equal(fx_str(p, "status"), "FAILED");
    cJSON_Delete(p);
    assert_int_equal(funded(w), 0);
    cJSON_Delete(payment);
}

static void test_profit_shares_sum_exactly(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    paid_by_two(w, "payments_shares", NULL, &pa, &pb);
    /* icms_tick verifies every submitted payment. */
    char *out = NULL;
    assert_icms_ok(icms_tick(w->f.db, &out));
    cJSON *report = fx_json(out);
    assert_int_equal(fx_int(report, "payments_verified"), 2);
    cJSON_Delete(report);
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    ship_and_complete(w);
    /* 10 base units of profit over capital 2:1: 6.67 and 3.33 become 7 and 3. */
    assert_icms_ok(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                           "{\"profit\":10}", &out));
    cJSON *p = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(cJSON_GetObjectItem(p, "distribution"), "items");
    long long total = 0;
    cJSON *line;
    cJSON_ArrayForEach(line, items)
    {
        long long share = fx_int(line, "profit_share");
        if (strcmp(fx_str(line, "investor_id"), w->f.investor.id) == 0)
            assert_int_equal(share, 7);
        else
            assert_int_equal(share, 3);
        total += share;
    }
    assert_int_equal(total, 10);
    cJSON_Delete(p);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static void test_batch_is_all_or_nothing(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    paid_by_two(w, "payments_batch", NULL, &pa, &pb);
    const char *ids[3] = {fx_str(pa, "id"), fx_str(pb, "id"),
                          "0190e4a4-0000-7000-8000-000000000000"};
    uint64_t before, after;
    size_t kb, ka;
    assert_icms_ok(icms_test_store_digest(w->f.db->store, &before, &kb));
    char *out = NULL;
    assert_int_equal(icms_payment_verify_batch(w->f.db, &w->f.host, ids, 3, &out),
                     ICMS_ENOTFOUND);
    assert_null(out);
    assert_icms_ok(icms_test_store_digest(w->f.db->store, &after, &ka));
    assert_true(before == after);
    assert_int_equal(icms_payment_verify_batch(w->f.db, &w->f.host, ids, 0, NULL), ICMS_EINVALID);
    assert_icms_ok(icms_payment_verify_batch(w->f.db, &w->f.host, ids, 2, &out));
    cJSON *list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(list), 2);
    assert_string_equal(fx_str(cJSON_GetArrayItem(list, 0), "status"), "CONFIRMED");
    assert_string_equal(fx_str(cJSON_GetArrayItem(list, 1), "status"), "CONFIRMED");
    cJSON_Delete(list);
    assert_int_equal(funded(w), TARGET);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

/*
 * Run call against a store that fails its 1st, 2nd, ... call until the call
 * runs through: each failure must leave the store byte-for-byte unchanged.
 */
static void fail_at_every_call(world *w, int (*call)(world *, void *), void *arg)
{
    unsigned long nth;
    for (nth = 1;; nth++) {
        uint64_t before, after;
        size_t kb, ka;
        assert_icms_ok(icms_test_store_digest(w->inner, &before, &kb));
        icms_test_fault_store_reset(w->fault);
        icms_test_fault_store_fail(w->fault, ICMS_TEST_FAULT_ANY, nth, ICMS_ESTORAGE);
        int rc = call(w, arg);
        if (!icms_test_fault_store_fired(w->fault)) {
            assert_icms_ok(rc);
            break;
        }
        assert_int_equal(rc, ICMS_ESTORAGE);
        assert_icms_ok(icms_test_store_digest(w->inner, &after, &ka));
        if (before != after)
            fail_msg("failing store call %lu changed the store", nth);
    }
    icms_test_fault_store_reset(w->fault); /* disarmed for the teardown's check */
    assert_true(nth > 10);
}

static int verify_call(world *w, void *arg)
{
    return icms_payment_verify(w->f.db, &w->f.host, arg, NULL);
}

static void test_confirm_fails_cleanly_at_every_store_call(void **state)
{
    world *w = *state;
    cJSON *payment = one_submitted(w, "payments_faults", TARGET + 7);
    const char *id = fx_str(payment, "id");

    /* Confirming (with an excess turned into a refund due) fails at each store call in turn. */
    reopen_with_faults(w);
    fail_at_every_call(w, verify_call, (void *)id);
    assert_int_equal(funded(w), TARGET);
    cJSON_Delete(payment);
}

static int settle_refund_call(world *w, void *arg)
{
    const char *const *ids = arg; /* refund id, txid */
    return icms_refund_record(w->f.db, &w->f.admin.req, ids[0], ids[1], NULL);
}

static void test_refund_settlement_fails_cleanly_at_every_store_call(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    char pay[512], refund_tx[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], TARGET));
    snprintf(refund_tx, sizeof refund_tx, "[%s]",
             chain_tx(&w->c, "refund", w->c.refund_script, TARGET));
    chain_step_blocks(&w->c, pay, 6, "[]");
    chain_step_blocks(&w->c, refund_tx, 6, "[]");
    cJSON *payment = one_initiated(w, pay, "payments_refund_faults", "k");
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(payment, "id"),
                                       fake_node_txid(&w->c.node, "pay"), NULL));
    chain_next(&w->c);
    cJSON_Delete(verify(w, fx_str(payment, "id")));
    assert_icms_ok(icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "closed", NULL));
    char *out = NULL;
    assert_icms_ok(icms_refund_list(w->f.db, &w->f.investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    char refund_id[37];
    snprintf(refund_id, sizeof refund_id, "%s",
             fx_str(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0), "id"));
    cJSON_Delete(page);
    chain_next(&w->c);
    reopen_with_faults(w);
    const char *args[2] = {refund_id, fake_node_txid(&w->c.node, "refund")};
    fail_at_every_call(w, settle_refund_call, args);
    cJSON_Delete(payment);
}

static void payout_step(world *w)
{
    char txs[1024]; /* Profit 10 over capital 2:1: payouts of 100000007 and 50000003. */
    snprintf(txs, sizeof txs, "[%s]", chain_tx(&w->c, "payout", w->c.refund_script, 100000007));
    chain_step_blocks(&w->c, txs, 6, "[]");
}

/* Two investors paid in full, the project approved, shipped and completed. */
static void completed(world *w, const char *test_name, bool with_payout)
{
    funded_by_two(w, test_name, with_payout ? payout_step : NULL);
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    ship_and_complete(w);
}

/* The project's payouts, optionally with a status. */
static cJSON *payouts(world *w, const char *status)
{
    char filter[128], *out = NULL;
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"%s%s%s}", w->project,
             status ? ",\"status\":\"" : "", status ? status : "", status ? "\"" : "");
    assert_icms_ok(icms_payout_list(w->f.db, &w->f.admin.req, filter, &out));
    return fx_json(out);
}

static int distribute_call(world *w, void *arg)
{
    (void)arg;
    return icms_project_distribute(w->f.db, &w->f.admin.req, w->project, "{\"profit\":10}",
                                   NULL);
}

static void test_distribution_fails_cleanly_everywhere(void **state)
{
    world *w = *state;
    completed(w, "payments_distribute_faults", false);
    reopen_with_faults(w);
    fail_everywhere(w, distribute_call, NULL, 1);
    cJSON *page = payouts(w, NULL);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 2);
    cJSON_Delete(page);
    assert_int_equal(distribute_call(w, NULL), ICMS_EINVALID_TRANSITION); /* once */
}

static int settle_payout_call(world *w, void *arg)
{
    const char *const *ids = arg; /* payout id, txid */
    return icms_payout_record(w->f.db, &w->f.host, ids[0], ids[1], NULL);
}

/* The payout of the given amount among those listed. */
static void payout_of(world *w, long long amount, char id[37])
{
    cJSON *page = payouts(w, NULL), *item;
    id[0] = '\0';
    cJSON_ArrayForEach(item, cJSON_GetObjectItem(page, "items"))
    {
        if (fx_int(item, "amount") == amount)
            snprintf(id, 37, "%s", fx_str(item, "id"));
    }
    cJSON_Delete(page);
    assert_true(id[0] != '\0');
}

static void test_payout_settlement_fails_cleanly_everywhere(void **state)
{
    world *w = *state;
    completed(w, "payments_payout_faults", true);
    assert_icms_ok(distribute_call(w, NULL));
    char payout[37];
    payout_of(w, 100000007, payout);
    chain_next(&w->c);
    reopen_with_faults(w);
    const char *args[2] = {payout, fake_node_txid(&w->c.node, "payout")};
    fail_everywhere(w, settle_payout_call, args, 2); /* a read, then the write */
    cJSON *page = payouts(w, "PAID");
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(fx_str(cJSON_GetArrayItem(items, 0), "id"), payout);
    cJSON_Delete(page);
    /* Never twice. */
    assert_int_equal(settle_payout_call(w, args), ICMS_EINVALID_TRANSITION);
}

/*
 * Who lists the release approval made (docs/domain.md, "Releases in lists"):
 * its owner by any filter, the owner of another project nothing (not even by
 * this project), admins and the host by project, owner or status.
 */
static void test_release_listing_by_viewer_and_filter(void **state)
{
    world *w = *state;
    funded_by_two(w, "payments_release_list", NULL);
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    fx_user other;
    fx_add_user(&w->f, &other, ICMS_ROLE_OWNER, "VERIFIED");
    assert_icms_ok(icms_project_create(w->f.db, &other.req, fx_project_json(30), NULL));

    char by_project[128], by_owner[128], by_other[128], project_paid[160];
    snprintf(by_project, sizeof by_project, "{\"project_id\":\"%s\"}", w->project);
    snprintf(by_owner, sizeof by_owner, "{\"owner_id\":\"%s\"}", w->f.owner.id);
    snprintf(by_other, sizeof by_other, "{\"owner_id\":\"%s\"}", other.id);
    snprintf(project_paid, sizeof project_paid, "{\"project_id\":\"%s\",\"status\":\"PAID\"}",
             w->project);
    const char *due = "{\"status\":\"DUE\"}", *voided = "{\"status\":\"VOIDED\"}";
    const struct {
        const icms_request *req;
        const char *filter;
        int want; /* how many, or the error */
    } cases[] = {
        {&w->f.owner.req, NULL, 1},
        {&w->f.owner.req, by_project, 1},
        {&w->f.owner.req, by_owner, 1},
        {&w->f.owner.req, due, 1},
        {&w->f.owner.req, voided, 0},
        {&w->f.owner.req, project_paid, 0},
        {&w->f.owner.req, by_other, ICMS_EFORBIDDEN},
        /* Another project's owner: nothing, by this project too; this owner's: refused. */
        {&other.req, NULL, 0},
        {&other.req, by_project, 0},
        {&other.req, due, 0},
        {&other.req, by_other, 0},
        {&other.req, by_owner, ICMS_EFORBIDDEN},
        {&w->f.investor.req, by_project, 0},
        /* Admins and the host: by project, owner or status; they must name one. */
        {&w->f.admin.req, by_project, 1},
        {&w->f.admin.req, by_owner, 1},
        {&w->f.admin.req, by_other, 0},
        {&w->f.admin.req, due, 1},
        {&w->f.admin.req, voided, 0},
        {&w->f.admin.req, project_paid, 0},
        {&w->f.admin.req, NULL, ICMS_EINVALID},
        {&w->f.host, due, 1},
        {&w->f.host, by_project, 1},
        {&w->f.anonymous, due, ICMS_EFORBIDDEN},
        {&w->f.anonymous, NULL, ICMS_EFORBIDDEN},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = releases_listed(w, cases[i].req, cases[i].filter);
        if (got != cases[i].want)
            fail_msg("case %zu (%s): %d, expected %d", i,
                     cases[i].filter ? cases[i].filter : "no filter", got, cases[i].want);
    }

    /* Paged: one per page, then nothing after it. */
    char *out = NULL, after[200];
    assert_icms_ok(icms_release_list(w->f.db, &w->f.owner.req, "{\"limit\":1}", &out));
    cJSON *page = fx_json(out);
    cJSON *item = cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0);
    assert_non_null(item);
    assert_string_equal(fx_str(item, "owner_id"), w->f.owner.id);
    snprintf(after, sizeof after, "{\"after\":\"%s\"}", fx_str(item, "id"));
    cJSON_Delete(page);
    assert_int_equal(releases_listed(w, &w->f.owner.req, after), 0);
}

static void test_initiate_rules(void **state)
{
    world *w = *state;
    chain_begin(&w->c, 1);
    chain_start(&w->c, "[]", "payments_rules");
    chain_attach(&w->f, &w->c, 0);
    publish_small_project(w);
    char part[37];
    approved(w, &w->f.investor, 100000000, part);
    char json[256];
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", w->c.refund_address);
    /* No idempotency key: refused. */
    assert_int_equal(icms_payment_initiate(w->f.db, &w->f.investor.req, part, json, NULL),
                     ICMS_EINVALID);
    icms_request req = w->f.investor2.req;
    req.idempotency_key = "x";
    assert_int_equal(icms_payment_initiate(w->f.db, &req, part, json, NULL), ICMS_ENOTFOUND);
    req = w->f.investor.req;
    req.idempotency_key = "y";
    assert_int_equal(icms_payment_initiate(w->f.db, &req, part,
                                           "{\"refund_address\":\"not-an-address\"}", NULL),
                     ICMS_EINVALID);
    snprintf(json, sizeof json, "{\"amount\":100000001,\"refund_address\":\"%s\"}",
             w->c.refund_address);
    assert_int_equal(icms_payment_initiate(w->f.db, &req, part, json, NULL), ICMS_EINVALID);
    cJSON *p = initiate(w, &w->f.investor, part, "z", 40000000);
    /* One payment at a time per participation. */
    cJSON *q = NULL;
    req.idempotency_key = "zz";
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", w->c.refund_address);
    assert_int_equal(icms_payment_initiate(w->f.db, &req, part, json, NULL), ICMS_EEXISTS);
    assert_int_equal(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(p, "id"), "abc",
                                         NULL),
                     ICMS_EINVALID);
    cJSON_Delete(q);
    cJSON_Delete(p);
}

/* ---- reads as the database grows (tests/app/scale_fixture.h) ---- */

/* A one-unit project that u paid for in full, approved, shipped and completed. */
static void completed_by(world *w, memchain *m, fx_user *u, char project[37])
{
    char part[37], payment[37];
    scale_project(&w->f, 1, w->owner_address, project);
    fx_approved_profit(&w->f, u, project, SCALE_UNIT, part);
    scale_initiate(&w->f, m, u, part, payment);
    scale_pay(&w->f, m, u, payment);
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, project, NULL));
    snprintf(w->project, sizeof w->project, "%s", project);
    ship_and_complete(w);
}

/* Back on the file alone, so the memchain can go before teardown checks the database. */
static void scale_done(world *w, memchain *m)
{
    icms_options options = ICMS_OPTIONS_INIT;
    fx_reopen(&w->f, &options);
    memchain_free(m);
}

static unsigned long distribution_reads(world *w, icms_store *counting, const char *project)
{
    scale_reads(counting);
    assert_icms_ok(
        icms_project_distribute(w->f.db, &w->f.admin.req, project, "{\"profit\":10}", NULL));
    return scale_reads(counting);
}

/*
 * A payout goes to the refund address of the participant's payment to this
 * request, found among the request's own payments: distributing reads the
 * same whether the investor paid into one project or into thirteen (once,
 * each payout read every payment its investor ever made).
 */
static void test_distribution_reads_do_not_grow_with_the_investors_history(void **state)
{
    world *w = *state;
    memchain *m = memchain_new();
    icms_store *counting = scale_reopen(&w->f, m);
    fx_user first, alone, busy;
    scale_investor(&w->f, &first);
    scale_investor(&w->f, &alone);
    scale_investor(&w->f, &busy);
    char warm[37], quiet[37], crowded[37];
    completed_by(w, m, &first, warm);
    completed_by(w, m, &alone, quiet);
    completed_by(w, m, &busy, crowded);
    for (int i = 0; i < 12; i++) {
        char other[37], part[37], payment[37];
        scale_project(&w->f, 2, NULL, other);
        fx_approved_profit(&w->f, &busy, other, SCALE_UNIT, part);
        scale_initiate(&w->f, m, &busy, part, payment);
    }
    distribution_reads(w, counting, warm); /* what a handle reads once is not counted */
    unsigned long reads_busy = distribution_reads(w, counting, crowded);
    unsigned long reads_alone = distribution_reads(w, counting, quiet);
    assert_true(reads_alone > 0);
    assert_int_equal(reads_busy, reads_alone);
    scale_done(w, m);
}

/* A project of one unit per investor, each paid in full by a new investor; then completed. */
static void completed_by_many(world *w, memchain *m, int investors, char project[37])
{
    scale_project(&w->f, investors, w->owner_address, project);
    for (int i = 0; i < investors; i++) {
        fx_user u;
        char part[37], payment[37];
        scale_investor(&w->f, &u);
        fx_approved_profit(&w->f, &u, project, SCALE_UNIT, part);
        scale_initiate(&w->f, m, &u, part, payment);
        scale_pay(&w->f, m, &u, payment);
    }
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, project, NULL));
    snprintf(w->project, sizeof w->project, "%s", project);
    ship_and_complete(w);
}

/* What a tick reads once the work left before it (events to route) is done; *verified its count. */
static unsigned long tick_reads(world *w, icms_store *counting, long long *verified)
{
    assert_icms_ok(icms_tick(w->f.db, NULL));
    scale_reads(counting);
    char *out = NULL;
    assert_icms_ok(icms_tick(w->f.db, &out));
    unsigned long reads = scale_reads(counting);
    cJSON *report = fx_json(out);
    *verified = fx_int(report, "payments_verified");
    cJSON_Delete(report);
    return reads;
}

/*
 * icms_tick re-verifies the confirmed payments a re-org could still take
 * back (their project not yet approved), and only those: the payments of
 * completed projects are never asked about again, so a tick reads the same
 * after one completed payment as after thirteen (once, it re-verified the
 * first 64 confirmed payments ever made, at every tick, and never reached
 * the newer ones).
 */
static void test_tick_rechecks_only_what_a_reorg_could_take_back(void **state)
{
    world *w = *state;
    memchain *m = memchain_new();
    icms_store *counting = scale_reopen(&w->f, m);
    char open[37], part[37], payment[37], done[37];
    scale_project(&w->f, 10, NULL, open);
    fx_approved_profit(&w->f, &w->f.investor, open, SCALE_UNIT, part);
    scale_initiate(&w->f, m, &w->f.investor, part, payment);
    scale_pay(&w->f, m, &w->f.investor, payment);
    completed_by_many(w, m, 1, done);
    long long verified = 0;
    unsigned long small = tick_reads(w, counting, &verified);
    assert_int_equal(verified, 1); /* the funding project's payment */
    completed_by_many(w, m, 12, done);
    unsigned long large = tick_reads(w, counting, &verified);
    assert_int_equal(large, small);
    assert_int_equal(verified, 1);
    scale_done(w, m);
}

/* The write transactions of a tick once the work left before it is done. */
static unsigned long tick_writes(world *w, icms_store *counting)
{
    assert_icms_ok(icms_tick(w->f.db, NULL));
    scale_reads(counting);
    assert_icms_ok(icms_tick(w->f.db, NULL));
    return scale_write_txns(counting);
}

static const char *payment_status(world *w, const char *payment, char buf[32])
{
    char *out = NULL;
    assert_icms_ok(icms_payment_get(w->f.db, &w->f.host, payment, &out));
    cJSON *p = fx_json(out);
    snprintf(buf, 32, "%s", fx_str(p, "status"));
    cJSON_Delete(p);
    return buf;
}

/*
 * icms_tick expires the PENDING payments whose window has passed and stops at
 * the first still open: a tick makes as many write transactions with one
 * payment in its window as with thirteen (once, each of the first 64 PENDING
 * got a write command at every tick, due or not). Past the window, all expire.
 */
static void test_tick_writes_only_for_pending_payments_due(void **state)
{
    world *w = *state;
    memchain *m = memchain_new();
    icms_store *counting = scale_reopen(&w->f, m);
    char project[37], part[37], first[37], last[37];
    scale_project(&w->f, 100, NULL, project);
    fx_approved_profit(&w->f, &w->f.investor, project, SCALE_UNIT, part);
    scale_initiate(&w->f, m, &w->f.investor, part, first);
    unsigned long one = tick_writes(w, counting);
    for (int i = 0; i < 12; i++) {
        fx_user u;
        scale_investor(&w->f, &u);
        fx_approved_profit(&w->f, &u, project, SCALE_UNIT, part);
        scale_initiate(&w->f, m, &u, part, last);
    }
    unsigned long thirteen = tick_writes(w, counting);
    assert_int_equal(thirteen, one);
    char buf[32];
    assert_string_equal(payment_status(w, first, buf), "PENDING");
    assert_icms_ok(icms_clock_fake_advance(w->f.clock, ICMS_PAYMENT_WINDOW_MS));
    assert_icms_ok(icms_tick(w->f.db, NULL));
    assert_string_equal(payment_status(w, first, buf), "EXPIRED");
    assert_string_equal(payment_status(w, last, buf), "EXPIRED");
    scale_done(w, m);
}

/*
 * More payments waiting than a tick verifies (64) all get their turn: the
 * next tick goes on where the last stopped. Here 65 payments whose
 * transactions the node never saw stay SUBMITTED, and the payment made after
 * them, paid and buried 6 deep, is confirmed by the second tick (once, every
 * tick took the first 64 again, and it was never verified).
 */
static void test_tick_verifies_every_submitted_payment_in_turn(void **state)
{
    world *w = *state;
    memchain *m = memchain_new();
    scale_reopen(&w->f, m);
    char project[37], part[37], payment[37], buf[32];
    scale_project(&w->f, 100, NULL, project);
    for (int i = 0; i < 65; i++) {
        fx_user u;
        char txid[65];
        scale_investor(&w->f, &u);
        fx_approved_profit(&w->f, &u, project, SCALE_UNIT, part);
        scale_initiate(&w->f, m, &u, part, payment);
        snprintf(txid, sizeof txid, "%064x", i + 1); /* unknown to the node */
        assert_icms_ok(icms_payment_submit(w->f.db, &u.req, payment, txid, NULL));
    }
    fx_approved_profit(&w->f, &w->f.investor, project, SCALE_UNIT, part);
    scale_initiate(&w->f, m, &w->f.investor, part, payment);
    char *out = NULL;
    assert_icms_ok(icms_payment_get(w->f.db, &w->f.host, payment, &out));
    cJSON *p = fx_json(out);
    const char *txid = NULL;
    memchain_pay(m, fx_str(p, "script"), SCALE_UNIT, &txid);
    cJSON_Delete(p);
    memchain_mine(m, 6);
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, payment, txid, NULL));
    assert_icms_ok(icms_tick(w->f.db, NULL));
    assert_string_equal(payment_status(w, payment, buf), "SUBMITTED");
    assert_icms_ok(icms_tick(w->f.db, NULL));
    assert_string_equal(payment_status(w, payment, buf), "CONFIRMED");
    scale_done(w, m);
}

/*
 * So do confirmed payments a re-org could take back: of 65 confirmed in a
 * funding project, the last one's transaction leaves the chain, and the
 * second tick reverses it (once, the first 64 were re-checked at every tick).
 */
static void test_tick_rechecks_every_confirmed_payment_in_turn(void **state)
{
    world *w = *state;
    memchain *m = memchain_new();
    scale_reopen(&w->f, m);
    char project[37], part[37], payment[37], buf[32];
    scale_project(&w->f, 100, NULL, project);
    for (int i = 0; i < 65; i++) {
        fx_user u;
        scale_investor(&w->f, &u);
        fx_approved_profit(&w->f, &u, project, SCALE_UNIT, part);
        scale_initiate(&w->f, m, &u, part, payment);
        scale_pay(&w->f, m, &u, payment);
    }
    memchain_drop(m, memchain_count(m) - 1); /* the last payment's transaction */
    assert_icms_ok(icms_tick(w->f.db, NULL));
    assert_string_equal(payment_status(w, payment, buf), "CONFIRMED");
    assert_icms_ok(icms_tick(w->f.db, NULL));
    assert_string_equal(payment_status(w, payment, buf), "REVERSED");
    scale_done(w, m);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, pay_setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_pay_confirm_at_depth_and_complete),
        T(test_partial_excess_and_duplicate),
        T(test_reorg_reverses_and_unfunds),
        T(test_node_down_changes_nothing),
        T(test_cancel_refunds_and_late_payment),
        T(test_paid_after_its_window_is_late),
        T(test_transaction_that_pays_elsewhere_fails),
        T(test_profit_shares_sum_exactly),
        T(test_batch_is_all_or_nothing),
        T(test_confirm_fails_cleanly_at_every_store_call),
        T(test_refund_settlement_fails_cleanly_at_every_store_call),
        T(test_distribution_fails_cleanly_everywhere),
        T(test_payout_settlement_fails_cleanly_everywhere),
        T(test_release_listing_by_viewer_and_filter),
        T(test_initiate_rules),
        T(test_distribution_reads_do_not_grow_with_the_investors_history),
        T(test_tick_rechecks_only_what_a_reorg_could_take_back),
        T(test_tick_writes_only_for_pending_payments_due),
        T(test_tick_verifies_every_submitted_payment_in_turn),
        T(test_tick_rechecks_every_confirmed_payment_in_turn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
