/*
 * Verifying a payment against the chain and applying what the chain shows.
 *
 * Three steps, so that no store lock is held while the node is asked:
 * read the payment (a query), ask the node (no transaction), then apply the
 * answer in a write command that reads the payment again and decides from
 * what it finds then, so a concurrent verification cannot apply twice.
 */
#include <stdio.h>
#include <string.h>

#include "app/chain.h"
#include "app/ledger.h"
#include "app/payment_doc.h"
#include "app/payment_late.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/user_stats.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/payments.h"

struct verify {
    const char *payment_id;
    char txid[65];
    char *script_hex;
    int64_t depth;
    icms__chain_payment chain;
    /* The payment as step 1 read it: step 3 takes its document if the bytes are unchanged. */
    icms__record_seen seen;
};

/* ---- step 1: what to ask ---- */

static int read_payment(icms__cmd *cmd)
{
    struct verify *v = cmd->arg;
    uint8_t id[16];
    cJSON *payment = NULL;
    int rc = icms__payment_load(cmd, v->payment_id, id, &payment);
    if (rc)
        return rc;
    const char *txid = icms__json_get_string(payment, "txid");
    const char *script = icms__json_get_string(payment, "script");
    icms_payment_status_t status;
    rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK && (!txid || status == ICMS_PAYMENT_PENDING || status == ICMS_PAYMENT_EXPIRED))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "payment %s has no transaction to verify",
                         v->payment_id);
    if (rc == ICMS_OK && (status == ICMS_PAYMENT_FAILED || status == ICMS_PAYMENT_REVERSED))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "payment is %s; there is nothing to verify",
                         icms_payment_status_name(status));
    if (rc == ICMS_OK && !script)
        rc = icms__error(ICMS_ECORRUPT, "payment without an output script");
    if (rc == ICMS_OK)
        rc = icms__doc_int(payment, "required_confirmations", &v->depth);
    if (rc == ICMS_OK) {
        memcpy(v->txid, txid, 64);
        v->txid[64] = '\0';
        v->script_hex = icms__strdup(script);
        if (!v->script_hex)
            rc = ICMS_ENOMEM;
    }
    if (rc == ICMS_OK)
        return icms__record_see(cmd->tx, &icms__payment_record, id, payment, &v->seen);
    cJSON_Delete(payment);
    return rc;
}

/* ---- step 3: applying the answer ---- */

typedef struct applied {
    cJSON *payment;
    uint8_t id[16];
    cJSON *project;
    uint8_t project_key[16];
    cJSON *participation;
    uint8_t participation_key[16];
} applied;

/*
 * The three records, borrowed from the transaction (icms__record_ref): a
 * batch touches its project once per payment, and copying it each time
 * would cost more than the rest of the work.
 */
static int load_all(icms__cmd *cmd, applied *a, icms__record_seen *seen)
{
    int rc = icms__record_ref_seen(cmd->tx, &icms__payment_record, a->id, seen, &a->payment);
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(a->payment, "project_id"), "project id",
                            a->project_key);
    if (rc == ICMS_OK)
        rc = icms__record_ref(cmd->tx, &icms__project_record, a->project_key, &a->project);
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(a->payment, "participation_id"),
                            "participation id", a->participation_key);
    if (rc == ICMS_OK)
        rc = icms__record_ref(cmd->tx, &icms__participation_record, a->participation_key,
                              &a->participation);
    return rc;
}

static int64_t int_or_zero(const cJSON *doc, const char *field)
{
    int64_t v;
    return icms__json_int64(icms__json_get(doc, field), &v) ? v : 0;
}

/* The stored state; an unknown one reads as out of range (neither open nor ended). */
static icms_project_state_t project_state(const cJSON *project)
{
    icms_project_state_t state;
    const char *name = icms__json_get_string(project, "state");
    if (!name || icms_project_state_parse(name, &state) != ICMS_OK)
        return (icms_project_state_t)ICMS_PROJECT_STATE_COUNT;
    return state;
}

static bool project_ended(const cJSON *project)
{
    return icms__project_ended(project_state(project));
}

/* Record the payment's view of the chain, whatever else happens. */
static int note_chain(cJSON *payment, const icms__chain_payment *chain, int64_t now_ms)
{
    int rc = icms__doc_set_int(payment, "confirmations",
                               chain->confirmations > 0 ? chain->confirmations : 0);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payment, "block_hash",
                                  chain->block_hash[0] ? chain->block_hash : NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(payment, "updated_at", now_ms);
    return rc;
}

