/*
 * libicms: the small enums every part of the API shares.
 *
 * Project states, participation types and statuses, payment statuses, user
 * roles, KYC statuses and actor kinds, with their canonical text names (the
 * names used in JSON, in events and on the command line). The rules that move
 * records between these states are described in docs/domain.md.
 *
 * The numeric values are part of the ABI: new values are only ever appended.
 * Store and exchange the text names, not the numbers.
 */
#ifndef ICMS_TYPES_H
#define ICMS_TYPES_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Base units in one GAP: every amount in the API is an int64_t count of these. */
#define ICMS_BASE_UNITS_PER_GAP 100000000

/** The lifecycle of an import project (docs/domain.md, "Project states"). */
typedef enum icms_project_state_t {
    /** created, editable, visible to its owner only */
    ICMS_PROJECT_DRAFT = 0,
    /** visible, accepting participation requests */
    ICMS_PROJECT_PUBLISHED = 1,
    /** a participation was approved; receiving payments */
    ICMS_PROJECT_FUNDING = 2,
    /** confirmed payments reached the target (transient: moves on in the same command) */
    ICMS_PROJECT_FULLY_FUNDED = 3,
    /** awaiting an admin's review */
    ICMS_PROJECT_PENDING_ADMIN_APPROVAL = 4,
    /** an admin approved it for execution */
    ICMS_PROJECT_APPROVED = 5,
    /** the container was dispatched */
    ICMS_PROJECT_IN_TRANSIT = 6,
    /** received; distributions processed (final) */
    ICMS_PROJECT_COMPLETED = 7,
    /** cancelled by its owner or an admin (final) */
    ICMS_PROJECT_CANCELLED = 8,
    /** the deadline passed without full funding (final) */
    ICMS_PROJECT_EXPIRED = 9
} icms_project_state_t;
/** Number of project states; valid values are 0 .. ICMS_PROJECT_STATE_COUNT - 1. */
#define ICMS_PROJECT_STATE_COUNT 10

/** What an investor asks for in a participation request. */
typedef enum icms_participation_type_t {
    ICMS_PARTICIPATION_PRODUCTS = 0, /**< units of products from the catalog, at landed cost */
    ICMS_PARTICIPATION_PROFIT = 1    /**< capital, repaid with a pro-rata share of the profit */
} icms_participation_type_t;
#define ICMS_PARTICIPATION_TYPE_COUNT 2

/** The status of a participation request. */
typedef enum icms_participation_status_t {
    ICMS_PARTICIPATION_PENDING = 0,   /**< requested, awaiting the owner's decision */
    ICMS_PARTICIPATION_APPROVED = 1,  /**< approved: the commitment is reserved */
    ICMS_PARTICIPATION_REJECTED = 2,  /**< rejected by the owner (final) */
    ICMS_PARTICIPATION_WITHDRAWN = 3, /**< withdrawn by the investor while pending (final) */
    ICMS_PARTICIPATION_CANCELLED = 4  /**< ended with its project (cancelled, expired; final) */
} icms_participation_status_t;
#define ICMS_PARTICIPATION_STATUS_COUNT 5

/** The status of a payment (docs/domain.md, "Payments"). */
typedef enum icms_payment_status_t {
    ICMS_PAYMENT_PENDING = 0,   /**< initiated: an address and an amount, no transaction yet */
    ICMS_PAYMENT_SUBMITTED = 1, /**< a transaction id is attached, not yet deep enough */
    ICMS_PAYMENT_CONFIRMED = 2, /**< confirmed at the required depth, for at least the amount */
    ICMS_PAYMENT_PARTIAL = 3,   /**< confirmed, but for less than the expected amount */
    ICMS_PAYMENT_EXPIRED = 4,   /**< no transaction arrived in the payment window */
    ICMS_PAYMENT_FAILED = 5,    /**< the transaction does not pay this payment */
    ICMS_PAYMENT_REVERSED = 6   /**< confirmed once, then undone by a re-org or double spend */
} icms_payment_status_t;
#define ICMS_PAYMENT_STATUS_COUNT 7

