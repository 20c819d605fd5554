/*
 * Where a project's owner is paid when its escrow is released: the
 * project's payout_address, given at creation, while a draft is edited, or
 * with icms_project_set_payout_address until the project is approved.
 * Approval needs it (release.c); from then on the release record holds it.
 */
#include <string.h>

#include "app/chain.h"
#include "app/project_cmd.h"
#include "app/release.h"
#include "core/core.h"
#include "icms/projects.h"

#define PAYOUT_ADDRESS_MAX 100

int icms__payout_address_check(icms_db *db, const cJSON *doc)
{
    const char *address = icms__json_get_string(doc, "payout_address");
    if (!address)
        return ICMS_OK;
    char *script = NULL;
    int rc = icms__chain_address_script(db, address, &script);
    icms_free(script);
    return rc ? icms__error_wrap(rc, "payout_address") : ICMS_OK;
}

struct set_address {
    const char *project_id;
    const char *address;
};

static int set_address(icms__cmd *cmd)
{
    struct set_address *call = cmd->arg;
    uint8_t id[16];
    cJSON *project = NULL;
    int rc = icms__project_load(cmd, call->project_id, id, &project);
    if (rc)
        return rc;
    const char *owner = icms__json_get_string(project, "owner_id");
    bool own = cmd->actor.kind == ICMS_ACTOR_USER && !cmd->actor.anonymous && owner &&
               strcmp(owner, cmd->actor.id_text) == 0;
    if (!own && cmd->actor.kind != ICMS_ACTOR_HOST)
        rc = icms__error(ICMS_EFORBIDDEN, "the payout address is the project owner's to give");
    icms_project_state_t state = ICMS_PROJECT_DRAFT;
    if (rc == ICMS_OK)
        rc = icms__project_state(project, &state);
    /* Until approval: then the release is made to the address given, and it stays so. */
    if (rc == ICMS_OK && state != ICMS_PROJECT_DRAFT && state != ICMS_PROJECT_PUBLISHED &&
        state != ICMS_PROJECT_FUNDING && state != ICMS_PROJECT_FULLY_FUNDED &&
        state != ICMS_PROJECT_PENDING_ADMIN_APPROVAL)
        rc = icms__error(ICMS_EINVALID_TRANSITION,
                         "the payout address is fixed once a project is approved or ended (%s)",
                         icms_project_state_name(state));
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(project, "payout_address", call->address);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, id, project);
    cJSON *data = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
    if (rc == ICMS_OK && !data)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    int64_t total = 0;
    icms__json_int64(icms__json_get(project, "total_cost"), &total);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "payout_address", call->address);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "project.set_payout_address", call->project_id, data);
    /* Subscribers see a project.updated, as for any other change of its details. */
    if (rc == ICMS_OK)
        cJSON_DeleteItemFromObjectCaseSensitive(data, "payout_address");
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "total_cost", total);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "project.updated", call->project_id, data);
    cJSON_Delete(data);
    if (rc) {
        cJSON_Delete(project);
        return rc;
    }
    icms__cmd_set_result(cmd, project);
    return ICMS_OK;
}

int icms_project_set_payout_address(icms_db *db, const icms_request *req, const char *project_id,
                                    const char *address, char **out)
{
    if (out)
        *out = NULL;
    if (!address || !*address || strnlen(address, PAYOUT_ADDRESS_MAX + 1) > PAYOUT_ADDRESS_MAX)
        return icms__error(ICMS_EINVALID, "payout_address: must be 1 to %d bytes",
                           PAYOUT_ADDRESS_MAX);
    if (!db)
        return icms__error(ICMS_EINVALID, "a database is required");
    char *script = NULL;
    int rc = icms__chain_address_script(db, address, &script);
    icms_free(script);
    if (rc)
        return icms__error_wrap(rc, "payout_address");
    struct set_address call = {project_id, address};
    cJSON *material = cJSON_CreateObject();
    rc = material ? icms__json_add_string(material, "project_id", project_id ? project_id : "")
                  : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(material, "payout_address", address);
    if (rc == ICMS_OK)
        rc =
            icms__command(db, req, "project.set_payout_address", material, set_address, &call, out);
    cJSON_Delete(material);
    return rc;
}