static int transition(applied *a, icms__payment_action_t action,
                      const icms__payment_facts *facts, icms__payment_decision *decision)
{
    icms_payment_status_t status;
    int rc = icms__payment_status(a->payment, &status);
    if (rc == ICMS_OK)
        rc = icms__payment_decide(status, action, ICMS__PARTY_SYSTEM, facts, decision);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(a->payment, "status", icms_payment_status_name(decision->to));
    return rc;
}

static int record_event(icms__cmd *cmd, const applied *a, const char *action, const char *event,
                        const char *reason)
{
    const char *id = icms__json_get_string(a->payment, "id");
    cJSON *data = cJSON_CreateObject();
    int rc = data ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const strings[] = {"project_id", "investor_id", "participation_id", "txid",
                                          "status"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(strings); i++) {
        const char *value = icms__json_get_string(a->payment, strings[i]);
        if (value)
            rc = icms__json_add_string(data, strings[i], value);
    }
    static const char *const amounts[] = {"amount", "received", "credited", "refund_due"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(amounts); i++)
        rc = icms__json_add_int64(data, amounts[i], int_or_zero(a->payment, amounts[i]));
    if (rc == ICMS_OK && reason)
        rc = icms__json_add_string(data, "reason", reason);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, action, id, data);
    if (rc == ICMS_OK && event)
        rc = icms__cmd_event(cmd, event, id, data);
    cJSON_Delete(data);
    return rc;
}

static int leave_flight(applied *a)
{
    int64_t n = int_or_zero(a->project, "payments_in_flight");
    if (n < 1)
        return icms__error(ICMS_ECORRUPT, "project has no payment in flight to land");
    return icms__doc_set_int(a->project, "payments_in_flight", n - 1);
}

static int fail_payment(icms__cmd *cmd, applied *a, const char *reason)
{
    icms__payment_facts facts = {.now_ms = cmd->now_ms, .expected = 1};
    icms__payment_decision decision;
    int rc = transition(a, ICMS__PAYMENT_FAIL, &facts, &decision);
    if (rc == ICMS_OK)
        rc = leave_flight(a);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, a->project_key, a->project);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__payment_record, a->id, a->payment);
    if (rc == ICMS_OK)
        rc = record_event(cmd, a, "payment.fail", decision.event, reason);
    return rc;
}

/*
 * Claim every output that pays the address, all or none: an output already
 * claimed by another payment means this transaction cannot fund this one
 * (ICMS_EEXISTS, nothing claimed).
 */
static int claim_outputs(icms__cmd *cmd, applied *a, const icms__chain_payment *chain,
                         const char *txid)
{
    for (size_t i = 0; i < chain->output_count; i++) {
        icms__key key;
        const uint8_t *owner;
        size_t owner_len;
        icms__outpoint_key(&key, txid, chain->vouts[i]);
        int rc = icms__tx_get(cmd->tx, &key, &owner, &owner_len);
        if (rc == ICMS_OK)
            return icms__error(ICMS_EEXISTS, "output %s:%u already funds another payment", txid,
                               chain->vouts[i]);
        if (rc != ICMS_ENOTFOUND)
            return rc;
    }
    const char *payment_id = icms__json_get_string(a->payment, "id");
    cJSON *outputs = cJSON_CreateArray();
    int rc = outputs ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    for (size_t i = 0; rc == ICMS_OK && i < chain->output_count; i++) {
        icms__key key;
        icms__outpoint_key(&key, txid, chain->vouts[i]);
        rc = icms__tx_put(cmd->tx, &key, payment_id, strlen(payment_id));
        cJSON *o = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
        if (rc == ICMS_OK && !o)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(o, "vout", chain->vouts[i]);
        if (rc == ICMS_OK)
            rc = icms__json_add(outputs, NULL, o);
        else
            cJSON_Delete(o);
    }
    if (rc) {
        cJSON_Delete(outputs);
        return rc;
    }
    cJSON_DeleteItemFromObjectCaseSensitive(a->payment, "outputs");
    return icms__json_add(a->payment, "outputs", outputs);
}

