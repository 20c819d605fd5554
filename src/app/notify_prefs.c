/* Notification records and user preferences (channels on or off). */
#include <string.h>

#include "app/command.h"
#include "app/notify_doc.h"
#include "app/records.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/events.h"

const char *const icms__channel_names[ICMS__CHANNEL_COUNT] = {"email", "push", "sms"};

/* ---- the record type ---- */

static int id_field(const cJSON *doc, const char *field, icms__key *key)
{
    const char *text = icms__json_get_string(doc, field);
    uint8_t id[16];
    if (!text || icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "notification record has no valid %s", field);
    icms__key_id(key, id);
    return ICMS_OK;
}

static int notification_due(const cJSON *doc, icms__key *key)
{
    const char *status = icms__json_get_string(doc, "status");
    int64_t at;
    if (!status || strcmp(status, "PENDING") != 0)
        return ICMS_ENOTFOUND;
    if (!icms__json_int64(icms__json_get(doc, "next_attempt_at"), &at))
        return icms__error(ICMS_ECORRUPT, "notification record has no next_attempt_at");
    icms__key_int(key, at);
    return ICMS_OK;
}

static int notification_status(const cJSON *doc, icms__key *key)
{
    const char *status = icms__json_get_string(doc, "status");
    if (!status)
        return icms__error(ICMS_ECORRUPT, "notification record has no status");
    icms__key_str(key, status);
    return ICMS_OK;
}

static int notification_user(const cJSON *doc, icms__key *key)
{
    return id_field(doc, "user_id", key);
}

static const icms__index_def notification_indexes[] = {
    {"due", notification_due, false},
    {"by_status", notification_status, false},
    {"by_user", notification_user, false},
};

const icms__record_type icms__notification_record = {"notification", notification_indexes,
                                                     ICMS__ARRAY_LEN(notification_indexes)};

/* ---- preferences ---- */

static const bool default_on[ICMS__CHANNEL_COUNT] = {true, true, false};

static void prefs_key(icms__key *key, const uint8_t user_id[16])
{
    icms__key_init(key);
    icms__key_str(key, "notify_prefs");
    icms__key_id(key, user_id);
}

int icms__notify_prefs_read(icms__tx *tx, const uint8_t user_id[16], bool on[ICMS__CHANNEL_COUNT])
{
    memcpy(on, default_on, sizeof default_on);
    icms__key key;
    const uint8_t *value;
    size_t len;
    prefs_key(&key, user_id);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return ICMS_OK;
    }
    if (rc)
        return rc;
    cJSON *doc = NULL;
    rc = icms__json_parse((const char *)value, len, NULL, &doc);
    if (rc == ICMS_ENOMEM)
        return rc;
    if (rc)
        return icms__error(ICMS_ECORRUPT, "stored notification preferences are not JSON");
    for (int c = 0; c < ICMS__CHANNEL_COUNT; c++) {
        const cJSON *v = icms__json_get(doc, icms__channel_names[c]);
        if (cJSON_IsBool(v))
            on[c] = cJSON_IsTrue(v);
    }
    cJSON_Delete(doc);
    return ICMS_OK;
}

static cJSON *prefs_doc(const bool on[ICMS__CHANNEL_COUNT])
{
    cJSON *doc = cJSON_CreateObject();
    for (int c = 0; doc && c < ICMS__CHANNEL_COUNT; c++)
        if (icms__json_add_bool(doc, icms__channel_names[c], on[c]) != ICMS_OK) {
            cJSON_Delete(doc);
            return NULL;
        }
    return doc;
}

int icms__notify_prefs_write(icms__tx *tx, const uint8_t user_id[16],
                             const bool on[ICMS__CHANNEL_COUNT])
{
    cJSON *doc = prefs_doc(on);
    if (!doc)
        return icms__error(ICMS_ENOMEM, "out of memory");
    char *text = NULL;
    size_t len = 0;
    int rc = icms__json_write(doc, ICMS__JSON_CANONICAL, &text, &len);
    cJSON_Delete(doc);
    icms__key key;
    prefs_key(&key, user_id);
    if (rc == ICMS_OK)
        rc = icms__tx_put(tx, &key, text, len);
    icms__free(text);
    return rc;
}

