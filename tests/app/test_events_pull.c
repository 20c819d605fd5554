/* Pull delivery: durable consumers, cursors, redelivery, restart, authorization. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "events_fixture.h"
#include "icms/audit.h"
#include "icms/projects.h"

static int setup(void **state)
{
    return fx_setup_named(state, "events_pull");
}

static int teardown(void **state)
{
    fx *f = *state;
    assert_icms_ok(icms_audit_verify(f->db, NULL, NULL, 0, NULL));
    return fx_teardown(state);
}

static const cJSON *events_of(const cJSON *page)
{
    const cJSON *events = cJSON_GetObjectItem(page, "events");
    assert_true(cJSON_IsArray(events));
    return events;
}

static void test_envelope_fields(void **state)
{
    fx *f = *state;
    icms_request req = f->owner.req;
    req.correlation_id = "corr-42";
    char *out = NULL;
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(30), &out));
    cJSON *project = fx_json(out);
    cJSON *page = ev_read(f, "reader", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_string_equal(fx_str(page, "consumer"), "reader");
    assert_int_equal(fx_int(page, "acked"), 0);
    assert_int_equal(fx_int(page, "last_seq"), 1);
    const cJSON *events = events_of(page);
    assert_int_equal(cJSON_GetArraySize(events), 1);
    const cJSON *e = cJSON_GetArrayItem(events, 0);
    uint8_t id[16];
    const char *event_id = fx_str(e, "event_id");
    assert_icms_ok(icms__uuid_parse(event_id, strlen(event_id), id));
    assert_int_equal(id[6] >> 4, 7); /* UUIDv7 */
    assert_string_equal(fx_str(e, "type"), "project.created");
    assert_string_equal(fx_str(e, "occurred_at"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(fx_str(e, "correlation_id"), "corr-42");
    assert_string_equal(fx_str(e, "source"), "libicms");
    assert_int_equal(fx_int(e, "schema_version"), 1);
    assert_string_equal(fx_str(e, "subject"), fx_str(project, "id"));
    assert_int_equal(fx_int(e, "seq"), 1);
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(e, "data")));
    cJSON_Delete(page);
    cJSON_Delete(project);
}

