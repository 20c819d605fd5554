/*
 * Local passwords: setting one, and logging in with one.
 *
 * Argon2id runs outside every store transaction (it takes ~0.1 s and 64 MiB
 * with the interactive limits), so a login never holds the writer's lock
 * while hashing. The login reads what it needs, verifies, and then commits
 * either the session (re-checking that the hash it verified is still the
 * stored one) or the failure count.
 *
 * Failed logins count per account (the email, lower-cased, whether or not a
 * user has it, so the count reveals nothing) and per source (the client's
 * address) in fixed windows; past the limit every attempt is refused with
 * ICMS_ELIMIT until the window ends.
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "app/auth_cmd.h"
#include "app/records.h"
#include "app/user_api.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/users.h"

#define SOURCE_MAX 128

/* ---- failure counters ---- */

static void fail_key(icms__key *key, const char *kind, const char *value)
{
    icms__key_init(key);
    icms__key_str(key, "auth");
    icms__key_str(key, "fail");
    icms__key_str(key, kind);
    icms__key_str(key, value);
}

/* The count in the window that holds now (0 when the window has passed). */
static int fail_count(icms__tx *tx, const icms_auth *auth, const char *kind, const char *value,
                      int64_t now_ms, int64_t *count, int64_t *since)
{
    icms__key key;
    const uint8_t *bytes;
    size_t len;
    *count = 0;
    *since = now_ms;
    fail_key(&key, kind, value);
    int rc = icms__tx_get(tx, &key, &bytes, &len);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK;
    cJSON *doc = NULL;
    if (rc || (rc = icms__json_parse((const char *)bytes, len, NULL, &doc)))
        return rc == ICMS_EINVALID ? icms__error(ICMS_ECORRUPT, "failure count unreadable") : rc;
    int64_t c = 0, s = 0;
    if (!icms__json_int64(icms__json_get(doc, "count"), &c) ||
        !icms__json_int64(icms__json_get(doc, "since"), &s))
        rc = icms__error(ICMS_ECORRUPT, "failure count incomplete");
    cJSON_Delete(doc);
    if (rc == ICMS_OK && now_ms - s < auth->failure_window_ms && now_ms >= s) {
        *count = c;
        *since = s;
    }
    return rc;
}

static int check_throttle(icms__tx *tx, const icms_auth *auth, const char *kind, const char *value,
                          unsigned int max, int64_t now_ms)
{
    int64_t count, since;
    int rc = fail_count(tx, auth, kind, value, now_ms, &count, &since);
    if (rc == ICMS_OK && count >= (int64_t)max)
        rc =
            icms__error(ICMS_ELIMIT, "too many failed logins for this %s; try again in %lld s",
                        kind, (long long)((since + auth->failure_window_ms - now_ms + 999) / 1000));
    return rc;
}

static int count_failure(icms__tx *tx, const icms_auth *auth, const char *kind, const char *value,
                         int64_t now_ms)
{
    int64_t count, since;
    int rc = fail_count(tx, auth, kind, value, now_ms, &count, &since);
    if (rc)
        return rc;
    /* until: when the count stops mattering, so the sweep can drop it without the window. */
    char text[128];
    int n = snprintf(text, sizeof text, "{\"count\":%lld,\"since\":%lld,\"until\":%lld}",
                     (long long)count + 1, (long long)since,
                     (long long)(since + auth->failure_window_ms));
    icms__key key;
    fail_key(&key, kind, value);
    return icms__tx_put(tx, &key, text, (size_t)n);
}

static int clear_failures(icms__tx *tx, const char *kind, const char *value)
{
    icms__key key;
    fail_key(&key, kind, value);
    int rc = icms__tx_del(tx, &key);
    return rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
}

/* ---- set ---- */

struct set_arg {
    uint8_t user_id[16];
    const char *hash;
};

static int save_hash(icms__cmd *cmd, const uint8_t user_id[16], const char *hash)
{
    char user_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(user_id, user_text);
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? icms__json_add_string(doc, "user_id", user_text) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "hash", hash);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "updated_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_password_record, user_id, doc);
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

