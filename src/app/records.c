/* Record types and the index values drawn from their documents. */
#include "app/records.h"

#include <ctype.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "domain/read_rules.h"

/* Append the id held as text in doc[field]; ICMS_ENOTFOUND when absent. */
static int key_id_field(const cJSON *doc, const char *field, icms__key *key)
{
    const char *text = icms__json_get_string(doc, field);
    uint8_t id[16];
    if (!text)
        return ICMS_ENOTFOUND;
    if (icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "record field %s is not an id", field);
    icms__key_id(key, id);
    return ICMS_OK;
}

/* Append doc's status; every record that has one must. */
static int key_status(const cJSON *doc, icms__key *key)
{
    const char *status = icms__json_get_string(doc, "status");
    if (!status)
        return icms__error(ICMS_ECORRUPT, "record has no status");
    icms__key_str(key, status);
    return ICMS_OK;
}

static bool field_is(const cJSON *doc, const char *field, const char *value)
{
    const char *text = icms__json_get_string(doc, field);
    return text && strcmp(text, value) == 0;
}

/* ---- user ---- */

static int user_email(const cJSON *doc, icms__key *key)
{
    const char *email = icms__json_get_string(doc, "email");
    if (!email) /* erased users keep no email, and free it for others */
        return ICMS_ENOTFOUND;
    /* Unique regardless of case: Alice@x and alice@x are one address to a person. */
    char lower[320];
    size_t n = strlen(email);
    if (n >= sizeof lower)
        return icms__error(ICMS_EINVALID, "email is too long");
    for (size_t i = 0; i <= n; i++)
        lower[i] = (char)tolower((unsigned char)email[i]);
    icms__key_str(key, lower);
    return ICMS_OK;
}

static const icms__index_def user_indexes[] = {
    {"email", user_email, true},
};

const icms__record_type icms__user_record = {"user", user_indexes,
                                             ICMS__ARRAY_LEN(user_indexes)};

/* ---- project ---- */

static int project_owner(const cJSON *doc, icms__key *key)
{
    return key_id_field(doc, "owner_id", key);
}

static int project_state(const cJSON *doc, icms__key *key)
{
    const char *state = icms__json_get_string(doc, "state");
    if (!state)
        return icms__error(ICMS_ECORRUPT, "project record has no state");
    icms__key_str(key, state);
    return ICMS_OK;
}

/* The projects the public sees (domain/read_rules.h: every state but DRAFT); exactly those. */
static int project_visible(const cJSON *doc, icms__key *key)
{
    (void)key;
    const char *name = icms__json_get_string(doc, "state");
    icms_project_state_t state = ICMS_PROJECT_DRAFT; /* no valid state: not public */
    if (name && icms_project_state_parse(name, &state) != ICMS_OK)
        state = ICMS_PROJECT_DRAFT;
    return icms__project_visible_to(state, NULL) ? ICMS_OK : ICMS_ENOTFOUND;
}

/* Projects the expiry sweep must watch, by deadline, so it reads only what is due. */
static int project_open_deadline(const cJSON *doc, icms__key *key)
{
    if (!field_is(doc, "state", "PUBLISHED") && !field_is(doc, "state", "FUNDING"))
        return ICMS_ENOTFOUND;
    const char *expiry = icms__json_get_string(doc, "expiry_date");
    int64_t ms;
    if (!expiry || icms__time_parse(expiry, strlen(expiry), &ms) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "project record has no valid expiry_date");
    icms__key_int(key, ms);
    return ICMS_OK;
}

static const icms__index_def project_indexes[] = {
    {"by_owner", project_owner, false},
    {"by_state", project_state, false},
    {"visible", project_visible, false},
    {"open_deadline", project_open_deadline, false},
};

const icms__record_type icms__project_record = {"project", project_indexes,
                                                ICMS__ARRAY_LEN(project_indexes)};

/* ---- participation ---- */

