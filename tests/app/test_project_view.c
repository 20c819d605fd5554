/*
 * Who reads a project's payout_address: its owner, admins and the host;
 * investors (participants or not), other owners and anonymous readers get
 * the project without it, from get and from every kind of list.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_fixture.h"
#include "core/core.h"
#include "icms/gapcoin.h"
#include "icms/participations.h"
#include "icms/projects.h"

typedef struct vfx {
    fx f;
    fx_user owner2;   /* another project owner */
    char address[64]; /* the owner's payout address (mainnet P2PKH) */
    char project[37]; /* published, with the address */
    char draft[37];   /* a draft with the address */
} vfx;

static void make_address(char out[64], uint8_t fill)
{
    uint8_t h160[20];
    memset(h160, fill, sizeof h160);
    char *text = NULL;
    assert_icms_ok(icms_gapcoin_base58check_encode(38, h160, sizeof h160, &text));
    snprintf(out, 64, "%s", text);
    icms_free(text);
}

/* A project of f->owner with the payout address (published or not); its id in id. */
static void owned_project(vfx *v, bool publish, char id[37])
{
    char json[2600], *out = NULL;
    const char *base = fx_project_json(30);
    /* fx_project_json's document, with the address in front of its other fields. */
    snprintf(json, sizeof json, "{\"payout_address\":\"%s\",%s", v->address, base + 1);
    assert_icms_ok(icms_project_create(v->f.db, &v->f.owner.req, json, &out));
    cJSON *p = fx_json(out);
    snprintf(id, 37, "%s", fx_str(p, "id"));
    assert_string_equal(fx_str(p, "payout_address"), v->address); /* the owner's own answer */
    cJSON_Delete(p);
    if (publish)
        assert_icms_ok(icms_project_publish(v->f.db, &v->f.owner.req, id, NULL));
}

static int setup(void **state)
{
    static int n;
    vfx *v = calloc(1, sizeof *v);
    char name[32];
    snprintf(name, sizeof name, "project_view_%d", n++);
    fx_open(&v->f, name);
    fx_add_user(&v->f, &v->owner2, ICMS_ROLE_OWNER, "VERIFIED");
    make_address(v->address, 0x42);
    owned_project(v, true, v->project);
    owned_project(v, false, v->draft);
    /* The investor takes part: a participant is still not the owner. */
    assert_icms_ok(icms_participation_request(v->f.db, &v->f.investor.req, v->project,
                                              "{\"type\":\"PROFIT\",\"capital\":100000000}", NULL));
    *state = v;
    return 0;
}

static int teardown(void **state)
{
    vfx *v = *state;
    fx_close(&v->f);
    free(v);
    return 0;
}

/* The readers, and whether each sees the address. */
typedef struct reader {
    const char *name;
    const icms_request *req;
    bool sees;
} reader;

static size_t readers(vfx *v, reader out[7])
{
    fx *f = &v->f;
    reader all[] = {
        {"owner", &f->owner.req, true},
        {"admin", &f->admin.req, true},
        {"host", &f->host, true},
        {"participant", &f->investor.req, false},
        {"investor", &f->investor2.req, false},
        {"other owner", &v->owner2.req, false},
        {"anonymous", &f->anonymous, false},
    };
    memcpy(out, all, sizeof all);
    return ICMS__ARRAY_LEN(all);
}

static void check_doc(const vfx *v, const reader *r, const cJSON *p)
{
    const cJSON *address = cJSON_GetObjectItemCaseSensitive(p, "payout_address");
    if (r->sees) {
        if (!cJSON_IsString(address) || strcmp(address->valuestring, v->address) != 0)
            fail_msg("%s should see the payout address", r->name);
    } else if (address) {
        fail_msg("%s sees the payout address", r->name);
    }
    /* The rest of the project is there for everyone. */
    assert_string_equal(fx_str(p, "title"), "Olive oil from Crete");
    assert_string_equal(fx_str(p, "owner_id"), v->f.owner.id);
    assert_true(fx_int(p, "total_cost") > 0);
    assert_non_null(cJSON_GetObjectItemCaseSensitive(p, "products"));
}

