/*
 * Listing participations, payments, refunds and payouts: the same rule for
 * all four (icms__list_scope): an investor's own, a project's (its owner, by
 * project_id), any (admins, by project_id or investor_id). And the listing
 * itself, shared with releases (record_list.h).
 */
#include <string.h>

#include "app/project_cmd.h"
#include "app/record_list.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/participations.h"
#include "icms/payments.h"

static const char *const payment_statuses[] = {"PENDING", "SUBMITTED", "CONFIRMED", "PARTIAL",
                                               "EXPIRED", "FAILED",    "REVERSED",  NULL};
static const char *const refund_statuses[] = {"DUE", "PAID", "VOIDED", NULL};
static const char *const participation_statuses[] = {"PENDING",   "APPROVED",  "REJECTED",
                                                     "WITHDRAWN", "CANCELLED", NULL};

static const icms__json_field participation_filter_fields[] = {
    ICMS__JSON_F_UUID("project_id", 0),
    ICMS__JSON_F_UUID("investor_id", 0),
    ICMS__JSON_F_ENUM("status", 0, participation_statuses),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT),
    ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema participation_filter =
    ICMS__JSON_SCHEMA(participation_filter_fields);

static const icms__json_field payment_filter_fields[] = {
    ICMS__JSON_F_UUID("project_id", 0),    ICMS__JSON_F_UUID("investor_id", 0),
    ICMS__JSON_F_UUID("participation_id", 0), ICMS__JSON_F_ENUM("status", 0, payment_statuses),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT), ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema payment_filter = ICMS__JSON_SCHEMA(payment_filter_fields);

static const icms__json_field refund_filter_fields[] = {
    ICMS__JSON_F_UUID("project_id", 0),
    ICMS__JSON_F_UUID("investor_id", 0),
    ICMS__JSON_F_ENUM("status", 0, refund_statuses),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT),
    ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema refund_filter = ICMS__JSON_SCHEMA(refund_filter_fields);

/* ---- the listing itself, shared with releases (record_list.h) ---- */

static bool matches(const icms__record_list *list, const cJSON *doc)
{
    for (const char *const *field = list->fields; *field; field++) {
        const char *want = icms__json_get_string(list->filter, *field);
        const char *have = icms__json_get_string(doc, *field);
        if (want && (!have || strcmp(want, have) != 0))
            return false;
    }
    if (!list->own_field || !list->own_value)
        return true;
    const char *own = icms__json_get_string(doc, list->own_field);
    return own && strcmp(own, list->own_value) == 0;
}

static int on_id(const uint8_t id[16], void *payload)
{
    icms__record_list *list = payload;
    cJSON *doc = NULL;
    int rc = icms__record_get(list->cmd->tx, list->type, id, &doc);
    if (rc)
        return rc;
    if (!matches(list, doc)) {
        cJSON_Delete(doc);
        return 0;
    }
    return icms__page_offer(&list->page, id, doc);
}

int icms__record_list_begin(icms__record_list *list, icms__cmd *cmd)
{
    list->cmd = cmd;
    list->own_field = list->own_value = NULL;
    return icms__page_reset(&list->page, list->limit);
}

int icms__record_list_scan(icms__record_list *list, const char *index, const icms__key *values)
{
    const char *after_text = icms__json_get_string(list->filter, "after");
    uint8_t after[16];
    if (after_text)
        icms__uuid_parse(after_text, strlen(after_text), after);
    int rc = icms__record_scan_index(list->cmd->tx, list->type, index, values,
                                     after_text ? after : NULL, 0, on_id, list);
    cJSON *result = NULL;
    if (rc == ICMS_OK)
        rc = icms__page_finish(&list->page, &result);
    if (rc == ICMS_OK)
        icms__cmd_set_result(list->cmd, result);
    return rc;
}

