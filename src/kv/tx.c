#include "kv/tx.h"

#include "core/core.h"
#include "kv/log_memo.h"
#include "kv/tx_cache.h"

/*
 * A host's store may answer a code without recording a message through our
 * error channel; make sure the caller always gets words with the code.
 */
static int worded(int rc, const char *op)
{
    if (rc == ICMS_OK || rc == ICMS_ENOTFOUND)
        return rc;
    if (icms_error_last()->code != rc)
        return icms__error(rc, "store %s failed: %s", op, icms_strerror(rc));
    return rc;
}

int icms__tx_begin(icms_store *store, icms_store_mode_t mode, icms__tx *tx)
{
    tx->store = store;
    tx->mode = mode;
    tx->txn = NULL;
    tx->cache = NULL;
    tx->hints = NULL;
    int rc = store->begin(store, mode, &tx->txn);
    if (rc == ICMS_OK && tx->txn == NULL)
        return icms__error(ICMS_ESTORAGE, "store begin returned no transaction");
    return worded(rc, "begin");
}

int icms__tx_commit(icms__tx *tx)
{
    int rc = icms__tx_cache_flush(tx);
    /* The ends of the logs become the handle's hints, but only once committed. */
    icms__log_staged staged;
    icms__tx_log_stage(tx, &staged);
    icms__tx_cache_free(tx);
    if (rc) {
        icms__log_staged_finish(tx->hints, &staged, false);
        icms__tx_rollback(tx);
        return rc;
    }
    icms_store_txn *txn = tx->txn;
    tx->txn = NULL;
    rc = worded(tx->store->commit(txn), "commit");
    icms__log_staged_finish(tx->hints, &staged, rc == ICMS_OK);
    return rc;
}

void icms__tx_rollback(icms__tx *tx)
{
    icms__tx_cache_free(tx);
    if (tx->txn) {
        tx->store->rollback(tx->txn);
        tx->txn = NULL;
    }
}

int icms__tx_get(icms__tx *tx, const icms__key *key, const uint8_t **value, size_t *value_len)
{
    int rc = icms__key_check(key);
    if (rc)
        return rc;
    icms__cached *cached = icms__tx_cache_find(tx, key->bytes, key->len);
    if (cached && cached->state == ICMS__CACHED_ABSENT)
        return ICMS_ENOTFOUND;
    if (cached && cached->dirty)
        return icms__tx_cache_bytes(cached, value, value_len);
    return worded(tx->store->get(tx->txn, key->bytes, key->len, value, value_len), "get");
}

int icms__tx_put(icms__tx *tx, const icms__key *key, const void *value, size_t value_len)
{
    int rc = icms__key_check(key);
    if (rc)
        return rc;
    if (value_len > ICMS_STORE_VALUE_MAX)
        return icms__error(ICMS_ELIMIT, "value of %zu bytes is over the %u-byte limit", value_len,
                           ICMS_STORE_VALUE_MAX);
    /* Written around the cache: whatever it held for the key is superseded. */
    icms__cached *cached = icms__tx_cache_find(tx, key->bytes, key->len);
    if (cached)
        icms__tx_cache_forget(tx, cached);
    return worded(tx->store->put(tx->txn, key->bytes, key->len, value, value_len), "put");
}

int icms__tx_del(icms__tx *tx, const icms__key *key)
{
    int rc = icms__key_check(key);
    if (rc)
        return rc;
    icms__cached *cached = icms__tx_cache_find(tx, key->bytes, key->len);
    if (cached)
        icms__tx_cache_forget(tx, cached);
    return worded(tx->store->del(tx->txn, key->bytes, key->len), "delete");
}

int icms__tx_scan_range(icms__tx *tx, const icms__key *start, const icms__key *end,
                        unsigned int flags, icms_store_scan_cb cb, void *payload)
{
    int rc = icms__key_check(start);
    if (rc == ICMS_OK && end)
        rc = icms__key_check(end);
    if (rc == ICMS_OK)
        rc = icms__tx_cache_flush(tx); /* so the scan sees this transaction's records */
    if (rc)
        return rc;
    rc = tx->store->scan(tx->txn, start->bytes, start->len, end ? end->bytes : NULL,
                         end ? end->len : 0, flags, cb, payload);
    return worded(rc, "scan");
}

int icms__tx_scan_prefix(icms__tx *tx, const icms__key *prefix, unsigned int flags,
                         icms_store_scan_cb cb, void *payload)
{
    icms__key end;
    int rc = icms__key_prefix_end(prefix, &end);
    if (rc)
        return rc;
    return icms__tx_scan_range(tx, prefix, &end, flags, cb, payload);
}
