/*
 * The shape of every public command and query.
 *
 * A command runs inside one write transaction (kv/run.h) and, in that
 * transaction: resolves the actor from the store, honours the idempotency
 * key, does its work, appends its audit entry and events, remembers its
 * result for the idempotency key, and produces the JSON document handed back
 * to the caller. Any failure rolls all of it back. A query is the same in a
 * read transaction, without audit, events or idempotency.
 */
#ifndef ICMS_SRC_APP_COMMAND_H
#define ICMS_SRC_APP_COMMAND_H

#include <cjson/cJSON.h>

#include "app/db.h"
#include "icms/request.h"
#include "kv/tx.h"

/* The acting party as the store knows it. */
typedef struct icms__actor {
    icms_actor_kind_t kind;
    bool anonymous;               /* a USER request without an id */
    uint8_t id[16];               /* the user's id (USER only) */
    char id_text[37];             /* the user's id, or "host" / "system" / "anonymous" */
    unsigned roles;               /* icms_role_t bits (USER); the host counts as an admin */
    icms_kyc_status_t kyc_status; /* USER only */
} icms__actor;

typedef struct icms__cmd {
    icms_db *db;
    const icms_request *req;
    const char *name; /* "project.create": audit action and idempotency scope */
    icms__tx *tx;
    int64_t now_ms;   /* one reading of the clock per attempt, used throughout */
    icms__actor actor;
    cJSON *result;    /* what the command hands back; owned by the harness */
    void *arg;        /* the command's own input */
    int64_t event_first, event_last; /* outbox seqs this attempt wrote; 0 when none */
} icms__cmd;

typedef int (*icms__cmd_fn)(icms__cmd *cmd);

/*
 * Run fn as a command. `input` (may be NULL) is the request as canonical
 * JSON material: it decides whether a repeated idempotency key is the same
 * request. On success *json_out (may be NULL) receives the result as JSON
 * text, freed with icms_free().
 */
int icms__command(icms_db *db, const icms_request *req, const char *name, const cJSON *input,
                  icms__cmd_fn fn, void *arg, char **json_out);

/* Run fn as a read-only query (no audit, events or idempotency). */
int icms__query(icms_db *db, const icms_request *req, icms__cmd_fn fn, void *arg,
                char **json_out);

/* Append the command's audit entry for subject (id text) with data (may be NULL). */
int icms__cmd_audit(icms__cmd *cmd, const char *action, const char *subject, const cJSON *data);

/* Append an event in the command's transaction. */
int icms__cmd_event(icms__cmd *cmd, const char *type, const char *subject, const cJSON *data);

/* Hand doc (ownership passes) back as the command's result, replacing any earlier one. */
void icms__cmd_set_result(icms__cmd *cmd, cJSON *doc);

/* True when the actor holds role (the host holds every role). */
bool icms__actor_has_role(const icms__actor *actor, icms_role_t role);
bool icms__actor_is_user(const icms__actor *actor, const uint8_t id[16]);

#endif
