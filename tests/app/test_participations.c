/* Participation requests: rules, commitments, caps, decisions, ending, races. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app/db.h"
#include "app_fixture.h"
#include "icms/audit.h"
#include "icms/participations.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "scale_fixture.h"
#include "support/fault_store.h"

static int setup(void **state)
{
    return fx_setup_named(state, "participations");
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_icms_ok(icms_audit_verify(f->db, NULL, NULL, 0, NULL));
    return fx_teardown(state);
}

static cJSON *get_project(fx *f, const char *id)
{
    char *out = NULL;
    assert_icms_ok(icms_project_get(f->db, &f->admin.req, id, &out));
    return fx_json(out);
}

static void product_ids(fx *f, const char *project, char a[37], char b[37])
{
    cJSON *p = get_project(f, project);
    cJSON *products = cJSON_GetObjectItem(p, "products");
    snprintf(a, 37, "%s", fx_str(cJSON_GetArrayItem(products, 0), "id"));
    snprintf(b, 37, "%s", fx_str(cJSON_GetArrayItem(products, 1), "id"));
    cJSON_Delete(p);
}

static cJSON *request(fx *f, const icms_request *req, const char *project, const char *json,
                      int expect)
{
    char *out = NULL;
    assert_icms(expect, icms_participation_request(f->db, req, project, json, &out));
    return expect == ICMS_OK ? fx_json(out) : NULL;
}

static void products_json(char *buf, size_t size, const char *product, int units)
{
    snprintf(buf, size,
             "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"%s\",\"units\":%d}]}", product,
             units);
}

static void test_request_quotes_landed_cost(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    products_json(json, sizeof json, oil, 10);
    cJSON *p = request(f, &f->investor.req, project, json, ICMS_OK);
    assert_string_equal(fx_str(p, "status"), "PENDING");
    assert_string_equal(fx_str(p, "investor_id"), f->investor.id);
    /* 10 cans at 25 GAP plus their share of the shipping costs, never less than the goods. */
    long long commitment = fx_int(p, "commitment");
    assert_true(commitment > 10 * 2500000000LL);
    assert_true(commitment < 10 * 2500000000LL + 375000001LL);
    cJSON_Delete(p);

    p = request(f, &f->investor2.req, project, "{\"type\":\"PROFIT\",\"capital\":500000000}",
                ICMS_OK);
    assert_int_equal(fx_int(p, "commitment"), 500000000);
    assert_string_equal(fx_str(p, "type"), "PROFIT");
    cJSON_Delete(p);
}

static void test_request_rules(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    products_json(json, sizeof json, oil, 1);
    request(f, &f->stranger.req, project, json, ICMS_EFORBIDDEN); /* KYC not verified */
    assert_non_null(strstr(icms_error_last()->message, "KYC"));
    request(f, &f->owner.req, project, json, ICMS_EFORBIDDEN);
    request(f, &f->anonymous, project, json, ICMS_EFORBIDDEN);
    request(f, &f->host, project, json, ICMS_EFORBIDDEN);
    cJSON_Delete(request(f, &f->investor.req, project, json, ICMS_OK));
    request(f, &f->investor.req, project, json, ICMS_EEXISTS); /* one open request */

    /* Bad requests. */
    static const char *const bad[] = {
        "{\"type\":\"PRODUCTS\"}",
        "{\"type\":\"PROFIT\"}",
        "{\"type\":\"PROFIT\",\"capital\":0}",
        "{\"type\":\"PROFIT\",\"capital\":5,\"items\":[]}",
        "{\"type\":\"SHARES\",\"capital\":5}",
        "{\"type\":\"PRODUCTS\",\"items\":[]}",
        "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"x\",\"units\":1}]}",
        "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"0190e4a4-0000-7000-8000-000000000000\","
        "\"units\":1}]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = icms_participation_request(f->db, &f->investor2.req, project, bad[i], NULL);
        if (rc != ICMS_EINVALID)
            fail_msg("bad request %zu returned %s: %s", i, icms_error_name(rc),
                     icms_error_last()->message);
    }
    snprintf(json, sizeof json,
             "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"%s\",\"units\":1},"
             "{\"product_id\":\"%s\",\"units\":2}]}",
             oil, oil);
    request(f, &f->investor2.req, project, json, ICMS_EINVALID); /* a product twice */
    products_json(json, sizeof json, oil, 101);
    request(f, &f->investor2.req, project, json, ICMS_ELIMIT); /* more than the catalog */

    /* A draft cannot be joined (it is not even visible). */
    char *out = NULL;
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, fx_project_json(30), &out));
    cJSON *draft = fx_json(out);
    request(f, &f->investor2.req, fx_str(draft, "id"), "{\"type\":\"PROFIT\",\"capital\":1}",
            ICMS_ENOTFOUND);
    cJSON_Delete(draft);
}

