/* Checking the audit chain against itself and against a signed checkpoint. */
#ifndef ICMS_SRC_AUDIT_VERIFY_H
#define ICMS_SRC_AUDIT_VERIFY_H

#include "audit/audit.h"

/* What a checkpoint commits to: the chain up to seq hashed to hash. */
typedef struct icms__audit_checkpoint {
    int64_t seq;
    uint8_t hash[ICMS__AUDIT_HASH_LEN];
    uint8_t signature[64];
} icms__audit_checkpoint;

typedef struct icms__audit_report {
    bool valid;
    int64_t entries;  /* entries read */
    int64_t bad_seq;  /* first entry found wrong; 0 when none or the log as a whole */
    char reason[160]; /* empty when valid */
} icms__audit_report;

/* Sign the chain's current head with an Ed25519 secret key (libsodium's 64-byte form). */
int icms__audit_checkpoint_make(icms__tx *tx, const uint8_t secret_key[64],
                                icms__audit_checkpoint *out);

/*
 * Walk the whole chain. With a checkpoint (and the public key it must be
 * signed by) the chain must also reach the checkpoint's seq with exactly its
 * hash. Returns ICMS_OK with report->valid telling the verdict; an error code
 * only when the walk itself could not be made.
 */
int icms__audit_verify(icms__tx *tx, const icms__audit_checkpoint *checkpoint,
                       const uint8_t public_key[32], icms__audit_report *report);

#endif