static void test_unacked_events_are_read_again(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project); /* project.created, project.published */
    cJSON *a = ev_read(f, "worker", ICMS_EVENTS_FROM_CURSOR, 0);
    cJSON *b = ev_read(f, "worker", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(cJSON_GetArraySize(events_of(a)), 2);
    char *ta = cJSON_PrintUnformatted(events_of(a)), *tb = cJSON_PrintUnformatted(events_of(b));
    assert_string_equal(ta, tb); /* the same events, byte for byte */
    free(ta);
    free(tb);
    assert_string_equal(fx_str(cJSON_GetArrayItem(events_of(a), 0), "type"), "project.created");
    assert_string_equal(fx_str(cJSON_GetArrayItem(events_of(a), 1), "type"), "project.published");
    /* Acknowledge the first: only the second comes again. */
    assert_icms_ok(icms_events_ack(f->db, &f->host, "worker", 1));
    cJSON *c = ev_read(f, "worker", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(fx_int(c, "acked"), 1);
    assert_int_equal(cJSON_GetArraySize(events_of(c)), 1);
    assert_int_equal(ev_seq(cJSON_GetArrayItem(events_of(c), 0)), 2);
    /* A late or repeated ack changes nothing; acking everything empties the page. */
    assert_icms_ok(icms_events_ack(f->db, &f->host, "worker", 1));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "worker", 0));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "worker", 2));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "worker", 1));
    cJSON *d = ev_read(f, "worker", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(fx_int(d, "acked"), 2);
    assert_int_equal(cJSON_GetArraySize(events_of(d)), 0);
    /* Consumers are independent. */
    cJSON *other = ev_read(f, "other", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(cJSON_GetArraySize(events_of(other)), 2);
    /* An explicit position reads from there, whatever the cursor. */
    cJSON *explicit_page = ev_read(f, "worker", 1, 0);
    assert_int_equal(cJSON_GetArraySize(events_of(explicit_page)), 1);
    assert_int_equal(fx_int(explicit_page, "acked"), 2);
    cJSON_Delete(a);
    cJSON_Delete(b);
    cJSON_Delete(c);
    cJSON_Delete(d);
    cJSON_Delete(other);
    cJSON_Delete(explicit_page);
}

static void test_max_pages(void **state)
{
    fx *f = *state;
    char project[37];
    for (int i = 0; i < 3; i++)
        fx_published_project(f, project);
    cJSON *p = ev_read(f, "pager", ICMS_EVENTS_FROM_CURSOR, 4);
    assert_int_equal(cJSON_GetArraySize(events_of(p)), 4);
    assert_int_equal(fx_int(p, "last_seq"), 6);
    assert_icms_ok(
        icms_events_ack(f->db, &f->host, "pager", ev_seq(cJSON_GetArrayItem(events_of(p), 3))));
    cJSON *q = ev_read(f, "pager", ICMS_EVENTS_FROM_CURSOR, 4);
    assert_int_equal(cJSON_GetArraySize(events_of(q)), 2);
    assert_int_equal(ev_seq(cJSON_GetArrayItem(events_of(q), 0)), 5);
    cJSON_Delete(p);
    cJSON_Delete(q);
}

static void test_cursor_survives_reopen(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "durable", 1));
    /* A new handle on the same file: the host process restarted. */
    icms_close(f->db);
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    options.sqlite_sync = ICMS_SQLITE_SYNC_OFF;
    assert_icms_ok(icms_clock_fake_new(FX_NOW + FX_DAY, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_open(&f->db, &options));
    cJSON *p = ev_read(f, "durable", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(fx_int(p, "acked"), 1);
    assert_int_equal(cJSON_GetArraySize(events_of(p)), 1);
    assert_string_equal(fx_str(cJSON_GetArrayItem(events_of(p), 0), "type"), "project.published");
    cJSON_Delete(p);
}

static void test_seek_list_delete(void **state)
{
    fx *f = *state;
    char project[37], *out = NULL;
    fx_published_project(f, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "replayer", 2));
    assert_icms_ok(icms_events_seek(f->db, &f->host, "replayer", 0));
    cJSON *p = ev_read(f, "replayer", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(cJSON_GetArraySize(events_of(p)), 2);
    cJSON_Delete(p);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "other", 1));
    assert_icms_ok(icms_events_consumers(f->db, &f->admin.req, &out));
    cJSON *list = fx_json(out);
    assert_int_equal(fx_int(list, "last_seq"), 2);
    const cJSON *consumers = cJSON_GetObjectItem(list, "consumers");
    assert_int_equal(cJSON_GetArraySize(consumers), 2);
    const cJSON *first = cJSON_GetArrayItem(consumers, 0); /* by name: other, replayer */
    assert_string_equal(fx_str(first, "name"), "other");
    assert_int_equal(fx_int(first, "acked"), 1);
    assert_int_equal(fx_int(first, "lag"), 1);
    assert_int_equal(fx_int(cJSON_GetArrayItem(consumers, 1), "lag"), 2);
    cJSON_Delete(list);
    assert_icms_ok(icms_events_consumer_delete(f->db, &f->host, "other"));
    assert_icms(ICMS_ENOTFOUND, icms_events_consumer_delete(f->db, &f->host, "other"));
    assert_icms(ICMS_EINVALID, icms_events_seek(f->db, &f->host, "replayer", 3));
    /* seek and delete are audited; ack and read are not (they are delivery, not change). */
    char *text = ev_audit_text(f->db);
    assert_non_null(strstr(text, "events.consumer_seek"));
    assert_non_null(strstr(text, "events.consumer_delete"));
    assert_non_null(strstr(text, "events.consumer_register"));
    assert_null(strstr(text, "events.ack"));
    free(text);
}

static void test_only_host_and_admins(void **state)
{
    fx *f = *state;
    char *out = (char *)1;
    fx_user *users[] = {&f->owner, &f->investor, &f->stranger};
    for (size_t i = 0; i < 3; i++) {
        assert_icms(ICMS_EFORBIDDEN,
                    icms_events_read(f->db, &users[i]->req, "c", ICMS_EVENTS_FROM_CURSOR, 0, &out));
        assert_null(out);
        assert_icms(ICMS_EFORBIDDEN, icms_events_ack(f->db, &users[i]->req, "c", 0));
        assert_icms(ICMS_EFORBIDDEN, icms_events_seek(f->db, &users[i]->req, "c", 0));
        assert_icms(ICMS_EFORBIDDEN, icms_events_consumer_delete(f->db, &users[i]->req, "c"));
        assert_icms(ICMS_EFORBIDDEN, icms_events_consumers(f->db, &users[i]->req, &out));
    }
    assert_icms(ICMS_EFORBIDDEN,
                icms_events_read(f->db, &f->anonymous, "c", ICMS_EVENTS_FROM_CURSOR, 0, &out));
    icms_request system = ICMS_REQUEST_INIT;
    system.actor_kind = ICMS_ACTOR_SYSTEM;
    assert_icms(ICMS_EFORBIDDEN,
                icms_events_read(f->db, &system, "c", ICMS_EVENTS_FROM_CURSOR, 0, &out));
    /* Nothing was registered by the refused calls. */
    assert_icms_ok(icms_events_consumers(f->db, &f->admin.req, &out));
    cJSON *list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "consumers")), 0);
    cJSON_Delete(list);
    assert_icms_ok(icms_events_read(f->db, &f->admin.req, "c", ICMS_EVENTS_FROM_CURSOR, 0, &out));
    icms_free(out);
}