static int participation_project(const cJSON *doc, icms__key *key)
{
    return key_id_field(doc, "project_id", key);
}

static int participation_investor(const cJSON *doc, icms__key *key)
{
    return key_id_field(doc, "investor_id", key);
}

/*
 * A project's records by status, so that a page of one status (its owner's
 * PENDING requests, the host's DUE refunds of a cancelled project) reads
 * those, not every record of the project (format 2; a format 1 file gains it
 * when opened: app/format.c). Payments have none: their status changes at
 * every step of the hot path, and the entry would be two more rows each time.
 */
static int project_status(const cJSON *doc, icms__key *key)
{
    int rc = key_id_field(doc, "project_id", key);
    if (rc == ICMS_OK)
        rc = key_status(doc, key);
    return rc == ICMS_ENOTFOUND ? icms__error(ICMS_ECORRUPT, "record without a project") : rc;
}

/* One open (PENDING or APPROVED) request per investor per project, held by the store itself. */
static int participation_open(const cJSON *doc, icms__key *key)
{
    if (!field_is(doc, "status", "PENDING") && !field_is(doc, "status", "APPROVED"))
        return ICMS_ENOTFOUND;
    int rc = key_id_field(doc, "project_id", key);
    if (rc == ICMS_OK)
        rc = key_id_field(doc, "investor_id", key);
    return rc == ICMS_ENOTFOUND ? icms__error(ICMS_ECORRUPT, "participation without ids") : rc;
}

static const icms__index_def participation_indexes[] = {
    {"by_project", participation_project, false},
    {"by_investor", participation_investor, false},
    {"open", participation_open, true},
    {"by_project_status", project_status, false},
};

const icms__record_type icms__participation_record = {
    "participation", participation_indexes, ICMS__ARRAY_LEN(participation_indexes)};

/* ---- payment ---- */

static int by_participation(const cJSON *doc, icms__key *key)
{
    return key_id_field(doc, "participation_id", key);
}

/* One payment in progress per participation, so two cannot both pay what is outstanding. */
static int payment_open(const cJSON *doc, icms__key *key)
{
    if (!field_is(doc, "status", "PENDING") && !field_is(doc, "status", "SUBMITTED"))
        return ICMS_ENOTFOUND;
    return key_id_field(doc, "participation_id", key);
}

/* A transaction pays one payment (or settles one refund) at most. */
static int by_txid(const cJSON *doc, icms__key *key)
{
    const char *txid = icms__json_get_string(doc, "txid");
    if (!txid)
        return ICMS_ENOTFOUND;
    icms__key_str(key, txid);
    return ICMS_OK;
}

static const icms__index_def payment_indexes[] = {
    {"by_participation", by_participation, false},
    {"by_project", participation_project, false},
    {"by_investor", participation_investor, false},
    {"by_status", key_status, false},
    {"open", payment_open, true},
    {"txid", by_txid, true},
};

const icms__record_type icms__payment_record = {"payment", payment_indexes,
                                                ICMS__ARRAY_LEN(payment_indexes)};

static const icms__index_def refund_indexes[] = {
    {"by_investor", participation_investor, false},
    {"by_project", participation_project, false},
    {"by_status", key_status, false},
    {"txid", by_txid, true},
    {"by_project_status", project_status, false},
};

const icms__record_type icms__refund_record = {"refund", refund_indexes,
                                               ICMS__ARRAY_LEN(refund_indexes)};

const icms__record_type icms__payout_record = {"payout", refund_indexes,
                                               ICMS__ARRAY_LEN(refund_indexes)};

/* ---- release ---- */

static const icms__index_def release_indexes[] = {
    {"by_project", participation_project, false},
    {"by_owner", project_owner, false},
    {"by_status", key_status, false},
    {"txid", by_txid, true},
};

const icms__record_type icms__release_record = {"release", release_indexes,
                                                ICMS__ARRAY_LEN(release_indexes)};