static int set_password(icms__cmd *cmd)
{
    struct set_arg *arg = cmd->arg;
    bool self = icms__actor_is_user(&cmd->actor, arg->user_id);
    bool admin =
        cmd->actor.kind != ICMS_ACTOR_SYSTEM && icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN);
    if (!self && !admin)
        return icms__error(ICMS_EFORBIDDEN, "auth.password_set: only the user, an "
                                            "administrator or the host may");
    cJSON *user = NULL;
    int rc = icms__record_get(cmd->tx, &icms__user_record, arg->user_id, &user);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "auth.password_set: user not found");
    if (rc)
        return rc;
    const char *status = icms__json_get_string(user, "status");
    if (!status || strcmp(status, "ERASED") == 0)
        rc = icms__error(ICMS_ENOTFOUND, "auth.password_set: user not found");
    cJSON_Delete(user);
    if (rc == ICMS_OK)
        rc = save_hash(cmd, arg->user_id, arg->hash);
    char user_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(arg->user_id, user_text);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.password_set", user_text, NULL);
    return rc;
}

int icms_auth_password_set(icms_auth *auth, const icms_request *req, const char *user_id,
                           const char *password)
{
    struct set_arg arg;
    int rc = icms__auth_check_request(auth, req);
    if (rc == ICMS_OK && (!user_id || icms__uuid_parse(user_id, strlen(user_id), arg.user_id)))
        rc = icms__error(ICMS_EINVALID, "user_id: not a libicms id");
    if (rc == ICMS_OK)
        rc = icms__password_check_rules(password);
    if (rc)
        return rc;
    char hash[crypto_pwhash_STRBYTES];
    rc = icms__password_hash(password, auth->password_opslimit, auth->password_memlimit, hash,
                             sizeof hash);
    arg.hash = hash;
    if (rc == ICMS_OK)
        rc = icms__command(auth->db, req, "auth.password_set", NULL, set_password, &arg, NULL);
    icms__wipe(hash, sizeof hash);
    return rc;
}

/* ---- login ---- */

struct login {
    icms_auth *auth;
    const icms_auth_password_login *in;
    char email[ICMS_USER_EMAIL_MAX + 1]; /* lower-cased: the account's throttle key */
    bool have_user;
    uint8_t user_id[16];
    char hash[crypto_pwhash_STRBYTES]; /* the stored hash verified against */
    char new_hash[crypto_pwhash_STRBYTES];
    icms__auth_pair pair;
};

static int load_hash(icms__tx *tx, const uint8_t user_id[16], char *out, size_t size)
{
    cJSON *doc = NULL;
    int rc = icms__record_get(tx, &icms__auth_password_record, user_id, &doc);
    if (rc)
        return rc;
    const char *hash = icms__json_get_string(doc, "hash");
    if (!hash || strlen(hash) >= size)
        rc = icms__error(ICMS_ECORRUPT, "stored password hash malformed");
    else
        strcpy(out, hash);
    cJSON_Delete(doc);
    return rc;
}

static int prepare(icms__tx *tx, void *arg)
{
    struct login *l = arg;
    int64_t now = icms__db_now(l->auth->db);
    l->have_user = false;
    l->hash[0] = '\0';
    int rc =
        check_throttle(tx, l->auth, "account", l->email, l->auth->max_failures_per_account, now);
    if (rc == ICMS_OK && l->in->source)
        rc = check_throttle(tx, l->auth, "source", l->in->source, l->auth->max_failures_per_source,
                            now);
    if (rc)
        return rc;
    rc = icms__user_find_by_email(tx, l->in->email, l->user_id);
    if (rc == ICMS_ENOTFOUND || rc == ICMS_EINVALID) {
        icms_error_clear();
        return ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = load_hash(tx, l->user_id, l->hash, sizeof l->hash);
    if (rc == ICMS_ENOTFOUND) { /* a user without a password: like a wrong one */
        icms_error_clear();
        return ICMS_OK;
    }
    l->have_user = rc == ICMS_OK;
    return rc;
}

static int record_failure(icms__cmd *cmd)
{
    struct login *l = cmd->arg;
    int rc = count_failure(cmd->tx, l->auth, "account", l->email, cmd->now_ms);
    if (rc == ICMS_OK && l->in->source)
        rc = count_failure(cmd->tx, l->auth, "source", l->in->source, cmd->now_ms);
    return rc;
}

static int login_password(icms__cmd *cmd)
{
    struct login *l = cmd->arg;
    icms__auth_pair_clear(&l->pair);
    int rc = check_throttle(cmd->tx, l->auth, "account", l->email,
                            l->auth->max_failures_per_account, cmd->now_ms);
    char stored[crypto_pwhash_STRBYTES];
    if (rc == ICMS_OK)
        rc = load_hash(cmd->tx, l->user_id, stored, sizeof stored);
    /* Changed between the check and now (a concurrent password_set): verify again. */
    if (rc == ICMS_ENOTFOUND || (rc == ICMS_OK && strcmp(stored, l->hash) != 0))
        rc = icms__error(ICMS_EUNAUTHENTICATED, "wrong email or password");
    icms__wipe(stored, sizeof stored);
    cJSON *user = NULL;
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__user_record, l->user_id, &user);
    const char *status = rc ? NULL : icms__json_get_string(user, "status");
    if (rc == ICMS_OK && (!status || strcmp(status, "ACTIVE") != 0))
        rc = icms__error(ICMS_EUNAUTHENTICATED, "auth.login: the user is not active");
    if (rc == ICMS_OK)
        rc = clear_failures(cmd->tx, "account", l->email);
    if (rc == ICMS_OK && l->new_hash[0])
        rc = save_hash(cmd, l->user_id, l->new_hash);
    if (rc == ICMS_OK)
        rc = icms__auth_open_session(cmd, l->auth, l->user_id, user, l->in->device, "password",
                                     NULL, &l->pair);
    cJSON_Delete(user);
    return rc;
}

