/* Counting reads as the database grows: see scale_fixture.h. */
#include "scale_fixture.h"

#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"
#include "support/fault_store.h"

icms_store *scale_reopen(fx *f, memchain *chain)
{
    int64_t now = icms_clock_now(f->clock);
    icms_close(f->db);
    icms_store *inner, *counting;
    assert_icms_ok(icms_store_sqlite_new(&inner, f->path, NULL));
    assert_icms_ok(icms_test_fault_store_new(&counting, inner, true));
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = counting;
    assert_icms_ok(icms_clock_fake_new(now, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_rpc_client_new(&options.gapcoin, memchain_transport(chain),
                                       "http://memchain.invalid/", NULL));
    assert_icms_ok(icms_open(&f->db, &options));
    return counting;
}

unsigned long scale_reads(icms_store *counting)
{
    unsigned long n = icms_test_fault_store_reads(counting);
    icms_test_fault_store_reset(counting);
    return n;
}

unsigned long scale_write_txns(icms_store *counting)
{
    unsigned long n = icms_test_fault_store_write_begins(counting);
    icms_test_fault_store_reset(counting);
    return n;
}

void scale_project(fx *f, long long units, const char *payout, char id[37])
{
    char json[768], *out = NULL;
    snprintf(json, sizeof json,
             "{\"title\":\"Scale\",\"expiry_date\":\"2026-06-01T00:00:00Z\",\"min_ticket\":1,"
             "%s%s%s\"products\":[{\"name\":\"Unit\",\"unit\":\"u\",\"quantity\":%lld,"
             "\"unit_price\":%lld}]}",
             payout ? "\"payout_address\":\"" : "", payout ? payout : "", payout ? "\"," : "",
             units, SCALE_UNIT);
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, json, &out));
    cJSON *p = fx_json(out);
    snprintf(id, 37, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, id, NULL));
}

void scale_initiate(fx *f, memchain *chain, fx_user *u, const char *part, char payment[37])
{
    static int keys;
    char key[32], json[256], *out = NULL;
    snprintf(key, sizeof key, "scale-%d", keys++);
    icms_request req = u->req;
    req.idempotency_key = key;
    snprintf(json, sizeof json, "{\"refund_address\":\"%s\"}", memchain_address(chain, 0, NULL));
    assert_icms_ok(icms_payment_initiate(f->db, &req, part, json, &out));
    cJSON *p = fx_json(out);
    snprintf(payment, 37, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
}

void scale_pay(fx *f, memchain *chain, fx_user *u, const char *payment)
{
    char *out = NULL;
    assert_icms_ok(icms_payment_get(f->db, &f->host, payment, &out));
    cJSON *p = fx_json(out);
    const char *txid = NULL;
    memchain_pay(chain, fx_str(p, "script"), fx_int(p, "amount"), &txid);
    cJSON_Delete(p);
    memchain_mine(chain, 6);
    assert_icms_ok(icms_payment_submit(f->db, &u->req, payment, txid, NULL));
    assert_icms_ok(icms_payment_verify(f->db, &f->host, payment, &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "status"), "CONFIRMED");
    cJSON_Delete(p);
}

void scale_investor(fx *f, fx_user *u)
{
    fx_add_user(f, u, ICMS_ROLE_INVESTOR, "VERIFIED");
}
