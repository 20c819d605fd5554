/* The stored settings and signing keys. */
#include <string.h>

#include <sodium.h>

#include "auth/store.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"

static void config_key(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "auth");
    icms__key_str(key, "config");
}

static void current_key(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "auth");
    icms__key_str(key, "signing_key");
}

static int parse_stored(const uint8_t *value, size_t len, cJSON **out)
{
    if (icms__json_parse((const char *)value, len, NULL, out) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored auth settings are not JSON");
    return ICMS_OK;
}

int icms__auth_config_get(icms__tx *tx, icms__auth_config *out)
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    config_key(&key);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "token authentication is not set up on this database "
                                           "(icms_auth_new)");
    cJSON *doc = NULL;
    if (rc || (rc = parse_stored(value, len, &doc)))
        return rc;
    const char *iss = icms__json_get_string(doc, "issuer");
    const char *aud = icms__json_get_string(doc, "audience");
    if (!iss || !aud || strlen(iss) >= sizeof out->issuer || strlen(aud) >= sizeof out->audience ||
        !icms__json_int64(icms__json_get(doc, "leeway_ms"), &out->leeway_ms))
        rc = icms__error(ICMS_ECORRUPT, "stored auth settings are incomplete");
    if (rc == ICMS_OK) {
        strcpy(out->issuer, iss);
        strcpy(out->audience, aud);
    }
    cJSON_Delete(doc);
    return rc;
}

int icms__auth_config_put(icms__tx *tx, const icms__auth_config *cfg)
{
    icms__auth_config old;
    int rc = icms__auth_config_get(tx, &old);
    if (rc == ICMS_OK && strcmp(old.issuer, cfg->issuer) == 0 &&
        strcmp(old.audience, cfg->audience) == 0 && old.leeway_ms == cfg->leeway_ms)
        return ICMS_OK;
    if (rc && rc != ICMS_ENOTFOUND && rc != ICMS_ECORRUPT)
        return rc;
    cJSON *doc = cJSON_CreateObject();
    rc = doc ? icms__json_add_string(doc, "issuer", cfg->issuer) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "audience", cfg->audience);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "leeway_ms", cfg->leeway_ms);
    char *text = NULL;
    size_t len = 0;
    if (rc == ICMS_OK)
        rc = icms__json_write(doc, ICMS__JSON_CANONICAL, &text, &len);
    cJSON_Delete(doc);
    if (rc)
        return icms__error(rc, "out of memory");
    icms__key key;
    config_key(&key);
    rc = icms__tx_put(tx, &key, text, len);
    icms__free(text);
    return rc;
}

/* The record id of a kid: the first 16 bytes of the thumbprint it spells. */
static int kid_id(const char *kid, uint8_t id[16])
{
    uint8_t bytes[32];
    size_t n = 0;
    if (!kid || strlen(kid) != ICMS__AUTH_KID_LEN ||
        icms__b64url_decode(kid, ICMS__AUTH_KID_LEN, bytes, sizeof bytes, &n) || n != 32)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: unknown kid");
    memcpy(id, bytes, 16);
    return ICMS_OK;
}

static int load_key(icms__tx *tx, const char *kid, cJSON **out)
{
    uint8_t id[16];
    int rc = kid_id(kid, id);
    if (rc)
        return rc;
    rc = icms__record_get(tx, &icms__auth_key_record, id, out);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: unknown kid");
    if (rc)
        return rc;
    const char *stored = icms__json_get_string(*out, "kid");
    if (!stored || strcmp(stored, kid) != 0) { /* another kid sharing 128 bits: not ours */
        cJSON_Delete(*out);
        *out = NULL;
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: unknown kid");
    }
    return ICMS_OK;
}

static int read_current(icms__tx *tx, char kid[ICMS__AUTH_KID_LEN + 1])
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    current_key(&key);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "no signing key yet (icms_auth_new makes one)");
    if (rc)
        return rc;
    if (len != ICMS__AUTH_KID_LEN)
        return icms__error(ICMS_ECORRUPT, "the current signing key's id is malformed");
    memcpy(kid, value, len);
    kid[len] = '\0';
    return ICMS_OK;
}

