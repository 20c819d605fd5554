/*
 * How fast the pure rules are, so the application layer knows they cost
 * nothing beside a store commit: `icms_domain_bench [iterations]`.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/core.h"
#include "domain/domain.h"

static double seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void report(const char *what, long n, double t, int64_t sink)
{
    printf("%-44s %10.0f /s  (%ld in %.3f s; check %" PRId64 ")\n", what, (double)n / t, n, t,
           sink);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 2000000;
    if (n < 1)
        n = 1;
    int64_t sink = 0;

    icms__project_facts f = {.now_ms = 10,
                             .deadline_ms = 100,
                             .target = 1000,
                             .funded = 1000,
                             .product_count = 3,
                             .approved_participations = 2};
    double t0 = seconds();
    for (long i = 0; i < n; i++) {
        icms__project_decision d;
        int rc = icms__project_decide((icms_project_state_t)(i % ICMS_PROJECT_STATE_COUNT),
                                      ICMS__PROJECT_CANCEL, ICMS__PARTY_ADMIN, &f, &d);
        sink += rc == ICMS_OK ? (int64_t)d.to : (int64_t)rc;
    }
    report("project decide (cancel, all states)", n, seconds() - t0, sink);

    t0 = seconds();
    sink = 0;
    for (long i = 0; i < n; i++) {
        icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
        size_t k = 0;
        f.funded = 1000 - (i & 1);
        if (icms__project_settle(ICMS_PROJECT_FUNDING, &f, steps, &k) == ICMS_OK)
            sink += (int64_t)k;
    }
    report("project settle (FUNDING, half reach target)", n, seconds() - t0, sink);

    icms__catalog_line lines[20];
    for (int i = 0; i < 20; i++)
        lines[i] = (icms__catalog_line){1000 + i * 37, 250000 + i * 9999};
    icms__shipping_costs c = {987654321, 12345678, 999, 4242, 7};
    long plans = n / 20 > 0 ? n / 20 : 1;
    t0 = seconds();
    sink = 0;
    for (long i = 0; i < plans; i++) {
        icms__landed_plan *plan = NULL;
        if (icms__landed_plan_new(lines, 20, &c, &plan) == ICMS_OK)
            sink += plan->lines[i % 20].shipping;
        icms__landed_plan_free(plan);
    }
    report("landed plan, 20 products", plans, seconds() - t0, sink);

    icms__landed_plan *plan = NULL;
    if (icms__landed_plan_new(lines, 20, &c, &plan) != ICMS_OK)
        return 1;
    t0 = seconds();
    sink = 0;
    for (long i = 0; i < n; i++) {
        icms__unit_take take[3] = {{(size_t)(i % 20), i % 500, 1 + i % 400},
                                   {(size_t)((i + 7) % 20), 3, 17},
                                   {(size_t)((i + 13) % 20), 0, 1000}};
        int64_t v;
        if (icms__products_commitment(plan, take, 3, &v) == ICMS_OK)
            sink += v & 0xFF;
    }
    report("PRODUCTS commitment, 3 lines", n, seconds() - t0, sink);
    icms__landed_plan_free(plan);

    int64_t w[100], shares[100];
    for (int i = 0; i < 100; i++)
        w[i] = 100000000 + i * 7919;
    long dists = n / 100 > 0 ? n / 100 : 1;
    t0 = seconds();
    sink = 0;
    for (long i = 0; i < dists; i++)
        if (icms__distribute(INT64_MAX / 3 - i, w, 100, shares) == ICMS_OK)
            sink += shares[i % 100] & 0xFF;
    report("largest-remainder distribution, 100 parties", dists, seconds() - t0, sink);
    return 0;
}
