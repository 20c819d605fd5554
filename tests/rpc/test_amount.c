/* Amounts as decimal text into base units: exact, or refused. */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "icms/rpc.h"

typedef struct {
    const char *text;
    int rc;
    int64_t units;
} amount_case;

static const amount_case CASES[] = {
    /* the shapes nodes print */
    {"0.00000000", 0, 0},
    {"1.50000000", 0, 150000000},
    {"123.45678901", 0, 12345678901}, /* a double gives 12345678900.999998 */
    {"0.00000001", 0, 1},
    {"0.1", 0, 10000000},
    {"0.3", 0, 30000000},
    {"21000000.00000000", 0, 2100000000000000},
    {"-1.50000000", 0, -150000000},
    {"-0", 0, 0},
    {"0", 0, 0},
    {"7", 0, 700000000},
    /* int64 limits, exactly */
    {"92233720368.54775807", 0, INT64_MAX},
    {"-92233720368.54775808", 0, INT64_MIN},
    {"92233720368.54775808", ICMS_EINVALID, 0},
    {"-92233720368.54775809", ICMS_EINVALID, 0},
    {"99999999999999999999", ICMS_EINVALID, 0},
    {"100000000000000000000000000000000000000000000000", ICMS_EINVALID, 0},
    /* exponent forms other JSON writers use */
    {"1e-8", 0, 1},
    {"1E-08", 0, 1},
    {"1.5e2", 0, 15000000000},
    {"2.5E+1", 0, 2500000000},
    {"0e999999", 0, 0},
    {"1e-9", ICMS_EINVALID, 0},
    {"1.5e-8", ICMS_EINVALID, 0},
    {"1e10", 0, INT64_C(1000000000000000000)},
    {"9e10", 0, INT64_C(9000000000000000000)},
    {"1e11", ICMS_EINVALID, 0},
    {"1e12", ICMS_EINVALID, 0},
    {"1e999999999999", ICMS_EINVALID, 0},
    /* more than 8 decimals: refused, even when the extra digits are zero */
    {"0.000000001", ICMS_EINVALID, 0},
    {"1.000000000", ICMS_EINVALID, 0},
    {"0.123456789", ICMS_EINVALID, 0},
    /* not JSON numbers */
    {"", ICMS_EINVALID, 0},
    {"-", ICMS_EINVALID, 0},
    {"+1", ICMS_EINVALID, 0},
    {"01", ICMS_EINVALID, 0},
    {"00.5", ICMS_EINVALID, 0},
    {".5", ICMS_EINVALID, 0},
    {"5.", ICMS_EINVALID, 0},
    {"1.2.3", ICMS_EINVALID, 0},
    {"1e", ICMS_EINVALID, 0},
    {"1e+", ICMS_EINVALID, 0},
    {"0x10", ICMS_EINVALID, 0},
    {" 1", ICMS_EINVALID, 0},
    {"1 ", ICMS_EINVALID, 0},
    {"NaN", ICMS_EINVALID, 0},
    {"Infinity", ICMS_EINVALID, 0},
    {"1,5", ICMS_EINVALID, 0},
    {"--1", ICMS_EINVALID, 0},
};

static void test_amount_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const amount_case *c = &CASES[i];
        int64_t units = 424242;
        int rc = icms_rpc_amount_parse(c->text, strlen(c->text), &units);
        if (rc != c->rc)
            fail_msg("\"%s\": got %d (%s), expected %d", c->text, rc, icms_error_last()->message,
                     c->rc);
        if (rc == 0 && units != c->units)
            fail_msg("\"%s\": got %lld, expected %lld", c->text, (long long)units,
                     (long long)c->units);
        if (rc != 0)
            assert_int_equal(units, 424242); /* untouched on failure */
    }
}

static void test_amount_uses_the_length_not_a_nul(void **state)
{
    (void)state;
    int64_t units = 0;
    assert_icms_ok(icms_rpc_amount_parse("1.5xyz", 3, &units));
    assert_int_equal(units, 150000000);
    assert_icms(ICMS_EINVALID, icms_rpc_amount_parse("1\0" "5", 3, &units));
    assert_icms(ICMS_EINVALID, icms_rpc_amount_parse(NULL, 0, &units));
}

static void test_every_eight_decimal_amount_round_trips(void **state)
{
    (void)state;
    /* Every value with 8 decimals printed as nodes print it parses back to itself. */
    const int64_t samples[] = {0, 1, 9, 10, 99999999, 100000000, 100000001, 2100000000000000,
                               4999999999, 12345678901, INT64_MAX, -1, -100000000, INT64_MIN + 1};
    for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        int64_t v = samples[i];
        char text[48];
        uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        snprintf(text, sizeof text, "%s%llu.%08llu", v < 0 ? "-" : "",
                 (unsigned long long)(mag / 100000000u), (unsigned long long)(mag % 100000000u));
        int64_t back = 0;
        assert_icms_ok(icms_rpc_amount_parse(text, strlen(text), &back));
        assert_int_equal(back, v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amount_table),
        cmocka_unit_test(test_amount_uses_the_length_not_a_nul),
        cmocka_unit_test(test_every_eight_decimal_amount_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
