/*
 * A store transaction as the core uses it: the port's function table and the
 * transaction together, with every error worded and every key checked, so
 * callers above never touch the raw port.
 */
#ifndef ICMS_SRC_KV_TX_H
#define ICMS_SRC_KV_TX_H

#include <stdbool.h>

#include "icms/sys/store.h"
#include "kv/keys.h"

typedef struct icms__tx {
    icms_store *store;
    icms_store_txn *txn;
    icms_store_mode_t mode;
    struct icms__tx_cache *cache; /* kv/tx_cache.h: what this transaction read and wrote */
    struct icms__hints *hints;    /* kv/hints.h: the handle's, or NULL */
} icms__tx;

int icms__tx_begin(icms_store *store, icms_store_mode_t mode, icms__tx *tx);
int icms__tx_commit(icms__tx *tx);
void icms__tx_rollback(icms__tx *tx);

/*
 * Borrowed value, valid until the next call on tx. ICMS_ENOTFOUND when absent.
 * Records written in this transaction and not yet stored are seen here.
 */
int icms__tx_get(icms__tx *tx, const icms__key *key, const uint8_t **value, size_t *value_len);
int icms__tx_put(icms__tx *tx, const icms__key *key, const void *value, size_t value_len);
int icms__tx_del(icms__tx *tx, const icms__key *key);
/*
 * Every key that starts with prefix, in order (reverse with ICMS_STORE_SCAN_REVERSE).
 * Records still held by the transaction's cache are stored first.
 */
int icms__tx_scan_prefix(icms__tx *tx, const icms__key *prefix, unsigned int flags,
                         icms_store_scan_cb cb, void *payload);
/* Keys in [start, end); end NULL for no upper bound. */
int icms__tx_scan_range(icms__tx *tx, const icms__key *start, const icms__key *end,
                        unsigned int flags, icms_store_scan_cb cb, void *payload);

#endif
