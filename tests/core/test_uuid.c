/* The clock port's built-in clocks and UUIDv7 ids. */
#include "support/test_support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "core/uuid.h"
#include "icms/sys/clock.h"
#include "icms/util.h"

static int setup(void **state)
{
    (void)state;
    icms__uuid7_reset();
    return icms_init() == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() == 0 ? 0 : -1;
}

static void test_fake_clock(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_fake_new(1000, &clock));
    assert_int_equal(icms_clock_now(clock), 1000);
    assert_icms_ok(icms_clock_fake_advance(clock, 250));
    assert_int_equal(icms_clock_now(clock), 1250);
    assert_icms_ok(icms_clock_fake_advance(clock, -1300));
    assert_int_equal(icms_clock_now(clock), -50);
    assert_icms_ok(icms_clock_fake_set(clock, INT64_MAX));
    assert_int_equal(icms_clock_fake_advance(clock, 1), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "clock: advancing by 1 ms overflows");
    assert_int_equal(icms_clock_now(clock), INT64_MAX); /* unchanged */
    icms_clock_free(clock);
}

static void test_realtime_clock(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_realtime_new(&clock));
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    int64_t expect = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    int64_t now = icms_clock_now(clock);
    assert_true(now >= expect && now < expect + 5000);
    /* Only fake clocks can be moved. */
    assert_int_equal(icms_clock_fake_set(clock, 5), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "clock: not a fake clock");
    assert_int_equal(icms_clock_fake_advance(NULL, 5), ICMS_EINVALID);
    icms_clock_free(clock);
    /* NULL reads real time too. */
    assert_true(icms_clock_now(NULL) >= expect);
    icms_clock_free(NULL);
}

static int64_t host_now(icms_clock *clock)
{
    return *(int64_t *)clock->payload;
}

static void test_host_clock(void **state)
{
    (void)state;
    int64_t t = 1234567;
    icms_clock clock = ICMS_CLOCK_INIT;
    clock.now_ms = host_now;
    clock.payload = &t;
    assert_int_equal(icms_clock_now(&clock), 1234567);
    icms_clock_free(&clock); /* free is NULL: nothing to do */
}

static void test_clock_allocation_failure(void **state)
{
    (void)state;
    icms_clock *clock = (icms_clock *)1;
    icms__alloc_fail_after(1);
    assert_int_equal(icms_clock_fake_new(0, &clock), ICMS_ENOMEM);
    assert_null(clock);
    icms__alloc_fail_after(2);
    assert_int_equal(icms_clock_fake_new(0, &clock), ICMS_ENOMEM);
    assert_null(clock);
    icms__alloc_fail_after(1);
    assert_int_equal(icms_clock_realtime_new(&clock), ICMS_ENOMEM);
    icms__alloc_fail_after(0);
    assert_int_equal(icms_clock_fake_new(0, NULL), ICMS_EINVALID);
}

static void test_layout(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_fake_new(0x0123456789abLL, &clock));
    uint8_t id[ICMS_UUID_BYTES];
    assert_icms_ok(icms__uuid7_new(clock, id));
    /* 48-bit big-endian timestamp, version 7, variant 10. */
    static const uint8_t ts[6] = {0x01, 0x23, 0x45, 0x67, 0x89, 0xab};
    assert_memory_equal(id, ts, 6);
    assert_int_equal(id[6] >> 4, 7);
    assert_int_equal(id[8] >> 6, 2);
    assert_int_equal(icms__uuid7_time_ms(id), 0x0123456789abLL);
    char text[ICMS_UUID_STRING_SIZE];
    assert_icms_ok(icms_uuid_format(id, sizeof id, text, sizeof text));
    assert_int_equal(strlen(text), 36);
    assert_memory_equal(text, "01234567-89ab-7", 15);
    icms_clock_free(clock);
}

