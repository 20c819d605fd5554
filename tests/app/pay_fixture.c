/* The world of the payment tests: see pay_fixture.h. */
#include "pay_fixture.h"

#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "icms/sys/transport.h"
#include "support/fault_store.h"

static void owner_address(world *w)
{
    uint8_t h160[20];
    memset(h160, 0x55, sizeof h160);
    char *text = NULL;
    assert_icms_ok(icms_gapcoin_base58check_encode(38, h160, sizeof h160, &text));
    snprintf(w->owner_address, sizeof w->owner_address, "%s", text);
    icms_free(text);
    char *p = w->owner_script;
    p += sprintf(p, "76a914");
    for (int i = 0; i < 20; i++)
        p += sprintf(p, "%02x", h160[i]);
    sprintf(p, "88ac");
}

int pay_setup(void **state)
{
    return pay_setup_named(state, "payments");
}

int pay_setup_named(void **state, const char *prefix)
{
    static int n;
    world *w = calloc(1, sizeof *w);
    char name[64];
    snprintf(name, sizeof name, "%s_%d", prefix, n++);
    fx_open(&w->f, name);
    owner_address(w);
    *state = w;
    return 0;
}

int pay_teardown(void **state)
{
    world *w = *state;
    char *report = NULL;
    int rc = icms_check(w->f.db, &w->f.host, &report);
    if (rc != ICMS_OK)
        fail_msg("icms_check: %s\n%s", icms_error_last()->message, report ? report : "");
    icms_free(report);
    chain_stop(&w->c);
    fx_close(&w->f);
    free(w);
    return 0;
}

void publish_small_project(world *w)
{
    char json[512], *out = NULL;
    snprintf(json, sizeof json,
             "{\"title\":\"One crate\",\"expiry_date\":\"2026-02-01T00:00:00Z\","
             "\"shipping_costs\":{\"freight\":50000000},\"min_ticket\":1,"
             "%s%s%s"
             "\"products\":[{\"name\":\"Crate\",\"unit\":\"crate\",\"quantity\":1,"
             "\"unit_price\":100000000}]}",
             w->omit_payout_address ? "" : "\"payout_address\":\"",
             w->omit_payout_address ? "" : w->owner_address, w->omit_payout_address ? "" : "\",");
    assert_icms_ok(icms_project_create(w->f.db, &w->f.owner.req, json, &out));
    cJSON *p = fx_json(out);
    snprintf(w->project, sizeof w->project, "%s", fx_str(p, "id"));
    assert_int_equal(fx_int(p, "total_cost"), TARGET);
    if (!w->omit_payout_address)
        assert_string_equal(fx_str(p, "payout_address"), w->owner_address);
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(w->f.db, &w->f.owner.req, w->project, NULL));
}

void approved(world *w, fx_user *u, long long capital, char id[37])
{
    fx_approved_profit(&w->f, u, w->project, capital, id);
}

cJSON *initiate(world *w, fx_user *u, const char *participation, const char *key, long long amount)
{
    icms_request req = u->req;
    req.idempotency_key = key;
    char json[256], *out = NULL;
    if (amount)
        snprintf(json, sizeof json, "{\"amount\":%lld,\"refund_address\":\"%s\"}", amount,
                 w->c.refund_address);
    else
        snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", w->c.refund_address);
    assert_icms_ok(icms_payment_initiate(w->f.db, &req, participation, json, &out));
    return fx_json(out);
}

cJSON *verify(world *w, const char *payment)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_verify(w->f.db, &w->f.host, payment, &out));
    return fx_json(out);
}

const char *state_of(world *w, char buf[64])
{
    char *out = NULL;
    assert_icms_ok(icms_project_get(w->f.db, &w->f.admin.req, w->project, &out));
    cJSON *p = fx_json(out);
    snprintf(buf, 64, "%s", fx_str(p, "state"));
    cJSON_Delete(p);
    return buf;
}

