/*
 * Distributions of a completed project and the payouts they create.
 *
 * The profit the owner declares is shared among PROFIT participants pro rata
 * to their capital (largest remainder: the shares sum to the profit exactly);
 * each is paid its capital back with its share. PRODUCTS participants receive
 * their reserved units, listed in the distribution. On the ledger the
 * payouts come from the project's proceeds account.
 */
#include <stdio.h>
#include <string.h>

#include "app/ledger.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/settle.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/gapcoin.h"
#include "icms/payments.h"

static const icms__json_field distribute_fields[] = {
    /* No profit exceeds every coin there will ever be (nor could a transaction pay it). */
    ICMS__JSON_F_INT("profit", ICMS__JSON_REQUIRED, 0, ICMS_GAPCOIN_MAX_MONEY),
};
static const icms__json_schema distribute_schema = ICMS__JSON_SCHEMA(distribute_fields);

struct distribute {
    const char *project_id;
    int64_t profit;
};

struct approved {
    cJSON **docs;
    size_t count, cap;
    icms__tx *tx;
};

static int take_approved(const uint8_t id[16], void *payload)
{
    struct approved *a = payload;
    cJSON *p = NULL;
    int rc = icms__record_get(a->tx, &icms__participation_record, id, &p);
    if (rc)
        return rc;
    const char *status = icms__json_get_string(p, "status");
    if (!status || strcmp(status, "APPROVED") != 0) {
        cJSON_Delete(p);
        return 0;
    }
    if (a->count == a->cap) {
        size_t cap = a->cap ? 2 * a->cap : 16;
        cJSON **grown = icms__realloc(a->docs, cap * sizeof *grown);
        if (!grown) {
            cJSON_Delete(p);
            return ICMS_ENOMEM;
        }
        a->docs = grown;
        a->cap = cap;
    }
    a->docs[a->count++] = p;
    return 0;
}

/*
 * Where an investor's money goes: the refund address of their last payment to
 * this request. The request's own payments are scanned (by_participation), not
 * the investor's: an investor may have paid into many projects, and each payout
 * must read only what concerns it.
 */
struct address_find {
    const char *participation_id;
    icms__tx *tx;
    char address[100];
};

static int find_address(const uint8_t id[16], void *payload)
{
    struct address_find *f = payload;
    cJSON *payment = NULL;
    int rc = icms__record_get(f->tx, &icms__payment_record, id, &payment);
    if (rc)
        return rc;
    const char *participation = icms__json_get_string(payment, "participation_id");
    const char *address = icms__json_get_string(payment, "refund_address");
    if (participation && address && strcmp(participation, f->participation_id) == 0)
        snprintf(f->address, sizeof f->address, "%s", address);
    cJSON_Delete(payment);
    return 0;
}

