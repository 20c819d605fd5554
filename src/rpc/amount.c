/*
 * Amounts from a node's JSON, as decimal text, into int64 base units.
 *
 * Nodes print amounts as JSON numbers with 8 decimals ("12.34500000"); read
 * through a double, 0.1 + 0.2 style errors would move real money. The text is
 * parsed digit by digit instead, and anything that is not a whole number of
 * base units, or does not fit int64, is refused rather than rounded.
 */
#include <stdbool.h>
#include <string.h>

#include "core/core.h"
#include "icms/rpc.h"

#define DECIMALS 8
#define MAX_DIGITS 40 /* far beyond int64's 19; longer significant parts cannot fit */
#define MAX_EXPONENT 1000

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

int icms_rpc_amount_parse(const char *text, size_t text_len, int64_t *units)
{
    if (!text || !units)
        return icms__error(ICMS_EINVALID, "amount: NULL argument");
    const char *p = text, *end = text + text_len;
    char digits[MAX_DIGITS];
    size_t nd = 0;   /* significant digits kept (leading zeros dropped) */
    size_t frac = 0; /* digits after the decimal point, as written */
    bool negative = false;

    if (p < end && *p == '-') {
        negative = true;
        p++;
    }
    /* JSON grammar: 0 | [1-9][0-9]*, no '+', no leading zeros, no bare '.' */
    if (p >= end || !is_digit(*p))
        goto bad_syntax;
    if (*p == '0' && p + 1 < end && is_digit(p[1]))
        goto bad_syntax;
    for (; p < end && is_digit(*p); p++) {
        if (nd == 0 && *p == '0')
            continue;
        if (nd == MAX_DIGITS)
            goto out_of_range;
        digits[nd++] = *p;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            goto bad_syntax;
        for (; p < end && is_digit(*p); p++) {
            if (++frac > DECIMALS)
                return icms__error(ICMS_EINVALID,
                                   "amount \"%.*s\" has more than %d decimals",
                                   (int)(text_len > 64 ? 64 : text_len), text,
                                   DECIMALS);
            if (nd == 0 && *p == '0')
                continue;
            if (nd == MAX_DIGITS)
                goto out_of_range;
            digits[nd++] = *p;
        }
    }
    long exp10 = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        bool exp_negative = false;
        if (p < end && (*p == '+' || *p == '-'))
            exp_negative = *p++ == '-';
        if (p >= end || !is_digit(*p))
            goto bad_syntax;
        for (; p < end && is_digit(*p); p++)
            if (exp10 <= MAX_EXPONENT)
                exp10 = exp10 * 10 + (*p - '0');
        if (exp_negative)
            exp10 = -exp10;
    }
    if (p != end)
        goto bad_syntax;
    if (nd == 0) {
        *units = 0;
        return ICMS_OK;
    }
    if (exp10 > MAX_EXPONENT || exp10 < -MAX_EXPONENT)
        goto out_of_range;

    /* value = digits x 10^shift base units */
    long shift = exp10 - (long)frac + DECIMALS;
    while (shift < 0) {
        if (digits[nd - 1] != '0')
            return icms__error(ICMS_EINVALID,
                               "amount \"%.*s\" is not a whole number of base units",
                               (int)text_len, text);
        nd--;
        shift++;
        if (nd == 0) {
            *units = 0;
            return ICMS_OK;
        }
    }
    uint64_t mag = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (size_t i = 0; i < nd; i++) {
        uint64_t d = (uint64_t)(digits[i] - '0');
        if (mag > (limit - d) / 10)
            goto out_of_range;
        mag = mag * 10 + d;
    }
    for (; shift > 0; shift--) {
        if (mag > limit / 10)
            goto out_of_range;
        mag *= 10;
    }
    if (negative)
        *units = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    else
        *units = (int64_t)mag;
    return ICMS_OK;

bad_syntax:
    return icms__error(ICMS_EINVALID, "amount \"%.*s\" is not a JSON number",
                       (int)(text_len > 64 ? 64 : text_len), text);
out_of_range:
    return icms__error(ICMS_EINVALID, "amount \"%.*s\" does not fit a signed 64-bit count of base units",
                       (int)(text_len > 64 ? 64 : text_len), text);
}