int icms__auth_key_exists(icms__tx *tx, bool *exists)
{
    char kid[ICMS__AUTH_KID_LEN + 1];
    int rc = read_current(tx, kid);
    *exists = rc == ICMS_OK;
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return ICMS_OK;
    }
    return rc;
}

int icms__auth_key_current(icms__tx *tx, const uint8_t seal_key[32],
                           char kid[ICMS__AUTH_KID_LEN + 1], uint8_t sk[64])
{
    int rc = read_current(tx, kid);
    cJSON *doc = NULL;
    if (rc == ICMS_OK && (rc = load_key(tx, kid, &doc)) == ICMS_EUNAUTHENTICATED)
        rc = icms__error(ICMS_ECORRUPT, "the current signing key is missing");
    if (rc)
        return rc;
    const char *sealed = icms__json_get_string(doc, "sealed");
    uint8_t seed[32], pk[32];
    if (!sealed)
        rc = icms__error(ICMS_ECORRUPT, "the current signing key has no private half");
    else
        rc = icms__auth_open(seal_key, kid, sealed, seed);
    if (rc == ICMS_OK) {
        crypto_sign_seed_keypair(pk, sk, seed);
        icms__wipe(seed, sizeof seed);
        char check[ICMS__AUTH_KID_LEN + 1];
        icms__auth_kid(pk, check);
        if (strcmp(check, kid) != 0) {
            icms__wipe(sk, 64);
            rc = icms__error(ICMS_ECORRUPT, "the current signing key does not match its kid");
        }
    }
    cJSON_Delete(doc);
    return rc;
}

static int save_key(icms__tx *tx, const char *kid, const cJSON *doc)
{
    uint8_t id[16];
    int rc = kid_id(kid, id);
    return rc ? icms__error(ICMS_ERROR, "bad kid made")
              : icms__record_put(tx, &icms__auth_key_record, id, doc);
}

static int retire(icms__tx *tx, const char *kid, int64_t now_ms, int64_t until_ms)
{
    cJSON *doc = NULL;
    int rc = load_key(tx, kid, &doc);
    if (rc)
        return rc == ICMS_EUNAUTHENTICATED ? icms__error(ICMS_ECORRUPT, "current key missing") : rc;
    /* The private half is never needed again: erase it rather than keep it sealed. */
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "sealed");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "retired_at");
    cJSON_DeleteItemFromObjectCaseSensitive(doc, "verify_until");
    rc = icms__json_add_time(doc, "retired_at", now_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "verify_until", until_ms);
    if (rc == ICMS_OK)
        rc = save_key(tx, kid, doc);
    cJSON_Delete(doc);
    return rc;
}

int icms__auth_key_rotate(icms__tx *tx, int64_t now_ms, int64_t retire_until_ms,
                          const uint8_t seal_key[32], char kid[ICMS__AUTH_KID_LEN + 1],
                          char retired_kid[ICMS__AUTH_KID_LEN + 1])
{
    retired_kid[0] = '\0';
    int rc = read_current(tx, retired_kid);
    if (rc == ICMS_ENOTFOUND) {
        retired_kid[0] = '\0';
        icms_error_clear();
        rc = ICMS_OK;
    } else if (rc == ICMS_OK) {
        rc = retire(tx, retired_kid, now_ms, retire_until_ms);
    }
    if (rc)
        return rc;
    uint8_t seed[32], pk[32], sk[64];
    randombytes_buf(seed, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    icms__wipe(sk, sizeof sk);
    icms__auth_kid(pk, kid);
    char x[44], *sealed = NULL;
    icms__b64url_encode(pk, sizeof pk, x);
    rc = icms__auth_seal(seal_key, kid, seed, &sealed);
    icms__wipe(seed, sizeof seed);
    cJSON *doc = rc ? NULL : cJSON_CreateObject();
    if (rc == ICMS_OK && !doc)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "kid", kid);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "x", x);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "sealed", sealed);
    if (rc == ICMS_OK)
        rc = icms__json_add_time(doc, "created_at", now_ms);
    if (rc == ICMS_OK)
        rc = save_key(tx, kid, doc);
    if (sealed)
        icms__free(sealed);
    cJSON_Delete(doc);
    if (rc == ICMS_OK) {
        icms__key key;
        current_key(&key);
        rc = icms__tx_put(tx, &key, kid, ICMS__AUTH_KID_LEN);
    }
    return rc;
}

