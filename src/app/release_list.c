/*
 * Listing releases: the host's wallet looks for what is DUE, an owner for
 * their own, an admin for a project's.
 */
#include <string.h>

#include "app/page.h"
#include "app/project_cmd.h"
#include "app/release.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/payments.h"

static const char *const statuses[] = {"DUE", "PAID", "VOIDED", NULL};

static const icms__json_field filter_fields[] = {
    ICMS__JSON_F_UUID("project_id", 0),
    ICMS__JSON_F_UUID("owner_id", 0),
    ICMS__JSON_F_ENUM("status", 0, statuses),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT),
    ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema filter_schema = ICMS__JSON_SCHEMA(filter_fields);

struct list {
    const cJSON *filter;
    const char *owner; /* set for an owner listing their own */
    int64_t limit;
    icms__cmd *cmd;
    icms__page page;
};

static bool matches(const struct list *list, const cJSON *doc)
{
    static const char *const fields[] = {"project_id", "owner_id", "status"};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(fields); i++) {
        const char *want = icms__json_get_string(list->filter, fields[i]);
        const char *have = icms__json_get_string(doc, fields[i]);
        if (want && (!have || strcmp(want, have) != 0))
            return false;
    }
    const char *owner = icms__json_get_string(doc, "owner_id");
    return !list->owner || (owner && strcmp(owner, list->owner) == 0);
}

static int on_id(const uint8_t id[16], void *payload)
{
    struct list *list = payload;
    cJSON *doc = NULL;
    int rc = icms__record_get(list->cmd->tx, &icms__release_record, id, &doc);
    if (rc)
        return rc;
    if (!matches(list, doc)) {
        cJSON_Delete(doc);
        return 0;
    }
    return icms__page_offer(&list->page, id, doc);
}

static int list_releases(icms__cmd *cmd)
{
    struct list *list = cmd->arg;
    list->cmd = cmd;
    list->owner = NULL;
    int rc = icms__page_reset(&list->page, list->limit);
    if (rc)
        return rc;
    const char *project = icms__json_get_string(list->filter, "project_id");
    const char *owner = icms__json_get_string(list->filter, "owner_id");
    const char *status = icms__json_get_string(list->filter, "status");
    /* Who may list which releases is a domain rule (domain/read_rules.h); here only the facts. */
    icms__release_list_facts facts = {icms__project_viewer(cmd, NULL), project != NULL,
                                      owner != NULL,
                                      owner && strcmp(owner, cmd->actor.id_text) == 0,
                                      status != NULL};
    icms__list_scope_t scope;
    if ((rc = icms__release_list_scope(&facts, &scope)))
        return rc;
    if (scope == ICMS__LIST_OWN)
        owner = list->owner = cmd->actor.id_text;
    /* The narrowest index the filter allows. */
    const char *index = project ? "by_project" : owner ? "by_owner" : "by_status";
    icms__key values;
    icms__key_init(&values);
    uint8_t id[16], after[16];
    if (project || owner) {
        const char *text = project ? project : owner;
        icms__uuid_parse(text, strlen(text), id);
        icms__key_id(&values, id);
    } else {
        icms__key_str(&values, status);
    }
    const char *after_text = icms__json_get_string(list->filter, "after");
    if (after_text)
        icms__uuid_parse(after_text, strlen(after_text), after);
    rc = icms__record_scan_index(cmd->tx, &icms__release_record, index, &values,
                                 after_text ? after : NULL, 0, on_id, list);
    cJSON *result = NULL;
    if (rc == ICMS_OK)
        rc = icms__page_finish(&list->page, &result);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, result);
    return rc;
}

int icms_release_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    if (out)
        *out = NULL;
    cJSON *doc = NULL;
    int rc = icms__project_input(filter ? filter : "{}", &filter_schema, &doc);
    if (rc)
        return rc;
    struct list list = {doc, NULL, ICMS__PAGE_DEFAULT_LIMIT, NULL, {0}};
    icms__json_int64(icms__json_get(doc, "limit"), &list.limit);
    rc = icms__query(db, req, list_releases, &list, out);
    icms__page_clear(&list.page);
    cJSON_Delete(doc);
    return rc;
}
