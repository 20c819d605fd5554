/* The sliding-window limiter: exact edges with a fake clock, kinds, eviction, threads. */
#include "support/test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "icms/auth.h"
#include "icms/sys/clock.h"

#define T0 1767225600000LL

typedef struct lim {
    icms_ratelimit *rl;
    icms_clock *clock; /* borrowed: the limiter owns it */
} lim;

static void lim_open(lim *l, uint32_t anon, uint32_t authed, int64_t window, size_t max_keys)
{
    icms_ratelimit_options o = ICMS_RATELIMIT_OPTIONS_INIT;
    o.anonymous_limit = anon;
    o.authenticated_limit = authed;
    o.window_ms = window;
    o.max_keys = max_keys;
    assert_icms_ok(icms_clock_fake_new(T0, &o.clock));
    l->clock = o.clock;
    assert_icms_ok(icms_ratelimit_new(&l->rl, &o));
}

static int hit(lim *l, const char *key)
{
    return icms_ratelimit_hit(l->rl, ICMS_RATELIMIT_ANONYMOUS, key, NULL);
}

static void test_defaults(void **state)
{
    (void)state;
    icms_ratelimit_options o = ICMS_RATELIMIT_OPTIONS_INIT;
    assert_int_equal(o.anonymous_limit, 100);
    assert_int_equal(o.authenticated_limit, 1000);
    assert_int_equal(o.window_ms, 60000);
    assert_icms_ok(icms_clock_fake_new(T0, &o.clock));
    icms_clock *clock = o.clock;
    icms_ratelimit *rl = NULL;
    assert_icms_ok(icms_ratelimit_new(&rl, &o));
    icms_ratelimit_result r;
    for (int i = 0; i < 100; i++)
        assert_icms_ok(icms_ratelimit_hit(rl, ICMS_RATELIMIT_ANONYMOUS, "10.0.0.1", &r));
    assert_int_equal(r.remaining, 0);
    assert_icms(ICMS_ELIMIT, icms_ratelimit_hit(rl, ICMS_RATELIMIT_ANONYMOUS, "10.0.0.1", &r));
    assert_int_equal(r.allowed, 0);
    assert_int_equal(r.limit, 100);
    assert_int_equal(r.retry_after_ms, 60000);
    /* The same text under the other kind is another key, with the larger limit. */
    for (int i = 0; i < 1000; i++)
        assert_icms_ok(icms_ratelimit_hit(rl, ICMS_RATELIMIT_AUTHENTICATED, "10.0.0.1", &r));
    assert_icms(ICMS_ELIMIT, icms_ratelimit_hit(rl, ICMS_RATELIMIT_AUTHENTICATED, "10.0.0.1", &r));
    icms_clock_fake_advance(clock, 60000);
    assert_icms_ok(icms_ratelimit_hit(rl, ICMS_RATELIMIT_ANONYMOUS, "10.0.0.1", &r));
    assert_int_equal(r.remaining, 99);
    icms_ratelimit_free(rl);
}

static void test_exact_window_edges(void **state)
{
    (void)state;
    lim l;
    lim_open(&l, 3, 3, 1000, 100);
    icms_ratelimit_result r;
    /* Requests at 0, 400, 999: the window (t - 1000, t] holds all three until t = 1000. */
    assert_icms_ok(hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 400);
    assert_icms_ok(hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 999);
    assert_icms_ok(hit(&l, "k"));
    assert_icms(ICMS_ELIMIT, icms_ratelimit_hit(l.rl, ICMS_RATELIMIT_ANONYMOUS, "k", &r));
    assert_int_equal(r.retry_after_ms, 1); /* the request at 0 leaves the window at 1000 */
    /* At exactly 1000 the first request is out: one passes, the next does not. */
    icms_clock_fake_set(l.clock, T0 + 1000);
    assert_icms_ok(hit(&l, "k"));
    assert_icms(ICMS_ELIMIT, icms_ratelimit_hit(l.rl, ICMS_RATELIMIT_ANONYMOUS, "k", &r));
    assert_int_equal(r.retry_after_ms, 400);
    icms_clock_fake_set(l.clock, T0 + 1399);
    assert_icms(ICMS_ELIMIT, hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 1400);
    assert_icms_ok(hit(&l, "k"));
    /* Refused requests are not counted: after a storm of refusals the window is unchanged. */
    for (int i = 0; i < 50; i++)
        assert_icms(ICMS_ELIMIT, hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 1999);
    assert_icms_ok(hit(&l, "k"));
    /* A sliding window, not a fixed one: no burst of 2x the limit across a boundary. */
    icms_clock_fake_set(l.clock, T0 + 10000);
    int passed = 0;
    for (int64_t t = 10000; t < 12000; t += 100) {
        icms_clock_fake_set(l.clock, T0 + t);
        passed += hit(&l, "burst") == ICMS_OK;
    }
    assert_int_equal(passed, 6); /* 3 per any 1000 ms, over 2000 ms */
    icms_ratelimit_free(l.rl);
}

