/* The participation-request transition table and its guards. */
#include "core/core.h"
#include "domain/participation_rules.h"
#include "domain/project_rules.h"

#define S(x) (1u << ICMS_PARTICIPATION_##x)
#define A(x) ICMS__PARTICIPATION_##x

static const icms__rule participation_rules[] = {
    {S(PENDING), A(APPROVE), ICMS_PARTICIPATION_APPROVED, ICMS__PARTY_OWNER, ICMS__QG_PROJECT_OPEN,
     0, "participation.approved"},
    {S(PENDING), A(REJECT), ICMS_PARTICIPATION_REJECTED, ICMS__PARTY_OWNER, 0, 0,
     "participation.rejected"},
    {S(PENDING), A(WITHDRAW), ICMS_PARTICIPATION_WITHDRAWN, ICMS__PARTY_INVESTOR, 0, 0,
     "participation.withdrawn"},
    {S(PENDING) | S(APPROVED), A(CANCEL), ICMS_PARTICIPATION_CANCELLED, ICMS__PARTY_SYSTEM,
     ICMS__QG_PROJECT_ENDED, ICMS__RULE_AUTO, "participation.cancelled"},
};

static const char *const action_names[] = {"approve", "reject", "withdraw", "cancel"};
_Static_assert(ICMS__ARRAY_LEN(action_names) == ICMS__PARTICIPATION_ACTION_COUNT, "actions");

static const char *const guard_names[] = {"project open", "project ended"};
_Static_assert(ICMS__ARRAY_LEN(guard_names) == ICMS__QG_COUNT, "guards");

const char *icms__participation_action_name(icms__participation_action_t action)
{
    if ((int)action < 0 || (int)action >= ICMS__PARTICIPATION_ACTION_COUNT)
        return NULL;
    return action_names[action];
}

const char *icms__participation_guard_name(unsigned guard)
{
    for (unsigned i = 0; i < ICMS__QG_COUNT; i++)
        if (guard == 1u << i)
            return guard_names[i];
    return NULL;
}

static const char *state_name(int s)
{
    return icms_participation_status_name((icms_participation_status_t)s);
}

static const char *action_name(int a)
{
    return icms__participation_action_name((icms__participation_action_t)a);
}

/* Why the project does not take or approve requests now; NULL when it does. */
static const char *project_closed_reason(const icms__participation_facts *f)
{
    if (f->project_state != ICMS_PROJECT_PUBLISHED && f->project_state != ICMS_PROJECT_FUNDING)
        return "the project is not open for participation";
    if (f->now_ms >= f->deadline_ms)
        return "the project's funding deadline has passed";
    return NULL;
}

static const char *guard(unsigned g, const void *facts)
{
    const icms__participation_facts *f = facts;
    switch ((icms__participation_guard_t)g) {
    case ICMS__QG_PROJECT_OPEN:
        return project_closed_reason(f);
    case ICMS__QG_PROJECT_ENDED:
        return icms__project_ended(f->project_state) ? NULL : "the project has not ended";
    }
    return "unknown guard";
}

static const char *facts_invalid(const void *facts)
{
    const icms__participation_facts *f = facts;
    if (icms_project_state_name(f->project_state) == NULL)
        return "the project state is unknown";
    return NULL;
}

static const icms__machine machine = {
    .noun = "participation",
    .rules = participation_rules,
    .rule_count = ICMS__ARRAY_LEN(participation_rules),
    .state_count = ICMS_PARTICIPATION_STATUS_COUNT,
    .action_count = ICMS__PARTICIPATION_ACTION_COUNT,
    .state_name = state_name,
    .action_name = action_name,
    .guard = guard,
    .guard_name = icms__participation_guard_name,
    .facts_invalid = facts_invalid,
};

const icms__machine *icms__participation_machine(void)
{
    return &machine;
}

static void to_participation(const icms__decision *d, icms__participation_decision *out)
{
    out->from = (icms_participation_status_t)d->from;
    out->action = (icms__participation_action_t)d->action;
    out->to = (icms_participation_status_t)d->to;
    out->event = d->event;
}

int icms__participation_decide(icms_participation_status_t status,
                               icms__participation_action_t action, unsigned parties,
                               const icms__participation_facts *facts,
                               icms__participation_decision *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "participation decide: out may not be NULL");
    icms__decision d;
    int rc = icms__machine_decide(&machine, (int)status, (int)action, parties, facts, &d);
    if (rc == ICMS_OK)
        to_participation(&d, out);
    return rc;
}

int icms__participation_follow_up(icms_participation_status_t status,
                                  const icms__participation_facts *facts,
                                  icms__participation_decision *out)
{
    if (out == NULL)
        return icms__error(ICMS_EINVALID, "participation follow-up: out may not be NULL");
    icms__decision d;
    int rc = icms__machine_follow_up(&machine, (int)status, facts, &d);
    if (rc == 1)
        to_participation(&d, out);
    return rc;
}

int icms__participation_check_request(unsigned parties,
                                      const icms__participation_request_facts *facts)
{
    if (facts == NULL)
        return icms__error(ICMS_EINVALID, "participation request: facts may not be NULL");
    const char *insane = facts_invalid(&facts->project);
    if (insane)
        return icms__error(ICMS_EINVALID, "participation facts: %s", insane);
    if (!(parties & ICMS__PARTY_INVESTOR))
        return icms__error(ICMS_EFORBIDDEN, "only an investor may request a participation");
    /* The owner decides on requests, so the owner may not be one of the requesters. */
    if ((parties & ICMS__PARTY_OWNER) || facts->requester_owns_project)
        return icms__error(ICMS_EFORBIDDEN,
                           "the project owner may not request a participation in their project");
    const char *closed = project_closed_reason(&facts->project);
    if (closed)
        return icms__error(ICMS_EINVALID_TRANSITION, "cannot request a participation: %s", closed);
    if (facts->has_open_request)
        return icms__error(ICMS_EEXISTS,
                           "the investor already has an open request in this project");
    if (facts->kyc_required && facts->kyc_status != ICMS_KYC_VERIFIED)
        return icms__error(ICMS_EFORBIDDEN,
                           "KYC verification is required to request a participation");
    return ICMS_OK;
}

bool icms__participation_status_is_final(icms_participation_status_t status)
{
    return status == ICMS_PARTICIPATION_REJECTED || status == ICMS_PARTICIPATION_WITHDRAWN ||
           status == ICMS_PARTICIPATION_CANCELLED;
}
