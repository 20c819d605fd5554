/*
 * Project documents: input schemas, the stored layout, and the facts the
 * domain rules read from a stored project.
 *
 * Stored project:
 *   {id, owner_id, title, description, currency: "GAP", expiry_date,
 *    exporter: {...}, shipping_costs: {freight, transport, layovers,
 *    international_fees, other}, products: [{id, name, description, unit,
 *    quantity, unit_price, supplier, photos, reserved}], state,
 *    goods_value, shipping_total, total_cost, committed, funded,
 *    approved_participations, payments_in_flight, min_ticket, investor_cap,
 *    confirmations, logistics, cancel_reason, created_at, updated_at}
 * Amounts are integers in base units (1 GAP = 100,000,000).
 */
#ifndef ICMS_SRC_APP_PROJECT_DOC_H
#define ICMS_SRC_APP_PROJECT_DOC_H

#include <cjson/cJSON.h>

#include "core/json.h"
#include "domain/domain.h"

#define ICMS__PROJECT_MAX_PRODUCTS 500
#define ICMS__PROJECT_INPUT_MAX_BYTES (1024 * 1024)

extern const icms__json_schema icms__project_create_schema;
extern const icms__json_schema icms__project_update_schema;
extern const icms__json_schema icms__product_schema;
extern const icms__json_schema icms__product_update_schema;
extern const icms__json_schema icms__logistics_schema;

/* Parse and check caller input against schema; ICMS_EINVALID names the field. */
int icms__project_input(const char *json, const icms__json_schema *schema, cJSON **out);

/*
 * Recompute goods_value, shipping_total and total_cost from the catalog and
 * shipping costs, overflow-checked (ICMS_EINVALID says what overflowed).
 */
int icms__project_totals(cJSON *project);

/* The landed-cost plan of the project's catalog (domain/money.h). */
int icms__project_plan(const cJSON *project, icms__landed_plan **out);

/* The facts the project rules read, at now_ms. */
int icms__project_facts_of(const cJSON *project, int64_t now_ms, int64_t grace_ms,
                        icms__project_facts *out);

/* The stored state. */
int icms__project_state(const cJSON *project, icms_project_state_t *out);

/* Read an integer field that the layout guarantees; ICMS_ECORRUPT when it is missing. */
int icms__doc_int(const cJSON *doc, const char *field, int64_t *out);

/* Replace (or add) doc[field] with v / text / a copy of value. */
int icms__doc_set_int(cJSON *doc, const char *field, int64_t v);
int icms__doc_set_string(cJSON *doc, const char *field, const char *text);
int icms__doc_set_time(cJSON *doc, const char *field, int64_t ms);
int icms__doc_set_copy(cJSON *doc, const char *field, const cJSON *value);

/* The product with this id (text) in the catalog, and its index; NULL when none. */
cJSON *icms__project_product(const cJSON *project, const char *product_id, size_t *index);

#endif
