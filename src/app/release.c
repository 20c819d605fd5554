/*
 * Releasing a project's escrow to its owner.
 *
 * Contributions wait in escrow:P while a project is funded. When an admin
 * approves the project, everything the escrow holds becomes due to the
 * owner in the same transaction: a release record DUE to the payout address
 * the owner gave, and the ledger entry release.due (escrow:P -> owner_due:O).
 * The host's wallet pays the owner; icms_release_record settles the release
 * with that transaction exactly as refunds and payouts are settled
 * (settle.c). Payments can no longer be reversed once a project is approved
 * (icms__project_funds_reversible), so the released amount never shrinks.
 * An admin may still cancel an approved project while its release is DUE:
 * the release is voided back into the escrow and refunded from there.
 */
#include "app/release.h"

#include <string.h>

#include "app/chain.h"
#include "app/ledger.h"
#include "app/project_cmd.h"
#include "app/settle.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/payments.h"

/* ---- on approval ---- */

/* What release.due and release.voided carry, in the audit entry and the event. */
static int release_data(const cJSON *release, cJSON **out)
{
    cJSON *data = cJSON_CreateObject();
    int rc = data ? ICMS_OK : ICMS_ENOMEM;
    static const char *const fields[] = {"project_id", "owner_id", "address"};
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "release_id", icms__json_get_string(release, "id"));
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(fields); i++)
        rc = icms__json_add_string(data, fields[i], icms__json_get_string(release, fields[i]));
    int64_t amount = 0;
    icms__json_int64(icms__json_get(release, "amount"), &amount);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "amount", amount);
    if (rc) {
        cJSON_Delete(data);
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    *out = data;
    return ICMS_OK;
}

/* Move amount between the project's escrow and what is owed its owner (negative: back). */
static int post(icms__cmd *cmd, const char *kind, const cJSON *release, int64_t amount)
{
    icms__posting postings[2];
    icms__account(postings[0].account, "escrow", icms__json_get_string(release, "project_id"));
    postings[0].amount = -amount;
    icms__account(postings[1].account, "owner_due", icms__json_get_string(release, "owner_id"));
    postings[1].amount = amount;
    cJSON *ref = cJSON_CreateObject();
    int rc = ref ? icms__json_add_string(ref, "release_id", icms__json_get_string(release, "id"))
                 : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ref, "project_id", icms__json_get_string(release, "project_id"));
    if (rc == ICMS_OK)
        rc = icms__ledger_post(cmd->tx, cmd->now_ms, kind, postings, 2, ref, NULL);
    cJSON_Delete(ref);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