static const char *approve(fx *f, const icms_request *req, const cJSON *p, int expect)
{
    char *out = NULL;
    assert_icms(expect, icms_participation_approve(f->db, req, fx_str(p, "id"), &out));
    icms_free(out);
    return NULL;
}

static void test_first_approval_starts_funding(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    products_json(json, sizeof json, oil, 40);
    cJSON *p = request(f, &f->investor.req, project, json, ICMS_OK);
    approve(f, &f->investor.req, p, ICMS_EFORBIDDEN);
    approve(f, &f->admin.req, p, ICMS_EFORBIDDEN); /* the owner decides, not the admin */
    approve(f, &f->owner.req, p, ICMS_OK);
    approve(f, &f->owner.req, p, ICMS_EINVALID_TRANSITION);
    cJSON *proj = get_project(f, project);
    assert_string_equal(fx_str(proj, "state"), "FUNDING");
    assert_int_equal(fx_int(proj, "committed"), fx_int(p, "commitment"));
    assert_int_equal(fx_int(proj, "approved_participations"), 1);
    assert_int_equal(fx_int(cJSON_GetArrayItem(cJSON_GetObjectItem(proj, "products"), 0),
                            "reserved"),
                     40);
    cJSON_Delete(proj);
    /* A second request of the same investor is refused while one is open. */
    request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":1}", ICMS_EEXISTS);
    cJSON_Delete(p);
}

static void test_every_unit_costs_exactly_the_target(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    /* Five investors buy the whole catalog in uneven runs. */
    fx_user buyers[5];
    const int oil_runs[5] = {7, 33, 1, 59, 0};
    const int olive_runs[5] = {100, 0, 200, 32, 1};
    for (int i = 0; i < 5; i++) {
        fx_add_user(f, &buyers[i], ICMS_ROLE_INVESTOR, "VERIFIED");
        if (oil_runs[i] && olive_runs[i])
            snprintf(json, sizeof json,
                     "{\"type\":\"PRODUCTS\",\"items\":[{\"product_id\":\"%s\",\"units\":%d},"
                     "{\"product_id\":\"%s\",\"units\":%d}]}",
                     oil, oil_runs[i], olives, olive_runs[i]);
        else if (oil_runs[i])
            products_json(json, sizeof json, oil, oil_runs[i]);
        else
            products_json(json, sizeof json, olives, olive_runs[i]);
        cJSON *p = request(f, &buyers[i].req, project, json, ICMS_OK);
        approve(f, &f->owner.req, p, ICMS_OK);
        cJSON_Delete(p);
    }
    cJSON *proj = get_project(f, project);
    assert_int_equal(fx_int(proj, "committed"), fx_int(proj, "total_cost"));
    cJSON_Delete(proj);
    /* Nothing is left: one more unit or base unit is refused. */
    products_json(json, sizeof json, oil, 1);
    request(f, &f->investor.req, project, json, ICMS_ELIMIT);
    request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":1}", ICMS_ELIMIT);
}

