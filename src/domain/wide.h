/*
 * a * b / d without overflow, for the money arithmetic: the products of two
 * int64 amounts need 128 bits before the division brings them back.
 */
#ifndef ICMS_DOMAIN_WIDE_H
#define ICMS_DOMAIN_WIDE_H

#include <stdbool.h>
#include <stdint.h>

/*
 * q = floor(a * b / d), r = a * b mod d, computed exactly. False (and q, r
 * untouched) when d is 0 or the quotient does not fit in 64 bits. Uses the
 * compiler's 128-bit integers where it has them, the portable version below
 * where it does not.
 */
bool icms__muldiv_u64(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r);

/* The same, with 64-bit operations only; always compiled, so tests compare the two. */
bool icms__muldiv_u64_portable(uint64_t a, uint64_t b, uint64_t d, uint64_t *q, uint64_t *r);

#endif
