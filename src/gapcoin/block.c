/* Whole blocks, as `getblock HASH false` returns them: header, then transactions. */
#include <stdio.h>
#include <string.h>

#include "gapcoin_internal.h"

/* Smallest transaction: version, 1 input, 1 output, locktime. */
#define MIN_TX_SIZE 60

void icms_gapcoin_block_free(icms_gapcoin_block *block)
{
    if (!block)
        return;
    for (size_t i = 0; i < block->tx_count; i++)
        icms_gapcoin_tx_free(block->txs[i]);
    icms__free(block->txs);
    icms__free(block);
}

int icms_gapcoin_block_decode(const uint8_t *bytes, size_t bytes_len, icms_gapcoin_block **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "block: out is NULL");
    *out = NULL;
    if (!bytes && bytes_len)
        return icms__error(ICMS_EINVALID, "block: bytes is NULL");
    if (bytes_len > ICMS_GAPCOIN_BLOCK_MAX_SIZE)
        return icms__error(ICMS_ELIMIT, "block: %zu bytes exceeds %d", bytes_len,
                           ICMS_GAPCOIN_BLOCK_MAX_SIZE);
    icms__reader r = {bytes, bytes_len, 0};
    icms_gapcoin_header header;
    uint64_t n;
    int rc;
    if ((rc = icms__header_parse(&r, &header)) != 0 ||
        (rc = icms__read_compact(&r, ICMS_GAPCOIN_MAX_COMPACT_SIZE, &n, "transaction count")) != 0)
        return icms__error_wrap(rc, "block");
    if (n == 0)
        return icms__error(ICMS_EINVALID, "block: no transactions");
    if (n > icms__reader_left(&r) / MIN_TX_SIZE)
        return icms__error(ICMS_EINVALID, "block: %llu transactions cannot fit in %zu bytes",
                           (unsigned long long)n, icms__reader_left(&r));
    icms_gapcoin_block *block = icms__calloc(1, sizeof *block);
    if (!block)
        return ICMS_ENOMEM;
    block->header = header;
    block->txs = icms__calloc((size_t)n, sizeof *block->txs);
    uint8_t *txids = icms__malloc((size_t)n * 32);
    if (!block->txs || !txids) {
        icms__free(txids);
        icms_gapcoin_block_free(block);
        return ICMS_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        if ((rc = icms__tx_parse(&r, &block->txs[i])) != 0) {
            char prefix[48];
            snprintf(prefix, sizeof prefix, "block: transaction %zu", i);
            rc = icms__error_wrap(rc, prefix);
            goto fail;
        }
        block->tx_count++;
        memcpy(txids + 32 * i, block->txs[i]->txid, 32);
    }
    if (r.pos != bytes_len) {
        rc = icms__error(ICMS_EINVALID, "block: %zu trailing bytes", bytes_len - r.pos);
        goto fail;
    }
    uint8_t root[32];
    int mutated;
    if ((rc = icms_gapcoin_merkle_root(txids, (size_t)n * 32, root, &mutated)) != 0)
        goto fail;
    if (mutated) {
        rc = icms__error(ICMS_EINVALID, "block: duplicated transactions (CVE-2012-2459)");
        goto fail;
    }
    if (memcmp(root, header.merkle_root, 32) != 0) {
        rc = icms__error(ICMS_EINVALID, "block: transactions do not match the merkle root");
        goto fail;
    }
    icms__free(txids);
    block->size = bytes_len;
    *out = block;
    return 0;
fail:
    icms__free(txids);
    icms_gapcoin_block_free(block);
    return rc;
}
