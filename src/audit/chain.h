/* The audit chain's building blocks, shared by appending and verifying. */
#ifndef ICMS_SRC_AUDIT_CHAIN_H
#define ICMS_SRC_AUDIT_CHAIN_H

#include "audit/audit.h"

void icms__audit_entry_key(icms__key *key, int64_t seq);

/* H(n) from H(n-1) and entry n's stored bytes. */
void icms__audit_link_hash(const uint8_t prev[ICMS__AUDIT_HASH_LEN], const uint8_t *entry,
                           size_t entry_len, uint8_t out[ICMS__AUDIT_HASH_LEN]);

/* The seq and prev fields of a stored entry; ICMS_ECORRUPT when they are missing or malformed. */
int icms__audit_parse_entry(const uint8_t *bytes, size_t len, int64_t *seq,
                            uint8_t prev[ICMS__AUDIT_HASH_LEN]);

#endif