static void test_caps_are_checked_again_at_approval(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    products_json(json, sizeof json, oil, 60);
    cJSON *a = request(f, &f->investor.req, project, json, ICMS_OK);
    cJSON *b = request(f, &f->investor2.req, project, json, ICMS_OK); /* both fit alone */
    approve(f, &f->owner.req, a, ICMS_OK);
    approve(f, &f->owner.req, b, ICMS_ELIMIT); /* together they would take 120 of 100 */
    cJSON *proj = get_project(f, project);
    assert_int_equal(fx_int(cJSON_GetArrayItem(cJSON_GetObjectItem(proj, "products"), 0),
                            "reserved"),
                     60);
    cJSON_Delete(proj);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_reject_and_withdraw(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    cJSON *a = request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":7}", ICMS_OK);
    cJSON *b =
        request(f, &f->investor2.req, project, "{\"type\":\"PROFIT\",\"capital\":9}", ICMS_OK);
    char *out = NULL;
    assert_int_equal(icms_participation_reject(f->db, &f->owner.req, fx_str(a, "id"), "", NULL),
                     ICMS_EINVALID);
    assert_icms_ok(
        icms_participation_reject(f->db, &f->owner.req, fx_str(a, "id"), "too small", &out));
    cJSON *r = fx_json(out);
    assert_string_equal(fx_str(r, "status"), "REJECTED");
    assert_string_equal(fx_str(r, "reason"), "too small");
    cJSON_Delete(r);
    /* Another investor's request is invisible to them. */
    assert_int_equal(icms_participation_withdraw(f->db, &f->investor.req, fx_str(b, "id"), NULL),
                     ICMS_ENOTFOUND);
    assert_int_equal(icms_participation_withdraw(f->db, &f->owner.req, fx_str(b, "id"), NULL),
                     ICMS_EFORBIDDEN);
    assert_icms_ok(icms_participation_withdraw(f->db, &f->investor2.req, fx_str(b, "id"), &out));
    r = fx_json(out);
    assert_string_equal(fx_str(r, "status"), "WITHDRAWN");
    cJSON_Delete(r);
    /* A closed request frees the investor to ask again. */
    cJSON_Delete(request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":8}",
                         ICMS_OK));
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_cancelling_the_project_ends_requests(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    cJSON *a = request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":7}", ICMS_OK);
    cJSON *b =
        request(f, &f->investor2.req, project, "{\"type\":\"PROFIT\",\"capital\":9}", ICMS_OK);
    approve(f, &f->owner.req, a, ICMS_OK);
    assert_icms_ok(icms_project_cancel(f->db, &f->owner.req, project, "no ship", NULL));
    char *out = NULL;
    const cJSON *both[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        assert_icms_ok(icms_participation_get(f->db, &f->admin.req, fx_str(both[i], "id"), &out));
        cJSON *p = fx_json(out);
        assert_string_equal(fx_str(p, "status"), "CANCELLED");
        cJSON_Delete(p);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_who_sees_what(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    cJSON *a = request(f, &f->investor.req, project, "{\"type\":\"PROFIT\",\"capital\":7}", ICMS_OK);
    cJSON *b =
        request(f, &f->investor2.req, project, "{\"type\":\"PROFIT\",\"capital\":9}", ICMS_OK);
    char *out = NULL, filter[128];
    assert_icms_ok(icms_participation_get(f->db, &f->investor.req, fx_str(a, "id"), &out));
    icms_free(out);
    assert_int_equal(icms_participation_get(f->db, &f->investor.req, fx_str(b, "id"), &out),
                     ICMS_ENOTFOUND);
    assert_icms_ok(icms_participation_get(f->db, &f->owner.req, fx_str(b, "id"), &out));
    icms_free(out);
    assert_int_equal(icms_participation_get(f->db, &f->anonymous, fx_str(b, "id"), &out),
                     ICMS_ENOTFOUND);

    /* Lists: own requests by default; the owner by project; strangers nothing. */
    assert_icms_ok(icms_participation_list(f->db, &f->investor.req, NULL, &out));
    cJSON *page = fx_json(out);
    cJSON *items = cJSON_GetObjectItem(page, "items");
    assert_int_equal(cJSON_GetArraySize(items), 1);
    assert_string_equal(fx_str(cJSON_GetArrayItem(items, 0), "id"), fx_str(a, "id"));
    cJSON_Delete(page);
    snprintf(filter, sizeof filter, "{\"project_id\":\"%s\"}", project);
    assert_icms_ok(icms_participation_list(f->db, &f->owner.req, filter, &out));
    page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 2);
    cJSON_Delete(page);
    assert_int_equal(icms_participation_list(f->db, &f->investor.req, filter, &out),
                     ICMS_EFORBIDDEN);
    snprintf(filter, sizeof filter, "{\"investor_id\":\"%s\"}", f->investor2.id);
    assert_int_equal(icms_participation_list(f->db, &f->investor.req, filter, &out),
                     ICMS_EFORBIDDEN);
    assert_icms_ok(icms_participation_list(f->db, &f->admin.req, filter, &out));
    page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 1);
    cJSON_Delete(page);
    assert_int_equal(icms_participation_list(f->db, &f->anonymous, NULL, &out), ICMS_EFORBIDDEN);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

