/* Payments: starting one, attaching its transaction, reading and listing them. */
#include "icms/payments.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app/chain.h"
#include "app/payment_doc.h"
#include "app/payment_late.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/gapcoin.h"

void icms__outpoint_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "outpoint");
}

void icms__outpoint_key(icms__key *key, const char *txid, int64_t vout)
{
    icms__outpoint_prefix(key);
    icms__key_str(key, txid);
    icms__key_int(key, vout);
}

int icms__payment_status(const cJSON *payment, icms_payment_status_t *out)
{
    const char *status = icms__json_get_string(payment, "status");
    if (!status || icms_payment_status_parse(status, out) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored payment has no valid status");
    return ICMS_OK;
}

static bool actor_is(const icms__cmd *cmd, const char *user_id)
{
    return user_id && cmd->actor.kind == ICMS_ACTOR_USER && !cmd->actor.anonymous &&
           strcmp(user_id, cmd->actor.id_text) == 0;
}

int icms__payment_load(icms__cmd *cmd, const char *id_text, uint8_t id[16], cJSON **out)
{
    int rc = icms__parse_id(id_text, "payment id", id);
    cJSON *payment = NULL; /* ours: moved out of a read transaction, copied in a write one */
    if (rc == ICMS_OK)
        rc = icms__record_take(cmd->tx, &icms__payment_record, id, &payment);
    if (rc)
        return rc;
    bool visible = cmd->actor.kind != ICMS_ACTOR_USER ||
                   icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN) ||
                   actor_is(cmd, icms__json_get_string(payment, "investor_id"));
    if (!visible && !cmd->actor.anonymous) {
        uint8_t project_key[16];
        const cJSON *project = NULL; /* borrowed: only read */
        rc = icms__parse_id(icms__json_get_string(payment, "project_id"), "project id",
                            project_key);
        if (rc == ICMS_OK)
            rc = icms__record_peek(cmd->tx, &icms__project_record, project_key, &project);
        visible = rc == ICMS_OK && actor_is(cmd, icms__json_get_string(project, "owner_id"));
        if (rc && rc != ICMS_ENOTFOUND) {
            cJSON_Delete(payment);
            return rc;
        }
    }
    if (!visible) {
        cJSON_Delete(payment);
        return icms__error(ICMS_ENOTFOUND, "payment not found");
    }
    *out = payment;
    return ICMS_OK;
}

/* ---- initiate ---- */

static const icms__json_field initiate_fields[] = {
    ICMS__JSON_F_INT("amount", 0, 1, INT64_MAX),
    ICMS__JSON_F_STRING("refund_address", ICMS__JSON_REQUIRED, 1, 100),
};
static const icms__json_schema initiate_schema = ICMS__JSON_SCHEMA(initiate_fields);

struct initiate {
    const char *participation_id;
    const cJSON *input;
    char project_id[ICMS_UUID_STRING_SIZE];
    const char *address; /* fetched before the command, outside any transaction */
};

/* The participation and its project, as the payment rules see them. */
static int load_participation(icms__cmd *cmd, const char *id_text, uint8_t id[16],
                              cJSON **participation, uint8_t project_key[16], cJSON **project)
{
    *participation = NULL;
    *project = NULL;
    int rc = icms__parse_id(id_text, "participation id", id);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__participation_record, id, participation);
    if (rc == ICMS_OK && !actor_is(cmd, icms__json_get_string(*participation, "investor_id")) &&
        cmd->actor.kind == ICMS_ACTOR_USER && !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        rc = icms__error(ICMS_ENOTFOUND, "participation not found");
    if (rc == ICMS_OK)
        rc = icms__parse_id(icms__json_get_string(*participation, "project_id"), "project id",
                            project_key);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__project_record, project_key, project);
    if (rc) {
        cJSON_Delete(*participation);
        *participation = NULL;
    }
    return rc;
}

static int find_project(icms__cmd *cmd)
{
    struct initiate *call = cmd->arg;
    uint8_t id[16], project_key[16];
    cJSON *p = NULL, *project = NULL;
    int rc = load_participation(cmd, call->participation_id, id, &p, project_key, &project);
    if (rc == ICMS_OK)
        snprintf(call->project_id, sizeof call->project_id, "%s",
                 icms__json_get_string(project, "id"));
    cJSON_Delete(p);
    cJSON_Delete(project);
    return rc;
}

