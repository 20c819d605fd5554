/* Users: bootstrap, create, read, update. */
#include "icms/users.h"

#include <string.h>

#include "app/records.h"
#include "app/user_api.h"
#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

#define INPUT_MAX ((size_t)64 * 1024) /* far above any valid profile, far below the JSON cap */

/* ---- create and bootstrap ---- */

struct create_arg {
    const cJSON *input;
    bool bootstrap;
};

static int roles_of_input(const cJSON *input, unsigned *roles)
{
    if (!icms__json_get(input, "roles")) {
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
static int bootstrap_allowed(icms__cmd *cmd)
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
    return ICMS_OK;
}

int icms__user_insert(icms__cmd *cmd, const cJSON *input, uint8_t id_out[16], cJSON **doc_out)
{
    if (doc_out)
        *doc_out = NULL;
    /* Callers inside the library build input in C: check it as if a host had sent it. */
    int rc = icms__json_check(input, &icms__user_create_schema);
    unsigned roles = 0;
    if (rc == ICMS_OK)
        rc = roles_of_input(input, &roles);
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, id_out);
    cJSON *doc = NULL;
    if (rc == ICMS_OK)
        rc = new_user_doc(cmd, id_out, input, roles, &doc);
    if (rc == ICMS_OK)
        rc = icms__user_save(cmd, id_out, NULL, doc);
    cJSON *event = NULL;
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(id_out, id_text);
    if (rc == ICMS_OK) {
        event = cJSON_CreateObject();
        rc = event ? icms__json_add_string(event, "user_id", id_text)
                   : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "user.created", id_text, event);
    cJSON_Delete(event);
    if (rc == ICMS_OK && doc_out) {
        *doc_out = doc;
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc;
}

static int create_user(icms__cmd *cmd)
{
    const struct create_arg *arg = cmd->arg;
    int rc = arg->bootstrap ? bootstrap_allowed(cmd) : icms__user_require_admin(cmd, "user.create");
    if (rc)
        return rc;
    cJSON *input = NULL;
    if (arg->bootstrap) { /* the bootstrap's schema has no roles: it makes an ADMIN */
        input = cJSON_Duplicate(arg->input, true);
        cJSON *roles = input ? icms__user_role_array(ICMS_ROLE_ADMIN) : NULL;
        rc = roles ? icms__json_add(input, "roles", roles)
                   : icms__error(ICMS_ENOMEM, "out of memory");
    }
    uint8_t id[16];
    cJSON *doc = NULL;
    if (rc == ICMS_OK)
        rc = icms__user_insert(cmd, input ? input : arg->input, id, &doc);
    cJSON_Delete(input);
    char id_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(id, id_text);
    if (rc == ICMS_OK && arg->bootstrap) {
        icms__key key;
        icms__user_bootstrap_key(&key);
        rc = icms__tx_put(cmd->tx, &key, id, 16);
    }
    cJSON *audit = NULL;
    if (rc == ICMS_OK) {
        audit = cJSON_CreateObject();
        cJSON *roles = cJSON_Duplicate(icms__json_get(doc, "roles"), true);
        rc = audit && roles ? icms__json_add(audit, "roles", roles)
                            : (cJSON_Delete(roles), icms__error(ICMS_ENOMEM, "out of memory"));
    }
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, cmd->name, id_text, audit);
    cJSON *summary = NULL;
    if (rc == ICMS_OK && (rc = icms__user_summary(doc, &summary)) == ICMS_OK)
        icms__cmd_set_result(cmd, summary);
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
    int rc = icms__user_load_target(cmd, arg->id, true, cmd->name, &old);
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

/* ---- lookup by email ---- */

int icms__user_find_by_email(icms__tx *tx, const char *email, uint8_t id_out[16])
{
    int rc = icms__user_check_email(email);
    if (rc)
        return rc;
    /* The index holds the address lower-cased (app/records.c); ask for it the same way. */
    char lower[ICMS_USER_EMAIL_MAX + 1];
    size_t n = strlen(email);
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)(email[i] >= 'A' && email[i] <= 'Z' ? email[i] - 'A' + 'a' : email[i]);
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, lower);
    rc = icms__record_find_unique(tx, &icms__user_record, "email", &values, id_out);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "user not found");
    return rc;
}
