#include "app/project_doc.h"

#include <ctype.h>
#include <string.h>

#include "core/core.h"
#include "core/rfc3339.h"

/* ---- input schemas (docs/projects.md shows them as JSON) ---- */

/* ISO 3166-1 alpha-2: two upper-case letters. */
static int check_country(const cJSON *value)
{
    const char *s = value->valuestring;
    if (strlen(s) != 2 || !isupper((unsigned char)s[0]) || !isupper((unsigned char)s[1]))
        return icms__error(ICMS_EINVALID, "must be an ISO 3166-1 alpha-2 country code (\"DE\")");
    return ICMS_OK;
}

/* ISO 6346 container number: owner code (3 letters), category (U, J or Z), 6 digits, check digit. */
static int check_container(const cJSON *value)
{
    const char *s = value->valuestring;
    bool ok = strlen(s) == 11;
    for (int i = 0; ok && i < 3; i++)
        ok = isupper((unsigned char)s[i]);
    ok = ok && (s[3] == 'U' || s[3] == 'J' || s[3] == 'Z');
    for (int i = 4; ok && i < 11; i++)
        ok = isdigit((unsigned char)s[i]);
    if (!ok)
        return icms__error(ICMS_EINVALID, "must be an ISO 6346 container number (\"CSQU3054383\")");
    /* The check digit: digits count as themselves, letters as 10.. skipping multiples of 11. */
    long sum = 0;
    for (int i = 0; i < 10; i++) {
        long v = s[i] - '0';
        if (isupper((unsigned char)s[i])) {
            v = 10;
            for (char l = 'A'; l < s[i]; l++)
                if (++v % 11 == 0)
                    v++;
        }
        sum += v << i;
    }
    if ((sum % 11) % 10 != s[10] - '0')
        return icms__error(ICMS_EINVALID, "container number check digit is wrong");
    return ICMS_OK;
}

#define MONEY(n) ICMS__JSON_F_INT(n, 0, 0, INT64_MAX)

static const icms__json_field shipping_fields[] = {
    MONEY("freight"), MONEY("transport"), MONEY("layovers"), MONEY("international_fees"),
    MONEY("other"),
};
static const icms__json_schema shipping_schema = ICMS__JSON_SCHEMA(shipping_fields);

static const icms__json_field exporter_fields[] = {
    ICMS__JSON_F_STRING("name", ICMS__JSON_REQUIRED, 1, 200),
    {.name = "country", .kind = ICMS__JSON_STRING, .flags = ICMS__JSON_REQUIRED, .min = 2,
     .max = 2, .check = check_country},
    ICMS__JSON_F_STRING("address", 0, 0, 500),
    ICMS__JSON_F_STRING("contact_name", 0, 0, 200),
    ICMS__JSON_F_STRING("contact_email", 0, 3, 254),
    ICMS__JSON_F_STRING("contact_phone", 0, 0, 32),
    ICMS__JSON_F_STRING("tax_id", 0, 1, 64),
    ICMS__JSON_F_STRING("notes", 0, 0, 2000),
};
static const icms__json_schema exporter_schema = ICMS__JSON_SCHEMA(exporter_fields);

static const icms__json_field supplier_fields[] = {
    ICMS__JSON_F_STRING("name", ICMS__JSON_REQUIRED, 1, 200),
    {.name = "country", .kind = ICMS__JSON_STRING, .min = 2, .max = 2, .check = check_country},
    ICMS__JSON_F_STRING("contact", 0, 0, 200),
    ICMS__JSON_F_STRING("notes", 0, 0, 2000),
};
static const icms__json_schema supplier_schema = ICMS__JSON_SCHEMA(supplier_fields);

static const icms__json_field photo_item = ICMS__JSON_F_STRING(NULL, 0, 1, 512);

#define PRODUCT_FIELDS(required)                                                                   \
    ICMS__JSON_F_STRING("name", required, 1, 200),                                                 \
        ICMS__JSON_F_STRING("description", 0, 0, 2000),                                            \
        ICMS__JSON_F_STRING("unit", required, 1, 32),                                              \
        ICMS__JSON_F_INT("quantity", required, 1, 1000000000),                                     \
        ICMS__JSON_F_INT("unit_price", required, 1, INT64_MAX),                                    \
        ICMS__JSON_F_OBJECT("supplier", 0, &supplier_schema),                                      \
        ICMS__JSON_F_ARRAY("photos", 0, 0, 20, &photo_item)

