/*
 * Header decoder and proof of work. Properties: a decoded header encodes
 * back to the same bytes; the PoW check never crashes and reports figures
 * only when it reached them.
 */
#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    icms_gapcoin_header h;
    if (icms_gapcoin_header_decode(data, size, &h) != 0)
        return 0;
    uint8_t *enc;
    size_t len;
    FUZZ_ASSERT(icms_gapcoin_header_encode(&h, &enc, &len) == 0);
    FUZZ_ASSERT(len == size && memcmp(enc, data, size) == 0);
    icms_free(enc);
    icms_gapcoin_pow pow;
    int rc = icms_gapcoin_pow_check(&h, &pow);
    FUZZ_ASSERT(rc == 0 || rc == ICMS_EINVALID);
    if (rc == 0)
        FUZZ_ASSERT(pow.computed && pow.achieved >= h.n_difficulty);
    return 0;
}
