/* The command and query harness: actor, idempotency, audit, events, result. */
#include "app/command.h"

#include <string.h>

#include <sodium.h>

#include "app/events_hub.h"
#include "app/auth_hook.h"
#include "app/records.h"
#include "audit/audit.h"
#include "core/core.h"
#include "core/json.h"
#include "core/sha256.h"
#include "core/uuid.h"
#include "events/outbox.h"

/* ---- the actor ---- */

static int role_bits(const cJSON *roles, unsigned *out)
{
    *out = 0;
    const cJSON *role;
    cJSON_ArrayForEach(role, roles)
    {
        icms_role_t r;
        if (!cJSON_IsString(role) || icms_role_parse(role->valuestring, &r) != ICMS_OK)
            return icms__error(ICMS_ECORRUPT, "user record has an unknown role");
        *out |= (unsigned)r;
    }
    return ICMS_OK;
}

static int load_user_actor(icms__tx *tx, const char *id_text, icms__actor *actor)
{
    if (icms__uuid_parse(id_text, strlen(id_text), actor->id) != ICMS_OK)
        return icms__error(ICMS_EUNAUTHENTICATED, "actor_id is not a user id");
    cJSON *user = NULL;
    int rc = icms__record_get(tx, &icms__user_record, actor->id, &user);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_EUNAUTHENTICATED, "the acting user does not exist");
    if (rc)
        return rc;
    const char *status = icms__json_get_string(user, "status");
    if (!status || strcmp(status, "ACTIVE") != 0)
        rc = icms__error(ICMS_EUNAUTHENTICATED, "the acting user is not active");
    if (rc == ICMS_OK)
        rc = role_bits(icms__json_get(user, "roles"), &actor->roles);
    if (rc == ICMS_OK) {
        const cJSON *kyc = icms__json_get(user, "kyc");
        const char *kyc_status = kyc ? icms__json_get_string(kyc, "status") : NULL;
        if (!kyc_status || icms_kyc_status_parse(kyc_status, &actor->kyc_status) != ICMS_OK)
            rc = icms__error(ICMS_ECORRUPT, "user record has no valid KYC status");
    }
    cJSON_Delete(user);
    icms__uuid_format(actor->id, actor->id_text);
    return rc;
}

static int check_request_fields(const icms_request *req)
{
    const char *fields[] = {req->idempotency_key, req->correlation_id, req->trace_id,
                            req->span_id, req->request_id, req->source};
    static const char *names[] = {"idempotency_key", "correlation_id", "trace_id",
                                  "span_id", "request_id", "source"};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(fields); i++) {
        if (fields[i] && (fields[i][0] == '\0' ||
                          strnlen(fields[i], ICMS_REQUEST_FIELD_MAX + 1) > ICMS_REQUEST_FIELD_MAX))
            return icms__error(ICMS_EINVALID, "request.%s must be 1 to %d bytes", names[i],
                               ICMS_REQUEST_FIELD_MAX);
    }
    return ICMS_OK;
}

static int resolve_actor(icms__tx *tx, const icms_request *req, int64_t now_ms,
                         icms__actor *actor)
{
    memset(actor, 0, sizeof *actor);
    actor->kind = req->actor_kind;
    if (req->access_token) { /* the token names the user; nothing else may */
        char sub[ICMS_UUID_STRING_SIZE];
        int rc = req->actor_kind != ICMS_ACTOR_USER || req->actor_id
                     ? icms__error(ICMS_EINVALID, "request: an access_token comes with actor_kind "
                                                  "USER and without actor_id")
                     : icms__auth_actor_from_token(tx, now_ms, req->access_token, sub);
        return rc ? rc : load_user_actor(tx, sub, actor);
    }
    switch (req->actor_kind) {
    case ICMS_ACTOR_USER:
        if (!req->actor_id) {
            actor->anonymous = true;
            strcpy(actor->id_text, "anonymous");
            return ICMS_OK;
        }
        return load_user_actor(tx, req->actor_id, actor);
    case ICMS_ACTOR_HOST:
        actor->roles = ICMS_ROLE_OWNER | ICMS_ROLE_INVESTOR | ICMS_ROLE_ADMIN;
        strcpy(actor->id_text, "host");
        return ICMS_OK;
    case ICMS_ACTOR_SYSTEM:
        strcpy(actor->id_text, "system");
        return ICMS_OK;
    }
    return icms__error(ICMS_EINVALID, "request.actor_kind %d is not a known kind",
                       (int)req->actor_kind);
}

