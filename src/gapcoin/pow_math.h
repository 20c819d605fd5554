/* Fixed-point arithmetic shared by the proof of work and the retarget (needs GMP). */
#ifndef ICMS_SRC_GAPCOIN_POW_MATH_H
#define ICMS_SRC_GAPCOIN_POW_MATH_H

#include <gmp.h>

/* log2(n) x 2^acc, rounded down bit by bit by repeated squaring; n >= 1. */
void icms__log2fx(mpz_t out, const mpz_t n, unsigned acc);

#endif
