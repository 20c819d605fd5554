/* Passwords: Argon2id through libsodium's crypto_pwhash_str. */
#include <string.h>

#include <sodium.h>

#include "auth/crypto.h"
#include "core/core.h"

int icms__password_check_rules(const char *password)
{
    if (!password)
        return icms__error(ICMS_EINVALID, "password: required");
    size_t len = strnlen(password, ICMS__PASSWORD_MAX + 1);
    if (len < ICMS__PASSWORD_MIN || len > ICMS__PASSWORD_MAX)
        return icms__error(ICMS_EINVALID, "password: must be %d to %d bytes", ICMS__PASSWORD_MIN,
                           ICMS__PASSWORD_MAX);
    return ICMS_OK;
}

int icms__password_hash(const char *password, unsigned long long opslimit, size_t memlimit,
                        char *out, size_t out_size)
{
    if (out_size < crypto_pwhash_STRBYTES)
        return icms__error(ICMS_EBUFS, "password hash buffer too small");
    if (crypto_pwhash_str(out, password, strlen(password), opslimit, memlimit) != 0)
        return icms__error(ICMS_ENOMEM, "password hashing failed (not enough memory for the "
                                        "configured Argon2id limits)");
    return ICMS_OK;
}

bool icms__password_verify(const char *stored, const char *password)
{
    return crypto_pwhash_str_verify(stored, password, strlen(password)) == 0;
}

bool icms__password_needs_rehash(const char *stored, unsigned long long opslimit, size_t memlimit)
{
    return crypto_pwhash_str_needs_rehash(stored, opslimit, memlimit) != 0;
}
