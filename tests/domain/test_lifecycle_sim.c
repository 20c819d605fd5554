/*
 * The domain rules driven the way the application layer drives them, through
 * thousands of random histories (seeded; ICMS_TEST_SEED replays one):
 * requests, approvals, payments short, exact, over and late, reversals,
 * expiries, cancellations, approval, shipment, completion, by right and wrong
 * actors. Changes are applied only when a rule allows them, and after every
 * step the invariants of DESIGN.md hold:
 *   approved commitments <= target; reserved units <= quantity;
 *   funded == sum of credited confirmed payments <= approved commitments;
 *   a project at rest in FUNDING is short, in PENDING_ADMIN_APPROVAL funded;
 *   when every unit is reserved, the PRODUCTS commitments equal the target exactly;
 *   completion shares the profit exactly.
 */
#include "support/test_support.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "domain/domain.h"

static uint64_t rng;
static uint64_t rnd(void)
{
    uint64_t z = (rng += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}
static int64_t upto(int64_t n) /* uniform in [0, n], n >= 0 */
{
    return (int64_t)(rnd() % ((uint64_t)n + 1));
}
static int chance(int percent)
{
    return (int)(rnd() % 100) < percent;
}

#define MAX_PROD 4
#define MAX_PART 24
#define MAX_PAY 64
#define OWNER_ID 0
#define ADMIN_ID 1
#define FIRST_INVESTOR 2
#define USERS 6
#define GRACE 50

struct part {
    int investor;
    icms_participation_type_t type;
    icms_participation_status_t st;
    icms__unit_take takes[MAX_PROD];
    size_t ntakes;
    int64_t commitment;
    int64_t paid;
    bool was_approved; /* its units and commitment were reserved */
};

struct pay {
    size_t part;
    icms_payment_status_t st;
    int64_t expected, expires, credited;
    bool late;
};

struct sim {
    icms_project_state_t state;
    int64_t now, deadline, target, approved, funded, min_ticket, refunds;
    icms__catalog_line lines[MAX_PROD];
    size_t nprod;
    int64_t reserved[MAX_PROD];
    icms__landed_plan *plan;
    struct part parts[MAX_PART];
    size_t nparts;
    struct pay pays[MAX_PAY];
    size_t npays;
    size_t in_flight;
};

static unsigned roles_of(int user)
{
    if (user == OWNER_ID)
        return ICMS_ROLE_OWNER;
    if (user == ADMIN_ID)
        return ICMS_ROLE_ADMIN;
    return ICMS_ROLE_INVESTOR;
}

/* Mostly the right actor, sometimes anyone: refusals must change nothing. */
static int pick_user(int right)
{
    return chance(80) ? right : (int)(rnd() % USERS);
}

static unsigned parties_for(int user, int investor)
{
    return icms__parties(ICMS_ACTOR_USER, roles_of(user), user == OWNER_ID, user == investor);
}

static icms__project_facts project_facts(const struct sim *s)
{
    size_t approved = 0;
    for (size_t i = 0; i < s->nparts; i++)
        approved += s->parts[i].st == ICMS_PARTICIPATION_APPROVED;
    return (icms__project_facts){s->now,   s->deadline, s->target,        s->funded,
                                 s->nprod, approved,    s->in_flight > 0, GRACE};
}

static icms__participation_facts part_facts(const struct sim *s)
{
    return (icms__participation_facts){s->state, s->now, s->deadline};
}

static void settle(struct sim *s)
{
    icms__project_facts f = project_facts(s);
    icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX];
    size_t n = 0;
    assert_icms_ok(icms__project_settle(s->state, &f, steps, &n));
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(steps[i].from, s->state);
        s->state = steps[i].to;
    }
}