static int check_login(const icms_auth_password_login *in)
{
    if (in->version != ICMS_AUTH_PASSWORD_LOGIN_VERSION)
        return icms__error(ICMS_EVERSION, "password login version %u is not %u", in->version,
                           ICMS_AUTH_PASSWORD_LOGIN_VERSION);
    if (!in->email || !in->email[0] || strlen(in->email) > ICMS_USER_EMAIL_MAX)
        return icms__error(ICMS_EINVALID, "email: required, at most %d bytes", ICMS_USER_EMAIL_MAX);
    if (!in->password || strnlen(in->password, ICMS__PASSWORD_MAX + 1) > ICMS__PASSWORD_MAX)
        return icms__error(ICMS_EINVALID, "password: required, at most %d bytes",
                           ICMS__PASSWORD_MAX);
    if (in->source && (!in->source[0] || strnlen(in->source, SOURCE_MAX + 1) > SOURCE_MAX))
        return icms__error(ICMS_EINVALID, "source: 1 to %d bytes", SOURCE_MAX);
    if (in->device &&
        (!in->device[0] || strnlen(in->device, ICMS__AUTH_DEVICE_MAX + 1) > ICMS__AUTH_DEVICE_MAX))
        return icms__error(ICMS_EINVALID, "device: 1 to %d bytes", ICMS__AUTH_DEVICE_MAX);
    return ICMS_OK;
}

int icms_auth_login_password(icms_auth *auth, const icms_request *req,
                             const icms_auth_password_login *login, char **out)
{
    if (out)
        *out = NULL;
    int rc = icms__auth_check_request(auth, req);
    if (rc == ICMS_OK && (!login || !out))
        rc = icms__error(ICMS_EINVALID, "icms_auth_login_password needs a login and out");
    if (rc == ICMS_OK)
        rc = check_login(login);
    if (rc)
        return rc;
    struct login *l = icms__calloc(1, sizeof *l);
    if (!l)
        return ICMS_ENOMEM;
    l->auth = auth;
    l->in = login;
    for (size_t i = 0; login->email[i]; i++)
        l->email[i] =
            (char)(login->email[i] >= 'A' && login->email[i] <= 'Z' ? login->email[i] - 'A' + 'a'
                                                                    : login->email[i]);
    const char *dummy = NULL;
    rc = icms__auth_dummy_hash(auth, &dummy);
    if (rc == ICMS_OK)
        rc = icms__db_read(auth->db, prepare, l);
    bool ok = false;
    if (rc == ICMS_OK) {
        /* The same Argon2id work whether or not the account exists. */
        ok = icms__password_verify(l->have_user ? l->hash : dummy, login->password) && l->have_user;
        if (ok &&
            icms__password_needs_rehash(l->hash, auth->password_opslimit, auth->password_memlimit))
            rc = icms__password_hash(login->password, auth->password_opslimit,
                                     auth->password_memlimit, l->new_hash, sizeof l->new_hash);
    }
    if (rc == ICMS_OK && !ok) {
        rc = icms__command(auth->db, req, "auth.login_failed", NULL, record_failure, l, NULL);
        if (rc == ICMS_OK)
            rc = icms__error(ICMS_EUNAUTHENTICATED, "wrong email or password");
    } else if (rc == ICMS_OK) {
        rc = icms__command(auth->db, req, "auth.login_password", NULL, login_password, l, NULL);
        if (rc == ICMS_OK)
            rc = icms__auth_pair_json(auth, &l->pair, out);
    }
    icms__auth_pair_clear(&l->pair);
    icms__wipe(l, sizeof *l);
    icms__free(l);
    return rc;
}
