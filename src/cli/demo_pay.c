/*
 * The demo's payment chapter: investors pay in (simulated) Gapcoin, the
 * library verifies each transaction at depth, a reused txid and an
 * overpayment meet the rules, and the funded project goes through the
 * admin's approval (its escrow released to the owner), shipping and
 * completion.
 */
#include "demo.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/rpc.h"

typedef struct payment {
    char id[40];
    char address[128];
    int64_t amount;
    char txid[65];
} payment;

/* The investor starts a payment of what they owe; the node hands out the address. */
static void initiate(demo *d, demo_user *u, const char *participation, const char *key, payment *p)
{
    char *refund = NULL, doc[256], *out = NULL;
    char label[64];
    snprintf(label, sizeof label, "icms-demo-refunds-%s", u->label);
    int rc = sim_wallet_address(d->chain, label, &refund);
    if (rc == ICMS_OK) {
        snprintf(doc, sizeof doc, "{\"refund_address\":\"%s\"}", refund);
        icms_request req = u->req;
        req.idempotency_key = key; /* required: a retried click must not open a second payment */
        rc = icms_payment_initiate(d->db, &req, participation, doc, &out);
    }
    icms_free(refund);
    jval *v = demo_step(d, u, "initiate payment of the commitment", ICMS_OK, rc, out, NULL);
    demo_copy(v, "id", p->id, sizeof p->id);
    demo_copy(v, "address", p->address, sizeof p->address);
    ji64(v, "amount", &p->amount);
    jread_free(v);
}

/* Broadcast a transaction paying amount to the payment's address. */
static void broadcast(demo *d, demo_user *u, payment *p, int64_t amount)
{
    char gap[32], detail[256];
    int rc = p->address[0] ? sim_pay(d->chain, p->address, amount, p->txid) : ICMS_EINVALID;
    demo_gap(amount, gap, sizeof gap);
    snprintf(detail, sizeof detail, "%s GAP to %s in tx %.16s...", gap, p->address, p->txid);
    jread_free(demo_step(d, u, "wallet broadcasts the transaction", ICMS_OK, rc, NULL, detail));
}

static void submit(demo *d, demo_user *u, const payment *p, const char *txid, int expected,
                   const char *action)
{
    char *out = NULL;
    int rc = icms_payment_submit(d->db, &u->req, p->id, txid, &out);
    jread_free(demo_step(d, u, action, expected, rc, out, NULL));
}

static void mine(demo *d, unsigned n)
{
    char detail[96];
    int rc = sim_mine(d->chain, n);
    icms_clock_fake_advance(d->clock, (int64_t)n * ICMS_GAPCOIN_TARGET_SPACING * 1000);
    snprintf(detail, sizeof detail, "chain height %" PRId64, sim_height(d->chain));
    char action[64];
    snprintf(action, sizeof action, "mine %u block%s", n, n == 1 ? "" : "s");
    demo_user node = {.label = "node"};
    jread_free(demo_step(d, &node, action, ICMS_OK, rc, NULL, detail));
}

/* The host's watcher asks the library to verify; the answer's figures go on the line. */
static jval *verify(demo *d, const payment *p, const char *expect_status)
{
    char *out = NULL, detail[256] = "";
    int rc = icms_payment_verify(d->db, &d->host.req, p->id, &out);
    jval *answer = rc == ICMS_OK && out ? jread_parse(out, strlen(out)) : NULL;
    int64_t conf = 0, received = 0, credited = 0, refund = 0;
    ji64(answer, "confirmations", &conf);
    ji64(answer, "received", &received);
    ji64(answer, "credited", &credited);
    ji64(answer, "refund_due", &refund);
    const char *status = jstr(answer, "status");
    char r[32], c[32], f[32];
    demo_gap(received, r, sizeof r);
    demo_gap(credited, c, sizeof c);
    demo_gap(refund, f, sizeof f);
    if (status && strcmp(status, "SUBMITTED") == 0)
        snprintf(detail, sizeof detail, "%" PRId64 "/%u confirmations: waiting", conf,
                 d->confirmations);
    else if (answer)
        snprintf(detail, sizeof detail,
                 "%" PRId64 " confirmations; received %s, credited %s, refund due %s GAP", conf, r,
                 c, f);
    bool wrong = answer && expect_status && (!status || strcmp(status, expect_status) != 0);
    jread_free(answer);
    jval *v = demo_step(d, &d->host, "verify payment against the node", ICMS_OK, rc, out,
                        detail[0] ? detail : NULL);
    if (wrong) {
        d->unexpected++;
        if (!d->json)
            printf("     %-10s UNEXPECTED: expected status %s\n", "", expect_status);
    }
    return v;
}

