/* The project transition table and its guards. */
#include <string.h>

#include "core/core.h"
#include "domain/project_rules.h"

#define S(x) (1u << ICMS_PROJECT_##x)
#define A(x) ICMS__PROJECT_##x
#define OWNER ICMS__PARTY_OWNER
#define ADMIN ICMS__PARTY_ADMIN
#define SYSTEM ICMS__PARTY_SYSTEM
#define AUTO ICMS__RULE_AUTO

/*
 * The lifecycle of the seed: DRAFT -> PUBLISHED -> FUNDING -> FULLY_FUNDED ->
 * PENDING_ADMIN_APPROVAL -> APPROVED -> IN_TRANSIT -> COMPLETED, with
 * CANCELLED and EXPIRED. Owners cancel until money is complete (FUNDING);
 * admins until the container leaves (APPROVED).
 */
static const icms__rule project_rules[] = {
    {S(DRAFT), A(EDIT), ICMS_PROJECT_DRAFT, OWNER, 0, 0, "project.updated"},
    {S(DRAFT), A(PUBLISH), ICMS_PROJECT_PUBLISHED, OWNER,
     ICMS__PG_HAS_PRODUCTS | ICMS__PG_POSITIVE_TARGET | ICMS__PG_DEADLINE_AHEAD, 0,
     "project.published"},
    {S(PUBLISHED), A(START_FUNDING), ICMS_PROJECT_FUNDING, SYSTEM,
     ICMS__PG_HAS_APPROVED | ICMS__PG_DEADLINE_AHEAD, AUTO, "project.funding_started"},
    {S(FUNDING), A(MARK_FULLY_FUNDED), ICMS_PROJECT_FULLY_FUNDED, SYSTEM, ICMS__PG_FUNDED_REACHED,
     AUTO, "project.fully_funded"},
    {S(FULLY_FUNDED), A(REQUEST_ADMIN_APPROVAL), ICMS_PROJECT_PENDING_ADMIN_APPROVAL, SYSTEM,
     ICMS__PG_FUNDED_REACHED, AUTO, "project.approval_requested"},
    {S(FULLY_FUNDED) | S(PENDING_ADMIN_APPROVAL), A(BACK_TO_FUNDING), ICMS_PROJECT_FUNDING, SYSTEM,
     ICMS__PG_FUNDED_SHORT, AUTO, "project.funding_reopened"},
    {S(PENDING_ADMIN_APPROVAL), A(APPROVE), ICMS_PROJECT_APPROVED, ADMIN, ICMS__PG_FUNDED_REACHED,
     0, "project.approved"},
    {S(APPROVED), A(SHIP), ICMS_PROJECT_IN_TRANSIT, ADMIN, 0, 0, "project.shipped"},
    {S(IN_TRANSIT), A(COMPLETE), ICMS_PROJECT_COMPLETED, ADMIN, 0, 0, "project.completed"},
    {S(DRAFT) | S(PUBLISHED) | S(FUNDING), A(CANCEL), ICMS_PROJECT_CANCELLED, OWNER, 0, 0,
     "project.cancelled"},
    {S(DRAFT) | S(PUBLISHED) | S(FUNDING) | S(FULLY_FUNDED) | S(PENDING_ADMIN_APPROVAL) |
         S(APPROVED),
     A(CANCEL), ICMS_PROJECT_CANCELLED, ADMIN, 0, 0, "project.cancelled"},
    {S(PUBLISHED) | S(FUNDING), A(EXPIRE), ICMS_PROJECT_EXPIRED, SYSTEM,
     ICMS__PG_DEADLINE_PASSED | ICMS__PG_FUNDED_SHORT | ICMS__PG_NO_PAYMENT_HOLD, 0,
     "project.expired"},
};

static const char *const action_names[] = {
    "edit",
    "publish",
    "start_funding",
    "mark_fully_funded",
    "request_admin_approval",
    "back_to_funding",
    "approve",
    "ship",
    "complete",
    "cancel",
    "expire",
};
_Static_assert(ICMS__ARRAY_LEN(action_names) == ICMS__PROJECT_ACTION_COUNT, "action names");

