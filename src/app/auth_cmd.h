/*
 * Shared by the auth commands (src/app/auth_*.c): the handle, opening a
 * session with its first token pair, issuing pairs, revoking sessions.
 */
#ifndef ICMS_SRC_APP_AUTH_CMD_H
#define ICMS_SRC_APP_AUTH_CMD_H

#include <pthread.h>

#include <cjson/cJSON.h>

#include "app/command.h"
#include "auth/store.h"
#include "icms/auth.h"

struct icms_auth {
    icms_db *db; /* borrowed */
    icms_secrets *secrets;
    uint8_t seal_key[32];    /* opens the signing keys; wiped on free */
    uint8_t refresh_key[32]; /* keys the refresh-token hash; wiped on free */
    icms__auth_config cfg;
    int64_t access_ttl_ms, refresh_ttl_ms;
    unsigned long long password_opslimit;
    size_t password_memlimit;
    unsigned int max_failures_per_account, max_failures_per_source;
    int64_t failure_window_ms;
    /* A hash of a random password with the configured limits: a login for an unknown email
     * verifies against it, so it costs the same Argon2id work as a wrong password. Made by
     * the first password login (any, so that its extra cost says nothing about the account),
     * not by icms_auth_new: most handles never see a password. */
    pthread_mutex_t dummy_lock;
    bool dummy_ready;
    char dummy_hash[128];
};

/* The dummy hash, made on first use; ICMS_ENOMEM when Argon2id cannot get its memory. */
int icms__auth_dummy_hash(icms_auth *auth, const char **out);

#define ICMS__AUTH_DEVICE_MAX 200
#define ICMS__AUTH_REFRESH_LEN 43

/* A token pair on its way to the caller: secrets, wiped by icms__auth_pair_clear. */
typedef struct icms__auth_pair {
    char *access_token; /* icms__malloc'd */
    char refresh_token[ICMS__AUTH_REFRESH_LEN + 1];
    char session_id[ICMS_UUID_STRING_SIZE];
    char user_id[ICMS_UUID_STRING_SIZE];
    bool user_created;
} icms__auth_pair;

void icms__auth_pair_clear(icms__auth_pair *pair);
/* The pair as JSON text (icms/auth.h), icms__malloc'd; the pair is left as it was. */
int icms__auth_pair_json(const icms_auth *auth, const icms__auth_pair *pair, char **out);

/* Auth commands take no idempotency key: the stored result would hold tokens. */
int icms__auth_check_request(const icms_auth *auth, const icms_request *req);

/* The role bits of a user record; ICMS_ECORRUPT for an unknown role. */
int icms__auth_user_roles(const cJSON *user, unsigned *roles);

/*
 * Open a session for user (an ACTIVE user record) in cmd and fill pair:
 * session record, first refresh token, access token, session.created event
 * and the auth.login audit entry (data: session_id, method, provider?).
 */
int icms__auth_open_session(icms__cmd *cmd, icms_auth *auth, const uint8_t user_id[16],
                            const cJSON *user, const char *device, const char *method,
                            const char *provider, icms__auth_pair *pair);

/* A new refresh record (fills pair->refresh_token) for session sid expiring at expires_ms. */
int icms__auth_new_refresh(icms__cmd *cmd, icms_auth *auth, const char *sid, int64_t expires_ms,
                           icms__auth_pair *pair);

/* Sign an access token for user in session sid with the current key (fills pair->access_token). */
int icms__auth_sign_access(icms__cmd *cmd, icms_auth *auth, const char *user_id, const char *sid,
                           unsigned roles, icms__auth_pair *pair);

/*
 * Revoke a live session (doc is its record; changed and saved): status
 * REVOKED, revoked_at, revoked_reason, the session.invalidated event
 * {session_id, user_id, reason}. Audit is the caller's.
 */
int icms__auth_revoke(icms__cmd *cmd, const uint8_t sid[16], cJSON *doc, const char *reason);

/* Delete a session and every refresh record of its family (no audit, no event). */
int icms__auth_delete_session(icms__tx *tx, const uint8_t sid[16]);

/*
 * Remove what auth keeps about a user, for erasure (call it from
 * icms__user_erase_elsewhere): identities (the provider's id of the person),
 * the password hash, every session (device labels) and refresh record.
 */
int icms__auth_erase_user(icms__cmd *cmd, const uint8_t user_id[16]);

/* Hash of a refresh token's 32 bytes under the refresh key. */
void icms__auth_refresh_hash(const icms_auth *auth, const uint8_t token[32], uint8_t hash[32]);

#endif
