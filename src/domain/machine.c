/* The table-driven decision engine shared by the project, participation and payment machines. */
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "domain/machine.h"

unsigned icms__parties(icms_actor_kind_t kind, unsigned roles, int owns_project, int is_investor)
{
    switch (kind) {
    case ICMS_ACTOR_SYSTEM:
        return ICMS__PARTY_SYSTEM;
    case ICMS_ACTOR_HOST:
        return ICMS__PARTY_ADMIN;
    case ICMS_ACTOR_USER: {
        unsigned p = 0;
        if (roles & ICMS_ROLE_ADMIN)
            p |= ICMS__PARTY_ADMIN;
        if (owns_project && (roles & ICMS_ROLE_OWNER))
            p |= ICMS__PARTY_OWNER;
        if (is_investor && (roles & ICMS_ROLE_INVESTOR))
            p |= ICMS__PARTY_INVESTOR;
        return p;
    }
    }
    return 0;
}

void icms__parties_describe(unsigned parties, char *buf, size_t len)
{
    static const struct {
        unsigned bit;
        const char *words;
    } names[] = {
        {ICMS__PARTY_OWNER, "the project owner"},
        {ICMS__PARTY_ADMIN, "an admin"},
        {ICMS__PARTY_SYSTEM, "the system"},
        {ICMS__PARTY_INVESTOR, "the investor"},
    };
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t used = 0, total = 0, seen = 0;
    for (size_t i = 0; i < ICMS__ARRAY_LEN(names); i++)
        if (parties & names[i].bit)
            total++;
    if (total == 0) {
        snprintf(buf, len, "nobody");
        return;
    }
    for (size_t i = 0; i < ICMS__ARRAY_LEN(names); i++) {
        if (!(parties & names[i].bit))
            continue;
        const char *sep = seen == 0 ? "" : (seen + 1 == total ? " or " : ", ");
        int n = snprintf(buf + used, len - used, "%s%s", sep, names[i].words);
        if (n < 0 || (size_t)n >= len - used)
            return; /* truncated, still terminated */
        used += (size_t)n;
        seen++;
    }
}

static int state_ok(const icms__machine *m, int state)
{
    return state >= 0 && state < m->state_count;
}

static int applies_in(const icms__rule *r, int state)
{
    return (r->from >> state) & 1u;
}

/* The first guard of r that fails, as a clause, or NULL when all hold. */
static const char *failing_guard(const icms__machine *m, const icms__rule *r, const void *facts)
{
    for (unsigned bit = 1; bit != 0 && bit <= r->guards; bit <<= 1) {
        if (!(r->guards & bit))
            continue;
        const char *why = m->guard(bit, facts);
        if (why)
            return why;
    }
    return NULL;
}

static void fill(icms__decision *out, int state, const icms__rule *r)
{
    out->from = state;
    out->action = r->action;
    out->to = r->to;
    out->event = r->event;
    out->rule = r;
}

int icms__machine_decide(const icms__machine *m, int state, int action, unsigned parties,
                         const void *facts, icms__decision *out)
{
    if (m == NULL || facts == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "decide: machine, facts and out may not be NULL");
    if (!state_ok(m, state))
        return icms__error(ICMS_EINVALID, "%d is not a %s state", state, m->noun);
    if (action < 0 || action >= m->action_count)
        return icms__error(ICMS_EINVALID, "%d is not a %s action", action, m->noun);
    const char *insane = m->facts_invalid ? m->facts_invalid(facts) : NULL;
    if (insane)
        return icms__error(ICMS_EINVALID, "%s facts: %s", m->noun, insane);

    const char *act = m->action_name(action);
    unsigned anywhere = 0, here = 0;
    int starts_here = 0;
    for (size_t i = 0; i < m->rule_count; i++) {
        const icms__rule *r = &m->rules[i];
        if (r->action != action)
            continue;
        anywhere |= r->actors;
        if (applies_in(r, state)) {
            starts_here = 1;
            here |= r->actors;
        }
    }

    char who[96];
    /* Authority first: someone who may never do this learns nothing about the state. */
    if (!(anywhere & parties)) {
        icms__parties_describe(anywhere, who, sizeof who);
        return icms__error(ICMS_EFORBIDDEN, "only %s may %s a %s", who, act, m->noun);
    }
    if (!starts_here)
        return icms__error(ICMS_EINVALID_TRANSITION, "cannot %s a %s in state %s", act, m->noun,
                           m->state_name(state));
    if (!(here & parties)) {
        icms__parties_describe(here, who, sizeof who);
        return icms__error(ICMS_EFORBIDDEN, "only %s may %s a %s in state %s", who, act, m->noun,
                           m->state_name(state));
    }

    const char *first_failure = NULL;
    for (size_t i = 0; i < m->rule_count; i++) {
        const icms__rule *r = &m->rules[i];
        if (r->action != action || !applies_in(r, state) || !(r->actors & parties))
            continue;
        const char *why = failing_guard(m, r, facts);
        if (why == NULL) {
            fill(out, state, r);
            return ICMS_OK;
        }
        if (first_failure == NULL)
            first_failure = why;
    }
    return icms__error(ICMS_EINVALID_TRANSITION, "cannot %s a %s in state %s: %s", act, m->noun,
                       m->state_name(state), first_failure);
}

int icms__machine_follow_up(const icms__machine *m, int state, const void *facts,
                            icms__decision *out)
{
    if (m == NULL || facts == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "follow-up: machine, facts and out may not be NULL");
    if (!state_ok(m, state))
        return icms__error(ICMS_EINVALID, "%d is not a %s state", state, m->noun);
    const char *insane = m->facts_invalid ? m->facts_invalid(facts) : NULL;
    if (insane)
        return icms__error(ICMS_EINVALID, "%s facts: %s", m->noun, insane);
    for (size_t i = 0; i < m->rule_count; i++) {
        const icms__rule *r = &m->rules[i];
        if ((r->flags & ICMS__RULE_AUTO) && applies_in(r, state) &&
            failing_guard(m, r, facts) == NULL) {
            fill(out, state, r);
            return 1;
        }
    }
    return 0;
}
