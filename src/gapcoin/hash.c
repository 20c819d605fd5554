/* SHA-256d and HASH160: the two hashes Gapcoin's serialization uses. */
#include "core/sha256.h"
#include "gapcoin_internal.h"

void icms_gapcoin_sha256d(const uint8_t *bytes, size_t bytes_len, uint8_t out[32])
{
    uint8_t once[32];
    icms__sha256(bytes, bytes_len, once);
    icms__sha256(once, sizeof once, out);
}

void icms__sha256d2(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len, uint8_t out[32])
{
    icms__sha256_ctx st;
    uint8_t once[32];
    icms__sha256_init(&st);
    icms__sha256_update(&st, a, a_len);
    icms__sha256_update(&st, b, b_len);
    icms__sha256_final(&st, once);
    icms__sha256(once, sizeof once, out);
}

void icms__sha256d3(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len,
                    const uint8_t *c, size_t c_len, uint8_t out[32])
{
    icms__sha256_ctx st;
    uint8_t once[32];
    icms__sha256_init(&st);
    icms__sha256_update(&st, a, a_len);
    icms__sha256_update(&st, b, b_len);
    icms__sha256_update(&st, c, c_len);
    icms__sha256_final(&st, once);
    icms__sha256(once, sizeof once, out);
}

void icms_gapcoin_hash160(const uint8_t *bytes, size_t bytes_len, uint8_t out[20])
{
    uint8_t sha[32];
    icms__sha256(bytes, bytes_len, sha);
    icms__ripemd160(sha, sizeof sha, out);
}
