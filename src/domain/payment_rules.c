/* The payment transition table and its guards. */
#include "core/core.h"
#include "domain/payment_rules.h"
#include "domain/project_rules.h"

#define S(x) (1u << ICMS_PAYMENT_##x)
#define A(x) ICMS__PAYMENT_##x
#define SUBMITTERS (ICMS__PARTY_INVESTOR | ICMS__PARTY_ADMIN | ICMS__PARTY_SYSTEM)

/*
 * A transaction may arrive after the window closed: it is still recorded
 * (EXPIRED -> SUBMITTED) so that its money is found and refunded in full.
 * CONFIRM has two rows; the guards pick CONFIRMED or PARTIAL.
 */
static const icms__rule payment_rules[] = {
    {S(PENDING) | S(EXPIRED), A(SUBMIT), ICMS_PAYMENT_SUBMITTED, SUBMITTERS, 0, 0,
     "payment.submitted"},
    {S(SUBMITTED), A(CONFIRM), ICMS_PAYMENT_CONFIRMED, ICMS__PARTY_SYSTEM,
     ICMS__YG_RECEIVED | ICMS__YG_SETTLED, 0, "payment.confirmed"},
    {S(SUBMITTED), A(CONFIRM), ICMS_PAYMENT_PARTIAL, ICMS__PARTY_SYSTEM,
     ICMS__YG_RECEIVED | ICMS__YG_SHORT, 0, "payment.partially_confirmed"},
    {S(SUBMITTED), A(FAIL), ICMS_PAYMENT_FAILED, ICMS__PARTY_SYSTEM, 0, 0, "payment.failed"},
    {S(PENDING), A(EXPIRE), ICMS_PAYMENT_EXPIRED, ICMS__PARTY_SYSTEM, ICMS__YG_WINDOW_CLOSED, 0,
     "payment.expired"},
    {S(CONFIRMED) | S(PARTIAL), A(REVERSE), ICMS_PAYMENT_REVERSED, ICMS__PARTY_SYSTEM, 0, 0,
     "payment.reversed"},
};

static const char *const action_names[] = {"submit", "confirm", "fail", "expire", "reverse"};
_Static_assert(ICMS__ARRAY_LEN(action_names) == ICMS__PAYMENT_ACTION_COUNT, "actions");

static const char *const guard_names[] = {"received > 0", "paid in full", "paid short",
                                          "window closed or project ended"};
_Static_assert(ICMS__ARRAY_LEN(guard_names) == ICMS__YG_COUNT, "guards");

const char *icms__payment_action_name(icms__payment_action_t action)
{
    if ((int)action < 0 || (int)action >= ICMS__PAYMENT_ACTION_COUNT)
        return NULL;
    return action_names[action];
}

const char *icms__payment_guard_name(unsigned guard)
{
    for (unsigned i = 0; i < ICMS__YG_COUNT; i++)
        if (guard == 1u << i)
            return guard_names[i];
    return NULL;
}

static const char *state_name(int s)
{
    return icms_payment_status_name((icms_payment_status_t)s);
}

static const char *action_name(int a)
{
    return icms__payment_action_name((icms__payment_action_t)a);
}

static bool is_partial(const icms__payment_facts *f)
{
    icms__payment_outcome o;
    /* facts_invalid() has vetted the inputs, so classify cannot fail here. */
    if (icms__payment_classify(f->expected, f->outstanding, f->received, f->late, &o))
        return false;
    return o.kind == ICMS__PAYMENT_PARTIAL;
}

static const char *guard(unsigned g, const void *facts)
{
    const icms__payment_facts *f = facts;
    switch ((icms__payment_guard_t)g) {
    case ICMS__YG_RECEIVED:
        return f->received > 0 ? NULL : "the transaction pays nothing to the payment address";
    case ICMS__YG_SETTLED:
        return !is_partial(f) ? NULL : "less than the amount due was received";
    case ICMS__YG_SHORT:
        return is_partial(f) ? NULL : "the amount due was received in full";
    case ICMS__YG_WINDOW_CLOSED:
        return f->project_ended || f->now_ms >= f->expires_at_ms
                   ? NULL
                   : "the payment window is still open";
    }
    return "unknown guard";
}

