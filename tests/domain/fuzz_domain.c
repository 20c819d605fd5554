/*
 * Arbitrary bytes as states, actions, parties, viewers, facts, catalogs and amounts:
 * the rules must answer every question with one of their documented codes,
 * never crash or overflow, and keep their promises (a granted transition's
 * guards hold; totals are exact). Built two ways:
 *   -DICMS_FUZZ=ON (clang): fuzz_domain_rules, a libFuzzer target;
 *   always: test_domain_fuzz_replay, which feeds it 20,000 seeded random inputs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "domain/domain.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);               \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* Reads values off the input; past its end, zeros. */
struct input {
    const uint8_t *p;
    size_t left;
};

static uint64_t take_u64(struct input *in)
{
    uint64_t v = 0;
    for (int i = 0; i < 8 && in->left > 0; i++, in->left--)
        v = (v << 8) | *in->p++;
    return v;
}

static uint8_t take_u8(struct input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

/* Mostly small numbers around interesting points, sometimes anything. */
static int64_t take_i64(struct input *in)
{
    uint8_t mode = take_u8(in);
    uint64_t raw = take_u64(in);
    switch (mode % 4) {
    case 0:
        return (int64_t)(raw % 64) - 8;
    case 1:
        return (int64_t)(raw % 100000);
    case 2:
        return INT64_MAX - (int64_t)(raw % 16);
    default:
        return (int64_t)raw;
    }
}

static bool documented(int rc)
{
    return rc == ICMS_OK || rc == ICMS_EINVALID || rc == ICMS_EFORBIDDEN ||
           rc == ICMS_EINVALID_TRANSITION;
}

static void fuzz_project(struct input *in)
{
    icms__project_facts f = {take_i64(in), take_i64(in), take_i64(in),   take_i64(in),
                             take_u8(in) % 3, take_u8(in) % 3, take_u8(in) & 1, take_i64(in)};
    int state = (int)(take_u8(in) % (ICMS_PROJECT_STATE_COUNT + 2)) - 1;
    int action = (int)(take_u8(in) % (ICMS__PROJECT_ACTION_COUNT + 2)) - 1;
    unsigned parties = take_u8(in);
    icms__project_decision d;
    int rc = icms__project_decide((icms_project_state_t)state, (icms__project_action_t)action,
                                  parties, &f, &d);
    CHECK(documented(rc));
    if (rc == ICMS_OK) {
        CHECK(d.to >= 0 && d.to < ICMS_PROJECT_STATE_COUNT && d.event != NULL);
        CHECK(f.target >= 0 && f.funded >= 0 && f.grace_ms >= 0);
        if (action == ICMS__PROJECT_PUBLISH)
            CHECK(f.product_count > 0 && f.target > 0 && f.now_ms < f.deadline_ms);
        if (action == ICMS__PROJECT_EXPIRE)
            CHECK(f.now_ms >= f.deadline_ms && f.funded < f.target);
        if (action == ICMS__PROJECT_APPROVE)
            CHECK(f.funded >= f.target && (parties & ICMS__PARTY_ADMIN));
    }
    icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
    size_t n = 0;
    rc = icms__project_settle((icms_project_state_t)state, &f, steps, &n);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID);
    for (size_t i = 0; rc == ICMS_OK && i < n; i++)
        CHECK(steps[i].from == (i == 0 ? (icms_project_state_t)state : steps[i - 1].to));
}

