/* SHA-256d and HASH160: the two hashes Gapcoin's serialization uses. */
#include <sodium.h>

#include "gapcoin_internal.h"

void icms_gapcoin_sha256d(const uint8_t *bytes, size_t bytes_len, uint8_t out[32])
{
    uint8_t once[32];
    crypto_hash_sha256(once, bytes_len ? bytes : (const uint8_t *)"", bytes_len);
    crypto_hash_sha256(out, once, sizeof once);
}

void icms__sha256d2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    uint8_t once[32];
    crypto_hash_sha256_init(&st);
    if (a_len)
        crypto_hash_sha256_update(&st, a, a_len);
    if (b_len)
        crypto_hash_sha256_update(&st, b, b_len);
    crypto_hash_sha256_final(&st, once);
    crypto_hash_sha256(out, once, sizeof once);
}

void icms__sha256d3(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                    const uint8_t *c, size_t c_len, uint8_t out[32])
{
    crypto_hash_sha256_state st;
    uint8_t once[32];
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, a, a_len);
    crypto_hash_sha256_update(&st, b, b_len);
    crypto_hash_sha256_update(&st, c, c_len);
    crypto_hash_sha256_final(&st, once);
    crypto_hash_sha256(out, once, sizeof once);
}

void icms_gapcoin_hash160(const uint8_t *bytes, size_t bytes_len, uint8_t out[20])
{
    uint8_t sha[32];
    crypto_hash_sha256(sha, bytes_len ? bytes : (const uint8_t *)"", bytes_len);
    icms__ripemd160(sha, sizeof sha, out);
}
