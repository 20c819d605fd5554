/*
 * Who is told what: the routing table (data, not code) and the recipients
 * of an event, read from the store when the notification is made.
 */
#include <string.h>

#include "app/notify_doc.h"
#include "app/records.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"

/* clang-format off */
const icms__route icms__routes[] = {
    {"participation.requested", ICMS__TO_OWNER},
    {"participation.approved",  ICMS__TO_INVESTOR},
    {"participation.rejected",  ICMS__TO_INVESTOR},
    {"payment.confirmed",       ICMS__TO_INVESTOR | ICMS__TO_OWNER},
    {"project.approved",        ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
    {"project.shipped",         ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
    {"project.completed",       ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
    {"project.cancelled",       ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
    {"project.expired",         ICMS__TO_PARTICIPANTS | ICMS__TO_OWNER},
    {"payout.due",              ICMS__TO_INVESTOR},
    {"payout.paid",             ICMS__TO_INVESTOR},
    {"refund.due",              ICMS__TO_INVESTOR},
    {"refund.paid",             ICMS__TO_INVESTOR},
    {"refund.voided",           ICMS__TO_INVESTOR},
    {"release.due",             ICMS__TO_OWNER},
    {"release.paid",            ICMS__TO_OWNER},
    {"release.voided",          ICMS__TO_OWNER},
};
/* clang-format on */
const size_t icms__route_count = ICMS__ARRAY_LEN(icms__routes);

/*
 * Payments, refunds, payouts and releases are read here only, by key ("r",
 * type, id): their indexes are the payments code's business, so a bare type
 * is enough. Each names its investor (or owner) in a field of its own: a
 * payout or refund is for its investor_id, whatever the event's data says.
 */
static const icms__record_type payment_type = {"payment", NULL, 0};
static const icms__record_type refund_type = {"refund", NULL, 0};
static const icms__record_type payout_type = {"payout", NULL, 0};
static const icms__record_type release_type = {"release", NULL, 0};

/* The record an event of kind ("payment" of "payment.confirmed") is about. */
static const icms__record_type *record_type_of(const char *kind, size_t len)
{
    static const icms__record_type *const types[] = {&icms__participation_record, &payment_type,
                                                     &refund_type, &payout_type, &release_type};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(types); i++)
        if (strlen(types[i]->name) == len && strncmp(types[i]->name, kind, len) == 0)
            return types[i];
    return NULL;
}

const icms__route *icms__route_find(const char *type)
{
    for (size_t i = 0; i < icms__route_count; i++)
        if (strcmp(icms__routes[i].type, type) == 0)
            return &icms__routes[i];
    return NULL;
}

/* ---- recipients ---- */

static int add(icms__recipients *r, const uint8_t id[16], const char *role)
{
    for (size_t i = 0; i < r->count; i++)
        if (memcmp(r->items[i].user_id, id, 16) == 0)
            return ICMS_OK;
    if (r->count == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 8;
        icms__recipient *items = icms__realloc(r->items, cap * sizeof *items);
        if (!items)
            return icms__error(ICMS_ENOMEM, "out of memory");
        r->items = items;
        r->cap = cap;
    }
    memcpy(r->items[r->count].user_id, id, 16);
    r->items[r->count].role = role;
    r->count++;
    return ICMS_OK;
}

static int add_field(icms__recipients *r, const cJSON *doc, const char *field, const char *role)
{
    const char *text = icms__json_get_string(doc, field);
    uint8_t id[16];
    if (!text || icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "a record's %s is not an id", field);
    return add(r, id, role);
}

static int get_by_text(icms__tx *tx, const icms__record_type *type, const char *id_text,
                       cJSON **out)
{
    uint8_t id[16];
    *out = NULL;
    if (!id_text || icms__uuid_parse(id_text, strlen(id_text), id) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "an event's record id is not an id");
    return icms__record_get(tx, type, id, out);
}

struct participants {
    icms__tx *tx;
    icms__recipients *r;
};

/* Investors whose request was approved, or ended with the project after approval or not. */
static int on_participation(const uint8_t id[16], void *payload)
{
    struct participants *p = payload;
    cJSON *doc = NULL;
    int rc = icms__record_get(p->tx, &icms__participation_record, id, &doc);
    if (rc)
        return rc;
    const char *status = icms__json_get_string(doc, "status");
    if (status && (strcmp(status, "APPROVED") == 0 || strcmp(status, "CANCELLED") == 0))
        rc = add_field(p->r, doc, "investor_id", "participant");
    cJSON_Delete(doc);
    return rc;
}

static int add_context(icms__recipients *r, const cJSON *project)
{
    const char *id = icms__json_get_string(project, "id");
    const char *title = icms__json_get_string(project, "title");
    const char *state = icms__json_get_string(project, "state");
    int rc = id ? icms__json_add_string(r->context, "project_id", id) : ICMS_OK;
    if (rc == ICMS_OK && title)
        rc = icms__json_add_string(r->context, "project_title", title);
    if (rc == ICMS_OK && state)
        rc = icms__json_add_string(r->context, "project_state", state);
    return rc;
}

int icms__route_recipients(icms__tx *tx, const icms__route *route, const char *subject,
                           icms__recipients *out)
{
    memset(out, 0, sizeof *out);
    out->context = cJSON_CreateObject();
    if (!out->context)
        return icms__error(ICMS_ENOMEM, "out of memory");
    /* The record the event is about, and the project behind it. */
    cJSON *record = NULL, *project = NULL;
    const char *prefix_end = strchr(route->type, '.');
    size_t kind_len = prefix_end ? (size_t)(prefix_end - route->type) : strlen(route->type);
    int rc = ICMS_OK;
    const char *project_id = NULL;
    if (kind_len == 7 && strncmp(route->type, "project", 7) == 0) {
        project_id = subject;
    } else {
        const icms__record_type *type = record_type_of(route->type, kind_len);
        rc = type ? get_by_text(tx, type, subject, &record)
                  : icms__error(ICMS_EINVALID, "no record kind for the route of %s", route->type);
        if (rc == ICMS_OK)
            project_id = icms__json_get_string(record, "project_id");
        if (rc == ICMS_OK && (route->to & ICMS__TO_INVESTOR))
            rc = add_field(out, record, "investor_id", "investor");
        const char *amount_fields[] = {"amount", "credited", "commitment"};
        for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(amount_fields); i++) {
            const cJSON *v = icms__json_get(record, amount_fields[i]);
            int64_t n;
            if (v && icms__json_int64(v, &n))
                rc = icms__json_add_int64(out->context, amount_fields[i], n);
        }
    }
    if (rc == ICMS_OK && project_id)
        rc = get_by_text(tx, &icms__project_record, project_id, &project);
    if (rc == ICMS_OK && project)
        rc = add_context(out, project);
    if (rc == ICMS_OK && project && (route->to & ICMS__TO_OWNER))
        rc = add_field(out, project, "owner_id", "owner");
    if (rc == ICMS_OK && project && (route->to & ICMS__TO_PARTICIPANTS)) {
        uint8_t pid[16];
        icms__key values;
        icms__key_init(&values);
        rc = icms__uuid_parse(project_id, strlen(project_id), pid);
        icms__key_id(&values, pid);
        struct participants p = {tx, out};
        if (rc == ICMS_OK)
            rc = icms__record_scan_index(tx, &icms__participation_record, "by_project", &values,
                                         NULL, 0, on_participation, &p);
    }
    cJSON_Delete(record);
    cJSON_Delete(project);
    if (rc == ICMS_ENOTFOUND) {
        /* The record is gone (an erased user's data, say): nobody to tell. */
        icms_error_clear();
        out->count = 0;
        rc = ICMS_OK;
    }
    if (rc)
        icms__recipients_free(out);
    return rc;
}

void icms__recipients_free(icms__recipients *r)
{
    icms__free(r->items);
    cJSON_Delete(r->context);
    memset(r, 0, sizeof *r);
}
