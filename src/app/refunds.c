/*
 * Refunds: what is owed back to investors (an overpayment's excess, a late
 * payment, every contribution to a project that was cancelled or expired),
 * and settling each with the transaction that paid it.
 */
#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "app/chain.h"
#include "app/ledger.h"
#include "app/page.h"
#include "app/payment_doc.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/settle.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/payments.h"

int icms__refund_create(icms__cmd *cmd, const cJSON *payment, int64_t amount, const char *reason)
{
    uint8_t id[16];
    cJSON *refund = cJSON_CreateObject();
    int rc = refund ? icms__uuid7_new(cmd->db->clock, id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(refund, "id", id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(refund, "payment_id", icms__json_get_string(payment, "id"));
    static const char *const copied[] = {"project_id", "investor_id"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(copied); i++)
        rc = icms__doc_set_string(refund, copied[i], icms__json_get_string(payment, copied[i]));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(refund, "address",
                                  icms__json_get_string(payment, "refund_address"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(refund, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(refund, "reason", reason);
    int64_t required = 6;
    icms__json_int64(icms__json_get(payment, "required_confirmations"), &required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(refund, "required_confirmations", required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(refund, "status", "DUE");
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(refund, "txid", NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(refund, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(refund, "paid_at", NULL);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__refund_record, id, refund);
    cJSON *data = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !data)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const fields[] = {"payment_id", "project_id", "investor_id", "reason"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(fields); i++)
        rc = icms__json_add_string(data, fields[i], icms__json_get_string(refund, fields[i]));
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "amount", amount);
    const char *refund_id = refund ? icms__json_get_string(refund, "id") : NULL;
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "refund.create", refund_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "refund.due", refund_id, data);
    cJSON_Delete(data);
    cJSON_Delete(refund);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

/* ---- a project ended ---- */

struct ids {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect(const uint8_t id[16], void *payload)
{
    struct ids *ids = payload;
    if (ids->count == ids->cap) {
        size_t cap = ids->cap ? 2 * ids->cap : 16;
        void *grown = icms__realloc(ids->ids, cap * 16);
        if (!grown)
            return ICMS_ENOMEM;
        ids->ids = grown;
        ids->cap = cap;
    }
    memcpy(ids->ids[ids->count++], id, 16);
    return 0;
}

/* The contribution moves from the project's escrow to what is owed the investor. */
static int refund_contribution(icms__cmd *cmd, const cJSON *payment, const char *reason)
{
    int64_t credited = 0;
    icms__json_int64(icms__json_get(payment, "credited"), &credited);
    if (credited <= 0)
        return ICMS_OK;
    icms__posting postings[2];
    icms__account(postings[0].account, "escrow", icms__json_get_string(payment, "project_id"));
    postings[0].amount = -credited;
    icms__account(postings[1].account, "refunds_due",
                  icms__json_get_string(payment, "investor_id"));
    postings[1].amount = credited;
    cJSON *ref = cJSON_CreateObject();
    int rc = ref ? icms__json_add_string(ref, "payment_id", icms__json_get_string(payment, "id"))
                 : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, "refund.due", postings, 2, ref, NULL);
    cJSON_Delete(ref);
    if (rc == ICMS_OK)
        rc = icms__refund_create(cmd, payment, credited, reason);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

/* A payment still waiting for its transaction closes with the project. */
static int expire_pending(icms__cmd *cmd, cJSON *payment, const uint8_t id[16])
{
    icms__payment_facts facts = {.now_ms = cmd->now_ms, .project_ended = true, .expected = 1};
    icms__payment_decision decision;
    int rc = icms__payment_decide(ICMS_PAYMENT_PENDING, ICMS__PAYMENT_EXPIRE, ICMS__PARTY_SYSTEM,
                                  &facts, &decision);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(payment, "status", icms_payment_status_name(decision.to));
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__payment_record, id, payment);
    const char *pid = icms__json_get_string(payment, "id");
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "payment.expire", pid, NULL);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, decision.event, pid, NULL);
    return rc;
}

int icms__refunds_for_ended_project(icms__cmd *cmd, const cJSON *project)
{
    uint8_t project_key[16];
    int rc = icms__parse_id(icms__json_get_string(project, "id"), "project id", project_key);
    if (rc)
        return rc;
    const char *state = icms__json_get_string(project, "state");
    const char *reason = state && strcmp(state, "EXPIRED") == 0 ? "project expired"
                                                                 : "project cancelled";
    struct ids ids = {NULL, 0, 0};
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, project_key);
    /* Collect first: a scan's callback may not write through the transaction it scans. */
    rc = icms__record_scan_index(cmd->tx, &icms__payment_record, "by_project", &values, NULL, 0,
                                 collect, &ids);
    for (size_t i = 0; rc == ICMS_OK && i < ids.count; i++) {
        cJSON *payment = NULL;
        icms_payment_status_t status;
        rc = icms__record_get(cmd->tx, &icms__payment_record, ids.ids[i], &payment);
        if (rc == ICMS_OK)
            rc = icms__payment_status(payment, &status);
        if (rc == ICMS_OK && (status == ICMS_PAYMENT_CONFIRMED || status == ICMS_PAYMENT_PARTIAL))
            rc = refund_contribution(cmd, payment, reason);
        else if (rc == ICMS_OK && status == ICMS_PAYMENT_PENDING)
            rc = expire_pending(cmd, payment, ids.ids[i]);
        cJSON_Delete(payment);
    }
    icms__free(ids.ids);
    return rc;
}

/* ---- settling a refund ---- */

static const icms__settle_kind refund_kind = {"refund",      &icms__refund_record, "investor_id",
                                              "refunds_due", "refund.paid",        true};

int icms_refund_record(icms_db *db, const icms_request *req, const char *refund_id,
                       const char *txid, char **out)
{
    return icms__settle(db, req, &refund_kind, refund_id, txid, out);
}
