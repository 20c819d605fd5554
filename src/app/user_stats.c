/* Investor history: the per-user totals record and the query that reads it. */
#include "app/user_stats.h"

#include "app/records.h"
#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/users.h"

const icms__record_type icms__user_stats_record = {"user_stats", NULL, 0};

static const char *const names[3] = {"invested", "refunded", "projects_joined"};

int icms__user_stats_get(icms__tx *tx, const uint8_t id[16], icms__user_stats *out)
{
    *out = (icms__user_stats){0, 0, 0};
    const cJSON *doc = NULL; /* borrowed: only read */
    int rc = icms__record_peek(tx, &icms__user_stats_record, id, &doc);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK;
    if (rc)
        return rc;
    int64_t *fields[3] = {&out->invested, &out->refunded, &out->projects_joined};
    for (size_t i = 0; i < 3 && rc == ICMS_OK; i++)
        if (!icms__json_int64(icms__json_get(doc, names[i]), fields[i]) || *fields[i] < 0)
            rc = icms__error(ICMS_ECORRUPT, "user_stats record has no valid %s", names[i]);
    return rc;
}

int icms__user_stats_add(icms__tx *tx, const uint8_t id[16], int64_t invested_delta,
                         int64_t refunded_delta, int64_t joined_delta)
{
    if (invested_delta == 0 && refunded_delta == 0 && joined_delta == 0)
        return ICMS_OK;
    /* Totals belong to a user; a stray id is a caller's bug, caught here. */
    icms__key key;
    const uint8_t *value;
    size_t len;
    icms__record_key(&key, &icms__user_record, id);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "user_stats: user not found");
    if (rc)
        return rc;
    icms__user_stats stats;
    if ((rc = icms__user_stats_get(tx, id, &stats)))
        return rc;
    int64_t *totals[3] = {&stats.invested, &stats.refunded, &stats.projects_joined};
    const int64_t deltas[3] = {invested_delta, refunded_delta, joined_delta};
    for (size_t i = 0; i < 3; i++) {
        if (!icms__add_i64(*totals[i], deltas[i], totals[i]))
            return icms__error(ICMS_EINVALID, "user_stats: %s would overflow", names[i]);
        if (*totals[i] < 0)
            return icms__error(ICMS_EINVALID, "user_stats: %s would drop below zero", names[i]);
    }
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? icms__json_add_uuid(doc, "user_id", id) : icms__error(ICMS_ENOMEM, "out of memory");
    for (size_t i = 0; i < 3 && rc == ICMS_OK; i++)
        rc = icms__json_add_int64(doc, names[i], *totals[i]);
    if (rc == ICMS_OK)
        rc = icms__record_put(tx, &icms__user_stats_record, id, doc);
    cJSON_Delete(doc);
    return rc;
}

/* ---- the query ---- */

struct history_arg {
    uint8_t id[16];
};

static int history(icms__cmd *cmd)
{
    const struct history_arg *arg = cmd->arg;
    cJSON *user = NULL;
    int rc = icms__user_load_target(cmd, arg->id, true, "user.history", &user);
    cJSON_Delete(user);
    icms__user_stats stats;
    if (rc == ICMS_OK)
        rc = icms__user_stats_get(cmd->tx, arg->id, &stats);
    cJSON *doc = NULL;
    if (rc == ICMS_OK) {
        doc = cJSON_CreateObject();
        rc = doc ? icms__json_add_uuid(doc, "user_id", arg->id)
                 : icms__error(ICMS_ENOMEM, "out of memory");
    }
    const int64_t values[3] = {stats.invested, stats.refunded, stats.projects_joined};
    for (size_t i = 0; i < 3 && rc == ICMS_OK; i++)
        rc = icms__json_add_int64(doc, names[i], values[i]);
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc;
}

int icms_user_history(icms_db *db, const icms_request *req, const char *id, char **out)
{
    if (out)
        *out = NULL;
    struct history_arg arg;
    int rc = icms__user_parse_id(id, arg.id);
    if (rc)
        return rc;
    return icms__query(db, req, history, &arg, out);
}