static const char *const guard_names[] = {
    "has products",
    "positive target",
    "deadline ahead",
    "deadline passed",
    "funded >= target",
    "funded < target",
    "has an approved participation",
    "no payment in flight or grace over",
};
_Static_assert(ICMS__ARRAY_LEN(guard_names) == ICMS__PG_COUNT, "guard names");

const char *icms__project_action_name(icms__project_action_t action)
{
    if ((int)action < 0 || (int)action >= ICMS__PROJECT_ACTION_COUNT)
        return NULL;
    return action_names[action];
}

int icms__project_action_parse(const char *name, icms__project_action_t *out)
{
    if (name == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "project action: name and out may not be NULL");
    for (int i = 0; i < ICMS__PROJECT_ACTION_COUNT; i++) {
        if (strcmp(action_names[i], name) == 0) {
            *out = (icms__project_action_t)i;
            return ICMS_OK;
        }
    }
    return icms__error(ICMS_EINVALID, "unknown project action \"%.64s\"", name);
}

const char *icms__project_guard_name(unsigned guard)
{
    for (unsigned i = 0; i < ICMS__PG_COUNT; i++)
        if (guard == 1u << i)
            return guard_names[i];
    return NULL;
}

static const char *state_name(int s)
{
    return icms_project_state_name((icms_project_state_t)s);
}

static const char *action_name(int a)
{
    return icms__project_action_name((icms__project_action_t)a);
}

/* The grace window ends at deadline + grace; saturate rather than wrap. */
static int64_t grace_end(const icms__project_facts *f)
{
    int64_t end;
    return icms__add_i64(f->deadline_ms, f->grace_ms, &end) ? end : INT64_MAX;
}

static const char *guard(unsigned g, const void *facts)
{
    const icms__project_facts *f = facts;
    switch ((icms__project_guard_t)g) {
    case ICMS__PG_HAS_PRODUCTS:
        return f->product_count > 0 ? NULL : "the project has no products";
    case ICMS__PG_POSITIVE_TARGET:
        return f->target > 0 ? NULL : "the funding target is not positive";
    case ICMS__PG_DEADLINE_AHEAD:
        return f->now_ms < f->deadline_ms ? NULL : "the funding deadline has passed";
    case ICMS__PG_DEADLINE_PASSED:
        return f->now_ms >= f->deadline_ms ? NULL : "the funding deadline has not passed";
    case ICMS__PG_FUNDED_REACHED:
        return f->target > 0 && f->funded >= f->target ? NULL
                                                       : "confirmed funds are below the target";
    case ICMS__PG_FUNDED_SHORT:
        return f->funded < f->target ? NULL : "confirmed funds have reached the target";
    case ICMS__PG_HAS_APPROVED:
        return f->approved_participations > 0 ? NULL : "no participation is approved";
    case ICMS__PG_NO_PAYMENT_HOLD:
        return !f->payment_in_flight || f->now_ms >= grace_end(f)
                   ? NULL
                   : "a submitted payment holds the project within its grace window";
    }
    return "unknown guard"; /* a table bug: refuse rather than allow */
}

static const char *facts_invalid(const void *facts)
{
    const icms__project_facts *f = facts;
    if (f->target < 0)
        return "the target is negative";
    if (f->funded < 0)
        return "the funded amount is negative";
    if (f->grace_ms < 0)
        return "the grace window is negative";
    return NULL;
}

static const icms__machine machine = {
    .noun = "project",
    .rules = project_rules,
    .rule_count = ICMS__ARRAY_LEN(project_rules),
    .state_count = ICMS_PROJECT_STATE_COUNT,
    .action_count = ICMS__PROJECT_ACTION_COUNT,
    .state_name = state_name,
    .action_name = action_name,
    .guard = guard,
    .guard_name = icms__project_guard_name,
    .facts_invalid = facts_invalid,
};

