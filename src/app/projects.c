/* Creating, editing, reading and listing projects and their catalogs. */
#include "icms/projects.h"

#include <string.h>

#include "app/project_cmd.h"
#include "app/project_view.h"
#include "app/records.h"
#include "app/release.h"
#include "core/core.h"
#include "core/uuid.h"

#define DEFAULT_CONFIRMATIONS 6

/* ---- create ---- */

/* Give each product an id and an empty reservation. */
static int stamp_product(icms__cmd *cmd, cJSON *product)
{
    uint8_t id[16];
    int rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc == ICMS_OK)
        rc = icms__json_add_uuid(product, "id", id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(product, "reserved", 0);
    return rc;
}

static int set_default_int(cJSON *doc, const char *field, int64_t v)
{
    return icms__json_get(doc, field) ? ICMS_OK : icms__doc_set_int(doc, field, v);
}

/* Turn checked create input into the stored document. */
static int new_project(icms__cmd *cmd, cJSON *doc, const uint8_t id[16])
{
    int rc = icms__json_add_uuid(doc, "id", id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "owner_id", cmd->actor.id_text);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "currency", "GAP");
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(doc, "state", icms_project_state_name(ICMS_PROJECT_DRAFT));
    if (rc == ICMS_OK && !icms__json_get(doc, "products"))
        rc = icms__json_add(doc, "products", cJSON_CreateArray());
    cJSON *product;
    cJSON_ArrayForEach(product, icms__json_get(doc, "products"))
    {
        if (rc == ICMS_OK)
            rc = stamp_product(cmd, product);
    }
    static const char *const zero_fields[] = {"committed", "funded", "approved_participations",
                                              "payments_in_flight"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(zero_fields); i++)
        rc = icms__doc_set_int(doc, zero_fields[i], 0);
    if (rc == ICMS_OK)
        rc = set_default_int(doc, "confirmations", DEFAULT_CONFIRMATIONS);
    if (rc == ICMS_OK)
        rc = set_default_int(doc, "min_ticket", 1);
    if (rc == ICMS_OK)
        rc = set_default_int(doc, "investor_cap", 0);
    if (rc == ICMS_OK && !icms__json_get(doc, "shipping_costs"))
        rc = icms__json_add(doc, "shipping_costs", cJSON_CreateObject());
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(doc, "logistics", NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(doc, "cancel_reason", NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(doc, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__project_totals(doc);
    return rc;
}

static cJSON *totals_data(const cJSON *project)
{
    cJSON *data = cJSON_CreateObject();
    int64_t target = 0;
    icms__json_int64(icms__json_get(project, "total_cost"), &target);
    if (data && icms__json_add_int64(data, "total_cost", target) != ICMS_OK) {
        cJSON_Delete(data);
        return NULL;
    }
    return data;
}

static int create_project(icms__cmd *cmd)
{
    if (cmd->actor.kind != ICMS_ACTOR_USER || cmd->actor.anonymous ||
        !icms__actor_has_role(&cmd->actor, ICMS_ROLE_OWNER))
        return icms__error(ICMS_EFORBIDDEN, "only a user with the OWNER role creates projects");
    cJSON *doc = cJSON_Duplicate(cmd->arg, true);
    if (!doc)
        return icms__error(ICMS_ENOMEM, "out of memory");
    uint8_t id[16];
    int rc = icms__payout_address_check(cmd->db, doc);
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc == ICMS_OK)
        rc = new_project(cmd, doc, id);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, id, doc);
    cJSON *data = rc == ICMS_OK ? totals_data(doc) : NULL;
    if (rc == ICMS_OK && !data)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    const char *id_text = icms__json_get_string(doc, "id");
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "project.create", id_text, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, ICMS__PROJECT_EVENT_CREATED, id_text, data);
    cJSON_Delete(data);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    icms__cmd_set_result(cmd, doc);
    return ICMS_OK;
}

int icms_project_create(icms_db *db, const icms_request *req, const char *json, char **out)
{
    cJSON *input = NULL;
    int rc = icms__project_input(json, &icms__project_create_schema, &input);
    if (rc)
        return rc;
    rc = icms__command(db, req, "project.create", input, create_project, input, out);
    cJSON_Delete(input);
    return rc;
}

/* ---- edits of a draft ---- */

struct edit {
    const char *project_id;
    const char *product_id;
    const cJSON *input;
    const char *action; /* audit action */
    int (*apply)(icms__cmd *cmd, struct edit *edit, cJSON *project);
};

static int merge_fields(cJSON *target, const cJSON *input)
{
    const cJSON *field;
    int rc = ICMS_OK;
    cJSON_ArrayForEach(field, input)
    {
        if (rc == ICMS_OK)
            rc = icms__doc_set_copy(target, field->string, field);
    }
    return rc;
}

static int apply_update(icms__cmd *cmd, struct edit *edit, cJSON *project)
{
    int rc = icms__payout_address_check(cmd->db, edit->input);
    return rc ? rc : merge_fields(project, edit->input);
}

