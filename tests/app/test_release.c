/*
 * Releasing a project's escrow to its owner, against the fake gapcoind over
 * the real libcurl transport: approval moves the escrow to what is owed the
 * owner (a release DUE), the host's wallet pays, icms_release_record settles
 * once; wrong, short and shallow transactions are refused and change nothing;
 * only the host and admins record; the owner's payout address is checked and
 * required; an approved project cancelled before the owner is paid is
 * refunded, after it cannot be cancelled; a re-org after approval reverses
 * nothing; approval, settlement and that cancellation fail cleanly at every
 * allocation and store call. icms_check runs after every scenario.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "app/ledger.h"
#include "app/project_doc.h"
#include "app/release.h"
#include "audit/audit.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/events.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "pay_fixture.h"
#include "support/fault_store.h"

/* ---- reading what the store holds ---- */

/* The cached balance of kind:id (the ledger's accounts: docs/payments.md). */
static long long balance(world *w, const char *kind, const char *id)
{
    return fx_balance(&w->f, kind, id);
}

static cJSON *release_of(world *w, const char *id)
{
    char *out = NULL;
    assert_icms_ok(icms_release_get(w->f.db, &w->f.admin.req, id, &out));
    return fx_json(out);
}

/* Approve as an admin; the release's id into release_id. */
static void approve(world *w, char release_id[37])
{
    char *out = NULL;
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "state"), "APPROVED");
    snprintf(release_id, 37, "%s", fx_str(p, "release_id"));
    cJSON_Delete(p);
}

/* How many audit entries record action on subject. */
struct audit_count {
    const char *action, *subject;
    int n;
};

static int on_audit(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                    void *payload)
{
    (void)key;
    (void)key_len;
    struct audit_count *a = payload;
    cJSON *entry = cJSON_ParseWithLength((const char *)value, len);
    const cJSON *action = cJSON_GetObjectItem(entry, "action");
    const cJSON *subject = cJSON_GetObjectItem(entry, "subject");
    if (cJSON_IsString(action) && cJSON_IsString(subject) &&
        strcmp(action->valuestring, a->action) == 0 &&
        strcmp(subject->valuestring, a->subject) == 0)
        a->n++;
    cJSON_Delete(entry);
    return 0;
}

static int scan_audit(icms__tx *tx, void *arg)
{
    icms__key prefix;
    icms__audit_prefix(&prefix);
    return icms__tx_scan_prefix(tx, &prefix, 0, on_audit, arg);
}

static int audits_of(world *w, const char *action, const char *subject)
{
    struct audit_count a = {action, subject, 0};
    assert_icms_ok(icms__db_read(w->f.db, scan_audit, &a));
    return a.n;
}

/* How many events of type about subject the outbox holds. */
static int events_of(world *w, const char *type, const char *subject)
{
    char *out = NULL;
    assert_icms_ok(icms_events_read(w->f.db, &w->f.admin.req, "release-test", 0, 1000, &out));
    cJSON *page = fx_json(out), *event;
    int n = 0;
    cJSON_ArrayForEach(event, cJSON_GetObjectItem(page, "events"))
    {
        if (strcmp(fx_str(event, "type"), type) == 0 &&
            strcmp(fx_str(event, "subject"), subject) == 0)
            n++;
    }
    cJSON_Delete(page);
    return n;
}

/* How many releases req lists with filter (NULL: none), or the error code. */
static int listed(world *w, const icms_request *req, const char *filter)
{
    return releases_listed(w, req, filter);
}

static int setup(void **state)
{
    return pay_setup_named(state, "release");
}

/* ---- the scenario's later steps ---- */

/* One block step (6 deep) with the wallet's transactions to the owner and elsewhere. */
static void owner_paid_step(world *w)
{
    char txs[2048];
    snprintf(txs, sizeof txs, "[%s,%s,%s]", chain_tx(&w->c, "release", w->owner_script, TARGET),
             chain_tx(&w->c, "short", w->owner_script, TARGET - 1),
             chain_tx(&w->c, "elsewhere", w->c.refund_script, TARGET));
    chain_step_blocks(&w->c, txs, 6, "[]");
}

