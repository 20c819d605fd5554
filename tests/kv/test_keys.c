/* Tuple keys: byte order equals tuple order; decoding round-trips; limits. */
#include "support/test_support.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "kv/keys.h"

/* A tuple element in the test's own model, compared without the encoding. */
typedef struct element {
    int kind; /* 0 string, 1 int, 2 id */
    char str[8];
    size_t str_len;
    int64_t num;
    uint8_t id[16];
} element;

typedef struct tuple {
    element e[3];
    int n;
} tuple;

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_tuple(tuple *t)
{
    t->n = 1 + (int)(rng() % 3);
    for (int i = 0; i < t->n; i++) {
        element *e = &t->e[i];
        memset(e, 0, sizeof *e);
        /* Same kind at the same position most of the time, so comparisons go deep. */
        e->kind = (rng() % 8 == 0) ? (int)(rng() % 3) : i % 3;
        if (e->kind == 0) {
            e->str_len = rng() % 5;
            for (size_t j = 0; j < e->str_len; j++) {
                static const char alphabet[] = {0x00, 0x01, 'a', 'b', (char)0xFE, (char)0xFF};
                e->str[j] = alphabet[rng() % sizeof alphabet];
            }
        } else if (e->kind == 1) {
            static const int64_t edges[] = {INT64_MIN, -256, -1, 0, 1, 255, 256, INT64_MAX};
            e->num = rng() % 2 ? edges[rng() % 8] : (int64_t)rng();
        } else {
            for (int j = 0; j < 16; j++)
                e->id[j] = (uint8_t)(rng() % 3 == 0 ? 0 : rng());
        }
    }
}

static int cmp_element(const element *a, const element *b)
{
    static const int tag_order[] = {ICMS__KEY_TAG_STRING, ICMS__KEY_TAG_INT, ICMS__KEY_TAG_ID};
    if (a->kind != b->kind)
        return tag_order[a->kind] < tag_order[b->kind] ? -1 : 1;
    if (a->kind == 0) {
        size_t n = a->str_len < b->str_len ? a->str_len : b->str_len;
        int c = memcmp(a->str, b->str, n);
        if (c)
            return c < 0 ? -1 : 1;
        return a->str_len == b->str_len ? 0 : (a->str_len < b->str_len ? -1 : 1);
    }
    if (a->kind == 1)
        return a->num == b->num ? 0 : (a->num < b->num ? -1 : 1);
    int c = memcmp(a->id, b->id, 16);
    return c == 0 ? 0 : (c < 0 ? -1 : 1);
}

static int cmp_tuple(const tuple *a, const tuple *b)
{
    for (int i = 0; i < a->n && i < b->n; i++) {
        int c = cmp_element(&a->e[i], &b->e[i]);
        if (c)
            return c;
    }
    return a->n == b->n ? 0 : (a->n < b->n ? -1 : 1);
}

static void encode(const tuple *t, icms__key *k)
{
    icms__key_init(k);
    for (int i = 0; i < t->n; i++) {
        const element *e = &t->e[i];
        if (e->kind == 0)
            icms__key_strn(k, e->str, e->str_len);
        else if (e->kind == 1)
            icms__key_int(k, e->num);
        else
            icms__key_id(k, e->id);
    }
}

static int cmp_bytes(const icms__key *a, const icms__key *b)
{
    size_t n = a->len < b->len ? a->len : b->len;
    int c = memcmp(a->bytes, b->bytes, n);
    if (c)
        return c < 0 ? -1 : 1;
    return a->len == b->len ? 0 : (a->len < b->len ? -1 : 1);
}

static void test_byte_order_is_tuple_order(void **state)
{
    (void)state;
    for (int i = 0; i < 200000; i++) {
        tuple a, b;
        icms__key ka, kb;
        random_tuple(&a);
        random_tuple(&b);
        encode(&a, &ka);
        encode(&b, &kb);
        int model = cmp_tuple(&a, &b);
        int bytes = cmp_bytes(&ka, &kb);
        if (model != bytes)
            fail_msg("iteration %d: tuple order %d but byte order %d", i, model, bytes);
    }
}

