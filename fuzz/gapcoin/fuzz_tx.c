/*
 * Transaction decoder. Properties: a decoded tx accounts for every input
 * byte; without a witness its txid is the SHA-256d of the input; every output
 * script that has an address decodes back to the same script.
 */
#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

static void check_address_round_trip(const uint8_t *script, size_t len)
{
    icms_gapcoin_script_type_t type = icms_gapcoin_script_classify(script, len);
    for (int net = 0; net < 2; net++) {
        for (int node = 0; node < 3; node++) {
            char *addr;
            if (icms_gapcoin_script_to_address(script, len, (icms_gapcoin_network_t)net,
                                               (icms_gapcoin_node_t)node, &addr) != 0)
                continue;
            uint8_t *back;
            size_t back_len;
            FUZZ_ASSERT(icms_gapcoin_address_to_script(addr, (icms_gapcoin_network_t)net, &back,
                                                       &back_len) == 0);
            /* P2PK shows as the P2PKH of its key; every other kind maps back exactly. */
            if (type != ICMS_GAPCOIN_SCRIPT_P2PK)
                FUZZ_ASSERT(back_len == len && memcmp(back, script, len) == 0);
            icms_free(back);
            icms_free(addr);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icms_gapcoin_tx *tx;
    if (icms_gapcoin_tx_decode(data, size, &tx) != 0)
        return 0;
    FUZZ_ASSERT(tx->size == size);
    FUZZ_ASSERT(tx->input_count > 0 && tx->output_count > 0);
    uint8_t h[32];
    icms_gapcoin_sha256d(data, size, h);
    FUZZ_ASSERT(memcmp(h, tx->wtxid, 32) == 0);
    if (!tx->has_witness)
        FUZZ_ASSERT(memcmp(h, tx->txid, 32) == 0 && tx->base_size == size);
    int64_t sum = 0;
    for (size_t i = 0; i < tx->output_count; i++) {
        FUZZ_ASSERT(tx->outputs[i].value >= 0 && tx->outputs[i].value <= ICMS_GAPCOIN_MAX_MONEY);
        sum += tx->outputs[i].value;
        check_address_round_trip(tx->outputs[i].script, tx->outputs[i].script_len);
    }
    FUZZ_ASSERT(sum == tx->total_out);
    icms_gapcoin_tx_free(tx);
    return 0;
}
