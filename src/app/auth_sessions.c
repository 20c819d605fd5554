/* Sessions: list a user's, log one out, log a user out everywhere. */
#include <string.h>

#include "app/auth_cmd.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"

static int parse_id(const char *what, const char *text, uint8_t id[16])
{
    if (!text || icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "%s: not a libicms id", what);
    return ICMS_OK;
}

/* The user themself, an administrator or the host. */
static int may_manage(const icms__cmd *cmd, const uint8_t user_id[16], const char *what)
{
    if (icms__actor_is_user(&cmd->actor, user_id) ||
        (cmd->actor.kind != ICMS_ACTOR_SYSTEM &&
         icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN)))
        return ICMS_OK;
    return icms__error(ICMS_EFORBIDDEN, "%s: only the user, an administrator or the host may",
                       what);
}

/* Up to `cap` ids of a user's sessions, newest first. */
struct id_list {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect(const uint8_t id[16], void *payload)
{
    struct id_list *l = payload;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *grown = icms__realloc(l->ids, cap * 16);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        l->ids = grown;
        l->cap = cap;
    }
    memcpy(l->ids[l->count++], id, 16);
    return 0;
}

static int user_sessions(icms__tx *tx, const uint8_t user_id[16], struct id_list *l)
{
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, user_id);
    l->count = 0;
    return icms__record_scan_index(tx, &icms__auth_session_record, "by_user", &values, NULL,
                                   ICMS_STORE_SCAN_REVERSE, collect, l);
}

static cJSON *session_view(cJSON *doc)
{
    static const char *const fields[] = {"id",         "device",       "method",
                                         "created_at", "last_seen_at", "expires_at",
                                         "status",     "revoked_at",   "revoked_reason"};
    cJSON *view = cJSON_CreateObject();
    for (size_t i = 0; view && i < ICMS__ARRAY_LEN(fields); i++) {
        const char *v = icms__json_get_string(doc, fields[i]);
        if (v && icms__json_add_string(view, fields[i], v)) {
            cJSON_Delete(view);
            return NULL;
        }
    }
    return view;
}

struct user_arg {
    uint8_t user_id[16];
    struct id_list list;
    int64_t revoked;
};

static int list_sessions(icms__cmd *cmd)
{
    struct user_arg *arg = cmd->arg;
    int rc = may_manage(cmd, arg->user_id, "auth.sessions");
    if (rc == ICMS_OK)
        rc = user_sessions(cmd->tx, arg->user_id, &arg->list);
    cJSON *doc = rc ? NULL : cJSON_CreateObject(), *array = NULL;
    if (rc == ICMS_OK && !doc)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_array(doc, "sessions", &array);
    for (size_t i = 0; rc == ICMS_OK && i < arg->list.count; i++) {
        cJSON *s = NULL;
        rc = icms__record_get(cmd->tx, &icms__auth_session_record, arg->list.ids[i], &s);
        cJSON *view = rc ? NULL : session_view(s);
        if (rc == ICMS_OK)
            rc = view ? icms__json_add(array, NULL, view) : ICMS_ENOMEM;
        cJSON_Delete(s);
    }
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms_auth_sessions(icms_db *db, const icms_request *req, const char *user_id, char **out)
{
    if (out)
        *out = NULL;
    struct user_arg arg;
    memset(&arg, 0, sizeof arg);
    int rc = parse_id("user_id", user_id, arg.user_id);
    if (rc == ICMS_OK)
        rc = icms__query(db, req, list_sessions, &arg, out);
    icms__free(arg.list.ids);
    return rc;
}

/* ---- logout ---- */

struct session_arg {
    uint8_t sid[16];
};

static int logout_one(icms__cmd *cmd)
{
    struct session_arg *arg = cmd->arg;
    cJSON *doc = NULL;
    int rc = icms__record_get(cmd->tx, &icms__auth_session_record, arg->sid, &doc);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "auth.logout: session not found");
    if (rc)
        return rc;
    const char *user_text = icms__json_get_string(doc, "user_id");
    uint8_t user_id[16];
    if (!user_text || icms__uuid_parse(user_text, strlen(user_text), user_id))
        rc = icms__error(ICMS_ECORRUPT, "session record without a user");
    else if (may_manage(cmd, user_id, "auth.logout"))
        rc = icms__error(ICMS_ENOTFOUND, "auth.logout: session not found"); /* not theirs */
    else if (!icms__auth_session_live(doc, cmd->now_ms))
        rc = icms__error(ICMS_EINVALID_TRANSITION, "auth.logout: the session already ended");
    if (rc == ICMS_OK)
        rc = icms__auth_revoke(cmd, arg->sid, doc, "logout");
    char sid_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->sid, sid_text);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.logout", sid_text, NULL);
    cJSON_Delete(doc);
    cJSON *result = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && (!result || icms__json_add_string(result, "session_id", sid_text) ||
                          icms__json_add_bool(result, "revoked", true))) {
        cJSON_Delete(result);
        return icms__error(ICMS_ENOMEM, "out of memory");
    }
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, result);
    return rc;
}

int icms_auth_logout(icms_db *db, const icms_request *req, const char *session_id, char **out)
{
    if (out)
        *out = NULL;
    struct session_arg arg;
    int rc = parse_id("session_id", session_id, arg.sid);
    if (rc == ICMS_OK && req && req->idempotency_key)
        rc = icms__error(ICMS_EINVALID, "auth commands take no idempotency key");
    if (rc)
        return rc;
    return icms__command(db, req, "auth.logout", NULL, logout_one, &arg, out);
}

static int logout_all(icms__cmd *cmd)
{
    struct user_arg *arg = cmd->arg;
    arg->revoked = 0;
    int rc = may_manage(cmd, arg->user_id, "auth.logout_all");
    if (rc == ICMS_OK)
        rc = user_sessions(cmd->tx, arg->user_id, &arg->list);
    for (size_t i = 0; rc == ICMS_OK && i < arg->list.count; i++) {
        cJSON *doc = NULL;
        rc = icms__record_get(cmd->tx, &icms__auth_session_record, arg->list.ids[i], &doc);
        if (rc == ICMS_OK && icms__auth_session_live(doc, cmd->now_ms)) {
            rc = icms__auth_revoke(cmd, arg->list.ids[i], doc, "logout_all");
            arg->revoked++;
        }
        cJSON_Delete(doc);
    }
    char user_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->user_id, user_text);
    cJSON *result = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && (!result || icms__json_add_string(result, "user_id", user_text) ||
                          icms__json_add_int64(result, "revoked", arg->revoked)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.logout_all", user_text, result);
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, result);
        result = NULL;
    }
    cJSON_Delete(result);
    return rc;
}

int icms_auth_logout_all(icms_db *db, const icms_request *req, const char *user_id, char **out)
{
    if (out)
        *out = NULL;
    struct user_arg arg;
    memset(&arg, 0, sizeof arg);
    int rc = parse_id("user_id", user_id, arg.user_id);
    if (rc == ICMS_OK && req && req->idempotency_key)
        rc = icms__error(ICMS_EINVALID, "auth commands take no idempotency key");
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "auth.logout_all", NULL, logout_all, &arg, out);
    icms__free(arg.list.ids);
    return rc;
}