/*
 * Two processes, each with its own handle on the same SQLite file, approve
 * at the same moment two requests that cannot both fit. However the race
 * falls, exactly one approval wins and the catalog is never over-committed.
 */
static void test_two_processes_race_for_the_last_units(void **state)
{
    fx *f = *state;
    for (int round = 0; round < 8; round++) {
        char project[37], oil[37], olives[37], json[256];
        fx_published_project(f, project);
        product_ids(f, project, oil, olives);
        fx_user u1, u2;
        fx_add_user(f, &u1, ICMS_ROLE_INVESTOR, "VERIFIED");
        fx_add_user(f, &u2, ICMS_ROLE_INVESTOR, "VERIFIED");
        products_json(json, sizeof json, oil, 70);
        cJSON *a = request(f, &u1.req, project, json, ICMS_OK);
        cJSON *b = request(f, &u2.req, project, json, ICMS_OK);
        const char *ids[2] = {fx_str(a, "id"), fx_str(b, "id")};
        int pipes[2][2];
        pid_t pids[2];
        for (int i = 0; i < 2; i++) {
            assert_int_equal(pipe(pipes[i]), 0);
            pids[i] = fork();
            if (pids[i] == 0) {
                icms_options options = ICMS_OPTIONS_INIT;
                options.path = f->path;
                icms_clock_fake_new(FX_NOW, &options.clock);
                icms_db *db = NULL;
                char go;
                /* Wait for the starting shot so both are ready before either writes. */
                int rc = icms_open(&db, &options);
                if (rc == ICMS_OK && read(pipes[i][0], &go, 1) == 1)
                    rc = icms_participation_approve(db, &f->owner.req, ids[i], NULL);
                if (rc != ICMS_OK && rc != ICMS_ELIMIT)
                    fprintf(stderr, "racer %d: %s\n", i, icms_error_last()->message);
                icms_close(db);
                _exit(rc == ICMS_OK ? 0 : rc == ICMS_ELIMIT ? 1 : 2);
            }
        }
        usleep(20000);
        for (int i = 0; i < 2; i++)
            assert_int_equal(write(pipes[i][1], "g", 1), 1);
        int winners = 0, refused = 0;
        for (int i = 0; i < 2; i++) {
            int status;
            waitpid(pids[i], &status, 0);
            assert_true(WIFEXITED(status));
            winners += WEXITSTATUS(status) == 0;
            refused += WEXITSTATUS(status) == 1;
            close(pipes[i][0]);
            close(pipes[i][1]);
        }
        assert_int_equal(winners, 1);
        assert_int_equal(refused, 1);
        cJSON *proj = get_project(f, project);
        assert_int_equal(fx_int(cJSON_GetArrayItem(cJSON_GetObjectItem(proj, "products"), 0),
                                "reserved"),
                         70);
        cJSON_Delete(proj);
        cJSON_Delete(a);
        cJSON_Delete(b);
    }
}