static int64_t doc_int_or(const cJSON *doc, const char *field, int64_t fallback)
{
    int64_t v;
    return icms__json_int64(icms__json_get(doc, field), &v) ? v : fallback;
}

static int new_payment(icms__cmd *cmd, struct initiate *call, const cJSON *p,
                       const cJSON *project, int64_t amount, cJSON **out)
{
    uint8_t id[16];
    char *script = NULL;
    const char *refund = icms__json_get_string(call->input, "refund_address");
    int rc = icms__chain_address_script(cmd->db, refund, &script);
    if (rc) {
        icms__error_wrap(rc, "refund_address");
        return rc;
    }
    icms_free(script);
    rc = icms__chain_address_script(cmd->db, call->address, &script);
    cJSON *doc = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !doc)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(doc, "id", id);
    static const char *const copied[] = {"project_id", "investor_id"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(copied); i++)
        rc = icms__doc_set_string(doc, copied[i], icms__json_get_string(p, copied[i]));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "participation_id", icms__json_get_string(p, "id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "status", "PENDING");
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(doc, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "address", call->address);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "script", script);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "refund_address", refund);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(doc, "required_confirmations",
                               doc_int_or(project, "confirmations", 6));
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(doc, "expires_at", cmd->now_ms + ICMS_PAYMENT_WINDOW_MS);
    if (rc == ICMS_OK)
        rc = icms__json_add_bool(doc, "late", false);
    static const char *const nulls[] = {"txid", "block_hash", "submitted_at", "confirmed_at"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(nulls); i++)
        rc = icms__doc_set_copy(doc, nulls[i], NULL);
    static const char *const zeros[] = {"confirmations", "received", "credited", "refund_due"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(zeros); i++)
        rc = icms__doc_set_int(doc, zeros[i], 0);
    if (rc == ICMS_OK)
        rc = icms__json_add(doc, "outputs", cJSON_CreateArray());
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(doc, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(doc, "updated_at", cmd->now_ms);
    icms_free(script);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}

static int initiate_payment(icms__cmd *cmd)
{
    struct initiate *call = cmd->arg;
    uint8_t id[16], project_key[16], payment_key[16];
    cJSON *p = NULL, *project = NULL, *payment = NULL;
    int rc = load_participation(cmd, call->participation_id, id, &p, project_key, &project);
    if (rc)
        return rc;
    icms__payment_initiate_facts facts = {0};
    int64_t commitment = 0;
    rc = icms__project_state(project, &facts.project_state);
    if (rc == ICMS_OK) {
        const char *status = icms__json_get_string(p, "status");
        if (!status || icms_participation_status_parse(status, &facts.participation_status))
            rc = icms__error(ICMS_ECORRUPT, "participation without a valid status");
    }
    if (rc == ICMS_OK)
        rc = icms__doc_int(p, "commitment", &commitment);
    facts.outstanding = commitment - doc_int_or(p, "paid", 0);
    facts.amount = doc_int_or(call->input, "amount", facts.outstanding);
    facts.kyc_status = cmd->actor.kyc_status;
    facts.kyc_required = cmd->db->kyc_required;
    unsigned parties = icms__parties(
        cmd->actor.kind, cmd->actor.roles, 0,
        actor_is(cmd, icms__json_get_string(p, "investor_id")));
    if (cmd->actor.kind != ICMS_ACTOR_USER)
        parties = 0; /* the investor pays; the host cannot pay on their behalf */
    if (rc == ICMS_OK)
        rc = icms__payment_check_initiate(parties, &facts);
    if (rc == ICMS_OK)
        rc = new_payment(cmd, call, p, project, facts.amount, &payment);
    if (rc == ICMS_OK && icms__parse_id(icms__json_get_string(payment, "id"), "id", payment_key))
        rc = ICMS_ERROR;
    if (rc == ICMS_OK) {
        rc = icms__record_put(cmd->tx, &icms__payment_record, payment_key, payment);
        if (rc == ICMS_EEXISTS)
            rc = icms__error(ICMS_EEXISTS, "a payment for this participation is already open");
    }
    const char *pid = payment ? icms__json_get_string(payment, "id") : NULL;
    cJSON *data = NULL;
    if (rc == ICMS_OK && !(data = cJSON_CreateObject()))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "participation_id", call->participation_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "amount", facts.amount);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "payment.initiate", pid, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, ICMS__PAYMENT_EVENT_INITIATED, pid, data);
    cJSON_Delete(data);
    cJSON_Delete(p);
    cJSON_Delete(project);
    if (rc) {
        cJSON_Delete(payment);
        return rc;
    }
    icms__cmd_set_result(cmd, payment);
    return ICMS_OK;
}

