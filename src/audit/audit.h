/*
 * The audit log: an append-only hash chain in the store.
 *
 * Entry n is canonical JSON stored under ("audit", n), n = 1, 2, ...; it
 * names the hash of entry n-1 in its "prev" field, and its own hash is
 *     H(n) = SHA-256("icms-audit-v1" || 0x00 || H(n-1) || stored bytes of entry n)
 * with H(0) = 32 zero bytes. Changing, removing or reordering an entry breaks
 * the link of the one after it; removing entries from the end is caught by a
 * checkpoint (the Ed25519 signature of a sequence number and its hash, made
 * with a key the store never holds).
 *
 * Every command appends its entry in its own transaction, so state and audit
 * commit together or not at all.
 */
#ifndef ICMS_SRC_AUDIT_H
#define ICMS_SRC_AUDIT_H

#include <cjson/cJSON.h>

#include "kv/tx.h"

#define ICMS__AUDIT_HASH_LEN 32

typedef struct icms__audit_entry {
    int64_t at_ms;              /* when the command ran */
    const char *actor;          /* the actor's id, or "system" */
    const char *action;         /* what was done: "project.publish" */
    const char *subject;        /* the record acted on (id text); may be NULL */
    const char *correlation_id; /* may be NULL */
    const cJSON *data;          /* details; may be NULL; borrowed */
} icms__audit_entry;

/* Append an entry in tx; *seq_out (may be NULL) receives its sequence number. */
int icms__audit_append(icms__tx *tx, const icms__audit_entry *entry, int64_t *seq_out);

/* The sequence number and hash of the last entry (0 and zeros when the log is empty). */
int icms__audit_head(icms__tx *tx, int64_t *seq, uint8_t hash[ICMS__AUDIT_HASH_LEN]);

/* The key prefix of the audit range, for stores that enforce append-only ranges. */
void icms__audit_prefix(icms__key *key);

#endif
