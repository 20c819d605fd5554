/* Participation requests: asking, deciding, withdrawing, ending. */
#include "icms/participations.h"

#include <stdio.h>
#include <string.h>

#include "app/participation_end.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/user_stats.h"
#include "core/core.h"
#include "core/utf8.h"
#include "core/uuid.h"

#define MAX_ITEMS ICMS__PROJECT_MAX_PRODUCTS
#define REASON_MAX 500

static const char *const types[] = {"PRODUCTS", "PROFIT", NULL};

static const icms__json_field item_fields[] = {
    ICMS__JSON_F_UUID("product_id", ICMS__JSON_REQUIRED),
    ICMS__JSON_F_INT("units", ICMS__JSON_REQUIRED, 1, 1000000000),
};
static const icms__json_schema item_schema = ICMS__JSON_SCHEMA(item_fields);
static const icms__json_field item = ICMS__JSON_F_OBJECT(NULL, 0, &item_schema);

static const icms__json_field request_fields[] = {
    ICMS__JSON_F_ENUM("type", ICMS__JSON_REQUIRED, types),
    ICMS__JSON_F_ARRAY("items", 0, 1, MAX_ITEMS, &item),
    ICMS__JSON_F_INT("capital", 0, 1, INT64_MAX),
};
static const icms__json_schema request_schema = ICMS__JSON_SCHEMA(request_fields);

/* ---- shared ---- */

static int participation_status(const cJSON *p, icms_participation_status_t *out)
{
    const char *status = icms__json_get_string(p, "status");
    if (!status || icms_participation_status_parse(status, out) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored participation has no valid status");
    return ICMS_OK;
}

static bool is_investor(const icms__cmd *cmd, const cJSON *p)
{
    const char *investor = icms__json_get_string(p, "investor_id");
    return investor && cmd->actor.kind == ICMS_ACTOR_USER && !cmd->actor.anonymous &&
           strcmp(investor, cmd->actor.id_text) == 0;
}

static bool owns_project(const icms__cmd *cmd, const cJSON *project)
{
    const char *owner = icms__json_get_string(project, "owner_id");
    return owner && cmd->actor.kind == ICMS_ACTOR_USER && !cmd->actor.anonymous &&
           strcmp(owner, cmd->actor.id_text) == 0;
}

static bool is_admin(const icms__cmd *cmd)
{
    return cmd->actor.kind != ICMS_ACTOR_USER || icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN);
}

/* The participation, its project, and whether the actor may see them (else not found). */
static int load_pair(icms__cmd *cmd, const char *id_text, uint8_t id[16], cJSON **participation,
                     uint8_t project_id[16], cJSON **project)
{
    *participation = NULL;
    *project = NULL;
    int rc = icms__parse_id(id_text, "participation id", id);
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__participation_record, id, participation);
    if (rc)
        return rc;
    const char *pid = icms__json_get_string(*participation, "project_id");
    rc = pid ? icms__parse_id(pid, "project id", project_id)
             : icms__error(ICMS_ECORRUPT, "participation without a project");
    if (rc == ICMS_OK)
        rc = icms__record_get(cmd->tx, &icms__project_record, project_id, project);
    if (rc == ICMS_OK && !is_admin(cmd) && !is_investor(cmd, *participation) &&
        !owns_project(cmd, *project))
        rc = icms__error(ICMS_ENOTFOUND, "participation not found");
    if (rc) {
        cJSON_Delete(*participation);
        cJSON_Delete(*project);
        *participation = NULL;
        *project = NULL;
        return rc;
    }
    return ICMS_OK;
}

static int participation_facts(const cJSON *project, int64_t now_ms,
                               icms__participation_facts *facts)
{
    icms__project_facts pf;
    int rc = icms__project_state(project, &facts->project_state);
    if (rc == ICMS_OK)
        rc = icms__project_facts_of(project, now_ms, 0, &pf);
    facts->now_ms = now_ms;
    facts->deadline_ms = pf.deadline_ms;
    return rc;
}

/* The audit entry and event of a participation change, carrying ids and amounts only. */
static int record_change(icms__cmd *cmd, const char *action, const char *event,
                         const cJSON *participation, const char *reason)
{
    const char *id = icms__json_get_string(participation, "id");
    cJSON *data = cJSON_CreateObject();
    int64_t commitment = 0;
    icms__json_int64(icms__json_get(participation, "commitment"), &commitment);
    int rc = data ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    static const char *const copied[] = {"project_id", "investor_id", "type", "status"};
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(copied); i++)
        rc = icms__json_add_string(data, copied[i],
                                   icms__json_get_string(participation, copied[i]));
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(data, "commitment", commitment);
    if (rc == ICMS_OK && reason)
        rc = icms__json_add_string(data, "reason", reason);
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, action, id, data);
    if (rc == ICMS_OK && event)
        rc = icms__cmd_event(cmd, event, id, data);
    cJSON_Delete(data);
    return rc;
}

