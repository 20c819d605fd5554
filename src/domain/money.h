/*
 * Money rules: the funding target, the landed cost of product units, pro-rata
 * distributions, payment outcomes and the caps on commitments. Amounts are
 * int64 base units (1 GAP = 100,000,000); every operation is overflow-checked
 * and reports ICMS_EINVALID rather than wrap. No doubles anywhere.
 * Pure and thread-safe; the only side effect is scratch memory taken and given
 * back through icms__malloc (so ICMS_ENOMEM is possible where noted).
 * docs/domain.md explains the methods and proves their bounds.
 */
#ifndef ICMS_DOMAIN_MONEY_H
#define ICMS_DOMAIN_MONEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One product of a catalog, as far as money is concerned. */
typedef struct icms__catalog_line {
    int64_t quantity;   /* units offered, >= 1 */
    int64_t unit_price; /* base units per unit, >= 1 */
} icms__catalog_line;

/* The shipping costs of a project (the shipping_costs document), each >= 0. */
typedef struct icms__shipping_costs {
    int64_t freight;
    int64_t transport;
    int64_t layovers;
    int64_t international_fees;
    int64_t other;
} icms__shipping_costs;

/*
 * Goods value: sum of quantity * unit_price. count may be 0 (value 0).
 * ICMS_EINVALID for NULL with count > 0, a quantity or price below 1, or
 * overflow. *out is written only on success.
 */
int icms__goods_value(const icms__catalog_line *lines, size_t count, int64_t *out);

/* Sum of the shipping costs. ICMS_EINVALID for a negative cost or overflow. */
int icms__shipping_total(const icms__shipping_costs *costs, int64_t *out);

/*
 * The funding target (total_cost) = goods value + shipping costs. costs may be
 * NULL (no shipping). ICMS_EINVALID as for the two above, or when the sum
 * overflows.
 */
int icms__funding_target(const icms__catalog_line *lines, size_t count,
                         const icms__shipping_costs *costs, int64_t *out);

/*
 * Share `total` among `count` parties pro rata to `weights`, in integers, by
 * the largest-remainder method: each gets floor(total * w / W), and the units
 * left over go one each to the largest remainders, ties to the lower index
 * (sort parties by a stable key, e.g. participation id, before calling).
 * The shares sum exactly to total; each is within 1 (exclusive) of its exact
 * share and is its floor or its ceiling; a zero weight gets 0.
 * total >= 0, weights >= 0, their sum > 0 and representable. Writes
 * shares[0 .. count-1] only on success. ICMS_EINVALID, ICMS_ENOMEM.
 */
int icms__distribute(int64_t total, const int64_t *weights, size_t count, int64_t *shares);

/*
 * The landed-cost plan of a catalog: how the shipping costs are spread over
 * every unit, fixed once for the catalog. Product i carries the shipping
 * share A_i = icms__distribute(shipping, goods value of each product)[i];
 * the first m units of product i carry floor(m * A_i / quantity_i) of it, so
 * unit m (0-based) carries floor((m+1) A_i / q_i) - floor(m A_i / q_i).
 * Consequences (docs/domain.md proves them):
 *   - all units of all products cost exactly the funding target, and any
 *     split of the catalog into consecutive runs of units sums to it exactly;
 *   - every unit's shipping share is its exact proportional share
 *     (shipping * unit_price / goods) rounded down or up;
 *   - a run of k consecutive units of one product carries within 2 base units
 *     (exclusive) of its exact share, and all of a product within 1.
 * Units are handed out in order: the run of an approved request starts after
 * the units already reserved (`reserved_before`).
 */
typedef struct icms__landed_line {
    int64_t quantity;
    int64_t unit_price;
    int64_t shipping; /* A_i: this product's whole share of the shipping costs */
} icms__landed_line;

typedef struct icms__landed_plan {
    int64_t goods;    /* goods value of the catalog */
    int64_t shipping; /* shipping costs */
    int64_t target;   /* goods + shipping */
    size_t count;
    icms__landed_line lines[]; /* count entries, in catalog order */
} icms__landed_plan;

/*
 * Whether a project may ask for target: the owner is paid it in one
 * transaction (a release), and no transaction carries more than all the
 * money there will ever be (ICMS_GAPCOIN_MAX_MONEY). ICMS_EINVALID above
 * that. The arithmetic above is exact for any int64; this is the rule.
 */