/*
 * The same payment seen by a second process that verifies in SPV mode: it
 * checks the block's proof of work itself, and the simulated node's headers
 * have none (prime gaps take a miner). The library refuses, and the payment
 * stays as it was.
 */
static void spv_check(demo *d, const payment *p)
{
    icms_options o = ICMS_OPTIONS_INIT;
    o.path = d->path;
    o.gapcoin_spv = 1;
    icms_transport *transport = NULL;
    icms_db *spv = NULL;
    int rc = sim_transport(d->chain, &transport);
    if (rc == ICMS_OK)
        rc = icms_rpc_client_new(&o.gapcoin, transport, "http://simulated-gapcoind.invalid:8332/",
                                 NULL);
    if (rc == ICMS_OK)
        rc = icms_open(&spv, &o);
    char *out = NULL;
    if (rc == ICMS_OK)
        rc = icms_payment_verify(spv, &d->host.req, p->id, &out);
    icms_close(spv);
    jread_free(demo_step(d, &d->host, "re-verify in SPV mode (a second process)", ICMS_ECORRUPT, rc,
                         out, "simulated headers carry no prime-gap proof of work"));
}

/*
 * The owner says where the released funds go; the admin's approval makes the
 * whole escrow due to the owner; the host's wallet pays and the library
 * settles the release once the transaction is deep enough.
 */
static void approve_and_release(demo *d)
{
    char *address = NULL, *out = NULL;
    int rc = sim_wallet_address(d->chain, "icms-demo-owner-payouts", &address);
    if (rc == ICMS_OK)
        rc = icms_project_set_payout_address(d->db, &d->owner.req, d->project_id, address, &out);
    jread_free(demo_step(d, &d->owner, "give the payout address for the release", ICMS_OK, rc, out,
                         NULL));
    rc = icms_project_approve(d->db, &d->admin.req, d->project_id, &out);
    jval *v = demo_step(d, &d->admin, "approve the funded project", ICMS_OK, rc, out,
                        "the escrow becomes due to the owner");
    char release_id[40];
    demo_copy(v, "release_id", release_id, sizeof release_id);
    jread_free(v);
    payment release;
    memset(&release, 0, sizeof release);
    snprintf(release.address, sizeof release.address, "%s", address ? address : "");
    icms_free(address);
    rc = icms_release_get(d->db, &d->admin.req, release_id, &out);
    v = rc == ICMS_OK && out ? jread_parse(out, strlen(out)) : NULL;
    ji64(v, "amount", &release.amount);
    jread_free(v);
    icms_free(out);
    demo_user wallet = {.label = "host", .req = d->host.req};
    broadcast(d, &wallet, &release, release.amount);
    mine(d, d->confirmations);
    rc = icms_release_record(d->db, &d->host.req, release_id, release.txid, &out);
    jread_free(demo_step(d, &d->host, "record the release to the owner", ICMS_OK, rc, out, NULL));
}

static void finish_project(demo *d)
{
    char *out = NULL;
    approve_and_release(d);
    int rc;
    rc = icms_project_ship(d->db, &d->admin.req, d->project_id,
                           "{\"container_number\":\"MSCU1234566\",\"vessel\":\"MSC Aurora\","
                           "\"bill_of_lading\":\"BL-2026-0042\",\"port_of_loading\":\"Heraklion\","
                           "\"port_of_discharge\":\"Hamburg\",\"eta\":\"2027-01-15T00:00:00Z\"}",
                           &out);
    jread_free(demo_step(d, &d->admin, "ship: container MSCU1234566 on MSC Aurora", ICMS_OK, rc,
                         out, NULL));
    rc = icms_project_cancel(d->db, &d->owner.req, d->project_id, "changed my mind", &out);
    jread_free(demo_step(d, &d->owner, "cancel a project in transit", ICMS_EINVALID_TRANSITION, rc,
                         out, NULL));
    rc = icms_project_complete(d->db, &d->admin.req, d->project_id, &out);
    jread_free(demo_step(d, &d->admin, "complete: the container arrived", ICMS_OK, rc, out, NULL));

    /* The owner declares the profit; the library splits it among the PROFIT investors. */
    int64_t profit = 400 * (int64_t)ICMS_BASE_UNITS_PER_GAP;
    char doc[64], detail[192], filter[96], gap[32];
    snprintf(doc, sizeof doc, "{\"profit\":%" PRId64 "}", profit);
    demo_gap(profit, gap, sizeof gap);
    snprintf(detail, sizeof detail,
             "declared profit %s GAP; investor A receives 40 cans and 100 jars", gap);
    rc = icms_project_distribute(d->db, &d->admin.req, d->project_id, doc, &out);
    jread_free(demo_step(d, &d->admin, "distribute", ICMS_OK, rc, out, detail));
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", d->project_id);
    rc = icms_payout_list(d->db, &d->admin.req, filter, &out);
    jval *v = rc == ICMS_OK && out ? jread_parse(out, strlen(out)) : NULL;
    int64_t total = 0;
    const jval *items = jget(v, "items");
    for (const jval *it = items ? items->child : NULL; it; it = it->next) {
        int64_t amount = 0;
        ji64(it, "amount", &amount);
        total += amount;
    }
    demo_gap(total, gap, sizeof gap);
    snprintf(detail, sizeof detail,
             "%zu payout(s) due, %s GAP: investor B's capital and the profit", jlen(items), gap);
    jread_free(v);
    jread_free(demo_step(d, &d->admin, "list payouts due", ICMS_OK, rc, out, detail));
    if (total != d->commit_b + profit) {
        d->unexpected++;
        if (!d->json)
            printf("     %-10s UNEXPECTED: payouts do not add up to capital + profit\n", "");
    }
}