/* ---- commitments ---- */

/*
 * Turn a PRODUCTS request's items into unit takes placed after the units
 * already reserved, checking each product exists and has the units left.
 */
static int products_commitment(const cJSON *project, const cJSON *items, int64_t *out)
{
    size_t count = (size_t)cJSON_GetArraySize(items);
    icms__unit_take *takes = icms__calloc(count, sizeof *takes);
    icms__landed_plan *plan = NULL;
    int rc = takes ? icms__project_plan(project, &plan) : ICMS_ENOMEM;
    size_t i = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, items)
    {
        if (rc)
            break;
        const char *product_id = icms__json_get_string(it, "product_id");
        size_t index;
        const cJSON *product = icms__project_product(project, product_id, &index);
        int64_t quantity, reserved;
        if (!product) {
            rc = icms__error(ICMS_EINVALID, "items[%zu].product_id: no such product in the project",
                             i);
            break;
        }
        takes[i].product = index;
        icms__json_int64(icms__json_get(it, "units"), &takes[i].units);
        if ((rc = icms__doc_int(product, "quantity", &quantity)) ||
            (rc = icms__doc_int(product, "reserved", &reserved)))
            break;
        takes[i].reserved_before = reserved;
        rc = icms__check_units_cap(quantity, reserved, takes[i].units);
        if (rc)
            icms__error_wrap(rc, product_id);
        i++;
    }
    if (rc == ICMS_OK)
        rc = icms__products_commitment(plan, takes, count, out);
    icms__landed_plan_free(plan);
    icms__free(takes);
    return rc;
}

/* The commitment of a request against the project as it stands now, with every cap checked. */
static int commitment_now(const cJSON *project, const cJSON *participation,
                          int64_t investor_committed, int64_t *out)
{
    const char *type = icms__json_get_string(participation, "type");
    int64_t target, committed, cap, min_ticket;
    int rc;
    if ((rc = icms__doc_int(project, "total_cost", &target)) ||
        (rc = icms__doc_int(project, "committed", &committed)) ||
        (rc = icms__doc_int(project, "investor_cap", &cap)) ||
        (rc = icms__doc_int(project, "min_ticket", &min_ticket)))
        return rc;
    if (type && strcmp(type, "PRODUCTS") == 0) {
        rc = products_commitment(project, icms__json_get(participation, "items"), out);
    } else {
        rc = icms__doc_int(participation, "capital", out);
        if (rc == ICMS_OK)
            rc = icms__check_profit_ticket(min_ticket, *out);
    }
    if (rc == ICMS_OK)
        rc = icms__check_target_cap(target, committed, *out);
    if (rc == ICMS_OK)
        rc = icms__check_investor_cap(cap, investor_committed, *out);
    return rc;
}

/* ---- request ---- */

struct request_call {
    const char *project_id;
    const cJSON *input;
};

static int check_request_shape(const cJSON *input)
{
    const char *type = icms__json_get_string(input, "type");
    bool products = strcmp(type, "PRODUCTS") == 0;
    if (products && !icms__json_get(input, "items"))
        return icms__error(ICMS_EINVALID, "items: required for a PRODUCTS request");
    if (products && icms__json_get(input, "capital"))
        return icms__error(ICMS_EINVALID, "capital: not allowed in a PRODUCTS request");
    if (!products && !icms__json_get(input, "capital"))
        return icms__error(ICMS_EINVALID, "capital: required for a PROFIT request");
    if (!products && icms__json_get(input, "items"))
        return icms__error(ICMS_EINVALID, "items: not allowed in a PROFIT request");
    /* A product named twice would be reserved twice over the same units. */
    const cJSON *a, *b;
    cJSON_ArrayForEach(a, icms__json_get(input, "items"))
    {
        for (b = a->next; b; b = b->next)
            if (strcmp(icms__json_get_string(a, "product_id"),
                       icms__json_get_string(b, "product_id")) == 0)
                return icms__error(ICMS_EINVALID, "items: a product appears twice");
    }
    return ICMS_OK;
}

