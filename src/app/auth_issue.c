/* Opening sessions and issuing token pairs, inside a command's transaction. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "app/auth_cmd.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"

void icms__auth_pair_clear(icms__auth_pair *pair)
{
    if (pair->access_token) {
        icms__wipe(pair->access_token, strlen(pair->access_token));
        icms__free(pair->access_token);
    }
    icms__wipe(pair, sizeof *pair);
}

int icms__auth_pair_json(const icms_auth *auth, const icms__auth_pair *pair, char **out)
{
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? icms__json_add_string(doc, "access_token", pair->access_token) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "token_type", "Bearer");
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "expires_in", auth->access_ttl_ms / 1000);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "refresh_token", pair->refresh_token);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "refresh_expires_in", auth->refresh_ttl_ms / 1000);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "session_id", pair->session_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "user_id", pair->user_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_bool(doc, "user_created", pair->user_created);
    size_t len = 0;
    if (rc == ICMS_OK)
        rc = icms__json_write(doc, 0, out, &len);
    /* cJSON copied the tokens into its nodes: wipe them before freeing. */
    for (cJSON *item = doc ? doc->child : NULL; item; item = item->next)
        if (cJSON_IsString(item) && item->valuestring)
            icms__wipe(item->valuestring, strlen(item->valuestring));
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms__auth_check_request(const icms_auth *auth, const icms_request *req)
{
    if (!auth || !req)
        return icms__error(ICMS_EINVALID, "an auth handle and a request context are required");
    if (req->idempotency_key)
        return icms__error(ICMS_EINVALID, "auth commands take no idempotency key (the stored "
                                          "result would keep tokens)");
    return ICMS_OK;
}

int icms__auth_user_roles(const cJSON *user, unsigned *roles)
{
    const cJSON *role;
    *roles = 0;
    cJSON_ArrayForEach(role, icms__json_get(user, "roles"))
    {
        icms_role_t r;
        if (!cJSON_IsString(role) || icms_role_parse(role->valuestring, &r) != ICMS_OK)
            return icms__error(ICMS_ECORRUPT, "user record has an unknown role");
        *roles |= (unsigned)r;
    }
    return ICMS_OK;
}

void icms__auth_refresh_hash(const icms_auth *auth, const uint8_t token[32], uint8_t hash[32])
{
    crypto_generichash(hash, 32, token, 32, auth->refresh_key, sizeof auth->refresh_key);
}

int icms__auth_new_refresh(icms__cmd *cmd, icms_auth *auth, const char *sid, int64_t expires_ms,
                           icms__auth_pair *pair)
{
    uint8_t raw[32], hash[32];
    char hash_hex[65];
    randombytes_buf(raw, sizeof raw);
    icms__b64url_encode(raw, sizeof raw, pair->refresh_token);
    icms__auth_refresh_hash(auth, raw, hash);
    icms__wipe(raw, sizeof raw);
    sodium_bin2hex(hash_hex, sizeof hash_hex, hash, sizeof hash);
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? icms__json_add_string(doc, "hash", hash_hex) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "session_id", sid);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "issued_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "expires_at", expires_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_refresh_record, hash, doc);
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms__auth_sign_access(icms__cmd *cmd, icms_auth *auth, const char *user_id, const char *sid,
                           unsigned roles, icms__auth_pair *pair)
{
    icms__claims c;
    memset(&c, 0, sizeof c);
    strcpy(c.iss, auth->cfg.issuer);
    strcpy(c.aud, auth->cfg.audience);
    snprintf(c.sub, sizeof c.sub, "%s", user_id);
    snprintf(c.sid, sizeof c.sid, "%s", sid);
    uint8_t jti[16];
    int rc = icms__uuid7_new(cmd->db->clock, jti);
    if (rc)
        return rc;
    icms__uuid_format(jti, c.jti);
    c.roles = roles;
    c.iat = c.nbf = cmd->now_ms / 1000;
    c.exp = (cmd->now_ms + auth->access_ttl_ms) / 1000;
    char kid[ICMS__AUTH_KID_LEN + 1];
    uint8_t sk[64];
    if ((rc = icms__auth_key_current(cmd->tx, auth->seal_key, kid, sk)))
        return rc;
    cJSON *header = cJSON_CreateObject(), *payload = icms__claims_json(&c);
    rc = header && payload ? icms__json_add_string(header, "alg", "EdDSA") : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(header, "typ", "JWT");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(header, "kid", kid);
    if (rc == ICMS_OK)
        rc = icms__jws_sign(header, payload, sk, &pair->access_token);
    icms__wipe(sk, sizeof sk);
    cJSON_Delete(header);
    cJSON_Delete(payload);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

static int session_event(icms__cmd *cmd, const char *type, const char *sid, const char *user_id,
                         const char *key, const char *value)
{
    cJSON *data = cJSON_CreateObject();
    int rc = data ? icms__json_add_string(data, "session_id", sid) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, "user_id", user_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(data, key, value);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, type, sid, data);
    cJSON_Delete(data);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms__auth_open_session(icms__cmd *cmd, icms_auth *auth, const uint8_t user_id[16],
                            const cJSON *user, const char *device, const char *method,
                            const char *provider, icms__auth_pair *pair)
{
    uint8_t sid[16];
    unsigned roles = 0;
    int rc = icms__auth_user_roles(user, &roles);
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, sid);
    if (rc)
        return rc;
    icms__uuid_format(sid, pair->session_id);
    icms__uuid_format(user_id, pair->user_id);
    int64_t expires = cmd->now_ms + auth->refresh_ttl_ms;
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? icms__json_add_string(doc, "id", pair->session_id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "user_id", pair->user_id);
    if (rc == ICMS_OK && device)
        rc = icms__json_add_string(doc, "device", device);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "method", method);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "last_seen_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "expires_at", expires);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "status", ICMS__AUTH_ACTIVE);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_session_record, sid, doc);
    cJSON_Delete(doc);
    if (rc == ICMS_OK)
        rc = icms__auth_new_refresh(cmd, auth, pair->session_id, expires, pair);
    if (rc == ICMS_OK)
        rc = icms__auth_sign_access(cmd, auth, pair->user_id, pair->session_id, roles, pair);
    if (rc == ICMS_OK)
        rc = session_event(cmd, "session.created", pair->session_id, pair->user_id, "method",
                           method);
    cJSON *audit = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && !audit)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(audit, "session_id", pair->session_id);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(audit, "method", method);
    if (rc == ICMS_OK && provider)
        rc = icms__json_add_string(audit, "provider", provider);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.login", pair->user_id, audit);
    cJSON_Delete(audit);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms__auth_revoke(icms__cmd *cmd, const uint8_t sid[16], cJSON *doc, const char *reason)
{
    char sid_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(sid, sid_text);
    const char *user_id = icms__json_get_string(doc, "user_id");
    if (!user_id)
        return icms__error(ICMS_ECORRUPT, "session record has no user");
    char user[ICMS_UUID_STRING_SIZE];
    snprintf(user, sizeof user, "%s", user_id);
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "status");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "revoked_at");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "revoked_reason");
    int rc = icms__json_add_string(doc, "status", ICMS__AUTH_REVOKED);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "revoked_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "revoked_reason", reason);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_session_record, sid, doc);
    if (rc == ICMS_OK)
        rc = session_event(cmd, "session.invalidated", sid_text, user, "reason", reason);
    return rc;
}
