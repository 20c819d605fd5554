/*
 * icms__int64_text against snprintf("%lld"): every value near the edges
 * (0, each power of ten, INT64_MIN/MAX), and many random ones.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/int_text.h"

/* Fewer under valgrind, which runs them slowly. */
static int64_t scaled(int64_t n)
{
    return getenv("ICMS_VALGRIND") ? n / 50 : n;
}

static void check(int64_t v)
{
    char want[32], got[ICMS__INT64_TEXT_SIZE + 8];
    int n = snprintf(want, sizeof want, "%lld", (long long)v);
    memset(got, 'x', sizeof got);
    size_t len = icms__int64_text(v, got);
    assert_int_equal(len, (size_t)n);
    assert_string_equal(got, want);
    assert_true(len < ICMS__INT64_TEXT_SIZE);
    assert_int_equal(got[ICMS__INT64_TEXT_SIZE], 'x'); /* nothing written past the size */
}

static void test_edges(void **state)
{
    (void)state;
    for (int64_t v = -scaled(100000); v <= scaled(100000); v++)
        check(v);
    for (int64_t i = 0; i < scaled(100000); i++) {
        check(INT64_MIN + i);
        check(INT64_MAX - i);
    }
    /* Around every power of ten, both signs: where the digit count changes. */
    int64_t p = 1;
    for (int k = 0; k <= 18; k++) {
        for (int64_t d = -3; d <= 3; d++) {
            check(p + d);
            check(-(p + d));
        }
        if (k < 18)
            p *= 10;
    }
    char text[ICMS__INT64_TEXT_SIZE];
    assert_int_equal(icms__int64_text(INT64_MIN, text), 20);
    assert_string_equal(text, "-9223372036854775808");
    assert_int_equal(icms__int64_text(0, text), 1);
    assert_string_equal(text, "0");
}

/* splitmix64: a fixed sequence, so a failure repeats. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void test_random(void **state)
{
    (void)state;
    uint64_t seed = 20261126;
    for (int64_t i = 0; i < scaled(1000000); i++) {
        uint64_t r = next(&seed);
        check((int64_t)r);
        check((int64_t)(r >> (r % 64))); /* short values too, not only 19-digit ones */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edges),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
