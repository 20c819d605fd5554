/* Funding target, landed costs, distributions, payment outcomes and caps. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "domain/money.h"
#include "domain/wide.h"
#include "icms/gapcoin.h"

static int check_line(const icms__catalog_line *l, size_t i)
{
    if (l->quantity < 1)
        return icms__error(ICMS_EINVALID, "product %zu: quantity %lld is below 1", i,
                           (long long)l->quantity);
    if (l->unit_price < 1)
        return icms__error(ICMS_EINVALID, "product %zu: unit price %lld is below 1", i,
                           (long long)l->unit_price);
    return ICMS_OK;
}

int icms__goods_value(const icms__catalog_line *lines, size_t count, int64_t *out)
{
    if (out == NULL || (lines == NULL && count > 0))
        return icms__error(ICMS_EINVALID, "goods value: NULL argument");
    int64_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        int64_t v;
        int rc = check_line(&lines[i], i);
        if (rc)
            return rc;
        if (!icms__mul_i64(lines[i].quantity, lines[i].unit_price, &v))
            return icms__error(ICMS_EINVALID, "product %zu: quantity x unit price overflows", i);
        if (!icms__add_i64(sum, v, &sum))
            return icms__error(ICMS_EINVALID, "the goods value overflows at product %zu", i);
    }
    *out = sum;
    return ICMS_OK;
}

int icms__shipping_total(const icms__shipping_costs *c, int64_t *out)
{
    if (c == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "shipping total: NULL argument");
    const struct {
        const char *name;
        int64_t v;
    } parts[] = {{"freight", c->freight},
                 {"transport", c->transport},
                 {"layovers", c->layovers},
                 {"international_fees", c->international_fees},
                 {"other", c->other}};
    int64_t sum = 0;
    for (size_t i = 0; i < ICMS__ARRAY_LEN(parts); i++) {
        if (parts[i].v < 0)
            return icms__error(ICMS_EINVALID, "shipping cost %s is negative", parts[i].name);
        if (!icms__add_i64(sum, parts[i].v, &sum))
            return icms__error(ICMS_EINVALID, "the shipping costs overflow at %s", parts[i].name);
    }
    *out = sum;
    return ICMS_OK;
}

/* Goods, shipping and their sum, all checked. */
static int totals(const icms__catalog_line *lines, size_t count, const icms__shipping_costs *costs,
                  int64_t *goods, int64_t *shipping, int64_t *target)
{
    int rc = icms__goods_value(lines, count, goods);
    if (rc)
        return rc;
    *shipping = 0;
    if (costs && (rc = icms__shipping_total(costs, shipping)) != 0)
        return rc;
    if (!icms__add_i64(*goods, *shipping, target))
        return icms__error(ICMS_EINVALID, "goods value + shipping costs overflows");
    return ICMS_OK;
}

int icms__funding_target_payable(int64_t target)
{
    if (target > ICMS_GAPCOIN_MAX_MONEY)
        return icms__error(ICMS_EINVALID,
                           "the funding target %lld is more than Gapcoin's whole supply (%lld)",
                           (long long)target, (long long)ICMS_GAPCOIN_MAX_MONEY);
    return ICMS_OK;
}

int icms__funding_target(const icms__catalog_line *lines, size_t count,
                         const icms__shipping_costs *costs, int64_t *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "funding target: out may not be NULL");
    int64_t goods, shipping, target;
    int rc = totals(lines, count, costs, &goods, &shipping, &target);
    if (rc)
        return rc;
    *out = target;
    return ICMS_OK;
}

/* A remainder and whose it is, for the largest-remainder ranking. */
struct ranked {
    uint64_t remainder;
    size_t index;
};

/* Larger remainder first; equal remainders in index order, so the result is deterministic. */
static int by_remainder(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->remainder != y->remainder)
        return x->remainder > y->remainder ? -1 : 1;
    return x->index < y->index ? -1 : (x->index > y->index ? 1 : 0);
}

