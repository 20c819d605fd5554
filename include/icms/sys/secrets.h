/*
 * The secrets port: where libicms gets its master key (the seed's Vault).
 *
 * The master key never goes into the store. libicms derives from it the key
 * that seals the token-signing keys at rest and the key that hashes refresh
 * tokens, so a copy of the store alone yields neither a usable signing key
 * nor a usable refresh token. The host keeps the master key in its own vault
 * (a KMS, an HSM-backed secret, a file readable only by the service) and
 * hands it over through this callback each time it is needed.
 *
 * Not included by icms.h: this header is for hosts that supply their secrets.
 */
#ifndef ICMS_SYS_SECRETS_H
#define ICMS_SYS_SECRETS_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes in the master key. */
#define ICMS_SECRETS_KEY_BYTES 32

/**
 * A secrets source. Fill with ICMS_SECRETS_INIT and set master_key; once
 * handed to the library (icms_auth_new's options) the library owns it and
 * calls free() exactly once when done.
 *
 * Threads: master_key may be called from several threads at once.
 */
typedef struct icms_secrets {
    unsigned int version; /**< ICMS_SECRETS_VERSION */

    /**
     * Write the 32-byte master key into key_out and return 0, or return a
     * negative code (ICMS_EUSER is handed back unchanged; any other failure
     * becomes ICMS_ERROR). libicms wipes key_out after use. The same key must
     * be returned every time: a different key makes the sealed signing keys
     * unreadable (ICMS_ECORRUPT) and every refresh token unknown.
     */
    int (*master_key)(struct icms_secrets *secrets, uint8_t *key_out);

    /** Release the source and its payload; may be NULL. */
    void (*free)(struct icms_secrets *secrets);

    /** Anything the source needs; the library never reads it. */
    void *payload;
} icms_secrets;

#define ICMS_SECRETS_VERSION 1
/* clang-format off */
#define ICMS_SECRETS_INIT {ICMS_SECRETS_VERSION, NULL, NULL, NULL}
/* clang-format on */

/**
 * A secrets source holding a copy of key (ICMS_SECRETS_KEY_BYTES bytes), for
 * tests and for hosts that already hold the key in memory. The copy is wiped
 * when the source is freed.
 *
 * On success *out belongs to the caller until handed to the library; release
 * it with icms_secrets_free(). Errors: ICMS_EINVALID (NULL arguments or a
 * key_len other than ICMS_SECRETS_KEY_BYTES), ICMS_ENOMEM. Thread-safe.
 */
ICMS_EXTERN int icms_secrets_static_new(const uint8_t *key, size_t key_len, icms_secrets **out);

/** Release a secrets source that was not handed to the library. NULL is allowed. */
ICMS_EXTERN void icms_secrets_free(icms_secrets *secrets);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_SYS_SECRETS_H */