static int new_participation(icms__cmd *cmd, const cJSON *input, const char *project_id,
                             const uint8_t id[16], cJSON **out)
{
    cJSON *p = cJSON_Duplicate(input, true);
    int rc = p ? icms__json_add_uuid(p, "id", id) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(p, "project_id", project_id);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(p, "investor_id", cmd->actor.id_text);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(p, "status", "PENDING");
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(p, "reason", NULL);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(p, "created_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__doc_set_copy(p, "decided_at", NULL);
    if (rc) {
        cJSON_Delete(p);
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    }
    *out = p;
    return ICMS_OK;
}

static int request_participation(icms__cmd *cmd)
{
    struct request_call *call = cmd->arg;
    uint8_t project_key[16], id[16], existing[16];
    cJSON *project = NULL, *p = NULL;
    int rc = icms__project_load(cmd, call->project_id, project_key, &project);
    if (rc)
        return rc;

    icms__participation_request_facts facts = {0};
    icms__key open;
    icms__key_init(&open);
    icms__key_id(&open, project_key);
    icms__key_id(&open, cmd->actor.id);
    rc = participation_facts(project, cmd->now_ms, &facts.project);
    if (rc == ICMS_OK && !cmd->actor.anonymous && cmd->actor.kind == ICMS_ACTOR_USER) {
        rc = icms__record_find_unique(cmd->tx, &icms__participation_record, "open", &open,
                                      existing);
        facts.has_open_request = rc == ICMS_OK;
        rc = rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
    }
    facts.kyc_status = cmd->actor.kyc_status;
    facts.kyc_required = cmd->db->kyc_required;
    unsigned parties = cmd->actor.anonymous
                           ? 0
                           : icms__parties(cmd->actor.kind, cmd->actor.roles,
                                           owns_project(cmd, project), 1);
    if (cmd->actor.kind != ICMS_ACTOR_USER)
        parties = 0; /* a participation belongs to a user: the host cannot hold one */
    if (rc == ICMS_OK)
        rc = icms__participation_check_request(parties, &facts);

    /* Quote the commitment against the project as it is now; approval fixes it. */
    int64_t commitment = 0;
    if (rc == ICMS_OK)
        rc = icms__uuid7_new(cmd->db->clock, id);
    if (rc == ICMS_OK)
        rc = new_participation(cmd, call->input, call->project_id, id, &p);
    if (rc == ICMS_OK)
        rc = commitment_now(project, p, 0, &commitment);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(p, "commitment", commitment);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__participation_record, id, p);
    if (rc == ICMS_OK)
        rc = record_change(cmd, "participation.request", ICMS__PARTICIPATION_EVENT_REQUESTED, p,
                           NULL);
    cJSON_Delete(project);
    if (rc) {
        cJSON_Delete(p);
        return rc;
    }
    icms__cmd_set_result(cmd, p);
    return ICMS_OK;
}

int icms_participation_request(icms_db *db, const icms_request *req, const char *project_id,
                               const char *json, char **out)
{
    cJSON *input = NULL;
    int rc = icms__project_input(json, &request_schema, &input);
    if (rc == ICMS_OK)
        rc = check_request_shape(input);
    cJSON *material = rc == ICMS_OK ? cJSON_Duplicate(input, true) : NULL;
    if (rc == ICMS_OK && !material)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(material, "project_id", project_id ? project_id : "");
    struct request_call call = {project_id, input};
    if (rc == ICMS_OK)
        rc = icms__command(db, req, "participation.request", material, request_participation,
                           &call, out);
    cJSON_Delete(material);
    cJSON_Delete(input);
    return rc;
}

/* ---- decisions ---- */

struct decide_call {
    const char *id;
    icms__participation_action_t action;
    const char *reason;
};

/* What approval reserves: the commitment on the project, the units on each product. */
static int reserve(cJSON *project, const cJSON *participation, int64_t commitment)
{
    int64_t committed, approved;
    int rc;
    if ((rc = icms__doc_int(project, "committed", &committed)) ||
        (rc = icms__doc_int(project, "approved_participations", &approved)))
        return rc;
    if (!icms__add_i64(committed, commitment, &committed))
        return icms__error(ICMS_EINVALID, "committed amount overflows");
    if ((rc = icms__doc_set_int(project, "committed", committed)) ||
        (rc = icms__doc_set_int(project, "approved_participations", approved + 1)))
        return rc;
    const cJSON *it;
    cJSON_ArrayForEach(it, icms__json_get(participation, "items"))
    {
        cJSON *product =
            icms__project_product(project, icms__json_get_string(it, "product_id"), NULL);
        int64_t reserved, units;
        if (!product)
            return icms__error(ICMS_ECORRUPT, "participation names a product the project lacks");
        if ((rc = icms__doc_int(product, "reserved", &reserved)) ||
            (rc = icms__doc_int(it, "units", &units)))
            return rc;
        if ((rc = icms__doc_set_int(product, "reserved", reserved + units)))
            return rc;
    }
    return ICMS_OK;
}

