/*
 * Logging in with an external identity (Google, Apple, ... through the
 * host's OAuth flow): link or create the user, open a session.
 */
#include <stdio.h>
#include <string.h>

#include "app/auth_cmd.h"
#include "app/records.h"
#include "app/user_api.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/users.h"

#define PROVIDER_MAX 64
#define SUBJECT_MAX 255

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

static int check_identity(const icms_auth_identity *id)
{
    if (id->version != ICMS_AUTH_IDENTITY_VERSION)
        return icms__error(ICMS_EVERSION, "identity version %u is not %u", id->version,
                           ICMS_AUTH_IDENTITY_VERSION);
    size_t n = id->provider ? strnlen(id->provider, PROVIDER_MAX + 1) : 0;
    if (n == 0 || n > PROVIDER_MAX)
        return icms__error(ICMS_EINVALID, "provider: must be 1 to %d characters", PROVIDER_MAX);
    for (size_t i = 0; i < n; i++) {
        char c = id->provider[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return icms__error(ICMS_EINVALID, "provider: only a-z 0-9 . _ -");
    }
    n = id->subject ? strnlen(id->subject, SUBJECT_MAX + 1) : 0;
    if (n == 0 || n > SUBJECT_MAX || !printable(id->subject))
        return icms__error(ICMS_EINVALID, "subject: must be 1 to %d printable bytes", SUBJECT_MAX);
    if (id->device &&
        (!id->device[0] || strnlen(id->device, ICMS__AUTH_DEVICE_MAX + 1) > ICMS__AUTH_DEVICE_MAX ||
         !printable(id->device)))
        return icms__error(ICMS_EINVALID, "device: must be 1 to %d printable bytes",
                           ICMS__AUTH_DEVICE_MAX);
    return ICMS_OK;
}

struct external_arg {
    icms_auth *auth;
    const icms_auth_identity *identity;
    icms__auth_pair pair;
};

static int find_identity(icms__cmd *cmd, const icms_auth_identity *identity, uint8_t user_id[16])
{
    icms__key values;
    icms__key_init(&values);
    icms__key_str(&values, identity->provider);
    icms__key_str(&values, identity->subject);
    uint8_t id[16];
    int rc = icms__record_find_unique(cmd->tx, &icms__auth_identity_record, "provider_subject",
                                      &values, id);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    if ((rc = icms__record_get(cmd->tx, &icms__auth_identity_record, id, &doc)))
        return rc == ICMS_ENOTFOUND ? icms__error(ICMS_ECORRUPT, "identity index names nothing")
                                    : rc;
    const char *user = icms__json_get_string(doc, "user_id");
    rc = user && icms__uuid_parse(user, strlen(user), user_id) == ICMS_OK
             ? ICMS_OK
             : icms__error(ICMS_ECORRUPT, "identity record without a user");
    cJSON_Delete(doc);
    return rc;
}

/* The user's input for icms__user_insert: the verified email, and a name. */
static cJSON *new_user_input(const icms_auth_identity *identity)
{
    cJSON *input = cJSON_CreateObject();
    char name[ICMS_USER_NAME_MAX + 1];
    if (identity->name) {
        snprintf(name, sizeof name, "%s", identity->name);
    } else { /* the email's local part: something to call the person until they say */
        const char *at = strchr(identity->email, '@');
        size_t n = at ? (size_t)(at - identity->email) : strlen(identity->email);
        if (n == 0 || n >= sizeof name)
            n = 0;
        memcpy(name, identity->email, n);
        name[n] = '\0';
        if (!n)
            strcpy(name, "user");
    }
    if (!input || icms__json_add_string(input, "name", name) ||
        icms__json_add_string(input, "email", identity->email)) {
        cJSON_Delete(input);
        return NULL;
    }
    return input;
}

static int link_identity(icms__cmd *cmd, const icms_auth_identity *identity,
                         const uint8_t user_id[16])
{
    uint8_t id[16];
    char user_text[ICMS_UUID_STRING_SIZE];
    int rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc)
        return rc;
    icms__uuid_format(user_id, user_text);
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? icms__json_add_uuid(doc, "id", id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "provider", identity->provider);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "subject", identity->subject);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "user_id", user_text);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__auth_identity_record, id, doc);
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

