/*
 * The audit log: every state change of libicms leaves an entry in an
 * append-only hash chain (docs/architecture.md, "Audit log").
 */
#ifndef ICMS_AUDIT_H
#define ICMS_AUDIT_H

#include "icms/db.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ICMS_AUDIT_PUBLIC_KEY_BYTES 32
#define ICMS_AUDIT_SECRET_KEY_BYTES 64

/**
 * A new Ed25519 key pair for signing checkpoints. Keep the secret key out
 * of the store (whoever can write the store must not be able to re-sign it).
 * Errors: ICMS_EINVALID (wrong buffer sizes).
 */
ICMS_EXTERN int icms_audit_keypair(uint8_t *public_key, size_t public_key_len, uint8_t *secret_key,
                                   size_t secret_key_len);

/**
 * Sign the audit chain's current head. *checkpoint_out receives JSON text
 * {"seq":N,"hash":"<hex>","signature":"<hex>"} to keep outside the store;
 * free it with icms_free().
 * Errors: ICMS_EINVALID (wrong key size), ICMS_ESTORAGE.
 */
ICMS_EXTERN int icms_audit_checkpoint(icms_db *db, const uint8_t *secret_key,
                                      size_t secret_key_len, char **checkpoint_out);

/**
 * Verify the whole audit chain: every entry present, in order, linked to the
 * one before; and, given a checkpoint and the public key that signed it,
 * that the chain still reaches the checkpoint with the same hash (so entries
 * removed from the end are found). checkpoint may be NULL (then public_key is
 * ignored and truncation cannot be seen).
 *
 * *report_out (may be NULL) receives JSON text {"valid":bool,"entries":N,
 * "bad_seq":N,"reason":"..."}; free it with icms_free().
 * Returns ICMS_OK when the chain is intact, ICMS_ECORRUPT when it is not, and
 * ICMS_EINVALID for a malformed checkpoint or key.
 */
ICMS_EXTERN int icms_audit_verify(icms_db *db, const char *checkpoint, const uint8_t *public_key,
                                  size_t public_key_len, char **report_out);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_AUDIT_H */