/**
 * User roles. A user may hold several, so roles combine as a bit mask
 * (`ICMS_ROLE_OWNER | ICMS_ROLE_INVESTOR`); the name functions take one role.
 */
typedef enum icms_role_t {
    ICMS_ROLE_OWNER = 1,    /**< creates and runs import projects */
    ICMS_ROLE_INVESTOR = 2, /**< requests participations and pays for them */
    ICMS_ROLE_ADMIN = 4     /**< approves projects, manages logistics, roles and KYC */
} icms_role_t;
/** Every role bit; any other bit in a role mask is invalid. */
#define ICMS_ROLE_ALL 7u

/** Know-your-customer status of a user; only an admin decides it. */
typedef enum icms_kyc_status_t {
    ICMS_KYC_NONE = 0,     /**< nothing submitted */
    ICMS_KYC_PENDING = 1,  /**< submitted, awaiting an admin */
    ICMS_KYC_VERIFIED = 2, /**< verified by an admin */
    ICMS_KYC_REJECTED = 3  /**< rejected by an admin */
} icms_kyc_status_t;
#define ICMS_KYC_STATUS_COUNT 4

/** Who is behind a call (the actor in a request context). */
typedef enum icms_actor_kind_t {
    ICMS_ACTOR_USER = 0,   /**< a user, identified by a verified access token */
    ICMS_ACTOR_SYSTEM = 1, /**< the library itself: the expiry sweep, payment verification */
    ICMS_ACTOR_HOST = 2    /**< the embedding application, trusted; acts with an admin's rights */
} icms_actor_kind_t;
#define ICMS_ACTOR_KIND_COUNT 3

/**
 * @name Names of the enum values.
 *
 * `icms_<type>_name()` returns the canonical upper-case name of a value
 * ("PENDING_ADMIN_APPROVAL"), a static string the caller must not free, or
 * NULL when the value is not one of the type's values.
 *
 * `icms_<type>_parse()` turns a canonical name back into its value. The match
 * is exact (upper case, no surrounding blanks). Returns 0, or ICMS_EINVALID
 * for NULL arguments or an unknown name, leaving *out unchanged.
 *
 * All of them are pure and safe to call from any thread, before icms_init().
 */
/**@{*/
ICMS_EXTERN const char *icms_project_state_name(icms_project_state_t state);
ICMS_EXTERN int icms_project_state_parse(const char *name, icms_project_state_t *out);

ICMS_EXTERN const char *icms_participation_type_name(icms_participation_type_t type);
ICMS_EXTERN int icms_participation_type_parse(const char *name, icms_participation_type_t *out);

ICMS_EXTERN const char *icms_participation_status_name(icms_participation_status_t status);
ICMS_EXTERN int icms_participation_status_parse(const char *name, icms_participation_status_t *out);

ICMS_EXTERN const char *icms_payment_status_name(icms_payment_status_t status);
ICMS_EXTERN int icms_payment_status_parse(const char *name, icms_payment_status_t *out);

/** The name of one role ("OWNER"); NULL for 0, for a mask of several roles, or an unknown bit. */
ICMS_EXTERN const char *icms_role_name(icms_role_t role);
ICMS_EXTERN int icms_role_parse(const char *name, icms_role_t *out);

ICMS_EXTERN const char *icms_kyc_status_name(icms_kyc_status_t status);
ICMS_EXTERN int icms_kyc_status_parse(const char *name, icms_kyc_status_t *out);

ICMS_EXTERN const char *icms_actor_kind_name(icms_actor_kind_t kind);
ICMS_EXTERN int icms_actor_kind_parse(const char *name, icms_actor_kind_t *out);
/**@}*/

/**
 * True (1) when a project in this state is final: nothing moves it any more
 * (COMPLETED, CANCELLED, EXPIRED). 0 otherwise, including for unknown values.
 */
ICMS_EXTERN int icms_project_state_is_final(icms_project_state_t state);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_TYPES_H */
