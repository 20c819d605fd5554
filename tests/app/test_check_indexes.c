/*
 * icms_check holds every record type's index entries to its records
 * (src/kv/record_check.c): an entry missing, one left for a record that is
 * gone, one under values the record no longer has, and a unique value that
 * names another record are each reported; putting the entry back makes the
 * check clean again (the teardown's icms_check says so).
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "app/db.h"
#include "core/uuid.h"
#include "icms/payments.h"
#include "kv/keys.h"
#include "kv/tx.h"
#include "pay_fixture.h"

/* One change to the store behind the library's back: put key (value, value_len) or delete it. */
struct edit {
    icms__key key;
    const void *value; /* NULL: delete */
    size_t value_len;
};

static int apply_edit(icms__tx *tx, void *arg)
{
    const struct edit *e = arg;
    return e->value ? icms__tx_put(tx, &e->key, e->value, e->value_len)
                    : icms__tx_del(tx, &e->key);
}

static void edit_store(world *w, const icms__key *key, const void *value, size_t value_len)
{
    struct edit e = {*key, value, value_len};
    assert_icms_ok(icms__db_write(w->f.db, apply_edit, &e));
}

/* The key of an index entry: ("i"|"u", type, index, one value, then the id for a listing). */
static void entry_key(icms__key *key, const char *kind, const char *type, const char *index,
                      const char *value, const uint8_t *id)
{
    icms__key_init(key);
    icms__key_str(key, kind);
    icms__key_str(key, type);
    icms__key_str(key, index);
    if (value)
        icms__key_str(key, value);
    if (id)
        icms__key_id(key, id);
}

static void parse_id(const char *text, uint8_t id[16])
{
    assert_icms_ok(icms__uuid_parse(text, strlen(text), id));
}

static void id_key(icms__key *key, const char *kind, const char *type, const char *index,
                   const char *value_id, const uint8_t *id)
{
    uint8_t value[16];
    parse_id(value_id, value);
    icms__key_init(key);
    icms__key_str(key, kind);
    icms__key_str(key, type);
    icms__key_str(key, index);
    icms__key_id(key, value);
    if (id)
        icms__key_id(key, id);
}

/* icms_check fails with ICMS_ECORRUPT and names each of want (NULL-terminated) among its violations. */
static void check_reports(world *w, const char *const *want)
{
    char *out = NULL;
    assert_int_equal(icms_check(w->f.db, &w->f.host, &out), ICMS_ECORRUPT);
    cJSON *report = fx_json(out);
    char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(report, "violations"));
    for (size_t i = 0; want[i]; i++)
        if (!strstr(text, want[i]))
            fail_msg("icms_check did not report \"%s\": %s", want[i], text);
    cJSON_free(text);
    cJSON_Delete(report);
}

static void check_clean(world *w)
{
    char *out = NULL;
    assert_icms_ok(icms_check(w->f.db, &w->f.host, &out));
    icms_free(out);
}

/* Two confirmed payments (pa, pb) of two participations in the fixture's project. */
static void two_confirmed(world *w, const char *name, cJSON **pa, cJSON **pb)
{
    paid_by_two(w, name, NULL, pa, pb);
    cJSON_Delete(verify(w, fx_str(*pa, "id")));
    cJSON_Delete(verify(w, fx_str(*pb, "id")));
    check_clean(w);
}

