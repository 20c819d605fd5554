/* Projects: creation, validation, visibility, editing, lifecycle, listing, expiry. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "app/db.h"
#include "app_fixture.h"
#include "icms/audit.h"
#include "icms/participations.h"
#include "icms/projects.h"
#include "support/fault_store.h"

static int setup(void **state)
{
    return fx_setup_named(state, "projects");
}

static int teardown(void **state)
{
    fx *f = *state;
    /* Whatever a test did, the audit chain must still verify. */
    assert_icms_ok(icms_audit_verify(f->db, NULL, NULL, 0, NULL));
    return fx_teardown(state);
}

static cJSON *create(fx *f, const icms_request *req, const char *json, int expect)
{
    char *out = NULL;
    assert_icms(expect, icms_project_create(f->db, req, json, &out));
    if (expect != ICMS_OK) {
        assert_null(out);
        return NULL;
    }
    return fx_json(out);
}

static void test_create_computes_totals(void **state)
{
    fx *f = *state;
    cJSON *p = create(f, &f->owner.req, fx_project_json(30), ICMS_OK);
    assert_string_equal(fx_str(p, "state"), "DRAFT");
    assert_string_equal(fx_str(p, "owner_id"), f->owner.id);
    assert_string_equal(fx_str(p, "currency"), "GAP");
    /* 100 x 25 GAP + 333 x 7.00000001 GAP; shipping 3 + 0.5 + 0.25000001 GAP */
    assert_int_equal(fx_int(p, "goods_value"), 483100000333LL);
    assert_int_equal(fx_int(p, "shipping_total"), 375000001LL);
    assert_int_equal(fx_int(p, "total_cost"), 483475000334LL);
    assert_int_equal(fx_int(p, "funded"), 0);
    cJSON *products = cJSON_GetObjectItem(p, "products");
    assert_int_equal(cJSON_GetArraySize(products), 2);
    assert_int_equal(strlen(fx_str(cJSON_GetArrayItem(products, 0), "id")), 36);
    assert_int_equal(fx_int(cJSON_GetArrayItem(products, 1), "reserved"), 0);
    cJSON_Delete(p);
}

static void test_create_needs_owner_role(void **state)
{
    fx *f = *state;
    create(f, &f->investor.req, fx_project_json(30), ICMS_EFORBIDDEN);
    create(f, &f->anonymous, fx_project_json(30), ICMS_EFORBIDDEN);
    create(f, &f->host, fx_project_json(30), ICMS_EFORBIDDEN);
    icms_request ghost = ICMS_REQUEST_INIT;
    ghost.actor_id = "0190e4a4-0000-7000-8000-000000000000";
    create(f, &ghost, fx_project_json(30), ICMS_EUNAUTHENTICATED);
    ghost.actor_id = "not-an-id";
    create(f, &ghost, fx_project_json(30), ICMS_EUNAUTHENTICATED);
}