static void test_random_bits_differ(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_fake_new(1000, &clock));
    uint8_t a[16], b[16];
    assert_icms_ok(icms__uuid7_new(clock, a));
    icms_clock_fake_advance(clock, 1);
    assert_icms_ok(icms__uuid7_new(clock, b));
    /* A new millisecond draws fresh random bits (74 of them; equal by chance ~2^-73). */
    assert_memory_not_equal(a + 6, b + 6, 10);
    /* and keeps the top bit of rand_a clear, for counter headroom */
    assert_int_equal(b[6] & 0x08, 0);
    icms_clock_free(clock);
}

/* Ids strictly increase as bytes and as text whatever the clock does. */
static void test_monotonic(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_fake_new(1700000000000LL, &clock));
    uint8_t prev[16] = {0}, id[16];
    char prev_text[ICMS_UUID_STRING_SIZE] = "", text[ICMS_UUID_STRING_SIZE];
    for (int i = 0; i < 30000; i++) {
        if (i % 1000 == 999)
            icms_clock_fake_advance(clock, 1); /* moves on now and then */
        if (i == 15000)
            icms_clock_fake_advance(clock, -60000); /* goes back a minute */
        assert_icms_ok(icms__uuid7_new(clock, id));
        icms__uuid_format(id, text);
        assert_true(memcmp(prev, id, 16) < 0);
        assert_true(strcmp(prev_text, text) < 0);
        memcpy(prev, id, 16);
        strcpy(prev_text, text);
    }
    /* While the clock stood still or was behind, the last timestamp was kept. */
    assert_int_equal(icms__uuid7_time_ms(id), 1700000000000LL + 15);
    /* Once the clock passes it again, ids take the clock's time. */
    icms_clock_fake_set(clock, 1700000000000LL + 1000);
    assert_icms_ok(icms__uuid7_new(clock, id));
    assert_int_equal(icms__uuid7_time_ms(id), 1700000000000LL + 1000);
    assert_true(memcmp(prev, id, 16) < 0);
    icms_clock_free(clock);
}

static void test_clock_out_of_range(void **state)
{
    (void)state;
    icms_clock *clock;
    assert_icms_ok(icms_clock_fake_new(-1, &clock));
    uint8_t id[16];
    assert_int_equal(icms__uuid7_new(clock, id), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message,
                        "uuid: the clock reads -1 ms, outside the UUIDv7 range");
    icms_clock_fake_set(clock, (INT64_C(1) << 48));
    assert_int_equal(icms__uuid7_new(clock, id), ICMS_EINVALID);
    icms_clock_fake_set(clock, (INT64_C(1) << 48) - 1);
    assert_icms_ok(icms__uuid7_new(clock, id));
    assert_int_equal(icms__uuid7_time_ms(id), (INT64_C(1) << 48) - 1);
    icms_clock_free(clock);
}

#define THREADS 4
#define PER_THREAD 5000
static uint8_t thread_ids[THREADS][PER_THREAD][16];

static void *make_ids(void *arg)
{
    uint8_t(*ids)[16] = arg;
    for (int i = 0; i < PER_THREAD; i++)
        if (icms__uuid7_new(NULL, ids[i]) != 0)
            return NULL;
    return arg;
}

static int compare_ids(const void *a, const void *b)
{
    return memcmp(a, b, 16);
}

/* From several threads: each thread's ids increase and no two ids are equal. */
static void test_threads(void **state)
{
    (void)state;
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, make_ids, thread_ids[i]), 0);
    for (int i = 0; i < THREADS; i++) {
        void *ok;
        pthread_join(t[i], &ok);
        assert_non_null(ok);
        for (int j = 1; j < PER_THREAD; j++)
            assert_true(memcmp(thread_ids[i][j - 1], thread_ids[i][j], 16) < 0);
    }
    qsort(thread_ids, THREADS * PER_THREAD, 16, compare_ids);
    uint8_t(*all)[16] = thread_ids[0];
    for (int j = 1; j < THREADS * PER_THREAD; j++)
        assert_true(memcmp(all[j - 1], all[j], 16) != 0);
}