/* Reopen f->db on its file through a fault store (returned; the db owns it) that counts calls. */
static icms_store *reopen_through_fault_store(fx *f)
{
    icms_close(f->db);
    icms_store *inner, *fault;
    assert_icms_ok(icms_store_sqlite_new(&inner, f->path, NULL));
    assert_icms_ok(icms_test_fault_store_new(&fault, inner, true));
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = fault;
    options.retry_attempts = 1;
    assert_icms_ok(icms_clock_fake_new(FX_NOW, &options.clock));
    assert_icms_ok(icms_open(&f->db, &options));
    return fault;
}

/* Store reads (point reads, scans and the keys they visit) one approval makes. */
static unsigned long approval_reads(fx *f, icms_store *fault, const cJSON *p)
{
    icms_test_fault_store_reset(fault);
    approve(f, &f->owner.req, p, ICMS_OK);
    return icms_test_fault_store_reads(fault);
}

/*
 * Approving one request reads the same whatever the project's size: the per-investor
 * cap sums the investor's own requests, not the project's (once, every approval read
 * all of them, so approving a project's n requests cost n^2 reads).
 */
static void test_approval_reads_do_not_grow_with_the_project(void **state)
{
    fx *f = *state;
    char small[37], large[37], third[37];
    fx_published_project(f, small);
    fx_published_project(f, large);
    fx_published_project(f, third);
    const char *capital = "{\"type\":\"PROFIT\",\"capital\":3}";
    fx_user newcomer;
    fx_add_user(f, &newcomer, ICMS_ROLE_INVESTOR, "VERIFIED");
    cJSON *first = request(f, &newcomer.req, third, capital, ICMS_OK);
    cJSON *alone = request(f, &f->investor.req, small, capital, ICMS_OK);
    cJSON *crowded = request(f, &f->investor2.req, large, capital, ICMS_OK);
    for (int i = 0; i < 12; i++) {
        fx_user other;
        fx_add_user(f, &other, ICMS_ROLE_INVESTOR, "VERIFIED");
        cJSON_Delete(request(f, &other.req, large, capital, ICMS_OK));
    }
    icms_store *fault = reopen_through_fault_store(f);
    approval_reads(f, fault, first); /* what a handle's first command reads once is not counted */
    unsigned long reads_crowded = approval_reads(f, fault, crowded);
    unsigned long reads_alone = approval_reads(f, fault, alone);
    assert_true(reads_alone > 0);
    assert_int_equal(reads_crowded, reads_alone);
    cJSON_Delete(first);
    cJSON_Delete(alone);
    cJSON_Delete(crowded);
}

static void test_approve_fails_cleanly_at_every_store_call(void **state)
{
    fx *f = *state;
    char project[37], oil[37], olives[37], json[256];
    fx_published_project(f, project);
    product_ids(f, project, oil, olives);
    products_json(json, sizeof json, oil, 5);
    cJSON *a = request(f, &f->investor.req, project, json, ICMS_OK);
    icms_store *fault = reopen_through_fault_store(f);
    icms_store *inner = icms_test_fault_store_inner(fault);
    unsigned long nth;
    for (nth = 1;; nth++) {
        uint64_t before, after;
        size_t kb, ka;
        assert_icms_ok(icms_test_store_digest(inner, &before, &kb));
        icms_test_fault_store_reset(fault);
        icms_test_fault_store_fail(fault, ICMS_TEST_FAULT_ANY, nth, ICMS_ESTORAGE);
        int rc = icms_participation_approve(f->db, &f->owner.req, fx_str(a, "id"), NULL);
        if (!icms_test_fault_store_fired(fault)) {
            assert_icms_ok(rc);
            break;
        }
        assert_int_equal(rc, ICMS_ESTORAGE);
        assert_icms_ok(icms_test_store_digest(inner, &after, &ka));
        if (before != after)
            fail_msg("failing store call %lu changed the store", nth);
    }
    assert_true(nth > 10);
    icms_test_fault_store_reset(fault);
    cJSON_Delete(a);
}

