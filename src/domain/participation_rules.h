/*
 * Participation requests as data: who may approve, reject, withdraw or cancel
 * a request, and the checks for making one. Pure; thread-safe.
 * Commitment amounts and caps are in money.h.
 */
#ifndef ICMS_DOMAIN_PARTICIPATION_RULES_H
#define ICMS_DOMAIN_PARTICIPATION_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "domain/machine.h"
#include "icms/types.h"

typedef enum icms__participation_action_t {
    ICMS__PARTICIPATION_APPROVE = 0,  /* the owner accepts: the commitment is reserved */
    ICMS__PARTICIPATION_REJECT = 1,   /* the owner declines (with a reason) */
    ICMS__PARTICIPATION_WITHDRAW = 2, /* the investor takes a pending request back */
    ICMS__PARTICIPATION_CANCEL = 3    /* auto: the project was cancelled or expired */
} icms__participation_action_t;
#define ICMS__PARTICIPATION_ACTION_COUNT 4

/* Event emitted when a request is made (in PENDING); making one is not a transition. */
#define ICMS__PARTICIPATION_EVENT_REQUESTED "participation.requested"

typedef enum icms__participation_guard_t {
    ICMS__QG_PROJECT_OPEN = 1u << 0, /* project PUBLISHED or FUNDING and its deadline ahead */
    ICMS__QG_PROJECT_ENDED = 1u << 1 /* project CANCELLED or EXPIRED */
} icms__participation_guard_t;
#define ICMS__QG_COUNT 2

/* Facts about the project the request belongs to. */
typedef struct icms__participation_facts {
    icms_project_state_t project_state;
    int64_t now_ms;
    int64_t deadline_ms;
} icms__participation_facts;

typedef struct icms__participation_decision {
    icms_participation_status_t from;
    icms__participation_action_t action;
    icms_participation_status_t to;
    const char *event; /* static string */
} icms__participation_decision;

/* Same contract as icms__project_decide(), for a participation request in `status`. */
int icms__participation_decide(icms_participation_status_t status,
                               icms__participation_action_t action, unsigned parties,
                               const icms__participation_facts *facts,
                               icms__participation_decision *out);

/*
 * Whether a request in `status` must end because its project ended: returns 1
 * and fills *out with the CANCEL decision when facts->project_state is
 * CANCELLED or EXPIRED and the request is still open (PENDING or APPROVED);
 * 0 otherwise; ICMS_EINVALID for bad arguments. Apply it to every open
 * request in the same transaction as the project's cancel or expire.
 */
int icms__participation_follow_up(icms_participation_status_t status,
                                  const icms__participation_facts *facts,
                                  icms__participation_decision *out);

/* What is known when an investor asks to participate. */
typedef struct icms__participation_request_facts {
    icms__participation_facts project;
    bool requester_owns_project;  /* the requester owns the project, whatever their roles */
    bool has_open_request;        /* the investor already has a PENDING or APPROVED request here */
    icms_kyc_status_t kyc_status; /* the investor's KYC status */
    bool kyc_required;            /* policy: requesting needs KYC VERIFIED */
} icms__participation_request_facts;

/*
 * May `parties` make a new participation request? The caller must be an
 * investor (ICMS__PARTY_INVESTOR) and not the project's owner (by party or
 * by facts->requester_owns_project, so dropping the OWNER role is no way
 * around it). Returns 0, or
 *   ICMS_EFORBIDDEN           not an investor; the project's own owner; KYC not VERIFIED
 *                             when the policy needs it;
 *   ICMS_EINVALID_TRANSITION  the project is not PUBLISHED or FUNDING, or its deadline passed;
 *   ICMS_EEXISTS              the investor already has an open request in this project;
 *   ICMS_EINVALID             NULL facts.
 */
int icms__participation_check_request(unsigned parties,
                                      const icms__participation_request_facts *facts);

/* True when the status is final (REJECTED, WITHDRAWN, CANCELLED). */
bool icms__participation_status_is_final(icms_participation_status_t status);

const char *icms__participation_action_name(icms__participation_action_t action);
const char *icms__participation_guard_name(unsigned guard);
const icms__machine *icms__participation_machine(void);

#endif