static int apply_product_add(icms__cmd *cmd, struct edit *edit, cJSON *project)
{
    cJSON *products = (cJSON *)icms__json_get(project, "products");
    if (cJSON_GetArraySize(products) >= ICMS__PROJECT_MAX_PRODUCTS)
        return icms__error(ICMS_ELIMIT, "a project holds at most %d products",
                           ICMS__PROJECT_MAX_PRODUCTS);
    cJSON *product = cJSON_Duplicate(edit->input, true);
    int rc = product ? stamp_product(cmd, product) : ICMS_ENOMEM;
    if (rc) {
        cJSON_Delete(product);
        return rc;
    }
    edit->product_id = icms__json_get_string(product, "id");
    return icms__json_add(products, NULL, product);
}

static int apply_product_update(icms__cmd *cmd, struct edit *edit, cJSON *project)
{
    (void)cmd;
    cJSON *product = icms__project_product(project, edit->product_id, NULL);
    if (!product)
        return icms__error(ICMS_ENOTFOUND, "product not found in this project");
    return merge_fields(product, edit->input);
}

static int apply_product_remove(icms__cmd *cmd, struct edit *edit, cJSON *project)
{
    (void)cmd;
    size_t index;
    if (!icms__project_product(project, edit->product_id, &index))
        return icms__error(ICMS_ENOTFOUND, "product not found in this project");
    cJSON_DeleteItemFromArray((cJSON *)icms__json_get(project, "products"), (int)index);
    return ICMS_OK;
}

static int edit_project(icms__cmd *cmd)
{
    struct edit *edit = cmd->arg;
    uint8_t id[16];
    cJSON *project = NULL;
    int rc = icms__project_load(cmd, edit->project_id, id, &project);
    if (rc == ICMS_OK)
        rc = icms__project_check(cmd, project, ICMS__PROJECT_EDIT);
    if (rc == ICMS_OK)
        rc = edit->apply(cmd, edit, project);
    if (rc == ICMS_OK)
        rc = icms__project_totals(project);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, id, project);
    cJSON *data = NULL;
    if (rc == ICMS_OK && !(data = totals_data(project)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK && edit->product_id)
        rc = icms__json_add_string(data, "product_id", edit->product_id);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, edit->action, edit->project_id, data);
    if (rc == ICMS_OK)
        rc = icms__cmd_event(cmd, "project.updated", edit->project_id, data);
    cJSON_Delete(data);
    if (rc) {
        cJSON_Delete(project);
        return rc;
    }
    icms__cmd_set_result(cmd, project);
    return ICMS_OK;
}

/* Check input (when there is any), then run the edit as a command. */
static int run_edit(icms_db *db, const icms_request *req, struct edit *edit, const char *json,
                    const icms__json_schema *schema, char **out)
{
    cJSON *input = NULL, *material = cJSON_CreateObject();
    int rc = material ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK && schema)
        rc = icms__project_input(json, schema, &input);
    /* What makes two requests the same, for idempotency keys. */
    if (rc == ICMS_OK && edit->project_id)
        rc = icms__json_add_string(material, "project_id", edit->project_id);
    if (rc == ICMS_OK && edit->product_id)
        rc = icms__json_add_string(material, "product_id", edit->product_id);
    if (rc == ICMS_OK && input)
        rc = icms__json_add(material, "input", cJSON_Duplicate(input, true));
    edit->input = input;
    if (rc == ICMS_OK)
        rc = icms__command(db, req, edit->action, material, edit_project, edit, out);
    cJSON_Delete(material);
    cJSON_Delete(input);
    return rc;
}

int icms_project_update(icms_db *db, const icms_request *req, const char *project_id,
                        const char *json, char **out)
{
    struct edit edit = {project_id, NULL, NULL, "project.update", apply_update};
    return run_edit(db, req, &edit, json, &icms__project_update_schema, out);
}

int icms_product_add(icms_db *db, const icms_request *req, const char *project_id,
                     const char *json, char **out)
{
    struct edit edit = {project_id, NULL, NULL, "product.add", apply_product_add};
    return run_edit(db, req, &edit, json, &icms__product_schema, out);
}

int icms_product_update(icms_db *db, const icms_request *req, const char *project_id,
                        const char *product_id, const char *json, char **out)
{
    uint8_t id[16];
    int rc = icms__parse_id(product_id, "product id", id);
    if (rc)
        return rc;
    struct edit edit = {project_id, product_id, NULL, "product.update", apply_product_update};
    return run_edit(db, req, &edit, json, &icms__product_update_schema, out);
}

int icms_product_remove(icms_db *db, const icms_request *req, const char *project_id,
                        const char *product_id, char **out)
{
    uint8_t id[16];
    int rc = icms__parse_id(product_id, "product id", id);
    if (rc)
        return rc;
    struct edit edit = {project_id, product_id, NULL, "product.remove", apply_product_remove};
    return run_edit(db, req, &edit, NULL, NULL, out);
}

/* ---- reading ---- */

static int get_project(icms__cmd *cmd)
{
    uint8_t id[16];
    cJSON *project = NULL;
    int rc = icms__project_load(cmd, cmd->arg, id, &project);
    if (rc == ICMS_OK) {
        icms__project_view(cmd, project);
        icms__cmd_set_result(cmd, project);
    }
    return rc;
}

int icms_project_get(icms_db *db, const icms_request *req, const char *project_id, char **out)
{
    return icms__query(db, req, get_project, (void *)project_id, out);
}