/* One page of a listing, as f->owner, with what it read. */
static unsigned long page_reads(fx *f, icms_store *counting,
                                int (*list)(icms_db *, const icms_request *, const char *, char **),
                                const char *filter, int expect)
{
    char *out = NULL;
    scale_reads(counting);
    assert_icms_ok(list(f->db, &f->owner.req, filter, &out));
    unsigned long reads = scale_reads(counting);
    cJSON *page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), expect);
    cJSON_Delete(page);
    return reads;
}

/*
 * A listing filtered to one investor (or one participation's payments) reads
 * that investor's records (that participation's), not every record of the
 * project: a page of one investor's requests costs the same in a project of
 * 1 participant and of 13 (once, it read all of the project's).
 */
static void test_filtered_pages_read_the_narrowest_index(void **state)
{
    fx *f = *state;
    memchain *m = memchain_new();
    icms_store *counting = scale_reopen(f, m);
    char quiet[37], crowded[37], qpart[37], cpart[37], payment[37];
    scale_project(f, 100, NULL, quiet);
    scale_project(f, 100, NULL, crowded);
    fx_approved_profit(f, &f->investor, quiet, SCALE_UNIT, qpart);
    scale_initiate(f, m, &f->investor, qpart, payment);
    fx_approved_profit(f, &f->investor2, crowded, SCALE_UNIT, cpart);
    scale_initiate(f, m, &f->investor2, cpart, payment);
    for (int i = 0; i < 12; i++) {
        fx_user other;
        char part[37];
        scale_investor(f, &other);
        fx_approved_profit(f, &other, crowded, SCALE_UNIT, part);
        scale_initiate(f, m, &other, part, payment);
    }
    char fq[256], fc[256];
    snprintf(fq, sizeof fq, "{\"project_id\":\"%s\",\"investor_id\":\"%s\"}", quiet,
             f->investor.id);
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"investor_id\":\"%s\"}", crowded,
             f->investor2.id);
    page_reads(f, counting, icms_participation_list, fq, 1); /* read once per handle: not counted */
    unsigned long crowded_reads = page_reads(f, counting, icms_participation_list, fc, 1);
    unsigned long quiet_reads = page_reads(f, counting, icms_participation_list, fq, 1);
    assert_true(quiet_reads > 0);
    assert_int_equal(crowded_reads, quiet_reads);
    snprintf(fq, sizeof fq, "{\"project_id\":\"%s\",\"participation_id\":\"%s\"}", quiet, qpart);
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"participation_id\":\"%s\"}", crowded, cpart);
    crowded_reads = page_reads(f, counting, icms_payment_list, fc, 1);
    quiet_reads = page_reads(f, counting, icms_payment_list, fq, 1);
    assert_int_equal(crowded_reads, quiet_reads);
    /* The scope still holds: another project's participation lists nothing here. */
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"participation_id\":\"%s\"}", crowded, qpart);
    page_reads(f, counting, icms_payment_list, fc, 0);
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"investor_id\":\"%s\"}", crowded,
             f->investor.id);
    page_reads(f, counting, icms_participation_list, fc, 0);
    /* And an investor's own: another's participation lists nothing. */
    char *out = NULL;
    snprintf(fc, sizeof fc, "{\"participation_id\":\"%s\"}", cpart);
    assert_icms_ok(icms_payment_list(f->db, &f->investor.req, fc, &out));
    cJSON *page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 0);
    cJSON_Delete(page);
    snprintf(fq, sizeof fq, "{\"participation_id\":\"%s\"}", qpart);
    assert_icms_ok(icms_payment_list(f->db, &f->investor.req, fq, &out));
    page = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(page, "items")), 1);
    cJSON_Delete(page);
    icms_options options = ICMS_OPTIONS_INIT;
    fx_reopen(f, &options);
    memchain_free(m);
}

/*
 * A project's page of requests of one status reads those (by_project_status),
 * not every request of the project: its owner's page of PENDING requests
 * costs the same beside 12 approved ones as beside none (it read all 13).
 */