static int confirm(icms__cmd *cmd, applied *a, const icms__chain_payment *chain, const char *txid)
{
    int64_t expected = int_or_zero(a->payment, "amount");
    int64_t commitment = int_or_zero(a->participation, "commitment");
    int64_t paid = int_or_zero(a->participation, "paid");
    icms__payment_late_facts late_facts = {ICMS_PAYMENT_SUBMITTED,
                                           cJSON_IsTrue(icms__json_get(a->payment, "late")),
                                           project_state(a->project), 0, 0, 0};
    icms__payment_late_times(&late_facts, a->payment, cmd->now_ms);
    icms__payment_late_project(&late_facts, a->project);
    bool late = icms__payment_is_late(&late_facts);
    icms__payment_facts facts = {cmd->now_ms, 0, project_ended(a->project), expected,
                                 commitment - paid, chain->paid, late};
    if (chain->paid == 0)
        return fail_payment(cmd, a, "the transaction pays nothing to the payment address");
    int rc = claim_outputs(cmd, a, chain, txid);
    if (rc == ICMS_EEXISTS) {
        const char *why = icms_error_last()->message;
        char reason[200];
        snprintf(reason, sizeof reason, "%s", why);
        return fail_payment(cmd, a, reason);
    }
    icms__payment_outcome outcome;
    icms__payment_decision decision;
    if (rc == ICMS_OK)
        rc = icms__payment_classify(expected, facts.outstanding, chain->paid, late, &outcome);
    if (rc == ICMS_OK)
        rc = transition(a, ICMS__PAYMENT_CONFIRM, &facts, &decision);

    /* The money: from the chain, into the project's escrow and (any excess) refunds due. */
    const char *project_id = icms__json_get_string(a->payment, "project_id");
    const char *investor_id = icms__json_get_string(a->payment, "investor_id");
    icms__posting postings[3];
    icms__account(postings[0].account, "chain", NULL);
    postings[0].amount = -chain->paid;
    icms__account(postings[1].account, "escrow", project_id);
    postings[1].amount = outcome.credited;
    icms__account(postings[2].account, "refunds_due", investor_id);
    postings[2].amount = outcome.refund_due;
    cJSON *ref = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !ref)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "payment_id", icms__json_get_string(a->payment, "id"));
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "txid", txid);
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, "payment.confirmed", postings, 3, ref, NULL);
    cJSON_Delete(ref);

    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->payment, "received", chain->paid);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->payment, "credited", outcome.credited);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->payment, "refund_due", outcome.refund_due);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(a->payment, "confirmed_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->participation, "paid", paid + outcome.credited);
    uint8_t investor_key[16];
    if (rc == ICMS_OK)
        rc = icms__parse_id(investor_id, "investor id", investor_key);
    if (rc == ICMS_OK) /* the investor's history (icms_user_history) */
        rc = icms__user_stats_add(cmd->tx, investor_key, outcome.credited, 0, 0);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__participation_record, a->participation_key,
                              a->participation);
    int64_t funded = int_or_zero(a->project, "funded");
    if (rc == ICMS_OK && !icms__add_i64(funded, outcome.credited, &funded))
        rc = icms__error(ICMS_EINVALID, "funded amount overflows");
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->project, "funded", funded);
    if (rc == ICMS_OK)
        rc = leave_flight(a);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__payment_record, a->id, a->payment);
    if (rc == ICMS_OK)
        rc = record_event(cmd, a, "payment.confirm", decision.event, NULL);
    /* Reaching the target moves the project on, in this same transaction. */
    if (rc == ICMS_OK && !project_ended(a->project))
        rc = icms__project_settle_doc(cmd, a->project);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, a->project_key, a->project);
    if (rc == ICMS_OK && outcome.refund_due > 0)
        rc = icms__refund_create(cmd, a->payment, outcome.refund_due,
                                 late ? "late payment" : "overpayment");
    return rc;
}

/* The investor's refunds, by id (collected first: nothing is written while an index is walked). */
struct refund_ids {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect_refund(const uint8_t id[16], void *payload)
{
    struct refund_ids *r = payload;
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 8;
        void *grown = icms__realloc(r->ids, cap * 16);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        r->ids = grown;
        r->cap = cap;
    }
    memcpy(r->ids[r->count++], id, 16);
    return 0;
}

/*
 * The ledger entry `kind` that unwinds a refund of a reversed payment: its
 * amount from `account` back to the chain. *ref gets what the entry refers
 * to (refund_id, payment_id), then its amount and project_id for the audit
 * entry and the event (the caller's to free, whatever the result).
 */