/* The happy path, and every refusal on the way. */
static void test_approval_releases_escrow_and_settles_once(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_happy", owner_paid_step);
    assert_int_equal(balance(w, "escrow", w->project), TARGET);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), 0);

    /* Only an admin approves. */
    uint64_t before = fx_digest(&w->f);
    assert_int_equal(icms_project_approve(w->f.db, &w->f.owner.req, w->project, NULL),
                     ICMS_EFORBIDDEN);
    assert_true(fx_digest(&w->f) == before);

    char release_id[37];
    approve(w, release_id);
    /* In the approving transaction: the whole escrow is owed to the owner. */
    assert_int_equal(balance(w, "escrow", w->project), 0);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), TARGET);
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "status"), "DUE");
    assert_int_equal(fx_int(r, "amount"), TARGET);
    assert_string_equal(fx_str(r, "address"), w->owner_address);
    assert_string_equal(fx_str(r, "project_id"), w->project);
    assert_string_equal(fx_str(r, "owner_id"), w->f.owner.id);
    assert_int_equal(fx_int(r, "required_confirmations"), 6);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(r, "txid")));
    cJSON_Delete(r);
    assert_int_equal(events_of(w, "release.due", release_id), 1);
    assert_int_equal(events_of(w, "project.approved", w->project), 1);
    assert_int_equal(audits_of(w, "release.create", release_id), 1);
    assert_int_equal(audits_of(w, "project.approve", w->project), 1);

    /* The host's wallet finds what is due; the owner their own; an investor nothing. */
    assert_int_equal(listed(w, &w->f.host, "{\"status\":\"DUE\"}"), 1);
    assert_int_equal(listed(w, &w->f.owner.req, NULL), 1);
    assert_int_equal(listed(w, &w->f.investor.req, NULL), 0);
    char filter[128];
    snprintf(filter, sizeof filter, "{\"owner_id\":\"%s\"}", w->f.owner.id);
    assert_int_equal(listed(w, &w->f.investor.req, filter), ICMS_EFORBIDDEN);
    assert_int_equal(listed(w, &w->f.admin.req, filter), 1);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\",\"status\":\"PAID\"}", w->project);
    assert_int_equal(listed(w, &w->f.admin.req, filter), 0);
    assert_int_equal(listed(w, &w->f.admin.req, NULL), ICMS_EINVALID);
    assert_int_equal(listed(w, &w->f.admin.req, "{\"status\":\"LOST\"}"), ICMS_EINVALID);
    assert_int_equal(listed(w, &w->f.anonymous, "{\"status\":\"DUE\"}"), ICMS_EFORBIDDEN);

    /* The owner reads their release; an investor may not. */
    char *out = NULL;
    assert_icms_ok(icms_release_get(w->f.db, &w->f.owner.req, release_id, &out));
    icms_free(out);
    assert_int_equal(icms_release_get(w->f.db, &w->f.investor.req, release_id, &out),
                     ICMS_EFORBIDDEN);
    assert_null(out);

    const char *paid = fake_node_txid(&w->c.node, "release");
    before = fx_digest(&w->f);
    /* Not mined yet: refused, nothing settled. */
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id, paid, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "0 of 6 confirmations"));
    chain_next(&w->c);
    /* Only the host and admins record; the owner and investors may not. */
    assert_int_equal(icms_release_record(w->f.db, &w->f.owner.req, release_id, paid, NULL),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_release_record(w->f.db, &w->f.investor.req, release_id, paid, NULL),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_release_record(w->f.db, &w->f.anonymous, release_id, paid, NULL),
                     ICMS_EFORBIDDEN);
    /* A transaction paying the owner one base unit short. */
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id,
                                         fake_node_txid(&w->c.node, "short"), NULL),
                     ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "pays the release address 149999999, "
                                                       "not the 150000000 due"));
    /* A transaction paying someone else. */
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id,
                                         fake_node_txid(&w->c.node, "elsewhere"), NULL),
                     ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "pays the release address 0"));
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id, "beef", NULL),
                     ICMS_EINVALID);
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req,
                                         "0190e4a4-0000-7000-8000-000000000000", paid, NULL),
                     ICMS_ENOTFOUND);
    assert_true(fx_digest(&w->f) == before);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), TARGET);

    /* The right one, at depth: PAID, the amount leaves for the chain. */
    assert_icms_ok(icms_release_record(w->f.db, &w->f.host, release_id, paid, &out));
    r = fx_json(out);
    assert_string_equal(fx_str(r, "status"), "PAID");
    assert_string_equal(fx_str(r, "txid"), paid);
    cJSON_Delete(r);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), 0);
    assert_int_equal(balance(w, "escrow", w->project), 0);
    assert_int_equal(events_of(w, "release.paid", release_id), 1);
    assert_int_equal(audits_of(w, "release.record", release_id), 1);
    assert_int_equal(listed(w, &w->f.host, "{\"status\":\"DUE\"}"), 0);
    assert_int_equal(listed(w, &w->f.admin.req, filter), 1); /* the project's, PAID */

    /* Never twice, with the same transaction or another. */
    before = fx_digest(&w->f);
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id, paid, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "PAID, not DUE"));
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id,
                                         fake_node_txid(&w->c.node, "short"), NULL),
                     ICMS_EINVALID_TRANSITION);
    /* The owner holds the money now: the project can no longer be cancelled. */
    assert_int_equal(icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "too late", NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "no longer be cancelled"));
    assert_true(fx_digest(&w->f) == before);

    /* The project goes on to its distribution as before. */
    ship_and_complete(w);
    assert_icms_ok(
        icms_project_distribute(w->f.db, &w->f.admin.req, w->project, "{\"profit\":10}", NULL));
}