int icms_payment_initiate(icms_db *db, const icms_request *req, const char *participation_id,
                          const char *json, char **out)
{
    if (out)
        *out = NULL;
    if (req && !req->idempotency_key)
        return icms__error(ICMS_EINVALID, "starting a payment needs an idempotency key");
    cJSON *input = NULL;
    int rc = icms__project_input(json, &initiate_schema, &input);
    if (rc)
        return rc;
    struct initiate call = {participation_id, input, {0}, NULL};
    rc = icms__query(db, req, find_project, &call, NULL);
    char *address = NULL;
    if (rc == ICMS_OK)
        rc = icms__chain_new_address(db, call.project_id, &address);
    call.address = address;
    cJSON *material = rc == ICMS_OK ? cJSON_Duplicate(input, true) : NULL;
    if (rc == ICMS_OK && !material)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(material, "participation_id", participation_id);
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "payment.initiate", material, initiate_payment, &call, out);
    cJSON_Delete(material);
    icms_free(address);
    cJSON_Delete(input);
    return rc;
}

/* ---- submit ---- */

struct submit {
    const char *payment_id;
    char txid[65];
};

/*
 * Count a payment in (or out of) flight; *state gets the project's state
 * (unknown: out of range) and *project_out the project as saved, the
 * caller's to free (NULL on failure).
 */
static int adjust_in_flight(icms__cmd *cmd, const char *project_id, int64_t delta,
                            icms_project_state_t *state, cJSON **project_out)
{
    *project_out = NULL;
    uint8_t key[16];
    cJSON *project = NULL;
    int64_t n;
    int rc = icms__parse_id(project_id, "project id", key);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__project_record, key, &project);
    const char *name = rc == ICMS_OK ? icms__json_get_string(project, "state") : NULL;
    if (!name || icms_project_state_parse(name, state) != ICMS_OK)
        *state = (icms_project_state_t)ICMS_PROJECT_STATE_COUNT;
    if (rc == ICMS_OK)
        rc = icms__doc_int(project, "payments_in_flight", &n);
    if (rc == ICMS_OK && n + delta < 0)
        rc = icms__error(ICMS_ECORRUPT, "payments in flight would go negative");
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(project, "payments_in_flight", n + delta);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, key, project);
    if (rc == ICMS_OK)
        *project_out = project;
    else
        cJSON_Delete(project);
    return rc;
}

/*
 * Txids are public (the mempool): anyone with a pending payment can attach
 * another investor's transaction to it first. That payment fails at depth (it
 * pays nothing to its address); it then lets go of the txid, keeping it as
 * failed_txid, so that the payer can still attach it -- the unique txid index
 * would otherwise strand their money for good. A holder that did not fail keeps
 * it (the put answers ICMS_EEXISTS). Output claims keep each output to one
 * payment whatever this does.
 */