int icms__record_list_run(icms_db *db, const icms_request *req, const icms__record_type *type,
                          const char *const *fields, const icms__json_schema *schema,
                          const char *filter, icms__cmd_fn body, char **out)
{
    cJSON *doc = NULL;
    int rc = icms__project_input(filter ? filter : "{}", schema, &doc);
    if (rc)
        return rc;
    icms__record_list list = {type, doc, fields, NULL, NULL, ICMS__PAGE_DEFAULT_LIMIT, NULL, {0}};
    icms__json_int64(icms__json_get(doc, "limit"), &list.limit);
    rc = icms__query(db, req, body, &list, out);
    icms__page_clear(&list.page);
    cJSON_Delete(doc);
    return rc;
}

/* ---- participations, payments, refunds and payouts ---- */

static const char *const record_fields[] = {"project_id", "investor_id", "participation_id",
                                            "status", NULL};

static int list_records(icms__cmd *cmd)
{
    icms__record_list *list = cmd->arg;
    int rc = icms__record_list_begin(list, cmd);
    if (rc)
        return rc;
    const char *project = icms__json_get_string(list->filter, "project_id");
    const char *investor = icms__json_get_string(list->filter, "investor_id");
    uint8_t id[16];
    /* Who may list what is a domain rule (domain/read_rules.h); here only the facts. */
    icms__list_facts facts = {icms__project_viewer(cmd, NULL), project != NULL, investor != NULL,
                              investor && strcmp(investor, cmd->actor.id_text) == 0};
    if (project && !cmd->actor.anonymous) { /* the anonymous are refused before any lookup */
        uint8_t key[16];
        cJSON *doc = NULL;
        if ((rc = icms__project_load(cmd, project, key, &doc))) /* a hidden draft: not found */
            return rc;
        facts.viewer = icms__project_viewer(cmd, doc);
        cJSON_Delete(doc);
        memcpy(id, key, 16);
    }
    icms__list_scope_t scope;
    if ((rc = icms__list_scope(list->type->name, &facts, &scope)))
        return rc;
    /*
     * The scope says whose records may be listed; the index is the narrowest
     * the filter names (a participation's payments, then an investor's, then
     * a project's records of one status, then a project's), so a page of
     * one investor's records, or of a project's PENDING requests, in a
     * crowded project does not read the whole project. Every record read is
     * still held to the filter and, for the viewer's own, to its investor
     * (matches()).
     */
    const char *participation = list->type == &icms__payment_record
                                    ? icms__json_get_string(list->filter, "participation_id")
                                    : NULL;
    const char *index = "by_investor";
    if (scope == ICMS__LIST_OWN) {
        list->own_field = "investor_id";
        list->own_value = cmd->actor.id_text;
    }
    if (participation) {
        index = "by_participation";
        icms__uuid_parse(participation, strlen(participation), id);
    } else if (investor) {
        icms__uuid_parse(investor, strlen(investor), id);
    } else if (scope == ICMS__LIST_OWN) {
        icms__uuid_parse(cmd->actor.id_text, strlen(cmd->actor.id_text), id);
    } else {
        index = "by_project"; /* the project's id is in id already */
    }
    const char *status = icms__json_get_string(list->filter, "status");
    bool by_status = status && strcmp(index, "by_project") == 0 &&
                     list->type != &icms__payment_record; /* payments have no such index */
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, id);
    if (by_status) {
        index = "by_project_status";
        icms__key_str(&values, status);
    }
    return icms__record_list_scan(list, index, &values);
}

static int run_list(icms_db *db, const icms_request *req, const icms__record_type *type,
                    const icms__json_schema *schema, const char *filter, char **out)
{
    return icms__record_list_run(db, req, type, record_fields, schema, filter, list_records, out);
}

int icms_participation_list(icms_db *db, const icms_request *req, const char *filter,
                            char **out)
{
    return run_list(db, req, &icms__participation_record, &participation_filter, filter, out);
}

int icms_payment_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    return run_list(db, req, &icms__payment_record, &payment_filter, filter, out);
}

int icms_refund_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    return run_list(db, req, &icms__refund_record, &refund_filter, filter, out);
}

int icms_payout_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    return run_list(db, req, &icms__payout_record, &refund_filter, filter, out);
}