static void test_parse_round_trip(void **state)
{
    (void)state;
    uint8_t id[16], back[16];
    char text[ICMS_UUID_STRING_SIZE];
    for (int i = 0; i < 1000; i++) {
        assert_icms_ok(icms__uuid7_new(NULL, id));
        assert_icms_ok(icms_uuid_format(id, 16, text, sizeof text));
        assert_icms_ok(icms_uuid_parse(text, back, sizeof back));
        assert_memory_equal(id, back, 16);
    }
    assert_icms_ok(icms_uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", back, sizeof back));
    static const uint8_t expect[16] = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
                                       0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
    assert_memory_equal(back, expect, 16); /* RFC 9562 appendix A.6 */
    icms__uuid_format(expect, text);
    assert_string_equal(text, "017f22e2-79b0-7cc3-98c4-dc0c0c07398f");
}

struct bad {
    const char *text;
    const char *message;
};

static void test_parse_refuses(void **state)
{
    (void)state;
    static const struct bad cases[] = {
        {"", "invalid UUID: must be 36 characters (8-4-4-4-12 hex), got 0"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398",
         "invalid UUID: must be 36 characters (8-4-4-4-12 hex), got 35"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398f0",
         "invalid UUID: must be 36 characters (8-4-4-4-12 hex), got 37"},
        {"{17f22e2-79b0-7cc3-98c4-dc0c0c07398}", "invalid UUID: character 1 is not a hex digit"},
        {"017f22e2079b0-7cc3-98c4-dc0c0c07398f", "invalid UUID: expected '-' at character 9"},
        {"017f22e2-79b0-7cc3-98c4d-c0c0c07398f", "invalid UUID: expected '-' at character 24"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c07398g", "invalid UUID: character 36 is not a hex digit"},
        {"017F22E2-79B0-7CC3-98C4-DC0C0C07398F",
         "invalid UUID: character 4 is uppercase; ids are lowercase hex"},
        {"017f22e2-79b0-4cc3-98c4-dc0c0c07398f", "invalid UUID: version 4, expected 7"},
        {"00000000-0000-0000-0000-000000000000", "invalid UUID: version 0, expected 7"},
        {"017f22e2-79b0-7cc3-c8c4-dc0c0c07398f", "invalid UUID: the variant is not RFC 9562's"},
        {"017f22e2-79b0-7cc3-58c4-dc0c0c07398f", "invalid UUID: the variant is not RFC 9562's"},
        {"017f22e2-79b0-7cc3-98c4-dc0c0c0 398f", "invalid UUID: character 32 is not a hex digit"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++) {
        uint8_t out[16];
        memset(out, 0xee, sizeof out);
        if (icms_uuid_parse(cases[i].text, out, sizeof out) != ICMS_EINVALID)
            fail_msg("\"%s\" was accepted", cases[i].text);
        assert_string_equal(icms_error_last()->message, cases[i].message);
        for (int j = 0; j < 16; j++)
            assert_int_equal(out[j], 0xee); /* nothing written */
    }
    /* An embedded NUL within the first 36 bytes, through the length-taking parser. */
    uint8_t out[16];
    assert_int_equal(icms__uuid_parse("017f22e2-79b0-7cc3-98c4\0dc0c0c07398f", 36, out),
                     ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "invalid UUID: expected '-' at character 24");
}

static void test_argument_errors(void **state)
{
    (void)state;
    uint8_t id[16] = {0};
    char text[ICMS_UUID_STRING_SIZE];
    assert_int_equal(icms_uuid_format(id, 15, text, sizeof text), ICMS_EINVALID);
    assert_int_equal(icms_uuid_format(id, 16, text, 36), ICMS_EBUFS);
    assert_int_equal(icms_uuid_format(NULL, 16, text, sizeof text), ICMS_EINVALID);
    assert_int_equal(icms_uuid_parse("017f22e2-79b0-7cc3-98c4-dc0c0c07398f", id, 15), ICMS_EBUFS);
    assert_int_equal(icms_uuid_parse(NULL, id, 16), ICMS_EINVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fake_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_realtime_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_allocation_failure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_bits_differ, setup, teardown),
        cmocka_unit_test_setup_teardown(test_monotonic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_clock_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_argument_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