/* The project ended: open requests end, pending payments expire, confirmed money is refunded. */
static void project_ended(struct sim *s)
{
    icms__participation_facts pf = part_facts(s);
    for (size_t i = 0; i < s->nparts; i++) {
        icms__participation_decision d;
        int rc = icms__participation_follow_up(s->parts[i].st, &pf, &d);
        assert_true(rc >= 0);
        if (rc == 1)
            s->parts[i].st = d.to;
        assert_true(icms__participation_status_is_final(s->parts[i].st));
    }
    for (size_t i = 0; i < s->npays; i++) {
        struct pay *p = &s->pays[i];
        icms__payment_facts f = {s->now, p->expires, true, p->expected, 0, 0, true};
        icms__payment_decision d;
        if (p->st == ICMS_PAYMENT_PENDING) {
            assert_icms_ok(
                icms__payment_decide(p->st, ICMS__PAYMENT_EXPIRE, ICMS__PARTY_SYSTEM, &f, &d));
            p->st = d.to;
        }
    }
    s->refunds += s->funded;
}

static void act_publish(struct sim *s)
{
    icms__project_facts f = project_facts(s);
    icms__project_decision d;
    int user = pick_user(OWNER_ID);
    if (icms__project_decide(s->state, ICMS__PROJECT_PUBLISH, parties_for(user, -1), &f, &d) ==
        ICMS_OK) {
        assert_int_equal(user, OWNER_ID);
        s->state = d.to;
    }
}

static bool has_open(const struct sim *s, int investor)
{
    for (size_t i = 0; i < s->nparts; i++)
        if (s->parts[i].investor == investor &&
            !icms__participation_status_is_final(s->parts[i].st))
            return true;
    return false;
}

static void act_request(struct sim *s)
{
    if (s->nparts == MAX_PART)
        return;
    int investor = FIRST_INVESTOR + (int)(rnd() % (USERS - FIRST_INVESTOR));
    int user = pick_user(investor);
    icms__participation_request_facts rf = {part_facts(s), user == OWNER_ID, has_open(s, user),
                                            ICMS_KYC_VERIFIED, true};
    if (icms__participation_check_request(parties_for(user, user), &rf) != ICMS_OK)
        return;
    assert_true(user >= FIRST_INVESTOR);
    struct part p = {.investor = user, .st = ICMS_PARTICIPATION_PENDING};
    int64_t room = s->target - s->approved;
    if (chance(60)) {
        p.type = ICMS_PARTICIPATION_PRODUCTS;
        for (size_t i = 0; i < s->nprod; i++) {
            if (!chance(50) && !(i + 1 == s->nprod && p.ntakes == 0))
                continue;
            int64_t left = s->lines[i].quantity - s->reserved[i];
            int64_t units = chance(40) ? left : 1 + upto(left + 1); /* may ask too much */
            if (units < 1)
                continue;
            p.takes[p.ntakes++] = (icms__unit_take){i, s->reserved[i], units};
        }
        if (p.ntakes == 0)
            return;
        for (size_t k = 0; k < p.ntakes; k++)
            if (icms__check_units_cap(s->lines[p.takes[k].product].quantity,
                                      s->reserved[p.takes[k].product], p.takes[k].units) != ICMS_OK)
                return;
        assert_icms_ok(icms__products_commitment(s->plan, p.takes, p.ntakes, &p.commitment));
    } else {
        p.type = ICMS_PARTICIPATION_PROFIT;
        p.commitment = chance(40) ? room : 1 + upto(s->target / 2);
        if (icms__check_profit_ticket(s->min_ticket, p.commitment) != ICMS_OK)
            return;
    }
    if (icms__check_target_cap(s->target, s->approved, p.commitment) != ICMS_OK)
        return;
    s->parts[s->nparts++] = p;
}