int icms__funding_target_payable(int64_t target);

/*
 * Make the plan for a catalog of `count` >= 1 products (validated as for
 * icms__goods_value). costs may be NULL. *out is the caller's, freed with
 * icms__landed_plan_free(). ICMS_EINVALID (no products, bad line, overflow),
 * ICMS_ENOMEM.
 */
int icms__landed_plan_new(const icms__catalog_line *lines, size_t count,
                          const icms__shipping_costs *costs, icms__landed_plan **out);

/* Free a plan; NULL is allowed. */
void icms__landed_plan_free(icms__landed_plan *plan);

/*
 * The shipping share, and the landed cost (goods + shipping), of `units`
 * units of product `product` starting after `reserved_before` units already
 * taken. ICMS_EINVALID for an unknown product, units < 1, reserved_before < 0,
 * or a run beyond the catalog quantity (the message names the product index).
 */
int icms__landed_shipping(const icms__landed_plan *plan, size_t product, int64_t reserved_before,
                          int64_t units, int64_t *out);
int icms__landed_cost(const icms__landed_plan *plan, size_t product, int64_t reserved_before,
                      int64_t units, int64_t *out);

/* One line of a PRODUCTS request: units of a product, placed after those already reserved. */
typedef struct icms__unit_take {
    size_t product;          /* index in the catalog */
    int64_t reserved_before; /* units of this product already reserved by approved requests */
    int64_t units;           /* units asked for, >= 1 */
} icms__unit_take;

/*
 * A PRODUCTS commitment: the sum of the landed costs of its lines. A product
 * may appear only once. ICMS_EINVALID (empty, repeated product, as for
 * icms__landed_cost). Quote it when the request is made and fix it at
 * approval, when reserved_before is known for sure; the two differ by at most
 * 1 base unit per line.
 */
int icms__products_commitment(const icms__landed_plan *plan, const icms__unit_take *takes,
                              size_t count, int64_t *out);

/*
 * Caps, checked when a request is made and again when it is approved. Each
 * returns 0, ICMS_ELIMIT when the cap would be exceeded (the message says by
 * how much), or ICMS_EINVALID for negative inputs.
 */
/* Approved commitments of a project never exceed its target. */
int icms__check_target_cap(int64_t target, int64_t approved, int64_t commitment);
/* Reserved units of a product never exceed its catalog quantity. */
int icms__check_units_cap(int64_t quantity, int64_t reserved, int64_t units);
/* Optional per-investor cap on one project (cap 0: no cap). */
int icms__check_investor_cap(int64_t cap, int64_t investor_committed, int64_t commitment);
/* A PROFIT request asks for at least min_ticket (and more than 0); ICMS_EINVALID if not. */
int icms__check_profit_ticket(int64_t min_ticket, int64_t capital);

/* How a confirmed payment is applied. */
typedef enum icms__payment_outcome_kind_t {
    ICMS__PAYMENT_EXACT = 0,    /* received what was due */
    ICMS__PAYMENT_PARTIAL = 1,  /* received less: all credited, the rest stays outstanding */
    ICMS__PAYMENT_OVERPAID = 2, /* received more: what was due is credited, the excess refunded */
    ICMS__PAYMENT_LATE = 3      /* arrived after the payment or project closed: all refunded */
} icms__payment_outcome_kind_t;

typedef struct icms__payment_outcome {
    icms__payment_outcome_kind_t kind;
    int64_t due;               /* min(expected, outstanding), 0 when late */
    int64_t credited;          /* added to the project's funds */
    int64_t refund_due;        /* owed back to the investor */
    int64_t outstanding_after; /* the commitment still unpaid afterwards */
} icms__payment_outcome;

/*
 * Classify a confirmed payment: `expected` is what the payment asked for (>=
 * 1), `outstanding` what the investor's commitment still lacks now (>= 0: it
 * may have shrunk since the payment began), `received` what the chain shows
 * (>= 0), `late` whether it arrived after the payment expired or the project
 * was cancelled or expired. credited + refund_due == received always.
 * ICMS_EINVALID for out-of-range inputs.
 */
int icms__payment_classify(int64_t expected, int64_t outstanding, int64_t received, bool late,
                           icms__payment_outcome *out);

const char *icms__payment_outcome_name(icms__payment_outcome_kind_t kind);

#endif