/* Where the owner is paid: given, checked, required, and fixed once approved. */
static void test_payout_address_is_checked_and_required(void **state)
{
    world *w = *state;
    char *out = NULL;
    /* Creating or editing a draft with an address of no network, or of another, is refused. */
    const char *bad[] = {"not-an-address", "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"};
    for (size_t i = 0; i < 2; i++) {
        char json[512];
        snprintf(json, sizeof json,
                 "{\"title\":\"T\",\"expiry_date\":\"2026-02-01T00:00:00Z\","
                 "\"payout_address\":\"%s\"}",
                 bad[i]);
        assert_int_equal(icms_project_create(w->f.db, &w->f.owner.req, json, &out), ICMS_EINVALID);
        assert_non_null(strstr(icms_error_last()->message, "payout_address"));
    }
    w->omit_payout_address = true;
    funded_by_two(w, "release_address", NULL);

    /* No address: approval is refused, and nothing changes. */
    uint64_t before = fx_digest(&w->f);
    assert_int_equal(icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "no payout address"));
    assert_true(fx_digest(&w->f) == before);

    /* Only the owner (or the host) gives it, and it must be an address of this network. */
    assert_int_equal(icms_project_set_payout_address(w->f.db, &w->f.investor.req, w->project,
                                                     w->owner_address, NULL),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_set_payout_address(w->f.db, &w->f.admin.req, w->project,
                                                     w->owner_address, NULL),
                     ICMS_EFORBIDDEN);
    for (size_t i = 0; i < 2; i++)
        assert_int_equal(
            icms_project_set_payout_address(w->f.db, &w->f.owner.req, w->project, bad[i], NULL),
            ICMS_EINVALID);
    assert_int_equal(
        icms_project_set_payout_address(w->f.db, &w->f.owner.req, w->project, "", NULL),
        ICMS_EINVALID);
    assert_true(fx_digest(&w->f) == before);
    assert_icms_ok(icms_project_set_payout_address(w->f.db, &w->f.owner.req, w->project,
                                                   w->owner_address, &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "payout_address"), w->owner_address);
    cJSON_Delete(p);

    char release_id[37];
    approve(w, release_id);
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "address"), w->owner_address);
    cJSON_Delete(r);
    /* From approval on, the release holds the address. */
    assert_int_equal(icms_project_set_payout_address(w->f.db, &w->f.owner.req, w->project,
                                                     w->c.refund_address, NULL),
                     ICMS_EINVALID_TRANSITION);
}

