/*
 * An investor hears about the money owed to them: payout.due when a completed
 * project is distributed, payout.paid when their payout is recorded,
 * refund.paid when their refund is. Each goes to the investor the record is
 * for and to no one else (not the other investor, not the owner, not an
 * admin). The real flow against the fake gapcoind (pay_fixture.h).
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/events.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/sys/notifier.h"
#include "notify_recorder.h"
#include "pay_fixture.h"

typedef notify_recorder rec;
typedef notify_sent sent;

static rec *recorder; /* the current test's */

static void listen(world *w)
{
    notify_recorder_attach(w->f.db, recorder);
}

/* Route and send; the number of notifications the run created. */
static long long run(world *w)
{
    char *out = NULL;
    assert_icms_ok(icms_notify_run(w->f.db, &out));
    cJSON *report = fx_json(out);
    long long created = fx_int(report, "created");
    cJSON_Delete(report);
    return created;
}

/* Notifications with template_key to user u (any channel). */
static int sent_to(const fx_user *u, const char *template_key)
{
    return notify_recorder_count(recorder, u->id, template_key);
}

/* Notifications to anyone with a template of prefix. */
static int sent_with_prefix(const char *prefix)
{
    return notify_recorder_count(recorder, NULL, prefix);
}

/* Every notification with template_key: to u, about subject, of amount, in u's role "investor". */
static void check_all(const char *template_key, const fx_user *u, const char *subject,
                      long long amount)
{
    int seen = 0;
    for (int i = 0; i < recorder->count; i++) {
        if (strcmp(recorder->items[i].template_key, template_key) != 0)
            continue;
        assert_string_equal(recorder->items[i].user, u->id);
        cJSON *d = fx_json(strdup(recorder->items[i].data));
        assert_string_equal(fx_str(d, "subject"), subject);
        assert_string_equal(fx_str(d, "role"), "investor");
        assert_int_equal(fx_int(d, "amount"), amount);
        cJSON_Delete(d);
        seen++;
    }
    assert_int_equal(seen, 2); /* email and push, the default channels */
}