bool icms__actor_has_role(const icms__actor *actor, icms_role_t role)
{
    return (actor->roles & (unsigned)role) != 0;
}

bool icms__actor_is_user(const icms__actor *actor, const uint8_t id[16])
{
    return actor->kind == ICMS_ACTOR_USER && !actor->anonymous && memcmp(actor->id, id, 16) == 0;
}

/* ---- idempotency ---- */

static void idem_key(icms__key *key, const icms__cmd *cmd)
{
    icms__key_init(key);
    icms__key_str(key, "idem");
    icms__key_str(key, cmd->actor.id_text);
    icms__key_str(key, cmd->req->idempotency_key);
}

/* SHA-256 of the command name and its canonical input, as hex. */
static int request_digest(const char *name, const cJSON *input, char out[65])
{
    char *text = NULL;
    size_t len = 0;
    if (input) {
        int rc = icms__json_write(input, ICMS__JSON_CANONICAL, &text, &len);
        if (rc)
            return rc;
    }
    uint8_t hash[32];
    icms__sha256_ctx st;
    icms__sha256_init(&st);
    icms__sha256_update(&st, name, strlen(name) + 1);
    if (text)
        icms__sha256_update(&st, text, len);
    icms__sha256_final(&st, hash);
    icms__free(text);
    sodium_bin2hex(out, 65, hash, sizeof hash);
    return ICMS_OK;
}

/*
 * ICMS_OK with cmd->result set when this key already answered the same
 * request (a replay), ICMS_ENOTFOUND when the command must run, or an error.
 */
static int idem_lookup(icms__cmd *cmd, const char *digest)
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    idem_key(&key, cmd);
    int rc = icms__tx_get(cmd->tx, &key, &value, &len);
    if (rc)
        return rc;
    cJSON *doc = NULL;
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    if (icms__json_parse((const char *)value, len, &limits, &doc) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored idempotency record is not JSON");
    int64_t at = 0;
    const char *stored_digest = icms__json_get_string(doc, "digest");
    const char *stored_name = icms__json_get_string(doc, "command");
    if (!stored_digest || !stored_name || !icms__json_int64(icms__json_get(doc, "at"), &at)) {
        cJSON_Delete(doc);
        return icms__error(ICMS_ECORRUPT, "stored idempotency record is incomplete");
    }
    if (cmd->now_ms - at >= ICMS_IDEMPOTENCY_WINDOW_MS) {
        cJSON_Delete(doc);
        return ICMS_ENOTFOUND; /* expired: the key is free again */
    }
    if (strcmp(stored_name, cmd->name) != 0 || strlen(stored_digest) != 64 ||
        !icms__ct_equal(stored_digest, digest, 64)) {
        cJSON_Delete(doc);
        return icms__error(ICMS_EIDEMPOTENCY,
                           "idempotency key already used for a different request");
    }
    cJSON *result = cJSON_DetachItemFromObjectCaseSensitive(doc, "result");
    cJSON_Delete(doc);
    icms__cmd_set_result(cmd, result ? result : cJSON_CreateNull());
    return cmd->result ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
}

static int idem_remember(icms__cmd *cmd, const char *digest)
{
    cJSON *doc = cJSON_CreateObject();
    int rc = doc ? icms__json_add_string(doc, "command", cmd->name) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "digest", digest);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "at", cmd->now_ms);
    if (rc == ICMS_OK && cmd->result) {
        cJSON *copy = cJSON_Duplicate(cmd->result, true);
        rc = copy ? icms__json_add(doc, "result", copy) : ICMS_ENOMEM;
    }
    char *text = NULL;
    size_t len = 0;
    if (rc == ICMS_OK)
        rc = icms__json_write(doc, 0, &text, &len);
    cJSON_Delete(doc);
    if (rc)
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    icms__key key;
    idem_key(&key, cmd);
    rc = icms__tx_put(cmd->tx, &key, text, len);
    icms__free(text);
    return rc;
}

/* ---- running ---- */

struct run {
    icms__cmd cmd;
    icms__cmd_fn fn;
    const cJSON *input;
    char digest[65];
    bool write;
    bool want_text; /* the caller asked for the answer as JSON text */
    char *text;     /* that text, written inside the transaction */
};