static void act_decide_request(struct sim *s)
{
    if (s->nparts == 0)
        return;
    struct part *p = &s->parts[rnd() % s->nparts];
    static const icms__participation_action_t acts[] = {
        ICMS__PARTICIPATION_APPROVE, ICMS__PARTICIPATION_APPROVE, ICMS__PARTICIPATION_APPROVE,
        ICMS__PARTICIPATION_REJECT, ICMS__PARTICIPATION_WITHDRAW};
    icms__participation_action_t a = acts[rnd() % 5];
    int user = pick_user(a == ICMS__PARTICIPATION_WITHDRAW ? p->investor : OWNER_ID);
    icms__participation_facts pf = part_facts(s);
    icms__participation_decision d;
    if (icms__participation_decide(p->st, a, parties_for(user, p->investor), &pf, &d) != ICMS_OK)
        return;
    if (a == ICMS__PARTICIPATION_APPROVE) {
        assert_int_equal(user, OWNER_ID);
        /* Caps again, now; the commitment is fixed with the units reserved now. */
        int64_t commitment = p->commitment;
        if (p->type == ICMS_PARTICIPATION_PRODUCTS) {
            for (size_t k = 0; k < p->ntakes; k++) {
                size_t i = p->takes[k].product;
                if (icms__check_units_cap(s->lines[i].quantity, s->reserved[i],
                                          p->takes[k].units) != ICMS_OK)
                    return;
                p->takes[k].reserved_before = s->reserved[i];
            }
            assert_icms_ok(icms__products_commitment(s->plan, p->takes, p->ntakes, &commitment));
            /* The quote moves by at most 1 per line. */
            assert_true(llabs(commitment - p->commitment) <= (long long)p->ntakes);
        }
        if (icms__check_target_cap(s->target, s->approved, commitment) != ICMS_OK)
            return;
        p->commitment = commitment;
        for (size_t k = 0; k < p->ntakes && p->type == ICMS_PARTICIPATION_PRODUCTS; k++)
            s->reserved[p->takes[k].product] += p->takes[k].units;
        s->approved += commitment;
        p->was_approved = true;
    }
    p->st = d.to;
    settle(s);
}

static void act_pay(struct sim *s)
{
    if (s->nparts == 0 || s->npays == MAX_PAY)
        return;
    size_t pi = rnd() % s->nparts;
    struct part *p = &s->parts[pi];
    int user = pick_user(p->investor);
    int64_t outstanding = p->commitment - p->paid;
    int64_t amount = chance(60) ? outstanding : 1 + upto(outstanding);
    icms__payment_initiate_facts f = {s->state,          p->st, outstanding, amount,
                                      ICMS_KYC_VERIFIED, true};
    if (icms__payment_check_initiate(parties_for(user, p->investor), &f) != ICMS_OK)
        return;
    assert_int_equal(user, p->investor);
    s->pays[s->npays++] =
        (struct pay){pi, ICMS_PAYMENT_PENDING, amount, s->now + 1 + upto(40), 0, false};
}

static void act_payment_step(struct sim *s)
{
    if (s->npays == 0)
        return;
    struct pay *p = &s->pays[rnd() % s->npays];
    struct part *part = &s->parts[p->part];
    bool ended = s->state == ICMS_PROJECT_CANCELLED || s->state == ICMS_PROJECT_EXPIRED;
    int64_t received;
    switch (rnd() % 4) {
    case 0:
        received = p->expected;
        break;
    case 1:
        received = upto(p->expected);
        break;
    case 2:
        received = p->expected + 1 + upto(1000);
        break;
    default:
        received = chance(50) ? 0 : p->expected;
    }
    icms__payment_facts f = {
        s->now,   p->expires,      ended, p->expected, part->commitment - part->paid,
        received, p->late || ended};
    icms__payment_decision d;
    static const icms__payment_action_t acts[] = {ICMS__PAYMENT_SUBMIT,  ICMS__PAYMENT_CONFIRM,
                                                  ICMS__PAYMENT_CONFIRM, ICMS__PAYMENT_FAIL,
                                                  ICMS__PAYMENT_EXPIRE,  ICMS__PAYMENT_REVERSE};
    icms__payment_action_t a = acts[rnd() % 6];
    unsigned who = a == ICMS__PAYMENT_SUBMIT
                       ? parties_for(pick_user(part->investor), part->investor)
                       : (chance(90) ? ICMS__PARTY_SYSTEM : parties_for(pick_user(0), -1));
    if (a == ICMS__PAYMENT_FAIL && !chance(10))
        return; /* failures are rare, or nothing would ever confirm */
    if (icms__payment_decide(p->st, a, who, &f, &d) != ICMS_OK)
        return;
    switch (a) {
    case ICMS__PAYMENT_SUBMIT:
        p->late = p->late || p->st == ICMS_PAYMENT_EXPIRED;
        s->in_flight++;
        break;
    case ICMS__PAYMENT_CONFIRM: {
        icms__payment_outcome o;
        assert_icms_ok(icms__payment_classify(f.expected, f.outstanding, f.received, f.late, &o));
        assert_int_equal(d.to == ICMS_PAYMENT_PARTIAL, o.kind == ICMS__PAYMENT_PARTIAL);
        p->credited = o.credited;
        part->paid += o.credited;
        s->funded += o.credited;
        s->refunds += o.refund_due;
        s->in_flight--;
        break;
    }
    case ICMS__PAYMENT_FAIL:
        s->in_flight--;
        break;
    case ICMS__PAYMENT_REVERSE:
        part->paid -= p->credited;
        s->funded -= p->credited;
        p->credited = 0;
        break;
    default:
        break;
    }
    p->st = d.to;
    if (!ended)
        settle(s);
}