static void test_get_shows_the_address_to_owner_admin_and_host_only(void **state)
{
    vfx *v = *state;
    reader r[7];
    size_t n = readers(v, r);
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        assert_icms_ok(icms_project_get(v->f.db, r[i].req, v->project, &out));
        cJSON *p = fx_json(out);
        check_doc(v, &r[i], p);
        cJSON_Delete(p);
    }
    /* A draft is the owner's, admins' and the host's only; with its address. */
    for (size_t i = 0; i < n; i++) {
        char *out = NULL;
        int rc = icms_project_get(v->f.db, r[i].req, v->draft, &out);
        if (!r[i].sees) {
            assert_int_equal(rc, ICMS_ENOTFOUND);
            assert_null(out);
            continue;
        }
        assert_icms_ok(rc);
        cJSON *p = fx_json(out);
        check_doc(v, &r[i], p);
        cJSON_Delete(p);
    }
}

/* Every item of a page is shaped for the reader; returns how many there were. */
static int check_page(vfx *v, const reader *r, const char *filter)
{
    char *out = NULL;
    int rc = icms_project_list(v->f.db, r->req, filter, &out);
    if (rc != ICMS_OK)
        fail_msg("%s listing %s: %d", r->name, filter ? filter : "(all)", rc);
    cJSON *page = fx_json(out);
    const cJSON *item;
    int count = 0;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(page, "items"))
    {
        check_doc(v, r, item);
        count++;
    }
    cJSON_Delete(page);
    return count;
}

static void test_lists_show_the_address_to_owner_admin_and_host_only(void **state)
{
    vfx *v = *state;
    reader r[7];
    size_t n = readers(v, r);
    char by_owner[128];
    snprintf(by_owner, sizeof by_owner, "{\"owner_id\":\"%s\"}", v->f.owner.id);
    for (size_t i = 0; i < n; i++) {
        /* Every path through the listing: all, by state, by owner, one item a page. */
        int all = check_page(v, &r[i], NULL);
        int published = check_page(v, &r[i], "{\"state\":\"PUBLISHED\"}");
        int owned = check_page(v, &r[i], by_owner);
        int first = check_page(v, &r[i], "{\"limit\":1}");
        assert_int_equal(published, 1);
        assert_int_equal(first, 1);
        /* The draft: listed whole to admins and the host, to its owner by owner_id. */
        bool admin = r[i].req == &v->f.admin.req || r[i].req == &v->f.host;
        assert_int_equal(all, admin ? 2 : 1);
        assert_int_equal(owned, r[i].sees ? 2 : 1);
    }
}

static void test_a_changed_address_stays_private(void **state)
{
    vfx *v = *state;
    char other[64], *out = NULL;
    make_address(other, 0x43);
    assert_icms_ok(
        icms_project_set_payout_address(v->f.db, &v->f.owner.req, v->project, other, &out));
    cJSON *p = fx_json(out);
    assert_string_equal(fx_str(p, "payout_address"), other);
    cJSON_Delete(p);
    assert_icms_ok(icms_project_get(v->f.db, &v->f.investor.req, v->project, &out));
    p = fx_json(out);
    assert_null(cJSON_GetObjectItemCaseSensitive(p, "payout_address"));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_get(v->f.db, &v->f.admin.req, v->project, &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "payout_address"), other);
    cJSON_Delete(p);
    /* Refused: nothing changes, and the refusal does not tell the address either. */
    assert_int_equal(
        icms_project_set_payout_address(v->f.db, &v->f.investor.req, v->project, v->address, &out),
        ICMS_EFORBIDDEN);
    assert_null(out);
    assert_null(strstr(icms_error_last()->message, other));
    assert_icms_ok(icms_project_get(v->f.db, &v->f.host, v->project, &out));
    p = fx_json(out);
    assert_string_equal(fx_str(p, "payout_address"), other);
    cJSON_Delete(p);
}

/* A project without an address reads the same to everyone, owner included. */
static void test_no_address_is_no_field(void **state)
{
    vfx *v = *state;
    char id[37], *out = NULL;
    fx_published_project(&v->f, id);
    const icms_request *reqs[] = {&v->f.owner.req, &v->f.investor.req, &v->f.anonymous};
    for (size_t i = 0; i < ICMS__ARRAY_LEN(reqs); i++) {
        assert_icms_ok(icms_project_get(v->f.db, reqs[i], id, &out));
        cJSON *p = fx_json(out);
        assert_null(cJSON_GetObjectItemCaseSensitive(p, "payout_address"));
        assert_string_equal(fx_str(p, "id"), id);
        cJSON_Delete(p);
    }
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_get_shows_the_address_to_owner_admin_and_host_only),
        T(test_lists_show_the_address_to_owner_admin_and_host_only),
        T(test_a_changed_address_stays_private),
        T(test_no_address_is_no_field),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