/* An admin cancels an approved project before the owner was paid: all of it is refunded. */
static void test_cancel_before_paying_the_owner_refunds_all(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_cancel", owner_paid_step);
    char release_id[37];
    approve(w, release_id);
    /* The owner may not cancel an approved project. */
    assert_int_equal(icms_project_cancel(w->f.db, &w->f.owner.req, w->project, "no", NULL),
                     ICMS_EFORBIDDEN);
    assert_icms_ok(
        icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "supplier failed", NULL));
    char buf[64];
    assert_string_equal(state_of(w, buf), "CANCELLED");
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "status"), "VOIDED");
    cJSON_Delete(r);
    assert_int_equal(events_of(w, "release.voided", release_id), 1);
    assert_int_equal(audits_of(w, "release.void", release_id), 1);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), 0);
    assert_int_equal(balance(w, "escrow", w->project), 0);
    assert_int_equal(balance(w, "refunds_due", w->f.investor.id), 100000000);
    assert_int_equal(balance(w, "refunds_due", w->f.investor2.id), 50000000);
    /* A voided release is not paid. */
    chain_next(&w->c);
    assert_int_equal(icms_release_record(w->f.db, &w->f.admin.req, release_id,
                                         fake_node_txid(&w->c.node, "release"), NULL),
                     ICMS_EINVALID_TRANSITION);
}

/* A re-org after approval: the payment stays confirmed, the release stays due. */
static void reorg_step(world *w)
{
    chain_step_reorg(&w->c, 7, 8, "[]"); /* a longer chain without a and b */
}

static void test_reorg_after_approval_reverses_nothing(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_reorg", reorg_step);
    char release_id[37];
    approve(w, release_id);
    chain_next(&w->c);
    char *out = NULL;
    assert_icms_ok(icms_tick(w->f.db, &out));
    icms_free(out);
    char filter[128];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", w->project);
    assert_icms_ok(icms_payment_list(w->f.db, &w->f.admin.req, filter, &out));
    cJSON *page = fx_json(out), *payment;
    int confirmed = 0;
    cJSON_ArrayForEach(payment, cJSON_GetObjectItem(page, "items"))
    {
        cJSON *p = verify(w, fx_str(payment, "id"));
        confirmed += strcmp(fx_str(p, "status"), "CONFIRMED") == 0;
        cJSON_Delete(p);
    }
    cJSON_Delete(page);
    assert_int_equal(confirmed, 2);
    assert_int_equal(funded(w), TARGET);
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), TARGET);
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "status"), "DUE");
    cJSON_Delete(r);
}

/* ---- icms_check sees a release that does not add up ---- */

struct tamper {
    const char *release_id;
    const char *field;
    const char *text; /* the new value: a string, or NULL to add delta to an integer */
    int64_t delta;
};

static int tamper_release(icms__tx *tx, void *arg)
{
    struct tamper *t = arg;
    uint8_t id[16];
    cJSON *r = NULL;
    int rc = icms__uuid_parse(t->release_id, strlen(t->release_id), id);
    if (rc == ICMS_OK)
        rc = icms__record_get(tx, &icms__release_record, id, &r);
    int64_t v = 0;
    if (rc == ICMS_OK && t->text)
        rc = icms__doc_set_string(r, t->field, t->text);
    else if (rc == ICMS_OK && icms__json_int64(icms__json_get(r, t->field), &v))
        rc = icms__doc_set_int(r, t->field, v + t->delta);
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &icms__release_record, id, r);
    cJSON_Delete(r);
    return rc;
}