static void act_time(struct sim *s)
{
    s->now += upto(chance(20) ? 200 : 20);
    icms__project_facts f = project_facts(s);
    icms__project_decision d;
    if (icms__project_decide(s->state, ICMS__PROJECT_EXPIRE, ICMS__PARTY_SYSTEM, &f, &d) ==
        ICMS_OK) {
        assert_true(s->now >= s->deadline);
        s->state = d.to;
        project_ended(s);
    }
}

static void act_admin(struct sim *s)
{
    static const icms__project_action_t acts[] = {ICMS__PROJECT_APPROVE, ICMS__PROJECT_SHIP,
                                                  ICMS__PROJECT_COMPLETE, ICMS__PROJECT_CANCEL};
    icms__project_action_t a = acts[rnd() % (chance(90) ? 3 : 4)];
    int user = a == ICMS__PROJECT_CANCEL && chance(50) ? OWNER_ID : pick_user(ADMIN_ID);
    icms__project_facts f = project_facts(s);
    icms__project_decision d;
    if (icms__project_decide(s->state, a, parties_for(user, -1), &f, &d) != ICMS_OK)
        return;
    s->state = d.to;
    if (a == ICMS__PROJECT_CANCEL)
        project_ended(s);
}

/* Returns whether every unit is reserved (the exact-target check ran). */
static bool check_invariants(const struct sim *s)
{
    assert_true(s->approved >= 0 && s->approved <= s->target);
    int64_t credited = 0, approved_products = 0;
    bool all_reserved = true;
    for (size_t i = 0; i < s->nprod; i++) {
        assert_true(s->reserved[i] >= 0 && s->reserved[i] <= s->lines[i].quantity);
        all_reserved = all_reserved && s->reserved[i] == s->lines[i].quantity;
    }
    for (size_t i = 0; i < s->npays; i++)
        if (s->pays[i].st == ICMS_PAYMENT_CONFIRMED || s->pays[i].st == ICMS_PAYMENT_PARTIAL)
            credited += s->pays[i].credited;
        else
            assert_int_equal(s->pays[i].credited, 0);
    assert_int_equal(s->funded, credited);
    assert_true(s->funded <= s->approved);
    int64_t approved = 0;
    for (size_t i = 0; i < s->nparts; i++) {
        const struct part *p = &s->parts[i];
        assert_true(p->paid >= 0 && p->paid <= p->commitment);
        if (p->was_approved) {
            approved += p->commitment;
            if (p->type == ICMS_PARTICIPATION_PRODUCTS)
                approved_products += p->commitment;
        } else {
            assert_int_equal(p->paid, 0);
        }
    }
    assert_int_equal(approved, s->approved);
    /* Approved PRODUCTS runs tile the catalog: all units reserved means exactly the target. */
    if (all_reserved)
        assert_int_equal(approved_products, s->target);
    assert_int_not_equal(s->state, ICMS_PROJECT_FULLY_FUNDED); /* never at rest */
    if (s->state == ICMS_PROJECT_FUNDING)
        assert_true(s->funded < s->target);
    if (s->state == ICMS_PROJECT_PENDING_ADMIN_APPROVAL)
        assert_true(s->funded >= s->target);
    if (s->state == ICMS_PROJECT_PUBLISHED || s->state == ICMS_PROJECT_DRAFT)
        assert_int_equal(s->approved, 0);
    return all_reserved;
}