static void test_a_status_page_reads_that_status_only(void **state)
{
    fx *f = *state;
    memchain *m = memchain_new();
    icms_store *counting = scale_reopen(f, m);
    char quiet[37], crowded[37], qpart[37], cpart[37];
    scale_project(f, 100, NULL, quiet);
    scale_project(f, 100, NULL, crowded);
    fx_request_profit(f, &f->investor, quiet, SCALE_UNIT, qpart);
    char approved[12][37];
    for (int i = 0; i < 12; i++) {
        fx_user other;
        scale_investor(f, &other);
        fx_approved_profit(f, &other, crowded, SCALE_UNIT, approved[i]);
    }
    fx_request_profit(f, &f->investor2, crowded, SCALE_UNIT, cpart);
    char fq[256], fc[256];
    snprintf(fq, sizeof fq, "{\"project_id\":\"%s\",\"status\":\"PENDING\"}", quiet);
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"status\":\"PENDING\"}", crowded);
    page_reads(f, counting, icms_participation_list, fq, 1); /* read once per handle: not counted */
    unsigned long crowded_reads = page_reads(f, counting, icms_participation_list, fc, 1);
    unsigned long quiet_reads = page_reads(f, counting, icms_participation_list, fq, 1);
    assert_true(quiet_reads > 0);
    assert_int_equal(crowded_reads, quiet_reads);

    /* Pages of one status go on from their cursor, in id order, and end. */
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"status\":\"APPROVED\",\"limit\":5}",
             crowded);
    char *out = NULL;
    int seen = 0;
    char after[37] = "";
    for (int page = 0; page < 4 && (page == 0 || after[0]); page++) {
        char filter[320];
        if (after[0])
            snprintf(filter, sizeof filter,
                     "{\"project_id\":\"%s\",\"status\":\"APPROVED\",\"limit\":5,"
                     "\"after\":\"%s\"}",
                     crowded, after);
        else
            snprintf(filter, sizeof filter, "%s", fc);
        assert_icms_ok(icms_participation_list(f->db, &f->owner.req, filter, &out));
        cJSON *doc = fx_json(out);
        cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItem(doc, "items"))
        {
            assert_string_equal(fx_str(item, "status"), "APPROVED");
            assert_string_equal(fx_str(item, "id"), approved[seen]);
            seen++;
        }
        const cJSON *next = cJSON_GetObjectItem(doc, "next");
        snprintf(after, sizeof after, "%s", cJSON_IsString(next) ? next->valuestring : "");
        cJSON_Delete(doc);
    }
    assert_int_equal(seen, 12);
    assert_string_equal(after, "");
    /* The scope still holds: a project's page of a status is its owner's, an investor lists their own. */
    snprintf(fc, sizeof fc, "{\"project_id\":\"%s\",\"status\":\"PENDING\"}", crowded);
    assert_int_equal(icms_participation_list(f->db, &f->investor2.req, fc, &out), ICMS_EFORBIDDEN);
    assert_icms_ok(icms_participation_list(f->db, &f->investor2.req, "{\"status\":\"PENDING\"}", &out));
    cJSON *doc = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "items")), 1);
    assert_string_equal(fx_str(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "items"), 0), "id"), cpart);
    cJSON_Delete(doc);
    icms_options options = ICMS_OPTIONS_INIT;
    fx_reopen(f, &options);
    memchain_free(m);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_request_quotes_landed_cost),
        T(test_request_rules),
        T(test_first_approval_starts_funding),
        T(test_every_unit_costs_exactly_the_target),
        T(test_caps_are_checked_again_at_approval),
        T(test_reject_and_withdraw),
        T(test_cancelling_the_project_ends_requests),
        T(test_who_sees_what),
        T(test_two_processes_race_for_the_last_units),
        T(test_approve_fails_cleanly_at_every_store_call),
        T(test_approval_reads_do_not_grow_with_the_project),
        T(test_filtered_pages_read_the_narrowest_index),
        T(test_a_status_page_reads_that_status_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
