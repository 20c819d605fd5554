/*
 * The money path attacked through the public API, the way a hostile investor
 * or a careless host would: acting on someone else's records, one transaction
 * offered for two things, amounts at the edges of int64 and of JSON, reused
 * idempotency keys, races between the state machines and the chain, garbage
 * list filters, and two threads (and two handles) verifying one payment.
 * Every refused call must change nothing (store digest) and every test ends
 * with icms_check clean (the teardown). The node is the in-process memchain,
 * so a re-org is one call.
 */
#include "support/test_support.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "core/core.h"
#include "app_fixture.h"
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "memchain.h"
#include "support/fault_store.h"

#define TARGET 150000000LL /* 1 GAP of goods + 0.5 GAP freight */

/* memchain addresses the wallet never hands out in these tests (it hands out 0, 1, ...). */
enum { OWNER_ADDRESS = 60, REFUND_ADDRESS = 61, REFUND_ADDRESS2 = 62 };

typedef struct atk {
    fx f;
    memchain *chain;
    char project[37];
} atk;

static int n_worlds;

static void attach(atk *a)
{
    icms_options options = ICMS_OPTIONS_INIT;
    assert_icms_ok(icms_rpc_client_new(&options.gapcoin, memchain_transport(a->chain),
                                       "http://memchain.invalid/", NULL));
    fx_reopen(&a->f, &options);
}

static int setup(void **state)
{
    atk *a = calloc(1, sizeof *a);
    char name[64];
    snprintf(name, sizeof name, "payments_attacks_%d", n_worlds++);
    fx_open(&a->f, name);
    a->chain = memchain_new();
    attach(a);
    *state = a;
    return 0;
}

static int teardown(void **state)
{
    atk *a = *state;
    char *report = NULL;
    int rc = icms_check(a->f.db, &a->f.host, &report);
    if (rc != ICMS_OK)
        fail_msg("icms_check: %s\n%s", icms_error_last()->message, report ? report : "");
    icms_free(report);
    fx_close(&a->f);
    memchain_free(a->chain);
    free(a);
    return 0;
}

/* ---- helpers ---- */

static const char *address(atk *a, int n)
{
    return memchain_address(a->chain, n, NULL);
}

static const char *script(atk *a, int n)
{
    const char *s = NULL;
    memchain_address(a->chain, n, &s);
    return s;
}

/* A project of TARGET with one product, depth 1, the owner's payout address given; published. */
static void small_project(atk *a, char id[37])
{
    char json[640], *out = NULL;
    snprintf(json, sizeof json,
             "{\"title\":\"One crate\",\"expiry_date\":\"2026-02-01T00:00:00Z\","
             "\"shipping_costs\":{\"freight\":50000000},\"min_ticket\":1,\"confirmations\":1,"
             "\"payout_address\":\"%s\","
             "\"products\":[{\"name\":\"Crate\",\"unit\":\"crate\",\"quantity\":1,"
             "\"unit_price\":100000000}]}",
             address(a, OWNER_ADDRESS));
    assert_icms_ok(icms_project_create(a->f.db, &a->f.owner.req, json, &out));
    cJSON *p = fx_json(out);
    snprintf(id, 37, "%s", fx_str(p, "id"));
    assert_int_equal(fx_int(p, "total_cost"), TARGET);
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(a->f.db, &a->f.owner.req, id, NULL));
}

/* The small project, investor approved for 1 GAP (part_a) and investor2 for 0.5 (part_b). */
static void two_approved(atk *a, char part_a[37], char part_b[37])
{
    small_project(a, a->project);
    fx_approved_profit(&a->f, &a->f.investor, a->project, 100000000, part_a);
    fx_approved_profit(&a->f, &a->f.investor2, a->project, 50000000, part_b);
}

static int try_initiate(atk *a, const fx_user *u, const char *part, const char *key,
                        const char *json, cJSON **payment)
{
    icms_request req = u->req;
    req.idempotency_key = key;
    char *out = NULL;
    int rc = icms_payment_initiate(a->f.db, &req, part, json, &out);
    if (rc) {
        assert_null(out);
        return rc;
    }
    *payment = fx_json(out);
    return rc;
}

/* u starts paying `amount` (0: all that is outstanding) of part, refunds to refund_address. */
static cJSON *initiate(atk *a, const fx_user *u, const char *part, const char *key,
                       long long amount, const char *refund_address)
{
    char json[256];
    if (amount)
        snprintf(json, sizeof json, "{\"amount\":%lld,\"refund_address\":\"%s\"}", amount,
                 refund_address);
    else
        snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", refund_address);
    cJSON *p = NULL;
    assert_icms_ok(try_initiate(a, u, part, key, json, &p));
    return p;
}

/* A transaction paying value to the payment's address, mined `depth` deep; its txid. */
static const char *pay(atk *a, const cJSON *payment, long long value, int depth)
{
    const char *txid = NULL;
    assert_true(memchain_pay(a->chain, fx_str(payment, "script"), value, &txid) >= 0);
    if (depth)
        memchain_mine(a->chain, depth);
    return txid;
}

static cJSON *verify(atk *a, const char *payment_id)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_verify(a->f.db, &a->f.host, payment_id, &out));
    return fx_json(out);
}

/* u's payment of the whole of what part owes, paid with `value`, submitted and confirmed. */
static cJSON *paid(atk *a, const fx_user *u, const char *part, const char *key, long long value,
                   const char *refund_address)
{
    cJSON *p = initiate(a, u, part, key, 0, refund_address);
    const char *txid = pay(a, p, value, 1);
    assert_icms_ok(icms_payment_submit(a->f.db, &u->req, fx_str(p, "id"), txid, NULL));
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    cJSON_Delete(p);
    return v;
}

static const char *project_state(atk *a, const char *project, char buf[64])
{
    char *out = NULL;
    assert_icms_ok(icms_project_get(a->f.db, &a->f.admin.req, project, &out));
    cJSON *p = fx_json(out);
    snprintf(buf, 64, "%s", fx_str(p, "state"));
    cJSON_Delete(p);
    return buf;
}

static long long project_int(atk *a, const char *project, const char *field)
{
    char *out = NULL;
    assert_icms_ok(icms_project_get(a->f.db, &a->f.admin.req, project, &out));
    cJSON *p = fx_json(out);
    long long v = fx_int(p, field);
    cJSON_Delete(p);
    return v;
}

/* The single item a list call answers (fails unless exactly one); id copied out. */
static cJSON *only_item(char *out, char id[37])
{
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    cJSON *item = cJSON_DetachItemFromArray(items, 0);
    cJSON_Delete(page);
    if (id)
        snprintf(id, 37, "%s", fx_str(item, "id"));
    return item;
}

static int count_items(char *out)
{
    cJSON *page = fx_json(out);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(page, "items"));
    cJSON_Delete(page);
    return n;
}

/* {"project_id": project} (refund and payout lists need a project or an investor). */
static const char *due_filter(atk *a, const char *project)
{
    (void)a;
    static char filter[80];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", project);
    return filter;
}

/* APPROVED (the owner's release paid), shipped, COMPLETED. */
static void approve_ship_complete(atk *a, const char *project)
{
    char *out = NULL;
    assert_icms_ok(icms_project_approve(a->f.db, &a->f.admin.req, project, &out));
    cJSON *p = fx_json(out);
    char release[37];
    snprintf(release, sizeof release, "%s", fx_str(p, "release_id"));
    long long amount = fx_int(p, "funded");
    cJSON_Delete(p);
    const char *txid = NULL;
    memchain_pay(a->chain, script(a, OWNER_ADDRESS), amount, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_release_record(a->f.db, &a->f.host, release, txid, NULL));
    assert_icms_ok(icms_project_ship(a->f.db, &a->f.admin.req, project,
                                     "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                     "\"bill_of_lading\":\"B\",\"port_of_loading\":\"P\","
                                     "\"port_of_discharge\":\"H\","
                                     "\"eta\":\"2026-03-01T00:00:00Z\"}",
                                     NULL));
    assert_icms_ok(icms_project_complete(a->f.db, &a->f.admin.req, project, NULL));
}

/* ---- one transaction, two settlements ---- */

/*
 * The investor overpaid (a refund due to their address) and the completed
 * project owes them their capital back (a payout to the same address). The
 * host's wallet pays the payout; a careless host then records the same
 * transaction for the refund too. One payment out must settle one record:
 * before the fix each kind had its own txid index, so the refund was marked
 * PAID with money that never left, and the investor was short of it.
 */