static const icms__json_field product_fields[] = {PRODUCT_FIELDS(ICMS__JSON_REQUIRED)};
const icms__json_schema icms__product_schema = ICMS__JSON_SCHEMA(product_fields);
static const icms__json_field product_update_fields[] = {PRODUCT_FIELDS(0)};
const icms__json_schema icms__product_update_schema = ICMS__JSON_SCHEMA(product_update_fields);

static const icms__json_field product_item = ICMS__JSON_F_OBJECT(NULL, 0, &icms__product_schema);
static const char *const currencies[] = {"GAP", NULL};

#define PROJECT_FIELDS(required)                                                                   \
    ICMS__JSON_F_STRING("title", required, 1, 200),                                                \
        ICMS__JSON_F_STRING("description", 0, 0, 10000),                                           \
        ICMS__JSON_F_ENUM("currency", 0, currencies),                                              \
        ICMS__JSON_F_TIME("expiry_date", required),                                                \
        ICMS__JSON_F_OBJECT("exporter", 0, &exporter_schema),                                      \
        ICMS__JSON_F_OBJECT("shipping_costs", 0, &shipping_schema),                                \
        ICMS__JSON_F_INT("min_ticket", 0, 1, INT64_MAX),                                           \
        ICMS__JSON_F_INT("investor_cap", 0, 0, INT64_MAX),                                         \
        ICMS__JSON_F_INT("confirmations", 0, 1, 100),                                              \
        ICMS__JSON_F_STRING("payout_address", 0, 1, 100)

static const icms__json_field project_create_fields[] = {
    PROJECT_FIELDS(ICMS__JSON_REQUIRED),
    ICMS__JSON_F_ARRAY("products", 0, 0, ICMS__PROJECT_MAX_PRODUCTS, &product_item),
};
const icms__json_schema icms__project_create_schema = ICMS__JSON_SCHEMA(project_create_fields);

static const icms__json_field project_update_fields[] = {PROJECT_FIELDS(0)};
const icms__json_schema icms__project_update_schema = ICMS__JSON_SCHEMA(project_update_fields);

static const icms__json_field logistics_fields[] = {
    {.name = "container_number", .kind = ICMS__JSON_STRING, .flags = ICMS__JSON_REQUIRED,
     .min = 11, .max = 11, .check = check_container},
    ICMS__JSON_F_STRING("vessel", ICMS__JSON_REQUIRED, 1, 200),
    ICMS__JSON_F_STRING("bill_of_lading", ICMS__JSON_REQUIRED, 1, 64),
    ICMS__JSON_F_STRING("port_of_loading", ICMS__JSON_REQUIRED, 1, 200),
    ICMS__JSON_F_STRING("port_of_discharge", ICMS__JSON_REQUIRED, 1, 200),
    ICMS__JSON_F_TIME("eta", ICMS__JSON_REQUIRED),
    ICMS__JSON_F_STRING("carrier", 0, 1, 200),
    ICMS__JSON_F_STRING("notes", 0, 0, 2000),
};
const icms__json_schema icms__logistics_schema = ICMS__JSON_SCHEMA(logistics_fields);

int icms__project_input(const char *json, const icms__json_schema *schema, cJSON **out)
{
    if (!json)
        return icms__error(ICMS_EINVALID, "a JSON document is required");
    static const icms__json_limits limits = {ICMS__PROJECT_INPUT_MAX_BYTES,
                                             ICMS__JSON_MAX_DEPTH_DEFAULT};
    return icms__json_parse_checked(json, strlen(json), &limits, schema, out);
}

/* ---- reading and writing stored fields ---- */

int icms__doc_int(const cJSON *doc, const char *field, int64_t *out)
{
    if (!icms__json_int64(icms__json_get(doc, field), out))
        return icms__error(ICMS_ECORRUPT, "stored record has no integer %s", field);
    return ICMS_OK;
}


int icms__doc_set_int(cJSON *doc, const char *field, int64_t v)
{
    return icms__json_set(doc, field, icms__json_new_int64(v));
}

int icms__doc_set_string(cJSON *doc, const char *field, const char *text)
{
    return icms__json_set(doc, field, text ? cJSON_CreateString(text) : cJSON_CreateNull());
}

int icms__doc_set_time(cJSON *doc, const char *field, int64_t ms)
{
    char text[ICMS_TIME_STRING_SIZE];
    int rc = icms__time_format(ms, text);
    return rc ? rc : icms__doc_set_string(doc, field, text);
}

int icms__doc_set_copy(cJSON *doc, const char *field, const cJSON *value)
{
    return icms__json_set(doc, field, value ? cJSON_Duplicate(value, true) : cJSON_CreateNull());
}