void demo_payments(demo *d)
{
    payment a, b;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);

    /* Investor A pays exactly, and waits for the depth the project asks. */
    initiate(d, &d->inv_a, d->part_a, "demo-payment-a", &a);
    broadcast(d, &d->inv_a, &a, a.amount);
    submit(d, &d->inv_a, &a, a.txid, ICMS_OK, "submit the txid");
    jread_free(verify(d, &a, "SUBMITTED"));
    mine(d, 1);
    jread_free(verify(d, &a, "SUBMITTED"));
    mine(d, d->confirmations - 1);
    jread_free(verify(d, &a, "CONFIRMED"));
    spv_check(d, &a);

    /* Investor B tries A's transaction, then overpays by 5 GAP. */
    initiate(d, &d->inv_b, d->part_b, "demo-payment-b", &b);
    submit(d, &d->inv_b, &b, a.txid, ICMS_EEXISTS, "submit investor A's txid as its own");
    int64_t excess = 5 * (int64_t)ICMS_BASE_UNITS_PER_GAP;
    broadcast(d, &d->inv_b, &b, b.amount + excess);
    submit(d, &d->inv_b, &b, b.txid, ICMS_OK, "submit the txid");
    mine(d, d->confirmations);
    jval *v = verify(d, &b, "CONFIRMED");
    int64_t refund = 0;
    ji64(v, "refund_due", &refund);
    jread_free(v);
    if (refund != excess) {
        d->unexpected++;
        if (!d->json)
            printf("     %-10s UNEXPECTED: refund due %" PRId64 ", expected %" PRId64 "\n", "",
                   refund, excess);
    }

    char *out = NULL, filter[96], detail[160] = "", gap[32];
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", d->project_id);
    int rc = icms_refund_list(d->db, &d->admin.req, filter, &out);
    v = rc == ICMS_OK && out ? jread_parse(out, strlen(out)) : NULL;
    int64_t amount = 0;
    ji64(jat(jget(v, "items"), 0), "amount", &amount);
    demo_gap(amount, gap, sizeof gap);
    size_t refunds = jlen(jget(v, "items"));
    if (v)
        snprintf(detail, sizeof detail, "%zu refund(s): %s GAP due to investor B's refund address",
                 refunds, gap);
    jread_free(v);
    jread_free(demo_step(d, &d->admin, "list refunds due", ICMS_OK, rc, out, detail));
    if (refunds != 1 || amount != excess) {
        d->unexpected++;
        if (!d->json)
            printf("     %-10s UNEXPECTED: expected one refund of 5 GAP\n", "");
    }

    finish_project(d);

    rc = icms_check(d->db, &d->host.req, &out);
    v = out ? jread_parse(out, strlen(out)) : NULL;
    const jval *ok = jget(v, "ok");
    snprintf(detail, sizeof detail, "ok: %s, %zu violation(s)",
             ok && ok->type == J_BOOL && ok->boolean ? "true" : "false",
             jlen(jget(v, "violations")));
    jread_free(v);
    jread_free(demo_step(d, &d->host, "check: ledger, caps, outputs, audit chain", ICMS_OK, rc, out,
                         detail));
}