static int release_failed_holder(icms__cmd *cmd, const char *txid)
{
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, txid);
    uint8_t id[16];
    int rc = icms__record_find_unique(cmd->tx, &icms__payment_record, "txid", &values, id);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return ICMS_OK;
    }
    cJSON *holder = NULL;
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__payment_record, id, &holder);
    icms_payment_status_t status = ICMS_PAYMENT_PENDING;
    if (rc == ICMS_OK)
        rc = icms__payment_status(holder, &status);
    if (rc == ICMS_OK && status == ICMS_PAYMENT_FAILED) {
        rc = icms__doc_set_string(holder, "failed_txid", txid);
        if (rc == ICMS_OK)
            rc = icms__doc_set_copy(holder, "txid", NULL);
        if (rc == ICMS_OK)
            rc = icms__doc_set_time(holder, "updated_at", cmd->now_ms);
        if (rc == ICMS_OK)
            rc = icms__record_put(cmd->tx, &icms__payment_record, id, holder);
    }
    cJSON_Delete(holder);
    return rc;
}

static int submit_payment(icms__cmd *cmd)
{
    struct submit *call = cmd->arg;
    uint8_t id[16];
    cJSON *payment = NULL;
    int rc = icms__payment_load(cmd, call->payment_id, id, &payment);
    if (rc)
        return rc;
    icms_payment_status_t status;
    icms__payment_facts facts = {0};
    icms__payment_decision decision;
    unsigned parties =
        cmd->actor.anonymous
            ? 0
            : icms__parties(cmd->actor.kind, cmd->actor.roles, 0,
                            actor_is(cmd, icms__json_get_string(payment, "investor_id")));
    facts.now_ms = cmd->now_ms;
    facts.expected = 1;
    rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK)
        rc = icms__payment_decide(status, ICMS__PAYMENT_SUBMIT, parties, &facts, &decision);
    icms_project_state_t project_state = (icms_project_state_t)ICMS_PROJECT_STATE_COUNT;
    cJSON *project = NULL;
    if (rc == ICMS_OK)
        rc = adjust_in_flight(cmd, icms__json_get_string(payment, "project_id"), 1,
                              &project_state, &project);
    if (rc == ICMS_OK)
        rc = release_failed_holder(cmd, call->txid);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payment, "txid", call->txid);
    /* Late (at or after expires_at, from EXPIRED, or the project ended) is remembered. */
    icms__payment_late_facts late = {status, cJSON_IsTrue(icms__json_get(payment, "late")),
                                     project_state, 0, 0, 0};
    icms__payment_late_times(&late, payment, cmd->now_ms);
    icms__payment_late_project(&late, project); /* its expiry_date closes the window too */
    cJSON_Delete(project);
    static const cJSON yes = {.type = cJSON_True}; /* copied in: nothing to free */
    if (rc == ICMS_OK && icms__payment_is_late(&late))
        rc = icms__doc_set_copy(payment, "late", &yes);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payment, "status", icms_payment_status_name(decision.to));
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(payment, "submitted_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(payment, "updated_at", cmd->now_ms);
    if (rc == ICMS_OK) {
        rc = icms__record_put(cmd->tx, &icms__payment_record, id, payment);
        if (rc == ICMS_EEXISTS)
            rc = icms__error(ICMS_EEXISTS, "transaction %s is already attached to a payment",
                             call->txid);
    }
    cJSON *data = NULL;
    if (rc == ICMS_OK && !(data = cJSON_CreateObject()))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "txid", call->txid);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "payment.submit", call->payment_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, decision.event, call->payment_id, data);
    cJSON_Delete(data);
    if (rc) {
        cJSON_Delete(payment);
        return rc;
    }
    icms__cmd_set_result(cmd, payment);
    return ICMS_OK;
}

/* What the check before a submission reads: the payment's script, and whether the txid is taken. */
struct pays_read {
    const char *payment_id;
    const char *txid;
    char *script_hex; /* icms__strdup'd */
    bool taken;       /* another payment holds the txid: the command refuses it as such */
};

/*
 * Whether the command would let this actor submit now (its own rule). Only
 * then is the node asked: anyone else gets the command's refusal, never an
 * answer about what a transaction pays to someone else's payment.
 */
static bool may_submit(const icms__cmd *cmd, const cJSON *payment)
{
    unsigned parties =
        cmd->actor.anonymous
            ? 0
            : icms__parties(cmd->actor.kind, cmd->actor.roles, 0,
                            actor_is(cmd, icms__json_get_string(payment, "investor_id")));
    icms_payment_status_t status;
    icms__payment_facts facts = {0};
    icms__payment_decision decision;
    facts.now_ms = cmd->now_ms;
    facts.expected = 1;
    return icms__payment_status(payment, &status) == ICMS_OK &&
           icms__payment_decide(status, ICMS__PAYMENT_SUBMIT, parties, &facts, &decision) ==
               ICMS_OK;
}