static int unwind_entry(icms__cmd *cmd, const cJSON *refund, const char *kind,
                        const char *account, cJSON **ref)
{
    int64_t amount = int_or_zero(refund, "amount");
    icms__posting postings[2];
    memcpy(postings[0].account, account, strlen(account) + 1);
    postings[0].amount = -amount;
    icms__account(postings[1].account, "chain", NULL);
    postings[1].amount = amount;
    *ref = cJSON_CreateObject();
    int rc = *ref ? icms__json_add_string(*ref, "refund_id", icms__json_get_string(refund, "id"))
                  : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(*ref, "payment_id",
                                   icms__json_get_string(refund, "payment_id"));
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, kind, postings, 2, *ref, NULL);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(*ref, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(*ref, "project_id",
                                   icms__json_get_string(refund, "project_id"));
    return rc;
}

/* One DUE refund of a reversed payment: VOIDED, and refunds_due:I back to the chain. */
static int void_refund(icms__cmd *cmd, const uint8_t id[16], cJSON *refund)
{
    const char *investor = icms__json_get_string(refund, "investor_id");
    const char *refund_id = icms__json_get_string(refund, "id");
    char account[ICMS__ACCOUNT_MAX];
    icms__account(account, "refunds_due", investor);
    cJSON *ref = NULL;
    int rc = unwind_entry(cmd, refund, "refund.voided", account, &ref);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "investor_id", investor);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(refund, "status", "VOIDED");
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(refund, "voided_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__refund_record, id, refund);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "refund.void", refund_id, ref);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "refund.voided", refund_id, ref);
    cJSON_Delete(ref);
    return rc;
}

/*
 * One PAID refund of a reversed payment: the host's wallet sent coins that
 * never came in. The refund stays PAID (the coins left); the loss is booked
 * so the ledger says what happened: chain +amount (money out with nothing
 * in), losses -amount, for the host to pursue (event payment.lost).
 */
static int book_loss(icms__cmd *cmd, const cJSON *refund)
{
    const char *payment_id = icms__json_get_string(refund, "payment_id");
    cJSON *ref = NULL;
    int rc = unwind_entry(cmd, refund, "payment.lost", "losses", &ref);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "payment.lost", payment_id, ref);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "payment.lost", payment_id, ref);
    cJSON_Delete(ref);
    return rc;
}

/*
 * What a reversed payment was to refund (an excess, all of a late payment,
 * or, once its project ended, what it credited) never arrived either: its
 * refunds still DUE are voided, or the host would pay back coins it never
 * received; one already PAID stays so and its amount is booked as lost.
 */
static int unwind_refunds(icms__cmd *cmd, const applied *a)
{
    const char *payment_id = icms__json_get_string(a->payment, "id");
    uint8_t investor[16];
    int rc = icms__parse_id(icms__json_get_string(a->payment, "investor_id"), "investor id",
                            investor);
    if (rc)
        return rc;
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, investor);
    struct refund_ids r = {NULL, 0, 0};
    rc = icms__record_scan_index(cmd->tx, &icms__refund_record, "by_investor", &values, NULL, 0,
                                 collect_refund, &r);
    for (size_t i = 0; rc == ICMS_OK && i < r.count; i++) {
        cJSON *refund = NULL;
        rc = icms__record_get(cmd->tx, &icms__refund_record, r.ids[i], &refund);
        const char *of = rc == ICMS_OK ? icms__json_get_string(refund, "payment_id") : NULL;
        const char *status = rc == ICMS_OK ? icms__json_get_string(refund, "status") : NULL;
        if (of && payment_id && strcmp(of, payment_id) == 0 && status) {
            if (strcmp(status, "DUE") == 0)
                rc = void_refund(cmd, r.ids[i], refund);
            else if (strcmp(status, "PAID") == 0)
                rc = book_loss(cmd, refund);
        }
        cJSON_Delete(refund);
    }
    icms__free(r.ids);
    return rc;
}

/*
 * Take back a payment whose transaction left the chain. Before approval its
 * credit leaves the project's escrow (payment.reversed) and the project may
 * fall back to FUNDING. Once the project ended (CANCELLED or EXPIRED) the
 * escrow already went to refunds: those are unwound instead (unwind_refunds),
 * and the project stays as it is.
 */