/*
 * What the investor already holds approved in this project (for the per-investor cap).
 * The investor's own participations are scanned, not the project's: a project may have
 * thousands, an investor few, and approving each of a project's n requests must not read
 * all n (that made approval quadratic in the project's size).
 */
struct investor_sum {
    icms__tx *tx;
    const char *project;
    int64_t total;
};

static int add_if_approved(const uint8_t id[16], void *payload)
{
    struct investor_sum *sum = payload;
    cJSON *p = NULL;
    int rc = icms__record_get(sum->tx, &icms__participation_record, id, &p);
    if (rc)
        return rc;
    int64_t commitment = 0;
    const char *project = icms__json_get_string(p, "project_id");
    const char *status = icms__json_get_string(p, "status");
    if (project && status && strcmp(project, sum->project) == 0 &&
        strcmp(status, "APPROVED") == 0 && icms__json_int64(icms__json_get(p, "commitment"), &commitment) &&
        !icms__add_i64(sum->total, commitment, &sum->total))
        rc = icms__error(ICMS_EINVALID, "investor total overflows");
    cJSON_Delete(p);
    return rc;
}

static int approve(icms__cmd *cmd, cJSON *participation, cJSON *project,
                   const uint8_t project_key[16])
{
    icms__key values;
    icms__key_init(&values);
    uint8_t investor_key[16];
    int rc = icms__parse_id(icms__json_get_string(participation, "investor_id"), "investor id",
                            investor_key);
    struct investor_sum sum = {cmd->tx, icms__json_get_string(participation, "project_id"), 0};
    if (rc == ICMS_OK && !sum.project)
        rc = icms__error(ICMS_ECORRUPT, "participation without project id");
    if (rc == ICMS_OK) {
        icms__key_id(&values, investor_key);
        rc = icms__record_scan_index(cmd->tx, &icms__participation_record, "by_investor",
                                     &values, NULL, 0, add_if_approved, &sum);
    }
    int64_t commitment = 0;
    if (rc == ICMS_OK)
        rc = commitment_now(project, participation, sum.total, &commitment);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(participation, "commitment", commitment);
    if (rc == ICMS_OK)
        rc = reserve(project, participation, commitment);
    /* One approved request per investor and project: each approval is a project joined. */
    if (rc == ICMS_OK)
        rc = icms__user_stats_add(cmd->tx, investor_key, 0, 0, 1);
    if (rc == ICMS_OK)
        rc = icms__project_settle_doc(cmd, project); /* the first approval starts funding */
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, project_key, project);
    return rc;
}

static int decide_participation(icms__cmd *cmd)
{
    struct decide_call *call = cmd->arg;
    uint8_t id[16], project_key[16];
    cJSON *p = NULL, *project = NULL;
    int rc = load_pair(cmd, call->id, id, &p, project_key, &project);
    if (rc)
        return rc;
    icms_participation_status_t status;
    icms__participation_facts facts;
    icms__participation_decision decision;
    unsigned parties =
        cmd->actor.anonymous ? 0
                             : icms__parties(cmd->actor.kind, cmd->actor.roles,
                                             owns_project(cmd, project), is_investor(cmd, p));
    rc = participation_status(p, &status);
    if (rc == ICMS_OK)
        rc = participation_facts(project, cmd->now_ms, &facts);
    if (rc == ICMS_OK)
        rc = icms__participation_decide(status, call->action, parties, &facts, &decision);
    if (rc == ICMS_OK && call->action == ICMS__PARTICIPATION_APPROVE)
        rc = approve(cmd, p, project, project_key);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(p, "status", icms_participation_status_name(decision.to));
    if (rc == ICMS_OK && call->reason)
        rc = icms__doc_set_string(p, "reason", call->reason);
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(p, "decided_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__participation_record, id, p);
    char action[64];
    snprintf(action, sizeof action, "participation.%s",
             icms__participation_action_name(call->action));
    if (rc == ICMS_OK)
        rc = record_change(cmd, action, decision.event, p, call->reason);
    cJSON_Delete(project);
    if (rc) {
        cJSON_Delete(p);
        return rc;
    }
    icms__cmd_set_result(cmd, p);
    return ICMS_OK;
}

static int run_decision(icms_db *db, const icms_request *req, struct decide_call *call,
                        char **out)
{
    cJSON *material = cJSON_CreateObject();
    int rc = material ? icms__json_add_string(material, "id", call->id ? call->id : "")
                      : icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK && call->reason)
        rc = icms__json_add_string(material, "reason", call->reason);
    char name[64];
    snprintf(name, sizeof name, "participation.%s",
             icms__participation_action_name(call->action));
    if (rc == ICMS_OK)
        rc = icms__command(db, req, name, material, decide_participation, call, out);
    cJSON_Delete(material);
    return rc;
}

