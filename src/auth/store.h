/*
 * What auth keeps in the store, and reading it inside a transaction.
 *
 *   ("auth","config")        {issuer, audience, leeway_ms}: what verification requires
 *   ("auth","signing_key")   the current key's kid
 *   auth_key records         {kid, x, sealed?, created_at, retired_at?, verify_until?};
 *                            id = the first 16 bytes of the kid's thumbprint; index all
 *   auth_session records     {id, user_id, device?, method, created_at, last_seen_at,
 *                            expires_at, status: ACTIVE|REVOKED, revoked_at?, revoked_reason?};
 *                            indexes by_user (user_id, id), by_expiry (expires ms, id)
 *   auth_refresh records     {hash, session_id, issued_at, expires_at, used_at?};
 *                            id = the first 16 bytes of the token's keyed hash;
 *                            index by_session (session_id, id)
 *   auth_identity records    {id, provider, subject, user_id, created_at};
 *                            indexes provider_subject (unique), by_user
 *   auth_password records    {user_id, hash, updated_at}; id = the user's id
 *   ("auth","fail",kind,v)   {count, since}: failed password logins per account / source
 *
 * Nothing stored is a usable secret: the signing seed is sealed with a key
 * derived from the host's master key, refresh tokens are keyed hashes,
 * passwords are Argon2id strings.
 */
#ifndef ICMS_SRC_AUTH_STORE_H
#define ICMS_SRC_AUTH_STORE_H

#include "auth/crypto.h"
#include "kv/record.h"

#define ICMS__AUTH_ACTIVE "ACTIVE"
#define ICMS__AUTH_REVOKED "REVOKED"

extern const icms__record_type icms__auth_key_record;
extern const icms__record_type icms__auth_session_record;
extern const icms__record_type icms__auth_refresh_record;
extern const icms__record_type icms__auth_identity_record;
extern const icms__record_type icms__auth_password_record;

typedef struct icms__auth_config {
    char issuer[256];
    char audience[256];
    int64_t leeway_ms;
} icms__auth_config;

/* ICMS_ENOTFOUND when auth was never set up on this database. */
int icms__auth_config_get(icms__tx *tx, icms__auth_config *out);
/* Write cfg unless the stored one is equal (so opening never writes needlessly). */
int icms__auth_config_put(icms__tx *tx, const icms__auth_config *cfg);

/* ---- signing keys ---- */

/* The current key: its kid and its 64-byte libsodium secret key (wipe it after use). */
int icms__auth_key_current(icms__tx *tx, const uint8_t seal_key[32],
                           char kid[ICMS__AUTH_KID_LEN + 1], uint8_t sk[64]);
/*
 * Make a new key current. The previous current key (if any) loses its sealed
 * seed and verifies until retire_until_ms; its kid goes to retired_kid
 * (empty when there was none).
 */
int icms__auth_key_rotate(icms__tx *tx, int64_t now_ms, int64_t retire_until_ms,
                          const uint8_t seal_key[32], char kid[ICMS__AUTH_KID_LEN + 1],
                          char retired_kid[ICMS__AUTH_KID_LEN + 1]);
/* True in *exists when a current key is set. */
int icms__auth_key_exists(icms__tx *tx, bool *exists);
/* The public key for kid, if it may still verify at now. ICMS_EUNAUTHENTICATED otherwise. */
int icms__auth_key_public(icms__tx *tx, const char *kid, int64_t now_ms, uint8_t pk[32]);
/* {"keys":[...]} of every key that may verify at now, the current one first. */
int icms__auth_jwks(icms__tx *tx, int64_t now_ms, cJSON **out);

/* ---- verification ---- */

/*
 * Everything a request's access token must pass: the stored settings, the
 * JWS (EdDSA, a known kid, the signature), the claims (iss, aud, times) and
 * a live session of the token's user (one record read).
 * ICMS_EUNAUTHENTICATED saying which check failed; never the token.
 */
int icms__auth_token_check(icms__tx *tx, int64_t now_ms, const char *token, icms__claims *out);

/* ---- sessions ---- */

/* True when a session record is ACTIVE and not expired at now. */
bool icms__auth_session_live(const cJSON *session, int64_t now_ms);

#endif