struct tally {
    size_t runs, steps, completed, cancelled, expired, reversed_back, tiled;
};

static void run_one(struct tally *t)
{
    struct sim s;
    memset(&s, 0, sizeof s);
    s.state = ICMS_PROJECT_DRAFT;
    s.deadline = 200 + upto(800);
    s.min_ticket = upto(50);
    s.nprod = 1 + (size_t)(rnd() % MAX_PROD);
    for (size_t i = 0; i < s.nprod; i++)
        s.lines[i] = (icms__catalog_line){1 + upto(chance(30) ? 1 : 12), 1 + upto(5000)};
    icms__shipping_costs c = {upto(3000), upto(100), chance(50) ? 0 : upto(10), upto(7), upto(1)};
    assert_icms_ok(icms__landed_plan_new(s.lines, s.nprod, &c, &s.plan));
    assert_icms_ok(icms__funding_target(s.lines, s.nprod, &c, &s.target));

    for (int step = 0; step < 400 && !icms_project_state_is_final(s.state); step++) {
        icms_project_state_t before = s.state;
        switch (rnd() % 10) {
        case 0:
            act_publish(&s);
            break;
        case 1:
        case 2:
            act_request(&s);
            break;
        case 3:
        case 4:
            act_decide_request(&s);
            break;
        case 5:
            act_pay(&s);
            break;
        case 6:
        case 7:
            act_payment_step(&s);
            break;
        case 8:
            act_time(&s);
            break;
        default:
            act_admin(&s);
        }
        if (before == ICMS_PROJECT_PENDING_ADMIN_APPROVAL && s.state == ICMS_PROJECT_FUNDING)
            t->reversed_back++;
        t->tiled += check_invariants(&s);
        t->steps++;
    }
    if (s.state == ICMS_PROJECT_COMPLETED) {
        t->completed++;
        /* PROFIT participants share a declared profit exactly. */
        int64_t w[MAX_PART], shares[MAX_PART], profit = upto(INT64_MAX / 4), sum = 0;
        size_t n = 0;
        for (size_t i = 0; i < s.nparts; i++)
            if (s.parts[i].type == ICMS_PARTICIPATION_PROFIT &&
                s.parts[i].st == ICMS_PARTICIPATION_APPROVED)
                w[n++] = s.parts[i].commitment;
        if (n > 0) {
            assert_icms_ok(icms__distribute(profit, w, n, shares));
            for (size_t i = 0; i < n; i++)
                sum += shares[i];
            assert_int_equal(sum, profit);
        }
    }
    t->cancelled += s.state == ICMS_PROJECT_CANCELLED;
    t->expired += s.state == ICMS_PROJECT_EXPIRED;
    t->runs++;
    icms__landed_plan_free(s.plan);
}

static void test_random_histories(void **state)
{
    (void)state;
    const char *env = getenv("ICMS_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : UINT64_C(0x5EED0F1CE);
    rng = seed;
    struct tally t = {0};
    /* Fewer histories under valgrind (ICMS_VALGRIND=1); the same checks on each. */
    int histories = getenv("ICMS_VALGRIND") ? 600 : 3000;
    for (int i = 0; i < histories; i++)
        run_one(&t);
    print_message("seed 0x%" PRIx64 ": %zu histories, %zu steps; %zu completed, %zu cancelled, "
                  "%zu expired; %zu times a reversal reopened funding; %zu steps fully reserved\n",
                  seed, t.runs, t.steps, t.completed, t.cancelled, t.expired, t.reversed_back,
                  t.tiled);
    /* The histories reach every ending, or they prove little. */
    assert_true(t.completed > 10);
    assert_true(t.cancelled > 10);
    assert_true(t.expired > 10);
    assert_true(t.reversed_back > 0);
    assert_true(t.tiled > 100);
    assert_int_equal(t.runs, (size_t)histories);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_histories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
