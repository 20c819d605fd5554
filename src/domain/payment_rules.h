/*
 * Payments as data: the payment transition table, its guards, and the checks
 * for starting a payment. Pure; thread-safe. How a confirmed amount is
 * applied (credited, refunded) is icms__payment_classify() in money.h.
 */
#ifndef ICMS_DOMAIN_PAYMENT_RULES_H
#define ICMS_DOMAIN_PAYMENT_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/machine.h"
#include "domain/money.h"
#include "icms/types.h"

typedef enum icms__payment_action_t {
    ICMS__PAYMENT_SUBMIT = 0,  /* attach a transaction id */
    ICMS__PAYMENT_CONFIRM = 1, /* verification found it at depth: CONFIRMED or PARTIAL */
    ICMS__PAYMENT_FAIL = 2,    /* verification found it does not pay this payment */
    ICMS__PAYMENT_EXPIRE = 3,  /* the window closed (or the project ended) with no transaction */
    ICMS__PAYMENT_REVERSE = 4  /* re-verification found a confirmed transaction gone */
} icms__payment_action_t;
#define ICMS__PAYMENT_ACTION_COUNT 5

/* Event emitted when a payment is initiated (in PENDING); initiation is not a transition. */
#define ICMS__PAYMENT_EVENT_INITIATED "payment.initiated"

typedef enum icms__payment_guard_t {
    ICMS__YG_RECEIVED = 1u << 0,     /* received > 0 */
    ICMS__YG_SETTLED = 1u << 1,      /* the outcome is not PARTIAL (exact, overpaid or late) */
    ICMS__YG_SHORT = 1u << 2,        /* the outcome is PARTIAL */
    ICMS__YG_WINDOW_CLOSED = 1u << 3 /* now >= expires_at, or the project ended */
} icms__payment_guard_t;
#define ICMS__YG_COUNT 4

/* What the guards read. */
typedef struct icms__payment_facts {
    int64_t now_ms;
    int64_t expires_at_ms; /* the end of the payment window */
    bool project_ended;    /* the project was cancelled or expired */
    int64_t expected;      /* what the payment asked for, >= 1 */
    int64_t outstanding;   /* what the commitment still lacks, >= 0 */
    int64_t received;      /* what the transaction pays the address, >= 0 (for confirm) */
    bool late;             /* arrived after the window closed or the project ended */
} icms__payment_facts;

typedef struct icms__payment_decision {
    icms_payment_status_t from;
    icms__payment_action_t action;
    icms_payment_status_t to;
    const char *event; /* static string */
} icms__payment_decision;

/* Same contract as icms__project_decide(), for a payment in `status`. */
int icms__payment_decide(icms_payment_status_t status, icms__payment_action_t action,
                         unsigned parties, const icms__payment_facts *facts,
                         icms__payment_decision *out);

/* What is known when an investor starts a payment. */
typedef struct icms__payment_initiate_facts {
    icms_project_state_t project_state;
    icms_participation_status_t participation_status;
    int64_t outstanding; /* the commitment still unpaid (net of confirmed payments) */
    int64_t amount;      /* the amount the investor wants to pay now */
    icms_kyc_status_t kyc_status;
    bool kyc_required; /* policy: paying needs KYC VERIFIED */
} icms__payment_initiate_facts;

/*
 * May `parties` start a payment? Only the participation's investor, for an
 * APPROVED participation in a FUNDING project, for 1 .. outstanding. Returns
 * 0, or ICMS_EFORBIDDEN (not the investor; KYC), ICMS_EINVALID_TRANSITION
 * (participation not approved, project not FUNDING), ICMS_EINVALID (amount
 * not in 1 .. outstanding; NULL).
 */
int icms__payment_check_initiate(unsigned parties, const icms__payment_initiate_facts *facts);

/* What decides whether a payment's money is late. */
typedef struct icms__payment_late_facts {
    icms_payment_status_t status;       /* the payment's status before the change being made */
    bool marked_late;                   /* the payment's stored "late" mark */
    icms_project_state_t project_state; /* its project's state now */
    int64_t now_ms;                     /* the command's now */
    int64_t expires_at_ms;              /* the payment's expires_at: the end of its window */
    int64_t submitted_at_ms; /* when its transaction was attached; 0 when it is attached now */
} icms__payment_late_facts;

/*
 * Is the payment's money late (credited nothing, refunded in full)? Yes when
 * its transaction was attached at or after the payment's expires_at (by the
 * clock: submitted_at, or now when it is being attached now), or the payment
 * is EXPIRED as its transaction is attached, or was marked late then, or its
 * project has ended (icms__project_ended). The submission decides, not the
 * confirmation: a transaction attached before expires_at is on time however
 * long the chain takes to bury it, and one attached at or after expires_at
 * is late whether or not the sweep has expired the payment yet. Asked when a
 * transaction is attached (the answer is stored as the payment's "late"
 * mark) and again when it is confirmed. A NULL argument reads as not late.
 */
bool icms__payment_is_late(const icms__payment_late_facts *facts);

const char *icms__payment_action_name(icms__payment_action_t action);
const char *icms__payment_guard_name(unsigned guard);
const icms__machine *icms__payment_machine(void);

#endif