static int read_script(icms__cmd *cmd)
{
    struct pays_read *r = cmd->arg;
    uint8_t id[16], owner[16];
    cJSON *payment = NULL;
    int rc = icms__payment_load(cmd, r->payment_id, id, &payment);
    const char *script = rc == ICMS_OK && may_submit(cmd, payment)
                             ? icms__json_get_string(payment, "script")
                             : NULL;
    if (script && !(r->script_hex = icms__strdup(script)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    cJSON_Delete(payment);
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, r->txid);
    int found = rc == ICMS_OK ? icms__record_find_unique(cmd->tx, &icms__payment_record, "txid",
                                                         &values, owner)
                              : rc;
    if (found == ICMS_OK)
        r->taken = memcmp(owner, id, 16) != 0;
    else if (found != ICMS_ENOTFOUND)
        rc = found;
    icms_error_clear();
    return rc;
}

/*
 * Before anything is written: a transaction the node knows must pay this
 * payment's address. Otherwise whoever sees an investor's transaction in the
 * mempool could attach it to a payment of their own first, holding its txid
 * until that payment failed at depth, and again with the next. A node that
 * is down, or does not know the transaction yet, decides nothing here:
 * verification checks the payment in full later. A txid another payment
 * holds is left to the command, which refuses it as taken (ICMS_EEXISTS).
 */
static int check_it_pays(icms_db *db, const icms_request *req, const char *payment_id,
                         const char *txid)
{
    if (!db->gapcoin)
        return ICMS_OK;
    struct pays_read r = {payment_id, txid, NULL, false};
    int rc = icms__query(db, req, read_script, &r, NULL);
    if (rc || !r.script_hex || r.taken) {
        icms__free(r.script_hex);
        return rc;
    }
    uint8_t *script = NULL;
    size_t script_len = 0;
    icms__chain_payment chain;
    memset(&chain, 0, sizeof chain);
    rc = icms_gapcoin_hex_decode(r.script_hex, &script, &script_len);
    icms__free(r.script_hex);
    if (rc == ICMS_OK)
        rc = icms__chain_check(db, txid, script, script_len, 0, &chain);
    icms_free(script);
    if (rc == ICMS_ENOMEM)
        return rc;
    if (rc) { /* the node is down or confused, or the script unreadable: verify will tell */
        icms_error_clear();
        return ICMS_OK;
    }
    if (chain.status != ICMS__CHAIN_NOT_FOUND && chain.paid == 0)
        return icms__error(ICMS_EINVALID,
                           "transaction %s pays nothing to this payment's address", txid);
    return ICMS_OK;
}

int icms_payment_submit(icms_db *db, const icms_request *req, const char *payment_id,
                        const char *txid, char **out)
{
    if (!icms__chain_txid_valid(txid))
        return icms__error(ICMS_EINVALID, "txid: must be 64 hexadecimal digits");
    struct submit call = {payment_id, {0}};
    for (int i = 0; i < 64; i++)
        call.txid[i] = (char)tolower((unsigned char)txid[i]);
    int rc = check_it_pays(db, req, payment_id, call.txid);
    if (rc)
        return rc;
    cJSON *material = cJSON_CreateObject();
    rc = material ? icms__json_add_string(material, "payment_id", payment_id ? payment_id : "")
                  : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(material, "txid", call.txid);
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "payment.submit", material, submit_payment, &call, out);
    cJSON_Delete(material);
    return rc;
}

/* ---- read ---- */

static int get_payment(icms__cmd *cmd)
{
    uint8_t id[16];
    cJSON *payment = NULL;
    int rc = icms__payment_load(cmd, cmd->arg, id, &payment);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, payment);
    return rc;
}

int icms_payment_get(icms_db *db, const icms_request *req, const char *payment_id, char **out)
{
    return icms__query(db, req, get_payment, (void *)payment_id, out);
}
