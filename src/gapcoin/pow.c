/*
 * The prime-gap proof of work, exactly as the vectors README describes it:
 * start = H * 2^shift + adder must be a probable prime, end is the next
 * prime, and the gap's merit (gap / ln(start), fixed point x 2^48) plus a
 * hash-derived fraction must reach the header's nDifficulty.
 */
#include <string.h>

#include <gmp.h>

#include "gapcoin_internal.h"
#include "pow_math.h"

#define MIN_SHIFT 14
#define MAX_SHIFT 1024

/* log2(e) x 2^112, the constant the merit and mgd formulas divide by log2fx. */
static const char L112_HEX[] = "171547652b82fe1777d0ffda0d23a";

void icms__log2fx(mpz_t out, const mpz_t n, unsigned acc)
{
    mpz_t x, top;
    mpz_inits(x, top, NULL);
    size_t log = mpz_sizeinbase(n, 2) - 1;
    mp_bitcnt_t sh = acc + log;
    mpz_set_ui(out, (unsigned long)log);
    mpz_mul_2exp(out, out, acc);
    mpz_mul_2exp(x, n, acc);
    unsigned bits = 0;
    for (;;) {
        while (bits <= acc) {
            /* Square while the integer part, (x >> sh) mod 2^64, is below 2. */
            mpz_tdiv_q_2exp(top, x, sh);
            mpz_fdiv_r_2exp(top, top, 64);
            if (mpz_cmp_ui(top, 2) >= 0)
                break;
            mpz_mul(x, x, x);
            mpz_tdiv_q_2exp(x, x, sh);
            bits++;
        }
        if (bits > acc)
            break;
        mpz_set_ui(top, 1);
        mpz_mul_2exp(top, top, acc - bits);
        mpz_add(out, out, top);
        mpz_tdiv_q_2exp(x, x, 1);
    }
    mpz_clears(x, top, NULL);
}

/* The value of z if it fits in 64 bits; otherwise sets *fits to false. */
static uint64_t to_u64(const mpz_t z, bool *fits)
{
    *fits = mpz_sgn(z) >= 0 && mpz_sizeinbase(z, 2) <= 64;
    if (!*fits)
        return 0;
    uint64_t v = 0;
    size_t count = 0;
    uint8_t buf[8] = {0};
    mpz_export(buf, &count, -1, 1, 0, 0, z);
    for (size_t i = 0; i < count; i++)
        v |= (uint64_t)buf[i] << (8 * i);
    return v;
}

/* Minimal little-endian bytes of a positive integer; buf must hold them. */
static size_t export_le(uint8_t *buf, const mpz_t z)
{
    size_t count = 0;
    mpz_export(buf, &count, -1, 1, 0, 0, z);
    return count;
}

int icms_gapcoin_pow_check(const icms_gapcoin_header *header, icms_gapcoin_pow *out)
{
    icms_gapcoin_pow res;
    memset(&res, 0, sizeof res);
    if (out)
        *out = res;
    if (!header)
        return icms__error(ICMS_EINVALID, "pow: header is NULL");
    res.n_difficulty = header->n_difficulty;
    if (out)
        *out = res;
    /* The struct may have been edited: the hash must be the one its fields give. */
    uint8_t hash[32];
    icms__header_hash(header, hash);
    if (memcmp(hash, header->hash, 32) != 0)
        return icms__error(ICMS_EINVALID, "pow: the hash field does not match the header's fields");
    if (!(header->hash[31] & 0x80))
        return icms__error(ICMS_EINVALID, "pow: block hash is below 2^255");
    if (header->shift < MIN_SHIFT || header->shift > MAX_SHIFT)
        return icms__error(ICMS_EINVALID, "pow: shift %u is outside %d..%d", header->shift,
                           MIN_SHIFT, MAX_SHIFT);
    if (header->adder_len > ICMS_GAPCOIN_ADDER_MAX)
        return icms__error(ICMS_EINVALID, "pow: nAdd is too long");

    mpz_t start, adder, end, gap, log, num, l112, merit, mgd;
    mpz_inits(start, adder, end, gap, log, num, l112, merit, mgd, NULL);
    int rc = 0;
    mpz_import(start, 32, -1, 1, 0, 0, header->hash);
    mpz_import(adder, header->adder_len, -1, 1, 0, 0, header->adder);
    if (mpz_sizeinbase(adder, 2) > header->shift && mpz_sgn(adder) != 0) {
        rc = icms__error(ICMS_EINVALID, "pow: nAdd is not below 2^shift");
        goto done;
    }
    mpz_mul_2exp(start, start, header->shift);
    mpz_add(start, start, adder);
    if (mpz_probab_prime_p(start, 25) == 0) {
        rc = icms__error(ICMS_EINVALID, "pow: the gap start is not prime");
        goto done;
    }
    mpz_nextprime(end, start);
    mpz_sub(gap, end, start);
    bool fits;
    res.gap = to_u64(gap, &fits);

    mpz_set_str(l112, L112_HEX, 16);
    icms__log2fx(log, start, 64);
    mpz_mul(num, gap, l112);
    mpz_fdiv_q(merit, num, log);
    res.merit = to_u64(merit, &fits);
    if (!fits)
        res.merit = 0;
    mpz_mul_2exp(num, l112, 1);
    mpz_fdiv_q(mgd, num, log);
    uint64_t mgd64 = to_u64(mgd, &fits);
    if (!fits || mgd64 == 0)
        mgd64 = 1;

    /* r: the four little-endian words of SHA-256d(le(start) || le(end)), XORed. */
    uint8_t a[ICMS_GAPCOIN_ADDER_MAX + 64], b[ICMS_GAPCOIN_ADDER_MAX + 64], h[32];
    size_t a_len = export_le(a, start), b_len = export_le(b, end);
    icms__sha256d2(a, a_len, b, b_len, h);
    uint64_t r = icms__le64(h) ^ icms__le64(h + 8) ^ icms__le64(h + 16) ^ icms__le64(h + 24);
    res.achieved = res.merit + r % mgd64; /* wraps mod 2^64, as described */
    res.computed = 1;
    if (res.achieved < header->n_difficulty)
        rc =
            icms__error(ICMS_EINVALID, "pow: achieved %llu is below the difficulty %llu",
                        (unsigned long long)res.achieved, (unsigned long long)header->n_difficulty);
done:
    mpz_clears(start, adder, end, gap, log, num, l112, merit, mgd, NULL);
    if (out)
        *out = res;
    return rc;
}

int icms_gapcoin_header_verify(const uint8_t *bytes, size_t bytes_len,
                               icms_gapcoin_header *header_out, icms_gapcoin_pow *pow_out)
{
    icms_gapcoin_header h;
    if (pow_out)
        memset(pow_out, 0, sizeof *pow_out);
    int rc = icms_gapcoin_header_decode(bytes, bytes_len, &h);
    if (rc != 0)
        return rc;
    if (header_out)
        *header_out = h;
    return icms_gapcoin_pow_check(&h, pow_out);
}
