/* The events module alone: patterns, CloudEvents mapping, consumer names. */
#include "support/test_support.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "events/consumer.h"
#include "icms/events.h"

static void test_patterns(void **state)
{
    (void)state;
    assert_int_equal(icms_events_pattern_match("*", "project.published"), 1);
    assert_int_equal(icms_events_pattern_match("project.*", "project.published"), 1);
    assert_int_equal(icms_events_pattern_match("project.*", "projects.x"), 0);
    assert_int_equal(icms_events_pattern_match("project.*", "project."), 0);
    assert_int_equal(icms_events_pattern_match("project.*", "participation.approved"), 0);
    assert_int_equal(icms_events_pattern_match("project.published", "project.published"), 1);
    assert_int_equal(icms_events_pattern_match("project.published", "project.publishedx"), 0);
    assert_int_equal(icms_events_pattern_match("payment.*", "payment.confirmed"), 1);
    static const char *bad[] = {"",         "Project.*", "project.**", "*.published",
                                "pro ject", ".x",        "a*b",        "project*"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_icms(ICMS_EINVALID, icms_events_pattern_match(bad[i], "project.published"));
    assert_icms(ICMS_EINVALID, icms_events_pattern_match(NULL, "x"));
    assert_icms(ICMS_EINVALID, icms_events_pattern_match("*", NULL));
    char longp[100];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    assert_icms(ICMS_EINVALID, icms_events_pattern_match(longp, "a"));
}

static void test_consumer_names(void **state)
{
    (void)state;
    assert_icms_ok(icms__consumer_name_check("billing-worker_1.a", false));
    assert_icms(ICMS_EINVALID, icms__consumer_name_check("", false));
    assert_icms(ICMS_EINVALID, icms__consumer_name_check(NULL, false));
    assert_icms(ICMS_EINVALID, icms__consumer_name_check("a b", false));
    assert_icms(ICMS_EINVALID, icms__consumer_name_check("a/b", false));
    assert_icms(ICMS_EINVALID, icms__consumer_name_check("icms.notify", false));
    assert_icms_ok(icms__consumer_name_check("icms.notify", true));
    char name[ICMS_EVENTS_CONSUMER_MAX + 2];
    memset(name, 'a', sizeof name - 1);
    name[sizeof name - 1] = 0;
    assert_icms(ICMS_EINVALID, icms__consumer_name_check(name, false));
    name[ICMS_EVENTS_CONSUMER_MAX] = 0;
    assert_icms_ok(icms__consumer_name_check(name, false));
}

static const char *event_json =
    "{\"event_id\":\"01900000-0000-7000-8000-000000000001\",\"type\":\"project.published\","
    "\"occurred_at\":\"2026-01-01T00:00:00.000Z\",\"correlation_id\":\"req-7\","
    "\"source\":\"libicms\",\"schema_version\":1,"
    "\"subject\":\"01900000-0000-7000-8000-0000000000aa\",\"seq\":9007199254740993,"
    "\"data\":{\"from\":\"DRAFT\",\"amount\":9223372036854775807}}";

static void test_cloudevent(void **state)
{
    (void)state;
    char *out = NULL;
    assert_icms_ok(icms_events_to_cloudevent(event_json, strlen(event_json), &out));
    cJSON *ce = NULL;
    assert_icms_ok(icms__json_parse(out, strlen(out), NULL, &ce));
    assert_string_equal(icms__json_get_string(ce, "specversion"), "1.0");
    assert_string_equal(icms__json_get_string(ce, "id"), "01900000-0000-7000-8000-000000000001");
    assert_string_equal(icms__json_get_string(ce, "source"), "libicms");
    assert_string_equal(icms__json_get_string(ce, "type"), "project.published");
    assert_string_equal(icms__json_get_string(ce, "time"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(icms__json_get_string(ce, "subject"),
                        "01900000-0000-7000-8000-0000000000aa");
    assert_string_equal(icms__json_get_string(ce, "datacontenttype"), "application/json");
    assert_string_equal(icms__json_get_string(ce, "icmscorrelationid"), "req-7");
    int64_t v;
    assert_true(icms__json_int64(icms__json_get(ce, "icmsseq"), &v));
    assert_true(v == 9007199254740993LL); /* beyond a double's exact range */
    const cJSON *data = icms__json_get(ce, "data");
    assert_true(icms__json_int64(icms__json_get(data, "amount"), &v));
    assert_true(v == INT64_MAX);
    cJSON_Delete(ce);
    icms_free(out);
    /* Without a correlation id there is no such attribute (CloudEvents has no nulls). */
    const char *no_corr = "{\"event_id\":\"e\",\"type\":\"t.x\",\"occurred_at\":"
                          "\"2026-01-01T00:00:00Z\",\"correlation_id\":null,\"subject\":\"s\","
                          "\"seq\":1,\"data\":{}}";
    assert_icms_ok(icms_events_to_cloudevent(no_corr, strlen(no_corr), &out));
    assert_null(strstr(out, "icmscorrelationid"));
    icms_free(out);
}

static void test_cloudevent_refuses_non_events(void **state)
{
    (void)state;
    static const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"event_id\":\"e\"}",
        "{\"event_id\":\"e\",\"type\":\"t\",\"occurred_at\":\"yesterday\",\"subject\":\"s\","
        "\"seq\":1,\"data\":{}}",
        "{\"event_id\":\"e\",\"type\":\"t\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
        "\"subject\":\"s\",\"seq\":1.5,\"data\":{}}",
        "{\"event_id\":\"e\",\"type\":\"t\",\"occurred_at\":\"2026-01-01T00:00:00Z\","
        "\"subject\":\"s\",\"seq\":1,\"data\":[]}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *out = (char *)1;
        assert_icms(ICMS_EINVALID, icms_events_to_cloudevent(bad[i], strlen(bad[i]), &out));
        assert_null(out);
    }
    assert_icms(ICMS_EINVALID, icms_events_to_cloudevent(NULL, 0, NULL));
}


/* Every allocation of the mapping may fail: ICMS_ENOMEM, nothing leaked, then it works. */
static void test_cloudevent_allocation_failures(void **state)
{
    (void)state;
    assert_true(icms_init() > 0); /* cJSON allocates through libicms from here on */
    int failures = 0;
    for (long n = 1;; n++) {
        char *out = NULL;
        icms__alloc_fail_after(n);
        int rc = icms_events_to_cloudevent(event_json, strlen(event_json), &out);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK) {
            assert_non_null(out);
            icms_free(out);
            break;
        }
        assert_icms(ICMS_ENOMEM, rc);
        assert_null(out);
        failures++;
    }
    assert_true(failures > 5);
    icms_shutdown();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_patterns),
        cmocka_unit_test(test_consumer_names),
        cmocka_unit_test(test_cloudevent),
        cmocka_unit_test(test_cloudevent_refuses_non_events),
        cmocka_unit_test(test_cloudevent_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