static void test_bad_arguments(void **state)
{
    fx *f = *state;
    char *out = (char *)1;
    char project[37];
    fx_published_project(f, project);
    static const char *bad_names[] = {
        "",
        "with space",
        "slash/y",
        "icms.notify",
        "icms.x",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaa"};
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        assert_icms(ICMS_EINVALID, icms_events_read(f->db, &f->host, bad_names[i],
                                                    ICMS_EVENTS_FROM_CURSOR, 0, &out));
        assert_null(out);
        assert_icms(ICMS_EINVALID, icms_events_ack(f->db, &f->host, bad_names[i], 1));
    }
    assert_icms(ICMS_EINVALID, icms_events_read(f->db, &f->host, NULL, 0, 0, &out));
    assert_icms(ICMS_EINVALID, icms_events_read(f->db, &f->host, "c", -2, 0, &out));
    assert_icms(ICMS_EINVALID, icms_events_read(f->db, &f->host, "c", 0, 1001, &out));
    assert_icms(ICMS_EINVALID, icms_events_read(f->db, &f->host, "c", 0, 0, NULL));
    assert_icms(ICMS_EINVALID, icms_events_ack(f->db, &f->host, "c", -1));
    assert_icms(ICMS_EINVALID, icms_events_ack(f->db, &f->host, "c", 3)); /* beyond the last */
    assert_icms(ICMS_EINVALID, icms_events_read(NULL, &f->host, "c", 0, 0, &out));
    /* Refusals registered nothing and moved nothing. */
    assert_icms_ok(icms_events_consumers(f->db, &f->host, &out));
    cJSON *list = fx_json(out);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(list, "consumers")), 0);
    cJSON_Delete(list);
}

static void test_failed_and_replayed_commands_write_no_events(void **state)
{
    fx *f = *state;
    char *out = NULL;
    int64_t before = ev_last_seq(f->db);
    assert_icms(ICMS_EINVALID, icms_project_create(f->db, &f->owner.req, "{\"title\":1}", &out));
    assert_icms(ICMS_EFORBIDDEN,
                icms_project_create(f->db, &f->investor.req, fx_project_json(30), &out));
    assert_int_equal(ev_last_seq(f->db), before);
    icms_request req = f->owner.req;
    req.idempotency_key = "create-once";
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(30), &out));
    icms_free(out);
    assert_int_equal(ev_last_seq(f->db), before + 1);
    assert_icms_ok(icms_project_create(f->db, &req, fx_project_json(30), &out));
    icms_free(out);
    assert_int_equal(ev_last_seq(f->db), before + 1); /* the replay wrote nothing */
}


/* Reading, acknowledging and subscribing fail cleanly at every allocation. */
static int ignore(const icms_event_view *e, void *payload)
{
    (void)e;
    (void)payload;
    return 0;
}

static void test_allocation_failures(void **state)
{
    fx *f = *state;
    char project[37];
    fx_published_project(f, project);
    /*
     * Registered beforehand: registering writes an audit entry, and the audit
     * log answers an allocation failure with ICMS_ECORRUPT (reported to its
     * owners); what is tested here is the events code.
     */
    assert_icms_ok(icms_events_ack(f->db, &f->host, "mem", 0));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "mem2", 0));
    for (int which = 0; which < 3; which++) {
        int failures = 0;
        for (long n = 1;; n++) {
            char *out = NULL;
            uint64_t id = 0;
            icms__alloc_fail_after(n);
            int rc = which == 0   ? icms_events_read(f->db, &f->host, "mem", ICMS_EVENTS_FROM_CURSOR,
                                                     0, &out)
                     : which == 1 ? icms_events_ack(f->db, &f->host, "mem2", 2)
                                  : icms_events_subscribe(f->db, "project.*", ignore, NULL, &id);
            icms__alloc_fail_after(0);
            if (rc == ICMS_OK) {
                icms_free(out);
                if (id)
                    assert_icms_ok(icms_events_unsubscribe(f->db, id));
                break;
            }
            assert_icms(ICMS_ENOMEM, rc);
            assert_null(out);
            failures++;
        }
        assert_true(failures >= 1);
    }
    /* What failed registered nothing twice and moved nothing wrongly. */
    cJSON *p = ev_read(f, "mem2", ICMS_EVENTS_FROM_CURSOR, 0);
    assert_int_equal(fx_int(p, "acked"), 2);
    cJSON_Delete(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_envelope_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unacked_events_are_read_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor_survives_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_seek_list_delete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_only_host_and_admins, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_and_replayed_commands_write_no_events, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
