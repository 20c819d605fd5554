/* The secrets port: the static source, and deriving subkeys from the master key. */
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"

static int static_master_key(icms_secrets *secrets, uint8_t *key_out)
{
    memcpy(key_out, secrets->payload, ICMS_SECRETS_KEY_BYTES);
    return ICMS_OK;
}

static void static_free(icms_secrets *secrets)
{
    icms__wipe(secrets->payload, ICMS_SECRETS_KEY_BYTES);
    icms__free(secrets->payload);
    icms__free(secrets);
}

int icms_secrets_static_new(const uint8_t *key, size_t key_len, icms_secrets **out)
{
    if (out)
        *out = NULL;
    if (!key || !out || key_len != ICMS_SECRETS_KEY_BYTES)
        return icms__error(ICMS_EINVALID, "a master key is %d bytes", ICMS_SECRETS_KEY_BYTES);
    icms_secrets *s = icms__malloc(sizeof *s);
    uint8_t *copy = icms__malloc(ICMS_SECRETS_KEY_BYTES);
    if (!s || !copy) {
        icms__free(s);
        icms__free(copy);
        return ICMS_ENOMEM;
    }
    memcpy(copy, key, ICMS_SECRETS_KEY_BYTES);
    *s = (icms_secrets)ICMS_SECRETS_INIT;
    s->master_key = static_master_key;
    s->free = static_free;
    s->payload = copy;
    *out = s;
    return ICMS_OK;
}

void icms_secrets_free(icms_secrets *secrets)
{
    if (secrets && secrets->free)
        secrets->free(secrets);
}

int icms__auth_subkey(icms_secrets *secrets, uint64_t id, uint8_t out[32])
{
    uint8_t master[ICMS_SECRETS_KEY_BYTES];
    int rc = secrets->master_key(secrets, master);
    if (rc) {
        icms__wipe(master, sizeof master);
        if (rc == ICMS_EUSER)
            return icms__error(ICMS_EUSER, "the secrets source stopped the operation");
        return icms__error(ICMS_ERROR, "the secrets source could not supply the master key");
    }
    /* A fixed 8-byte context keeps these subkeys apart from any other use of the key. */
    rc = crypto_kdf_derive_from_key(out, 32, id, "icmsauth", master);
    icms__wipe(master, sizeof master);
    return rc == 0 ? ICMS_OK : icms__error(ICMS_ERROR, "key derivation failed");
}

int icms__random_token(char **out)
{
    uint8_t bytes[32];
    char *text = icms__malloc(icms__b64url_len(sizeof bytes) + 1);
    if (!text)
        return ICMS_ENOMEM;
    randombytes_buf(bytes, sizeof bytes);
    icms__b64url_encode(bytes, sizeof bytes, text);
    icms__wipe(bytes, sizeof bytes);
    *out = text;
    return ICMS_OK;
}