static void test_create_rejects_bad_input(void **state)
{
    fx *f = *state;
    static const struct {
        const char *json;
        const char *message_part;
    } cases[] = {
        {"", "invalid JSON"},
        {"{\"title\":", "invalid JSON"},
        {"[]", "object"},
        {"{\"expiry_date\":\"2027-01-01T00:00:00Z\"}", "title"},
        {"{\"title\":\"x\"}", "expiry_date"},
        {"{\"title\":\"\",\"expiry_date\":\"2027-01-01T00:00:00Z\"}", "title"},
        {"{\"title\":7,\"expiry_date\":\"2027-01-01T00:00:00Z\"}", "title"},
        {"{\"title\":\"x\",\"expiry_date\":\"tomorrow\"}", "expiry_date"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\",\"colour\":\"red\"}", "colour"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\",\"currency\":\"BTC\"}",
         "currency"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"shipping_costs\":{\"freight\":-1}}",
         "shipping_costs.freight"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"shipping_costs\":{\"freight\":1.5}}",
         "shipping_costs.freight"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"exporter\":{\"name\":\"A\",\"country\":\"gr\"}}",
         "exporter.country"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"products\":[{\"name\":\"a\",\"unit\":\"u\",\"quantity\":0,\"unit_price\":1}]}",
         "products[0].quantity"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"products\":[{\"name\":\"a\",\"unit\":\"u\",\"quantity\":1,"
         "\"unit_price\":9223372036854775808}]}",
         "products[0].unit_price"},
        /* Each value fits; their product does not: the total overflows int64. */
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"products\":[{\"name\":\"a\",\"unit\":\"u\",\"quantity\":1000,"
         "\"unit_price\":9223372036854775807}]}",
         "overflow"},
        {"{\"title\":\"x\",\"expiry_date\":\"2027-01-01T00:00:00Z\","
         "\"shipping_costs\":{\"freight\":9223372036854775807,\"other\":1}}",
         "overflow"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out = NULL;
        int rc = icms_project_create(f->db, &f->owner.req, cases[i].json, &out);
        if (rc != ICMS_EINVALID)
            fail_msg("case %zu returned %s", i, icms_error_name(rc));
        if (!strstr(icms_error_last()->message, cases[i].message_part))
            fail_msg("case %zu: message \"%s\" does not mention %s", i,
                     icms_error_last()->message, cases[i].message_part);
        assert_null(out);
    }
    /* A title over the limit, and a document over the size limit. */
    char *big = malloc(2 * 1024 * 1024);
    memset(big, 'a', 2 * 1024 * 1024 - 1);
    big[2 * 1024 * 1024 - 1] = '\0';
    assert_int_equal(icms_project_create(f->db, &f->owner.req, big, NULL), ICMS_EINVALID);
    snprintf(big, 1024, "{\"title\":\"%0300d\",\"expiry_date\":\"2027-01-01T00:00:00Z\"}", 0);
    assert_int_equal(icms_project_create(f->db, &f->owner.req, big, NULL), ICMS_EINVALID);
    free(big);
    assert_int_equal(icms_project_create(f->db, &f->owner.req, NULL, NULL), ICMS_EINVALID);
}

static void test_drafts_are_hidden(void **state)
{
    fx *f = *state;
    cJSON *p = create(f, &f->owner.req, fx_project_json(30), ICMS_OK);
    const char *id = fx_str(p, "id");
    char *out = NULL;
    assert_icms_ok(icms_project_get(f->db, &f->owner.req, id, &out));
    icms_free(out);
    assert_icms_ok(icms_project_get(f->db, &f->admin.req, id, &out));
    icms_free(out);
    assert_int_equal(icms_project_get(f->db, &f->investor.req, id, &out), ICMS_ENOTFOUND);
    assert_null(out);
    assert_int_equal(icms_project_get(f->db, &f->anonymous, id, &out), ICMS_ENOTFOUND);
    /* Hidden reads exactly like missing. */
    const char *hidden_msg = "project not found";
    assert_string_equal(icms_error_last()->message, hidden_msg);
    assert_int_equal(icms_project_get(f->db, &f->anonymous, "0190e4a4-0000-7000-8000-000000000000",
                                      &out),
                     ICMS_ENOTFOUND);
    assert_string_equal(icms_error_last()->message, hidden_msg);
    assert_int_equal(icms_project_get(f->db, &f->anonymous, "nope", &out), ICMS_EINVALID);

    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, id, NULL));
    assert_icms_ok(icms_project_get(f->db, &f->anonymous, id, &out));
    cJSON *seen = fx_json(out);
    assert_string_equal(fx_str(seen, "state"), "PUBLISHED");
    cJSON_Delete(seen);
    cJSON_Delete(p);
}