int icms_participation_approve(icms_db *db, const icms_request *req,
                               const char *participation_id, char **out)
{
    struct decide_call call = {participation_id, ICMS__PARTICIPATION_APPROVE, NULL};
    return run_decision(db, req, &call, out);
}

int icms_participation_reject(icms_db *db, const icms_request *req,
                              const char *participation_id, const char *reason, char **out)
{
    if (!reason || !*reason || strnlen(reason, REASON_MAX + 1) > REASON_MAX ||
        !icms__utf8_valid(reason, strlen(reason)))
        return icms__error(ICMS_EINVALID, "reason: must be 1 to %d bytes of UTF-8", REASON_MAX);
    struct decide_call call = {participation_id, ICMS__PARTICIPATION_REJECT, reason};
    return run_decision(db, req, &call, out);
}

int icms_participation_withdraw(icms_db *db, const icms_request *req,
                                const char *participation_id, char **out)
{
    struct decide_call call = {participation_id, ICMS__PARTICIPATION_WITHDRAW, NULL};
    return run_decision(db, req, &call, out);
}

/* ---- ending with the project ---- */

struct open_ids {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect_id(const uint8_t id[16], void *payload)
{
    struct open_ids *open = payload;
    if (open->count == open->cap) {
        size_t cap = open->cap ? 2 * open->cap : 16;
        void *grown = icms__realloc(open->ids, cap * 16);
        if (!grown)
            return ICMS_ENOMEM;
        open->ids = grown;
        open->cap = cap;
    }
    memcpy(open->ids[open->count++], id, 16);
    return 0;
}

static int end_one(icms__cmd *cmd, const uint8_t id[16], const icms__participation_facts *facts)
{
    cJSON *p = NULL;
    icms_participation_status_t status;
    icms__participation_decision decision;
    int rc = icms__record_get(cmd->tx, &icms__participation_record, id, &p);
    if (rc == ICMS_OK)
        rc = participation_status(p, &status);
    if (rc == ICMS_OK && icms__participation_status_is_final(status)) {
        cJSON_Delete(p);
        return ICMS_OK;
    }
    if (rc == ICMS_OK)
        rc = icms__participation_decide(status, ICMS__PARTICIPATION_CANCEL, ICMS__PARTY_SYSTEM,
                                        facts, &decision);
    if (rc == ICMS_OK)
        rc = icms__doc_set_string(p, "status", icms_participation_status_name(decision.to));
    if (rc == ICMS_OK)
        rc = icms__doc_set_time(p, "decided_at", cmd->now_ms);
    if (rc == ICMS_OK)
        rc = icms__record_put(cmd->tx, &icms__participation_record, id, p);
    if (rc == ICMS_OK)
        rc = record_change(cmd, "participation.cancel", decision.event, p, NULL);
    cJSON_Delete(p);
    return rc;
}

int icms__participations_end(icms__cmd *cmd, const cJSON *project)
{
    uint8_t project_key[16];
    icms__participation_facts facts;
    int rc = icms__parse_id(icms__json_get_string(project, "id"), "project id", project_key);
    if (rc == ICMS_OK)
        rc = participation_facts(project, cmd->now_ms, &facts);
    if (rc)
        return rc;
    /* Collect first: a scan's callback may not write through the transaction it scans. */
    struct open_ids open = {NULL, 0, 0};
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, project_key);
    rc = icms__record_scan_index(cmd->tx, &icms__participation_record, "by_project", &values,
                                 NULL, 0, collect_id, &open);
    for (size_t i = 0; rc == ICMS_OK && i < open.count; i++)
        rc = end_one(cmd, open.ids[i], &facts);
    icms__free(open.ids);
    return rc;
}

/* ---- reading ---- */

static int get_participation(icms__cmd *cmd)
{
    uint8_t id[16], project_key[16];
    cJSON *p = NULL, *project = NULL;
    int rc = load_pair(cmd, cmd->arg, id, &p, project_key, &project);
    cJSON_Delete(project);
    if (rc == ICMS_OK)
        icms__cmd_set_result(cmd, p);
    return rc;
}

int icms_participation_get(icms_db *db, const icms_request *req, const char *participation_id,
                           char **out)
{
    return icms__query(db, req, get_participation, (void *)participation_id, out);
}
