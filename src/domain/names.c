/* Canonical text names of the public enums (include/icms/types.h). */
#include <string.h>

#include "core/core.h"
#include "icms/types.h"

/* Names indexed by value; every table is dense from 0. */
static const char *const project_states[] = {
    "DRAFT",    "PUBLISHED",  "FUNDING",   "FULLY_FUNDED", "PENDING_ADMIN_APPROVAL",
    "APPROVED", "IN_TRANSIT", "COMPLETED", "CANCELLED",    "EXPIRED",
};
static const char *const participation_types[] = {"PRODUCTS", "PROFIT"};
static const char *const participation_statuses[] = {"PENDING", "APPROVED", "REJECTED", "WITHDRAWN",
                                                     "CANCELLED"};
static const char *const payment_statuses[] = {"PENDING", "SUBMITTED", "CONFIRMED", "PARTIAL",
                                               "EXPIRED", "FAILED",    "REVERSED"};
static const char *const kyc_statuses[] = {"NONE", "PENDING", "VERIFIED", "REJECTED"};
static const char *const actor_kinds[] = {"USER", "SYSTEM", "HOST"};

_Static_assert(ICMS__ARRAY_LEN(project_states) == ICMS_PROJECT_STATE_COUNT, "project states");
_Static_assert(ICMS__ARRAY_LEN(participation_types) == ICMS_PARTICIPATION_TYPE_COUNT, "types");
_Static_assert(ICMS__ARRAY_LEN(participation_statuses) == ICMS_PARTICIPATION_STATUS_COUNT,
               "participation statuses");
_Static_assert(ICMS__ARRAY_LEN(payment_statuses) == ICMS_PAYMENT_STATUS_COUNT, "payments");
_Static_assert(ICMS__ARRAY_LEN(kyc_statuses) == ICMS_KYC_STATUS_COUNT, "kyc");
_Static_assert(ICMS__ARRAY_LEN(actor_kinds) == ICMS_ACTOR_KIND_COUNT, "actor kinds");

/* The value is taken as long so that a negative or huge enum value reads as unknown. */
static const char *name_of(const char *const *names, size_t count, long value)
{
    if (value < 0 || (unsigned long)value >= count)
        return NULL;
    return names[value];
}

static int parse(const char *const *names, size_t count, const char *what, const char *name,
                 int *out)
{
    if (name == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "%s: name and out may not be NULL", what);
    for (size_t i = 0; i < count; i++) {
        if (strcmp(names[i], name) == 0) {
            *out = (int)i;
            return ICMS_OK;
        }
    }
    /* Quote at most 64 bytes of the unknown name: it may be attacker-supplied. */
    return icms__error(ICMS_EINVALID, "unknown %s \"%.64s\"", what, name);
}

#define ICMS__NAME_FUNCS(fn, type, table, what)                                                    \
    const char *icms_##fn##_name(type value)                                                       \
    {                                                                                              \
        return name_of(table, ICMS__ARRAY_LEN(table), (long)value);                                \
    }                                                                                              \
    int icms_##fn##_parse(const char *name, type *out)                                             \
    {                                                                                              \
        int v = 0;                                                                                 \
        int rc = parse(table, ICMS__ARRAY_LEN(table), what, name, out ? &v : NULL);                \
        if (rc == ICMS_OK)                                                                         \
            *out = (type)v;                                                                        \
        return rc;                                                                                 \
    }

ICMS__NAME_FUNCS(project_state, icms_project_state_t, project_states, "project state")
ICMS__NAME_FUNCS(participation_type, icms_participation_type_t, participation_types,
                 "participation type")
ICMS__NAME_FUNCS(participation_status, icms_participation_status_t, participation_statuses,
                 "participation status")
ICMS__NAME_FUNCS(payment_status, icms_payment_status_t, payment_statuses, "payment status")
ICMS__NAME_FUNCS(kyc_status, icms_kyc_status_t, kyc_statuses, "KYC status")
ICMS__NAME_FUNCS(actor_kind, icms_actor_kind_t, actor_kinds, "actor kind")

/* Roles are bits, so their table is not dense: map bit -> name explicitly. */
static const struct {
    icms_role_t role;
    const char *name;
} roles[] = {
    {ICMS_ROLE_OWNER, "OWNER"},
    {ICMS_ROLE_INVESTOR, "INVESTOR"},
    {ICMS_ROLE_ADMIN, "ADMIN"},
};

const char *icms_role_name(icms_role_t role)
{
    for (size_t i = 0; i < ICMS__ARRAY_LEN(roles); i++)
        if (roles[i].role == role)
            return roles[i].name;
    return NULL;
}

int icms_role_parse(const char *name, icms_role_t *out)
{
    if (name == NULL || out == NULL)
        return icms__error(ICMS_EINVALID, "role: name and out may not be NULL");
    for (size_t i = 0; i < ICMS__ARRAY_LEN(roles); i++) {
        if (strcmp(roles[i].name, name) == 0) {
            *out = roles[i].role;
            return ICMS_OK;
        }
    }
    return icms__error(ICMS_EINVALID, "unknown role \"%.64s\"", name);
}

int icms_project_state_is_final(icms_project_state_t state)
{
    return state == ICMS_PROJECT_COMPLETED || state == ICMS_PROJECT_CANCELLED ||
           state == ICMS_PROJECT_EXPIRED;
}
