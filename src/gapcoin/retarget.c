/* The per-block difficulty retarget, from the previous header's timespan. */
#include <gmp.h>

#include "gapcoin_internal.h"
#include "pow_math.h"

/* log2(e) x 2^64: log2fx(x, 112) / L64 = ln(x) x 2^48. */
static const char L64_HEX[] = "171547652b82fe177";
/* ln(150) x 2^48: the log of the target spacing. */
#define LN_TARGET UINT64_C(0x502b8fea053a6)
#define ONE UINT64_C(0x1000000000000) /* 1.0 in the x 2^48 fixed point */

int icms_gapcoin_next_difficulty(icms_gapcoin_network_t network, uint64_t prev_difficulty,
                                 int64_t actual_timespan, uint64_t *out)
{
    const icms_gapcoin_params *p = icms_gapcoin_params_get(network);
    if (!p || !out)
        return icms__error(ICMS_EINVALID, "retarget: unknown network or NULL out");
    if (actual_timespan < 1)
        actual_timespan = 1;
    mpz_t n, log, l64;
    mpz_inits(n, log, l64, NULL);
    mpz_set_ui(n, (unsigned long)actual_timespan);
    icms__log2fx(log, n, 112);
    mpz_set_str(l64, L64_HEX, 16);
    mpz_fdiv_q(log, log, l64);
    /* ln of a positive int64 is below 44, so la < 44 x 2^48 fits in 64 bits. */
    uint64_t la = (uint64_t)mpz_get_ui(log);
    mpz_clears(n, log, l64, NULL);

    unsigned sh = la > LN_TARGET ? 6 : 8;
    uint64_t up = LN_TARGET >> sh, down = la >> sh, d = prev_difficulty, next;
    if (up >= down) {
        uint64_t inc = up - down;
        next = d > UINT64_MAX - inc ? UINT64_MAX : d + inc;
    } else {
        uint64_t dec = down - up;
        next = d < dec ? 0 : d - dec;
    }
    /* At most one unit of difficulty either way per block. */
    uint64_t lo = d >= ONE ? d - ONE : 0;
    uint64_t hi = d <= UINT64_MAX - ONE ? d + ONE : UINT64_MAX;
    if (next < lo)
        next = lo;
    if (next > hi)
        next = hi;
    if (next < p->min_difficulty)
        next = p->min_difficulty;
    *out = next;
    return 0;
}