static void test_edit_only_draft_and_only_owner(void **state)
{
    fx *f = *state;
    cJSON *p = create(f, &f->owner.req, fx_project_json(30), ICMS_OK);
    const char *id = fx_str(p, "id");
    const char *product = fx_str(cJSON_GetArrayItem(cJSON_GetObjectItem(p, "products"), 0), "id");
    char *out = NULL;

    assert_icms_ok(icms_project_update(f->db, &f->owner.req, id,
                                       "{\"title\":\"Better olive oil\","
                                       "\"shipping_costs\":{\"freight\":100000000}}",
                                       &out));
    cJSON *u = fx_json(out);
    assert_string_equal(fx_str(u, "title"), "Better olive oil");
    assert_int_equal(fx_int(u, "shipping_total"), 100000000);
    assert_int_equal(fx_int(u, "total_cost"), 483100000333LL + 100000000);
    cJSON_Delete(u);

    assert_icms_ok(icms_product_update(f->db, &f->owner.req, id, product, "{\"quantity\":10}",
                                       &out));
    u = fx_json(out);
    assert_int_equal(fx_int(u, "goods_value"), 10 * 2500000000LL + 233100000333LL);
    cJSON_Delete(u);
    assert_icms_ok(icms_product_add(f->db, &f->owner.req, id,
                                    "{\"name\":\"Soap\",\"unit\":\"box\",\"quantity\":5,"
                                    "\"unit_price\":100}",
                                    &out));
    u = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(u, "products")), 3);
    cJSON_Delete(u);
    assert_icms_ok(icms_product_remove(f->db, &f->owner.req, id, product, &out));
    u = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(u, "products")), 2);
    assert_int_equal(fx_int(u, "goods_value"), 233100000333LL + 500);
    cJSON_Delete(u);
    assert_int_equal(icms_product_remove(f->db, &f->owner.req, id, product, NULL), ICMS_ENOTFOUND);
    assert_int_equal(icms_product_update(f->db, &f->owner.req, id, product, "{\"unit\":7}", NULL),
                     ICMS_EINVALID);

    /* Not the owner: the admin may see it but not edit it; others do not see it. */
    assert_int_equal(icms_project_update(f->db, &f->admin.req, id, "{\"title\":\"x\"}", NULL),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_update(f->db, &f->investor.req, id, "{\"title\":\"x\"}", NULL),
                     ICMS_ENOTFOUND);

    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, id, NULL));
    assert_int_equal(icms_project_update(f->db, &f->owner.req, id, "{\"title\":\"x\"}", NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(icms_product_add(f->db, &f->owner.req, id,
                                      "{\"name\":\"x\",\"unit\":\"u\",\"quantity\":1,"
                                      "\"unit_price\":1}",
                                      NULL),
                     ICMS_EINVALID_TRANSITION);
    cJSON_Delete(p);
}

static void test_publish_guards(void **state)
{
    fx *f = *state;
    /* No products: nothing to fund. */
    cJSON *p = create(f, &f->owner.req,
                      "{\"title\":\"Empty\",\"expiry_date\":\"2026-03-01T00:00:00Z\"}", ICMS_OK);
    assert_int_equal(icms_project_publish(f->db, &f->owner.req, fx_str(p, "id"), NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "product"));
    cJSON_Delete(p);
    /* A deadline already passed. */
    p = create(f, &f->owner.req, fx_project_json(-1), ICMS_OK);
    assert_int_equal(icms_project_publish(f->db, &f->owner.req, fx_str(p, "id"), NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_non_null(strstr(icms_error_last()->message, "deadline"));
    /* Only the owner publishes. */
    assert_int_equal(icms_project_publish(f->db, &f->admin.req, fx_str(p, "id"), NULL),
                     ICMS_EFORBIDDEN);
    cJSON_Delete(p);
}

static void test_invalid_transition_writes_nothing(void **state)
{
    fx *f = *state;
    char id[37];
    fx_published_project(f, id);
    icms_store *store = f->db->store;
    uint64_t before, after;
    size_t kb, ka;
    assert_icms_ok(icms_test_store_digest(store, &before, &kb));
    assert_int_equal(icms_project_approve(f->db, &f->admin.req, id, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(icms_project_ship(f->db, &f->admin.req, id,
                                       "{\"container_number\":\"CSQU3054383\",\"vessel\":\"V\","
                                       "\"bill_of_lading\":\"B1\",\"port_of_loading\":\"Piraeus\","
                                       "\"port_of_discharge\":\"Hamburg\","
                                       "\"eta\":\"2026-02-01T00:00:00Z\"}",
                                       NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(icms_project_complete(f->db, &f->admin.req, id, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_int_equal(icms_project_publish(f->db, &f->owner.req, id, NULL),
                     ICMS_EINVALID_TRANSITION);
    assert_icms_ok(icms_test_store_digest(store, &after, &ka));
    assert_true(before == after);
}

static void test_cancel_rules(void **state)
{
    fx *f = *state;
    char id[37];
    fx_published_project(f, id);
    assert_int_equal(icms_project_cancel(f->db, &f->owner.req, id, "", NULL), ICMS_EINVALID);
    assert_int_equal(icms_project_cancel(f->db, &f->investor.req, id, "mine now", NULL),
                     ICMS_EFORBIDDEN);
    char *out = NULL;
    assert_icms_ok(icms_project_cancel(f->db, &f->owner.req, id, "supplier went bust", &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "state"), "CANCELLED");
    assert_string_equal(fx_str(p, "cancel_reason"), "supplier went bust");
    cJSON_Delete(p);
    assert_int_equal(icms_project_cancel(f->db, &f->admin.req, id, "again", NULL),
                     ICMS_EINVALID_TRANSITION);
}

static void test_ship_validates_logistics(void **state)
{
    fx *f = *state;
    char id[37];
    fx_published_project(f, id);
    /* The document is checked before the state: a bad check digit is refused as input. */
    assert_int_equal(icms_project_ship(f->db, &f->admin.req, id,
                                       "{\"container_number\":\"CSQU3054384\",\"vessel\":\"V\","
                                       "\"bill_of_lading\":\"B1\",\"port_of_loading\":\"P\","
                                       "\"port_of_discharge\":\"H\","
                                       "\"eta\":\"2026-02-01T00:00:00Z\"}",
                                       NULL),
                     ICMS_EINVALID);
    assert_non_null(strstr(icms_error_last()->message, "check digit"));
    assert_int_equal(icms_project_ship(f->db, &f->admin.req, id, "{}", NULL), ICMS_EINVALID);
}

static int count_items(char *out)
{
    cJSON *page = fx_json(out);
    int n = cJSON_GetArraySize(cJSON_GetObjectItem(page, "items"));
    cJSON_Delete(page);
    return n;
}

static void test_list_pages_and_visibility(void **state)
{
    fx *f = *state;
    char ids[7][37];
    for (int i = 0; i < 7; i++) {
        cJSON *p = create(f, &f->owner.req, fx_project_json(30), ICMS_OK);
        snprintf(ids[i], 37, "%s", fx_str(p, "id"));
        cJSON_Delete(p);
        if (i % 2 == 0)
            assert_icms_ok(icms_project_publish(f->db, &f->owner.req, ids[i], NULL));
    }
    char *out = NULL;
    /* Everyone sees the 4 published ones, in creation order, 3 to a page. */
    assert_icms_ok(icms_project_list(f->db, &f->anonymous, "{\"limit\":3}", &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 3);
    assert_string_equal(fx_str(cJSON_GetArrayItem(items, 0), "id"), ids[0]);
    assert_string_equal(fx_str(cJSON_GetArrayItem(items, 2), "id"), ids[4]);
    char next[64], filter[128];
    snprintf(next, sizeof next, "%s", fx_str(page, "next"));
    cJSON_Delete(page);
    snprintf(filter, sizeof filter, "{\"limit\":3,\"after\":\"%s\"}", next);
    assert_icms_ok(icms_project_list(f->db, &f->anonymous, filter, &out));
    page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 1);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(page, "next")));
    cJSON_Delete(page);

    /* Admins see all 7; the owner sees all 7 of their own; others 4 of the owner's. */
    assert_icms_ok(icms_project_list(f->db, &f->admin.req, NULL, &out));
    assert_int_equal(count_items(out), 7);
    snprintf(filter, sizeof filter, "{\"owner_id\":\"%s\"}", f->owner.id);
    assert_icms_ok(icms_project_list(f->db, &f->owner.req, filter, &out));
    assert_int_equal(count_items(out), 7);
    assert_icms_ok(icms_project_list(f->db, &f->investor.req, filter, &out));
    assert_int_equal(count_items(out), 4);
    snprintf(filter, sizeof filter, "{\"owner_id\":\"%s\",\"state\":\"DRAFT\"}", f->owner.id);
    assert_icms_ok(icms_project_list(f->db, &f->owner.req, filter, &out));
    assert_int_equal(count_items(out), 3);
    assert_icms_ok(icms_project_list(f->db, &f->investor.req, "{\"state\":\"PUBLISHED\"}", &out));
    assert_int_equal(count_items(out), 4);
    assert_int_equal(icms_project_list(f->db, &f->investor.req, "{\"state\":\"DRAFT\"}", &out),
                     ICMS_EFORBIDDEN);
    assert_int_equal(icms_project_list(f->db, &f->investor.req, "{\"limit\":101}", &out),
                     ICMS_EINVALID);
    assert_int_equal(icms_project_list(f->db, &f->investor.req, "{\"state\":\"LOST\"}", &out),
                     ICMS_EINVALID);
}

static void test_tick_expires_overdue_projects(void **state)
{
    fx *f = *state;
    char soon[37], late[37];
    fx_published_project(f, soon); /* due in 30 days */
    cJSON *p = create(f, &f->owner.req, fx_project_json(60), ICMS_OK);
    snprintf(late, sizeof late, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, late, NULL));

    char *out = NULL;
    assert_icms_ok(icms_tick(f->db, &out));
    cJSON *report = fx_json(out);
    assert_int_equal(fx_int(report, "expired"), 0);
    cJSON_Delete(report);

    icms_clock_fake_set(f->clock, FX_NOW + 30 * FX_DAY); /* exactly the first deadline */
    assert_icms_ok(icms_tick(f->db, &out));
    report = fx_json(out);
    assert_int_equal(fx_int(report, "expired"), 1);
    cJSON_Delete(report);
    assert_icms_ok(icms_project_get(f->db, &f->anonymous, soon, &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "state"), "EXPIRED");
    cJSON_Delete(p);
    assert_icms_ok(icms_project_get(f->db, &f->anonymous, late, &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "state"), "PUBLISHED");
    cJSON_Delete(p);

    /* Idempotent: nothing more to do. */
    assert_icms_ok(icms_tick(f->db, &out));
    report = fx_json(out);
    assert_int_equal(fx_int(report, "expired"), 0);
    cJSON_Delete(report);
}

static void test_tick_works_in_batches(void **state)
{
    fx *f = *state;
    for (int i = 0; i < 150; i++) {
        char id[37];
        fx_published_project(f, id);
    }
    icms_clock_fake_set(f->clock, FX_NOW + 31 * FX_DAY);
    char *out = NULL;
    assert_icms_ok(icms_tick(f->db, &out));
    cJSON *report = fx_json(out);
    assert_int_equal(fx_int(report, "expired"), 150);
    assert_int_equal(fx_int(report, "batches"), 3); /* 64 + 64 + 22 */
    cJSON_Delete(report);
}

static void test_idempotency_key(void **state)
{
    fx *f = *state;
    icms_request req = f->owner.req;
    req.idempotency_key = "create-olive-1";
    char *first = NULL, *second = NULL;
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(30), &first));
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(30), &second));
    assert_string_equal(first, second); /* the same project, not a second one */
    icms_free(first);
    icms_free(second);
    char *out = NULL;
    assert_icms_ok(icms_project_list(f->db, &f->admin.req, NULL, &out));
    assert_int_equal(count_items(out), 1);
    assert_int_equal(icms_project_create(f->db, &req, fx_project_json(31), NULL),
                     ICMS_EIDEMPOTENCY);
    /* Another actor's key space is its own. */
    icms_request other = f->admin.req;
    other.idempotency_key = "create-olive-1";
    assert_int_equal(icms_project_create(f->db, &other, fx_project_json(30), NULL),
                     ICMS_EFORBIDDEN);
    /* After 24 hours the key is free again. */
    icms_clock_fake_advance(f->clock, 24LL * 60 * 60 * 1000);
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(31), NULL));
    req.idempotency_key = "";
    assert_int_equal(icms_project_create(f->db, &req, fx_project_json(31), NULL), ICMS_EINVALID);
}

