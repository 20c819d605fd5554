/*
 * The project lifecycle as data: the transition table, its guards, and the
 * decision and follow-up functions the application layer calls before it
 * writes anything. Pure: values in, values out. Thread-safe (no state).
 * The table is rendered in docs/domain.md.
 */
#ifndef ICMS_DOMAIN_PROJECT_RULES_H
#define ICMS_DOMAIN_PROJECT_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/machine.h"
#include "icms/types.h"

/* What can be done to a project. */
typedef enum icms__project_action_t {
    ICMS__PROJECT_EDIT = 0,                   /* change the draft (details, catalog, costs) */
    ICMS__PROJECT_PUBLISH = 1,                /* make it visible to investors */
    ICMS__PROJECT_START_FUNDING = 2,          /* auto: the first participation was approved */
    ICMS__PROJECT_MARK_FULLY_FUNDED = 3,      /* auto: confirmed funds reached the target */
    ICMS__PROJECT_REQUEST_ADMIN_APPROVAL = 4, /* auto: right after FULLY_FUNDED */
    ICMS__PROJECT_BACK_TO_FUNDING = 5,        /* auto: a reversal took funds below the target */
    ICMS__PROJECT_APPROVE = 6,                /* an admin approves it for execution */
    ICMS__PROJECT_SHIP = 7,                   /* an admin registers the shipment */
    ICMS__PROJECT_COMPLETE = 8,               /* an admin marks it received */
    ICMS__PROJECT_CANCEL = 9,                 /* the owner or an admin cancels it */
    ICMS__PROJECT_EXPIRE = 10                 /* the sweep: deadline passed without full funding */
} icms__project_action_t;
#define ICMS__PROJECT_ACTION_COUNT 11

/* Event emitted when a project is created (in DRAFT); creation is not a transition. */
#define ICMS__PROJECT_EVENT_CREATED "project.created"

/* Named guards; a rule's guards are a mask of these. */
typedef enum icms__project_guard_t {
    ICMS__PG_HAS_PRODUCTS = 1u << 0,    /* product_count > 0 */
    ICMS__PG_POSITIVE_TARGET = 1u << 1, /* target > 0 */
    ICMS__PG_DEADLINE_AHEAD = 1u << 2,  /* now < deadline */
    ICMS__PG_DEADLINE_PASSED = 1u << 3, /* now >= deadline */
    ICMS__PG_FUNDED_REACHED = 1u << 4,  /* target > 0 and funded >= target */
    ICMS__PG_FUNDED_SHORT = 1u << 5,    /* funded < target */
    ICMS__PG_HAS_APPROVED = 1u << 6,    /* approved_participations > 0 */
    ICMS__PG_NO_PAYMENT_HOLD = 1u << 7  /* no payment in flight, or the grace window is over */
} icms__project_guard_t;
#define ICMS__PG_COUNT 8

/* The facts the guards read. Times are UTC milliseconds; amounts base units. */
typedef struct icms__project_facts {
    int64_t now_ms;
    int64_t deadline_ms;            /* the funding deadline (expiry_date) */
    int64_t target;                 /* the funding target (total_cost), >= 0 */
    int64_t funded;                 /* confirmed funds credited to the project, >= 0 */
    size_t product_count;           /* products in the catalog */
    size_t approved_participations; /* participations in APPROVED */
    bool payment_in_flight;         /* a payment is SUBMITTED but not yet confirmed or failed */
    int64_t grace_ms;               /* policy: how long in-flight money holds the expiry, >= 0 */
} icms__project_facts;

/* A decision about a project: from, action, to, and the event to emit. */
typedef struct icms__project_decision {
    icms_project_state_t from;
    icms__project_action_t action;
    icms_project_state_t to;
    const char *event; /* static string */
} icms__project_decision;

/*
 * May `parties` (icms__parties()) apply `action` to a project in `state`,
 * given `facts`? Returns 0 and fills *out, or (see icms__machine_decide):
 * ICMS_EINVALID (bad arguments or facts), ICMS_EFORBIDDEN (not this actor),
 * ICMS_EINVALID_TRANSITION (not from this state, or a guard fails), each with
 * a message naming the action, the state and the reason.
 */
int icms__project_decide(icms_project_state_t state, icms__project_action_t action,
                         unsigned parties, const icms__project_facts *facts,
                         icms__project_decision *out);

/*
 * The automatic transition that must follow in the same command, if any:
 * PUBLISHED -> FUNDING once a participation is approved, FUNDING ->
 * FULLY_FUNDED once funds reach the target, FULLY_FUNDED ->
 * PENDING_ADMIN_APPROVAL at once, and back to FUNDING when a reversal takes
 * funds below the target before approval. Returns 1 and fills *out, 0 when
 * the project rests in `state`, ICMS_EINVALID for bad arguments.
 */
int icms__project_follow_up(icms_project_state_t state, const icms__project_facts *facts,
                            icms__project_decision *out);

/* The longest chain of follow-ups (FUNDING -> FULLY_FUNDED -> PENDING_ADMIN_APPROVAL) plus slack.
 */
#define ICMS__PROJECT_SETTLE_MAX 4

/*
 * All follow-ups from `state`, in order, until the project rests: call it
 * after every command that changes a project or its facts, and apply each
 * step (state, audit entry, event) in the same transaction. Fills steps[0 ..
 * *count - 1]; *count is 0 when nothing follows. Returns 0, ICMS_EINVALID for
 * bad arguments, or ICMS_ERROR if the table would loop (a bug).
 */
int icms__project_settle(icms_project_state_t state, const icms__project_facts *facts,
                         icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX], size_t *count);

/*
 * May this caller create a project? A user with the OWNER role (who becomes
 * its owner), or the host acting for a named owner. Returns 0 or
 * ICMS_EFORBIDDEN (ICMS_EINVALID for an unknown kind).
 */
int icms__project_check_create(icms_actor_kind_t kind, unsigned roles);

/* "publish", "start_funding"...; NULL for an unknown action. */
const char *icms__project_action_name(icms__project_action_t action);
/* The action whose name this is; ICMS_EINVALID when none. */
int icms__project_action_parse(const char *name, icms__project_action_t *out);
/* "has products", "deadline ahead"... for one guard bit; NULL for an unknown bit. */
const char *icms__project_guard_name(unsigned guard);

/*
 * Whether confirmed funds of a project in this state may still be taken back
 * (a re-org or double spend reverses a payment): while funding, and in the
 * states the BACK_TO_FUNDING rule leaves; from APPROVED on, money is spent.
 */
bool icms__project_funds_reversible(icms_project_state_t state);

/*
 * Whether a project in this state has ended without completing (CANCELLED or
 * EXPIRED): its open requests end, pending payments close, money still
 * arriving is late. COMPLETED is final too but did not "end" in this sense.
 */
bool icms__project_ended(icms_project_state_t state);

/* What a re-org or double spend does to a confirmed payment, by its project's state. */
typedef enum icms__reversal_t {
    ICMS__REVERSAL_NONE,   /* approved, shipped, completed: the money is spent, nothing is taken back */
    ICMS__REVERSAL_UNFUND, /* funds reversible: the credit leaves the escrow, maybe back to FUNDING */
    ICMS__REVERSAL_UNWIND  /* ended: the credit already went to refunds, which are unwound */
} icms__reversal_t;

icms__reversal_t icms__payment_reversal(icms_project_state_t state);

/* The table itself, for docs and tests. */
const icms__machine *icms__project_machine(void);

#endif
