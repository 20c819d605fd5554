/*
 * What a reader of a project sees: the stored document, less the fields that
 * are the owner's business (docs/projects.md, "Who sees what").
 */
#ifndef ICMS_SRC_APP_PROJECT_VIEW_H
#define ICMS_SRC_APP_PROJECT_VIEW_H

#include <cjson/cJSON.h>

#include "app/command.h"

/*
 * Shape project (changed in place) for the acting party: its owner, admins,
 * the host and the library itself see every field; anyone else sees the
 * project without payout_address (where the owner is paid).
 */
void icms__project_view(const icms__cmd *cmd, cJSON *project);

#endif