static char *request_id(fx *f, fx_user *u, const char *project)
{
    char *out = NULL;
    assert_icms_ok(icms_participation_request(f->db, &u->req, project,
                                              "{\"type\":\"PROFIT\",\"capital\":100000000}",
                                              &out));
    cJSON *p = fx_json(out);
    char *id = strdup(fx_str(p, "id"));
    cJSON_Delete(p);
    return id;
}

/*
 * Every project and participation command, each against a store that fails
 * its 1st, 2nd, ... call until the command runs through: each failure must
 * leave the store byte-for-byte as it was.
 */
static void test_commands_fail_cleanly_at_every_store_call(void **state)
{
    fx *f = *state;
    char open_project[37], *out = NULL;
    fx_published_project(f, open_project);
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, fx_project_json(30), &out));
    cJSON *draft = fx_json(out);
    char draft_id[37], product[37];
    snprintf(draft_id, sizeof draft_id, "%s", fx_str(draft, "id"));
    snprintf(product, sizeof product, "%s",
             fx_str(cJSON_GetArrayItem(cJSON_GetObjectItem(draft, "products"), 0), "id"));
    cJSON_Delete(draft);
    fx_user approver, rejected, withdrawer, requester;
    fx_add_user(f, &approver, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_add_user(f, &rejected, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_add_user(f, &withdrawer, ICMS_ROLE_INVESTOR, "VERIFIED");
    fx_add_user(f, &requester, ICMS_ROLE_INVESTOR, "VERIFIED");
    char *to_approve = request_id(f, &approver, open_project);
    char *to_reject = request_id(f, &rejected, open_project);
    char *to_withdraw = request_id(f, &withdrawer, open_project);
    icms_close(f->db);
    /* Reopen the same file through a fault-injecting store. */
    icms_store *inner, *fault;
    assert_icms_ok(icms_store_sqlite_new(&inner, f->path, NULL));
    assert_icms_ok(icms_test_fault_store_new(&fault, inner, true));
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = fault;
    options.retry_attempts = 1;
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &options.clock));
    assert_icms_ok(icms_open(&f->db, &options));

    enum { CREATE, UPDATE, PRODUCT_ADD, PRODUCT_UPDATE, PRODUCT_REMOVE, PUBLISH, REQUEST, APPROVE,
           REJECT, WITHDRAW, CANCEL, COMMANDS };
    for (int which = 0; which < COMMANDS; which++) {
        unsigned long calls = 0;
        for (unsigned long nth = 1;; nth++) {
            uint64_t before, after;
            size_t kb, ka;
            assert_icms_ok(icms_test_store_digest(inner, &before, &kb));
            icms_test_fault_store_reset(fault);
            icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, ICMS_ESTORAGE);
            int rc = ICMS_ERROR;
            switch (which) {
            case CREATE:
                rc = icms_project_create(f->db, &f->owner.req, fx_project_json(30), NULL);
                break;
            case UPDATE:
                rc = icms_project_update(f->db, &f->owner.req, draft_id, "{\"title\":\"New\"}",
                                         NULL);
                break;
            case PRODUCT_ADD:
                rc = icms_product_add(f->db, &f->owner.req, draft_id,
                                      "{\"name\":\"Soap\",\"unit\":\"box\",\"quantity\":5,"
                                      "\"unit_price\":100}",
                                      NULL);
                break;
            case PRODUCT_UPDATE:
                rc = icms_product_update(f->db, &f->owner.req, draft_id, product,
                                         "{\"quantity\":7}", NULL);
                break;
            case PRODUCT_REMOVE:
                rc = icms_product_remove(f->db, &f->owner.req, draft_id, product, NULL);
                break;
            case PUBLISH:
                rc = icms_project_publish(f->db, &f->owner.req, draft_id, NULL);
                break;
            case REQUEST:
                rc = icms_participation_request(f->db, &requester.req, open_project,
                                                "{\"type\":\"PROFIT\",\"capital\":5}", NULL);
                break;
            case APPROVE:
                rc = icms_participation_approve(f->db, &f->owner.req, to_approve, NULL);
                break;
            case REJECT:
                rc = icms_participation_reject(f->db, &f->owner.req, to_reject, "no", NULL);
                break;
            case WITHDRAW:
                rc = icms_participation_withdraw(f->db, &withdrawer.req, to_withdraw, NULL);
                break;
            case CANCEL:
                rc = icms_project_cancel(f->db, &f->owner.req, open_project, "done", NULL);
                break;
            }
            if (!icms_test_fault_store_fired(fault)) {
                assert_icms_ok(rc); /* every call was failed once; now it runs through */
                calls = nth - 1;
                break;
            }
            assert_int_equal(rc, ICMS_ESTORAGE);
            assert_icms_ok(icms_test_store_digest(inner, &after, &ka));
            if (before != after)
                fail_msg("command %d: failing store call %lu changed the store", which, nth);
        }
        assert_true(calls > 5);
    }
    icms_test_fault_store_reset(fault); /* disarmed for the teardown's checks */
    free(to_approve);
    free(to_reject);
    free(to_withdraw);
}

