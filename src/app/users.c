/* Users: bootstrap, create, read, update. */
#include "icms/users.h"

#include <string.h>

#include "app/records.h"
#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

#define INPUT_MAX ((size_t)64 * 1024) /* far above any valid profile, far below the JSON cap */

/* ---- create and bootstrap ---- */

struct create_arg {
    const cJSON *input;
    bool bootstrap;
};

static int roles_of_input(const cJSON *input, bool bootstrap, unsigned *roles)
{
    if (bootstrap) {
        *roles = ICMS_ROLE_ADMIN;
        return ICMS_OK;
    }
    const cJSON *given = icms__json_get(input, "roles");
    if (!given) {
        *roles = ICMS_ROLE_INVESTOR;
        return ICMS_OK;
    }
    return icms__user_roles(input, roles); /* the schema already checked the names */
}

static int add_optional(cJSON *doc, const cJSON *input, const char *name)
{
    const char *value = icms__json_get_string(input, name); /* NULL for null or absent */
    return value ? icms__json_add_string(doc, name, value) : ICMS_OK;
}

static int new_user_doc(const icms__cmd *cmd, const uint8_t id[16], const cJSON *input,
                        unsigned roles, cJSON **out)
{
    cJSON *doc = cJSON_CreateObject(), *kyc = NULL, *history = NULL;
    int rc = doc ? icms__json_add_uuid(doc, "id", id) : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "name", icms__json_get_string(input, "name"));
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "email", icms__json_get_string(input, "email"));
    if (rc == ICMS_OK)
        rc = add_optional(doc, input, "phone");
    if (rc == ICMS_OK)
        rc = add_optional(doc, input, "photo_url");
    if (rc == ICMS_OK)
        rc = icms__user_set_roles(doc, roles);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "status", ICMS__USER_ACTIVE);
    if (rc == ICMS_OK)
        rc = icms__json_add_object(doc, "kyc", &kyc);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(kyc, "status", icms_kyc_status_name(ICMS_KYC_NONE));
    if (rc == ICMS_OK)
        rc = icms__json_add_array(kyc, "history", &history);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "created_at", cmd->now_ms);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}

/* Refuse a second bootstrap, and a bootstrap once any administrator exists. */
static int bootstrap_allowed(icms__cmd *cmd, const uint8_t id[16])
{
    if (cmd->actor.kind != ICMS_ACTOR_HOST)
        return icms__error(ICMS_EFORBIDDEN, "user.bootstrap_admin: only the host may");
    icms__key key;
    const uint8_t *value;
    size_t len;
    icms__user_bootstrap_key(&key);
    int rc = icms__tx_get(cmd->tx, &key, &value, &len);
    if (rc == ICMS_OK)
        return icms__error(ICMS_EEXISTS, "user.bootstrap_admin: the bootstrap already ran");
    if (rc != ICMS_ENOTFOUND)
        return rc;
    bool admin = false;
    if ((rc = icms__user_other_admin_exists(cmd->tx, NULL, &admin)))
        return rc;
    if (admin)
        return icms__error(ICMS_EEXISTS, "user.bootstrap_admin: an administrator already exists");
    return icms__tx_put(cmd->tx, &key, id, 16);
}

static int create_user(icms__cmd *cmd)
{
    const struct create_arg *arg = cmd->arg;
    uint8_t id[16];
    char id_text[ICMS_UUID_STRING_SIZE];
    int rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc)
        return rc;
    icms__uuid_format(id, id_text);
    if (arg->bootstrap)
        rc = bootstrap_allowed(cmd, id);
    else
        rc = icms__user_require_admin(cmd, "user.create");
    unsigned roles = 0;
    if (rc == ICMS_OK)
        rc = roles_of_input(arg->input, arg->bootstrap, &roles);
    cJSON *doc = NULL;
    if (rc == ICMS_OK)
        rc = new_user_doc(cmd, id, arg->input, roles, &doc);
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, id, NULL, doc);
    cJSON *audit = NULL;
    if (rc == ICMS_OK) {
        audit = cJSON_CreateObject();
        cJSON *role_array = icms__user_role_array(roles);
        rc = audit ? icms__json_add(audit, "roles", role_array)
                   : (cJSON_Delete(role_array), icms__error(ICMS_ENOMEM, "out of memory"));
    }
    if (rc == ICMS_OK) {
        rc = icms__user_finish(cmd, cmd->name, "user.created", id_text, doc, audit, NULL);
        audit = NULL;
    }
    cJSON_Delete(audit);
    cJSON_Delete(doc);
    return rc;
}

static int run_create(icms_db *db, const icms_request *req, const char *json, bool bootstrap,
                      char **out)
{
    if (out)
        *out = NULL;
    cJSON *input = NULL;
    int rc = icms__user_parse_input(
        "document", json, INPUT_MAX,
        bootstrap ? &icms__user_bootstrap_schema : &icms__user_create_schema, &input);
    if (rc)
        return rc;
    struct create_arg arg = {input, bootstrap};
    rc = icms__command(db, req, bootstrap ? "user.bootstrap_admin" : "user.create", input,
                       create_user, &arg, out);
    cJSON_Delete(input);
    return rc;
}