static void test_one_transaction_settles_a_refund_and_a_payout(void **state)
{
    atk *a = *state;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(&a->f, &a->f.investor, a->project, TARGET, part);
    cJSON_Delete(paid(a, &a->f.investor, part, "k", TARGET + 30000000,
                      address(a, REFUND_ADDRESS)));
    approve_ship_complete(a, a->project);
    char *out = NULL;
    assert_icms_ok(
        icms_project_distribute(a->f.db, &a->f.admin.req, a->project, "{\"profit\":0}", NULL));
    char refund[37], payout[37];
    assert_icms_ok(icms_refund_list(a->f.db, &a->f.host, due_filter(a, a->project), &out));
    cJSON *r = only_item(out, refund);
    assert_int_equal(fx_int(r, "amount"), 30000000);
    assert_string_equal(fx_str(r, "address"), address(a, REFUND_ADDRESS));
    cJSON_Delete(r);
    assert_icms_ok(icms_payout_list(a->f.db, &a->f.host, due_filter(a, a->project), &out));
    cJSON *p = only_item(out, payout);
    assert_int_equal(fx_int(p, "amount"), TARGET);
    assert_string_equal(fx_str(p, "address"), address(a, REFUND_ADDRESS));
    cJSON_Delete(p);

    const char *txid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payout_record(a->f.db, &a->f.host, payout, txid, NULL));
    uint64_t before = fx_digest(&a->f);
    char upper[65]; /* the same txid written in capitals is the same transaction */
    for (int i = 0; i < 65; i++)
        upper[i] = (char)(txid[i] >= 'a' && txid[i] <= 'f' ? txid[i] - 'a' + 'A' : txid[i]);
    assert_int_equal(icms_refund_record(a->f.db, &a->f.host, refund, upper, NULL), ICMS_EEXISTS);
    assert_non_null(strstr(icms_error_last()->message, "payout"));
    assert_int_equal(icms_refund_record(a->f.db, &a->f.host, refund, txid, NULL), ICMS_EEXISTS);
    assert_true(fx_digest(&a->f) == before);
    /* The refund is settled by a transaction of its own. */
    const char *txid2 = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 30000000, &txid2);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_refund_record(a->f.db, &a->f.host, refund, txid2, &out));
    cJSON *settled = fx_json(out);
    assert_string_equal(fx_str(settled, "status"), "PAID");
    cJSON_Delete(settled);
}

/* part's investor overpays a payment of all it owes by `excess`, refunds to refund_address. */
static void overpaid(atk *a, const char *part, const char *key, long long due, long long excess,
                     const char *refund_address)
{
    cJSON *p = initiate(a, &a->f.investor, part, key, 0, refund_address);
    const char *txid = pay(a, p, due + excess, 1);
    assert_icms_ok(icms_payment_submit(a->f.db, &a->f.investor.req, fx_str(p, "id"), txid, NULL));
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_int_equal(fx_int(v, "refund_due"), excess);
    cJSON_Delete(v);
    cJSON_Delete(p);
}

/*
 * An investor names as the refund address of one payment the receiving
 * address of another of theirs (an address of the host's own wallet). The
 * host pays the refund there; the investor attaches that transaction to the
 * payment, before or after the host records the refund. It is money out and
 * back in, and both are what happened: the refund is PAID, the payment
 * credited, the ledger's chain account equal to what the wallet holds
 * (icms_check). Refusing either would lose the investor's money or have the
 * host pay it twice; this guards the cross-kind txid rule against that.
 */
static void test_a_refund_paid_into_a_payment_address_counts_once_each_way(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char p1[37], p2[37], p3[37], part1[37], part2[37], part3[37];
    small_project(a, p1);
    small_project(a, p2);
    small_project(a, p3);
    fx_approved_profit(f, &f->investor, p1, TARGET, part1);
    fx_approved_profit(f, &f->investor, p2, 60000000, part2);
    fx_approved_profit(f, &f->investor, p3, TARGET, part3);
    cJSON *second = initiate(a, &f->investor, part2, "second", 30000000,
                             address(a, REFUND_ADDRESS));
    overpaid(a, part1, "first", TARGET, 30000000, fx_str(second, "address"));
    char *out = NULL, refund[37];
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, p1), &out));
    cJSON_Delete(only_item(out, refund));

    /* The refund recorded first, then the same transaction submitted to the payment. */
    const char *refund_tx = pay(a, second, 30000000, 1);
    assert_icms_ok(icms_refund_record(f->db, &f->host, refund, refund_tx, NULL));
    assert_icms_ok(
        icms_payment_submit(f->db, &f->investor.req, fx_str(second, "id"), refund_tx, NULL));
    cJSON *v = verify(a, fx_str(second, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    assert_int_equal(fx_int(v, "credited"), 30000000);
    cJSON_Delete(v);
    assert_int_equal(project_int(a, p2, "funded"), 30000000);

    /* The other order: submitted and confirmed first, the refund recorded after. */
    cJSON *third = initiate(a, &f->investor, part2, "third", 0, address(a, REFUND_ADDRESS));
    overpaid(a, part3, "fourth", TARGET, 30000000, fx_str(third, "address"));
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, p3), &out));
    cJSON_Delete(only_item(out, refund));
    refund_tx = pay(a, third, 30000000, 1);
    assert_icms_ok(
        icms_payment_submit(f->db, &f->investor.req, fx_str(third, "id"), refund_tx, NULL));
    cJSON_Delete(verify(a, fx_str(third, "id")));
    assert_icms_ok(icms_refund_record(f->db, &f->host, refund, refund_tx, NULL));
    assert_int_equal(project_int(a, p2, "funded"), 60000000);
    cJSON_Delete(second);
    cJSON_Delete(third);
}

/*
 * The refund is settled with the wrong transaction: the investor's own
 * payment (it pays the receiving address, not the refund address), one paying
 * less than is due, one paying someone else. Each is refused with a message
 * saying which, nothing changed; the right one settles it.
 */
static void test_refund_with_the_wrong_transaction(void **state)
{
    atk *a = *state;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(&a->f, &a->f.investor, a->project, TARGET, part);
    cJSON *p = initiate(a, &a->f.investor, part, "k", 0, address(a, REFUND_ADDRESS));
    const char *own = pay(a, p, TARGET + 30000000, 1);
    assert_icms_ok(icms_payment_submit(a->f.db, &a->f.investor.req, fx_str(p, "id"), own, NULL));
    cJSON_Delete(verify(a, fx_str(p, "id")));
    char *out = NULL, refund[37];
    assert_icms_ok(icms_refund_list(a->f.db, &a->f.investor.req, NULL, &out));
    cJSON_Delete(only_item(out, refund));

    const char *short_tx = NULL, *elsewhere = NULL, *right = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 29999999, &short_tx);
    memchain_pay(a->chain, script(a, REFUND_ADDRESS2), 30000000, &elsewhere);
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 30000000, &right);
    memchain_mine(a->chain, 1);
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(icms_refund_record(a->f.db, &a->f.host, refund, own, NULL), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "pays the refund address 0"));
    assert_int_equal(icms_refund_record(a->f.db, &a->f.host, refund, short_tx, NULL),
                     ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "29999999, not the 30000000 due"));
    assert_int_equal(icms_refund_record(a->f.db, &a->f.host, refund, elsewhere, NULL),
                     ICMS_EINVALID);
    assert_int_equal(icms_refund_record(a->f.db, &a->f.admin.req, refund,
                                        "zz00000000000000000000000000000000000000000000000000000000000000",
                                        NULL),
                     ICMS_EINVALID);
    assert_true(fx_digest(&a->f) == before);
    assert_icms_ok(icms_refund_record(a->f.db, &a->f.admin.req, refund, right, NULL));
    cJSON_Delete(p);
}

/*
 * Txids are public (the mempool): investor2 attaches investor's transaction
 * to a payment of their own before investor does. It pays nothing to
 * investor2's address, so that payment fails at depth; investor must then be
 * able to attach their transaction to their payment and be credited. Before
 * the fix the FAILED payment kept the txid in the unique index for ever, and
 * investor's money, received by the host, could never be counted or refunded.
 * (icms_check, at teardown, also checks the index entries match the records.)
 */
