/*
 * The owner hears about their release: release.due when the project is
 * approved, release.paid when the host's wallet has paid it, release.voided
 * when an approved project is cancelled before that. The real flow against
 * the fake gapcoind (pay_fixture.h); investors hear nothing of releases.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/events.h"
#include "icms/payments.h"
#include "icms/projects.h"
#include "icms/sys/notifier.h"
#include "notify_recorder.h"
#include "pay_fixture.h"

typedef notify_recorder rec;
typedef notify_sent sent;

static rec *recorder; /* the current test's */

static void listen(world *w)
{
    notify_recorder_attach(w->f.db, recorder);
}

static void run(world *w)
{
    char *out = NULL;
    assert_icms_ok(icms_notify_run(w->f.db, &out));
    icms_free(out);
}

/* Sends to user with template (any channel), and to anyone with a template of prefix. */
static int sent_to(const fx_user *u, const char *template_key)
{
    return notify_recorder_count(recorder, u->id, template_key);
}

static int sent_with_prefix(const char *prefix)
{
    return notify_recorder_count(recorder, NULL, prefix);
}

/* The data of the first notification with template_key. */
static cJSON *data_of(const char *template_key)
{
    for (int i = 0; i < recorder->count; i++)
        if (strcmp(recorder->items[i].template_key, template_key) == 0)
            return fx_json(strdup(recorder->items[i].data));
    fail_msg("no %s sent", template_key);
    return NULL;
}

static int setup(void **state)
{
    recorder = calloc(1, sizeof *recorder);
    return pay_setup_named(state, "release_notify");
}

static int teardown(void **state)
{
    int rc = pay_teardown(state);
    free(recorder);
    recorder = NULL;
    return rc;
}

static void owner_paid_step(world *w)
{
    char txs[1024];
    snprintf(txs, sizeof txs, "[%s]", chain_tx(&w->c, "release", w->owner_script, TARGET));
    chain_step_blocks(&w->c, txs, 6, "[]");
}

static void approve(world *w, char release_id[37])
{
    char *out = NULL;
    assert_icms_ok(icms_project_approve(w->f.db, &w->f.admin.req, w->project, &out));
    cJSON *p = fx_json(out);
    snprintf(release_id, 37, "%s", fx_str(p, "release_id"));
    cJSON_Delete(p);
}

static void test_owner_hears_release_due_then_paid(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_notify_paid", owner_paid_step);
    listen(w);
    run(w); /* what funding said, out of the way */
    int before = recorder->count;
    assert_int_equal(sent_with_prefix("release."), 0);

    char release_id[37];
    approve(w, release_id);
    run(w);
    /* Email and push to the owner (the default channels); no one else. */
    assert_int_equal(sent_to(&w->f.owner, "release.due.owner"), 2);
    assert_int_equal(sent_with_prefix("release."), 2);
    assert_int_equal(sent_to(&w->f.investor, "project.approved.participant"), 2);
    cJSON *d = data_of("release.due.owner");
    assert_string_equal(fx_str(d, "event_type"), "release.due");
    assert_string_equal(fx_str(d, "subject"), release_id);
    assert_string_equal(fx_str(d, "role"), "owner");
    assert_string_equal(fx_str(d, "project_id"), w->project);
    assert_string_equal(fx_str(d, "project_state"), "APPROVED");
    assert_int_equal(fx_int(d, "amount"), TARGET);
    /* The event's data rides along: where the owner will be paid, for their eyes. */
    assert_string_equal(fx_str(cJSON_GetObjectItem(d, "event"), "address"), w->owner_address);
    cJSON_Delete(d);
    assert_true(recorder->count > before);

    chain_next(&w->c);
    assert_icms_ok(icms_release_record(w->f.db, &w->f.host, release_id,
                                       fake_node_txid(&w->c.node, "release"), NULL));
    run(w);
    assert_int_equal(sent_to(&w->f.owner, "release.paid.owner"), 2);
    assert_int_equal(sent_with_prefix("release.paid."), 2);
    d = data_of("release.paid.owner");
    assert_string_equal(fx_str(d, "subject"), release_id);
    assert_int_equal(fx_int(d, "amount"), TARGET);
    cJSON_Delete(d);
    /* Nothing twice. */
    int count = recorder->count;
    run(w);
    assert_int_equal(recorder->count, count);
    assert_int_equal(sent_with_prefix("release.voided."), 0);
}

static void test_owner_hears_release_voided(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_notify_void", owner_paid_step);
    listen(w);
    char release_id[37];
    approve(w, release_id);
    assert_icms_ok(
        icms_project_cancel(w->f.db, &w->f.admin.req, w->project, "supplier failed", NULL));
    run(w);
    assert_int_equal(sent_to(&w->f.owner, "release.due.owner"), 2);
    assert_int_equal(sent_to(&w->f.owner, "release.voided.owner"), 2);
    assert_int_equal(sent_with_prefix("release."), 4);
    /* The investors hear of their refunds, not of the owner's release. */
    assert_int_equal(sent_to(&w->f.investor, "refund.due.investor"), 2);
    assert_int_equal(sent_to(&w->f.investor2, "refund.due.investor"), 2);
    cJSON *d = data_of("release.voided.owner");
    assert_string_equal(fx_str(d, "subject"), release_id);
    assert_string_equal(fx_str(d, "project_state"), "CANCELLED");
    cJSON_Delete(d);
}

/* An owner who turned email off hears on push only; SMS stays off. */
static void test_owner_channels_are_honoured(void **state)
{
    world *w = *state;
    funded_by_two(w, "release_notify_prefs", owner_paid_step);
    listen(w);
    assert_icms_ok(
        icms_notify_prefs_set(w->f.db, &w->f.owner.req, w->f.owner.id, "{\"email\":false}", NULL));
    char release_id[37];
    approve(w, release_id);
    run(w);
    assert_int_equal(sent_to(&w->f.owner, "release.due.owner"), 1);
    for (int i = 0; i < recorder->count; i++)
        if (strcmp(recorder->items[i].template_key, "release.due.owner") == 0)
            assert_string_equal(recorder->items[i].channel, "push");
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_owner_hears_release_due_then_paid),
        T(test_owner_hears_release_voided),
        T(test_owner_channels_are_honoured),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