static int attempt(icms__tx *tx, void *arg)
{
    struct run *run = arg;
    icms__cmd *cmd = &run->cmd;
    /* A retried attempt starts from nothing: no result, a fresh clock reading. */
    cJSON_Delete(cmd->result);
    cmd->result = NULL;
    cmd->event_first = cmd->event_last = 0;
    cmd->tx = tx;
    cmd->now_ms = icms__db_now(cmd->db);
    int rc = resolve_actor(tx, cmd->req, cmd->now_ms, &cmd->actor);
    if (rc)
        return rc;
    bool idempotent = run->write && cmd->req->idempotency_key;
    if (idempotent) {
        rc = idem_lookup(cmd, run->digest);
        if (rc != ICMS_ENOTFOUND)
            return rc; /* a replay (ICMS_OK, result set) or an error */
    }
    rc = run->fn(cmd);
    if (rc == ICMS_OK && idempotent)
        rc = idem_remember(cmd, run->digest);
    return rc;
}

/*
 * One attempt, and the answer's text written before the transaction ends:
 * running out of memory while writing it then rolls the command back, where
 * after the commit it would report ICMS_ENOMEM for a change already made.
 */
static int run_attempt(icms__tx *tx, void *arg)
{
    struct run *run = arg;
    icms__free(run->text); /* a retried attempt's */
    run->text = NULL;
    int rc = attempt(tx, arg);
    if (rc != ICMS_OK || !run->want_text)
        return rc;
    if (run->cmd.result)
        rc = icms__json_write(run->cmd.result, 0, &run->text, NULL);
    else
        run->text = icms__strdup("null");
    if (rc == ICMS_OK && !run->text)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    return rc;
}

static int finish(struct run *run, int rc, char **json_out)
{
    if (rc == ICMS_OK && json_out) {
        *json_out = run->text;
        run->text = NULL;
    }
    icms__free(run->text);
    cJSON_Delete(run->cmd.result);
    return rc;
}

static int check_call(icms_db *db, const icms_request *req, char **json_out)
{
    if (json_out)
        *json_out = NULL;
    if (!db || !req)
        return icms__error(ICMS_EINVALID, "a database and a request context are required");
    if (req->version != ICMS_REQUEST_VERSION)
        return icms__error(ICMS_EVERSION, "request version %u is not %u", req->version,
                           ICMS_REQUEST_VERSION);
    return check_request_fields(req);
}

int icms__command(icms_db *db, const icms_request *req, const char *name, const cJSON *input,
                  icms__cmd_fn fn, void *arg, char **json_out)
{
    struct run run = {{db, req, name, NULL, 0, {0}, NULL, arg, 0, 0}, fn, input, {0}, true,
                      json_out != NULL, NULL};
    int rc = check_call(db, req, json_out);
    if (rc)
        return rc;
    if (req->idempotency_key && (rc = request_digest(name, input, run.digest)))
        return rc;
    rc = icms__db_write(db, run_attempt, &run);
    if (rc == ICMS_OK && run.cmd.event_last) /* subscribers run after commit, never inside */
        icms__events_after_commit(db, run.cmd.event_first, run.cmd.event_last);
    return finish(&run, rc, json_out);
}

int icms__query(icms_db *db, const icms_request *req, icms__cmd_fn fn, void *arg,
                char **json_out)
{
    struct run run = {{db, req, "query", NULL, 0, {0}, NULL, arg, 0, 0}, fn, NULL, {0}, false,
                      json_out != NULL, NULL};
    int rc = check_call(db, req, json_out);
    if (rc)
        return rc;
    rc = icms__db_read(db, run_attempt, &run);
    return finish(&run, rc, json_out);
}

/* ---- what commands call ---- */

int icms__cmd_audit(icms__cmd *cmd, const char *action, const char *subject, const cJSON *data)
{
    icms__audit_entry entry = {cmd->now_ms, cmd->actor.id_text, action, subject,
                               cmd->req->correlation_id, data};
    return icms__audit_append(cmd->tx, &entry, NULL);
}

int icms__cmd_event(icms__cmd *cmd, const char *type, const char *subject, const cJSON *data)
{
    icms__event event = {type, subject, cmd->req->correlation_id, data};
    int64_t seq = 0;
    int rc = icms__outbox_append(cmd->tx, cmd->db->clock, cmd->now_ms, &event, &seq);
    if (rc == ICMS_OK) {
        if (!cmd->event_first)
            cmd->event_first = seq;
        cmd->event_last = seq;
    }
    return rc;
}

void icms__cmd_set_result(icms__cmd *cmd, cJSON *doc)
{
    cJSON_Delete(cmd->result);
    cmd->result = doc;
}