static void fuzz_participation_and_payment(struct input *in)
{
    icms__participation_facts pf = {(icms_project_state_t)(take_u8(in) % 12), take_i64(in),
                                    take_i64(in)};
    icms__participation_decision pd;
    int rc = icms__participation_decide((icms_participation_status_t)(take_u8(in) % 7),
                                        (icms__participation_action_t)(take_u8(in) % 6),
                                        take_u8(in), &pf, &pd);
    CHECK(documented(rc));
    icms__participation_request_facts rf = {pf, take_u8(in) & 1, take_u8(in) & 1,
                                            (icms_kyc_status_t)(take_u8(in) % 5), take_u8(in) & 1};
    rc = icms__participation_check_request(take_u8(in), &rf);
    CHECK(documented(rc) || rc == ICMS_EEXISTS);

    icms__payment_facts yf = {take_i64(in), take_i64(in), take_u8(in) & 1, take_i64(in),
                              take_i64(in), take_i64(in), take_u8(in) & 1};
    icms__payment_decision yd;
    rc = icms__payment_decide((icms_payment_status_t)(take_u8(in) % 9),
                              (icms__payment_action_t)(take_u8(in) % 7), take_u8(in), &yf, &yd);
    CHECK(documented(rc));
    icms__payment_outcome o;
    rc = icms__payment_classify(yf.expected, yf.outstanding, yf.received, yf.late, &o);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID);
    if (rc == ICMS_OK) {
        CHECK(o.credited >= 0 && o.refund_due >= 0 && o.credited + o.refund_due == yf.received);
        CHECK(o.credited <= yf.expected && o.credited <= yf.outstanding);
        CHECK(o.outstanding_after == yf.outstanding - o.credited);
    }
}

static void fuzz_money(struct input *in)
{
    icms__catalog_line lines[6];
    size_t n = take_u8(in) % 7;
    for (size_t i = 0; i < n; i++)
        lines[i] = (icms__catalog_line){take_i64(in), take_i64(in)};
    icms__shipping_costs c = {take_i64(in), take_i64(in), take_i64(in), take_i64(in),
                              take_i64(in)};
    int64_t target = -1;
    int rc_target = icms__funding_target(lines, n, &c, &target);
    CHECK(rc_target == ICMS_OK || rc_target == ICMS_EINVALID);
    icms__landed_plan *plan = NULL;
    int rc = icms__landed_plan_new(lines, n, &c, &plan);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID || rc == ICMS_ENOMEM);
    if (rc == ICMS_OK) {
        CHECK(rc_target == ICMS_OK && plan->target == target);
        __extension__ __int128 sum = 0;
        for (size_t i = 0; i < n; i++) {
            int64_t v;
            CHECK(icms__landed_cost(plan, i, 0, lines[i].quantity, &v) == ICMS_OK);
            sum += v;
        }
        CHECK(sum == target);
        /* An arbitrary run: refused or priced within the target. */
        icms__unit_take t = {take_u8(in) % 8, take_i64(in), take_i64(in)};
        int64_t v = -1;
        rc = icms__products_commitment(plan, &t, 1, &v);
        CHECK(rc == ICMS_OK || rc == ICMS_EINVALID);
        if (rc == ICMS_OK)
            CHECK(v >= t.units && v <= target);
        icms__landed_plan_free(plan);
    } else {
        CHECK(plan == NULL);
    }

    int64_t w[6], shares[6];
    for (size_t i = 0; i < n; i++)
        w[i] = take_i64(in);
    int64_t total = take_i64(in);
    rc = icms__distribute(total, w, n, shares);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID || rc == ICMS_ENOMEM);
    if (rc == ICMS_OK) {
        __extension__ __int128 sum = 0;
        for (size_t i = 0; i < n; i++) {
            CHECK(shares[i] >= 0 && (w[i] != 0 || shares[i] == 0));
            sum += shares[i];
        }
        CHECK(sum == total);
    }
    int64_t a = take_i64(in), b = take_i64(in), d = take_i64(in);
    CHECK(documented(icms__check_target_cap(a, b, d)) || icms__check_target_cap(a, b, d) ==
                                                             ICMS_ELIMIT);
    rc = icms__check_units_cap(a, b, d);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID || rc == ICMS_ELIMIT);
    rc = icms__check_investor_cap(a, b, d);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID || rc == ICMS_ELIMIT);
    rc = icms__check_profit_ticket(a, b);
    CHECK(rc == ICMS_OK || rc == ICMS_EINVALID);
}

