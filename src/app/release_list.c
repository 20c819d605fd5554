/*
 * Listing releases: the host's wallet looks for what is DUE, an owner for
 * their own, an admin for a project's.
 */
#include <string.h>

#include "app/project_cmd.h"
#include "app/record_list.h"
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

static const char *const release_fields[] = {"project_id", "owner_id", "status", NULL};

static int list_releases(icms__cmd *cmd)
{
    icms__record_list *list = cmd->arg;
    int rc = icms__record_list_begin(list, cmd);
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
    if (scope == ICMS__LIST_OWN) {
        list->own_field = "owner_id";
        owner = list->own_value = cmd->actor.id_text;
    }
    /* The narrowest index the filter allows. */
    const char *index = project ? "by_project" : owner ? "by_owner" : "by_status";
    icms__key values;
    icms__key_init(&values);
    if (project || owner) {
        const char *text = project ? project : owner;
        uint8_t id[16];
        icms__uuid_parse(text, strlen(text), id);
        icms__key_id(&values, id);
    } else {
        icms__key_str(&values, status);
    }
    return icms__record_list_scan(list, index, &values);
}

int icms_release_list(icms_db *db, const icms_request *req, const char *filter, char **out)
{
    if (out)
        *out = NULL;
    return icms__record_list_run(db, req, &icms__release_record, release_fields, &filter_schema,
                                 filter, list_releases, out);
}
