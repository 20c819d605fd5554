/* The user document: views, visibility, and the single place that writes a user. */
#include <string.h>

#include "app/records.h"
#include "app/user_doc.h"
#include "core/core.h"
#include "core/uuid.h"

/* ---- keys ---- */

/*
 * The bootstrap marker: one fixed key every bootstrap writes. Two bootstraps
 * racing both read and write it, so a serializable store lets only one
 * commit; the other reruns, finds it, and is refused.
 */
void icms__user_bootstrap_key(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "user_bootstrap");
}

/*
 * One key per ACTIVE user holding ADMIN, kept by icms__user_save: "is there
 * another administrator" is then a short prefix scan, never a scan of users.
 */
void icms__user_admin_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "user_admin");
}

void icms__user_admin_key(icms__key *key, const uint8_t id[16])
{
    icms__user_admin_prefix(key);
    icms__key_id(key, id);
}

/* ---- reading ---- */

int icms__user_load(icms__tx *tx, const uint8_t id[16], cJSON **out)
{
    int rc = icms__record_get(tx, &icms__user_record, id, out);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "user not found");
    return rc;
}

const char *icms__user_status(const cJSON *doc)
{
    const char *status = icms__json_get_string(doc, "status");
    return status ? status : "";
}

bool icms__user_status_is(const cJSON *doc, const char *status)
{
    return strcmp(icms__user_status(doc), status) == 0;
}

int icms__user_roles(const cJSON *doc, unsigned *roles)
{
    *roles = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, icms__json_get(doc, "roles"))
    {
        icms_role_t role;
        if (!cJSON_IsString(item) || icms_role_parse(item->valuestring, &role) != ICMS_OK)
            return icms__error(ICMS_ECORRUPT, "user record has an unknown role");
        *roles |= (unsigned)role;
    }
    return ICMS_OK;
}

cJSON *icms__user_role_array(unsigned roles)
{
    static const icms_role_t order[] = {ICMS_ROLE_OWNER, ICMS_ROLE_INVESTOR, ICMS_ROLE_ADMIN};
    cJSON *array = cJSON_CreateArray();
    for (size_t i = 0; array && i < ICMS__ARRAY_LEN(order); i++) {
        if (!(roles & (unsigned)order[i]))
            continue;
        cJSON *name = cJSON_CreateString(icms_role_name(order[i]));
        if (!name || !cJSON_AddItemToArray(array, name)) {
            cJSON_Delete(name);
            cJSON_Delete(array);
            array = NULL;
        }
    }
    if (!array)
        icms__error(ICMS_ENOMEM, "out of memory");
    return array;
}

int icms__user_set_roles(cJSON *doc, unsigned roles)
{
    cJSON *array = icms__user_role_array(roles);
    if (!array)
        return ICMS_ENOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "roles");
    return icms__json_add(doc, "roles", array);
}

int icms__user_set_string(cJSON *doc, const char *name, const char *value)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    return value ? icms__json_add_string(doc, name, value) : ICMS_OK;
}

int icms__user_set_time(cJSON *doc, const char *name, int64_t ms)
{
    cJSON_DeleteItemFromObjectCaseSensitive(doc, name);
    return icms__json_add_time(doc, name, ms);
}

/* ---- who sees what ---- */

bool icms__user_actor_is_admin(const icms__actor *actor)
{
    /* The host carries every role; a user's roles were read in this transaction. */
    return (actor->kind == ICMS_ACTOR_HOST ||
            (actor->kind == ICMS_ACTOR_USER && !actor->anonymous)) &&
           icms__actor_has_role(actor, ICMS_ROLE_ADMIN);
}

icms__user_sight_t icms__user_sight(const icms__actor *actor, const uint8_t id[16],
                                    const cJSON *doc)
{
    if (icms__user_actor_is_admin(actor) || icms__actor_is_user(actor, id))
        return ICMS__USER_SEES_ALL;
    if (actor->kind == ICMS_ACTOR_USER && !actor->anonymous &&
        icms__user_status_is(doc, ICMS__USER_ACTIVE))
        return ICMS__USER_SEES_PUBLIC;
    return ICMS__USER_SEES_NOTHING;
}

int icms__user_load_target(icms__cmd *cmd, const uint8_t id[16], bool self_allowed,
                           const char *what, cJSON **out)
{
    *out = NULL;
    cJSON *doc = NULL;
    int rc = icms__user_load(cmd->tx, id, &doc);
    if (rc)
        return rc;
    icms__user_sight_t sight = icms__user_sight(&cmd->actor, id, doc);
    if (sight == ICMS__USER_SEES_NOTHING) {
        cJSON_Delete(doc);
        /* Word it exactly as a missing user, so nothing tells them apart. */
        return icms__error(ICMS_ENOTFOUND, "user not found");
    }
    if (!icms__user_actor_is_admin(&cmd->actor) &&
        !(self_allowed && icms__actor_is_user(&cmd->actor, id))) {
        cJSON_Delete(doc);
        return icms__error(ICMS_EFORBIDDEN, "%s: only %san administrator may", what,
                           self_allowed ? "the user themself or " : "");
    }
    *out = doc;
    return ICMS_OK;
}

int icms__user_require_admin(const icms__cmd *cmd, const char *what)
{
    if (icms__user_actor_is_admin(&cmd->actor))
        return ICMS_OK;
    return icms__error(ICMS_EFORBIDDEN, "%s: only an administrator may", what);
}

int icms__user_require_not_erased(const cJSON *doc)
{
    if (icms__user_status_is(doc, ICMS__USER_ERASED))
        return icms__error(ICMS_EINVALID_TRANSITION, "the user is erased");
    return ICMS_OK;
}