long long funded(world *w)
{
    char *out = NULL;
    assert_icms_ok(icms_project_get(w->f.db, &w->f.admin.req, w->project, &out));
    cJSON *p = fx_json(out);
    long long v = fx_int(p, "funded");
    cJSON_Delete(p);
    return v;
}

int releases_listed(world *w, const icms_request *req, const char *filter)
{
    char *out = NULL;
    int rc = icms_release_list(w->f.db, req, filter, &out);
    if (rc) {
        assert_null(out);
        return rc;
    }
    cJSON *page = fx_json(out);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(page, "items"));
    cJSON_Delete(page);
    return n;
}

void reopen_with_faults(world *w)
{
    int64_t now = icms_clock_now(w->f.clock);
    icms_close(w->f.db);
    assert_icms_ok(icms_store_sqlite_new(&w->inner, w->f.path, NULL));
    assert_icms_ok(icms_test_fault_store_new(&w->fault, w->inner, true));
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = w->fault;
    options.retry_attempts = 1;
    assert_icms_ok(icms_clock_fake_new(now, &options.clock));
    w->f.clock = options.clock;
    icms_transport_curl_options topts = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    topts.username = FAKE_NODE_USER;
    topts.password = FAKE_NODE_PASSWORD;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &topts));
    assert_icms_ok(
        icms_rpc_client_new(&options.gapcoin, t, fake_node_url(&w->c.node, "/", 0), NULL));
    assert_icms_ok(icms_open(&w->f.db, &options));
}

void fail_everywhere(world *w, int (*call)(world *, void *), void *arg, unsigned long commits)
{
    uint64_t before, after;
    size_t kb, ka;
    long n;
    for (n = 1;; n++) {
        assert_icms_ok(icms_test_store_digest(w->inner, &before, &kb));
        icms_test_fault_store_reset(w->fault);
        icms_test_fault_store_fail(w->fault, ICMS_TEST_FAULT_COMMIT, commits, ICMS_ESTORAGE);
        icms__alloc_fail_after(n);
        int rc = call(w, arg);
        icms__alloc_fail_after(0);
        bool reached_commit = icms_test_fault_store_fired(w->fault);
        assert_int_not_equal(rc, ICMS_OK);
        assert_icms_ok(icms_test_store_digest(w->inner, &after, &ka));
        if (before != after)
            fail_msg("allocation %ld failing (%s) changed the store", n, icms_error_name(rc));
        if (reached_commit) { /* every allocation before the write's commit has failed once */
            if (rc != ICMS_ESTORAGE)
                fail_msg("allocation %ld failed (%s), yet the command went on to commit", n,
                         icms_error_name(rc));
            break;
        }
    }
    assert_true(n > 10);

    static const int codes[] = {ICMS_ESTORAGE, ICMS_ECONFLICT, ICMS_EBUSY, ICMS_ENOMEM};
    unsigned long nth;
    bool done = false;
    for (nth = 1; !done; nth++) {
        for (size_t c = 0; c < sizeof codes / sizeof codes[0]; c++) {
            assert_icms_ok(icms_test_store_digest(w->inner, &before, &kb));
            icms_test_fault_store_reset(w->fault);
            icms_test_fault_store_fail(w->fault, ICMS_TEST_FAULT_ANY, nth, codes[c]);
            int rc = call(w, arg);
            if (!icms_test_fault_store_fired(w->fault)) { /* past its last call: it ran through */
                assert_icms_ok(rc);
                done = true;
                break;
            }
            assert_int_equal(rc, codes[c]);
            assert_icms_ok(icms_test_store_digest(w->inner, &after, &ka));
            if (before != after)
                fail_msg("store call %lu failing with %s changed the store", nth,
                         icms_error_name(codes[c]));
        }
    }
    /* The run that succeeded used every kind of call the loop failed. */
    assert_int_equal(icms_test_fault_store_calls(w->fault, ICMS_TEST_FAULT_COMMIT), commits);
    assert_true(icms_test_fault_store_calls(w->fault, ICMS_TEST_FAULT_GET) > 0);
    assert_true(icms_test_fault_store_calls(w->fault, ICMS_TEST_FAULT_PUT) > 0);
    assert_true(icms_test_fault_store_calls(w->fault, ICMS_TEST_FAULT_SCAN) > 0);
    assert_true(nth > 10);
    icms_test_fault_store_reset(w->fault); /* disarmed for the teardown's check */
}