static const char *facts_invalid(const void *facts)
{
    const icms__payment_facts *f = facts;
    if (f->expected < 1)
        return "the expected amount is not positive";
    if (f->outstanding < 0)
        return "the outstanding amount is negative";
    if (f->received < 0)
        return "the received amount is negative";
    return NULL;
}

static const icms__machine machine = {
    .noun = "payment",
    .rules = payment_rules,
    .rule_count = ICMS__ARRAY_LEN(payment_rules),
    .state_count = ICMS_PAYMENT_STATUS_COUNT,
    .action_count = ICMS__PAYMENT_ACTION_COUNT,
    .state_name = state_name,
    .action_name = action_name,
    .guard = guard,
    .guard_name = icms__payment_guard_name,
    .facts_invalid = facts_invalid,
};

const icms__machine *icms__payment_machine(void)
{
    return &machine;
}

int icms__payment_decide(icms_payment_status_t status, icms__payment_action_t action,
                         unsigned parties, const icms__payment_facts *facts,
                         icms__payment_decision *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "payment decide: out may not be NULL");
    icms__decision d;
    int rc = icms__machine_decide(&machine, (int)status, (int)action, parties, facts, &d);
    if (rc == ICMS_OK) {
        out->from = (icms_payment_status_t)d.from;
        out->action = (icms__payment_action_t)d.action;
        out->to = (icms_payment_status_t)d.to;
        out->event = d.event;
    }
    return rc;
}

int icms__payment_check_initiate(unsigned parties, const icms__payment_initiate_facts *f)
{
    if (f == NULL)
        return icms__error(ICMS_EINVALID, "payment initiate: facts may not be NULL");
    if (!(parties & ICMS__PARTY_INVESTOR))
        return icms__error(ICMS_EFORBIDDEN,
                           "only the participation's investor may start a payment for it");
    if (f->participation_status != ICMS_PARTICIPATION_APPROVED)
        return icms__error(ICMS_EINVALID_TRANSITION, "cannot pay for a participation in status %s",
                           icms_participation_status_name(f->participation_status)
                               ? icms_participation_status_name(f->participation_status)
                               : "(unknown)");
    if (f->project_state != ICMS_PROJECT_FUNDING)
        return icms__error(ICMS_EINVALID_TRANSITION, "cannot pay into a project in state %s",
                           icms_project_state_name(f->project_state)
                               ? icms_project_state_name(f->project_state)
                               : "(unknown)");
    if (f->outstanding < 0)
        return icms__error(ICMS_EINVALID, "payment initiate: the outstanding amount is negative");
    if (f->outstanding == 0)
        return icms__error(ICMS_EINVALID_TRANSITION, "the commitment is already paid in full");
    if (f->amount < 1 || f->amount > f->outstanding)
        return icms__error(ICMS_EINVALID,
                           "the amount %lld is not between 1 and the %lld outstanding",
                           (long long)f->amount, (long long)f->outstanding);
    if (f->kyc_required && f->kyc_status != ICMS_KYC_VERIFIED)
        return icms__error(ICMS_EFORBIDDEN, "KYC verification is required to pay");
    return ICMS_OK;
}

bool icms__payment_is_late(const icms__payment_late_facts *facts)
{
    if (facts == NULL)
        return false;
    /*
     * Money for a closed window, or for a project that no longer takes money.
     * The window closes by the clock; the sweep that marks a payment EXPIRED
     * only catches up with it. The investor's act is attaching the
     * transaction, so that moment is what is judged.
     */
    int64_t attached = facts->submitted_at_ms != 0 ? facts->submitted_at_ms : facts->now_ms;
    return facts->marked_late || facts->status == ICMS_PAYMENT_EXPIRED ||
           icms__project_ended(facts->project_state) || attached >= facts->expires_at_ms;
}