static void test_a_txid_taken_by_another_investor_is_freed_when_that_payment_fails(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char pa[37], pb[37];
    two_approved(a, pa, pb);
    cJSON *mine = initiate(a, &f->investor, pa, "a", 0, address(a, REFUND_ADDRESS));
    cJSON *thief = initiate(a, &f->investor2, pb, "b", 0, address(a, REFUND_ADDRESS2));
    const char *txid = pay(a, mine, 100000000, 0); /* in the mempool, for all to see */
    /* The node knows it pays another address: the thief is refused at once, nothing written. */
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(icms_payment_submit(f->db, &f->investor2.req, fx_str(thief, "id"), txid, NULL),
                     ICMS_EINVALID);
    assert_true(fx_digest(&a->f) == before);
    /* With no node to ask (a handle without one), the thief gets it attached first... */
    icms_options plain = ICMS_OPTIONS_INIT;
    fx_reopen(f, &plain);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor2.req, fx_str(thief, "id"), txid, NULL));
    attach(a);
    before = fx_digest(&a->f);
    assert_int_equal(icms_payment_submit(f->db, &f->investor.req, fx_str(mine, "id"), txid, NULL),
                     ICMS_EEXISTS);
    assert_true(fx_digest(&a->f) == before);
    memchain_mine(a->chain, 1);
    cJSON *v = verify(a, fx_str(thief, "id"));
    assert_string_equal(fx_str(v, "status"), "FAILED");
    cJSON_Delete(v);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(mine, "id"), txid, NULL));
    /* The failed payment keeps the transaction it failed with, as failed_txid. */
    char *out = NULL;
    assert_icms_ok(icms_payment_get(f->db, &f->investor2.req, fx_str(thief, "id"), &out));
    cJSON *failed = fx_json(out);
    assert_string_equal(fx_str(failed, "status"), "FAILED");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(failed, "txid")));
    assert_string_equal(fx_str(failed, "failed_txid"), txid);
    cJSON_Delete(failed);
    v = verify(a, fx_str(mine, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    assert_int_equal(fx_int(v, "credited"), 100000000);
    cJSON_Delete(v);
    assert_int_equal(project_int(a, a->project, "funded"), 100000000);
    /* The confirmed payment holds it now: no one else can take it. */
    cJSON *again = initiate(a, &f->investor2, pb, "c", 0, address(a, REFUND_ADDRESS2));
    assert_int_equal(
        icms_payment_submit(f->db, &f->investor2.req, fx_str(again, "id"), txid, NULL),
        ICMS_EEXISTS);
    cJSON_Delete(again);
    cJSON_Delete(mine);
    cJSON_Delete(thief);
}

/*
 * One payment named twice in one verify batch (and beside another): applied
 * once. The second answer must see the payment as the first left it (the
 * batch keeps the documents its read step parsed), not confirm it again or
 * fail it for an output it has itself just claimed.
 */
static void test_a_batch_naming_one_payment_twice(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char pa[37], pb[37];
    two_approved(a, pa, pb);
    cJSON *p = initiate(a, &f->investor, pa, "a", 0, address(a, REFUND_ADDRESS));
    cJSON *q = initiate(a, &f->investor2, pb, "b", 0, address(a, REFUND_ADDRESS2));
    const char *tp = pay(a, p, 100000000, 0), *tq = pay(a, q, 50000000, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), tp, NULL));
    assert_icms_ok(icms_payment_submit(f->db, &f->investor2.req, fx_str(q, "id"), tq, NULL));
    const char *ids[] = {fx_str(p, "id"), fx_str(q, "id"), fx_str(p, "id"), fx_str(p, "id")};
    char *out = NULL;
    assert_icms_ok(icms_payment_verify_batch(f->db, &f->host, ids, 4, &out));
    cJSON *list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(list), 4);
    cJSON *it;
    cJSON_ArrayForEach(it, list)
    {
        assert_string_equal(fx_str(it, "status"), "CONFIRMED");
        assert_int_equal(fx_int(it, "refund_due"), 0);
    }
    cJSON_Delete(list);
    /* Verified again, alone: nothing more is counted. */
    uint64_t before = fx_digest(&a->f);
    assert_icms_ok(icms_payment_verify_batch(f->db, &f->host, ids, 4, NULL));
    cJSON_Delete(verify(a, fx_str(p, "id")));
    assert_true(fx_digest(&a->f) == before);
    assert_int_equal(project_int(a, a->project, "funded"), TARGET);
    char buf[64];
    assert_string_equal(project_state(a, a->project, buf), "PENDING_ADMIN_APPROVAL");
    /* Every bad batch shape is refused. */
    assert_int_equal(icms_payment_verify_batch(f->db, &f->host, ids, 0, &out), ICMS_EINVALID);
    assert_int_equal(icms_payment_verify_batch(f->db, &f->host, NULL, 1, &out), ICMS_EINVALID);
    assert_int_equal(
        icms_payment_verify_batch(f->db, &f->host, ids, ICMS_PAYMENT_BATCH_MAX + 1, &out),
        ICMS_EINVALID);
    const char *hidden[] = {fx_str(q, "id"), fx_str(p, "id")};
    assert_int_equal(icms_payment_verify_batch(f->db, &f->investor.req, hidden, 2, &out),
                     ICMS_ENOTFOUND);
    const char *garbage[] = {fx_str(p, "id"), "not-an-id"};
    assert_int_equal(icms_payment_verify_batch(f->db, &f->host, garbage, 2, &out),
                     ICMS_EINVALID);
    assert_null(out);
    cJSON_Delete(p);
    cJSON_Delete(q);
}

/* ---- authorization ---- */

/*
 * investor2 (a KYC-verified investor of the same project), the project's
 * owner, a stranger and an anonymous caller act on investor's participation
 * and payment. Nothing they try changes the store; what they may not see
 * reads as missing.
 */
