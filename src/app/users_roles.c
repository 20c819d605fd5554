/* Users: granting and revoking roles (administrators and the host only). */
#include "icms/users.h"

#include <string.h>

#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

struct role_arg {
    uint8_t id[16];
    icms_role_t role;
    bool grant;
};

static int change_role(icms__cmd *cmd)
{
    const struct role_arg *arg = cmd->arg;
    const char *role_name = icms_role_name(arg->role);
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->id, id_text);
    /* Decided before reading the user, so a refusal tells nothing about them. */
    int rc = icms__user_require_admin(cmd, cmd->name);
    cJSON *old = NULL, *doc = NULL;
    if (rc == ICMS_OK)
        rc = icms__user_load_target(cmd, arg->id, false, cmd->name, &old);
    if (rc == ICMS_OK)
        rc = icms__user_require_not_erased(old);
    unsigned roles = 0;
    if (rc == ICMS_OK)
        rc = icms__user_roles(old, &roles);
    if (rc == ICMS_OK && arg->grant && (roles & (unsigned)arg->role))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "role: the user already holds %s", role_name);
    if (rc == ICMS_OK && !arg->grant && !(roles & (unsigned)arg->role))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "role: the user does not hold %s", role_name);
    if (rc == ICMS_OK && !arg->grant && arg->role == ICMS_ROLE_ADMIN)
        rc = icms__user_require_not_last_admin(cmd->tx, arg->id, old, cmd->name);
    if (rc == ICMS_OK) {
        doc = cJSON_Duplicate(old, true);
        rc = doc ? icms__user_set_roles(doc, arg->grant ? roles | (unsigned)arg->role
                                                        : roles & ~(unsigned)arg->role)
                 : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, arg->id, old, doc);
    cJSON *audit = NULL, *event = NULL;
    if (rc == ICMS_OK) {
        audit = cJSON_CreateObject();
        event = cJSON_CreateObject();
        rc = audit && event ? icms__json_add_string(audit, "role", role_name)
                            : icms__error(ICMS_ENOMEM, "out of memory");
        if (rc == ICMS_OK)
            rc = icms__json_add_string(event, "role", role_name);
    }
    if (rc == ICMS_OK)
        rc = icms__user_finish(cmd, cmd->name,
                               arg->grant ? "user.role_granted" : "user.role_revoked", id_text, doc,
                               audit, event);
    else {
        cJSON_Delete(audit);
        cJSON_Delete(event);
    }
    cJSON_Delete(old);
    cJSON_Delete(doc);
    return rc;
}

static int run(icms_db *db, const icms_request *req, const char *id, const char *role, bool grant,
               char **out)
{
    if (out)
        *out = NULL;
    struct role_arg arg = {{0}, ICMS_ROLE_OWNER, grant};
    int rc = icms__user_parse_id(id, arg.id);
    if (rc)
        return rc;
    if (!role || icms_role_parse(role, &arg.role) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "role: must be one of OWNER, INVESTOR, ADMIN");
    cJSON *role_doc = cJSON_CreateString(role);
    cJSON *request = role_doc ? icms__user_request_doc(id, "role", role_doc) : NULL;
    cJSON_Delete(role_doc);
    if (!request)
        return icms__error(ICMS_ENOMEM, "out of memory");
    rc = icms__command(db, req, grant ? "user.grant_role" : "user.revoke_role", request,
                       change_role, &arg, out);
    cJSON_Delete(request);
    return rc;
}

int icms_user_grant_role(icms_db *db, const icms_request *req, const char *id, const char *role,
                         char **out)
{
    return run(db, req, id, role, true, out);
}

int icms_user_revoke_role(icms_db *db, const icms_request *req, const char *id, const char *role,
                          char **out)
{
    return run(db, req, id, role, false, out);
}
