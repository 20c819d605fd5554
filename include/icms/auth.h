/*
 * libicms: identity, tokens and sessions (the seed's Auth and Session
 * services), and the rate limiter hosts call at their edge.
 *
 * - Access tokens are compact JWS signed with Ed25519 (alg EdDSA), 15
 *   minutes by default, with the claims iss, aud, sub (user id), sid
 *   (session id), roles, iat, nbf, exp, jti and the header kid. A request
 *   that carries one in icms_request.access_token is authenticated by every
 *   command: signature, algorithm, key, issuer, audience, times and the
 *   session's liveness are checked in the command's own transaction.
 * - Refresh tokens are 256 random bits (43 characters of base64url), stored
 *   only as a keyed hash, valid 7 days, single use: each refresh returns a
 *   new pair. Presenting a refresh token a second time revokes its session
 *   (theft detection) and emits session.invalidated.
 * - Signing keys are Ed25519 keys sealed in the store with a key derived from
 *   the host's master key (icms/sys/secrets.h). icms_auth_rotate_keys()
 *   starts a new key; the old public key keeps verifying until every token
 *   it signed has expired. icms_auth_jwks() publishes the public keys.
 *
 * docs/auth.md has the token formats, the session model and the threat model.
 *
 * A token pair, as icms_auth_login_external, icms_auth_login_password and
 * icms_auth_refresh answer it:
 *
 *     {"access_token":"eyJ...","token_type":"Bearer","expires_in":900,
 *      "refresh_token":"...","refresh_expires_in":604800,
 *      "session_id":"0190...","user_id":"0190...","user_created":false}
 *
 * It holds secrets: the host hands it to the client and keeps no copy.
 * libicms never writes a token, a password or a key into an error message,
 * an audit entry, an event or an idempotency record; auth commands refuse
 * idempotency keys for that reason (ICMS_EINVALID).
 *
 * Strings are borrowed for the call; JSON answers come through *out, belong
 * to the caller and are freed with icms_free(); *out is NULL after a failure.
 */
#ifndef ICMS_AUTH_H
#define ICMS_AUTH_H

#include "icms/db.h"
#include "icms/request.h"

