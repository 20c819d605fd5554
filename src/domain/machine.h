/*
 * The engine behind the three state machines (project, participation,
 * payment). Each machine is a table of rules, kept as data; one function
 * decides any (state, action, actor, facts) question against a table.
 *
 * Callers use the typed wrappers in project_rules.h, participation_rules.h and
 * payment_rules.h; this header is what those share.
 */
#ifndef ICMS_DOMAIN_MACHINE_H
#define ICMS_DOMAIN_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "icms/types.h"

/*
 * Who is acting, relative to the record. A caller may be several at once (an
 * admin who owns the project), so parties combine as a bit mask; a rule lists
 * the parties it admits and any one of them is enough. icms__parties()
 * computes the mask from an actor's kind, roles and relationships.
 */
typedef enum icms__party_t {
    ICMS__PARTY_OWNER = 1u << 0,   /* the user who owns the project (and holds the OWNER role) */
    ICMS__PARTY_ADMIN = 1u << 1,   /* a user with the ADMIN role, or the trusted host */
    ICMS__PARTY_SYSTEM = 1u << 2,  /* the library itself: sweeps, verification, follow-ups */
    ICMS__PARTY_INVESTOR = 1u << 3 /* the investor the participation or payment belongs to */
} icms__party_t;
#define ICMS__PARTY_ALL 0xFu

/*
 * The parties an actor counts as for one record.
 *   kind         who is calling;
 *   roles        the user's role mask (ICMS_ROLE_*), ignored unless kind is USER;
 *   owns_project the user owns the project the record belongs to;
 *   is_investor  the user is the investor of the participation or payment in question.
 * A relationship counts only with its role: a project owner who lost the
 * OWNER role no longer acts as owner, an investor without INVESTOR no longer
 * acts as investor. The host counts as an admin. Unknown kinds give 0.
 */
unsigned icms__parties(icms_actor_kind_t kind, unsigned roles, int owns_project, int is_investor);

/* Rule flags. */
#define ICMS__RULE_AUTO 1u /* a follow-up the library applies on its own when the guards hold */

/* One row of a transition table. */
typedef struct icms__rule {
    uint32_t from;     /* bit (1u << state) for every state the rule applies in */
    int action;        /* the machine's action enum */
    int to;            /* the state it leads to */
    unsigned actors;   /* ICMS__PARTY_* bits admitted */
    unsigned guards;   /* the machine's guard bits; all must hold */
    unsigned flags;    /* ICMS__RULE_* */
    const char *event; /* the event type emitted, e.g. "project.published" */
} icms__rule;

/*
 * Evaluate one guard bit against the machine's facts: NULL when it holds,
 * otherwise a clause saying why not ("the project has no products").
 */
typedef const char *(*icms__guard_fn)(unsigned guard, const void *facts);

typedef struct icms__machine {
    const char *noun; /* "project", "participation", "payment": used in messages */
    const icms__rule *rules;
    size_t rule_count;
    int state_count;
    int action_count;
    const char *(*state_name)(int state);
    const char *(*action_name)(int action);
    icms__guard_fn guard;
    const char *(*guard_name)(unsigned guard); /* "has products": for docs */
    /* Checks the facts themselves (negative amounts...); NULL when they are sane. */
    const char *(*facts_invalid)(const void *facts);
} icms__machine;

/* The answer to a successful question: the rule that applies and what it does. */
typedef struct icms__decision {
    int from;
    int action;
    int to;
    const char *event;
    const icms__rule *rule;
} icms__decision;

/*
 * Decide whether `parties` may apply `action` to a record in `state`, given
 * `facts` (the machine's facts struct). The checks, in order:
 *   ICMS_EINVALID             unknown state or action, NULL arguments, insane facts;
 *   ICMS_EFORBIDDEN           no rule for this action admits any of the parties, in any state;
 *   ICMS_EINVALID_TRANSITION  no rule for this action starts from `state`;
 *   ICMS_EFORBIDDEN           rules start from `state`, but none admits the parties;
 *   ICMS_EINVALID_TRANSITION  a guard fails (the message says which).
 * When several rules start from `state` and admit the parties, the first in
 * table order whose guards all hold wins (this is how one action reaches
 * different states, e.g. a payment confirms as CONFIRMED or PARTIAL). On
 * success fills *out and returns 0; on failure *out is untouched.
 */
int icms__machine_decide(const icms__machine *m, int state, int action, unsigned parties,
                         const void *facts, icms__decision *out);

/*
 * The automatic follow-up from `state`: the first ICMS__RULE_AUTO rule that
 * starts there and whose guards hold. Returns 1 and fills *out, 0 when there
 * is none, ICMS_EINVALID for bad arguments.
 */
int icms__machine_follow_up(const icms__machine *m, int state, const void *facts,
                            icms__decision *out);

/*
 * The machine's table as a Markdown table (from | action | to | who | guards
 * | event), the form docs/domain.md shows; a test keeps the two identical.
 * *out is NUL-terminated, the caller's, freed with icms__free().
 * ICMS_EINVALID, ICMS_ENOMEM.
 */
int icms__machine_markdown(const icms__machine *m, char **out);

/*
 * Describe a party mask in words ("the project owner or an admin") into buf.
 * Used in messages and in docs; always NUL-terminates (when len > 0).
 */
void icms__parties_describe(unsigned parties, char *buf, size_t len);

#endif