static int reverse(icms__cmd *cmd, applied *a, const char *reason, bool ended)
{
    icms__payment_facts facts = {.now_ms = cmd->now_ms, .expected = 1};
    icms__payment_decision decision;
    int64_t credited = int_or_zero(a->payment, "credited");
    int rc = transition(a, ICMS__PAYMENT_REVERSE, &facts, &decision);
    if (!ended) {
        const char *project_id = icms__json_get_string(a->payment, "project_id");
        icms__posting postings[2];
        icms__account(postings[0].account, "escrow", project_id);
        postings[0].amount = -credited;
        icms__account(postings[1].account, "chain", NULL);
        postings[1].amount = credited;
        cJSON *ref = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
        if (rc == ICMS_OK && !ref)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        if (rc == ICMS_OK)
            rc = icms__json_add_string(ref, "payment_id", icms__json_get_string(a->payment, "id"));
        if (rc == ICMS_OK)
            rc = icms__ledger_post(cmd->tx, cmd->now_ms, "payment.reversed", postings, 2, ref,
                                   NULL);
        cJSON_Delete(ref);
    }
    if (rc == ICMS_OK && (ended || int_or_zero(a->payment, "refund_due") > 0))
        rc = unwind_refunds(cmd, a);
    int64_t paid = int_or_zero(a->participation, "paid");
    int64_t funded = int_or_zero(a->project, "funded");
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->participation, "paid", paid - credited);
    uint8_t investor_key[16];
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(a->payment, "investor_id"), "investor id",
                            investor_key);
    if (rc == ICMS_OK)
        rc = icms__user_stats_add(cmd->tx, investor_key, -credited, 0, 0);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__participation_record, a->participation_key,
                              a->participation);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(a->project, "funded", funded - credited);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__payment_record, a->id, a->payment);
    if (rc == ICMS_OK)
        rc = record_event(cmd, a, "payment.reverse", decision.event, reason);
    /* Un-funded before approval: back to FUNDING. */
    if (rc == ICMS_OK && !ended)
        rc = icms__project_settle_doc(cmd, a->project);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, a->project_key, a->project);
    return rc;
}

/* What a re-org does to a confirmed payment of this project (the rule is the domain's). */
static icms__reversal_t reversal(const cJSON *project)
{
    icms_project_state_t state;
    if (icms__project_state(project, &state) != ICMS_OK) {
        icms_error_clear();
        return ICMS__REVERSAL_NONE;
    }
    return icms__payment_reversal(state);
}

