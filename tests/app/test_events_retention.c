/* Retention: icms_tick prunes what every consumer acknowledged and is old enough, no more. */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "events_fixture.h"
#include "icms/projects.h"

static int setup(void **state)
{
    return fx_setup_named(state, "events_retention");
}

static int teardown(void **state)
{
    return fx_teardown(state);
}

static int64_t tick_pruned(fx *f)
{
    char *out = NULL;
    assert_icms_ok(icms_tick(f->db, &out));
    cJSON *report = fx_json(out);
    int64_t pruned = fx_int(report, "events_pruned");
    cJSON_Delete(report);
    return pruned;
}

static int64_t first_seq(fx *f)
{
    cJSON *all = ev_outbox(f->db);
    int64_t seq = cJSON_GetArraySize(all) ? ev_seq(cJSON_GetArrayItem(all, 0)) : 0;
    cJSON_Delete(all);
    return seq;
}

static void test_prunes_only_delivered_old_events(void **state)
{
    fx *f = *state;
    char project[37];
    ev_published_project(f, 3000, project);
    ev_published_project(f, 3000, project); /* seqs 1..4 */
    const int64_t week = 7 * FX_DAY;
    /* No consumer yet: nothing was delivered, nothing goes, however old. */
    assert_icms_ok(icms_clock_fake_advance(f->clock, 30 * FX_DAY));
    assert_int_equal(tick_pruned(f), 0);
    assert_int_equal(first_seq(f), 1);
    /* Two consumers; the slower one decides. */
    assert_icms_ok(icms_events_ack(f->db, &f->host, "fast", 4));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "slow", 2));
    assert_int_equal(tick_pruned(f), 2);
    assert_int_equal(first_seq(f), 3);
    assert_int_equal(tick_pruned(f), 0);
    /* Everything acknowledged: all but the last go (the next seq is derived from it). */
    assert_icms_ok(icms_events_ack(f->db, &f->host, "slow", 4));
    assert_int_equal(tick_pruned(f), 1);
    assert_int_equal(first_seq(f), 4);
    /* New events continue the sequence; young ones stay although acknowledged. */
    ev_published_project(f, 3000, project);
    cJSON *all = ev_outbox(f->db);
    assert_int_equal(ev_seq(cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1)), 6);
    cJSON_Delete(all);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "fast", 6));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "slow", 6));
    assert_icms_ok(icms_clock_fake_advance(f->clock, week - 1));
    assert_int_equal(tick_pruned(f), 1); /* seq 4, a month old */
    assert_int_equal(first_seq(f), 5);
    assert_icms_ok(icms_clock_fake_advance(f->clock, 1));
    assert_int_equal(tick_pruned(f), 1); /* seq 5 is now a week old; 6 is the last */
    assert_int_equal(first_seq(f), 6);
}

static void test_a_forgotten_consumer_stops_holding(void **state)
{
    fx *f = *state;
    char project[37];
    ev_published_project(f, 3000, project);
    ev_published_project(f, 3000, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "live", 4));
    assert_icms_ok(icms_events_ack(f->db, &f->host, "gone", 0));
    assert_icms_ok(icms_clock_fake_advance(f->clock, 8 * FX_DAY));
    assert_int_equal(tick_pruned(f), 0);
    assert_icms_ok(icms_events_consumer_delete(f->db, &f->host, "gone"));
    assert_int_equal(tick_pruned(f), 3);
    /* The library's own consumers may be deleted too, never made by a host. */
    assert_icms(ICMS_EINVALID, icms_events_ack(f->db, &f->host, "icms.notify", 1));
    assert_icms(ICMS_ENOTFOUND, icms_events_consumer_delete(f->db, &f->host, "icms.notify"));
}

static void test_policy(void **state)
{
    fx *f = *state;
    char project[37];
    ev_published_project(f, 3000, project);
    ev_published_project(f, 3000, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "c", 4));
    icms_events_policy policy = ICMS_EVENTS_POLICY_INIT;
    policy.retention_ms = -1; /* keep forever */
    assert_icms_ok(icms_events_set_policy(f->db, &policy));
    assert_icms_ok(icms_clock_fake_advance(f->clock, 365 * FX_DAY));
    assert_int_equal(tick_pruned(f), 0);
    policy.retention_ms = 1000;
    assert_icms_ok(icms_events_set_policy(f->db, &policy));
    assert_int_equal(tick_pruned(f), 3);
    /* A tick without a report prunes as well. */
    ev_published_project(f, 3000, project);
    assert_icms_ok(icms_events_ack(f->db, &f->host, "c", 6));
    assert_icms_ok(icms_clock_fake_advance(f->clock, 1000));
    assert_icms_ok(icms_tick(f->db, NULL));
    assert_int_equal(first_seq(f), 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_prunes_only_delivered_old_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_forgotten_consumer_stops_holding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_policy, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
