/* Bech32/bech32m decoder. Property: decoding then encoding gives the input in lower case. */
#include <ctype.h>

#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    char *hrp;
    uint8_t *values;
    size_t len;
    icms_gapcoin_bech32_t enc;
    if (icms_gapcoin_bech32_decode(text, &hrp, &values, &len, &enc) == 0) {
        char *again;
        FUZZ_ASSERT(icms_gapcoin_bech32_encode(hrp, values, len, enc, &again) == 0);
        FUZZ_ASSERT(strlen(again) == strlen(text));
        for (size_t i = 0; text[i]; i++)
            FUZZ_ASSERT(again[i] == tolower((unsigned char)text[i]));
        icms_free(again);
        icms_free(hrp);
        icms_free(values);
    }
    free(text);
    return 0;
}
