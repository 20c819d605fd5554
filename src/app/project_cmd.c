#include "app/project_cmd.h"

#include <stdio.h>
#include <string.h>

#include "app/participation_end.h"
#include "app/payment_doc.h"
#include "app/records.h"
#include "core/core.h"
#include "core/uuid.h"

int icms__parse_id(const char *text, const char *what, uint8_t id[16])
{
    if (!text)
        return icms__error(ICMS_EINVALID, "%s is required", what);
    if (icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "%s is not an id", what);
    return ICMS_OK;
}

static bool owns(const icms__cmd *cmd, const cJSON *project)
{
    const char *owner = icms__json_get_string(project, "owner_id");
    return owner && !cmd->actor.anonymous && cmd->actor.kind == ICMS_ACTOR_USER &&
           strcmp(owner, cmd->actor.id_text) == 0;
}

icms__viewer icms__project_viewer(const icms__cmd *cmd, const cJSON *project)
{
    icms__viewer v = {cmd->actor.kind, cmd->actor.anonymous, cmd->actor.roles,
                      project != NULL && owns(cmd, project)};
    return v;
}

bool icms__project_visible(const icms__cmd *cmd, const cJSON *project)
{
    /* A record without a valid state is treated as closed as a draft (domain/read_rules.h). */
    icms_project_state_t state = ICMS_PROJECT_DRAFT;
    const char *name = icms__json_get_string(project, "state");
    if (name && icms_project_state_parse(name, &state) != ICMS_OK)
        state = ICMS_PROJECT_DRAFT;
    icms__viewer viewer = icms__project_viewer(cmd, project);
    return icms__project_visible_to(state, &viewer);
}

unsigned icms__project_parties(const icms__cmd *cmd, const cJSON *project)
{
    if (cmd->actor.anonymous)
        return 0;
    return icms__parties(cmd->actor.kind, cmd->actor.roles, owns(cmd, project), 0);
}

int icms__project_load(icms__cmd *cmd, const char *id_text, uint8_t id[16], cJSON **out)
{
    int rc = icms__parse_id(id_text, "project id", id);
    if (rc)
        return rc;
    cJSON *project = NULL;
    rc = icms__record_get(cmd->tx, &icms__project_record, id, &project);
    if (rc)
        return rc;
    if (!icms__project_visible(cmd, project)) {
        cJSON_Delete(project);
        /* The same answer as a missing project: a draft's existence is not revealed. */
        return icms__error(ICMS_ENOTFOUND, "project not found");
    }
    *out = project;
    return ICMS_OK;
}

int icms__project_save(icms__cmd *cmd, const uint8_t id[16], cJSON *project)
{
    int rc = icms__doc_set_time(project, "updated_at", cmd->now_ms);
    return rc ? rc : icms__record_put(cmd->tx, &icms__project_record, id, project);
}

/* State, audit and event of one decided step. */
static int apply_step(icms__cmd *cmd, cJSON *project, const icms__project_decision *step,
                      const cJSON *audit_data)
{
    const char *id = icms__json_get_string(project, "id");
    int rc = icms__doc_set_string(project, "state", icms_project_state_name(step->to));
    if (rc == ICMS_OK) {
        char action[64];
        snprintf(action, sizeof action, "project.%s", icms__project_action_name(step->action));
        cJSON *data = audit_data ? cJSON_Duplicate(audit_data, true) : cJSON_CreateObject();
        rc = data ? icms__json_add_string(data, "from", icms_project_state_name(step->from))
                  : ICMS_ENOMEM;
        if (rc == ICMS_OK)
            rc = icms__json_add_string(data, "to", icms_project_state_name(step->to));
        if (rc == ICMS_OK)
            rc = icms__cmd_audit(cmd, action, id, data);
        if (rc == ICMS_OK && step->event)
            rc = icms__cmd_event(cmd, step->event, id, data);
        cJSON_Delete(data);
    }
    if (rc == ICMS_OK &&
        (step->to == ICMS_PROJECT_CANCELLED || step->to == ICMS_PROJECT_EXPIRED)) {
        rc = icms__participations_end(cmd, project);
        if (rc == ICMS_OK)
            rc = icms__refunds_for_ended_project(cmd, project);
    }
    return rc;
}

int icms__project_settle_doc(icms__cmd *cmd, cJSON *project)
{
    icms_project_state_t state;
    icms__project_facts facts;
    icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
    size_t count = 0;
    int rc = icms__project_state(project, &state);
    if (rc == ICMS_OK)
        rc = icms__project_facts_of(project, cmd->now_ms, cmd->db->payment_grace_ms, &facts);
    if (rc == ICMS_OK)
        rc = icms__project_settle(state, &facts, steps, &count);
    for (size_t i = 0; rc == ICMS_OK && i < count; i++)
        rc = apply_step(cmd, project, &steps[i], NULL);
    return rc;
}

int icms__project_check(icms__cmd *cmd, const cJSON *project, icms__project_action_t action)
{
    icms_project_state_t state;
    icms__project_facts facts;
    icms__project_decision decision;
    int rc = icms__project_state(project, &state);
    if (rc == ICMS_OK)
        rc = icms__project_facts_of(project, cmd->now_ms, cmd->db->payment_grace_ms, &facts);
    if (rc == ICMS_OK)
        rc = icms__project_decide(state, action, icms__project_parties(cmd, project), &facts,
                                  &decision);
    return rc;
}

int icms__project_transition(icms__cmd *cmd, cJSON *project, icms__project_action_t action,
                             const cJSON *audit_data)
{
    icms_project_state_t state;
    icms__project_facts facts;
    icms__project_decision decision;
    int rc = icms__project_state(project, &state);
    if (rc == ICMS_OK)
        rc = icms__project_facts_of(project, cmd->now_ms, cmd->db->payment_grace_ms, &facts);
    if (rc == ICMS_OK)
        rc = icms__project_decide(state, action, icms__project_parties(cmd, project), &facts,
                                  &decision);
    if (rc == ICMS_OK)
        rc = apply_step(cmd, project, &decision, audit_data);
    if (rc == ICMS_OK)
        rc = icms__project_settle_doc(cmd, project);
    return rc;
}
