/* Shaping a project for its reader: the owner's private fields stay with the owner. */
#include "app/project_view.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"

/* Fields only the owner, admins and the host read. */
static const char *const private_fields[] = {
    "payout_address", /* where the owner is paid: their wallet, not the public's */
};

static bool sees_private(const icms__cmd *cmd, const cJSON *project)
{
    if (cmd->actor.kind != ICMS_ACTOR_USER)
        return true; /* the host, the library's own work */
    if (cmd->actor.anonymous)
        return false;
    if (icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return true;
    const char *owner = icms__json_get_string(project, "owner_id");
    return owner && strcmp(owner, cmd->actor.id_text) == 0;
}

void icms__project_view(const icms__cmd *cmd, cJSON *project)
{
    if (!project || sees_private(cmd, project))
        return;
    for (size_t i = 0; i < ICMS__ARRAY_LEN(private_fields); i++)
        cJSON_DeleteItemFromObjectCaseSensitive(project, private_fields[i]);
}
