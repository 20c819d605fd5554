/*
 * Retention and icms_tick's share of the events work.
 *
 * An event may go once every registered consumer acknowledged it and it is
 * older than the policy's age; with no consumer registered nothing has been
 * delivered, so nothing goes. The store's last event always stays, because
 * the next seq is derived from it.
 */
#include "app/events_hub.h"
#include "app/notify_doc.h"
#include "core/core.h"
#include "core/json.h"
#include "events/consumer.h"

#define PRUNE_BATCH 256
#define PRUNE_MAX_BATCHES 400 /* bounds one tick; the next carries on */

struct prune_call {
    int64_t cutoff_ms;
    size_t pruned;
    bool more;
};

static int prune_batch(icms__tx *tx, void *arg)
{
    struct prune_call *call = arg;
    call->pruned = 0;
    call->more = false;
    bool any;
    int64_t upto;
    int rc = icms__consumer_min_acked(tx, &any, &upto);
    if (rc || !any)
        return rc;
    return icms__outbox_prune(tx, upto, call->cutoff_ms, PRUNE_BATCH, &call->pruned, &call->more);
}

static int prune(icms_db *db, int64_t *pruned)
{
    icms_events_policy policy;
    icms__events_policy_get(db, &policy);
    *pruned = 0;
    if (policy.retention_ms < 0)
        return ICMS_OK;
    int64_t now = icms__db_now(db);
    struct prune_call call = {now - policy.retention_ms, 0, false};
    int rc = ICMS_OK;
    for (int i = 0; i < PRUNE_MAX_BATCHES; i++) {
        if ((rc = icms__db_write(db, prune_batch, &call)))
            break;
        *pruned += (int64_t)call.pruned;
        if (!call.more)
            break;
    }
    return rc;
}

int icms__events_tick(icms_db *db, cJSON *report)
{
    int64_t pruned = 0;
    /* Route first, so that retention sees the router's cursor at its newest. */
    int rc = icms__notify_run(db, report);
    if (rc == ICMS_OK)
        rc = prune(db, &pruned);
    if (rc == ICMS_OK && report)
        rc = icms__json_add_int64(report, "events_pruned", pruned);
    return rc;
}
