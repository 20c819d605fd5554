/*
 * Address decoder. Properties: the script of a decoded address classifies as
 * the address's type, and the node generation it names writes the same
 * address for that script (ignoring case).
 */
#include <strings.h>

#include "../fuzz_common.h"

#include "icms/gapcoin.h"

FUZZ_INIT

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_cstring(data, size);
    icms_gapcoin_address a;
    if (icms_gapcoin_address_decode(text, &a) == 0) {
        FUZZ_ASSERT(icms_gapcoin_script_classify(a.script, a.script_len) == a.type);
        char *again;
        FUZZ_ASSERT(
            icms_gapcoin_script_to_address(a.script, a.script_len, a.network, a.node, &again) == 0);
        FUZZ_ASSERT(strcasecmp(again, text) == 0);
        icms_free(again);
    }
    free(text);
    return 0;
}