static int new_payout(icms__cmd *cmd, const cJSON *project, const cJSON *p, int64_t capital,
                      int64_t share, cJSON *line)
{
    uint8_t id[16];
    int64_t amount;
    if (!icms__add_i64(capital, share, &amount))
        return icms__error(ICMS_EINVALID, "payout overflows");
    struct address_find find = {icms__json_get_string(p, "id"), cmd->tx, {0}};
    icms__key values;
    icms__key_init(&values);
    uint8_t participation[16];
    int rc = icms__parse_id(find.participation_id, "participation id", participation);
    icms__key_id(&values, participation);
    if (rc == ICMS_OK)
        rc = icms__record_scan_index(cmd->tx, &icms__payment_record, "by_participation", &values,
                                     NULL, 0, find_address, &find);
    cJSON *payout = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !payout)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(payout, "id", id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payout, "project_id", icms__json_get_string(project, "id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payout, "investor_id", icms__json_get_string(p, "investor_id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payout, "participation_id", icms__json_get_string(p, "id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(payout, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(payout, "capital", capital);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(payout, "profit_share", share);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payout, "address", find.address[0] ? find.address : NULL);
    int64_t required = 6;
    icms__json_int64(icms__json_get(project, "confirmations"), &required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(payout, "required_confirmations", required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payout, "status", "DUE");
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(payout, "txid", NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(payout, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(payout, "paid_at", NULL);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__payout_record, id, payout);
    icms__posting postings[2];
    icms__account(postings[0].account, "proceeds", icms__json_get_string(project, "id"));
    postings[0].amount = -amount;
    icms__account(postings[1].account, "payouts_due", icms__json_get_string(p, "investor_id"));
    postings[1].amount = amount;
    cJSON *ref = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !ref)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    const char *payout_id = payout ? icms__json_get_string(payout, "id") : NULL;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "payout_id", payout_id);
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, "payout.due", postings, 2, ref, NULL);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(ref, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "payout.due", payout_id, ref);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(line, "payout_id", payout_id);
    cJSON_Delete(ref);
    cJSON_Delete(payout);
    return rc;
}

static int distribute(icms__cmd *cmd)
{
    struct distribute *call = cmd->arg;
    uint8_t key[16];
    cJSON *project = NULL;
    int rc = icms__project_load(cmd, call->project_id, key, &project);
    if (rc)
        return rc;
    if (cmd->actor.kind == ICMS_ACTOR_USER && !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        rc = icms__error(ICMS_EFORBIDDEN, "distributions are made by an admin");
    const char *state = icms__json_get_string(project, "state");
    if (rc == ICMS_OK && (!state || strcmp(state, "COMPLETED") != 0))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "a project is distributed once COMPLETED, not %s",
                         state ? state : "(unknown)");
    if (rc == ICMS_OK && icms__json_get(project, "distribution"))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "the project was already distributed");

    struct approved a = {NULL, 0, 0, cmd->tx};
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, key);
    if (rc == ICMS_OK)
        rc = icms__record_scan_index(cmd->tx, &icms__participation_record, "by_project", &values,
                                     NULL, 0, take_approved, &a);
    /* Shares of the profit, by capital, among PROFIT participants only. */
    int64_t *weights = rc == ICMS_OK ? icms__calloc(a.count + 1, sizeof *weights) : NULL;
    int64_t *shares = rc == ICMS_OK ? icms__calloc(a.count + 1, sizeof *shares) : NULL;
    if (rc == ICMS_OK && (!weights || !shares))
        rc = ICMS_ENOMEM;
    size_t profit_parties = 0;
    for (size_t i = 0; rc == ICMS_OK && i < a.count; i++) {
        const char *type = icms__json_get_string(a.docs[i], "type");
        if (type && strcmp(type, "PROFIT") == 0) {
            weights[i] = 0;
            icms__json_int64(icms__json_get(a.docs[i], "paid"), &weights[i]);
            profit_parties++;
        }
    }
    if (rc == ICMS_OK && call->profit > 0 && profit_parties > 0)
        rc = icms__distribute(call->profit, weights, a.count, shares);

    cJSON *doc = rc == ICMS_OK ? cJSON_CreateObject() : NULL, *items = NULL;
    if (rc == ICMS_OK && !doc)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "profit", profit_parties ? call->profit : 0);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_array(doc, "items", &items);
    int64_t owed = 0; /* the sum of the payouts so far */
    for (size_t i = 0; rc == ICMS_OK && i < a.count; i++) {
        const cJSON *p = a.docs[i];
        cJSON *line = cJSON_CreateObject();
        rc = line ? ICMS_OK : ICMS_ENOMEM;
        static const char *const copied[] = {"id", "investor_id", "type"};
        for (size_t f = 0; rc == ICMS_OK && f < ICMS__ARRAY_LEN(copied); f++)
            rc = icms__json_add_string(line, f ? copied[f] : "participation_id",
                                       icms__json_get_string(p, copied[f]));
        const char *type = icms__json_get_string(p, "type");
        if (rc == ICMS_OK && type && strcmp(type, "PRODUCTS") == 0) {
            rc = icms__json_add(line, "units", cJSON_Duplicate(icms__json_get(p, "items"), true));
        } else if (rc == ICMS_OK) {
            rc = icms__json_add_int64(line, "capital", weights[i]);
            if (rc == ICMS_OK)
                rc = icms__json_add_int64(line, "profit_share", shares[i]);
            /*
             * A payout is settled by one transaction, which pays at most MAX_MONEY: a larger
             * one could be made due and never paid. The sum is checked all the same.
             */
            int64_t amount = 0;
            if (rc == ICMS_OK &&
                (!icms__add_i64(weights[i], shares[i], &amount) ||
                 amount > ICMS_GAPCOIN_MAX_MONEY || !icms__add_i64(owed, amount, &owed)))
                rc = icms__error(ICMS_EINVALID,
                                 "profit: a payout of capital and profit would exceed %lld base "
                                 "units, the most a transaction pays",
                                 (long long)ICMS_GAPCOIN_MAX_MONEY);
            if (rc == ICMS_OK && amount > 0)
                rc = new_payout(cmd, project, p, weights[i], shares[i], line);
        }
        if (rc == ICMS_OK)
            rc = icms__json_add(items, NULL, line);
        else
            cJSON_Delete(line);
    }
    if (rc == ICMS_OK) {
        rc = icms__json_add(project, "distribution", doc);
        doc = NULL;
    }
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, key, project);
    cJSON *data = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !data)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "profit", call->profit);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "project.distribute", call->project_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "project.distributed", call->project_id, data);
    cJSON_Delete(data);
    cJSON_Delete(doc);
    for (size_t i = 0; i < a.count; i++)
        cJSON_Delete(a.docs[i]);
    icms__free(a.docs);
    icms__free(weights);
    icms__free(shares);
    if (rc) {
        cJSON_Delete(project);
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    icms__cmd_set_result(cmd, project);
    return ICMS_OK;
}

int icms_project_distribute(icms_db *db, const icms_request *req, const char *project_id,
                            const char *json, char **out)
{
    cJSON *input = NULL;
    int rc = icms__project_input(json, &distribute_schema, &input);
    if (rc)
        return rc;
    struct distribute call = {project_id, 0};
    icms__json_int64(icms__json_get(input, "profit"), &call.profit);
    rc = icms__json_add_string(input, "project_id", project_id ? project_id : "");
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "project.distribute", input, distribute, &call, out);
    cJSON_Delete(input);
    return rc;
}

static const icms__settle_kind payout_kind = {"payout",      &icms__payout_record, "investor_id",
                                              "payouts_due", "payout.paid",        false};

int icms_payout_record(icms_db *db, const icms_request *req, const char *payout_id,
                       const char *txid, char **out)
{
    return icms__settle(db, req, &payout_kind, payout_id, txid, out);
}
