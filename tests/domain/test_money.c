/*
 * The money arithmetic, checked against exact big-integer arithmetic (GMP)
 * over thousands of random catalogs from a seeded PRNG (set ICMS_TEST_SEED to
 * replay one): sums exact to the base unit, the fairness bounds of
 * docs/domain.md, overflow reported rather than wrapped.
 */
#include "support/test_support.h"

#include <gmp.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "domain/money.h"
#include "icms/gapcoin.h"
#include "domain/wide.h"

_Static_assert(sizeof(long) == 8, "these tests pass int64 through mpz_set_si");

/* splitmix64: small, seedable, good enough to spread test cases. */
static uint64_t rng_state;
static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
/* Uniform in [0, n) for n >= 1 (modulo bias is harmless here). */
static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}
/* A value of a random magnitude in [0, 2^bits). */
static uint64_t bits_value(unsigned bits)
{
    if (bits == 0)
        return 0;
    uint64_t v = rnd();
    return bits >= 64 ? v : v & ((UINT64_C(1) << bits) - 1);
}

/* Loop counts, cut by 5 under valgrind (ICMS_VALGRIND=1): same assertions, fewer cases. */
static int scaled(int n)
{
    return getenv("ICMS_VALGRIND") ? n / 5 : n;
}

static int seed_rng(void **state)
{
    (void)state;
    const char *env = getenv("ICMS_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : UINT64_C(0x1C05D0A1);
    rng_state = seed;
    print_message("money tests: seed 0x%" PRIx64 "\n", seed);
    return 0;
}

static void z_i64(mpz_t z, int64_t v)
{
    mpz_set_si(z, (long)v);
}

/* ---- a * b / d ---- */

static void test_muldiv(void **state)
{
    (void)state;
    uint64_t q = 7, r = 7;
    assert_false(icms__muldiv_u64(1, 1, 0, &q, &r));
    assert_false(icms__muldiv_u64_portable(1, 1, 0, &q, &r));
    assert_false(icms__muldiv_u64(UINT64_MAX, 2, 1, &q, &r));
    assert_false(icms__muldiv_u64_portable(UINT64_MAX, 2, 1, &q, &r));
    assert_int_equal(q, 7); /* untouched on failure */
    assert_true(icms__muldiv_u64_portable(UINT64_MAX, UINT64_MAX, UINT64_MAX, &q, &r));
    assert_true(q == UINT64_MAX && r == 0);
    assert_true(icms__muldiv_u64_portable(UINT64_MAX, UINT64_MAX - 1, UINT64_MAX, &q, &r));
    assert_true(q == UINT64_MAX - 1 && r == 0);

    mpz_t a, b, d, p, zq, zr;
    mpz_inits(a, b, d, p, zq, zr, NULL);
    for (int i = 0; i < scaled(200000); i++) {
        uint64_t x = bits_value((unsigned)below(65)), y = bits_value((unsigned)below(65));
        uint64_t m = bits_value((unsigned)below(65));
        mpz_set_ui(a, x);
        mpz_set_ui(b, y);
        mpz_set_ui(d, m);
        mpz_mul(p, a, b);
        int fits = 0;
        if (m != 0) {
            mpz_fdiv_qr(zq, zr, p, d);
            fits = mpz_sizeinbase(zq, 2) <= 64;
        }
        uint64_t q1 = 0, r1 = 0, q2 = 0, r2 = 0;
        bool ok1 = icms__muldiv_u64(x, y, m, &q1, &r1);
        bool ok2 = icms__muldiv_u64_portable(x, y, m, &q2, &r2);
        assert_int_equal(ok1, fits);
        assert_int_equal(ok2, fits);
        if (fits) {
            assert_true(q1 == mpz_get_ui(zq) && r1 == mpz_get_ui(zr));
            assert_true(q2 == q1 && r2 == r1);
        }
    }
    mpz_clears(a, b, d, p, zq, zr, NULL);
}

/* ---- goods, shipping, target ---- */

static void test_target_basics(void **state)
{
    (void)state;
    icms__catalog_line lines[] = {{10, 250}, {3, 1000}};
    icms__shipping_costs costs = {100, 20, 3, 4, 5};
    int64_t v = -1;
    assert_icms_ok(icms__goods_value(lines, 2, &v));
    assert_int_equal(v, 5500);
    assert_icms_ok(icms__shipping_total(&costs, &v));
    assert_int_equal(v, 132);
    assert_icms_ok(icms__funding_target(lines, 2, &costs, &v));
    assert_int_equal(v, 5632);
    assert_icms_ok(icms__funding_target(lines, 2, NULL, &v));
    assert_int_equal(v, 5500);
    assert_icms_ok(icms__funding_target(NULL, 0, &costs, &v));
    assert_int_equal(v, 132);
    /* A project asks for at most all the money there is: its owner is paid it in one transaction. */
    assert_icms_ok(icms__funding_target_payable(ICMS_GAPCOIN_MAX_MONEY));
    assert_icms_ok(icms__funding_target_payable(0));
    assert_int_equal(icms__funding_target_payable(ICMS_GAPCOIN_MAX_MONEY + 1), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "whole supply"));

    /* Bad input: refused, out untouched. */
    v = 42;
    icms__catalog_line zero_q[] = {{0, 5}}, zero_p[] = {{5, 0}}, neg[] = {{-1, 5}};
    assert_int_equal(icms__goods_value(zero_q, 1, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "quantity"));
    assert_int_equal(icms__goods_value(zero_p, 1, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "unit price"));
    assert_int_equal(icms__goods_value(neg, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__goods_value(NULL, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__goods_value(lines, 2, NULL), ICMS_EINVALID);
    icms__shipping_costs bad = {1, 2, -3, 4, 5};
    assert_int_equal(icms__shipping_total(&bad, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "layovers"));
    assert_int_equal(icms__shipping_total(NULL, &v), ICMS_EINVALID);
    assert_int_equal(icms__funding_target(lines, 2, &bad, &v), ICMS_EINVALID);
    assert_int_equal(icms__funding_target(lines, 2, &costs, NULL), ICMS_EINVALID);
    assert_int_equal(v, 42);

    /* Overflow at every step is an error, never a wrapped value. */
    icms__catalog_line big[] = {{INT64_MAX, 2}};
    assert_int_equal(icms__goods_value(big, 1, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "overflows"));
    icms__catalog_line two[] = {{INT64_MAX / 2 + 1, 1}, {INT64_MAX / 2 + 1, 1}};
    assert_int_equal(icms__goods_value(two, 2, &v), ICMS_EINVALID);
    icms__shipping_costs huge = {INT64_MAX, 0, 0, 0, 1};
    assert_int_equal(icms__shipping_total(&huge, &v), ICMS_EINVALID);
    icms__catalog_line one[] = {{1, INT64_MAX}};
    icms__shipping_costs little = {0, 0, 0, 0, 1};
    assert_int_equal(icms__funding_target(one, 1, &little, &v), ICMS_EINVALID);
    assert_icms_ok(icms__funding_target(one, 1, NULL, &v));
    assert_int_equal(v, INT64_MAX);
    assert_int_equal(v, INT64_MAX);
}

/* Random catalogs whose exact sums may or may not fit: the result is exact or an error. */
static void test_target_random_overflow(void **state)
{
    (void)state;
    mpz_t sum, t, lim;
    mpz_inits(sum, t, lim, NULL);
    mpz_set_si(lim, INT64_MAX);
    size_t fits = 0, overflows = 0;
    const int iterations = scaled(20000);
    for (int iter = 0; iter < iterations; iter++) {
        icms__catalog_line lines[6];
        size_t n = 1 + below(6);
        mpz_set_ui(sum, 0);
        for (size_t i = 0; i < n; i++) {
            /* Magnitudes chosen so that the product sits near 2^63, on either side. */
            unsigned bq = 1 + (unsigned)below(62), bp = 1 + (unsigned)below(64 - bq);
            if (bp > 63)
                bp = 63;
            if (below(2) && bq + bp > 62)
                bp = 62 - bq > 0 ? 62 - bq : 1;
            lines[i].quantity = (int64_t)(bits_value(bq) | (UINT64_C(1) << (bq - 1)));
            lines[i].unit_price = (int64_t)(bits_value(bp) | (UINT64_C(1) << (bp - 1)));
            z_i64(t, lines[i].quantity);
            mpz_mul_si(t, t, (long)lines[i].unit_price);
            mpz_add(sum, sum, t);
        }
        icms__shipping_costs c = {(int64_t)bits_value((unsigned)below(63)),
                                  (int64_t)bits_value((unsigned)below(63)), 0, 0,
                                  (int64_t)bits_value((unsigned)below(63))};
        mpz_add_ui(sum, sum, (unsigned long)c.freight);
        mpz_add_ui(sum, sum, (unsigned long)c.transport);
        mpz_add_ui(sum, sum, (unsigned long)c.other);
        int64_t got = -7;
        int rc = icms__funding_target(lines, n, &c, &got);
        if (mpz_cmp(sum, lim) <= 0) {
            assert_icms_ok(rc);
            assert_true(mpz_cmp_si(sum, (long)got) == 0);
            fits++;
        } else {
            assert_int_equal(rc, ICMS_EINVALID);
            assert_int_equal(got, -7);
            overflows++;
        }
    }
    print_message("target: %zu fit, %zu overflow\n", fits, overflows);
    /* Both sides of the limit are well represented (about 9:1). */
    assert_true(fits > (size_t)iterations / 2 && overflows > (size_t)iterations / 40);
    mpz_clears(sum, t, lim, NULL);
}

/* ---- largest-remainder distribution ---- */

/* Check shares against exact arithmetic: sum, floor-or-ceiling, and the tie-break order. */
static void check_distribution(int64_t total, const int64_t *w, size_t n, const int64_t *shares)
{
    mpz_t W, num, fl, rem_i, rem_j, sum;
    mpz_inits(W, num, fl, rem_i, rem_j, sum, NULL);
    mpz_set_ui(W, 0);
    for (size_t i = 0; i < n; i++)
        mpz_add_ui(W, W, (unsigned long)w[i]);
    mpz_set_ui(sum, 0);
    int *extra = calloc(n, sizeof *extra);
    assert_non_null(extra);
    for (size_t i = 0; i < n; i++) {
        mpz_set_si(num, (long)total);
        mpz_mul_ui(num, num, (unsigned long)w[i]);
        mpz_fdiv_q(fl, num, W);
        mpz_add_ui(sum, sum, (unsigned long)shares[i]);
        /* Every share is the exact share rounded down, or up by one unit. */
        if (mpz_cmp_si(fl, (long)shares[i]) == 0)
            extra[i] = 0;
        else {
            mpz_add_ui(fl, fl, 1);
            assert_true(mpz_cmp_si(fl, (long)shares[i]) == 0);
            extra[i] = 1;
            /* ...and only when the exact share is not already whole. */
            mpz_fdiv_r(rem_i, num, W);
            assert_true(mpz_sgn(rem_i) > 0);
        }
    }
    assert_true(mpz_cmp_si(sum, (long)total) == 0);
    /* Anyone who got the extra unit ranks before anyone who did not. */
    for (size_t i = 0; i < n; i++) {
        if (!extra[i])
            continue;
        mpz_set_si(num, (long)total);
        mpz_mul_ui(num, num, (unsigned long)w[i]);
        mpz_fdiv_r(rem_i, num, W);
        for (size_t j = 0; j < n; j++) {
            if (extra[j])
                continue;
            mpz_set_si(num, (long)total);
            mpz_mul_ui(num, num, (unsigned long)w[j]);
            mpz_fdiv_r(rem_j, num, W);
            int c = mpz_cmp(rem_i, rem_j);
            assert_true(c > 0 || (c == 0 && i < j));
        }
    }
    free(extra);
    mpz_clears(W, num, fl, rem_i, rem_j, sum, NULL);
}

static void test_distribute_examples(void **state)
{
    (void)state;
    int64_t s[4];
    const int64_t thirds[] = {1, 1, 1};
    assert_icms_ok(icms__distribute(100, thirds, 3, s));
    assert_int_equal(s[0], 34); /* the tie goes to the first participant */
    assert_int_equal(s[1], 33);
    assert_int_equal(s[2], 33);
    const int64_t w[] = {500, 300, 0, 200};
    assert_icms_ok(icms__distribute(7, w, 4, s));
    /* Exact 3.5, 2.1, 0, 1.4: floors 3, 2, 0, 1; one left goes to the .5. */
    assert_int_equal(s[0], 4);
    assert_int_equal(s[1], 2);
    assert_int_equal(s[2], 0);
    assert_int_equal(s[3], 1);
    assert_icms_ok(icms__distribute(0, w, 4, s));
    for (int i = 0; i < 4; i++)
        assert_int_equal(s[i], 0);
    const int64_t maxw[] = {INT64_MAX};
    assert_icms_ok(icms__distribute(INT64_MAX, maxw, 1, s));
    assert_int_equal(s[0], INT64_MAX);
}

static void test_distribute_refuses(void **state)
{
    (void)state;
    int64_t s[2] = {-9, -9};
    const int64_t zero[] = {0, 0}, neg[] = {5, -1}, over[] = {INT64_MAX, 1}, ok[] = {1, 2};
    assert_int_equal(icms__distribute(10, zero, 2, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(10, neg, 2, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(10, over, 2, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(-1, ok, 2, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(10, ok, 0, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(10, NULL, 2, s), ICMS_EINVALID);
    assert_int_equal(icms__distribute(10, ok, 2, NULL), ICMS_EINVALID);
    for (long k = 1; k <= 2; k++) {
        icms__alloc_fail_after(k);
        assert_int_equal(icms__distribute(10, ok, 2, s), ICMS_ENOMEM);
        icms__alloc_fail_after(0);
    }
    assert_int_equal(s[0], -9);
    assert_int_equal(s[1], -9);
}

static void test_distribute_random(void **state)
{
    (void)state;
    int64_t w[40], s[40];
    for (int iter = 0; iter < scaled(5000); iter++) {
        size_t n = 1 + below(iter % 10 == 0 ? 40 : 8);
        unsigned wb = (unsigned)below(58); /* 40 weights below 2^57 sum below 2^63 */
        for (size_t i = 0; i < n; i++)
            w[i] = (int64_t)bits_value(wb);
        /* Many ties: sometimes copy weights around. */
        if (iter % 3 == 0)
            for (size_t i = 1; i < n; i += 2)
                w[i] = w[i - 1];
        w[below(n)] |= 1; /* weights never all zero */
        int64_t total = (int64_t)bits_value((unsigned)below(64)) & INT64_MAX;
        assert_icms_ok(icms__distribute(total, w, n, s));
        check_distribution(total, w, n, s);
    }
}

/* ---- landed costs ---- */

/* A random catalog that fits, with shipping filling a random part of the headroom. */
static size_t random_catalog(icms__catalog_line *lines, size_t cap, icms__shipping_costs *c)
{
    size_t n = 1 + below(cap);
    unsigned budget = 60; /* each product's value < 2^60, and n <= 8: goods < 2^63 */
    int64_t goods = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned regime = (unsigned)below(4);
        unsigned bq, bp;
        if (regime == 0) { /* small everything */
            bq = (unsigned)below(8);
            bp = (unsigned)below(12);
        } else if (regime == 1) { /* many cheap units */
            bq = (unsigned)below(budget);
            bp = (unsigned)below(budget - bq + 1);
        } else if (regime == 2) { /* few dear units */
            bp = (unsigned)below(budget);
            bq = (unsigned)below(budget - bp + 1);
        } else { /* one unit */
            bq = 0;
            bp = (unsigned)below(budget + 1);
        }
        lines[i].quantity = (int64_t)(bits_value(bq) | 1);
        lines[i].unit_price = (int64_t)(bits_value(bp) | 1);
        goods += lines[i].quantity * lines[i].unit_price;
    }
    uint64_t headroom = (uint64_t)(INT64_MAX - goods);
    uint64_t s;
    switch (below(5)) {
    case 0:
        s = 0;
        break;
    case 1:
        s = headroom; /* target == INT64_MAX */
        break;
    default:
        s = below(headroom < 2 ? headroom + 1 : (bits_value((unsigned)below(64)) % headroom) + 1);
    }
    /* Split s over the five kinds of cost. */
    int64_t parts[5];
    uint64_t left = s;
    for (int k = 0; k < 4; k++) {
        parts[k] = (int64_t)below(left + 1 == 0 ? left : left + 1);
        left -= (uint64_t)parts[k];
    }
    parts[4] = (int64_t)left;
    *c = (icms__shipping_costs){parts[0], parts[1], parts[2], parts[3], parts[4]};
    return n;
}

/* |got * G - k * S * p| < bound * G, i.e. got is within `bound` (exclusive) of k * S * p / G. */
static int within(int64_t got, int64_t k, const icms__landed_plan *plan, size_t i, long bound)
{
    mpz_t lhs, rhs;
    mpz_inits(lhs, rhs, NULL);
    z_i64(lhs, got);
    mpz_mul_si(lhs, lhs, (long)plan->goods);
    z_i64(rhs, k);
    mpz_mul_si(rhs, rhs, (long)plan->shipping);
    mpz_mul_si(rhs, rhs, (long)plan->lines[i].unit_price);
    mpz_sub(lhs, lhs, rhs);
    mpz_abs(lhs, lhs);
    z_i64(rhs, plan->goods);
    mpz_mul_si(rhs, rhs, bound);
    int ok = mpz_cmp(lhs, rhs) < 0;
    mpz_clears(lhs, rhs, NULL);
    return ok;
}

/* The exact per-unit share S * p / G rounded down and up. */
static void unit_bounds(const icms__landed_plan *plan, size_t i, mpz_t lo, mpz_t hi)
{
    mpz_t num, G;
    mpz_inits(num, G, NULL);
    z_i64(num, plan->shipping);
    mpz_mul_si(num, num, (long)plan->lines[i].unit_price);
    z_i64(G, plan->goods);
    mpz_fdiv_q(lo, num, G);
    mpz_cdiv_q(hi, num, G);
    mpz_clears(num, G, NULL);
}

static void test_landed_random_catalogs(void **state)
{
    (void)state;
    mpz_t lo, hi, sum;
    mpz_inits(lo, hi, sum, NULL);
    icms__catalog_line lines[8];
    int64_t values[8], shares[8];
    size_t catalogs = 0, runs = 0, units = 0;
    for (int iter = 0; iter < scaled(4000); iter++) {
        icms__shipping_costs c;
        size_t n = random_catalog(lines, 8, &c);
        icms__landed_plan *plan = NULL;
        assert_icms_ok(icms__landed_plan_new(lines, n, &c, &plan));
        catalogs++;

        int64_t target;
        assert_icms_ok(icms__funding_target(lines, n, &c, &target));
        assert_int_equal(plan->target, target);
        assert_int_equal(plan->goods + plan->shipping, target);

        /* Product shares are the distribution of shipping by goods value. */
        for (size_t i = 0; i < n; i++)
            values[i] = lines[i].quantity * lines[i].unit_price;
        assert_icms_ok(icms__distribute(plan->shipping, values, n, shares));
        for (size_t i = 0; i < n; i++)
            assert_int_equal(plan->lines[i].shipping, shares[i]);

        /* Every unit of every product costs exactly the target... */
        mpz_set_ui(sum, 0);
        for (size_t i = 0; i < n; i++) {
            int64_t cost;
            assert_icms_ok(icms__landed_cost(plan, i, 0, lines[i].quantity, &cost));
            mpz_add_ui(sum, sum, (unsigned long)cost);
            int64_t ship;
            assert_icms_ok(icms__landed_shipping(plan, i, 0, lines[i].quantity, &ship));
            assert_true(within(ship, lines[i].quantity, plan, i, 1));
        }
        assert_true(mpz_cmp_si(sum, (long)target) == 0);

        /* ...and so does any split of each product into consecutive runs. */
        mpz_set_ui(sum, 0);
        for (size_t i = 0; i < n; i++) {
            int64_t q = lines[i].quantity, at = 0;
            while (at < q) {
                int64_t k = below(3) == 0 ? q - at : 1 + (int64_t)below((uint64_t)(q - at));
                int64_t cost, ship;
                assert_icms_ok(icms__landed_cost(plan, i, at, k, &cost));
                assert_icms_ok(icms__landed_shipping(plan, i, at, k, &ship));
                assert_int_equal(cost - ship, k * lines[i].unit_price);
                /* A run's shipping is within 2 units of its exact share. */
                assert_true(within(ship, k, plan, i, 2));
                /* Wherever the run falls, its price moves by at most one unit. */
                int64_t other_at = (int64_t)below((uint64_t)(q - k + 1)), other;
                assert_icms_ok(icms__landed_shipping(plan, i, other_at, k, &other));
                assert_true(other - ship <= 1 && ship - other <= 1);
                mpz_add_ui(sum, sum, (unsigned long)cost);
                at += k;
                runs++;
            }
        }
        assert_true(mpz_cmp_si(sum, (long)target) == 0);

        /* Every unit's share is its exact share rounded down or up. */
        for (size_t i = 0; i < n; i++) {
            unit_bounds(plan, i, lo, hi);
            int64_t q = lines[i].quantity;
            int64_t picks[4] = {0, q - 1, (int64_t)below((uint64_t)q), (int64_t)below((uint64_t)q)};
            for (int k = 0; k < 4; k++) {
                int64_t ship;
                assert_icms_ok(icms__landed_shipping(plan, i, picks[k], 1, &ship));
                assert_true(mpz_cmp_si(lo, (long)ship) <= 0 && mpz_cmp_si(hi, (long)ship) >= 0);
                units++;
            }
        }

        /* A multi-product request costs the sum of its lines. */
        icms__unit_take takes[8];
        size_t nt = 0;
        int64_t want = 0;
        for (size_t i = 0; i < n; i++) {
            if (below(2))
                continue;
            int64_t q = lines[i].quantity;
            int64_t before = (int64_t)below((uint64_t)q);
            int64_t k = 1 + (int64_t)below((uint64_t)(q - before));
            takes[nt++] = (icms__unit_take){i, before, k};
            int64_t cost;
            assert_icms_ok(icms__landed_cost(plan, i, before, k, &cost));
            want += cost; /* disjoint parts of the catalog: cannot overflow */
        }
        if (nt > 0) {
            int64_t got;
            assert_icms_ok(icms__products_commitment(plan, takes, nt, &got));
            assert_int_equal(got, want);
        }
        icms__landed_plan_free(plan);
    }
    print_message("landed: %zu catalogs, %zu runs, %zu single units checked\n", catalogs, runs,
                  units);
    mpz_clears(lo, hi, sum, NULL);
}

static void test_landed_worked_example(void **state)
{
    (void)state;
    /* The example of docs/domain.md: 3 units at 1000 and 2 units at 2500; shipping 1001. */
    icms__catalog_line lines[] = {{3, 1000}, {2, 2500}};
    icms__shipping_costs c = {600, 300, 0, 100, 1};
    icms__landed_plan *plan = NULL;
    assert_icms_ok(icms__landed_plan_new(lines, 2, &c, &plan));
    assert_int_equal(plan->goods, 8000);
    assert_int_equal(plan->shipping, 1001);
    assert_int_equal(plan->target, 9001);
    /* Exact shares 375.375 and 625.625: floors 375 + 625 = 1000, the extra unit to .625. */
    assert_int_equal(plan->lines[0].shipping, 375);
    assert_int_equal(plan->lines[1].shipping, 626);
    /* Product 0's units carry 125 each; product 1's carry 313 each. */
    int64_t v;
    for (int64_t m = 0; m < 3; m++) {
        assert_icms_ok(icms__landed_cost(plan, 0, m, 1, &v));
        assert_int_equal(v, 1125);
    }
    for (int64_t m = 0; m < 2; m++) {
        assert_icms_ok(icms__landed_cost(plan, 1, m, 1, &v));
        assert_int_equal(v, 2813);
    }
    /* An investor takes 2 of product 0 and 1 of product 1 first, another the rest. */
    icms__unit_take a[] = {{0, 0, 2}, {1, 0, 1}};
    icms__unit_take b[] = {{0, 2, 1}, {1, 1, 1}};
    int64_t ca, cb;
    assert_icms_ok(icms__products_commitment(plan, a, 2, &ca));
    assert_icms_ok(icms__products_commitment(plan, b, 2, &cb));
    assert_int_equal(ca, 2250 + 2813);
    assert_int_equal(cb, 1125 + 2813);
    assert_int_equal(ca + cb, 9001);
    icms__landed_plan_free(plan);

    /* Uneven within a product: 3 units sharing 1 unit of shipping. */
    icms__catalog_line one[] = {{3, 10}};
    icms__shipping_costs s1 = {1, 0, 0, 0, 0};
    assert_icms_ok(icms__landed_plan_new(one, 1, &s1, &plan));
    int64_t u[3];
    for (int64_t m = 0; m < 3; m++)
        assert_icms_ok(icms__landed_shipping(plan, 0, m, 1, &u[m]));
    assert_int_equal(u[0] + u[1] + u[2], 1);
    assert_int_equal(u[2], 1); /* floor(3*1/3) - floor(2*1/3) */
    icms__landed_plan_free(plan);
}

static void test_landed_edges(void **state)
{
    (void)state;
    icms__landed_plan *plan = NULL;
    int64_t v = -5;
    /* Zero shipping: landed cost is the goods value. */
    icms__catalog_line lines[] = {{4, 7}, {1, 9}};
    assert_icms_ok(icms__landed_plan_new(lines, 2, NULL, &plan));
    assert_int_equal(plan->shipping, 0);
    assert_icms_ok(icms__landed_cost(plan, 0, 1, 3, &v));
    assert_int_equal(v, 21);
    assert_icms_ok(icms__landed_shipping(plan, 1, 0, 1, &v));
    assert_int_equal(v, 0);

    /* Refusals: out stays untouched. */
    v = -5;
    assert_int_equal(icms__landed_cost(plan, 2, 0, 1, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "not in the catalog"));
    assert_int_equal(icms__landed_cost(plan, 0, 0, 0, &v), ICMS_EINVALID);
    assert_int_equal(icms__landed_cost(plan, 0, -1, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__landed_cost(plan, 0, 2, 3, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "exceed the 4 offered"));
    assert_int_equal(icms__landed_cost(plan, 0, 5, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__landed_cost(plan, 0, 1, INT64_MAX, &v), ICMS_EINVALID);
    assert_int_equal(icms__landed_cost(NULL, 0, 0, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__landed_cost(plan, 0, 0, 1, NULL), ICMS_EINVALID);
    assert_int_equal(icms__landed_shipping(plan, 0, 0, 1, NULL), ICMS_EINVALID);
    assert_int_equal(v, -5);
    icms__unit_take dup[] = {{0, 0, 1}, {0, 1, 1}};
    assert_int_equal(icms__products_commitment(plan, dup, 2, &v), ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "twice"));
    assert_int_equal(icms__products_commitment(plan, dup, 0, &v), ICMS_EINVALID);
    assert_int_equal(icms__products_commitment(plan, NULL, 1, &v), ICMS_EINVALID);
    assert_int_equal(icms__products_commitment(NULL, dup, 1, &v), ICMS_EINVALID);
    icms__unit_take badrun[] = {{1, 0, 2}};
    assert_int_equal(icms__products_commitment(plan, badrun, 1, &v), ICMS_EINVALID);
    assert_int_equal(v, -5);
    icms__landed_plan_free(plan);
    icms__landed_plan_free(NULL);

    /* One unit: it costs the whole target. */
    icms__catalog_line single[] = {{1, INT64_MAX - 10}};
    icms__shipping_costs ten = {2, 2, 2, 2, 2};
    assert_icms_ok(icms__landed_plan_new(single, 1, &ten, &plan));
    assert_icms_ok(icms__landed_cost(plan, 0, 0, 1, &v));
    assert_int_equal(v, INT64_MAX);
    icms__landed_plan_free(plan);

    /* Catalogs that cannot be planned. */
    plan = (icms__landed_plan *)(uintptr_t)1;
    icms__landed_plan *const sentinel = plan;
    assert_int_equal(icms__landed_plan_new(lines, 0, NULL, &plan), ICMS_EINVALID);
    assert_int_equal(icms__landed_plan_new(NULL, 2, NULL, &plan), ICMS_EINVALID);
    assert_int_equal(
        icms__landed_plan_new(single, 1, &(icms__shipping_costs){11, 0, 0, 0, 0}, &plan),
        ICMS_EINVALID);
    icms__catalog_line over[] = {{3, INT64_MAX / 2}};
    assert_int_equal(icms__landed_plan_new(over, 1, NULL, &plan), ICMS_EINVALID);
    icms__catalog_line bad[] = {{1, 1}, {0, 1}};
    assert_int_equal(icms__landed_plan_new(bad, 2, NULL, &plan), ICMS_EINVALID);
    assert_int_equal(icms__landed_plan_new(lines, 2, NULL, NULL), ICMS_EINVALID);
    assert_ptr_equal(plan, sentinel);

    /* Every allocation failure is reported and leaks nothing. */
    long k = 1;
    for (;; k++) {
        icms__alloc_fail_after(k);
        icms__landed_plan *p = NULL;
        int rc = icms__landed_plan_new(lines, 2, &ten, &p);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK) {
            icms__landed_plan_free(p);
            break;
        }
        assert_int_equal(rc, ICMS_ENOMEM);
        assert_null(p);
    }
    assert_true(k > 3); /* the plan, its scratch, and the distribution's scratch */
}

/* ---- caps ---- */

static void test_caps(void **state)
{
    (void)state;
    assert_icms_ok(icms__check_target_cap(1000, 600, 400));
    assert_int_equal(icms__check_target_cap(1000, 600, 401), ICMS_ELIMIT);
    assert_string_equal(icms_error_last()->message,
                        "the commitment of 401 exceeds the 400 left under the target by 1");
    assert_int_equal(icms__check_target_cap(1000, 1000, 1), ICMS_ELIMIT);
    assert_icms_ok(icms__check_target_cap(1000, 1000, 0));
    assert_int_equal(icms__check_target_cap(1000, 1200, 1), ICMS_ELIMIT);
    assert_icms_ok(icms__check_target_cap(INT64_MAX, INT64_MAX - 1, 1));
    assert_int_equal(icms__check_target_cap(INT64_MAX, INT64_MAX, INT64_MAX), ICMS_ELIMIT);
    assert_int_equal(icms__check_target_cap(-1, 0, 0), ICMS_EINVALID);
    assert_int_equal(icms__check_target_cap(1, -1, 0), ICMS_EINVALID);
    assert_int_equal(icms__check_target_cap(1, 0, -1), ICMS_EINVALID);

    assert_icms_ok(icms__check_units_cap(10, 4, 6));
    assert_int_equal(icms__check_units_cap(10, 4, 7), ICMS_ELIMIT);
    assert_string_equal(icms_error_last()->message, "7 units asked for, 6 left of 10");
    assert_int_equal(icms__check_units_cap(10, 12, 1), ICMS_ELIMIT);
    assert_int_equal(icms__check_units_cap(10, -1, 1), ICMS_EINVALID);

    assert_icms_ok(icms__check_investor_cap(0, INT64_MAX, INT64_MAX)); /* no cap */
    assert_icms_ok(icms__check_investor_cap(500, 200, 300));
    assert_int_equal(icms__check_investor_cap(500, 200, 301), ICMS_ELIMIT);
    assert_non_null(strstr(icms_error_last()->message, "per-investor cap of 500"));
    assert_int_equal(icms__check_investor_cap(500, 600, 1), ICMS_ELIMIT);
    assert_int_equal(icms__check_investor_cap(-1, 0, 0), ICMS_EINVALID);

    assert_icms_ok(icms__check_profit_ticket(1000, 1000));
    assert_icms_ok(icms__check_profit_ticket(0, 1));
    assert_int_equal(icms__check_profit_ticket(1000, 999), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message,
                        "capital of 999 is below the minimum ticket of 1000");
    assert_int_equal(icms__check_profit_ticket(0, 0), ICMS_EINVALID);
    assert_int_equal(icms__check_profit_ticket(-1, 10), ICMS_EINVALID);

    /* Random caps agree with exact arithmetic, whatever the magnitudes. */
    for (int i = 0; i < scaled(20000); i++) {
        int64_t t = (int64_t)(rnd() >> 1), a = (int64_t)(rnd() >> 1), c = (int64_t)(rnd() >> 1);
        if (below(2))
            a = t - (int64_t)below(1000) > 0 ? t - (int64_t)below(1000) : 0;
        if (below(2))
            c = (int64_t)below(2000);
        mpz_t lhs;
        mpz_init(lhs);
        z_i64(lhs, a);
        mpz_add_ui(lhs, lhs, (unsigned long)c);
        int fits = mpz_cmp_si(lhs, (long)t) <= 0;
        mpz_clear(lhs);
        assert_int_equal(icms__check_target_cap(t, a, c), fits ? ICMS_OK : ICMS_ELIMIT);
        assert_int_equal(icms__check_units_cap(t, a, c), fits ? ICMS_OK : ICMS_ELIMIT);
        /* A cap of 0 means no cap; any other cap is checked like the target. */
        assert_int_equal(icms__check_investor_cap(t, a, c), fits || t == 0 ? ICMS_OK : ICMS_ELIMIT);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_muldiv),
        cmocka_unit_test(test_target_basics),
        cmocka_unit_test(test_target_random_overflow),
        cmocka_unit_test(test_distribute_examples),
        cmocka_unit_test(test_distribute_refuses),
        cmocka_unit_test(test_distribute_random),
        cmocka_unit_test(test_landed_worked_example),
        cmocka_unit_test(test_landed_random_catalogs),
        cmocka_unit_test(test_landed_edges),
        cmocka_unit_test(test_caps),
    };
    return cmocka_run_group_tests(tests, seed_rng, NULL);
}
