/* The acts that move a project along its lifecycle. */
#include <stdio.h>
#include <string.h>

#include "app/project_cmd.h"
#include "app/release.h"
#include "core/core.h"
#include "core/utf8.h"
#include "icms/projects.h"

struct act {
    const char *project_id;
    icms__project_action_t action;
    const cJSON *document; /* logistics for ship; borrowed */
    const char *reason;    /* cancellation */
};

static int act_on_project(icms__cmd *cmd)
{
    struct act *act = cmd->arg;
    uint8_t id[16];
    cJSON *project = NULL, *data = cJSON_CreateObject();
    int rc = data ? icms__project_load(cmd, act->project_id, id, &project) : ICMS_ENOMEM;
    if (rc == ICMS_OK && act->reason)
        rc = icms__json_add_string(data, "reason", act->reason);
    /* Cancelling an approved project takes its release back into the escrow, to refund it. */
    if (rc == ICMS_OK && act->action == ICMS__PROJECT_CANCEL)
        rc = icms__project_check(cmd, project, act->action);
    if (rc == ICMS_OK && act->action == ICMS__PROJECT_CANCEL)
        rc = icms__release_void(cmd, project);
    if (rc == ICMS_OK)
        rc = icms__project_transition(cmd, project, act->action, data);
    /* Approval releases the escrow to the owner, in the same transaction. */
    if (rc == ICMS_OK && act->action == ICMS__PROJECT_APPROVE)
        rc = icms__release_create(cmd, project);
    /* What the act records on the project, once the rules allowed it. */
    if (rc == ICMS_OK && act->document)
        rc = icms__doc_set_copy(project, "logistics", act->document);
    if (rc == ICMS_OK && act->reason)
        rc = icms__doc_set_string(project, "cancel_reason", act->reason);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, id, project);
    cJSON_Delete(data);
    if (rc) {
        cJSON_Delete(project);
        return rc;
    }
    icms__cmd_set_result(cmd, project);
    return ICMS_OK;
}

static int run_act(icms_db *db, const icms_request *req, struct act *act, char **out)
{
    cJSON *material = cJSON_CreateObject();
    int rc = material ? icms__json_add_string(material, "project_id",
                                              act->project_id ? act->project_id : "")
                      : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK && act->reason)
        rc = icms__json_add_string(material, "reason", act->reason);
    if (rc == ICMS_OK && act->document)
        rc = icms__json_add(material, "logistics", cJSON_Duplicate(act->document, true));
    char name[64];
    snprintf(name, sizeof name, "project.%s", icms__project_action_name(act->action));
    if (rc == ICMS_OK)
        rc = icms__command(db, req, name, material, act_on_project, act, out);
    cJSON_Delete(material);
    return rc;
}

int icms_project_publish(icms_db *db, const icms_request *req, const char *project_id,
                         char **out)
{
    struct act act = {project_id, ICMS__PROJECT_PUBLISH, NULL, NULL};
    return run_act(db, req, &act, out);
}

int icms_project_approve(icms_db *db, const icms_request *req, const char *project_id,
                         char **out)
{
    struct act act = {project_id, ICMS__PROJECT_APPROVE, NULL, NULL};
    return run_act(db, req, &act, out);
}

int icms_project_ship(icms_db *db, const icms_request *req, const char *project_id,
                      const char *logistics_json, char **out)
{
    cJSON *logistics = NULL;
    int rc = icms__project_input(logistics_json, &icms__logistics_schema, &logistics);
    if (rc)
        return rc;
    struct act act = {project_id, ICMS__PROJECT_SHIP, logistics, NULL};
    rc = run_act(db, req, &act, out);
    cJSON_Delete(logistics);
    return rc;
}

int icms_project_complete(icms_db *db, const icms_request *req, const char *project_id,
                          char **out)
{
    struct act act = {project_id, ICMS__PROJECT_COMPLETE, NULL, NULL};
    return run_act(db, req, &act, out);
}

#define CANCEL_REASON_MAX 500

int icms_project_cancel(icms_db *db, const icms_request *req, const char *project_id,
                        const char *reason, char **out)
{
    if (!reason || !*reason || strnlen(reason, CANCEL_REASON_MAX + 1) > CANCEL_REASON_MAX)
        return icms__error(ICMS_EINVALID, "reason: must be 1 to %d bytes", CANCEL_REASON_MAX);
    if (icms__utf8_valid(reason, strlen(reason)) != true)
        return icms__error(ICMS_EINVALID, "reason: must be UTF-8");
    struct act act = {project_id, ICMS__PROJECT_CANCEL, NULL, reason};
    return run_act(db, req, &act, out);
}
