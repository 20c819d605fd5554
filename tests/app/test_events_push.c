/* Push delivery: in-process subscribers run after commit, outside the transaction. */
#include "support/test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "app/events_hub.h"
#include "events_fixture.h"
#include "icms/participations.h"
#include "icms/projects.h"

static int setup(void **state)
{
    return fx_setup_named(state, "events_push");
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

#define MAX_SEEN 64

struct seen {
    fx *f;
    int count;
    char types[MAX_SEEN][64];
    int64_t seqs[MAX_SEEN];
    int64_t committed_last[MAX_SEEN]; /* the outbox's last seq as a fresh read saw it */
    int ack_rc[MAX_SEEN];
    pthread_t thread;
    int return_code;
    uint64_t unsubscribe_id; /* unsubscribe this from inside the first call */
};

static int record(const icms_event_view *e, void *payload)
{
    struct seen *s = payload;
    if (s->count < MAX_SEEN) {
        snprintf(s->types[s->count], sizeof s->types[0], "%s", e->type);
        s->seqs[s->count] = e->seq;
        assert_non_null(strstr(e->json, e->type));
        assert_int_equal(strlen(e->json), e->json_len);
        /* Committed: another read sees it. Outside the transaction: a write command works. */
        s->committed_last[s->count] = ev_last_seq(s->f->db);
        s->ack_rc[s->count] = icms_events_ack(s->f->db, &s->f->host, "from-callback", e->seq);
        s->thread = pthread_self();
        s->count++;
    }
    if (s->unsubscribe_id) {
        assert_icms_ok(icms_events_unsubscribe(s->f->db, s->unsubscribe_id));
        s->unsubscribe_id = 0;
    }
    return s->return_code;
}

static void test_patterns_and_order(void **state)
{
    fx *f = *state;
    struct seen all = {.f = f}, projects = {.f = f}, requested = {.f = f};
    uint64_t a, b, c;
    assert_icms_ok(icms_events_subscribe(f->db, "*", record, &all, &a));
    assert_icms_ok(icms_events_subscribe(f->db, "project.*", record, &projects, &b));
    assert_icms_ok(icms_events_subscribe(f->db, "participation.requested", record, &requested, &c));
    assert_true(a > 0 && b > a && c > b);
    char project[37], participation[37];
    fx_published_project(f, project);
    fx_request_profit(f, &f->investor, project, 100000000, participation);
    assert_int_equal(all.count, 3);
    assert_string_equal(all.types[0], "project.created");
    assert_string_equal(all.types[1], "project.published");
    assert_string_equal(all.types[2], "participation.requested");
    for (int i = 0; i < all.count; i++) {
        assert_int_equal(all.seqs[i], i + 1);
        assert_true(all.committed_last[i] >= all.seqs[i]);
        assert_icms_ok(all.ack_rc[i]);
        assert_true(pthread_equal(all.thread, pthread_self())); /* the committing thread */
    }
    assert_int_equal(projects.count, 2);
    assert_string_equal(projects.types[1], "project.published");
    assert_int_equal(requested.count, 1);
    assert_string_equal(requested.types[0], "participation.requested");
    /* A failed command calls nobody. */
    char *out = NULL;
    assert_icms(ICMS_EFORBIDDEN, icms_project_publish(f->db, &f->investor.req, project, &out));
    assert_int_equal(all.count, 3);
    assert_icms_ok(icms_events_unsubscribe(f->db, a));
    assert_icms_ok(icms_events_unsubscribe(f->db, b));
    assert_icms_ok(icms_events_unsubscribe(f->db, c));
}

static void test_failing_callback_does_not_fail_the_command(void **state)
{
    fx *f = *state;
    struct seen failing = {.f = f};
    failing.return_code = ICMS_EUSER;
    uint64_t id;
    assert_icms_ok(icms_events_subscribe(f->db, "*", record, &failing, &id));
    long before = icms__events_callback_failures(f->db);
    char *out = NULL;
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, fx_project_json(30), &out));
    cJSON *p = fx_json(out);
    assert_int_equal(failing.count, 1);
    assert_int_equal(icms__events_callback_failures(f->db), before + 1);
    /* The project is there: the command was not undone. */
    assert_icms_ok(icms_project_get(f->db, &f->owner.req, fx_str(p, "id"), &out));
    icms_free(out);
    cJSON_Delete(p);
    assert_icms_ok(icms_events_unsubscribe(f->db, id));
}

static void test_unsubscribe(void **state)
{
    fx *f = *state;
    struct seen s = {.f = f}, t = {.f = f};
    uint64_t id, other;
    assert_icms_ok(icms_events_subscribe(f->db, "project.*", record, &s, &id));
    assert_icms_ok(icms_events_subscribe(f->db, "project.*", record, &t, &other));
    s.unsubscribe_id = id; /* s unsubscribes itself during its first call */
    char project[37];
    fx_published_project(f, project);
    assert_int_equal(s.count, 1);
    assert_int_equal(t.count, 2);
    assert_icms(ICMS_ENOTFOUND, icms_events_unsubscribe(f->db, id));
    assert_icms_ok(icms_events_unsubscribe(f->db, other));
    fx_published_project(f, project);
    assert_int_equal(t.count, 2);
    assert_icms(ICMS_ENOTFOUND, icms_events_unsubscribe(f->db, 999));
    assert_icms(ICMS_EINVALID, icms_events_unsubscribe(NULL, 1));
}

static void test_bad_subscriptions(void **state)
{
    fx *f = *state;
    struct seen s = {.f = f};
    uint64_t id = 7;
    static const char *bad[] = {"", "Project.*", "*.created", "project.**", "pro ject", NULL};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_icms(ICMS_EINVALID, icms_events_subscribe(f->db, bad[i], record, &s, &id));
        assert_int_equal(id, 0);
    }
    assert_icms(ICMS_EINVALID, icms_events_subscribe(f->db, "*", NULL, &s, &id));
    assert_icms(ICMS_EINVALID, icms_events_subscribe(f->db, "*", record, &s, NULL));
    assert_icms(ICMS_EINVALID, icms_events_subscribe(NULL, "*", record, &s, &id));
}

/* Commands on several threads at once: each callback runs on its own command's thread. */
struct worker {
    fx *f;
    int done;
};

static __thread int thread_events;

static int count_here(const icms_event_view *e, void *payload)
{
    (void)e;
    (void)payload;
    thread_events++;
    return 0;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 5; i++) {
        char *out = NULL;
        if (icms_project_create(w->f->db, &w->f->owner.req, fx_project_json(30), &out) == 0)
            icms_free(out);
    }
    w->done = thread_events;
    return NULL;
}

static void test_threads(void **state)
{
    fx *f = *state;
    uint64_t id;
    assert_icms_ok(icms_events_subscribe(f->db, "project.created", count_here, NULL, &id));
    struct worker w[3] = {{f, 0}, {f, 0}, {f, 0}};
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].done, 5);
    }
    assert_icms_ok(icms_events_unsubscribe(f->db, id));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_patterns_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failing_callback_does_not_fail_the_command, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_subscriptions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