static void test_clock_going_back(void **state)
{
    (void)state;
    lim l;
    lim_open(&l, 2, 2, 1000, 10);
    icms_clock_fake_set(l.clock, T0 + 5000);
    assert_icms_ok(hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 3000); /* back two seconds: counted at 5000 */
    assert_icms_ok(hit(&l, "k"));
    assert_icms(ICMS_ELIMIT, hit(&l, "k"));
    icms_clock_fake_set(l.clock, T0 + 6000);
    assert_icms_ok(hit(&l, "k"));
    icms_ratelimit_free(l.rl);
}

static void test_memory_bounded_evicts_least_recent(void **state)
{
    (void)state;
    lim l;
    lim_open(&l, 1, 1, 60000, 100);
    char key[32];
    assert_icms_ok(hit(&l, "ip-hot"));
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "ip-%d", i);
        assert_icms_ok(hit(&l, key));
        if (i % 10 == 0)
            assert_icms(ICMS_ELIMIT, hit(&l, "ip-hot")); /* seen often, so never evicted */
    }
    assert_int_equal(icms_ratelimit_size(l.rl), 100);
    /* The hot key, touched recently, is remembered: still refused. */
    assert_icms(ICMS_ELIMIT, hit(&l, "ip-hot"));
    /* The most recent keys are remembered; the first ones were forgotten. */
    assert_icms(ICMS_ELIMIT, hit(&l, "ip-9999"));
    assert_icms_ok(hit(&l, "ip-0"));
    icms_ratelimit_free(l.rl);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    icms_ratelimit *rl = NULL;
    icms_ratelimit_options o = ICMS_RATELIMIT_OPTIONS_INIT;
    o.window_ms = 0;
    assert_icms(ICMS_EINVALID, icms_ratelimit_new(&rl, &o));
    o = (icms_ratelimit_options)ICMS_RATELIMIT_OPTIONS_INIT;
    o.version = 99;
    assert_icms(ICMS_EVERSION, icms_ratelimit_new(&rl, &o));
    assert_null(rl);
    lim l;
    lim_open(&l, 1, 1, 1000, 10);
    char big[300];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_icms(ICMS_EINVALID, hit(&l, big));
    assert_icms(ICMS_EINVALID, hit(&l, ""));
    assert_icms(ICMS_EINVALID, icms_ratelimit_hit(l.rl, (icms_ratelimit_kind_t)7, "k", NULL));
    icms_ratelimit_free(l.rl);
    icms_ratelimit_free(NULL);
}

struct worker {
    icms_ratelimit *rl;
    int allowed;
};

static void *run_worker(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 2000; i++)
        if (icms_ratelimit_hit(w->rl, ICMS_RATELIMIT_AUTHENTICATED, "shared", NULL) == ICMS_OK)
            w->allowed++;
    return NULL;
}

static void test_threads_share_exactly(void **state)
{
    (void)state;
    lim l;
    lim_open(&l, 10, 1000, 60000, 10);
    pthread_t th[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){l.rl, 0};
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    int total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        total += w[i].allowed;
    }
    assert_int_equal(total, 1000); /* exactly the limit, however the threads interleaved */
    icms_ratelimit_free(l.rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_exact_window_edges),
        cmocka_unit_test(test_clock_going_back),
        cmocka_unit_test(test_memory_bounded_evicts_least_recent),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_threads_share_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