static void test_others_cannot_act_on_an_investors_payment(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char part[37], other_part[37];
    two_approved(a, part, other_part);
    cJSON *p = initiate(a, &f->investor, part, "k", 0, address(a, REFUND_ADDRESS));
    const char *id = fx_str(p, "id");
    const char *txid = pay(a, p, 100000000, 1);
    char json[160];
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", address(a, REFUND_ADDRESS2));
    icms_request as2 = f->investor2.req, anon = f->anonymous, owner = f->owner.req,
                 stranger = f->stranger.req;
    as2.idempotency_key = anon.idempotency_key = owner.idempotency_key =
        stranger.idempotency_key = "steal";
    char *out = NULL;
    uint64_t before = fx_digest(&a->f);

    /* Initiating on someone else's participation. */
    assert_int_equal(icms_payment_initiate(f->db, &as2, part, json, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_initiate(f->db, &owner, part, json, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_initiate(f->db, &anon, part, json, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_initiate(f->db, &stranger, part, json, &out), ICMS_ENOTFOUND);
    /* Submitting (a transaction of one's own choosing) to someone else's payment. */
    assert_int_equal(icms_payment_submit(f->db, &f->investor2.req, id, txid, &out),
                     ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_submit(f->db, &f->owner.req, id, txid, &out), ICMS_EFORBIDDEN);
    assert_int_equal(icms_payment_submit(f->db, &f->anonymous, id, txid, &out), ICMS_ENOTFOUND);
    /* Reading it, alone or in lists (by every filter that names it). */
    assert_int_equal(icms_payment_get(f->db, &f->investor2.req, id, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_get(f->db, &f->anonymous, id, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_get(f->db, &f->stranger.req, id, &out), ICMS_ENOTFOUND);
    assert_null(out);
    char filter[160];
    snprintf(filter, sizeof filter, "{\"participation_id\":\"%s\"}", part);
    int rc = icms_payment_list(f->db, &f->investor2.req, filter, &out);
    if (rc == ICMS_OK)
        assert_int_equal(count_items(out), 0);
    else
        assert_int_equal(rc, ICMS_EFORBIDDEN);
    snprintf(filter, sizeof filter, "{\"investor_id\":\"%s\"}", f->investor.id);
    rc = icms_payment_list(f->db, &f->investor2.req, filter, &out);
    if (rc == ICMS_OK)
        assert_int_equal(count_items(out), 0);
    else
        assert_int_equal(rc, ICMS_EFORBIDDEN);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", a->project);
    rc = icms_payment_list(f->db, &f->investor2.req, filter, &out);
    if (rc == ICMS_OK)
        assert_int_equal(count_items(out), 0);
    else
        assert_int_equal(rc, ICMS_EFORBIDDEN);
    assert_int_equal(icms_participation_get(f->db, &f->investor2.req, part, &out),
                     ICMS_ENOTFOUND);
    /* Withdrawing someone else's request; approving one's own. */
    assert_int_equal(icms_participation_withdraw(f->db, &f->investor2.req, part, &out),
                     ICMS_ENOTFOUND);
    assert_int_equal(icms_participation_approve(f->db, &f->investor2.req, other_part, &out),
                     ICMS_EFORBIDDEN);
    assert_true(fx_digest(&a->f) == before);

    /* Verification may be asked by anyone who can see the payment... */
    assert_int_equal(icms_payment_verify(f->db, &f->investor2.req, id, &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_verify(f->db, &f->anonymous, id, &out), ICMS_ENOTFOUND);
    assert_true(fx_digest(&a->f) == before);
    /* ...and the owner sees their project's payments. */
    assert_icms_ok(icms_payment_get(f->db, &f->owner.req, id, &out));
    icms_free(out);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, id, txid, NULL));
    cJSON_Delete(p);
}

/*
 * Settling and distributing are the host's and the admins' only: an owner
 * recording a refund or payout of their own project (or another's), an
 * investor recording their own refund, an owner distributing, approving or
 * completing -- each refused, nothing changed.
 */
static void test_owners_and_investors_cannot_settle_or_distribute(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, TARGET, part);
    cJSON_Delete(paid(a, &f->investor, part, "k", TARGET + 1000, address(a, REFUND_ADDRESS)));
    char *out = NULL, refund[37];
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON_Delete(only_item(out, refund));
    const char *txid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 1000, &txid);
    memchain_mine(a->chain, 1);
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(icms_refund_record(f->db, &f->owner.req, refund, txid, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_refund_record(f->db, &f->investor.req, refund, txid, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_refund_record(f->db, &f->anonymous, refund, txid, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_approve(f->db, &f->owner.req, a->project, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_ship(f->db, &f->owner.req, a->project,
                                       "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                       "\"bill_of_lading\":\"B\",\"port_of_loading\":\"P\","
                                       "\"port_of_discharge\":\"H\","
                                       "\"eta\":\"2026-03-01T00:00:00Z\"}",
                                       &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_complete(f->db, &f->owner.req, a->project, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_check(f->db, &f->owner.req, &out), ICMS_EFORBIDDEN);
    assert_int_equal(icms_check(f->db, &f->investor.req, &out), ICMS_EFORBIDDEN);
    assert_null(out);
    assert_true(fx_digest(&a->f) == before);

    approve_ship_complete(a, a->project);
    before = fx_digest(&a->f);
    assert_int_equal(
        icms_project_distribute(f->db, &f->owner.req, a->project, "{\"profit\":5}", &out),
        ICMS_EFORBIDDEN);
    assert_int_equal(
        icms_project_distribute(f->db, &f->investor.req, a->project, "{\"profit\":5}", &out),
        ICMS_EFORBIDDEN);
    assert_true(fx_digest(&a->f) == before);
    assert_icms_ok(icms_refund_record(f->db, &f->host, refund, txid, NULL));
    /* A payout of the owner's own project, recorded by the owner or the investor: refused. */
    assert_icms_ok(
        icms_project_distribute(f->db, &f->admin.req, a->project, "{\"profit\":5}", NULL));
    char payout[37];
    assert_icms_ok(icms_payout_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON_Delete(only_item(out, payout));
    const char *paid_out = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), TARGET + 5, &paid_out);
    memchain_mine(a->chain, 1);
    before = fx_digest(&a->f);
    assert_int_equal(icms_payout_record(f->db, &f->owner.req, payout, paid_out, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_payout_record(f->db, &f->investor.req, payout, paid_out, &out),
                     ICMS_EFORBIDDEN);
    assert_null(out);
    assert_true(fx_digest(&a->f) == before);
    assert_icms_ok(icms_payout_record(f->db, &f->admin.req, payout, paid_out, NULL));
}

/*
 * Another owner (a user with the OWNER role, not this project's) and an
 * investor of the project try to divert the owner's release to an address of
 * theirs, approve or reject requests, read payments and cancel the project.
 * All refused; the release goes where the owner said.
 */
static void test_another_owner_cannot_divert_or_run_a_project(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    fx_user rival;
    fx_add_user(f, &rival, ICMS_ROLE_OWNER | ICMS_ROLE_INVESTOR, "VERIFIED");
    small_project(a, a->project);
    char part[37], pending[37];
    fx_approved_profit(f, &f->investor, a->project, 100000000, part);
    fx_request_profit(f, &f->investor2, a->project, 50000000, pending);
    cJSON *p = initiate(a, &f->investor, part, "k", 0, address(a, REFUND_ADDRESS));
    const char *theirs = address(a, REFUND_ADDRESS2);
    char *out = NULL;
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(icms_project_set_payout_address(f->db, &rival.req, a->project, theirs, &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(
        icms_project_set_payout_address(f->db, &f->investor.req, a->project, theirs, &out),
        ICMS_EFORBIDDEN);
    assert_int_equal(
        icms_project_set_payout_address(f->db, &f->anonymous, a->project, theirs, &out),
        ICMS_EFORBIDDEN);
    assert_int_equal(icms_participation_approve(f->db, &rival.req, pending, &out),
                     ICMS_ENOTFOUND);
    assert_int_equal(icms_participation_reject(f->db, &rival.req, pending, "no", &out),
                     ICMS_ENOTFOUND);
    assert_int_equal(icms_payment_get(f->db, &rival.req, fx_str(p, "id"), &out), ICMS_ENOTFOUND);
    assert_int_equal(icms_project_cancel(f->db, &rival.req, a->project, "mine now", &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_cancel(f->db, &f->investor.req, a->project, "refund me", &out),
                     ICMS_EFORBIDDEN);
    char filter[80];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", a->project);
    int rc = icms_payment_list(f->db, &rival.req, filter, &out);
    if (rc == ICMS_OK)
        assert_int_equal(count_items(out), 0);
    else
        assert_int_equal(rc, ICMS_EFORBIDDEN);
    assert_null(out);
    assert_true(fx_digest(&a->f) == before);
    cJSON_Delete(p);
}

/* ---- amounts at the edges ---- */

/*
 * Amounts in JSON input that are not plain integers -- strings, fractions,
 * exponents, negative zero, beyond int64 -- and integers out of range: each
 * refused with ICMS_EINVALID naming "amount", nothing changed. The one
 * exponent form that is an exact integer is either refused or read exactly.
 */
static void test_initiate_amounts_that_are_not_amounts(void **state)
{
    atk *a = *state;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(&a->f, &a->f.investor, a->project, 100000000, part);
    static const char *const bad[] = {
        "\"100\"", "1.5", "1e3", "-0", "0", "-1", "100000001", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "1e400", "null", "true", "[1]", "{}",
    };
    uint64_t before = fx_digest(&a->f);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char json[256], key[32];
        snprintf(json, sizeof json, "{\"amount\":%s,\"refund_address\":\"%s\"}", bad[i],
                 address(a, REFUND_ADDRESS));
        snprintf(key, sizeof key, "bad-%zu", i);
        cJSON *p = NULL;
        int rc = try_initiate(a, &a->f.investor, part, key, json, &p);
        if (rc != ICMS_EINVALID)
            fail_msg("amount %s: %s (%s)", bad[i], icms_error_name(rc),
                     rc ? icms_error_last()->message : "accepted");
        if (!strstr(icms_error_last()->message, "amount") &&
            !strstr(icms_error_last()->message, "out of range"))
            fail_msg("amount %s: %s", bad[i], icms_error_last()->message);
    }
    assert_true(fx_digest(&a->f) == before);
    /* 1.0 and 1e2 are integers written oddly: read exactly, or refused; never 0 or rounded. */
    static const char *const odd[] = {"1.0", "1e2", "1E2"};
    static const long long value[] = {1, 100, 100};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        char json[256], key[32];
        snprintf(json, sizeof json, "{\"amount\":%s,\"refund_address\":\"%s\"}", odd[i],
                 address(a, REFUND_ADDRESS));
        snprintf(key, sizeof key, "odd-%zu", i);
        cJSON *p = NULL;
        int rc = try_initiate(a, &a->f.investor, part, key, json, &p);
        if (rc == ICMS_OK) {
            assert_int_equal(fx_int(p, "amount"), value[i]);
            /* Make room for the next one: expire it. */
            icms_clock_fake_advance(a->f.clock, ICMS_PAYMENT_WINDOW_MS);
            assert_icms_ok(icms_tick(a->f.db, NULL));
            cJSON_Delete(p);
        } else {
            assert_int_equal(rc, ICMS_EINVALID);
            assert_true(fx_digest(&a->f) == before);
        }
    }
}

/*
 * Products whose price times quantity, or whose sum with shipping, leaves
 * int64: refused with ICMS_EINVALID at creation, no project made.
 */
static void test_project_totals_that_overflow(void **state)
{
    atk *a = *state;
    static const char *const products[] = {
        /* price * quantity overflows */
        "[{\"name\":\"A\",\"unit\":\"u\",\"quantity\":4611686018427387904,\"unit_price\":2}]",
        "[{\"name\":\"A\",\"unit\":\"u\",\"quantity\":3,\"unit_price\":3074457345618258603}]",
        /* each fits; their sum does not */
        "[{\"name\":\"A\",\"unit\":\"u\",\"quantity\":1,\"unit_price\":9223372036854775807},"
        "{\"name\":\"B\",\"unit\":\"u\",\"quantity\":1,\"unit_price\":1}]",
        /* fits int64, but is more than one transaction (or all the money there is) can pay */
        "[{\"name\":\"A\",\"unit\":\"u\",\"quantity\":1,\"unit_price\":2100000000000001}]",
    };
    uint64_t before = fx_digest(&a->f);
    for (size_t i = 0; i < sizeof products / sizeof products[0]; i++) {
        char json[1024];
        snprintf(json, sizeof json,
                 "{\"title\":\"T\",\"expiry_date\":\"2026-02-01T00:00:00Z\",\"products\":%s}",
                 products[i]);
        char *out = NULL;
        int rc = icms_project_create(a->f.db, &a->f.owner.req, json, &out);
        if (rc != ICMS_EINVALID)
            fail_msg("products %zu: %s", i, icms_error_name(rc));
        assert_null(out);
    }
    /* Goods that fit with shipping that tips the total over. */
    char *out = NULL;
    assert_int_equal(icms_project_create(
                         a->f.db, &a->f.owner.req,
                         "{\"title\":\"T\",\"expiry_date\":\"2026-02-01T00:00:00Z\","
                         "\"shipping_costs\":{\"freight\":9223372036854775807,\"other\":1},"
                         "\"products\":[{\"name\":\"A\",\"unit\":\"u\",\"quantity\":1,"
                         "\"unit_price\":1}]}",
                         &out),
                     ICMS_EINVALID);
    assert_true(fx_digest(&a->f) == before);
}

/*
 * A profit at the edges. A payout (capital + share) is settled by one
 * transaction, and no transaction pays more than ICMS_GAPCOIN_MAX_MONEY, so a
 * larger payout would be due for ever; a declared profit above it is
 * refused. Before the fix a profit of INT64_MAX was taken: one investor's
 * capital + share wrapped negative in an unchecked sum (undefined behaviour)
 * and their payout was silently skipped -- their capital never owed back.
 */
static void distributed_project(atk *a, bool two)
{
    fx *f = &a->f;
    small_project(a, a->project);
    char pa[37], pb[37];
    fx_approved_profit(f, &f->investor, a->project, two ? 100000000 : TARGET, pa);
    cJSON_Delete(paid(a, &f->investor, pa, "a", two ? 100000000 : TARGET,
                      address(a, REFUND_ADDRESS)));
    if (two) {
        fx_approved_profit(f, &f->investor2, a->project, 50000000, pb);
        cJSON_Delete(paid(a, &f->investor2, pb, "b", 50000000, address(a, REFUND_ADDRESS2)));
    }
    approve_ship_complete(a, a->project);
}

/* Settle every payout of the project with a transaction of its amount; how many. */
static int settle_payouts(atk *a)
{
    char *out = NULL;
    assert_icms_ok(icms_payout_list(a->f.db, &a->f.host, due_filter(a, a->project), &out));
    cJSON *page = fx_json(out);
    cJSON *it;
    int n = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(page, "items"))
    {
        const char *txid = NULL;
        int refund = strcmp(fx_str(it, "investor_id"), a->f.investor.id) == 0 ? REFUND_ADDRESS
                                                                                 : REFUND_ADDRESS2;
        assert_true(memchain_pay(a->chain, script(a, refund), fx_int(it, "amount"), &txid) >= 0);
        memchain_mine(a->chain, 1);
        assert_icms_ok(icms_payout_record(a->f.db, &a->f.host, fx_str(it, "id"), txid, NULL));
        n++;
    }
    cJSON_Delete(page);
    return n;
}

static void test_profit_of_int64_max_for_one_investor(void **state)
{
    atk *a = *state;
    distributed_project(a, false);
    uint64_t before = fx_digest(&a->f);
    char json[64], *out = NULL;
    static const long long refused[] = {INT64_MAX, ICMS_GAPCOIN_MAX_MONEY + 1,
                                        ICMS_GAPCOIN_MAX_MONEY, /* + capital: too much */
                                        ICMS_GAPCOIN_MAX_MONEY - TARGET + 1};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        snprintf(json, sizeof json, "{\"profit\":%lld}", refused[i]);
        int rc = icms_project_distribute(a->f.db, &a->f.admin.req, a->project, json, &out);
        if (rc != ICMS_EINVALID)
            fail_msg("profit %lld: %s", refused[i], icms_error_name(rc));
        assert_non_null(strstr(icms_error_last()->message, "profit"));
        assert_null(out);
    }
    assert_true(fx_digest(&a->f) == before);
    /* The largest profit that can be paid: one payout of exactly MAX_MONEY, settled. */
    snprintf(json, sizeof json, "{\"profit\":%lld}", (long long)(ICMS_GAPCOIN_MAX_MONEY - TARGET));
    assert_icms_ok(icms_project_distribute(a->f.db, &a->f.admin.req, a->project, json, NULL));
    assert_icms_ok(icms_payout_list(a->f.db, &a->f.host, due_filter(a, a->project), &out));
    cJSON *p = only_item(out, NULL);
    assert_true(fx_int(p, "amount") == ICMS_GAPCOIN_MAX_MONEY);
    cJSON_Delete(p);
    assert_int_equal(settle_payouts(a), 1);
}

static void test_profit_at_the_edge_for_two_investors(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    distributed_project(a, true);
    uint64_t before = fx_digest(&a->f);
    char json[64], *out = NULL;
    static const char *const bad[] = {"-1", "1.5", "\"5\"", "9223372036854775808", "null",
                                      "2100000000000001"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(json, sizeof json, "{\"profit\":%s}", bad[i]);
        assert_int_equal(icms_project_distribute(f->db, &f->admin.req, a->project, json, &out),
                         ICMS_EINVALID);
        assert_null(out);
    }
    assert_true(fx_digest(&a->f) == before);
    /* All the money there is, shared 2:1: each payout fits, the shares are exact, both paid. */
    snprintf(json, sizeof json, "{\"profit\":%lld}", (long long)ICMS_GAPCOIN_MAX_MONEY);
    assert_icms_ok(icms_project_distribute(f->db, &f->admin.req, a->project, json, NULL));
    assert_icms_ok(icms_payout_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 2);
    long long sum = 0, share_sum = 0;
    for (int i = 0; i < 2; i++) {
        const cJSON *it = cJSON_GetArrayItem(items, i);
        sum += fx_int(it, "amount");
        share_sum += fx_int(it, "profit_share");
        if (fx_int(it, "capital") == 100000000) /* 2/3 of 2.1e15 is exact */
            assert_true(fx_int(it, "profit_share") == ICMS_GAPCOIN_MAX_MONEY / 3 * 2);
    }
    assert_true(sum == ICMS_GAPCOIN_MAX_MONEY + TARGET);
    assert_true(share_sum == ICMS_GAPCOIN_MAX_MONEY);
    cJSON_Delete(page);
    assert_int_equal(settle_payouts(a), 2);
    /* Once only. */
    assert_int_equal(icms_project_distribute(f->db, &f->admin.req, a->project, json, NULL),
                     ICMS_EINVALID_TRANSITION);
}

/* ---- idempotency ---- */

/*
 * The same idempotency key used by two investors: each gets their own
 * payment (keys are per actor), never the other's answer -- which would hand
 * over the other's receiving address and payment id.
 */
static void test_one_key_two_actors(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char pa[37], pb[37];
    two_approved(a, pa, pb);
    cJSON *first = initiate(a, &f->investor, pa, "same-key", 0, address(a, REFUND_ADDRESS));
    /* investor2 replays investor's exact request under the same key: not theirs to replay. */
    char json[160];
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", address(a, REFUND_ADDRESS));
    cJSON *stolen = NULL;
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(try_initiate(a, &f->investor2, pa, "same-key", json, &stolen),
                     ICMS_ENOTFOUND);
    assert_true(fx_digest(&a->f) == before);
    cJSON *second = initiate(a, &f->investor2, pb, "same-key", 0, address(a, REFUND_ADDRESS2));
    assert_string_not_equal(fx_str(first, "id"), fx_str(second, "id"));
    assert_string_not_equal(fx_str(first, "address"), fx_str(second, "address"));
    assert_int_equal(fx_int(second, "amount"), 50000000);
    /* The host's "same-key" is its own too: not a replay of investor's answer (which would
     * succeed), so it runs, and only investors start payments. */
    icms_request host = f->host;
    host.idempotency_key = "same-key";
    char *out = NULL;
    assert_int_equal(icms_payment_initiate(f->db, &host, pa, json, &out), ICMS_EFORBIDDEN);
    assert_null(out);
    cJSON_Delete(first);
    cJSON_Delete(second);
}

/*
 * The same key with the same request written differently (members reordered,
 * spaces) replays; with a different request it is ICMS_EIDEMPOTENCY and
 * changes nothing. A key of ICMS_REQUEST_FIELD_MAX bytes is taken; one byte
 * more is refused before anything runs.
 */
static void test_idempotency_key_edges(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, 100000000, part);
    char key[ICMS_REQUEST_FIELD_MAX + 2];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0'; /* one byte over */
    char json[200], reordered[220], other[200];
    snprintf(json, sizeof json, "{\"amount\":40000000,\"refund_address\":\"%s\"}",
             address(a, REFUND_ADDRESS));
    snprintf(reordered, sizeof reordered, "{ \"refund_address\" : \"%s\",\n\"amount\":40000000 }",
             address(a, REFUND_ADDRESS));
    snprintf(other, sizeof other, "{\"amount\":40000001,\"refund_address\":\"%s\"}",
             address(a, REFUND_ADDRESS));
    cJSON *p = NULL;
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(try_initiate(a, &f->investor, part, key, json, &p), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "idempotency_key"));
    assert_int_equal(try_initiate(a, &f->investor, part, "", json, &p), ICMS_EINVALID);
    assert_true(fx_digest(&a->f) == before);
    key[ICMS_REQUEST_FIELD_MAX] = '\0'; /* at the limit */
    assert_icms_ok(try_initiate(a, &f->investor, part, key, json, &p));
    cJSON *q = NULL;
    assert_icms_ok(try_initiate(a, &f->investor, part, key, reordered, &q));
    assert_string_equal(fx_str(p, "id"), fx_str(q, "id"));
    cJSON_Delete(q);
    before = fx_digest(&a->f);
    assert_int_equal(try_initiate(a, &f->investor, part, key, other, &q), ICMS_EIDEMPOTENCY);
    assert_true(fx_digest(&a->f) == before);
    /* The same key for another command of the same actor is not a replay of this one. */
    const char *txid = pay(a, p, 40000000, 1);
    icms_request req = f->investor.req;
    req.idempotency_key = key;
    assert_int_equal(icms_payment_submit(f->db, &req, fx_str(p, "id"), txid, NULL),
                     ICMS_EIDEMPOTENCY);
    assert_true(fx_digest(&a->f) == before);
    cJSON_Delete(p);
}

/* ---- state races through the API ---- */

/*
 * A payment expires (the tick), then its investor submits anyway; the project
 * is cancelled while another payment is SUBMITTED, then it is verified. Both
 * are late: confirmed with nothing credited and refunded in full, the project
 * never funded by them.
 */
static void test_expired_then_submitted_and_cancelled_while_submitted(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char pa[37], pb[37];
    two_approved(a, pa, pb);
    cJSON *p = initiate(a, &f->investor, pa, "a", 0, address(a, REFUND_ADDRESS));
    icms_clock_fake_advance(f->clock, ICMS_PAYMENT_WINDOW_MS);
    assert_icms_ok(icms_tick(f->db, NULL));
    char *out = NULL;
    assert_icms_ok(icms_payment_get(f->db, &f->investor.req, fx_str(p, "id"), &out));
    cJSON *e = fx_json(out);
    assert_string_equal(fx_str(e, "status"), "EXPIRED");
    cJSON_Delete(e);
    const char *txid = pay(a, p, 100000000, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_int_equal(fx_int(v, "credited"), 0);
    assert_int_equal(fx_int(v, "refund_due"), 100000000);
    cJSON_Delete(v);
    assert_int_equal(project_int(a, a->project, "funded"), 0);

    cJSON *q = initiate(a, &f->investor2, pb, "b", 0, address(a, REFUND_ADDRESS2));
    const char *txid2 = pay(a, q, 50000000, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor2.req, fx_str(q, "id"), txid2, NULL));
    /* Swapping the transaction of a SUBMITTED payment (for one that pays more, say): refused. */
    const char *swap = pay(a, q, 60000000, 1);
    uint64_t submitted = fx_digest(&a->f);
    assert_int_equal(icms_payment_submit(f->db, &f->investor2.req, fx_str(q, "id"), swap, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_true(fx_digest(&a->f) == submitted);
    assert_icms_ok(icms_project_cancel(f->db, &f->owner.req, a->project, "port closed", NULL));
    v = verify(a, fx_str(q, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    assert_int_equal(fx_int(v, "credited"), 0);
    assert_int_equal(fx_int(v, "refund_due"), 50000000);
    cJSON_Delete(v);
    assert_int_equal(project_int(a, a->project, "funded"), 0);
    /* Verified again: nothing is counted twice. */
    uint64_t before = fx_digest(&a->f);
    cJSON_Delete(verify(a, fx_str(q, "id")));
    assert_true(fx_digest(&a->f) == before);
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    assert_int_equal(count_items(out), 2);
    /* The project is cancelled: no payment starts on it any more. */
    char json[160];
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", address(a, REFUND_ADDRESS));
    cJSON *none = NULL;
    before = fx_digest(&a->f);
    assert_int_equal(try_initiate(a, &f->investor, pa, "after-cancel", json, &none),
                     ICMS_EINVALID_TRANSITION);
    assert_true(fx_digest(&a->f) == before);
    cJSON_Delete(p);
    cJSON_Delete(q);
}

/*
 * A re-org drops the funding transaction at each stage after funding:
 * FULLY_FUNDED/PENDING_ADMIN_APPROVAL (reversed, back to FUNDING), APPROVED
 * and COMPLETED (nothing taken back: the release stands). Verifying again
 * after completion changes nothing.
 */
static void test_reorg_at_each_stage(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char buf[64];
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, TARGET, part);
    cJSON *p = initiate(a, &f->investor, part, "a", 0, address(a, REFUND_ADDRESS));
    const char *txid = NULL;
    int first = memchain_pay(a->chain, fx_str(p, "script"), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    cJSON_Delete(verify(a, fx_str(p, "id")));
    assert_string_equal(project_state(a, a->project, buf), "PENDING_ADMIN_APPROVAL");
    memchain_drop(a->chain, first);
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    assert_string_equal(project_state(a, a->project, buf), "FUNDING");
    assert_int_equal(project_int(a, a->project, "funded"), 0);
    /* The reversed transaction cannot be offered again, to a new payment either. */
    cJSON *p2 = initiate(a, &f->investor, part, "b", 0, address(a, REFUND_ADDRESS));
    int second = memchain_pay(a->chain, fx_str(p2, "script"), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p2, "id"), txid, NULL));
    cJSON_Delete(verify(a, fx_str(p2, "id")));
    assert_string_equal(project_state(a, a->project, buf), "PENDING_ADMIN_APPROVAL");
    /* Nothing is outstanding: no further payment can be started. */
    cJSON *more = NULL;
    char json[160];
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", address(a, REFUND_ADDRESS));
    uint64_t before = fx_digest(&a->f);
    assert_int_equal(try_initiate(a, &f->investor, part, "c", json, &more),
                     ICMS_EINVALID_TRANSITION);
    assert_true(fx_digest(&a->f) == before);
    char *out = NULL;
    assert_icms_ok(icms_project_approve(f->db, &f->admin.req, a->project, &out));
    cJSON *approved = fx_json(out);
    char release[37];
    snprintf(release, sizeof release, "%s", fx_str(approved, "release_id"));
    cJSON_Delete(approved);
    /* Approved: the re-org takes nothing back, by verify or by tick. */
    memchain_drop(a->chain, second);
    v = verify(a, fx_str(p2, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    cJSON_Delete(v);
    assert_icms_ok(icms_tick(f->db, NULL));
    assert_string_equal(project_state(a, a->project, buf), "APPROVED");
    assert_int_equal(project_int(a, a->project, "funded"), TARGET);
    assert_icms_ok(icms_release_get(f->db, &f->host, release, &out));
    cJSON *r = fx_json(out);
    assert_string_equal(fx_str(r, "status"), "DUE");
    assert_int_equal(fx_int(r, "amount"), TARGET);
    cJSON_Delete(r);
    /* The transaction comes back (mined again), the owner is paid, the project completes:
     * verifying after completion, with the transaction gone once more, changes nothing. */
    const char *owner_tx = NULL;
    memchain_pay(a->chain, script(a, OWNER_ADDRESS), TARGET, &owner_tx);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_release_record(f->db, &f->host, release, owner_tx, NULL));
    assert_icms_ok(icms_project_ship(f->db, &f->admin.req, a->project,
                                     "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                     "\"bill_of_lading\":\"B\",\"port_of_loading\":\"P\","
                                     "\"port_of_discharge\":\"H\","
                                     "\"eta\":\"2026-03-01T00:00:00Z\"}",
                                     NULL));
    assert_icms_ok(icms_project_complete(f->db, &f->admin.req, a->project, NULL));
    v = verify(a, fx_str(p2, "id"));
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    assert_int_equal(fx_int(v, "credited"), TARGET);
    cJSON_Delete(v);
    assert_string_equal(project_state(a, a->project, buf), "COMPLETED");
    assert_int_equal(project_int(a, a->project, "funded"), TARGET);
    assert_icms_ok(
        icms_project_distribute(f->db, &f->admin.req, a->project, "{\"profit\":7}", NULL));
    assert_icms_ok(icms_payout_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON *po = only_item(out, NULL);
    assert_int_equal(fx_int(po, "amount"), TARGET + 7);
    cJSON_Delete(po);
    cJSON_Delete(p);
    cJSON_Delete(p2);
}

/*
 * An overpayment (refund of the excess due) or a late payment (refund of all
 * of it due) whose transaction a re-org then drops, while the project is
 * still before approval: the payment is REVERSED, and the money it was to
 * refund never arrived either. Before the fix only the credited part was
 * taken back; the refund stayed DUE, and a host paying it gave away coins it
 * never received. Now a DUE refund of the payment is VOIDED with it
 * (refund.voided on the ledger); one already PAID stays paid.
 */
static void test_a_reorg_takes_back_the_refund_of_what_never_arrived(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    char pa[37], pb[37];
    two_approved(a, pa, pb);
    /* investor overpays by 30,000,000. */
    cJSON *p = initiate(a, &f->investor, pa, "a", 0, address(a, REFUND_ADDRESS));
    const char *txid = NULL;
    int over = memchain_pay(a->chain, fx_str(p, "script"), 130000000, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_int_equal(fx_int(v, "refund_due"), 30000000);
    cJSON_Delete(v);
    /* investor2 pays after their window: late, all of it to be refunded. */
    cJSON *q = initiate(a, &f->investor2, pb, "b", 0, address(a, REFUND_ADDRESS2));
    icms_clock_fake_advance(f->clock, ICMS_PAYMENT_WINDOW_MS);
    int late = memchain_pay(a->chain, fx_str(q, "script"), 50000000, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor2.req, fx_str(q, "id"), txid, NULL));
    v = verify(a, fx_str(q, "id"));
    assert_int_equal(fx_int(v, "credited"), 0);
    assert_int_equal(fx_int(v, "refund_due"), 50000000);
    cJSON_Delete(v);
    char *out = NULL;
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    assert_int_equal(count_items(out), 2);

    memchain_drop(a->chain, over);
    memchain_drop(a->chain, late);
    /*
     * Every allocation of the reversal failing in turn leaves the store as it was. The
     * in-process node allocates through the library too: its failures read as the node's
     * (ICMS_ETRANSPORT, or ICMS_EVERSION for a request it could not parse), the library's as
     * ICMS_ENOMEM.
     */
    long n;
    for (n = 1;; n++) {
        uint64_t before = fx_digest(&a->f);
        icms__alloc_fail_after(n);
        int rc = icms_payment_verify(f->db, &f->host, fx_str(p, "id"), NULL);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK)
            break;
        if (rc != ICMS_ENOMEM && rc != ICMS_ETRANSPORT && rc != ICMS_EVERSION)
            fail_msg("allocation %ld failing: %s: %s", n, icms_error_name(rc),
                     icms_error_last()->message);
        if (fx_digest(&a->f) != before)
            fail_msg("allocation %ld failing changed the store", n);
    }
    assert_true(n > 10);
    assert_icms_ok(icms_payment_get(f->db, &f->investor.req, fx_str(p, "id"), &out));
    v = fx_json(out);
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    v = verify(a, fx_str(q, "id"));
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    assert_int_equal(project_int(a, a->project, "funded"), 0);
    char filter[128];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"DUE\"}", a->project);
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    assert_int_equal(count_items(out), 0);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"VOIDED\"}", a->project);
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    cJSON *page = fx_json(out);
    cJSON *it;
    long long voided = 0;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(page, "items"))
    {
        assert_string_equal(fx_str(it, "status"), "VOIDED");
        voided += fx_int(it, "amount");
    }
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 2);
    assert_int_equal(voided, 80000000);
    cJSON_Delete(page);
    /* A voided refund is not settled. */
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    char refund[37];
    page = fx_json(out);
    snprintf(refund, sizeof refund, "%s",
             fx_str(cJSON_GetArrayItem(cJSON_GetObjectItem(page, "items"), 0), "id"));
    cJSON_Delete(page);
    const char *paid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 50000000, &paid);
    memchain_mine(a->chain, 1);
    assert_int_equal(icms_refund_record(f->db, &f->host, refund, paid, NULL),
                     ICMS_EINVALID_TRANSITION);
    cJSON_Delete(p);
    cJSON_Delete(q);
}

/*
 * The refund of the excess was paid before the re-org: it stays PAID (the
 * coins left); the reversal takes back only what was credited.
 */
static void test_a_reorg_after_the_refund_was_paid_leaves_it_paid(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    small_project(a, a->project);
    char pa[37];
    fx_approved_profit(f, &f->investor, a->project, 100000000, pa);
    cJSON *p = initiate(a, &f->investor, pa, "a", 0, address(a, REFUND_ADDRESS));
    const char *txid = NULL;
    int over = memchain_pay(a->chain, fx_str(p, "script"), 130000000, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    cJSON_Delete(verify(a, fx_str(p, "id")));
    char *out = NULL, refund[37];
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON_Delete(only_item(out, refund));
    const char *paid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), 30000000, &paid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_refund_record(f->db, &f->host, refund, paid, NULL));
    memchain_drop(a->chain, over);
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON *r = only_item(out, NULL);
    assert_string_equal(fx_str(r, "status"), "PAID");
    cJSON_Delete(r);
    /* The excess went out and nothing came in: booked as lost. */
    assert_int_equal(fx_balance(f, "losses", NULL), -30000000);
    cJSON_Delete(p);
}

/*
 * A re-org once the project was cancelled: the payment's credit had moved
 * from the escrow to a refund. Still DUE, the refund is voided (the host
 * must not pay back coins that never came); already PAID, the payment is
 * reversed all the same and the refund's amount is booked as lost.
 */
static cJSON *cancelled_after_paying(atk *a, int *tx_index, char refund[37])
{
    fx *f = &a->f;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, TARGET, part);
    cJSON *p = initiate(a, &f->investor, part, "a", 0, address(a, REFUND_ADDRESS));
    const char *txid = NULL;
    *tx_index = memchain_pay(a->chain, fx_str(p, "script"), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    cJSON_Delete(verify(a, fx_str(p, "id")));
    assert_icms_ok(icms_project_cancel(f->db, &f->admin.req, a->project, "no ship", NULL));
    char *out = NULL;
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    cJSON *r = only_item(out, refund);
    assert_int_equal(fx_int(r, "amount"), TARGET);
    cJSON_Delete(r);
    assert_int_equal(fx_balance(f, "refunds_due", f->investor.id), TARGET);
    return p;
}

static void test_a_reorg_after_cancellation_voids_the_refund(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    int tx;
    char refund[37];
    cJSON *p = cancelled_after_paying(a, &tx, refund);
    memchain_drop(a->chain, tx);
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    char *out = NULL, filter[128];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"DUE\"}", a->project);
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    assert_int_equal(count_items(out), 0);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"VOIDED\"}", a->project);
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    cJSON_Delete(only_item(out, NULL));
    assert_int_equal(fx_balance(f, "refunds_due", f->investor.id), 0);
    assert_int_equal(fx_balance(f, "chain", NULL), 0); /* nothing came in, nothing went out */
    assert_int_equal(project_int(a, a->project, "funded"), 0);
    char buf[64];
    assert_string_equal(project_state(a, a->project, buf), "CANCELLED");
    /* The refund cannot be paid any more. */
    const char *txid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_int_not_equal(icms_refund_record(f->db, &f->host, refund, txid, NULL), ICMS_OK);
    cJSON_Delete(p);
}

