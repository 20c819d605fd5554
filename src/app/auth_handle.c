/* The auth handle, verification, JWKS and key rotation. */
#include <string.h>

#include "app/auth_cmd.h"
#include "app/records.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"

#define DAY_MS (24LL * 60 * 60 * 1000)

static int check_options(const icms_auth_options *o)
{
    if (o->version != ICMS_AUTH_OPTIONS_VERSION)
        return icms__error(ICMS_EVERSION, "auth options version %u is not %u", o->version,
                           ICMS_AUTH_OPTIONS_VERSION);
    if (!o->secrets || !o->secrets->master_key || o->secrets->version != ICMS_SECRETS_VERSION)
        return icms__error(ICMS_EINVALID,
                           "auth options: secrets is required (a version %d "
                           "source with master_key)",
                           ICMS_SECRETS_VERSION);
    if (!o->issuer || !o->issuer[0] || strlen(o->issuer) > 255)
        return icms__error(ICMS_EINVALID, "auth options: issuer must be 1 to 255 bytes");
    if (!o->audience || !o->audience[0] || strlen(o->audience) > 255)
        return icms__error(ICMS_EINVALID, "auth options: audience must be 1 to 255 bytes");
    if (o->access_ttl_ms < 1000 || o->access_ttl_ms > DAY_MS)
        return icms__error(ICMS_EINVALID, "auth options: access_ttl_ms must be 1 s to 1 day");
    if (o->refresh_ttl_ms < o->access_ttl_ms || o->refresh_ttl_ms > 400 * DAY_MS)
        return icms__error(ICMS_EINVALID, "auth options: refresh_ttl_ms must be at least "
                                          "access_ttl_ms and at most 400 days");
    if (o->leeway_ms < 0 || o->leeway_ms > 5 * 60 * 1000)
        return icms__error(ICMS_EINVALID, "auth options: leeway_ms must be 0 to 5 minutes");
    if (o->password_opslimit < 1 || o->password_memlimit < 8192)
        return icms__error(ICMS_EINVALID, "auth options: password limits below Argon2id's "
                                          "minimum");
    if (!o->max_failures_per_account || !o->max_failures_per_source || o->failure_window_ms <= 0)
        return icms__error(ICMS_EINVALID, "auth options: failure limits and window must be "
                                          "positive");
    return ICMS_OK;
}

static int setup(icms__tx *tx, void *arg)
{
    icms_auth *auth = arg;
    int rc = icms__auth_config_put(tx, &auth->cfg);
    bool exists = false;
    if (rc == ICMS_OK)
        rc = icms__auth_key_exists(tx, &exists);
    if (rc)
        return rc;
    char kid[ICMS__AUTH_KID_LEN + 1], none[ICMS__AUTH_KID_LEN + 1];
    if (!exists)
        return icms__auth_key_rotate(tx, icms__db_now(auth->db), 0, auth->seal_key, kid, none);
    /* Prove now, not at the first login, that this master key opens the current key. */
    uint8_t sk[64];
    rc = icms__auth_key_current(tx, auth->seal_key, kid, sk);
    icms__wipe(sk, sizeof sk);
    return rc;
}

int icms_auth_new(icms_auth **out, icms_db *db, const icms_auth_options *options)
{
    icms_secrets *secrets = options ? options->secrets : NULL;
    if (out)
        *out = NULL;
    int rc = !out || !db || !options
                 ? icms__error(ICMS_EINVALID, "icms_auth_new needs out, a database and options")
                 : check_options(options);
    icms_auth *auth = rc ? NULL : icms__calloc(1, sizeof *auth);
    if (rc == ICMS_OK && !auth)
        rc = ICMS_ENOMEM;
    if (rc) {
        icms_secrets_free(secrets);
        return rc;
    }
    auth->db = db;
    auth->secrets = secrets;
    pthread_mutex_init(&auth->dummy_lock, NULL);
    strcpy(auth->cfg.issuer, options->issuer);
    strcpy(auth->cfg.audience, options->audience);
    auth->cfg.leeway_ms = options->leeway_ms;
    auth->access_ttl_ms = options->access_ttl_ms;
    auth->refresh_ttl_ms = options->refresh_ttl_ms;
    auth->password_opslimit = options->password_opslimit;
    auth->password_memlimit = options->password_memlimit;
    auth->max_failures_per_account = options->max_failures_per_account;
    auth->max_failures_per_source = options->max_failures_per_source;
    auth->failure_window_ms = options->failure_window_ms;
    rc = icms__auth_subkey(secrets, ICMS__AUTH_SUBKEY_SEAL, auth->seal_key);
    if (rc == ICMS_OK)
        rc = icms__auth_subkey(secrets, ICMS__AUTH_SUBKEY_REFRESH, auth->refresh_key);
    if (rc == ICMS_OK)
        rc = icms__db_write(db, setup, auth);
    if (rc) {
        icms_auth_free(auth);
        return rc;
    }
    *out = auth;
    return ICMS_OK;
}

