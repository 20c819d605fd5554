/* Users: deactivation and erasure. */
#include "icms/users.h"

#include <string.h>

#include "app/user_api.h"
#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

struct status_arg {
    uint8_t id[16];
};

static int deactivate(icms__cmd *cmd)
{
    const struct status_arg *arg = cmd->arg;
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->id, id_text);
    int rc = icms__user_require_admin(cmd, cmd->name);
    cJSON *old = NULL, *doc = NULL;
    if (rc == ICMS_OK)
        rc = icms__user_load_target(cmd, arg->id, false, cmd->name, &old);
    if (rc == ICMS_OK && !icms__user_status_is(old, ICMS__USER_ACTIVE))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "user.deactivate: the user is %s",
                         icms__user_status(old));
    if (rc == ICMS_OK)
        rc = icms__user_require_not_last_admin(cmd->tx, arg->id, old, cmd->name);
    if (rc == ICMS_OK) {
        doc = cJSON_Duplicate(old, true);
        rc = doc ? icms__user_set_string(doc, "status", ICMS__USER_DEACTIVATED)
                 : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = icms__user_set_time(doc, "deactivated_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, arg->id, old, doc);
    if (rc == ICMS_OK)
        rc =
            icms__user_finish(cmd, "user.deactivate", "user.deactivated", id_text, doc, NULL, NULL);
    cJSON_Delete(old);
    cJSON_Delete(doc);
    return rc;
}

/* The KYC part of a tombstone: the status and, per history entry, status, at and by. */
static int erased_kyc(const cJSON *old, cJSON *doc)
{
    const cJSON *kyc = icms__json_get(old, "kyc");
    const char *status = icms__json_get_string(kyc, "status");
    cJSON *out = NULL, *history = NULL;
    int rc = icms__json_add_object(doc, "kyc", &out);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(out, "status", status ? status : "NONE");
    if (rc == ICMS_OK)
        rc = icms__json_add_array(out, "history", &history);
    const cJSON *entry;
    cJSON_ArrayForEach(entry, icms__json_get(kyc, "history"))
    {
        static const char *const kept[] = {"status", "at", "by"}; /* not "note": free text */
        cJSON *copy = rc == ICMS_OK ? cJSON_CreateObject() : NULL;
        if (rc == ICMS_OK && !copy)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(kept); i++) {
            const char *value = icms__json_get_string(entry, kept[i]);
            if (value)
                rc = icms__json_add_string(copy, kept[i], value);
        }
        if (rc == ICMS_OK)
            rc = icms__json_add(history, NULL, copy);
        else
            cJSON_Delete(copy);
    }
    return rc;
}

/*
 * The tombstone is built from nothing, copying only what is known not to be
 * personal: a field added to the profile later is dropped by erasure unless
 * someone decides here that it may stay.
 */
static int tombstone(const icms__cmd *cmd, const cJSON *old, cJSON **out)
{
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const kept[] = {"id", "created_at", "deactivated_at"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(kept); i++) {
        const char *value = icms__json_get_string(old, kept[i]);
        if (value)
            rc = icms__json_add_string(doc, kept[i], value);
    }
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "name", ICMS__USER_ERASED_NAME);
    if (rc == ICMS_OK)
        rc = icms__user_set_roles(doc, 0);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "status", ICMS__USER_ERASED);
    if (rc == ICMS_OK)
        rc = erased_kyc(old, doc);
    if (rc == ICMS_OK)
        rc = icms__user_set_time(doc, "erased_at", cmd->now_ms);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}

static int erase(icms__cmd *cmd)
{
    const struct status_arg *arg = cmd->arg;
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->id, id_text);
    cJSON *old = NULL, *doc = NULL;
    int rc = icms__user_load_target(cmd, arg->id, true, cmd->name, &old);
    if (rc == ICMS_OK && icms__user_status_is(old, ICMS__USER_ERASED))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "user.erase: the user is already erased");
    if (rc == ICMS_OK)
        rc = icms__user_require_not_last_admin(cmd->tx, arg->id, old, cmd->name);
    if (rc == ICMS_OK)
        rc = icms__user_erase_elsewhere(cmd, arg->id);
    if (rc == ICMS_OK)
        rc = tombstone(cmd, old, &doc);
    /* The old email leaves the unique index here, so it is free for a new user. */
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, arg->id, old, doc);
    if (rc == ICMS_OK)
        rc = icms__user_finish(cmd, "user.erase", "user.erased", id_text, doc, NULL, NULL);
    cJSON_Delete(old);
    cJSON_Delete(doc);
    return rc;
}

static int run(icms_db *db, const icms_request *req, const char *id, const char *name,
               icms__cmd_fn fn, char **out)
{
    if (out)
        *out = NULL;
    struct status_arg arg;
    int rc = icms__user_parse_id(id, arg.id);
    if (rc)
        return rc;
    cJSON *request = icms__user_request_doc(id, NULL, NULL);
    if (!request)
        return ICMS_ENOMEM;
    rc = icms__command(db, req, name, request, fn, &arg, out);
    cJSON_Delete(request);
    return rc;
}

int icms_user_deactivate(icms_db *db, const icms_request *req, const char *id, char **out)
{
    return run(db, req, id, "user.deactivate", deactivate, out);
}

int icms_user_erase(icms_db *db, const icms_request *req, const char *id, char **out)
{
    return run(db, req, id, "user.erase", erase, out);
}
