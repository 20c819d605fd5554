/* CMerkleBlock verification. Property: every reported match is found by _contains. */
#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icms_gapcoin_merkle_proof *p;
    if (icms_gapcoin_merkle_proof_verify(data, size, &p) != 0)
        return 0;
    FUZZ_ASSERT(p->match_count > 0 && p->match_count <= p->tx_count);
    for (size_t i = 0; i < p->match_count; i++) {
        FUZZ_ASSERT(p->match_positions[i] < p->tx_count);
        FUZZ_ASSERT(i == 0 || p->match_positions[i] > p->match_positions[i - 1]);
        FUZZ_ASSERT(icms_gapcoin_merkle_proof_contains(p, p->matches + 32 * i));
    }
    icms_gapcoin_merkle_proof_free(p);
    return 0;
}