cJSON *one_initiated(world *w, const char *mempool, const char *test_name, const char *key)
{
    chain_start(&w->c, mempool, test_name);
    chain_attach(&w->f, &w->c, 0);
    publish_small_project(w);
    char part[37];
    approved(w, &w->f.investor, TARGET, part);
    return initiate(w, &w->f.investor, part, key, 0);
}

cJSON *one_submitted(world *w, const char *test_name, long long amount)
{
    chain_begin(&w->c, 1);
    char pay[512];
    snprintf(pay, sizeof pay, "[%s]", chain_tx(&w->c, "pay", w->c.scripts[0], amount));
    chain_step_blocks(&w->c, pay, 6, "[]");
    cJSON *payment = one_initiated(w, pay, test_name, "k");
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(payment, "id"),
                                       fake_node_txid(&w->c.node, "pay"), NULL));
    chain_next(&w->c);
    return payment;
}

void two_approved(world *w, cJSON **pa, cJSON **pb)
{
    publish_small_project(w);
    char a[37], b[37];
    approved(w, &w->f.investor, 100000000, a);
    approved(w, &w->f.investor2, 50000000, b);
    *pa = initiate(w, &w->f.investor, a, "k-a", 0);
    *pb = initiate(w, &w->f.investor2, b, "k-b", 0);
}

void paid_by_two(world *w, const char *test_name, void (*more_steps)(world *w), cJSON **pa,
                 cJSON **pb)
{
    chain_begin(&w->c, 1);
    char mempool[2048];
    snprintf(mempool, sizeof mempool, "[%s,%s]", chain_tx(&w->c, "a", w->c.scripts[0], 100000000),
             chain_tx(&w->c, "b", w->c.scripts[1], 50000000));
    chain_step_blocks(&w->c, mempool, 6, "[]");
    if (more_steps)
        more_steps(w);
    chain_start(&w->c, mempool, test_name);
    chain_attach(&w->f, &w->c, 0);
    two_approved(w, pa, pb);
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor.req, fx_str(*pa, "id"),
                                       fake_node_txid(&w->c.node, "a"), NULL));
    assert_icms_ok(icms_payment_submit(w->f.db, &w->f.investor2.req, fx_str(*pb, "id"),
                                       fake_node_txid(&w->c.node, "b"), NULL));
    chain_next(&w->c);
}

void funded_by_two(world *w, const char *test_name, void (*more_steps)(world *w))
{
    cJSON *pa, *pb;
    paid_by_two(w, test_name, more_steps, &pa, &pb);
    cJSON_Delete(verify(w, fx_str(pa, "id")));
    cJSON_Delete(verify(w, fx_str(pb, "id")));
    cJSON_Delete(pa);
    cJSON_Delete(pb);
    char buf[64];
    assert_string_equal(state_of(w, buf), "PENDING_ADMIN_APPROVAL");
}

void ship_and_complete(world *w)
{
    assert_icms_ok(icms_project_ship(w->f.db, &w->f.admin.req, w->project,
                                     "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                     "\"bill_of_lading\":\"B\",\"port_of_loading\":\"P\","
                                     "\"port_of_discharge\":\"H\","
                                     "\"eta\":\"2026-03-01T00:00:00Z\"}",
                                     NULL));
    assert_icms_ok(icms_project_complete(w->f.db, &w->f.admin.req, w->project, NULL));
}
