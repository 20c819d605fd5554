/*
 * The pure cryptographic parts of auth: base64url, compact JWS with EdDSA,
 * access-token claims, keys derived from the host's master key, sealing of
 * signing keys, random secrets. No store, no clock: values in, values out.
 *
 * Nothing here ever puts a secret (a key, a token, a password) into an error
 * message; failures name the part that is wrong, never its content.
 */
#ifndef ICMS_SRC_AUTH_CRYPTO_H
#define ICMS_SRC_AUTH_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "icms/sys/secrets.h"
#include "icms/util.h"

/* ---- base64url without padding (RFC 4648 section 5, RFC 7515 section 2) ---- */

/* Characters needed for len bytes (without the NUL). */
size_t icms__b64url_len(size_t len);

/* Encode into out, which holds icms__b64url_len(len) + 1 bytes; NUL-terminated. */
void icms__b64url_encode(const uint8_t *bytes, size_t len, char *out);

/*
 * Strict decoding: only A-Z a-z 0-9 - _, no padding, no whitespace, a length
 * that some byte string has (not 1 mod 4), and unused trailing bits zero, so
 * every byte string has exactly one accepted spelling. ICMS_EINVALID when
 * the text is not that, ICMS_EBUFS when out_max is too small.
 */
int icms__b64url_decode(const char *text, size_t text_len, uint8_t *out, size_t out_max,
                        size_t *out_len);

/* ---- random secrets ---- */

/* 32 random bytes as 43 characters of base64url, icms__malloc'd (state, PKCE, refresh). */
int icms__random_token(char **out);

/* ---- keys from the master key ---- */

#define ICMS__AUTH_SUBKEY_SEAL 1    /* seals signing keys at rest */
#define ICMS__AUTH_SUBKEY_REFRESH 2 /* keys the hash of refresh tokens */

/* Read the master key from the secrets port and derive subkey id from it. */
int icms__auth_subkey(icms_secrets *secrets, uint64_t id, uint8_t out[32]);

/* ---- Ed25519 signing keys ---- */

#define ICMS__AUTH_KID_LEN 43 /* base64url of a SHA-256 JWK thumbprint */

/* The RFC 7638 thumbprint of the OKP/Ed25519 public key: the kid. */
void icms__auth_kid(const uint8_t pk[32], char kid[ICMS__AUTH_KID_LEN + 1]);

/*
 * Seal a 32-byte seed with XChaCha20-Poly1305 under seal_key, bound to kid:
 * *out is base64url(nonce || ciphertext || tag), icms__malloc'd.
 */
int icms__auth_seal(const uint8_t seal_key[32], const char *kid, const uint8_t seed[32],
                    char **out);
/* Open what icms__auth_seal made; ICMS_ECORRUPT when it does not authenticate. */
int icms__auth_open(const uint8_t seal_key[32], const char *kid, const char *sealed,
                    uint8_t seed[32]);

/* ---- compact JWS, EdDSA only ---- */

#define ICMS__JWS_MAX_LEN 8192 /* longer tokens are refused before decoding */

typedef struct icms__jws {
    cJSON *header;   /* {"alg":"EdDSA","typ"?:"JWT","kid":"..."} */
    cJSON *payload;  /* the claims object */
    const char *kid; /* borrowed from header */
    uint8_t sig[64];
    const char *signed_part; /* borrowed from the token: header.payload */
    size_t signed_len;
} icms__jws;

/*
 * Sign header and payload (JSON objects, written canonically) with the
 * 64-byte libsodium secret key; *out is the compact token, icms__malloc'd.
 */
int icms__jws_sign(const cJSON *header, const cJSON *payload, const uint8_t sk[64], char **out);

/*
 * Split and decode a compact JWS without trusting it yet: three base64url
 * parts, a header that is exactly {alg: "EdDSA", kid, typ?: "JWT"} (any other
 * alg, "none" included, and any other member such as "crit" or "jku" is
 * refused), a payload that is a JSON object, a 64-byte signature. The
 * signature is checked by icms__jws_verify. ICMS_EUNAUTHENTICATED when the
 * token is malformed. token is borrowed while *jws lives.
 */
int icms__jws_parse(const char *token, icms__jws *jws);
/* ICMS_OK when the signature over header.payload verifies with pk. */
int icms__jws_verify(const icms__jws *jws, const uint8_t pk[32]);
void icms__jws_clear(icms__jws *jws);

/* ---- access-token claims ---- */

typedef struct icms__claims {
    char iss[256];
    char aud[256];
    char sub[ICMS_UUID_STRING_SIZE];
    char sid[ICMS_UUID_STRING_SIZE];
    char jti[ICMS_UUID_STRING_SIZE];
    unsigned roles;        /* icms_role_t bits */
    int64_t iat, nbf, exp; /* seconds since the epoch */
} icms__claims;

/* The claims as a JSON object (NULL when out of memory, recorded). */
cJSON *icms__claims_json(const icms__claims *claims);

/*
 * Read and check claims: every claim present with its type, iss and aud equal
 * to the expected ones, and now within [nbf - leeway, exp + leeway) and iat
 * not after now + leeway. ICMS_EUNAUTHENTICATED saying which check failed.
 */
int icms__claims_check(const cJSON *payload, const char *iss, const char *aud, int64_t now_ms,
                       int64_t leeway_ms, icms__claims *out);

/* ---- passwords (Argon2id) ---- */

#define ICMS__PASSWORD_MIN 8
#define ICMS__PASSWORD_MAX 1024

/* Check length rules; ICMS_EINVALID "password: ..." (never the password). */
int icms__password_check_rules(const char *password);
/* crypto_pwhash_str; out holds crypto_pwhash_STRBYTES. */
int icms__password_hash(const char *password, unsigned long long opslimit, size_t memlimit,
                        char *out, size_t out_size);
/* True when password matches the stored hash (constant time inside libsodium). */
bool icms__password_verify(const char *stored, const char *password);
/* True when the stored hash was made with other limits than these. */
bool icms__password_needs_rehash(const char *stored, unsigned long long opslimit, size_t memlimit);

#endif