void icms_auth_free(icms_auth *auth)
{
    if (!auth)
        return;
    icms_secrets_free(auth->secrets);
    pthread_mutex_destroy(&auth->dummy_lock);
    icms__wipe(auth, sizeof *auth);
    icms__free(auth);
}

int icms__auth_dummy_hash(icms_auth *auth, const char **out)
{
    int rc = ICMS_OK;
    pthread_mutex_lock(&auth->dummy_lock);
    if (!auth->dummy_ready) {
        char *random = NULL;
        rc = icms__random_token(&random);
        if (rc == ICMS_OK)
            rc = icms__password_hash(random, auth->password_opslimit, auth->password_memlimit,
                                     auth->dummy_hash, sizeof auth->dummy_hash);
        if (random)
            icms__wipe(random, strlen(random));
        icms__free(random);
        auth->dummy_ready = rc == ICMS_OK;
    }
    pthread_mutex_unlock(&auth->dummy_lock);
    *out = auth->dummy_hash;
    return rc;
}

/* ---- verify ---- */

struct verify_arg {
    icms_auth *auth;
    const char *token;
    icms__claims claims;
};

static int verify_tx(icms__tx *tx, void *arg)
{
    struct verify_arg *v = arg;
    int rc = icms__auth_token_check(tx, icms__db_now(v->auth->db), v->token, &v->claims);
    if (rc)
        return rc;
    /* As a command would: the user must still be active. */
    uint8_t id[16];
    cJSON *user = NULL;
    if (icms__uuid_parse(v->claims.sub, strlen(v->claims.sub), id) != ICMS_OK)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: bad subject");
    rc = icms__record_get(tx, &icms__user_record, id, &user);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: the user does not exist");
    if (rc)
        return rc;
    const char *status = icms__json_get_string(user, "status");
    if (!status || strcmp(status, "ACTIVE") != 0)
        rc = icms__error(ICMS_EUNAUTHENTICATED, "access token refused: the user is not active");
    cJSON_Delete(user);
    return rc;
}

int icms_auth_verify(icms_auth *auth, const char *access_token, char **out)
{
    if (out)
        *out = NULL;
    if (!auth)
        return icms__error(ICMS_EINVALID, "icms_auth_verify needs an auth handle");
    struct verify_arg v;
    memset(&v, 0, sizeof v);
    v.auth = auth;
    v.token = access_token;
    int rc = icms__db_read(auth->db, verify_tx, &v);
    if (rc || !out)
        return rc;
    cJSON *doc = icms__claims_json(&v.claims);
    if (!doc)
        return ICMS_ENOMEM;
    rc = icms__json_write(doc, 0, out, NULL);
    cJSON_Delete(doc);
    return rc;
}

/* ---- JWKS ---- */

struct jwks_arg {
    icms_auth *auth;
    cJSON *doc;
};

static int jwks_tx(icms__tx *tx, void *arg)
{
    struct jwks_arg *j = arg;
    cJSON_Delete(j->doc);
    j->doc = NULL;
    return icms__auth_jwks(tx, icms__db_now(j->auth->db), &j->doc);
}

int icms_auth_jwks(icms_auth *auth, char **out)
{
    if (!out || !auth)
        return icms__error(ICMS_EINVALID, "icms_auth_jwks needs an auth handle and out");
    *out = NULL;
    struct jwks_arg j = {auth, NULL};
    int rc = icms__db_read(auth->db, jwks_tx, &j);
    if (rc == ICMS_OK)
        rc = icms__json_write(j.doc, 0, out, NULL);
    cJSON_Delete(j.doc);
    return rc;
}

/* ---- rotation ---- */

static int rotate(icms__cmd *cmd)
{
    icms_auth *auth = cmd->arg;
    if (!icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN) || cmd->actor.kind == ICMS_ACTOR_SYSTEM)
        return icms__error(ICMS_EFORBIDDEN, "auth.rotate_keys: administrators and the host only");
    char kid[ICMS__AUTH_KID_LEN + 1], retired[ICMS__AUTH_KID_LEN + 1];
    /* Tokens signed by the old key live at most access_ttl (+ leeway for late clocks). */
    int64_t until = cmd->now_ms + auth->access_ttl_ms + auth->cfg.leeway_ms;
    int rc = icms__auth_key_rotate(cmd->tx, cmd->now_ms, until, auth->seal_key, kid, retired);
    cJSON *doc = rc ? NULL : cJSON_CreateObject(), *list = NULL;
    if (rc == ICMS_OK && !doc)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "kid", kid);
    if (rc == ICMS_OK)
        rc = icms__json_add_array(doc, "retired", &list);
    if (rc == ICMS_OK && retired[0])
        rc = icms__json_add(list, NULL, cJSON_CreateString(retired));
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.rotate_keys", kid, doc);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "auth.keys_rotated", kid, doc);
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms_auth_rotate_keys(icms_auth *auth, const icms_request *req, char **out)
{
    if (out)
        *out = NULL;
    int rc = icms__auth_check_request(auth, req);
    if (rc)
        return rc;
    return icms__command(auth->db, req, "auth.rotate_keys", NULL, rotate, auth, out);
}