/*
 * Two processes sweeping at once, each with its own handle on the file:
 * every overdue project expires exactly once (one project.expired event
 * each), and the reports add up.
 */
static void test_two_processes_sweep_at_once(void **state)
{
    fx *f = *state;
    enum { PROJECTS = 80 };
    for (int i = 0; i < PROJECTS; i++) {
        char id[37];
        fx_published_project(f, id);
    }
    int pipes[2][2];
    pid_t pids[2];
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pipe(pipes[i]), 0);
        pids[i] = fork();
        if (pids[i] == 0) {
            icms_options options = ICMS_OPTIONS_INIT;
            options.path = f->path;
            icms_clock_fake_new(FX_NOW + 31 * FX_DAY, &options.clock);
            icms_db *db = NULL;
            char *report = NULL;
            int rc = icms_open(&db, &options);
            if (rc == ICMS_OK)
                rc = icms_tick(db, &report);
            long long expired = -1;
            if (rc == ICMS_OK) {
                cJSON *doc = cJSON_Parse(report);
                expired = (long long)cJSON_GetObjectItem(doc, "expired")->valuedouble;
                cJSON_Delete(doc);
            }
            icms_free(report);
            icms_close(db);
            if (write(pipes[i][1], &expired, sizeof expired) != sizeof expired)
                _exit(2);
            _exit(rc == ICMS_OK ? 0 : 1);
        }
    }
    long long total = 0;
    for (int i = 0; i < 2; i++) {
        int status;
        long long expired = 0;
        waitpid(pids[i], &status, 0);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        assert_int_equal(read(pipes[i][0], &expired, sizeof expired), sizeof expired);
        total += expired;
        close(pipes[i][0]);
        close(pipes[i][1]);
    }
    assert_int_equal(total, PROJECTS);
    /* And the outbox agrees: one project.expired per project, no more. */
    sqlite3 *conn;
    assert_int_equal(sqlite3_open(f->path, &conn), SQLITE_OK);
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_prepare_v2(conn,
                                        "SELECT count(*) FROM kv WHERE instr(CAST(v AS TEXT), "
                                        "'\"type\":\"project.expired\"') > 0",
                                        -1, &stmt, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), PROJECTS);
    sqlite3_finalize(stmt);
    sqlite3_close(conn);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_create_computes_totals),
        T(test_create_needs_owner_role),
        T(test_create_rejects_bad_input),
        T(test_drafts_are_hidden),
        T(test_edit_only_draft_and_only_owner),
        T(test_publish_guards),
        T(test_invalid_transition_writes_nothing),
        T(test_cancel_rules),
        T(test_ship_validates_logistics),
        T(test_list_pages_and_visibility),
        T(test_tick_expires_overdue_projects),
        T(test_tick_works_in_batches),
        T(test_idempotency_key),
        T(test_commands_fail_cleanly_at_every_store_call),
        T(test_two_processes_sweep_at_once),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