#ifdef __cplusplus
extern "C" {
#endif

struct icms_secrets;

/** An auth handle: the settings and the master key source, over one database. */
typedef struct icms_auth icms_auth;

/** Argon2id limits libsodium calls "interactive" (crypto_pwhash_*_INTERACTIVE). */
#define ICMS_AUTH_PASSWORD_OPSLIMIT_INTERACTIVE 2ULL
#define ICMS_AUTH_PASSWORD_MEMLIMIT_INTERACTIVE 67108864UL

/** Settings of an auth handle. Fill with ICMS_AUTH_OPTIONS_INIT, which holds the defaults. */
typedef struct icms_auth_options {
    unsigned int version; /**< ICMS_AUTH_OPTIONS_VERSION */
    /** The iss claim written and required: 1..255 bytes (usually the service's URL). */
    const char *issuer;
    /** The aud claim written and required: 1..255 bytes. */
    const char *audience;
    /** Where the master key comes from; required. The handle owns it from then on. */
    struct icms_secrets *secrets;
    int64_t access_ttl_ms;  /**< access-token lifetime; default 15 minutes (1 s .. 1 day) */
    int64_t refresh_ttl_ms; /**< refresh-token and session lifetime; default 7 days (>= access) */
    int64_t leeway_ms;      /**< clock skew allowed on exp, nbf, iat; default 30 s (0 .. 5 min) */
    unsigned long long password_opslimit; /**< Argon2id passes; default interactive */
    size_t password_memlimit;             /**< Argon2id memory in bytes; default interactive */
    /** Failed password logins allowed per account (email) in the window; default 5. */
    unsigned int max_failures_per_account;
    /** Failed password logins allowed per source (the client's address) in the window; 20. */
    unsigned int max_failures_per_source;
    /** The failed-login window; default 15 minutes. */
    int64_t failure_window_ms;
} icms_auth_options;

#define ICMS_AUTH_OPTIONS_VERSION 1
/* clang-format off */
#define ICMS_AUTH_OPTIONS_INIT                                                                     \
    {ICMS_AUTH_OPTIONS_VERSION, NULL, NULL, NULL, 15LL * 60 * 1000, 7LL * 24 * 60 * 60 * 1000,     \
     30000, ICMS_AUTH_PASSWORD_OPSLIMIT_INTERACTIVE, ICMS_AUTH_PASSWORD_MEMLIMIT_INTERACTIVE, 5,    \
     20, 15LL * 60 * 1000}
/* clang-format on */

/**
 * Open an auth handle over db (borrowed: it must outlive the handle).
 *
 * Writes the issuer, audience and leeway to the database (every process on
 * the database verifies tokens with the settings last written) and makes the
 * first signing key when there is none. options->secrets passes to the
 * handle, and is released even when this fails.
 *
 * Errors: ICMS_EINVALID (missing or out-of-range options), ICMS_EVERSION,
 * ICMS_ECORRUPT (the current signing key does not open with this master
 * key), ICMS_ERROR or ICMS_EUSER from the secrets source, store errors.
 * Thread-safe: one handle may serve many threads.
 */
ICMS_EXTERN int icms_auth_new(icms_auth **out, icms_db *db, const icms_auth_options *options);

/** Release an auth handle and its secrets source. NULL is allowed. */
ICMS_EXTERN void icms_auth_free(icms_auth *auth);

/** An identity the host verified with an external provider (its OAuth flow). */
typedef struct icms_auth_identity {
    unsigned int version; /**< ICMS_AUTH_IDENTITY_VERSION */
    const char *provider; /**< "google", "apple", ...: 1..64 of [a-z0-9._-] */
    const char *subject;  /**< the provider's stable user id: 1..255 bytes */
    const char *email;    /**< required to create a user on first login */
    int email_verified;   /**< nonzero when the provider verified the email */
    const char *name;     /**< display name for a new user; NULL: the email's local part */
    const char *device;   /**< session label ("Firefox on Linux"); NULL for none; <= 200 bytes */
} icms_auth_identity;

#define ICMS_AUTH_IDENTITY_VERSION 1
/* clang-format off */
#define ICMS_AUTH_IDENTITY_INIT {ICMS_AUTH_IDENTITY_VERSION, NULL, NULL, NULL, 0, NULL, NULL}
/* clang-format on */

/**
 * Log in with an external identity and open a session.
 *
 * A known (provider, subject) signs in its user. An unknown one creates a
 * user (role INVESTOR, KYC NONE) with the verified email and links the
 * identity, in the same transaction: the email must be verified, and must
 * not belong to another user (ICMS_EEXISTS: libicms never links accounts by
 * email alone, which would let whoever controls a provider account with that
 * address take the existing account over). *out: a token pair.
 *
 * Errors: ICMS_EINVALID (bad or unverified fields), ICMS_EEXISTS (email
 * taken), ICMS_EUNAUTHENTICATED (the linked user is deactivated or erased).
 * Writes the audit entry auth.login and the events user.created (first
 * login) and session.created.
 */
ICMS_EXTERN int icms_auth_login_external(icms_auth *auth, const icms_request *req,
                                         const icms_auth_identity *identity, char **out);

/**
 * Link another external identity to the acting user (a signed-in user: an
 * access token or actor_id), so that either provider signs them in. Only
 * identity->provider and identity->subject are used. *out (may be NULL):
 * {"user_id","provider","linked":true}. Writes the audit entry
 * auth.identity_linked.
 * Errors: ICMS_EFORBIDDEN (not a signed-in user), ICMS_EEXISTS (the identity
 * is already linked, to this user or another), ICMS_EINVALID.
 */
ICMS_EXTERN int icms_auth_link_identity(icms_auth *auth, const icms_request *req,
                                        const icms_auth_identity *identity, char **out);

/**
 * Set or replace a user's password (8..1024 bytes), hashed with Argon2id.
 * The user themself, an administrator or the host may. Hashing runs before
 * the store transaction, so it never holds the writer's lock.
 * Errors: ICMS_EINVALID, ICMS_EFORBIDDEN, ICMS_ENOTFOUND.
 */
ICMS_EXTERN int icms_auth_password_set(icms_auth *auth, const icms_request *req,
                                       const char *user_id, const char *password);

/** A password login attempt. */
typedef struct icms_auth_password_login {
    unsigned int version; /**< ICMS_AUTH_PASSWORD_LOGIN_VERSION */
    const char *email;
    const char *password;
    const char *device; /**< session label; may be NULL */
    /** The client's address as the host sees it, for per-source throttling; may be NULL. */
    const char *source;
} icms_auth_password_login;

#define ICMS_AUTH_PASSWORD_LOGIN_VERSION 1
/* clang-format off */
#define ICMS_AUTH_PASSWORD_LOGIN_INIT {ICMS_AUTH_PASSWORD_LOGIN_VERSION, NULL, NULL, NULL, NULL}
/* clang-format on */

/**
 * Log in with email and password and open a session. *out: a token pair.
 *
 * A wrong email and a wrong password answer alike (ICMS_EUNAUTHENTICATED
 * "wrong email or password", after the same Argon2id work). Each failure
 * counts against the account and the source; past the limits every attempt
 * is refused with ICMS_ELIMIT until the window ends, the right password
 * included. A success clears the account's count, and rehashes the password
 * when the configured limits changed.
 *
 * Errors: ICMS_EUNAUTHENTICATED, ICMS_ELIMIT, ICMS_EINVALID.
 */
ICMS_EXTERN int icms_auth_login_password(icms_auth *auth, const icms_request *req,
                                         const icms_auth_password_login *login, char **out);

/**
 * Exchange a refresh token for a new pair; the old refresh token is spent.
 * Presenting a spent one revokes the whole session (and answers
 * ICMS_EUNAUTHENTICATED): whoever holds the newer token loses it too, which
 * is the point, since one of the two holders is a thief.
 * Errors: ICMS_EUNAUTHENTICATED (unknown, spent, expired, or its session or
 * user is no longer active).
 */
ICMS_EXTERN int icms_auth_refresh(icms_auth *auth, const icms_request *req,
                                  const char *refresh_token, char **out);

/**
 * Verify an access token as a command would, without running one: *out
 * (may be NULL) gets the claims as JSON.
 * Errors: ICMS_EUNAUTHENTICATED saying which check failed.
 */
ICMS_EXTERN int icms_auth_verify(icms_auth *auth, const char *access_token, char **out);

/**
 * A user's sessions, newest first: {"sessions":[{"id","device"?,"created_at",
 * "last_seen_at","expires_at","status","revoked_at"?,"revoked_reason"?}]}.
 * The user themself, an administrator or the host may; an unknown user has
 * no sessions. Sessions stay listed, revoked ones too, until the sweep
 * removes them at their expiry. Errors: ICMS_EINVALID, ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_auth_sessions(icms_db *db, const icms_request *req, const char *user_id,
                                   char **out);

/**
 * Log one session out: its access and refresh tokens stop working at once.
 * Its user, an administrator or the host may. *out: {"session_id","revoked":true}.
 * Errors: ICMS_ENOTFOUND, ICMS_EFORBIDDEN, ICMS_EINVALID_TRANSITION (already ended).
 */
ICMS_EXTERN int icms_auth_logout(icms_db *db, const icms_request *req, const char *session_id,
                                 char **out);

/**
 * Log a user out everywhere: every live session and refresh family is
 * revoked in one transaction, each with a session.invalidated event.
 * *out: {"user_id","revoked":n}. The user themself, an administrator or the
 * host may. Errors: ICMS_EINVALID, ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_auth_logout_all(icms_db *db, const icms_request *req, const char *user_id,
                                     char **out);

/**
 * Start signing with a new key. The previous key's private half is erased;
 * its public half stays in the JWKS and keeps verifying for access_ttl +
 * leeway. Administrators and the host only.
 * *out: {"kid": new kid, "retired": [kid...]}.
 * Errors: ICMS_EFORBIDDEN.
 */
ICMS_EXTERN int icms_auth_rotate_keys(icms_auth *auth, const icms_request *req, char **out);

/**
 * The public signing keys as a JWKS document, for gateways that verify
 * tokens themselves: {"keys":[{"kty":"OKP","crv":"Ed25519","x","kid",
 * "use":"sig","alg":"EdDSA"}]}, the current key first.
 */
ICMS_EXTERN int icms_auth_jwks(icms_auth *auth, char **out);

/** @name Helpers for the host's side of an OAuth 2.0 / OIDC flow. Pure and thread-safe. */
/**@{*/
/** A fresh state value (256 random bits, base64url); *out freed with icms_free(). */
ICMS_EXTERN int icms_auth_state_new(char **out);
/**
 * Compare the state the host kept with the one the provider sent back, in
 * constant time. Errors: ICMS_EUNAUTHENTICATED (different or missing).
 */
ICMS_EXTERN int icms_auth_state_check(const char *expected, const char *received);
/** A PKCE code verifier (RFC 7636): 43 characters from 256 random bits. */
ICMS_EXTERN int icms_auth_pkce_verifier_new(char **out);
/**
 * The S256 code challenge of a verifier: BASE64URL(SHA-256(verifier)).
 * Errors: ICMS_EINVALID (a verifier outside RFC 7636: 43..128 of [A-Za-z0-9-._~]).
 */
ICMS_EXTERN int icms_auth_pkce_challenge(const char *verifier, char **out);
/** ICMS_OK when challenge is the S256 challenge of verifier; else ICMS_EUNAUTHENTICATED. */
ICMS_EXTERN int icms_auth_pkce_check(const char *verifier, const char *challenge);
/**@}*/

/* ---- rate limiting ---- */

/** An in-memory sliding-window rate limiter. Thread-safe. */
typedef struct icms_ratelimit icms_ratelimit;

/** Which limit a key counts against. */
typedef enum icms_ratelimit_kind_t {
    ICMS_RATELIMIT_ANONYMOUS = 0,    /**< keyed by the client's address */
    ICMS_RATELIMIT_AUTHENTICATED = 1 /**< keyed by the user id */
} icms_ratelimit_kind_t;

typedef struct icms_ratelimit_options {
    unsigned int version;         /**< ICMS_RATELIMIT_OPTIONS_VERSION */
    uint32_t anonymous_limit;     /**< requests per window; default 100 */
    uint32_t authenticated_limit; /**< requests per window; default 1000 */
    int64_t window_ms;            /**< default 60000 */
    size_t max_keys;              /**< keys remembered; the least recently seen go first; 10000 */
    struct icms_clock *clock;     /**< NULL: real time. The limiter owns it. */
} icms_ratelimit_options;

#define ICMS_RATELIMIT_OPTIONS_VERSION 1
/* clang-format off */
#define ICMS_RATELIMIT_OPTIONS_INIT {ICMS_RATELIMIT_OPTIONS_VERSION, 100, 1000, 60000, 10000, NULL}
/* clang-format on */

/** What a hit decided. */
typedef struct icms_ratelimit_result {
    int allowed;            /**< 1 when the request may proceed */
    uint32_t limit;         /**< the key's limit per window */
    uint32_t remaining;     /**< requests left in the window after this one */
    int64_t retry_after_ms; /**< when refused: wait this long before the next try may pass */
} icms_ratelimit_result;

/**
 * A limiter. A request at time t counts against the requests of its key at
 * times in (t - window, t]: with limit n, the (n+1)th request inside any
 * window is refused, and a request exactly one window after the oldest one
 * passes. Memory: at most max_keys keys, each holding up to its limit of
 * timestamps. Errors: ICMS_EINVALID (zero limits, window or max_keys),
 * ICMS_ENOMEM. The clock passes to the limiter even when this fails.
 */
ICMS_EXTERN int icms_ratelimit_new(icms_ratelimit **out, const icms_ratelimit_options *options);

/** Release a limiter and its clock. NULL is allowed. */
ICMS_EXTERN void icms_ratelimit_free(icms_ratelimit *limiter);

/**
 * Count one request of key (1..256 bytes; the kinds have separate keys).
 * Returns ICMS_OK when allowed, ICMS_ELIMIT when refused (a refused request
 * is not counted); result (may be NULL) says the rest.
 * Errors: ICMS_EINVALID, ICMS_ENOMEM.
 */
ICMS_EXTERN int icms_ratelimit_hit(icms_ratelimit *limiter, icms_ratelimit_kind_t kind,
                                   const char *key, icms_ratelimit_result *result);

/** Keys the limiter remembers now. */
ICMS_EXTERN size_t icms_ratelimit_size(icms_ratelimit *limiter);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_AUTH_H */
