/* The host's side of OAuth: state values and PKCE (RFC 7636, S256). */
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "core/sha256.h"
#include "icms/auth.h"

#define STATE_MAX 512

int icms_auth_state_new(char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "icms_auth_state_new needs out");
    *out = NULL;
    return icms__random_token(out);
}

int icms_auth_state_check(const char *expected, const char *received)
{
    if (!expected || !received || !expected[0])
        return icms__error(ICMS_EUNAUTHENTICATED, "OAuth state missing");
    size_t a = strnlen(expected, STATE_MAX + 1), b = strnlen(received, STATE_MAX + 1);
    /* Lengths are not secret (every state we make is 43 characters); contents are compared in
     * constant time. */
    if (a > STATE_MAX || a != b || !icms__ct_equal(expected, received, a))
        return icms__error(ICMS_EUNAUTHENTICATED, "OAuth state does not match");
    return ICMS_OK;
}

int icms_auth_pkce_verifier_new(char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "icms_auth_pkce_verifier_new needs out");
    *out = NULL;
    return icms__random_token(out); /* base64url is within RFC 7636's unreserved set */
}

static bool verifier_ok(const char *v, size_t *len)
{
    *len = strnlen(v, 129);
    if (*len < 43 || *len > 128)
        return false;
    for (size_t i = 0; i < *len; i++) {
        char c = v[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '.' || c == '_' || c == '~';
        if (!ok)
            return false;
    }
    return true;
}

static int challenge_of(const char *verifier, char out[44])
{
    size_t len;
    if (!verifier || !verifier_ok(verifier, &len))
        return icms__error(ICMS_EINVALID, "PKCE verifier must be 43 to 128 characters of "
                                          "A-Z a-z 0-9 - . _ ~");
    uint8_t hash[32];
    icms__sha256(verifier, len, hash);
    icms__b64url_encode(hash, sizeof hash, out);
    return ICMS_OK;
}

int icms_auth_pkce_challenge(const char *verifier, char **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "icms_auth_pkce_challenge needs out");
    *out = NULL;
    char challenge[44];
    int rc = challenge_of(verifier, challenge);
    if (rc)
        return rc;
    *out = icms__strdup(challenge);
    return *out ? ICMS_OK : ICMS_ENOMEM;
}

int icms_auth_pkce_check(const char *verifier, const char *challenge)
{
    char expected[44];
    int rc = challenge_of(verifier, expected);
    if (rc)
        return rc == ICMS_EINVALID ? icms__error(ICMS_EUNAUTHENTICATED, "PKCE verifier malformed")
                                   : rc;
    if (!challenge || strnlen(challenge, 44) != 43 || !icms__ct_equal(expected, challenge, 43))
        return icms__error(ICMS_EUNAUTHENTICATED, "PKCE verifier does not match the challenge");
    return ICMS_OK;
}