static void test_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < 20000; i++) {
        tuple t;
        icms__key k;
        random_tuple(&t);
        encode(&t, &k);
        icms__key_reader r;
        icms__key_reader_init(&r, k.bytes, k.len);
        for (int j = 0; j < t.n; j++) {
            const element *e = &t.e[j];
            if (e->kind == 0) {
                char out[16];
                assert_icms_ok(icms__key_read_str(&r, out, sizeof out));
                /* Embedded NULs end the C string; compare up to the first one. */
                size_t visible = strnlen(e->str, e->str_len);
                assert_int_equal(strlen(out), visible);
                assert_memory_equal(out, e->str, visible);
            } else if (e->kind == 1) {
                int64_t v;
                assert_icms_ok(icms__key_read_int(&r, &v));
                assert_true(v == e->num);
            } else {
                uint8_t id[16];
                assert_icms_ok(icms__key_read_id(&r, id));
                assert_memory_equal(id, e->id, 16);
            }
        }
        assert_true(icms__key_reader_done(&r));
    }
}

static void test_prefix_end_bounds_extensions(void **state)
{
    (void)state;
    icms__key prefix, end, longer;
    icms__key_init(&prefix);
    icms__key_str(&prefix, "r");
    icms__key_str(&prefix, "project");
    assert_icms_ok(icms__key_prefix_end(&prefix, &end));
    longer = prefix;
    icms__key_str(&longer, "\xff\xff\xff");
    icms__key_int(&longer, INT64_MAX);
    assert_true(cmp_bytes(&prefix, &end) < 0);
    assert_true(cmp_bytes(&longer, &end) < 0);
    /* A sibling that is not an extension sorts beyond. */
    icms__key sibling;
    icms__key_init(&sibling);
    icms__key_str(&sibling, "r");
    icms__key_str(&sibling, "projects");
    assert_true(cmp_bytes(&sibling, &end) > 0);
}

static void test_overflow_is_reported(void **state)
{
    (void)state;
    icms__key k;
    icms__key_init(&k);
    char big[ICMS_STORE_KEY_MAX];
    memset(big, 'x', sizeof big);
    icms__key_strn(&k, big, sizeof big);
    assert_int_equal(icms__key_check(&k), ICMS_ELIMIT);
    assert_true(k.len <= ICMS_STORE_KEY_MAX);
    icms__key end;
    assert_int_equal(icms__key_prefix_end(&k, &end), ICMS_ELIMIT);
}

static void test_reader_rejects_malformed(void **state)
{
    (void)state;
    icms__key_reader r;
    const uint8_t unterminated[] = {ICMS__KEY_TAG_STRING, 'a', 'b'};
    char out[8];
    icms__key_reader_init(&r, unterminated, sizeof unterminated);
    assert_int_equal(icms__key_read_str(&r, out, sizeof out), ICMS_ECORRUPT);

    const uint8_t short_int[] = {ICMS__KEY_TAG_INT, 1, 2, 3};
    int64_t v;
    icms__key_reader_init(&r, short_int, sizeof short_int);
    assert_int_equal(icms__key_read_int(&r, &v), ICMS_ECORRUPT);

    const uint8_t wrong_tag[] = {ICMS__KEY_TAG_INT, 0, 0, 0, 0, 0, 0, 0, 0};
    icms__key_reader_init(&r, wrong_tag, sizeof wrong_tag);
    assert_int_equal(icms__key_read_str(&r, out, sizeof out), ICMS_ECORRUPT);
    uint8_t id[16];
    icms__key_reader_init(&r, wrong_tag, sizeof wrong_tag);
    assert_int_equal(icms__key_read_id(&r, id), ICMS_ECORRUPT);

    icms__key k;
    icms__key_init(&k);
    icms__key_str(&k, "longer than eight");
    icms__key_reader_init(&r, k.bytes, k.len);
    assert_int_equal(icms__key_read_str(&r, out, sizeof out), ICMS_EBUFS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_byte_order_is_tuple_order),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_prefix_end_bounds_extensions),
        cmocka_unit_test(test_overflow_is_reported),
        cmocka_unit_test(test_reader_rejects_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
