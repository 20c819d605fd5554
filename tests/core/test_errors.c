/* Error codes, the thread-local last error, init reference counting, the allocator. */
#include "support/test_support.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

static void test_last_error_never_null(void **state)
{
    (void)state;
    icms_error_clear();
    const icms_error *e = icms_error_last();
    assert_non_null(e);
    assert_int_equal(e->code, ICMS_OK);
    assert_string_equal(e->message, "no error");
}

static void test_error_records_code_and_message(void **state)
{
    (void)state;
    assert_int_equal(icms__error(ICMS_EINVALID, "title is %d bytes", 300), ICMS_EINVALID);
    assert_int_equal(icms_error_last()->code, ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "title is 300 bytes");
    icms__error_wrap(ICMS_EINVALID, "project");
    assert_string_equal(icms_error_last()->message, "project: title is 300 bytes");
}

static void test_long_message_is_truncated_safely(void **state)
{
    (void)state;
    char big[2000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    icms__error(ICMS_ERROR, "%s", big);
    assert_true(strlen(icms_error_last()->message) < sizeof big);
    assert_int_equal(icms_error_last()->message[0], 'x');
}

static void *other_thread(void *arg)
{
    (void)arg;
    /* A fresh thread starts with no error even when the main thread has one. */
    int clean = icms_error_last()->code == ICMS_OK;
    icms__error(ICMS_ENOTFOUND, "other thread");
    return clean ? (void *)1 : NULL;
}

static void test_error_is_thread_local(void **state)
{
    (void)state;
    icms__error(ICMS_EFORBIDDEN, "main thread");
    pthread_t t;
    void *clean = NULL;
    assert_int_equal(pthread_create(&t, NULL, other_thread, NULL), 0);
    pthread_join(t, &clean);
    assert_non_null(clean);
    assert_int_equal(icms_error_last()->code, ICMS_EFORBIDDEN);
    assert_string_equal(icms_error_last()->message, "main thread");
}

static void test_strerror_and_names(void **state)
{
    (void)state;
    assert_string_equal(icms_strerror(ICMS_ENOTFOUND), "not found");
    assert_string_equal(icms_error_name(ICMS_EINVALID_TRANSITION), "ICMS_EINVALID_TRANSITION");
    assert_string_equal(icms_strerror(12345), "unknown error");
    assert_string_equal(icms_error_name(12345), "ICMS_EUNKNOWN");
    /* Every code from ICMS_ERROR down to ICMS_ECORRUPT has a name. */
    for (int code = ICMS_ERROR; code >= ICMS_ECORRUPT; code--)
        assert_string_not_equal(icms_error_name(code), "ICMS_EUNKNOWN");
}

static void test_init_is_reference_counted(void **state)
{
    (void)state;
    assert_int_equal(icms_init(), 1);
    assert_int_equal(icms_init(), 2);
    assert_int_equal(icms_shutdown(), 1);
    assert_int_equal(icms_shutdown(), 0);
    assert_int_equal(icms_shutdown(), ICMS_ERROR);
}

static size_t counted_allocs;
static void *counting_malloc(size_t n, void *p)
{
    (void)p;
    counted_allocs++;
    return malloc(n);
}
static void *counting_realloc(void *ptr, size_t n, void *p)
{
    (void)p;
    return realloc(ptr, n);
}
static void counting_free(void *ptr, void *p)
{
    (void)p;
    free(ptr);
}

static void test_custom_allocator(void **state)
{
    (void)state;
    icms_allocator a = ICMS_ALLOCATOR_INIT;
    assert_int_equal(icms_set_allocator(&a), ICMS_EINVALID);
    a.malloc_fn = counting_malloc;
    a.realloc_fn = counting_realloc;
    a.free_fn = counting_free;
    a.version = 99;
    assert_int_equal(icms_set_allocator(&a), ICMS_EVERSION);
    a.version = ICMS_ALLOCATOR_VERSION;
    assert_icms_ok(icms_set_allocator(&a));
    char *s = icms__strdup("hello");
    assert_int_equal(counted_allocs, 1);
    icms_free(s);

    /* Not while initialised: memory handed out would meet the wrong free. */
    assert_int_equal(icms_init(), 1);
    assert_int_equal(icms_set_allocator(NULL), ICMS_EBUSY);
    assert_int_equal(icms_shutdown(), 0);
    assert_icms_ok(icms_set_allocator(NULL));
}

static void test_injected_allocation_failure(void **state)
{
    (void)state;
    icms__alloc_fail_after(2);
    void *a = icms__malloc(8);
    assert_non_null(a);
    assert_null(icms__malloc(8));
    assert_int_equal(icms_error_last()->code, ICMS_ENOMEM);
    void *c = icms__malloc(8);
    assert_non_null(c);
    icms__free(a);
    icms__free(c);
}

static void test_overflow_checks(void **state)
{
    (void)state;
    int64_t out;
    assert_true(icms__add_i64(1, 2, &out));
    assert_int_equal(out, 3);
    assert_false(icms__add_i64(INT64_MAX, 1, &out));
    assert_false(icms__sub_i64(INT64_MIN, 1, &out));
    assert_false(icms__mul_i64(INT64_MAX / 2 + 1, 2, &out));
    size_t s;
    assert_false(icms__mul_size(SIZE_MAX, 2, &s));
    assert_null(icms__calloc(SIZE_MAX, 2));
    assert_int_equal(icms_error_last()->code, ICMS_ENOMEM);
}

static void test_constant_time_equal(void **state)
{
    (void)state;
    assert_int_equal(icms_init(), 1);
    assert_true(icms__ct_equal("abcd", "abcd", 4));
    assert_false(icms__ct_equal("abcd", "abce", 4));
    icms_shutdown();
}

static void test_version(void **state)
{
    (void)state;
    assert_string_equal(icms_version(), ICMS_VERSION);
    assert_int_equal(icms_version_number(), ICMS_VERSION_NUMBER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_error_never_null),
        cmocka_unit_test(test_error_records_code_and_message),
        cmocka_unit_test(test_long_message_is_truncated_safely),
        cmocka_unit_test(test_error_is_thread_local),
        cmocka_unit_test(test_strerror_and_names),
        cmocka_unit_test(test_init_is_reference_counted),
        cmocka_unit_test(test_custom_allocator),
        cmocka_unit_test(test_injected_allocation_failure),
        cmocka_unit_test(test_overflow_checks),
        cmocka_unit_test(test_constant_time_equal),
        cmocka_unit_test(test_version),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
