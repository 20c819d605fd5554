/*
 * Compact JWS (RFC 7515) with EdDSA (RFC 8037) and nothing else.
 *
 * The algorithm is never taken from the token: the header must say EdDSA,
 * and verification always uses Ed25519 with a key found by kid among our
 * own, so "none", HMAC-with-the-public-key and RSA confusions cannot arise.
 */
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "core/json.h"

#define HEADER_MAX 512
#define PAYLOAD_MAX 4096

static char *encode_json(const cJSON *doc)
{
    char *text = NULL, *out = NULL;
    size_t len = 0;
    if (icms__json_write(doc, ICMS__JSON_CANONICAL, &text, &len))
        return NULL;
    out = icms__malloc(icms__b64url_len(len) + 1);
    if (out)
        icms__b64url_encode((const uint8_t *)text, len, out);
    icms__free(text);
    return out;
}

int icms__jws_sign(const cJSON *header, const cJSON *payload, const uint8_t sk[64], char **out)
{
    *out = NULL;
    char *h = encode_json(header);
    char *p = h ? encode_json(payload) : NULL;
    if (!h || !p) {
        icms__free(h);
        return icms__error(ICMS_ENOMEM, "out of memory");
    }
    size_t hl = strlen(h), pl = strlen(p), sl = icms__b64url_len(64);
    char *token = icms__malloc(hl + 1 + pl + 1 + sl + 1);
    if (!token) {
        icms__free(h);
        icms__free(p);
        return ICMS_ENOMEM;
    }
    memcpy(token, h, hl);
    token[hl] = '.';
    memcpy(token + hl + 1, p, pl);
    uint8_t sig[64];
    crypto_sign_detached(sig, NULL, (const unsigned char *)token, hl + 1 + pl, sk);
    token[hl + 1 + pl] = '.';
    icms__b64url_encode(sig, sizeof sig, token + hl + 1 + pl + 1);
    icms__free(h);
    icms__free(p);
    *out = token;
    return ICMS_OK;
}

static int bad(const char *why)
{
    return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: %s", why);
}

static int decode_json(const char *part, size_t len, size_t max, cJSON **out)
{
    uint8_t *bytes = icms__malloc(max + 1);
    size_t n = 0;
    if (!bytes)
        return ICMS_ENOMEM;
    int rc = icms__b64url_decode(part, len, bytes, max, &n);
    if (rc == ICMS_OK) {
        icms__json_limits limits = {max, 4};
        rc = icms__json_parse((const char *)bytes, n, &limits, out);
        if (rc == ICMS_OK && !cJSON_IsObject(*out)) {
            cJSON_Delete(*out);
            *out = NULL;
            rc = ICMS_EINVALID;
        }
    }
    icms__free(bytes);
    return rc;
}

static int check_header(const cJSON *header, const char **kid)
{
    const cJSON *alg = icms__json_get(header, "alg");
    if (!cJSON_IsString(alg))
        return bad("the header has no alg");
    if (strcmp(alg->valuestring, "EdDSA") != 0)
        return bad("alg is not EdDSA (the only algorithm accepted)");
    const cJSON *k = icms__json_get(header, "kid");
    if (!cJSON_IsString(k) || !k->valuestring[0] || strlen(k->valuestring) > 128)
        return bad("the header has no usable kid");
    const cJSON *typ = icms__json_get(header, "typ");
    if (typ && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
        return bad("typ is not JWT");
    /* Anything else (crit, jku, jwk, x5u, ...) would ask us to trust more than our keys. */
    int members = cJSON_GetArraySize(header);
    if (members != (typ ? 3 : 2))
        return bad("the header has members other than alg, kid and typ");
    *kid = k->valuestring;
    return ICMS_OK;
}

int icms__jws_parse(const char *token, icms__jws *jws)
{
    memset(jws, 0, sizeof *jws);
    if (!token)
        return bad("no token");
    size_t len = strnlen(token, ICMS__JWS_MAX_LEN + 1);
    if (len > ICMS__JWS_MAX_LEN)
        return bad("longer than any token we issue");
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return bad("not three dot-separated parts");
    int rc = decode_json(token, (size_t)(dot1 - token), HEADER_MAX, &jws->header);
    if (rc == ICMS_ENOMEM)
        return rc;
    if (rc)
        return bad("the header is not base64url JSON");
    if ((rc = check_header(jws->header, &jws->kid))) {
        icms__jws_clear(jws);
        return rc;
    }
    rc = decode_json(dot1 + 1, (size_t)(dot2 - dot1 - 1), PAYLOAD_MAX, &jws->payload);
    if (rc) {
        icms__jws_clear(jws);
        return rc == ICMS_ENOMEM ? rc : bad("the payload is not base64url JSON");
    }
    size_t sig_len = 0;
    const char *sig = dot2 + 1;
    if (icms__b64url_decode(sig, len - (size_t)(sig - token), jws->sig, sizeof jws->sig,
                            &sig_len) ||
        sig_len != 64) {
        icms__jws_clear(jws);
        return bad("the signature is not 64 bytes of base64url");
    }
    jws->signed_part = token;
    jws->signed_len = (size_t)(dot2 - token);
    return ICMS_OK;
}

int icms__jws_verify(const icms__jws *jws, const uint8_t pk[32])
{
    if (crypto_sign_verify_detached(jws->sig, (const unsigned char *)jws->signed_part,
                                    jws->signed_len, pk) != 0)
        return bad("the signature does not verify");
    return ICMS_OK;
}

void icms__jws_clear(icms__jws *jws)
{
    cJSON_Delete(jws->header);
    cJSON_Delete(jws->payload);
    memset(jws, 0, sizeof *jws);
}