int icms__distribute(int64_t total, const int64_t *weights, size_t count, int64_t *shares)
{
    if (weights == NULL || shares == NULL || count == 0)
        return icms__error(ICMS_EINVALID, "distribute: no parties");
    if (total < 0)
        return icms__error(ICMS_EINVALID, "distribute: the total %lld is negative",
                           (long long)total);
    int64_t wsum = 0;
    for (size_t i = 0; i < count; i++) {
        if (weights[i] < 0)
            return icms__error(ICMS_EINVALID, "distribute: weight %zu is negative", i);
        if (!icms__add_i64(wsum, weights[i], &wsum))
            return icms__error(ICMS_EINVALID, "distribute: the weights overflow at %zu", i);
    }
    if (wsum == 0)
        return icms__error(ICMS_EINVALID, "distribute: the weights sum to 0");

    struct ranked *rank = icms__calloc(count, sizeof *rank);
    if (rank == NULL)
        return ICMS_ENOMEM;
    /* Floors first; their sum never exceeds total, so the running sum cannot overflow. */
    int64_t *floors = icms__calloc(count, sizeof *floors);
    if (floors == NULL) {
        icms__free(rank);
        return ICMS_ENOMEM;
    }
    int64_t given = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t q, r;
        /* w <= W, so the quotient is at most total and always fits. */
        if (!icms__muldiv_u64((uint64_t)total, (uint64_t)weights[i], (uint64_t)wsum, &q, &r)) {
            icms__free(rank);
            icms__free(floors);
            return icms__error(ICMS_ERROR, "distribute: quotient out of range (a bug)");
        }
        floors[i] = (int64_t)q;
        given += (int64_t)q;
        rank[i].remainder = r;
        rank[i].index = i;
    }
    /* The leftover is sum(remainders) / W < count: one extra unit each for the first `left`. */
    size_t left = (size_t)(total - given);
    qsort(rank, count, sizeof *rank, by_remainder);
    for (size_t k = 0; k < left; k++)
        floors[rank[k].index] += 1;
    memcpy(shares, floors, count * sizeof *shares);
    icms__free(rank);
    icms__free(floors);
    return ICMS_OK;
}

int icms__landed_plan_new(const icms__catalog_line *lines, size_t count,
                          const icms__shipping_costs *costs, icms__landed_plan **out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "landed plan: out may not be NULL");
    if (lines == NULL || count == 0)
        return icms__error(ICMS_EINVALID, "landed plan: the catalog has no products");
    int64_t goods, shipping, target;
    int rc = totals(lines, count, costs, &goods, &shipping, &target);
    if (rc)
        return rc;

    size_t size;
    if (!icms__mul_size(count, sizeof(icms__landed_line), &size) ||
        !icms__add_size(size, sizeof(icms__landed_plan), &size))
        return icms__error(ICMS_ENOMEM, "landed plan: %zu products is too many", count);
    icms__landed_plan *plan = icms__malloc(size);
    int64_t *values = icms__calloc(count, sizeof *values);
    int64_t *shares = icms__calloc(count, sizeof *shares);
    if (plan == NULL || values == NULL || shares == NULL) {
        icms__free(plan);
        icms__free(values);
        icms__free(shares);
        return ICMS_ENOMEM;
    }
    for (size_t i = 0; i < count; i++)
        values[i] = lines[i].quantity * lines[i].unit_price; /* checked by totals() */
    /* Shipping is shared by goods value; goods > 0 because every line is >= 1 x 1. */
    rc = icms__distribute(shipping, values, count, shares);
    if (rc) {
        icms__free(plan);
        icms__free(values);
        icms__free(shares);
        return rc;
    }
    plan->goods = goods;
    plan->shipping = shipping;
    plan->target = target;
    plan->count = count;
    for (size_t i = 0; i < count; i++) {
        plan->lines[i].quantity = lines[i].quantity;
        plan->lines[i].unit_price = lines[i].unit_price;
        plan->lines[i].shipping = shares[i];
    }
    icms__free(values);
    icms__free(shares);
    *out = plan;
    return ICMS_OK;
}