bool icms__project_funds_reversible(icms_project_state_t state)
{
    if (state == ICMS_PROJECT_FUNDING)
        return true;
    /* Otherwise exactly the states a reversal can take back to FUNDING, read from the table. */
    for (size_t i = 0; i < ICMS__ARRAY_LEN(project_rules); i++)
        if (project_rules[i].action == ICMS__PROJECT_BACK_TO_FUNDING &&
            (project_rules[i].from & (1u << state)))
            return true;
    return false;
}

bool icms__project_ended(icms_project_state_t state)
{
    /* The states cancelling and expiring lead to, read from the table. */
    for (size_t i = 0; i < ICMS__ARRAY_LEN(project_rules); i++)
        if ((project_rules[i].action == ICMS__PROJECT_CANCEL ||
             project_rules[i].action == ICMS__PROJECT_EXPIRE) &&
            project_rules[i].to == (int)state)
            return true;
    return false;
}

icms__reversal_t icms__payment_reversal(icms_project_state_t state)
{
    if (icms__project_funds_reversible(state))
        return ICMS__REVERSAL_UNFUND;
    return icms__project_ended(state) ? ICMS__REVERSAL_UNWIND : ICMS__REVERSAL_NONE;
}

const icms__machine *icms__project_machine(void)
{
    return &machine;
}

static void to_project(const icms__decision *d, icms__project_decision *out)
{
    out->from = (icms_project_state_t)d->from;
    out->action = (icms__project_action_t)d->action;
    out->to = (icms_project_state_t)d->to;
    out->event = d->event;
}

int icms__project_decide(icms_project_state_t state, icms__project_action_t action,
                         unsigned parties, const icms__project_facts *facts,
                         icms__project_decision *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "project decide: out may not be NULL");
    icms__decision d;
    int rc = icms__machine_decide(&machine, (int)state, (int)action, parties, facts, &d);
    if (rc == ICMS_OK)
        to_project(&d, out);
    return rc;
}

int icms__project_follow_up(icms_project_state_t state, const icms__project_facts *facts,
                            icms__project_decision *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "project follow-up: out may not be NULL");
    icms__decision d;
    int rc = icms__machine_follow_up(&machine, (int)state, facts, &d);
    if (rc == 1)
        to_project(&d, out);
    return rc;
}

int icms__project_settle(icms_project_state_t state, const icms__project_facts *facts,
                         icms__project_decision steps[ICMS__PROJECT_SETTLE_MAX], size_t *count)
{
    if (steps == NULL || count == NULL)
        return icms__error(ICMS_EINVALID, "project settle: steps and count may not be NULL");
    icms__project_decision local[ICMS__PROJECT_SETTLE_MAX];
    size_t n = 0;
    for (;;) {
        icms__project_decision d;
        int rc = icms__project_follow_up(state, facts, &d);
        if (rc < 0)
            return rc;
        if (rc == 0)
            break;
        if (n == ICMS__PROJECT_SETTLE_MAX)
            return icms__error(ICMS_ERROR, "project follow-ups from %s do not come to rest",
                               icms_project_state_name(state));
        local[n++] = d;
        state = d.to;
    }
    memcpy(steps, local, n * sizeof local[0]);
    *count = n;
    return ICMS_OK;
}

int icms__project_check_create(icms_actor_kind_t kind, unsigned roles)
{
    switch (kind) {
    case ICMS_ACTOR_USER:
        if (roles & ICMS_ROLE_OWNER)
            return ICMS_OK;
        return icms__error(ICMS_EFORBIDDEN, "only a user with the OWNER role may create a project");
    case ICMS_ACTOR_HOST:
        return ICMS_OK;
    case ICMS_ACTOR_SYSTEM:
        return icms__error(ICMS_EFORBIDDEN, "the system does not create projects");
    }
    return icms__error(ICMS_EINVALID, "unknown actor kind %d", (int)kind);
}