static int public_of(const cJSON *doc, uint8_t pk[32])
{
    const char *x = icms__json_get_string(doc, "x");
    size_t n = 0;
    if (!x || icms__b64url_decode(x, strlen(x), pk, 32, &n) || n != 32)
        return icms__error(ICMS_ECORRUPT, "a stored public key is malformed");
    return ICMS_OK;
}

/* True when the key may still verify: current, or retired with verify_until after now. */
static bool may_verify(const cJSON *doc, int64_t now_ms)
{
    const char *until = icms__json_get_string(doc, "verify_until");
    int64_t ms;
    if (!until)
        return icms__json_get_string(doc, "sealed") != NULL;
    return icms__time_parse(until, strlen(until), &ms) == ICMS_OK && now_ms < ms;
}

int icms__auth_key_public(icms__tx *tx, const char *kid, int64_t now_ms, uint8_t pk[32])
{
    cJSON *doc = NULL;
    int rc = load_key(tx, kid, &doc);
    if (rc)
        return rc;
    if (!may_verify(doc, now_ms))
        rc = icms__error(ICMS_EUNAUTHENTICATED, "access token refused: its key was retired");
    else
        rc = public_of(doc, pk);
    cJSON_Delete(doc);
    return rc;
}

struct jwks_scan {
    icms__tx *tx;
    int64_t now_ms;
    cJSON *keys;
    const char *current;
};

static cJSON *jwk(const cJSON *doc)
{
    cJSON *k = cJSON_CreateObject();
    int rc = k ? icms__json_add_string(k, "kty", "OKP") : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(k, "crv", "Ed25519");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(k, "x", icms__json_get_string(doc, "x"));
    if (rc == ICMS_OK)
        rc = icms__json_add_string(k, "kid", icms__json_get_string(doc, "kid"));
    if (rc == ICMS_OK)
        rc = icms__json_add_string(k, "use", "sig");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(k, "alg", "EdDSA");
    if (rc) {
        cJSON_Delete(k);
        return NULL;
    }
    return k;
}

static int on_key(const uint8_t id[16], void *payload)
{
    struct jwks_scan *scan = payload;
    cJSON *doc = NULL;
    int rc = icms__record_get(scan->tx, &icms__auth_key_record, id, &doc);
    if (rc)
        return rc == ICMS_ENOTFOUND ? icms__error(ICMS_ECORRUPT, "key index names no key") : rc;
    uint8_t pk[32];
    const char *kid = icms__json_get_string(doc, "kid");
    if (!kid || public_of(doc, pk) != ICMS_OK)
        rc = icms__error(ICMS_ECORRUPT, "a stored signing key is malformed");
    else if (may_verify(doc, scan->now_ms)) {
        cJSON *k = jwk(doc);
        if (!k)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        else if (strcmp(kid, scan->current) == 0)
            cJSON_InsertItemInArray(scan->keys, 0, k);
        else
            cJSON_AddItemToArray(scan->keys, k);
    }
    cJSON_Delete(doc);
    return rc;
}

int icms__auth_jwks(icms__tx *tx, int64_t now_ms, cJSON **out)
{
    char current[ICMS__AUTH_KID_LEN + 1] = "";
    int rc = read_current(tx, current);
    if (rc && rc != ICMS_ENOTFOUND)
        return rc;
    cJSON *doc = cJSON_CreateObject();
    cJSON *keys = NULL;
    rc = doc ? icms__json_add_array(doc, "keys", &keys) : icms__error(ICMS_ENOMEM, "out of memory");
    struct jwks_scan scan = {tx, now_ms, keys, current};
    icms__key none;
    icms__key_init(&none);
    if (rc == ICMS_OK)
        rc = icms__record_scan_index(tx, &icms__auth_key_record, "all", &none, NULL, 0, on_key,
                                     &scan);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}