/* The id and amount of the one item of u's list (icms_payout_list or icms_refund_list). */
static void only_item(world *w, const fx_user *u,
                      int (*list)(icms_db *, const icms_request *, const char *, char **),
                      char id[37], long long *amount)
{
    char *out = NULL;
    assert_icms_ok(list(w->f.db, &u->req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    cJSON *item = cJSON_GetArrayItem(items, 0);
    snprintf(id, 37, "%s", fx_str(item, "id"));
    *amount = fx_int(item, "amount");
    cJSON_Delete(page);
}

static int setup(void **state)
{
    recorder = calloc(1, sizeof *recorder);
    return pay_setup_named(state, "notify_money");
}

static int teardown(void **state)
{
    int rc = pay_teardown(state);
    free(recorder);
    recorder = NULL;
    return rc;
}

/* The host's wallet pays an investor's address (both gave the same one) 1 GAP, 6 deep. */
static void investor_paid_step(world *w)
{
    char txs[1024];
    snprintf(txs, sizeof txs, "[%s]",
             chain_tx(&w->c, "wallet", w->c.refund_script, 100000000 + 20000000));
    chain_step_blocks(&w->c, txs, 6, "[]");
}

static void test_payouts_told_to_their_investor(void **state)
{
    world *w = *state;
    funded_by_two(w, "notify_money_payout", investor_paid_step);
    listen(w);
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    ship_and_complete(w);
    run(w); /* funding, approval, shipping and completion, out of the way */
    assert_int_equal(sent_with_prefix("payout."), 0);

    /* 0.3 GAP of profit, by capital 2:1: 1.2 GAP to investor, 0.6 GAP to investor2. */
    assert_icms_ok(icms_project_distribute(w->f.db, &w->f.admin.req, w->project,
                                           "{\"profit\":30000000}", NULL));
    char mine[37], theirs[37];
    long long mine_amount, theirs_amount;
    only_item(w, &w->f.investor, icms_payout_list, mine, &mine_amount);
    only_item(w, &w->f.investor2, icms_payout_list, theirs, &theirs_amount);
    assert_int_equal(mine_amount, 120000000);
    assert_int_equal(theirs_amount, 60000000);
    assert_int_equal(run(w), 4);
    assert_int_equal(sent_to(&w->f.investor, "payout.due.investor"), 2);
    assert_int_equal(sent_to(&w->f.investor2, "payout.due.investor"), 2);
    assert_int_equal(sent_with_prefix("payout."), 4);
    /* Each hears of their own payout, never of the other's. */
    int checked = 0;
    for (int i = 0; i < recorder->count; i++) {
        if (strcmp(recorder->items[i].template_key, "payout.due.investor") != 0)
            continue;
        bool first = strcmp(recorder->items[i].user, w->f.investor.id) == 0;
        cJSON *d = fx_json(strdup(recorder->items[i].data));
        assert_string_equal(fx_str(d, "subject"), first ? mine : theirs);
        assert_int_equal(fx_int(d, "amount"), first ? mine_amount : theirs_amount);
        assert_string_equal(fx_str(d, "project_id"), w->project);
        cJSON_Delete(d);
        checked++;
    }
    assert_int_equal(checked, 4);

    chain_next(&w->c);
    assert_icms_ok(
        icms_payout_record(w->f.db, &w->f.host, mine, fake_node_txid(&w->c.node, "wallet"), NULL));
    assert_int_equal(run(w), 2);
    check_all("payout.paid.investor", &w->f.investor, mine, mine_amount);
    assert_int_equal(sent_to(&w->f.investor2, "payout.paid.investor"), 0);
    assert_int_equal(sent_with_prefix("payout.paid."), 2);
    /* Nothing twice. */
    int count = recorder->count;
    assert_int_equal(run(w), 0);
    assert_int_equal(recorder->count, count);
}

static void test_refund_paid_told_to_its_investor(void **state)
{
    world *w = *state;
    funded_by_two(w, "notify_money_refund", investor_paid_step);
    listen(w);
    assert_icms_ok(
        icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "supplier failed", NULL));
    run(w);
    assert_int_equal(sent_to(&w->f.investor, "refund.due.investor"), 2);
    assert_int_equal(sent_to(&w->f.investor2, "refund.due.investor"), 2);
    assert_int_equal(sent_with_prefix("refund.paid."), 0);

    char mine[37], theirs[37];
    long long mine_amount, theirs_amount;
    only_item(w, &w->f.investor, icms_refund_list, mine, &mine_amount);
    only_item(w, &w->f.investor2, icms_refund_list, theirs, &theirs_amount);
    assert_int_equal(mine_amount, 100000000);
    chain_next(&w->c);
    assert_icms_ok(icms_refund_record(w->f.db, &w->f.admin.req, mine,
                                      fake_node_txid(&w->c.node, "wallet"), NULL));
    assert_int_equal(run(w), 2);
    check_all("refund.paid.investor", &w->f.investor, mine, mine_amount);
    assert_int_equal(sent_to(&w->f.investor2, "refund.paid.investor"), 0);
    assert_int_equal(sent_with_prefix("refund.paid."), 2);
    /* The owner hears of the cancellation, not of the investors' money. */
    assert_int_equal(sent_to(&w->f.owner, "refund.paid.investor"), 0);
    assert_int_equal(sent_with_prefix("refund.paid.owner"), 0);
    assert_int_equal(run(w), 0);
}

/* An investor who turned email off hears of their payout on push only. */
static void test_investor_channels_are_honoured(void **state)
{
    world *w = *state;
    funded_by_two(w, "notify_money_prefs", NULL);
    listen(w);
    assert_icms_ok(icms_notify_prefs_set(w->f.db, &w->f.investor.req, w->f.investor.id,
                                         "{\"email\":false}", NULL));
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL));
    ship_and_complete(w);
    assert_icms_ok(
        icms_project_distribute(w->f.db, &w->f.admin.req, w->project, "{\"profit\":0}", NULL));
    run(w);
    assert_int_equal(sent_to(&w->f.investor, "payout.due.investor"), 1);
    assert_int_equal(sent_to(&w->f.investor2, "payout.due.investor"), 2);
    for (int i = 0; i < recorder->count; i++)
        if (strcmp(recorder->items[i].template_key, "payout.due.investor") == 0 &&
            strcmp(recorder->items[i].user, w->f.investor.id) == 0)
            assert_string_equal(recorder->items[i].channel, "push");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_payouts_told_to_their_investor),
        T(test_refund_paid_told_to_its_investor),
        T(test_investor_channels_are_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
