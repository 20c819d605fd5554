/* SHA-256 and SHA-256d. Property: the library's SHA-256 (SHA-NI where the CPU has it, and the
 * portable path forced) gives libsodium's digest, whole and fed in pieces. The first two input
 * bytes choose where the pieces split; the rest is the message. */
#include "../fuzz_common.h"

#include <sodium.h>

#include "core/sha256.h"
#include "icms/gapcoin.h"

FUZZ_INIT

static void check_path(const uint8_t *msg, size_t len, size_t cut1, size_t cut2,
                       const uint8_t want[32], const uint8_t want_d[32])
{
    uint8_t got[32];
    icms__sha256(msg, len, got);
    FUZZ_ASSERT(memcmp(got, want, 32) == 0);

    icms__sha256_ctx st;
    icms__sha256_init(&st);
    icms__sha256_update(&st, msg, cut1);
    icms__sha256_update(&st, msg + cut1, cut2 - cut1);
    icms__sha256_update(&st, msg + cut2, len - cut2);
    icms__sha256_final(&st, got);
    FUZZ_ASSERT(memcmp(got, want, 32) == 0);

    icms_gapcoin_sha256d(msg, len, got);
    FUZZ_ASSERT(memcmp(got, want_d, 32) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    const uint8_t *msg = data + 2;
    size_t len = size - 2;
    size_t cut1 = len ? data[0] * 257u % (len + 1) : 0;
    size_t cut2 = len ? data[1] * 263u % (len + 1) : 0;
    if (cut1 > cut2) {
        size_t t = cut1;
        cut1 = cut2;
        cut2 = t;
    }
    uint8_t want[32], want_d[32];
    crypto_hash_sha256(want, msg, len);
    crypto_hash_sha256(want_d, want, sizeof want);

    icms__sha256_force_portable(false);
    check_path(msg, len, cut1, cut2, want, want_d);
    icms__sha256_force_portable(true);
    check_path(msg, len, cut1, cut2, want, want_d);
    icms__sha256_force_portable(false);
    return 0;
}