void icms__landed_plan_free(icms__landed_plan *plan)
{
    icms__free(plan);
}

/* The shipping carried by the first m units of a product: floor(m * A / q), m <= q. */
static int64_t shipping_upto(const icms__landed_line *l, int64_t m)
{
    uint64_t q = 0, r = 0;
    /* m <= quantity, so the quotient is at most A: it fits, and muldiv cannot fail. */
    icms__muldiv_u64((uint64_t)m, (uint64_t)l->shipping, (uint64_t)l->quantity, &q, &r);
    return (int64_t)q;
}

static int check_run(const icms__landed_plan *plan, size_t product, int64_t reserved_before,
                     int64_t units)
{
    if (plan == NULL)
        return icms__error(ICMS_EINVALID, "landed cost: plan may not be NULL");
    if (product >= plan->count)
        return icms__error(ICMS_EINVALID, "product %zu is not in the catalog (%zu products)",
                           product, plan->count);
    if (units < 1)
        return icms__error(ICMS_EINVALID, "product %zu: %lld units asked for, at least 1 needed",
                           product, (long long)units);
    if (reserved_before < 0)
        return icms__error(ICMS_EINVALID, "product %zu: reserved units are negative", product);
    int64_t quantity = plan->lines[product].quantity;
    if (reserved_before > quantity || units > quantity - reserved_before)
        return icms__error(
            ICMS_EINVALID, "product %zu: %lld units after %lld reserved exceed the %lld offered",
            product, (long long)units, (long long)reserved_before, (long long)quantity);
    return ICMS_OK;
}

int icms__landed_shipping(const icms__landed_plan *plan, size_t product, int64_t reserved_before,
                          int64_t units, int64_t *out)
{
    int rc = check_run(plan, product, reserved_before, units);
    if (rc)
        return rc;
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "landed shipping: out may not be NULL");
    const icms__landed_line *l = &plan->lines[product];
    *out = shipping_upto(l, reserved_before + units) - shipping_upto(l, reserved_before);
    return ICMS_OK;
}

int icms__landed_cost(const icms__landed_plan *plan, size_t product, int64_t reserved_before,
                      int64_t units, int64_t *out)
{
    int64_t ship = 0, goods = 0, cost = 0;
    int rc = icms__landed_shipping(plan, product, reserved_before, units, &ship);
    if (rc)
        return rc;
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "landed cost: out may not be NULL");
    /* Both fit: the run is part of the catalog, whose whole cost fits. */
    if (!icms__mul_i64(units, plan->lines[product].unit_price, &goods) ||
        !icms__add_i64(goods, ship, &cost))
        return icms__error(ICMS_EINVALID, "product %zu: landed cost overflows", product);
    *out = cost;
    return ICMS_OK;
}

int icms__products_commitment(const icms__landed_plan *plan, const icms__unit_take *takes,
                              size_t count, int64_t *out)
{
    if (plan == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "commitment: plan and out may not be NULL");
    if (takes == NULL || count == 0)
        return icms__error(ICMS_EINVALID, "a PRODUCTS request needs at least one product");
    int64_t sum = 0;
    for (size_t i = 0; i < count; i++) {
        /* Quadratic, but requests name a handful of products. */
        for (size_t j = 0; j < i; j++)
            if (takes[j].product == takes[i].product)
                return icms__error(ICMS_EINVALID, "product %zu appears twice in the request",
                                   takes[i].product);
        int64_t cost = 0;
        int rc = icms__landed_cost(plan, takes[i].product, takes[i].reserved_before, takes[i].units,
                                   &cost);
        if (rc)
            return rc;
        if (!icms__add_i64(sum, cost, &sum))
            return icms__error(ICMS_EINVALID, "the commitment overflows");
    }
    *out = sum;
    return ICMS_OK;
}