/* The tick finds it too: it re-verifies the payments behind refunds still DUE. */
static void test_the_tick_rechecks_payments_behind_refunds_due(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    int tx;
    char refund[37];
    cJSON *p = cancelled_after_paying(a, &tx, refund);
    assert_icms_ok(icms_tick(f->db, NULL)); /* still in the chain: nothing happens */
    cJSON *v = NULL;
    char *out = NULL;
    assert_icms_ok(icms_payment_get(f->db, &f->host, fx_str(p, "id"), &out));
    v = fx_json(out);
    assert_string_equal(fx_str(v, "status"), "CONFIRMED");
    cJSON_Delete(v);
    memchain_drop(a->chain, tx);
    assert_icms_ok(icms_tick(f->db, NULL));
    assert_icms_ok(icms_payment_get(f->db, &f->host, fx_str(p, "id"), &out));
    v = fx_json(out);
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    assert_int_equal(fx_balance(f, "refunds_due", f->investor.id), 0);
    cJSON_Delete(p);
}

static void test_a_reorg_after_the_cancelled_refund_was_paid_books_a_loss(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    int tx;
    char refund[37];
    cJSON *p = cancelled_after_paying(a, &tx, refund);
    const char *txid = NULL;
    memchain_pay(a->chain, script(a, REFUND_ADDRESS), TARGET, &txid);
    memchain_mine(a->chain, 1);
    assert_icms_ok(icms_refund_record(f->db, &f->host, refund, txid, NULL));
    memchain_drop(a->chain, tx);
    cJSON *v = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(v, "status"), "REVERSED");
    cJSON_Delete(v);
    assert_int_equal(fx_balance(f, "losses", NULL), -TARGET);
    assert_int_equal(fx_balance(f, "chain", NULL), TARGET); /* out, with nothing in */
    assert_int_equal(fx_balance(f, "refunds_due", f->investor.id), 0);
    char filter[128], *out = NULL;
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"PAID\"}", a->project);
    assert_icms_ok(icms_refund_list(f->db, &f->host, filter, &out));
    cJSON_Delete(only_item(out, NULL));
    /* Verifying again is refused and changes nothing: the loss is booked once. */
    assert_int_equal(icms_payment_verify(f->db, &f->host, fx_str(p, "id"), NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(fx_balance(f, "losses", NULL), -TARGET);
    cJSON_Delete(p);
}

/* ---- list input ---- */

/*
 * Filters an attacker controls: limit 0, negative, beyond the maximum, not
 * an integer; `after` that is garbage, or an id of another kind or project;
 * unknown fields, deep or huge JSON. Bad values are refused with
 * ICMS_EINVALID; a foreign cursor gives an empty or shorter page, never
 * someone else's records.
 */
static void test_list_filters_from_an_attacker(void **state)
{
    atk *a = *state;
    fx *f = &a->f;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, 100000000, part);
    cJSON *p = initiate(a, &f->investor, part, "a", 0, address(a, REFUND_ADDRESS));
    static const char *const bad[] = {
        "{\"limit\":0}",      "{\"limit\":-1}",         "{\"limit\":101}",
        "{\"limit\":1e9}",    "{\"limit\":\"10\"}",     "{\"limit\":1.5}",
        "{\"limit\":9223372036854775807}",             "{\"after\":\"garbage\"}",
        "{\"after\":5}",      "{\"status\":\"STOLEN\"}", "{\"nope\":1}",
        "[]",                 "{\"project_id\":\"x\"}", "not json",
    };
    const icms_request *who[] = {&f->investor.req, &f->admin.req, &f->host};
    int (*lists[])(icms_db *, const icms_request *, const char *, char **) = {
        icms_payment_list, icms_refund_list, icms_payout_list, icms_participation_list};
    for (size_t l = 0; l < sizeof lists / sizeof lists[0]; l++)
        for (size_t w = 0; w < sizeof who / sizeof who[0]; w++)
            for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                char *out = NULL;
                int rc = lists[l](f->db, who[w], bad[i], &out);
                if (rc != ICMS_EINVALID)
                    fail_msg("list %zu, filter %s: %s", l, bad[i], icms_error_name(rc));
                assert_null(out);
            }
    /* Deeply nested and very long input. */
    char *deep = malloc(200000);
    size_t n = 0;
    n += (size_t)sprintf(deep, "{\"status\":");
    for (int i = 0; i < 10000; i++)
        deep[n++] = '[';
    deep[n] = '\0';
    char *out = NULL;
    assert_int_equal(icms_payment_list(f->db, &f->admin.req, deep, &out), ICMS_EINVALID);
    n = (size_t)sprintf(deep, "{\"status\":\"");
    memset(deep + n, 'A', 150000);
    n += 150000;
    strcpy(deep + n, "\"}");
    assert_int_equal(icms_payment_list(f->db, &f->admin.req, deep, &out), ICMS_EINVALID);
    free(deep);
    /* A cursor from another project or another kind: no one else's payment appears. */
    char other[37], other_part[37];
    small_project(a, other);
    fx_approved_profit(f, &f->investor2, other, 100000000, other_part);
    cJSON *q = initiate(a, &f->investor2, other_part, "b", 0, address(a, REFUND_ADDRESS2));
    char filter[200];
    snprintf(filter, sizeof filter, "{\"after\":\"%s\"}", other);
    assert_icms_ok(icms_payment_list(f->db, &f->investor.req, filter, &out));
    cJSON *page = fx_json(out);
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(page, "items"))
        assert_string_equal(fx_str(it, "investor_id"), f->investor.id);
    cJSON_Delete(page);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"after\":\"%s\"}", a->project,
             fx_str(q, "id"));
    assert_icms_ok(icms_payment_list(f->db, &f->admin.req, filter, &out));
    page = fx_json(out);
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(page, "items"))
        assert_string_equal(fx_str(it, "project_id"), a->project);
    cJSON_Delete(page);
    cJSON_Delete(p);
    cJSON_Delete(q);
}

