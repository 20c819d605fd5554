/*
 * Refresh: spend a refresh token for a new pair. A refresh token presented a
 * second time means two parties hold it; the session is revoked (and that
 * revocation commits) before the caller hears ICMS_EUNAUTHENTICATED.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "app/auth_cmd.h"
#include "app/records.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"

struct refresh_arg {
    icms_auth *auth;
    uint8_t raw[32];
    icms__auth_pair pair;
    bool reused;
};

static int refused(const char *why)
{
    return icms__error(ICMS_EUNAUTHENTICATED, "refresh token refused: %s", why);
}

static bool time_passed(const cJSON *doc, const char *field, int64_t now_ms)
{
    const char *text = icms__json_get_string(doc, field);
    int64_t ms;
    return !text || icms__time_parse(text, strlen(text), &ms) != ICMS_OK || now_ms >= ms;
}

/* The refresh record of hash, with the full hash compared in constant time. */
static int load_refresh(icms__cmd *cmd, const uint8_t hash[32], cJSON **doc)
{
    int rc = icms__record_get(cmd->tx, &icms__auth_refresh_record, hash, doc);
    if (rc == ICMS_ENOTFOUND)
        return refused("unknown");
    if (rc)
        return rc;
    const char *hex = icms__json_get_string(*doc, "hash");
    uint8_t stored[32];
    size_t n = 0;
    if (!hex || sodium_hex2bin(stored, sizeof stored, hex, strlen(hex), NULL, &n, NULL) != 0 ||
        n != 32 || !icms__ct_equal(stored, hash, 32)) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return refused("unknown");
    }
    return ICMS_OK;
}

static int on_reuse(icms__cmd *cmd, struct refresh_arg *arg, const uint8_t sid[16], cJSON *session,
                    const char *sid_text)
{
    if (!icms__auth_session_live(session, cmd->now_ms))
        return refused("already used, and its session has ended");
    int rc = icms__auth_revoke(cmd, sid, session, "refresh_reuse");
    cJSON *data = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && !data)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "reason", "refresh_reuse");
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.session_revoked", sid_text, data);
    cJSON_Delete(data);
    arg->reused = rc == ICMS_OK;
    return rc;
}

static int rotate(icms__cmd *cmd, struct refresh_arg *arg, const uint8_t sid[16], cJSON *session,
                  cJSON *refresh, const uint8_t hash[32])
{
    icms_auth *auth = arg->auth;
    const char *user_text = icms__json_get_string(session, "user_id");
    uint8_t user_id[16];
    cJSON *user = NULL;
    unsigned roles = 0;
    int rc = user_text && icms__uuid_parse(user_text, strlen(user_text), user_id) == ICMS_OK
                 ? icms__record_get(cmd->tx, &icms__user_record, user_id, &user)
                 : icms__error(ICMS_ECORRUPT, "session record without a user");
    if (rc == ICMS_ENOTFOUND)
        rc = refused("the user no longer exists");
    const char *status = rc ? NULL : icms__json_get_string(user, "status");
    if (rc == ICMS_OK && (!status || strcmp(status, "ACTIVE") != 0))
        rc = refused("the user is not active");
    if (rc == ICMS_OK)
        rc = icms__auth_user_roles(user, &roles);
    cJSON_Delete(user);
    /* Spend the old token, slide the session, issue the new pair. */
    if (rc == ICMS_OK)
        rc = icms__json_add_time(refresh, "used_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_refresh_record, hash, refresh);
    int64_t expires = cmd->now_ms + auth->refresh_ttl_ms;
    cJSON_DeleteItemFromObjectCaseSensitive(session, "last_seen_at");
    cJSON_DeleteItemFromObjectCaseSensitive(session, "expires_at");
    if (rc == ICMS_OK)
        rc = icms__json_add_time(session, "last_seen_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(session, "expires_at", expires);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_session_record, sid, session);
    icms__uuid_format(sid, arg->pair.session_id);
    if (rc == ICMS_OK) {
        snprintf(arg->pair.user_id, sizeof arg->pair.user_id, "%s", user_text);
        rc = icms__auth_new_refresh(cmd, auth, arg->pair.session_id, expires, &arg->pair);
    }
    if (rc == ICMS_OK)
        rc = icms__auth_sign_access(cmd, auth, arg->pair.user_id, arg->pair.session_id, roles,
                                    &arg->pair);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.refresh", arg->pair.session_id, NULL);
    return rc;
}

static int refresh(icms__cmd *cmd)
{
    struct refresh_arg *arg = cmd->arg;
    icms__auth_pair_clear(&arg->pair);
    arg->reused = false;
    uint8_t hash[32], sid[16];
    icms__auth_refresh_hash(arg->auth, arg->raw, hash);
    cJSON *refresh = NULL, *session = NULL;
    int rc = load_refresh(cmd, hash, &refresh);
    const char *sid_text = rc ? NULL : icms__json_get_string(refresh, "session_id");
    if (rc == ICMS_OK && (!sid_text || icms__uuid_parse(sid_text, strlen(sid_text), sid)))
        rc = icms__error(ICMS_ECORRUPT, "refresh record without a session");
    if (rc == ICMS_OK) {
        rc = icms__record_get(cmd->tx, &icms__auth_session_record, sid, &session);
        if (rc == ICMS_ENOTFOUND)
            rc = refused("its session has ended");
    }
    if (rc == ICMS_OK) {
        if (icms__json_get(refresh, "used_at"))
            rc = on_reuse(cmd, arg, sid, session, sid_text);
        else if (time_passed(refresh, "expires_at", cmd->now_ms))
            rc = refused("expired");
        else if (!icms__auth_session_live(session, cmd->now_ms))
            rc = refused("its session has ended");
        else
            rc = rotate(cmd, arg, sid, session, refresh, hash);
    }
    cJSON_Delete(refresh);
    cJSON_Delete(session);
    return rc;
}

int icms_auth_refresh(icms_auth *auth, const icms_request *req, const char *refresh_token,
                      char **out)
{
    if (out)
        *out = NULL;
    int rc = icms__auth_check_request(auth, req);
    if (rc == ICMS_OK && !out)
        rc = icms__error(ICMS_EINVALID, "icms_auth_refresh needs out");
    if (rc)
        return rc;
    struct refresh_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.auth = auth;
    size_t n = 0;
    if (!refresh_token ||
        strnlen(refresh_token, ICMS__AUTH_REFRESH_LEN + 1) != ICMS__AUTH_REFRESH_LEN ||
        icms__b64url_decode(refresh_token, ICMS__AUTH_REFRESH_LEN, arg.raw, sizeof arg.raw, &n) ||
        n != 32)
        return refused("malformed");
    rc = icms__command(auth->db, req, "auth.refresh", NULL, refresh, &arg, NULL);
    if (rc == ICMS_OK && arg.reused)
        rc = icms__error(ICMS_EUNAUTHENTICATED, "refresh token refused: already used; its "
                                                "session is revoked (possible token theft)");
    else if (rc == ICMS_OK)
        rc = icms__auth_pair_json(auth, &arg.pair, out);
    icms__auth_pair_clear(&arg.pair);
    icms__wipe(arg.raw, sizeof arg.raw);
    return rc;
}