int icms__check_target_cap(int64_t target, int64_t approved, int64_t commitment)
{
    if (target < 0 || approved < 0 || commitment < 0)
        return icms__error(ICMS_EINVALID, "target cap: amounts may not be negative");
    int64_t room = target - approved; /* no overflow: both non-negative */
    if (commitment > room)
        return icms__error(ICMS_ELIMIT,
                           "the commitment of %lld exceeds the %lld left under the target by %lld",
                           (long long)commitment, (long long)(room > 0 ? room : 0),
                           (long long)(room > 0 ? commitment - room : commitment));
    return ICMS_OK;
}

int icms__check_units_cap(int64_t quantity, int64_t reserved, int64_t units)
{
    if (quantity < 0 || reserved < 0 || units < 0)
        return icms__error(ICMS_EINVALID, "units cap: counts may not be negative");
    int64_t left = quantity - reserved;
    if (units > left)
        return icms__error(ICMS_ELIMIT, "%lld units asked for, %lld left of %lld", (long long)units,
                           (long long)(left > 0 ? left : 0), (long long)quantity);
    return ICMS_OK;
}

int icms__check_investor_cap(int64_t cap, int64_t investor_committed, int64_t commitment)
{
    if (cap < 0 || investor_committed < 0 || commitment < 0)
        return icms__error(ICMS_EINVALID, "investor cap: amounts may not be negative");
    if (cap == 0)
        return ICMS_OK;
    int64_t left = cap - investor_committed;
    if (commitment > left)
        return icms__error(ICMS_ELIMIT,
                           "the commitment of %lld exceeds the investor's %lld left under the "
                           "per-investor cap of %lld",
                           (long long)commitment, (long long)(left > 0 ? left : 0), (long long)cap);
    return ICMS_OK;
}

int icms__check_profit_ticket(int64_t min_ticket, int64_t capital)
{
    if (min_ticket < 0)
        return icms__error(ICMS_EINVALID, "the minimum ticket is negative");
    if (capital < 1)
        return icms__error(ICMS_EINVALID, "a PROFIT request needs a positive amount of capital");
    if (capital < min_ticket)
        return icms__error(ICMS_EINVALID, "capital of %lld is below the minimum ticket of %lld",
                           (long long)capital, (long long)min_ticket);
    return ICMS_OK;
}

int icms__payment_classify(int64_t expected, int64_t outstanding, int64_t received, bool late,
                           icms__payment_outcome *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "classify: out may not be NULL");
    if (expected < 1)
        return icms__error(ICMS_EINVALID, "classify: the expected amount must be positive");
    if (outstanding < 0 || received < 0)
        return icms__error(ICMS_EINVALID, "classify: amounts may not be negative");
    icms__payment_outcome o;
    if (late) {
        o.kind = ICMS__PAYMENT_LATE;
        o.due = 0;
    } else {
        o.due = expected < outstanding ? expected : outstanding;
        o.kind = received == o.due  ? ICMS__PAYMENT_EXACT
                 : received < o.due ? ICMS__PAYMENT_PARTIAL
                                    : ICMS__PAYMENT_OVERPAID;
    }
    o.credited = received < o.due ? received : o.due;
    o.refund_due = received - o.credited;
    o.outstanding_after = outstanding - o.credited;
    *out = o;
    return ICMS_OK;
}

const char *icms__payment_outcome_name(icms__payment_outcome_kind_t kind)
{
    switch (kind) {
    case ICMS__PAYMENT_EXACT:
        return "exact";
    case ICMS__PAYMENT_PARTIAL:
        return "partial";
    case ICMS__PAYMENT_OVERPAID:
        return "overpaid";
    case ICMS__PAYMENT_LATE:
        return "late";
    }
    return NULL;
}