cJSON *icms__project_product(const cJSON *project, const char *product_id, size_t *index)
{
    size_t i = 0;
    cJSON *product;
    cJSON_ArrayForEach(product, icms__json_get(project, "products"))
    {
        const char *id = icms__json_get_string(product, "id");
        if (id && strcmp(id, product_id) == 0) {
            if (index)
                *index = i;
            return product;
        }
        i++;
    }
    return NULL;
}

/* ---- money ---- */

static int catalog_lines(const cJSON *project, icms__catalog_line **lines, size_t *count)
{
    const cJSON *products = icms__json_get(project, "products");
    size_t n = (size_t)cJSON_GetArraySize(products);
    *lines = NULL;
    *count = n;
    if (n == 0)
        return ICMS_OK;
    icms__catalog_line *out = icms__calloc(n, sizeof *out);
    if (!out)
        return ICMS_ENOMEM;
    size_t i = 0;
    const cJSON *product;
    int rc = ICMS_OK;
    cJSON_ArrayForEach(product, products)
    {
        if ((rc = icms__doc_int(product, "quantity", &out[i].quantity)) ||
            (rc = icms__doc_int(product, "unit_price", &out[i].unit_price)))
            break;
        i++;
    }
    if (rc) {
        icms__free(out);
        return rc;
    }
    *lines = out;
    return ICMS_OK;
}

static void shipping_costs(const cJSON *project, icms__shipping_costs *costs)
{
    const cJSON *s = icms__json_get(project, "shipping_costs");
    memset(costs, 0, sizeof *costs);
    /* Absent costs are zero; the schema already refused anything but integers >= 0. */
    icms__json_int64(icms__json_get(s, "freight"), &costs->freight);
    icms__json_int64(icms__json_get(s, "transport"), &costs->transport);
    icms__json_int64(icms__json_get(s, "layovers"), &costs->layovers);
    icms__json_int64(icms__json_get(s, "international_fees"), &costs->international_fees);
    icms__json_int64(icms__json_get(s, "other"), &costs->other);
}

int icms__project_totals(cJSON *project)
{
    icms__catalog_line *lines;
    size_t count;
    icms__shipping_costs costs;
    int64_t goods, shipping, target;
    int rc = catalog_lines(project, &lines, &count);
    if (rc)
        return rc;
    shipping_costs(project, &costs);
    rc = icms__goods_value(lines, count, &goods);
    if (rc == ICMS_OK)
        rc = icms__shipping_total(&costs, &shipping);
    if (rc == ICMS_OK)
        rc = icms__funding_target(lines, count, &costs, &target);
    if (rc == ICMS_OK)
        rc = icms__funding_target_payable(target);
    icms__free(lines);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(project, "goods_value", goods);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(project, "shipping_total", shipping);
    if (rc == ICMS_OK)
        rc = icms__doc_set_int(project, "total_cost", target);
    return rc;
}

int icms__project_plan(const cJSON *project, icms__landed_plan **out)
{
    icms__catalog_line *lines;
    size_t count;
    icms__shipping_costs costs;
    int rc = catalog_lines(project, &lines, &count);
    if (rc)
        return rc;
    shipping_costs(project, &costs);
    rc = icms__landed_plan_new(lines, count, &costs, out);
    icms__free(lines);
    return rc;
}

int icms__project_state(const cJSON *project, icms_project_state_t *out)
{
    const char *state = icms__json_get_string(project, "state");
    if (!state || icms_project_state_parse(state, out) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored project has no valid state");
    return ICMS_OK;
}

int icms__project_facts_of(const cJSON *project, int64_t now_ms, int64_t grace_ms,
                        icms__project_facts *out)
{
    memset(out, 0, sizeof *out);
    const char *expiry = icms__json_get_string(project, "expiry_date");
    if (!expiry || icms__time_parse(expiry, strlen(expiry), &out->deadline_ms) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "stored project has no valid expiry_date");
    int64_t approved, in_flight;
    int rc;
    if ((rc = icms__doc_int(project, "total_cost", &out->target)) ||
        (rc = icms__doc_int(project, "funded", &out->funded)) ||
        (rc = icms__doc_int(project, "approved_participations", &approved)) ||
        (rc = icms__doc_int(project, "payments_in_flight", &in_flight)))
        return rc;
    out->now_ms = now_ms;
    out->product_count = (size_t)cJSON_GetArraySize(icms__json_get(project, "products"));
    out->approved_participations = (size_t)approved;
    out->payment_in_flight = in_flight > 0;
    out->grace_ms = grace_ms;
    return ICMS_OK;
}