static const icms__json_field prefs_fields[] = {
    ICMS__JSON_F_BOOL("email", 0),
    ICMS__JSON_F_BOOL("push", 0),
    ICMS__JSON_F_BOOL("sms", 0),
};
static const icms__json_schema prefs_schema = ICMS__JSON_SCHEMA(prefs_fields);

struct prefs_call {
    const char *user_id;
    uint8_t id[16];
    const cJSON *changes; /* NULL: read */
};

/* The user themselves or an admin; a user others may not see reads as missing. */
static int load_user(icms__cmd *cmd, struct prefs_call *call)
{
    bool self = icms__actor_is_user(&cmd->actor, call->id);
    if (!self && !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return cmd->actor.anonymous || cmd->actor.kind != ICMS_ACTOR_USER
                   ? icms__error(ICMS_EFORBIDDEN, "only the user and admins see notification "
                                                  "preferences")
                   : icms__error(ICMS_ENOTFOUND, "no user %s", call->user_id);
    cJSON *user = NULL;
    int rc = icms__record_get(cmd->tx, &icms__user_record, call->id, &user);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "no user %s", call->user_id);
    cJSON_Delete(user);
    return rc;
}

static int prefs_cmd(icms__cmd *cmd)
{
    struct prefs_call *call = cmd->arg;
    int rc = load_user(cmd, call);
    bool on[ICMS__CHANNEL_COUNT];
    if (rc == ICMS_OK)
        rc = icms__notify_prefs_read(cmd->tx, call->id, on);
    if (rc == ICMS_OK && call->changes) {
        cJSON *audit = cJSON_Duplicate(call->changes, true);
        for (int c = 0; c < ICMS__CHANNEL_COUNT; c++) {
            const cJSON *v = icms__json_get(call->changes, icms__channel_names[c]);
            if (v)
                on[c] = cJSON_IsTrue(v);
        }
        rc = audit ? icms__notify_prefs_write(cmd->tx, call->id, on)
                   : icms__error(ICMS_ENOMEM, "out of memory");
        if (rc == ICMS_OK)
            rc = icms__cmd_audit(cmd, "notify.prefs_set", call->user_id, audit);
        cJSON_Delete(audit);
    }
    if (rc == ICMS_OK) {
        cJSON *doc = prefs_doc(on);
        if (!doc)
            return icms__error(ICMS_ENOMEM, "out of memory");
        icms__cmd_set_result(cmd, doc);
    }
    return rc;
}

static int parse_user(const char *user_id, uint8_t id[16])
{
    if (!user_id || icms__uuid_parse(user_id, strlen(user_id), id) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "user_id is not an id");
    return ICMS_OK;
}

int icms_notify_prefs_get(icms_db *db, const icms_request *req, const char *user_id, char **out)
{
    if (out)
        *out = NULL;
    struct prefs_call call = {user_id, {0}, NULL};
    int rc = parse_user(user_id, call.id);
    if (rc)
        return rc;
    return icms__query(db, req, prefs_cmd, &call, out);
}

int icms_notify_prefs_set(icms_db *db, const icms_request *req, const char *user_id,
                          const char *json, char **out)
{
    if (out)
        *out = NULL;
    struct prefs_call call = {user_id, {0}, NULL};
    int rc = parse_user(user_id, call.id);
    if (rc)
        return rc;
    if (!json)
        return icms__error(ICMS_EINVALID, "preferences JSON is required");
    cJSON *changes = NULL;
    if ((rc = icms__json_parse_checked(json, strlen(json), NULL, &prefs_schema, &changes)))
        return rc;
    call.changes = changes;
    cJSON *input = cJSON_CreateObject();
    rc = input ? icms__json_add_string(input, "user_id", user_id) : ICMS_ENOMEM;
    if (rc == ICMS_OK) {
        cJSON *copy = cJSON_Duplicate(changes, true);
        rc = copy ? icms__json_add(input, "prefs", copy) : ICMS_ENOMEM;
    }
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "notify.prefs_set", input, prefs_cmd, &call, out);
    else
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    cJSON_Delete(input);
    cJSON_Delete(changes);
    return rc;
}