static int login_external(icms__cmd *cmd)
{
    struct external_arg *arg = cmd->arg;
    const icms_auth_identity *identity = arg->identity;
    icms__auth_pair_clear(&arg->pair); /* a retried attempt starts afresh */
    uint8_t user_id[16] = {0};         /* icms__user_insert formats it even when it refuses */
    cJSON *user = NULL;
    int rc = find_identity(cmd, identity, user_id);
    if (rc == ICMS_OK) {
        rc = icms__record_get(cmd->tx, &icms__user_record, user_id, &user);
        if (rc == ICMS_ENOTFOUND)
            rc = icms__error(ICMS_ECORRUPT, "identity linked to a missing user");
        const char *status = rc ? NULL : icms__json_get_string(user, "status");
        if (rc == ICMS_OK && (!status || strcmp(status, "ACTIVE") != 0))
            rc = icms__error(ICMS_EUNAUTHENTICATED, "auth.login: the user is not active");
    } else if (rc == ICMS_ENOTFOUND) {
        if (!identity->email)
            return icms__error(ICMS_EINVALID, "email: required to create a user on first login");
        if (!identity->email_verified)
            return icms__error(ICMS_EINVALID, "email: the provider has not verified it");
        cJSON *input = new_user_input(identity);
        rc = input ? icms__user_insert(cmd, input, user_id, &user) : ICMS_ENOMEM;
        cJSON_Delete(input);
        if (rc == ICMS_EEXISTS)
            rc = icms__error(ICMS_EEXISTS, "email: belongs to another user; sign in as that "
                                           "user to link this identity");
        if (rc == ICMS_OK)
            rc = link_identity(cmd, identity, user_id);
        arg->pair.user_created = rc == ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = icms__auth_open_session(cmd, arg->auth, user_id, user, identity->device, "external",
                                     identity->provider, &arg->pair);
    cJSON_Delete(user);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms_auth_login_external(icms_auth *auth, const icms_request *req,
                             const icms_auth_identity *identity, char **out)
{
    if (out)
        *out = NULL;
    int rc = icms__auth_check_request(auth, req);
    if (rc == ICMS_OK && (!identity || !out))
        rc = icms__error(ICMS_EINVALID, "icms_auth_login_external needs an identity and out");
    if (rc == ICMS_OK)
        rc = check_identity(identity);
    if (rc)
        return rc;
    struct external_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.auth = auth;
    arg.identity = identity;
    rc = icms__command(auth->db, req, "auth.login_external", NULL, login_external, &arg, NULL);
    if (rc == ICMS_OK)
        rc = icms__auth_pair_json(auth, &arg.pair, out);
    icms__auth_pair_clear(&arg.pair);
    return rc;
}

/* ---- linking a further identity to the signed-in user ---- */

static int link_to_actor(icms__cmd *cmd)
{
    const icms_auth_identity *identity = cmd->arg;
    if (cmd->actor.kind != ICMS_ACTOR_USER || cmd->actor.anonymous)
        return icms__error(ICMS_EFORBIDDEN, "auth.link_identity: only a signed-in user may link "
                                            "an identity to themself");
    uint8_t owner[16];
    int rc = find_identity(cmd, identity, owner);
    if (rc == ICMS_OK)
        return icms__error(ICMS_EEXISTS, "auth.link_identity: this identity is already linked");
    if (rc != ICMS_ENOTFOUND)
        return rc;
    icms_error_clear();
    rc = link_identity(cmd, identity, cmd->actor.id);
    cJSON *doc = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && !doc)
        rc = ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "provider", identity->provider);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.identity_linked", cmd->actor.id_text, doc);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "user_id", cmd->actor.id_text);
    if (rc == ICMS_OK)
        rc = icms__json_add_bool(doc, "linked", true);
    if (rc == ICMS_OK) {
        icms__cmd_set_result(cmd, doc);
        doc = NULL;
    }
    cJSON_Delete(doc);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

int icms_auth_link_identity(icms_auth *auth, const icms_request *req,
                            const icms_auth_identity *identity, char **out)
{
    if (out)
        *out = NULL;
    int rc = icms__auth_check_request(auth, req);
    if (rc == ICMS_OK && !identity)
        rc = icms__error(ICMS_EINVALID, "icms_auth_link_identity needs an identity");
    if (rc == ICMS_OK)
        rc = check_identity(identity);
    if (rc)
        return rc;
    return icms__command(auth->db, req, "auth.link_identity", NULL, link_to_actor, (void *)identity,
                         out);
}
