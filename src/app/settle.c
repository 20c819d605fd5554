#include "app/settle.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "app/chain.h"
#include "app/command.h"
#include "app/ledger.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/user_stats.h"
#include "core/core.h"

/*
 * Each kind's unique txid index keeps a transaction to one refund, one payout
 * or one release; this keeps it to one of them all. Without it one transaction
 * from the host's wallet settled both a refund and a payout of an investor
 * (both are paid to their refund address): money out counted twice. (A payment
 * may hold the same txid: a refund paid to an address of the host's own wallet
 * that funds a payment is money out and back in, and the ledger says both.)
 */
static int check_unsettled(icms__tx *tx, const char *txid, const icms__record_type *own)
{
    static const struct {
        const icms__record_type *type;
        const char *noun;
    } kinds[] = {
        {&icms__refund_record, "refund"},
        {&icms__payout_record, "payout"},
        {&icms__release_record, "release"},
    };
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, txid);
    for (size_t i = 0; i < ICMS__ARRAY_LEN(kinds); i++) {
        if (kinds[i].type == own)
            continue; /* its own unique index answers at the put */
        uint8_t id[16];
        int rc = icms__record_find_unique(tx, kinds[i].type, "txid", &values, id);
        if (rc == ICMS_ENOTFOUND)
            continue;
        return rc ? rc
                  : icms__error(ICMS_EEXISTS, "transaction %s already settles a %s", txid,
                                kinds[i].noun);
    }
    return ICMS_OK;
}

struct settle {
    const icms__settle_kind *kind;
    const char *id;
    char txid[65];
    char *script_hex;
    int64_t amount;
    int64_t required;
    icms__chain_payment chain;
};

