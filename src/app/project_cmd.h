/* What every project command does: load with visibility, transition, save. */
#ifndef ICMS_SRC_APP_PROJECT_CMD_H
#define ICMS_SRC_APP_PROJECT_CMD_H

#include "app/command.h"
#include "app/project_doc.h"

/* Parse an id given by the caller; ICMS_EINVALID naming what when it is not one. */
int icms__parse_id(const char *text, const char *what, uint8_t id[16]);

/* The actor as a viewer of this project (domain/read_rules.h); project may be NULL (owns none). */
icms__viewer icms__project_viewer(const icms__cmd *cmd, const cJSON *project);

/* Whether the actor may see this project at all (hidden ones read as not found). */
bool icms__project_visible(const icms__cmd *cmd, const cJSON *project);

/* The domain parties the actor counts as for this project. */
unsigned icms__project_parties(const icms__cmd *cmd, const cJSON *project);

/* Load a project the actor may see; ICMS_ENOTFOUND otherwise. */
int icms__project_load(icms__cmd *cmd, const char *id_text, uint8_t id[16], cJSON **out);

/* Stamp updated_at and store. */
int icms__project_save(icms__cmd *cmd, const uint8_t id[16], cJSON *project);

/*
 * Apply action (domain rules decide whether the actor may, from this state,
 * under the guards), write its audit entry (with audit_data) and event, then
 * apply every follow-up transition the rules call for. The project is
 * changed in place; the caller saves it.
 */
int icms__project_transition(icms__cmd *cmd, cJSON *project, icms__project_action_t action,
                             const cJSON *audit_data);

/* May the actor apply action now? ICMS_OK, or the rules' refusal. Changes nothing. */
int icms__project_check(icms__cmd *cmd, const cJSON *project, icms__project_action_t action);

/* Apply the follow-ups alone, after a command changed the facts (funds, approvals). */
int icms__project_settle_doc(icms__cmd *cmd, cJSON *project);

#endif
