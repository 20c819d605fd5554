/* Block decoder. Property: a decoded block's transactions reach its merkle root. */
#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icms_gapcoin_block *b;
    if (icms_gapcoin_block_decode(data, size, &b) != 0)
        return 0;
    FUZZ_ASSERT(b->tx_count > 0 && b->size == size);
    uint8_t *ids = malloc(32 * b->tx_count);
    FUZZ_ASSERT(ids != NULL);
    for (size_t i = 0; i < b->tx_count; i++)
        memcpy(ids + 32 * i, b->txs[i]->txid, 32);
    uint8_t root[32];
    int mutated;
    FUZZ_ASSERT(icms_gapcoin_merkle_root(ids, 32 * b->tx_count, root, &mutated) == 0);
    FUZZ_ASSERT(!mutated && memcmp(root, b->header.merkle_root, 32) == 0);
    free(ids);
    icms_gapcoin_block_free(b);
    return 0;
}