/* icms_check's answer: ICMS_ECORRUPT with a violation containing want, or ICMS_OK for NULL. */
static void check_says(world *w, const char *want)
{
    char *out = NULL;
    int rc = icms_check(w->f.db, &w->f.host, &out);
    cJSON *report = fx_json(out);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(report, "violations"));
    if (want) {
        assert_int_equal(rc, ICMS_ECORRUPT);
        if (!strstr(text, want))
            fail_msg("icms_check did not report \"%s\": %s", want, text);
    } else {
        assert_icms_ok(rc);
    }
    assert_int_equal(fx_int(report, "releases"), 1);
    cJSON_free(text);
    cJSON_Delete(report);
}

static void test_check_sees_a_release_that_does_not_add_up(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_check", NULL);
    char release_id[37];
    approve(w, release_id);
    check_says(w, NULL);
    /* One base unit more than the project escrowed, and than the owner's account holds. */
    struct tamper t = {release_id, "amount", NULL, 1};
    assert_icms_ok(icms__db_write(w->f.db, tamper_release, &t));
    check_says(w, "more than the 150000000 escrowed");
    check_says(w, "owner_due:");
    t.delta = -1;
    assert_icms_ok(icms__db_write(w->f.db, tamper_release, &t));
    check_says(w, NULL);
    /* Marked PAID without the ledger entry that pays it. */
    struct tamper paid = {release_id, "status", "PAID", 0};
    assert_icms_ok(icms__db_write(w->f.db, tamper_release, &paid));
    check_says(w, "what is due sums to 0 but the account holds 150000000");
    /* Voided without the money going back: an approved project must have released it all. */
    paid.text = "VOIDED";
    assert_icms_ok(icms__db_write(w->f.db, tamper_release, &paid));
    check_says(w, "APPROVED with 0 of its 150000000 escrowed released");
    paid.text = "DUE";
    assert_icms_ok(icms__db_write(w->f.db, tamper_release, &paid));
    check_says(w, NULL);
}

/* ---- failing at every allocation and store call ---- */

static int approve_call(world *w, void *arg)
{
    (void)arg;
    return icms_project_approve(w->f.db, &w->f.admin.req, w->project, NULL);
}

static void test_approval_fails_cleanly_everywhere(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_approve_faults", NULL);
    reopen_with_faults(w);
    fail_everywhere(w, approve_call, NULL, 1);
    char buf[64];
    assert_string_equal(state_of(w, buf), "APPROVED");
    assert_int_equal(balance(w, "owner_due", w->f.owner.id), TARGET);
}

static int record_call(world *w, void *arg)
{
    const char *const *ids = arg; /* release id, txid */
    return icms_release_record(w->f.db, &w->f.admin.req, ids[0], ids[1], NULL);
}

static void test_release_settlement_fails_cleanly_everywhere(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_record_faults", owner_paid_step);
    char release_id[37];
    approve(w, release_id);
    chain_next(&w->c);
    reopen_with_faults(w);
    const char *args[2] = {release_id, fake_node_txid(&w->c.node, "release")};
    fail_everywhere(w, record_call, args, 2); /* a read, then the write */
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "status"), "PAID");
    cJSON_Delete(r);
    assert_int_equal(record_call(w, args), ICMS_EINVALID_TRANSITION);
}

static int cancel_call(world *w, void *arg)
{
    (void)arg;
    return icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "closed", NULL);
}

static void test_cancel_voiding_the_release_fails_cleanly_everywhere(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_cancel_faults", NULL);
    char release_id[37];
    approve(w, release_id);
    reopen_with_faults(w);
    fail_everywhere(w, cancel_call, NULL, 1);
    cJSON *r = release_of(w, release_id);
    assert_string_equal(fx_str(r, "status"), "VOIDED");
    cJSON_Delete(r);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_approval_releases_escrow_and_settles_once),
        T(test_payout_address_is_checked_and_required),
        T(test_cancel_before_paying_the_owner_refunds_all),
        T(test_reorg_after_approval_reverses_nothing),
        T(test_check_sees_a_release_that_does_not_add_up),
        T(test_approval_fails_cleanly_everywhere),
        T(test_release_settlement_fails_cleanly_everywhere),
        T(test_cancel_voiding_the_release_fails_cleanly_everywhere),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
