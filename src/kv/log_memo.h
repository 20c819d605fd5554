/*
 * The end of an append-only log (the audit chain, the ledger, the outbox:
 * keys (name, seq) with seq counting up from 1) as one transaction knows it.
 *
 * The first time a transaction asks, the end is found: from the handle's
 * hint (kv/hints.h) when two point reads confirm it, or else by one reverse
 * scan. From then on the log's owner keeps the memo up to date as it
 * appends, and when the transaction commits the memo becomes the handle's
 * hint for the next one. The owner may derive a few bytes of state from the
 * last entry (the audit chain's head hash); they travel with the hint.
 */
#ifndef ICMS_SRC_KV_LOG_MEMO_H
#define ICMS_SRC_KV_LOG_MEMO_H

#include <stdint.h>

#include "kv/hints.h"
#include "kv/keys.h"
#include "kv/tx.h"

typedef struct icms__log_memo {
    int64_t seq;                        /* the last entry's sequence; 0: the log is empty */
    uint8_t state[ICMS__LOG_STATE_MAX]; /* what the owner derived from that entry */
} icms__log_memo;

/*
 * The owner's rule for a last entry found in the store: check it is entry
 * seq and fill memo->state from it. ICMS_OK, or ICMS_ECORRUPT (ICMS_ENOMEM).
 */
typedef int (*icms__log_derive_fn)(const uint8_t *entry, size_t len, int64_t seq,
                                   icms__log_memo *memo);

/*
 * This transaction's memo of the log under prefix, for tag (the address of a
 * static in the owner); derive may be NULL when there is no state. Errors:
 * the store's, or derive's.
 */
int icms__tx_log_memo(icms__tx *tx, const void *tag, const icms__key *prefix,
                      icms__log_derive_fn derive, icms__log_memo **out);

/*
 * The owner has stored entry seq + 1 (len bytes) under the log: the memo now
 * ends there (the owner updates state itself). ICMS_ENOMEM leaves the memo as
 * it was.
 */
int icms__tx_log_appended(icms__tx *tx, icms__log_memo *memo, const void *entry, size_t len);

/* The log memos of a committing transaction, on their way to the handle's hints. */
enum { ICMS__LOG_STAGED_MAX = 8 };
typedef struct icms__log_staged {
    size_t count;
    const void *tags[ICMS__LOG_STAGED_MAX];
    icms__log_hint hints[ICMS__LOG_STAGED_MAX];
} icms__log_staged;

/* Take tx's log memos (their entries move into staged) before the cache is freed. */
void icms__tx_log_stage(icms__tx *tx, icms__log_staged *staged);

/* After the store's commit: hints updated when committed, else just freed. */
void icms__log_staged_finish(icms__hints *hints, icms__log_staged *staged, bool committed);

#endif