static void test_a_missing_entry_is_reported(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    two_confirmed(w, "check_ix_missing", &pa, &pb);
    uint8_t id[16];
    const char *payment = fx_str(pa, "id");
    parse_id(payment, id);
    icms__key key;
    id_key(&key, "i", "payment", "by_project", w->project, id);
    edit_store(w, &key, NULL, 0);

    char missing[120];
    snprintf(missing, sizeof missing, "payment %s: its by_project entry is missing", payment);
    const char *want[] = {missing, "payment index by_project holds 1 entries; its records call for 2",
                          NULL};
    check_reports(w, want);
    edit_store(w, &key, "", 0);
    check_clean(w);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static void test_an_entry_for_no_record_is_reported(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    two_confirmed(w, "check_ix_orphan", &pa, &pb);
    const uint8_t ghost[16] = {0x01, 0x9a, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0x42};
    char ghost_text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(ghost, ghost_text);
    icms__key key;
    id_key(&key, "i", "participation", "by_investor", w->f.investor.id, ghost);
    edit_store(w, &key, "", 0);

    char orphan[160];
    snprintf(orphan, sizeof orphan,
             "participation index by_investor: an entry for %s, which is not a record",
             ghost_text);
    const char *want[] = {
        orphan, "participation index by_investor holds 3 entries; its records call for 2", NULL};
    check_reports(w, want);
    edit_store(w, &key, NULL, 0);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static void test_an_entry_under_old_values_is_reported(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    two_confirmed(w, "check_ix_stale", &pa, &pb);
    uint8_t id[16];
    const char *payment = fx_str(pb, "id");
    parse_id(payment, id);
    /* The payment is CONFIRMED; an entry still lists it as SUBMITTED. */
    icms__key key;
    entry_key(&key, "i", "payment", "by_status", "SUBMITTED", id);
    edit_store(w, &key, "", 0);

    const char *want[] = {"payment index by_status holds 3 entries; its records call for 2",
                          NULL};
    check_reports(w, want);
    edit_store(w, &key, NULL, 0);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static void test_a_unique_value_naming_another_record_is_reported(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    two_confirmed(w, "check_ix_unique", &pa, &pb);
    const char *a = fx_str(pa, "id"), *b = fx_str(pb, "id");
    uint8_t a_id[16], b_id[16];
    parse_id(a, a_id);
    parse_id(b, b_id);
    /* a's transaction now claims to pay b. */
    icms__key key;
    entry_key(&key, "u", "payment", "txid", fake_node_txid(&w->c.node, "a"), NULL);
    edit_store(w, &key, b_id, 16);

    char wrong[120];
    snprintf(wrong, sizeof wrong, "payment %s: its txid entry names another record", a);
    const char *want[] = {wrong, NULL};
    check_reports(w, want);
    /* The count still matches: the forward pass is what catches it. */
    char *out = NULL;
    assert_int_equal(icms_check(w->f.db, &w->f.host, &out), ICMS_ECORRUPT);
    cJSON *report = fx_json(out);
    assert_int_equal(fx_int(report, "violation_count"), 1);
    cJSON_Delete(report);
    edit_store(w, &key, a_id, 16);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

/* A record's stored bytes, read or replaced behind the record layer. */
struct raw {
    icms__key key;
    char bytes[4096];
    size_t len;
};

static int read_raw(icms__tx *tx, void *arg)
{
    struct raw *r = arg;
    const uint8_t *value;
    int rc = icms__tx_get(tx, &r->key, &value, &r->len);
    if (rc == ICMS_OK) {
        assert_true(r->len < sizeof r->bytes);
        memcpy(r->bytes, value, r->len);
        r->bytes[r->len] = '\0';
    }
    return rc;
}

static void test_a_record_whose_values_an_index_cannot_hold_is_reported(void **state)
{
    world *w = *state;
    cJSON *pa, *pb;
    two_confirmed(w, "check_ix_values", &pa, &pb);
    const char *part = fx_str(pa, "participation_id");
    uint8_t id[16];
    parse_id(part, id);
    struct raw saved;
    icms__key_init(&saved.key);
    icms__key_str(&saved.key, "r");
    icms__key_str(&saved.key, "participation");
    icms__key_id(&saved.key, id);
    assert_icms_ok(icms__db_read(w->f.db, read_raw, &saved));
    /* The request loses its status: no index can say where it stands. */
    char *at = strstr(saved.bytes, "\"status\":\"APPROVED\"");
    assert_non_null(at);
    char changed[4096];
    size_t head = (size_t)(at - saved.bytes);
    const char *rest = at + strlen("\"status\":\"APPROVED\"");
    snprintf(changed, sizeof changed, "%.*s\"state_of_it\":\"APPROVED\"%s", (int)head,
             saved.bytes, rest);
    edit_store(w, &saved.key, changed, strlen(changed));

    char wrong[160];
    snprintf(wrong, sizeof wrong, "participation %s: its by_project_status values cannot be read",
             part);
    const char *want[] = {wrong, "participation index open holds 2 entries; its records call for 1",
                          NULL};
    check_reports(w, want);
    edit_store(w, &saved.key, saved.bytes, saved.len);
    cJSON_Delete(pa);
    cJSON_Delete(pb);
}

static int setup(void **state)
{
    return pay_setup_named(state, "check_indexes");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, pay_teardown)
    const struct CMUnitTest tests[] = {
        T(test_a_missing_entry_is_reported),
        T(test_an_entry_for_no_record_is_reported),
        T(test_an_entry_under_old_values_is_reported),
        T(test_a_unique_value_naming_another_record_is_reported),
        T(test_a_record_whose_values_an_index_cannot_hold_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