/* ---- views ---- */

static int copy_member(cJSON *to, const cJSON *from, const char *name)
{
    const cJSON *item = icms__json_get(from, name);
    if (!item)
        return ICMS_OK;
    cJSON *copy = cJSON_Duplicate(item, true);
    if (!copy)
        return icms__error(ICMS_ENOMEM, "out of memory");
    return icms__json_add(to, name, copy);
}

int icms__user_summary(const cJSON *doc, cJSON **out)
{
    *out = NULL;
    cJSON *view = cJSON_CreateObject();
    if (!view)
        return icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const members[] = {"id", "status", "roles"};
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(members); i++)
        rc = copy_member(view, doc, members[i]);
    if (rc == ICMS_OK) {
        const char *kyc = icms__json_get_string(icms__json_get(doc, "kyc"), "status");
        rc = icms__json_add_string(view, "kyc_status", kyc ? kyc : "NONE");
    }
    if (rc == ICMS_OK)
        rc = copy_member(view, doc, "created_at");
    if (rc == ICMS_OK)
        rc = copy_member(view, doc, "updated_at");
    if (rc) {
        cJSON_Delete(view);
        return rc;
    }
    *out = view;
    return ICMS_OK;
}

int icms__user_public_view(const cJSON *doc, cJSON **out)
{
    *out = NULL;
    cJSON *view = cJSON_CreateObject();
    if (!view)
        return icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const members[] = {"id", "name", "photo_url", "roles"};
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(members); i++)
        rc = copy_member(view, doc, members[i]);
    if (rc) {
        cJSON_Delete(view);
        return rc;
    }
    *out = view;
    return ICMS_OK;
}

/* ---- writing ---- */

static bool is_active_admin(const cJSON *doc)
{
    unsigned roles = 0;
    return doc && icms__user_status_is(doc, ICMS__USER_ACTIVE) &&
           icms__user_roles(doc, &roles) == ICMS_OK && (roles & ICMS_ROLE_ADMIN);
}

int icms__user_save(icms__cmd *cmd, const uint8_t id[16], const cJSON *old, cJSON *doc)
{
    int rc = icms__user_set_time(doc, "updated_at", cmd->now_ms);
    if (rc)
        return rc;
    rc = icms__record_put(cmd->tx, &icms__user_record, id, doc);
    if (rc == ICMS_EEXISTS)
        return icms__error(ICMS_EEXISTS, "email: is already used by another user");
    if (rc)
        return rc;
    bool was = is_active_admin(old), is = is_active_admin(doc);
    if (was == is)
        return ICMS_OK;
    icms__key key;
    icms__user_admin_key(&key, id);
    return is ? icms__tx_put(cmd->tx, &key, "", 0) : icms__tx_del(cmd->tx, &key);
}

struct other_admin {
    const uint8_t *id;
    bool found;
};

static int on_admin(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)value;
    (void)value_len;
    struct other_admin *scan = payload;
    if (key_len < 17 || key[key_len - 17] != ICMS__KEY_TAG_ID)
        return icms__error(ICMS_ECORRUPT, "administrator entry without an id");
    if (memcmp(key + key_len - 16, scan->id, 16) == 0)
        return ICMS_OK;
    scan->found = true;
    return ICMS_STORE_STOP;
}

int icms__user_other_admin_exists(icms__tx *tx, const uint8_t id[16], bool *out)
{
    static const uint8_t none[16] = {0};
    struct other_admin scan = {id ? id : none, false};
    icms__key prefix;
    icms__user_admin_prefix(&prefix);
    int rc = icms__tx_scan_prefix(tx, &prefix, 0, on_admin, &scan);
    *out = scan.found;
    return rc;
}

int icms__user_require_not_last_admin(icms__tx *tx, const uint8_t id[16], const cJSON *doc,
                                      const char *what)
{
    if (!is_active_admin(doc))
        return ICMS_OK;
    bool other = false;
    int rc = icms__user_other_admin_exists(tx, id, &other);
    if (rc)
        return rc;
    if (!other)
        return icms__error(ICMS_EINVALID_TRANSITION,
                           "%s: the user is the last active administrator", what);
    return ICMS_OK;
}

int icms__user_finish(icms__cmd *cmd, const char *action, const char *event_type,
                      const char *id_text, const cJSON *doc, cJSON *audit_data, cJSON *event_extra)
{
    /* Audit data and event data carry ids and enumerations, never personal data. */
    int rc = icms__cmd_audit(cmd, action, id_text, audit_data);
    cJSON *event = NULL;
    if (rc == ICMS_OK) {
        event = event_extra ? event_extra : cJSON_CreateObject();
        event_extra = NULL;
        rc = event ? icms__json_add_string(event, "user_id", id_text)
                   : icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, event_type, id_text, event);
    cJSON *summary = NULL;
    if (rc == ICMS_OK && (rc = icms__user_summary(doc, &summary)) == ICMS_OK)
        icms__cmd_set_result(cmd, summary);
    cJSON_Delete(audit_data);
    cJSON_Delete(event_extra);
    cJSON_Delete(event);
    return rc;
}

cJSON *icms__user_request_doc(const char *id_text, const char *key, const cJSON *value)
{
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? icms__json_add_string(doc, "id", id_text) : ICMS_ENOMEM;
    if (rc == ICMS_OK && key && value) {
        cJSON *copy = cJSON_Duplicate(value, true);
        rc = copy ? icms__json_add(doc, key, copy) : ICMS_ENOMEM;
    }
    if (rc) {
        cJSON_Delete(doc);
        icms__error(ICMS_ENOMEM, "out of memory");
        return NULL;
    }
    return doc;
}
