/*
 * libFuzzer target for what auth reads from the outside: compact JWS
 * (split, strict base64url, header rules, JSON), the claims check, and
 * base64url on its own. Properties checked beyond "no crash, no leak":
 *   - base64url text that decodes re-encodes to the same text (one spelling);
 *   - no input verifies under a fixed key unless it is the one token signed
 *     with that key at startup (forgery would be a finding).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t pk[32], sk[64];
static char *genuine;

static void init(void)
{
    if (genuine)
        return;
    if (sodium_init() < 0)
        abort();
    uint8_t seed[32];
    memset(seed, 0x5a, sizeof seed);
    crypto_sign_seed_keypair(pk, sk, seed);
    cJSON *h = cJSON_CreateObject(), *p = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "alg", "EdDSA");
    cJSON_AddStringToObject(h, "kid", "k");
    cJSON_AddStringToObject(p, "sub", "x");
    if (icms__jws_sign(h, p, sk, &genuine) != ICMS_OK)
        abort();
    cJSON_Delete(h);
    cJSON_Delete(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init();
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    uint8_t out[4096];
    size_t n = 0;
    if (icms__b64url_decode(text, size, out, sizeof out, &n) == ICMS_OK) {
        char *again = malloc(icms__b64url_len(n) + 1);
        icms__b64url_encode(out, n, again);
        if (strlen(again) != size || memcmp(again, text, size) != 0)
            abort();
        free(again);
    }

    icms__jws jws;
    if (icms__jws_parse(text, &jws) == ICMS_OK) {
        if (icms__jws_verify(&jws, pk) == ICMS_OK && strcmp(text, genuine) != 0)
            abort(); /* something other than the token we signed verified */
        icms__claims c;
        (void)icms__claims_check(jws.payload, "iss", "aud", 1767225600000LL, 30000, &c);
        icms__jws_clear(&jws);
    }
    free(text);
    return 0;
}