/* ---- concurrency ---- */

struct verifier {
    icms_db *db;
    const icms_request *req;
    const char *payment;
    pthread_barrier_t *start;
    int rc;
};

static void *verifier_main(void *arg)
{
    struct verifier *v = arg;
    pthread_barrier_wait(v->start);
    char *out = NULL;
    v->rc = icms_payment_verify(v->db, v->req, v->payment, &out);
    icms_free(out);
    return NULL;
}

/*
 * Two threads verify the same payment at once, on one handle and on two
 * handles of one SQLite file: whichever wins, the payment is confirmed once,
 * the project funded once, and the loser either sees it confirmed or is told
 * the store was busy (never a second ledger entry).
 */
static void race_verify(atk *a, bool two_handles, int round)
{
    char key[32];
    snprintf(key, sizeof key, "race-%d", round);
    fx *f = &a->f;
    small_project(a, a->project);
    char part[37];
    fx_approved_profit(f, &f->investor, a->project, TARGET, part);
    cJSON *p = initiate(a, &f->investor, part, key, 0, address(a, REFUND_ADDRESS));
    const char *txid = pay(a, p, TARGET, 1);
    assert_icms_ok(icms_payment_submit(f->db, &f->investor.req, fx_str(p, "id"), txid, NULL));
    icms_db *second = f->db;
    if (two_handles) {
        icms_options options = ICMS_OPTIONS_INIT;
        options.path = f->path;
        options.sqlite_sync = ICMS_SQLITE_SYNC_OFF;
        assert_icms_ok(icms_clock_fake_new(icms_clock_now(f->clock), &options.clock));
        assert_icms_ok(icms_rpc_client_new(&options.gapcoin, memchain_transport(a->chain),
                                           "http://memchain.invalid/", NULL));
        assert_icms_ok(icms_open(&second, &options));
    }
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, 2);
    struct verifier v[2] = {{f->db, &f->host, fx_str(p, "id"), &start, 0},
                            {second, &f->host, fx_str(p, "id"), &start, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, verifier_main, &v[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    pthread_barrier_destroy(&start);
    if (two_handles)
        icms_close(second);
    for (int i = 0; i < 2; i++)
        if (v[i].rc != ICMS_OK && v[i].rc != ICMS_EBUSY && v[i].rc != ICMS_ECONFLICT)
            fail_msg("verifier %d: %s", i, icms_error_name(v[i].rc));
    assert_true(v[0].rc == ICMS_OK || v[1].rc == ICMS_OK);
    cJSON *done = verify(a, fx_str(p, "id"));
    assert_string_equal(fx_str(done, "status"), "CONFIRMED");
    assert_int_equal(fx_int(done, "credited"), TARGET);
    cJSON_Delete(done);
    assert_int_equal(project_int(a, a->project, "funded"), TARGET);
    char *out = NULL;
    assert_icms_ok(icms_refund_list(f->db, &f->host, due_filter(a, a->project), &out));
    assert_int_equal(count_items(out), 0);
    cJSON_Delete(p);
}

/* A few rounds, each on a project of its own: the interleavings differ from run to run. */
static void test_two_threads_verify_one_payment_on_one_handle(void **state)
{
    for (int round = 0; round < 3; round++)
        race_verify(*state, false, round);
}

static void test_two_handles_verify_one_payment(void **state)
{
    for (int round = 0; round < 3; round++)
        race_verify(*state, true, round);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_transaction_settles_a_refund_and_a_payout, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_a_refund_paid_into_a_payment_address_counts_once_each_way, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_refund_with_the_wrong_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_batch_naming_one_payment_twice, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_a_txid_taken_by_another_investor_is_freed_when_that_payment_fails, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_others_cannot_act_on_an_investors_payment, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_owners_and_investors_cannot_settle_or_distribute,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_another_owner_cannot_divert_or_run_a_project, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_initiate_amounts_that_are_not_amounts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_project_totals_that_overflow, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profit_of_int64_max_for_one_investor, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_profit_at_the_edge_for_two_investors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_one_key_two_actors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotency_key_edges, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expired_then_submitted_and_cancelled_while_submitted,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_reorg_at_each_stage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reorg_takes_back_the_refund_of_what_never_arrived,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reorg_after_the_refund_was_paid_leaves_it_paid,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_reorg_after_cancellation_voids_the_refund, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_a_reorg_after_the_cancelled_refund_was_paid_books_a_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(test_the_tick_rechecks_payments_behind_refunds_due, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_list_filters_from_an_attacker, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_threads_verify_one_payment_on_one_handle, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_two_handles_verify_one_payment, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
