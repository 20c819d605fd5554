/* Listing participation requests through their indexes. */
#include <string.h>

#include "app/page.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "core/core.h"
#include "core/uuid.h"
#include "icms/participations.h"

static const char *const statuses[] = {"PENDING", "APPROVED", "REJECTED", "WITHDRAWN", "CANCELLED",
                                       NULL};

static const icms__json_field filter_fields[] = {
    ICMS__JSON_F_UUID("project_id", 0),
    ICMS__JSON_F_UUID("investor_id", 0),
    ICMS__JSON_F_ENUM("status", 0, statuses),
    ICMS__JSON_F_INT("limit", 0, 1, ICMS__PAGE_MAX_LIMIT),
    ICMS__JSON_F_UUID("after", 0),
};
static const icms__json_schema filter_schema = ICMS__JSON_SCHEMA(filter_fields);

struct list {
    const cJSON *filter;
    int64_t limit;
    icms__cmd *cmd;
    icms__page page;
};

static bool matches(const cJSON *filter, const cJSON *p)
{
    static const char *const fields[] = {"project_id", "investor_id", "status"};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(fields); i++) {
        const char *want = icms__json_get_string(filter, fields[i]);
        const char *have = icms__json_get_string(p, fields[i]);
        if (want && (!have || strcmp(want, have) != 0))
            return false;
    }
    return true;
}

static int on_id(const uint8_t id[16], void *payload)
{
    struct list *list = payload;
    cJSON *p = NULL;
    int rc = icms__record_get(list->cmd->tx, &icms__participation_record, id, &p);
    if (rc)
        return rc;
    if (!matches(list->filter, p)) {
        cJSON_Delete(p);
        return 0;
    }
    return icms__page_offer(&list->page, id, p);
}

/* May the actor list this project's requests? Its owner and admins may. */
static int check_project_access(icms__cmd *cmd, const char *project_id, bool admin)
{
    uint8_t key[16];
    cJSON *project = NULL;
    int rc = icms__project_load(cmd, project_id, key, &project);
    if (rc)
        return rc;
    const char *owner = icms__json_get_string(project, "owner_id");
    bool own = owner && !cmd->actor.anonymous && strcmp(owner, cmd->actor.id_text) == 0;
    cJSON_Delete(project);
    if (!admin && !own)
        return icms__error(ICMS_EFORBIDDEN,
                           "only the project's owner and admins list its participations");
    return ICMS_OK;
}

static int list_participations(icms__cmd *cmd)
{
    struct list *list = cmd->arg;
    list->cmd = cmd;
    int rc = icms__page_reset(&list->page, list->limit);
    if (rc)
        return rc;
    if (cmd->actor.anonymous)
        return icms__error(ICMS_EFORBIDDEN, "participations are not public");
    bool admin = cmd->actor.kind != ICMS_ACTOR_USER ||
                 icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN);
    const char *project = icms__json_get_string(list->filter, "project_id");
    const char *investor = icms__json_get_string(list->filter, "investor_id");
    const char *after_text = icms__json_get_string(list->filter, "after");
    uint8_t after[16], id[16];
    if (after_text)
        icms__uuid_parse(after_text, strlen(after_text), after);

    icms__key values;
    icms__key_init(&values);
    const char *index;
    if (project) {
        if ((rc = check_project_access(cmd, project, admin)))
            return rc;
        icms__uuid_parse(project, strlen(project), id);
        index = "by_project";
    } else {
        /* Without a project, a user lists their own requests; an admin anyone's. */
        if (investor && !admin && strcmp(investor, cmd->actor.id_text) != 0)
            return icms__error(ICMS_EFORBIDDEN, "an investor lists only their own participations");
        if (!investor && !admin)
            investor = cmd->actor.id_text;
        if (!investor)
            return icms__error(ICMS_EINVALID, "filter by project_id or investor_id");
        icms__uuid_parse(investor, strlen(investor), id);
        index = "by_investor";
    }
    icms__key_id(&values, id);
    rc = icms__record_scan_index(cmd->tx, &icms__participation_record, index, &values,
                                 after_text ? after : NULL, 0, on_id, list);
    cJSON *result = NULL;
    if (rc == ICMS_OK)
        rc = icms__page_finish(&list->page, &result);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, result);
    return rc;
}

int icms_participation_list(icms_db *db, const icms_request *req, const char *filter,
                            char **out)
{
    cJSON *doc = NULL;
    int rc = icms__project_input(filter ? filter : "{}", &filter_schema, &doc);
    if (rc)
        return rc;
    struct list list = {doc, ICMS__PAGE_DEFAULT_LIMIT, NULL, {0}};
    icms__json_int64(icms__json_get(doc, "limit"), &list.limit);
    rc = icms__query(db, req, list_participations, &list, out);
    icms__page_clear(&list.page);
    cJSON_Delete(doc);
    return rc;
}