static int load(icms__cmd *cmd, const struct settle *s, uint8_t id[16], cJSON **out)
{
    if (cmd->actor.kind == ICMS_ACTOR_USER && !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return icms__error(ICMS_EFORBIDDEN, "%ss are settled by the host or an admin",
                           s->kind->noun);
    char what[32];
    snprintf(what, sizeof what, "%s id", s->kind->noun);
    int rc = icms__parse_id(s->id, what, id);
    return rc ? rc : icms__record_get(cmd->tx, s->kind->type, id, out);
}

static int check_due(const struct settle *s, const cJSON *record)
{
    const char *status = icms__json_get_string(record, "status");
    if (!status || strcmp(status, "DUE") != 0)
        return icms__error(ICMS_EINVALID_TRANSITION, "the %s is %s, not DUE", s->kind->noun,
                           status ? status : "(unknown)");
    return ICMS_OK;
}

static int read_record(icms__cmd *cmd)
{
    struct settle *s = cmd->arg;
    uint8_t id[16];
    cJSON *record = NULL;
    int rc = load(cmd, s, id, &record);
    if (rc)
        return rc;
    rc = check_due(s, record);
    const char *address = icms__json_get_string(record, "address");
    if (rc == ICMS_OK && !address)
        rc = icms__error(ICMS_EINVALID_TRANSITION, "the %s has no address to pay", s->kind->noun);
    if (rc == ICMS_OK)
        rc = icms__chain_address_script(cmd->db, address, &s->script_hex);
    if (rc == ICMS_OK)
        rc = icms__doc_int(record, "amount", &s->amount);
    if (rc == ICMS_OK)
        rc = icms__doc_int(record, "required_confirmations", &s->required);
    cJSON_Delete(record);
    return rc;
}

static int apply(icms__cmd *cmd)
{
    struct settle *s = cmd->arg;
    uint8_t id[16];
    cJSON *record = NULL;
    int rc = load(cmd, s, id, &record);
    if (rc)
        return rc;
    rc = check_due(s, record);
    if (rc == ICMS_OK &&
        (s->chain.status != ICMS__CHAIN_IN_BLOCK || s->chain.confirmations < s->required))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "the transaction has %lld of %lld confirmations",
                         (long long)(s->chain.confirmations > 0 ? s->chain.confirmations : 0),
                         (long long)s->required);
    else if (rc == ICMS_OK && s->chain.paid < s->amount)
        rc = icms__error(ICMS_EINVALID, "the transaction pays the %s address %lld, not the %lld due",
                         s->kind->noun, (long long)s->chain.paid, (long long)s->amount);
    if (rc == ICMS_OK)
        rc = check_unsettled(cmd->tx, s->txid, s->kind->type);
    icms__posting postings[2];
    const char *recipient = icms__json_get_string(record, s->kind->recipient);
    if (rc == ICMS_OK && !recipient)
        rc = icms__error(ICMS_ECORRUPT, "the %s names no %s", s->kind->noun, s->kind->recipient);
    icms__account(postings[0].account, s->kind->due_account, recipient);
    postings[0].amount = -s->amount;
    icms__account(postings[1].account, "chain", NULL);
    postings[1].amount = s->amount;
    char id_field[32];
    snprintf(id_field, sizeof id_field, "%s_id", s->kind->noun);
    cJSON *ref = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !ref)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, id_field, s->id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "txid", s->txid);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(ref, "amount", s->amount);
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, s->kind->event, postings, 2, ref, NULL);
    uint8_t investor_key[16];
    if (rc == ICMS_OK && s->kind->counts_as_refund)
        rc = icms__parse_id(recipient, "investor id", investor_key);
    if (rc == ICMS_OK && s->kind->counts_as_refund)
        rc = icms__user_stats_add(cmd->tx, investor_key, 0, s->amount, 0);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(record, "status", "PAID");
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(record, "txid", s->txid);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(record, "paid_at", cmd->now_ms);
    if (rc == ICMS_OK) {
        rc = icms__record_put(cmd->tx, s->kind->type, id, record);
        if (rc == ICMS_EEXISTS)
            rc = icms__error(ICMS_EEXISTS, "transaction %s already settles another %s", s->txid,
                             s->kind->noun);
    }
    char action[48];
    snprintf(action, sizeof action, "%s.record", s->kind->noun);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, action, s->id, ref);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, s->kind->event, s->id, ref);
    cJSON_Delete(ref);
    if (rc) {
        cJSON_Delete(record);
        return rc;
    }
    icms__cmd_set_result(cmd, record);
    return ICMS_OK;
}

int icms__settle(icms_db *db, const icms_request *req, const icms__settle_kind *kind,
                 const char *id, const char *txid, char **out)
{
    if (out)
        *out = NULL;
    if (!icms__chain_txid_valid(txid))
        return icms__error(ICMS_EINVALID, "txid: must be 64 hexadecimal digits");
    struct settle s = {kind, id, {0}, NULL, 0, 0, {0}};
    for (int i = 0; i < 64; i++)
        s.txid[i] = (char)tolower((unsigned char)txid[i]);
    /* Read, ask the node outside any transaction, then apply what it showed. */
    int rc = icms__query(db, req, read_record, &s, NULL);
    uint8_t *script = NULL;
    size_t script_len = 0;
    if (rc == ICMS_OK && icms_gapcoin_hex_decode(s.script_hex, &script, &script_len) != ICMS_OK)
        rc = icms__error(ICMS_ECORRUPT, "%s address script is malformed", kind->noun);
    if (rc == ICMS_OK)
        rc = icms__chain_check(db, s.txid, script, script_len, s.required, &s.chain);
    icms_free(script);
    icms_free(s.script_hex);
    if (rc)
        return rc;
    char name[48];
    snprintf(name, sizeof name, "%s.record", kind->noun);
    cJSON *material = cJSON_CreateObject();
    rc = material ? icms__json_add_string(material, "id", id ? id : "")
                  : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(material, "txid", s.txid);
    if (rc == ICMS_OK)
        rc = icms__command(db, req, name, material, apply, &s, out);
    cJSON_Delete(material);
    return rc;
}
