/* Exact a * b / d with a 128-bit intermediate. */
#include "domain/wide.h"

/* The full product of two 64-bit numbers as hi:lo, from 32-bit halves. */
static void mul_64x64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo)
{
    uint64_t a0 = a & 0xFFFFFFFFu, a1 = a >> 32;
    uint64_t b0 = b & 0xFFFFFFFFu, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    /* Middle column: cannot overflow (3 * (2^32 - 1)^2 / 2^32 < 2^64). */
    uint64_t mid = (p00 >> 32) + (p01 & 0xFFFFFFFFu) + (p10 & 0xFFFFFFFFu);
    *lo = (mid << 32) | (p00 & 0xFFFFFFFFu);
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
}

bool icms__muldiv_u64_portable(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r)
{
    if (d == 0)
        return false;
    uint64_t hi, lo;
    mul_64x64(a, b, &hi, &lo);
    if (hi >= d)
        return false; /* the quotient would need more than 64 bits */
    /* Restoring long division, one bit of lo at a time; rem < d throughout. */
    uint64_t rem = hi, quot = 0;
    for (int i = 63; i >= 0; i--) {
        uint64_t carry = rem >> 63;
        rem = (rem << 1) | ((lo >> i) & 1u);
        quot <<= 1;
        if (carry || rem >= d) {
            rem -= d; /* modulo 2^64, right even when the shift carried out */
            quot |= 1u;
        }
    }
    *q = quot;
    *r = rem;
    return true;
}

bool icms__muldiv_u64(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r)
{
#if defined(__SIZEOF_INT128__)
    if (d == 0)
        return false;
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;
    __extension__ unsigned __int128 quot = p / d;
    if (quot >> 64)
        return false;
    *q = (uint64_t)quot;
    *r = (uint64_t)(p % d);
    return true;
#else
    return icms__muldiv_u64_portable(a, b, d, q, r);
#endif
}