static int new_release(icms__cmd *cmd, const cJSON *project, int64_t amount, uint8_t id[16],
                       cJSON **out)
{
    cJSON *release = cJSON_CreateObject();
    int rc = release ? icms__uuid7_new(cmd->db->clock, id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(release, "id", id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(release, "project_id", icms__json_get_string(project, "id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(release, "owner_id", icms__json_get_string(project, "owner_id"));
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(release, "amount", amount);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(release, "address",
                                  icms__json_get_string(project, "payout_address"));
    int64_t required = 6;
    icms__json_int64(icms__json_get(project, "confirmations"), &required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(release, "required_confirmations", required);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(release, "status", "DUE");
    static const char *const unset[] = {"txid", "paid_at", "voided_at"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(unset); i++)
        rc = icms__doc_set_copy(release, unset[i], NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(release, "created_at", cmd->now_ms);
    if (rc) {
        cJSON_Delete(release);
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    *out = release;
    return ICMS_OK;
}

int icms__release_create(icms__cmd *cmd, cJSON *project)
{
    const char *project_id = icms__json_get_string(project, "id");
    if (!icms__json_get_string(project, "payout_address"))
        return icms__error(ICMS_EINVALID_TRANSITION,
                           "the owner has given no payout address for the released funds "
                           "(icms_project_set_payout_address)");
    if (icms__json_get_string(project, "release_id"))
        return icms__error(ICMS_ECORRUPT, "project %s already released its escrow", project_id);
    /* All the escrow holds, which must be exactly what the project counts as funded. */
    char escrow[ICMS__ACCOUNT_MAX];
    icms__account(escrow, "escrow", project_id);
    int64_t held = 0, funded = 0;
    int rc = icms__ledger_balance(cmd->tx, escrow, &held);
    if (rc == ICMS_OK)
        rc = icms__doc_int(project, "funded", &funded);
    if (rc == ICMS_OK && (held != funded || held <= 0))
        rc = icms__error(ICMS_ECORRUPT, "project %s: escrow holds %lld but funded is %lld",
                         project_id, (long long)held, (long long)funded);
    uint8_t id[16];
    cJSON *release = NULL, *data = NULL;
    if (rc == ICMS_OK)
        rc = new_release(cmd, project, held, id, &release);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__release_record, id, release);
    if (rc == ICMS_OK)
        rc = post(cmd, "release.due", release, held);
    const char *release_id = release ? icms__json_get_string(release, "id") : NULL;
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(project, "release_id", release_id);
    if (rc == ICMS_OK)
        rc = release_data(release, &data);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "release.create", release_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "release.due", release_id, data);
    cJSON_Delete(data);
    cJSON_Delete(release);
    return rc;
}

/* ---- an approved project cancelled ---- */

int icms__release_void(icms__cmd *cmd, const cJSON *project)
{
    const char *release_id = icms__json_get_string(project, "release_id");
    if (!release_id)
        return ICMS_OK;
    uint8_t id[16];
    cJSON *release = NULL, *data = NULL;
    int rc = icms__parse_id(release_id, "release id", id);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__release_record, id, &release);
    const char *status = rc == ICMS_OK ? icms__json_get_string(release, "status") : NULL;
    int64_t amount = 0;
    if (rc == ICMS_OK && status && strcmp(status, "VOIDED") == 0) {
        cJSON_Delete(release);
        return ICMS_OK;
    }
    if (rc == ICMS_OK && (!status || strcmp(status, "DUE") != 0))
        rc = icms__error(ICMS_EINVALID_TRANSITION,
                         "the project's funds were paid out to its owner (release %s is %s); "
                         "it can no longer be cancelled",
                         release_id, status ? status : "(unknown)");
    if (rc == ICMS_OK)
        rc = icms__doc_int(release, "amount", &amount);
    if (rc == ICMS_OK)
        rc = post(cmd, "release.voided", release, -amount);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(release, "status", "VOIDED");
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(release, "voided_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__release_record, id, release);
    if (rc == ICMS_OK)
        rc = release_data(release, &data);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "release.void", release_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "release.voided", release_id, data);
    cJSON_Delete(data);
    cJSON_Delete(release);
    return rc;
}

/* ---- reading and settling ---- */

static int get_release(icms__cmd *cmd)
{
    uint8_t id[16];
    cJSON *release = NULL;
    int rc = icms__parse_id(cmd->arg, "release id", id);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__release_record, id, &release);
    if (rc)
        return rc;
    const char *owner = icms__json_get_string(release, "owner_id");
    bool own = !cmd->actor.anonymous && cmd->actor.kind == ICMS_ACTOR_USER && owner &&
               strcmp(owner, cmd->actor.id_text) == 0;
    bool admin = cmd->actor.kind != ICMS_ACTOR_USER ||
                 (!cmd->actor.anonymous && icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN));
    if (!own && !admin) {
        cJSON_Delete(release);
        return icms__error(ICMS_EFORBIDDEN, "a release is read by the project's owner and admins");
    }
    icms__cmd_set_result(cmd, release);
    return ICMS_OK;
}

int icms_release_get(icms_db *db, const icms_request *req, const char *release_id, char **out)
{
    return icms__query(db, req, get_release, (void *)release_id, out);
}

static const icms__settle_kind release_kind = {"release",   &icms__release_record, "owner_id",
                                               "owner_due", "release.paid",        false};

int icms_release_record(icms_db *db, const icms_request *req, const char *release_id,
                        const char *txid, char **out)
{
    return icms__settle(db, req, &release_kind, release_id, txid, out);
}