int icms_user_bootstrap_admin(icms_db *db, const icms_request *req, const char *json, char **out)
{
    return run_create(db, req, json, true, out);
}

int icms_user_create(icms_db *db, const icms_request *req, const char *json, char **out)
{
    return run_create(db, req, json, false, out);
}

/* ---- get ---- */

struct id_arg {
    uint8_t id[16];
};

static int get_user(icms__cmd *cmd)
{
    const struct id_arg *arg = cmd->arg;
    cJSON *doc = NULL;
    int rc = icms__user_load(cmd->tx, arg->id, &doc);
    if (rc)
        return rc;
    cJSON *view = NULL;
    switch (icms__user_sight(&cmd->actor, arg->id, doc)) {
    case ICMS__USER_SEES_ALL:
        view = doc;
        doc = NULL;
        break;
    case ICMS__USER_SEES_PUBLIC:
        rc = icms__user_public_view(doc, &view);
        break;
    case ICMS__USER_SEES_NOTHING:
        rc = icms__error(ICMS_ENOTFOUND, "user not found");
        break;
    }
    cJSON_Delete(doc);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, view);
    return rc;
}

int icms_user_get(icms_db *db, const icms_request *req, const char *id, char **out)
{
    if (out)
        *out = NULL;
    struct id_arg arg;
    int rc = icms__user_parse_id(id, arg.id);
    if (rc)
        return rc;
    return icms__query(db, req, get_user, &arg, out);
}

/* ---- update ---- */

struct update_arg {
    uint8_t id[16];
    const cJSON *changes;
};

/* Apply one field of the changes; add its name to changed when the value differs. */
static int apply_field(cJSON *doc, const cJSON *changes, const char *name, cJSON *changed)
{
    const cJSON *given = icms__json_get(changes, name);
    if (!given)
        return ICMS_OK;
    const char *value = cJSON_IsString(given) ? given->valuestring : NULL; /* null removes */
    const char *now = icms__json_get_string(doc, name);
    if ((!value && !now) || (value && now && strcmp(value, now) == 0))
        return ICMS_OK;
    int rc = icms__user_set_string(doc, name, value);
    cJSON *item = rc ? NULL : cJSON_CreateString(name);
    if (rc == ICMS_OK && !item)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    return rc ? rc : icms__json_add(changed, NULL, item);
}

static int update_user(icms__cmd *cmd)
{
    const struct update_arg *arg = cmd->arg;
    static const char *const fields[] = {"name", "email", "phone", "photo_url"};
    cJSON *old = NULL, *doc = NULL, *changed = NULL;
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->id, id_text);
    int rc = icms__user_load_target(cmd, arg->id, true, &old);
    if (rc == ICMS_OK)
        rc = icms__user_require_not_erased(old);
    if (rc == ICMS_OK) {
        doc = cJSON_Duplicate(old, true);
        changed = cJSON_CreateArray();
        if (!doc || !changed)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
    }
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(fields); i++)
        rc = apply_field(doc, arg->changes, fields[i], changed);
    if (rc == ICMS_OK && cJSON_GetArraySize(changed) == 0) {
        /* Nothing differs: answer as if done, and write nothing. */
        cJSON *summary = NULL;
        if ((rc = icms__user_summary(old, &summary)) == ICMS_OK)
            icms__cmd_set_result(cmd, summary);
    } else if (rc == ICMS_OK) {
        rc = icms__user_save(cmd, arg->id, old, doc);
        cJSON *audit = NULL, *event = NULL;
        if (rc == ICMS_OK) {
            audit = cJSON_CreateObject();
            event = cJSON_CreateObject();
            cJSON *copy = cJSON_Duplicate(changed, true);
            if (!audit || !event || !copy) {
                cJSON_Delete(copy);
                rc = icms__error(ICMS_ENOMEM, "out of memory");
            } else if ((rc = icms__json_add(audit, "fields", copy)) == ICMS_OK) {
                rc = icms__json_add(event, "fields", changed);
                changed = NULL;
            }
        }
        if (rc == ICMS_OK)
            rc = icms__user_finish(cmd, "user.update", "user.updated", id_text, doc, audit, event);
        else {
            cJSON_Delete(audit);
            cJSON_Delete(event);
        }
    }
    cJSON_Delete(changed);
    cJSON_Delete(old);
    cJSON_Delete(doc);
    return rc;
}

int icms_user_update(icms_db *db, const icms_request *req, const char *id, const char *json,
                     char **out)
{
    if (out)
        *out = NULL;
    struct update_arg arg;
    int rc = icms__user_parse_id(id, arg.id);
    cJSON *changes = NULL;
    if (rc == ICMS_OK)
        rc = icms__user_parse_input("document", json, INPUT_MAX, &icms__user_update_schema,
                                    &changes);
    if (rc)
        return rc;
    if (!changes->child) {
        cJSON_Delete(changes);
        return icms__error(ICMS_EINVALID,
                           "document: give at least one of name, email, phone, photo_url");
    }
    arg.changes = changes;
    cJSON *request = icms__user_request_doc(id, "changes", changes);
    rc = request ? icms__command(db, req, "user.update", request, update_user, &arg, out)
                 : ICMS_ENOMEM;
    cJSON_Delete(request);
    cJSON_Delete(changes);
    return rc;
}
