/*
 * The payment part of icms_tick: close payment windows that passed without a
 * transaction, verify submitted payments, and re-verify confirmed ones while
 * their project can still be un-funded (before APPROVED), so a re-org or a
 * double spend is found. Each payment is handled by its own command, which
 * decides again from what it reads then; a node that is down ends the
 * verification part of this tick (nothing is lost: the next tick retries).
 */
#include <string.h>

#include "app/payment_doc.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/tick_payments.h"
#include "core/core.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "icms/payments.h"

#define BATCH 64

struct batch {
    const char *status;
    uint8_t ids[BATCH][16];
    size_t count;
};

static int take(const uint8_t id[16], void *payload)
{
    struct batch *b = payload;
    if (b->count == BATCH)
        return ICMS_STORE_STOP;
    memcpy(b->ids[b->count++], id, 16);
    return 0;
}

static int read_batch(icms__cmd *cmd)
{
    struct batch *b = cmd->arg;
    b->count = 0;
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, b->status);
    return icms__record_scan_index(cmd->tx, &icms__payment_record, "by_status", &values, NULL, 0,
                                   take, b);
}

static int expire_one(icms__cmd *cmd)
{
    const uint8_t *id = cmd->arg;
    cJSON *payment = NULL;
    int rc = icms__record_get(cmd->tx, &icms__payment_record, id, &payment);
    if (rc)
        return rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
    icms_payment_status_t status;
    int64_t expires = 0;
    const char *expires_text = icms__json_get_string(payment, "expires_at");
    rc = icms__payment_status(payment, &status);
    if (rc == ICMS_OK &&
        (!expires_text || icms__time_parse(expires_text, strlen(expires_text), &expires)))
        rc = icms__error(ICMS_ECORRUPT, "payment without a valid expires_at");
    icms__payment_facts facts = {.now_ms = cmd->now_ms, .expires_at_ms = expires, .expected = 1};
    icms__payment_decision decision;
    if (rc == ICMS_OK && status == ICMS_PAYMENT_PENDING && cmd->now_ms >= expires) {
        rc = icms__payment_decide(status, ICMS__PAYMENT_EXPIRE, ICMS__PARTY_SYSTEM, &facts,
                                  &decision);
        if (rc == ICMS_OK)
            rc = icms__doc_set_string(payment, "status", icms_payment_status_name(decision.to));
        if (rc == ICMS_OK)
            rc = icms__doc_set_time(payment, "updated_at", cmd->now_ms);
        if (rc == ICMS_OK)
            rc = icms__record_put(cmd->tx, &icms__payment_record, id, payment);
        const char *pid = icms__json_get_string(payment, "id");
        if (rc == ICMS_OK)
            rc = icms__cmd_audit(cmd, "payment.expire", pid, NULL);
        if (rc == ICMS_OK)
            rc = icms__cmd_event(cmd, decision.event, pid, NULL);
    }
    cJSON_Delete(payment);
    return rc;
}

int icms__tick_payments(icms_db *db, icms__tick_payment_report *report)
{
    icms_request system = ICMS_REQUEST_INIT;
    system.actor_kind = ICMS_ACTOR_SYSTEM;
    struct batch b;
    memset(&b, 0, sizeof b);

    b.status = "PENDING";
    int rc = icms__query(db, &system, read_batch, &b, NULL);
    for (size_t i = 0; rc == ICMS_OK && i < b.count; i++)
        rc = icms__command(db, &system, "payment.expire", NULL, expire_one, b.ids[i], NULL);
    if (rc)
        return rc;

    if (!db->gapcoin)
        return ICMS_OK; /* no node: nothing can be verified */
    /* Re-checks first, so that a payment confirmed by this tick is not asked about twice. */
    static const char *const verified[] = {"CONFIRMED", "PARTIAL", "SUBMITTED"};
    for (size_t s = 0; s < ICMS__ARRAY_LEN(verified); s++) {
        b.status = verified[s];
        if ((rc = icms__query(db, &system, read_batch, &b, NULL)))
            return rc;
        for (size_t i = 0; i < b.count; i++) {
            char id[ICMS_UUID_STRING_SIZE];
            icms__uuid_format(b.ids[i], id);
            rc = icms_payment_verify(db, &system, id, NULL);
            if (rc == ICMS_ETRANSPORT) {
                report->node_errors++;
                icms_error_clear();
                return ICMS_OK; /* the node is down or confused: try again next tick */
            }
            if (rc == ICMS_EINVALID_TRANSITION || rc == ICMS_ECORRUPT) {
                icms_error_clear(); /* moved on meanwhile, or a node answering nonsense */
                rc = ICMS_OK;
            }
            if (rc)
                return rc;
            report->verified++;
        }
    }
    return ICMS_OK;
}