static void fuzz_read_rules(struct input *in)
{
    icms__viewer v = {(icms_actor_kind_t)(take_u8(in) % 5), take_u8(in) & 1, take_u8(in),
                      take_u8(in) & 1};
    icms_project_state_t state = (icms_project_state_t)((int)(take_u8(in) % 13) - 1);
    bool seen = icms__project_visible_to(state, &v);
    /* Whoever the public sees, everyone sees; admin rights see everything. */
    CHECK(!icms__project_visible_to(state, NULL) || seen);
    CHECK(!icms__viewer_privileged(&v) || seen);
    CHECK(!v.anonymous || seen == icms__project_visible_to(state, NULL));
    icms__list_facts f = {v, take_u8(in) & 1, take_u8(in) & 1, take_u8(in) & 1};
    icms__list_scope_t scope = (icms__list_scope_t)7;
    int rc = icms__list_scope("payment", &f, &scope);
    CHECK(rc == ICMS_OK || rc == ICMS_EFORBIDDEN || rc == ICMS_EINVALID);
    CHECK(rc != ICMS_OK || scope <= ICMS__LIST_OWN);
    CHECK(rc == ICMS_OK || scope == (icms__list_scope_t)7);
    CHECK(!v.anonymous || rc == ICMS_EFORBIDDEN);
    if (rc == ICMS_OK && scope == ICMS__LIST_INVESTOR)
        CHECK(f.investor_is_viewer || icms__viewer_privileged(&v));
    /* Instants near one another, so that every order of now, expires_at and submitted_at occurs. */
    int64_t base = 1767225600000;
    icms__payment_late_facts lf = {(icms_payment_status_t)((int)(take_u8(in) % 10) - 1),
                                   take_u8(in) & 1,
                                   state,
                                   base + take_u8(in) % 4,
                                   base + take_u8(in) % 4,
                                   0};
    unsigned sub = take_u8(in) % 5;
    lf.submitted_at_ms = sub ? base + sub - 1 : 0;
    bool late = icms__payment_is_late(&lf);
    CHECK(!lf.marked_late || late);
    CHECK(!icms__project_ended(state) || late);
    /* The clock: attached (then, or now) at or after expires_at is late; on time only before it. */
    int64_t attached = lf.submitted_at_ms ? lf.submitted_at_ms : lf.now_ms;
    CHECK(attached < lf.expires_at_ms || late);
    CHECK(!late || attached >= lf.expires_at_ms || lf.marked_late ||
          lf.status == ICMS_PAYMENT_EXPIRED || icms__project_ended(state));
    icms__release_list_facts rf = {v, take_u8(in) & 1, take_u8(in) & 1, take_u8(in) & 1,
                                   take_u8(in) & 1};
    scope = (icms__list_scope_t)7;
    rc = icms__release_list_scope(&rf, &scope);
    CHECK(rc == ICMS_OK || rc == ICMS_EFORBIDDEN || rc == ICMS_EINVALID);
    CHECK(rc == ICMS_OK || scope == (icms__list_scope_t)7);
    CHECK(!v.anonymous || rc == ICMS_EFORBIDDEN);
    /* Without admin rights, only the viewer's own. */
    CHECK(rc != ICMS_OK || icms__viewer_privileged(&v) || scope == ICMS__LIST_OWN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    fuzz_project(&in);
    fuzz_participation_and_payment(&in);
    fuzz_money(&in);
    fuzz_read_rules(&in);
    return 0;
}

#ifdef ICMS_FUZZ_REPLAY
/* Without libFuzzer: seeded random inputs, so every build runs the checks above. */
int main(void)
{
    uint64_t s = 0xF0220D0A1u;
    uint8_t buf[512];
    int runs = getenv("ICMS_VALGRIND") ? 4000 : 20000;
    for (int r = 0; r < runs; r++) {
        size_t len = (size_t)(r % (int)sizeof buf);
        for (size_t i = 0; i < len; i++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            buf[i] = (uint8_t)s;
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%d inputs checked\n", runs);
    return 0;
}
#endif