/* Apply one answer; *result (when not NULL) receives the payment as it stands afterwards. */
static int apply_one(icms__cmd *cmd, struct verify *v, cJSON **result)
{
    applied a = {0};
    int rc = icms__parse_id(v->payment_id, "payment id", a.id);
    if (rc == ICMS_OK)
        rc = load_all(cmd, &a, &v->seen);
    icms_payment_status_t status = ICMS_PAYMENT_PENDING;
    if (rc == ICMS_OK)
        rc = icms__payment_status(a.payment, &status);
    const char *txid = rc == ICMS_OK ? icms__json_get_string(a.payment, "txid") : NULL;
    /* The answer is about v->txid; if the payment moved on meanwhile, leave it be. */
    bool same_tx = txid && strcmp(txid, v->txid) == 0;
    const icms__chain_payment *chain = &v->chain;
    /* Only a payment still in play takes note of the chain (a borrowed record is saved). */
    bool in_play = status == ICMS_PAYMENT_SUBMITTED || status == ICMS_PAYMENT_CONFIRMED ||
                   status == ICMS_PAYMENT_PARTIAL;
    if (rc == ICMS_OK && same_tx && in_play) {
        int64_t required = int_or_zero(a.payment, "required_confirmations");
        rc = note_chain(a.payment, chain, cmd->now_ms);
        if (rc == ICMS_OK && status == ICMS_PAYMENT_SUBMITTED) {
            if (chain->status == ICMS__CHAIN_CONFLICTED)
                rc = fail_payment(cmd, &a, "the transaction conflicts with the chain");
            else if (chain->status == ICMS__CHAIN_IN_BLOCK && chain->confirmations >= required)
                rc = confirm(cmd, &a, chain, txid);
            else
                rc = icms__record_put(cmd->tx, &icms__payment_record, a.id, a.payment);
        } else if (rc == ICMS_OK &&
                   (status == ICMS_PAYMENT_CONFIRMED || status == ICMS_PAYMENT_PARTIAL)) {
            icms__reversal_t how = reversal(a.project);
            if (chain->status != ICMS__CHAIN_IN_BLOCK && how != ICMS__REVERSAL_NONE)
                rc = reverse(cmd, &a,
                             chain->status == ICMS__CHAIN_CONFLICTED
                                 ? "the transaction was double-spent"
                                 : "the transaction left the best chain",
                             how == ICMS__REVERSAL_UNWIND);
            else
                rc = icms__record_put(cmd->tx, &icms__payment_record, a.id, a.payment);
        }
    }
    /* The payment as it stands now, when the caller wants it back. */
    if (rc == ICMS_OK && result && !(*result = cJSON_Duplicate(a.payment, true)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    return rc;
}

struct batch {
    struct verify *items;
    size_t count;
    bool list;          /* answer with a list even for one payment */
    bool want_payments; /* the caller asked for the payments back */
};

/* Every answer in one transaction: all applied, or (on any error) none. */
static int apply_answers(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    if (!b->want_payments) {
        for (size_t i = 0; i < b->count; i++) {
            int rc = apply_one(cmd, &b->items[i], NULL);
            if (rc)
                return rc;
        }
        return ICMS_OK;
    }
    cJSON *results = cJSON_CreateArray();
    int rc = results ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    for (size_t i = 0; rc == ICMS_OK && i < b->count; i++) {
        cJSON *payment = NULL;
        rc = apply_one(cmd, &b->items[i], &payment);
        if (rc == ICMS_OK)
            rc = icms__json_add(results, NULL, payment);
    }
    if (rc) {
        cJSON_Delete(results);
        return rc;
    }
    /* icms_payment_verify answers with the payment itself, the batch with the list. */
    if (!b->list) {
        cJSON *only = cJSON_DetachItemFromArray(results, 0);
        cJSON_Delete(results);
        results = only;
    }
    icms__cmd_set_result(cmd, results);
    return ICMS_OK;
}

/* Step 1 for every payment of the batch, in one read transaction. */
static int read_payments(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    for (size_t i = 0; i < b->count; i++) {
        cmd->arg = &b->items[i];
        int rc = read_payment(cmd);
        cmd->arg = b;
        if (rc)
            return rc;
    }
    return ICMS_OK;
}

/* Ask the node about one payment, outside any store transaction. */
static int ask(icms_db *db, struct verify *v)
{
    uint8_t *script = NULL;
    size_t script_len = 0;
    int rc = icms_gapcoin_hex_decode(v->script_hex, &script, &script_len);
    if (rc != ICMS_OK && rc != ICMS_ENOMEM) /* out of memory is not a bad script */
        rc = icms__error(ICMS_ECORRUPT, "payment has a malformed output script");
    if (rc == ICMS_OK)
        rc = icms__chain_check(db, v->txid, script, script_len, v->depth, &v->chain);
    icms_free(script);
    return rc;
}

static int verify_all(icms_db *db, const icms_request *req, struct batch *b, char **out)
{
    if (out)
        *out = NULL;
    if (!req)
        return icms__error(ICMS_EINVALID, "a request context is required");
    int rc = icms__query(db, req, read_payments, b, NULL);
    for (size_t i = 0; rc == ICMS_OK && i < b->count; i++)
        rc = ask(db, &b->items[i]);
    for (size_t i = 0; i < b->count; i++) {
        icms__free(b->items[i].script_hex);
        b->items[i].script_hex = NULL;
    }
    /* Applying is the library's own act; the caller's right to ask was checked above. */
    icms_request system = ICMS_REQUEST_INIT;
    system.actor_kind = ICMS_ACTOR_SYSTEM;
    system.correlation_id = req->correlation_id;
    if (rc == ICMS_OK)
        rc = icms__command(db, &system, "payment.verify", NULL, apply_answers, b, out);
    for (size_t i = 0; i < b->count; i++)
        icms__record_seen_clear(&b->items[i].seen);
    return rc;
}

int icms_payment_verify(icms_db *db, const icms_request *req, const char *payment_id,
                        char **out)
{
    struct verify v = {.payment_id = payment_id};
    struct batch b = {&v, 1, false, out != NULL};
    return verify_all(db, req, &b, out);
}

int icms_payment_verify_batch(icms_db *db, const icms_request *req,
                              const char *const *payment_ids, size_t count, char **out)
{
    if (out)
        *out = NULL;
    if (!payment_ids || count == 0 || count > ICMS_PAYMENT_BATCH_MAX)
        return icms__error(ICMS_EINVALID, "a batch holds 1 to %d payment ids",
                           ICMS_PAYMENT_BATCH_MAX);
    struct verify *items = icms__calloc(count, sizeof *items);
    if (!items)
        return ICMS_ENOMEM;
    for (size_t i = 0; i < count; i++)
        items[i].payment_id = payment_ids[i];
    struct batch b = {items, count, true, out != NULL};
    int rc = verify_all(db, req, &b, out);
    icms__free(items);
    return rc;
}
