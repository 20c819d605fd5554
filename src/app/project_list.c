/* Listing projects through their indexes, a page at a time. */
#include <string.h>

#include "app/page.h"
#include "app/project_cmd.h"
#include "app/project_view.h"
#include "app/records.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/projects.h"


static const char *const state_names[] = {
    "DRAFT",    "PUBLISHED", "FUNDING",   "FULLY_FUNDED", "PENDING_ADMIN_APPROVAL",
    "APPROVED", "IN_TRANSIT", "COMPLETED", "CANCELLED",   "EXPIRED",
    NULL};

static const icms__json_field filter_fields[] = {
    ICMS__JSON_F_ENUM("state", 0, state_names),
    ICMS__JSON_F_UUID("owner_id", 0),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT),
    ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema filter_schema = ICMS__JSON_SCHEMA(filter_fields);

struct list {
    const cJSON *filter;
    int64_t limit;
    icms__cmd *cmd;
    const char *state; /* when filtering by state through another index */
    icms__page page;
};

static int on_id(const uint8_t id[16], void *payload)
{
    struct list *list = payload;
    cJSON *project = NULL;
    int rc = icms__record_get(list->cmd->tx, &icms__project_record, id, &project);
    if (rc)
        return rc;
    const char *state = icms__json_get_string(project, "state");
    if ((list->state && (!state || strcmp(state, list->state) != 0)) ||
        !icms__project_visible(list->cmd, project)) {
        cJSON_Delete(project);
        return 0;
    }
    icms__project_view(list->cmd, project);
    return icms__page_offer(&list->page, id, project);
}

/* Every project, for admins: the record range itself is the index. */
static int on_record(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                     void *payload)
{
    (void)value;
    (void)value_len;
    if (key_len < 17)
        return icms__error(ICMS_ECORRUPT, "project key without an id");
    return on_id(key + key_len - 16, payload);
}

static int scan_all(struct list *list, const uint8_t *after)
{
    icms__key start, end;
    icms__key_init(&start);
    icms__key_str(&start, "r");
    icms__key_str(&start, icms__project_record.name);
    int rc = icms__key_prefix_end(&start, &end);
    if (rc)
        return rc;
    if (after) {
        icms__key_id(&start, after);
        if ((rc = icms__key_check(&start)) || start.len == sizeof start.bytes)
            return rc ? rc : icms__error(ICMS_ELIMIT, "key too long");
        start.bytes[start.len++] = 0x00; /* just past the cursor's record */
    }
    return icms__tx_scan_range(list->cmd->tx, &start, &end, 0, on_record, list);
}

static int list_projects(icms__cmd *cmd)
{
    struct list *list = cmd->arg;
    list->cmd = cmd;
    int rc = icms__page_reset(&list->page, list->limit);
    if (rc)
        return rc;

    const char *owner = icms__json_get_string(list->filter, "owner_id");
    const char *state = icms__json_get_string(list->filter, "state");
    const char *after_text = icms__json_get_string(list->filter, "after");
    uint8_t owner_id[16], after[16];
    if (owner)
        icms__uuid_parse(owner, strlen(owner), owner_id);
    if (after_text)
        icms__uuid_parse(after_text, strlen(after_text), after);
    icms__viewer viewer = icms__project_viewer(cmd, NULL);
    bool admin = icms__viewer_privileged(&viewer);

    icms__key values;
    icms__key_init(&values);
    if (owner) {
        list->state = state;
        icms__key_id(&values, owner_id);
        rc = icms__record_scan_index(cmd->tx, &icms__project_record, "by_owner", &values,
                                     after_text ? after : NULL, 0, on_id, list);
    } else if (state) {
        icms_project_state_t wanted = ICMS_PROJECT_DRAFT; /* the schema admits only names */
        icms_project_state_parse(state, &wanted);
        if (!icms__project_visible_to(wanted, &viewer)) /* a draft's owner lists by owner_id */
            return icms__error(ICMS_EFORBIDDEN,
                               "drafts are listed to admins, or to their owner by owner_id");
        list->state = NULL;
        icms__key_str(&values, state);
        rc = icms__record_scan_index(cmd->tx, &icms__project_record, "by_state", &values,
                                     after_text ? after : NULL, 0, on_id, list);
    } else if (admin) {
        list->state = NULL;
        rc = scan_all(list, after_text ? after : NULL);
    } else {
        list->state = NULL;
        rc = icms__record_scan_index(cmd->tx, &icms__project_record, "visible", &values,
                                     after_text ? after : NULL, 0, on_id, list);
    }
    if (rc)
        return rc;

    cJSON *result = NULL;
    rc = icms__page_finish(&list->page, &result);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, result);
    return rc;
}

int icms_project_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    cJSON *doc = NULL;
    int rc = icms__project_input(filter ? filter : "{}", &filter_schema, &doc);
    if (rc)
        return rc;
    struct list list = {doc, ICMS__PAGE_DEFAULT_LIMIT, NULL, NULL, {0}};
    icms__json_int64(icms__json_get(doc, "limit"), &list.limit);
    rc = icms__query(db, req, list_projects, &list, out);
    icms__page_clear(&list.page);
    cJSON_Delete(doc);
    return rc;
}
