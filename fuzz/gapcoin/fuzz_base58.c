/* Base58check decoder. Property: decoding then encoding gives back the input text. */
#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    uint8_t version, *payload;
    size_t len;
    if (icms_gapcoin_base58check_decode(text, &version, &payload, &len) == 0) {
        char *again;
        if (icms_gapcoin_base58check_encode(version, payload, len, &again) == 0) {
            FUZZ_ASSERT(strcmp(again, text) == 0);
            icms_free(again);
        } else {
            FUZZ_ASSERT(len > ICMS_GAPCOIN_BASE58_MAX_PAYLOAD);
        }
        icms_free(payload);
    }
    free(text);
    return 0;
}
