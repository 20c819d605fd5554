/* Signing keys at rest: the kid (JWK thumbprint) and sealing of the private seed. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "core/sha256.h"

#define SEAL_AD_PREFIX "icms-auth-signing-key-v1:"
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define SEALED_LEN (NONCE_LEN + 32 + TAG_LEN)

void icms__auth_kid(const uint8_t pk[32], char kid[ICMS__AUTH_KID_LEN + 1])
{
    /* RFC 7638: SHA-256 of the required members in lexicographic order, no spaces. */
    char x[44], json[96];
    icms__b64url_encode(pk, 32, x);
    int n = snprintf(json, sizeof json, "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"%s\"}", x);
    uint8_t hash[32];
    icms__sha256(json, (size_t)n, hash);
    icms__b64url_encode(hash, sizeof hash, kid);
}

static size_t make_ad(const char *kid, char *ad, size_t size)
{
    int n = snprintf(ad, size, "%s%s", SEAL_AD_PREFIX, kid);
    return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

int icms__auth_seal(const uint8_t seal_key[32], const char *kid, const uint8_t seed[32], char **out)
{
    uint8_t sealed[SEALED_LEN];
    char ad[128];
    size_t ad_len = make_ad(kid, ad, sizeof ad);
    if (!ad_len)
        return icms__error(ICMS_EINVALID, "key id is too long");
    randombytes_buf(sealed, NONCE_LEN);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(sealed + NONCE_LEN, &clen, seed, 32,
                                               (const unsigned char *)ad, ad_len, NULL, sealed,
                                               seal_key);
    char *text = icms__malloc(icms__b64url_len(SEALED_LEN) + 1);
    if (!text)
        return ICMS_ENOMEM;
    icms__b64url_encode(sealed, SEALED_LEN, text);
    *out = text;
    return ICMS_OK;
}

int icms__auth_open(const uint8_t seal_key[32], const char *kid, const char *sealed,
                    uint8_t seed[32])
{
    uint8_t bytes[SEALED_LEN];
    size_t len = 0;
    char ad[128];
    size_t ad_len = make_ad(kid, ad, sizeof ad);
    if (!ad_len || icms__b64url_decode(sealed, strlen(sealed), bytes, sizeof bytes, &len) ||
        len != SEALED_LEN)
        return icms__error(ICMS_ECORRUPT, "a stored signing key is malformed");
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(seed, &mlen, NULL, bytes + NONCE_LEN,
                                                   32 + TAG_LEN, (const unsigned char *)ad, ad_len,
                                                   bytes, seal_key) != 0 ||
        mlen != 32) {
        icms__wipe(seed, 32);
        return icms__error(ICMS_ECORRUPT, "a stored signing key does not open with the master "
                                          "key (wrong master key, or the record was altered)");
    }
    return ICMS_OK;
}
