/*
 * Differential test of the JSON reader and writer against the implementation
 * they replaced (test_json_ref.c): for thousands of generated documents, valid
 * and broken, both readers must accept or refuse alike (same code, same
 * message), build the same tree, and both writers must give the same bytes or
 * the same error, plain and canonical, also on trees changed in C afterwards.
 */
#include "support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "test_json_ref.h"

static int setup(void **state)
{
    (void)state;
    return icms_init() == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() == 0 ? 0 : -1;
}

/* ---- a deterministic generator ---- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16) % n;
}

struct text {
    char *data;
    size_t len, cap;
};

static void add(struct text *t, const char *s, size_t n)
{
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->data = realloc(t->data, t->cap);
        assert_non_null(t->data);
    }
    memcpy(t->data + t->len, s, n);
    t->len += n;
    t->data[t->len] = '\0';
}

static void adds(struct text *t, const char *s)
{
    add(t, s, strlen(s));
}

static void space(struct text *t)
{
    static const char *const ws[] = {" ", "\n", "\t", "\r\n  ", "  \n\t "};
    if (rnd(6) == 0)
        adds(t, ws[rnd(5)]);
}

/* String contents: mostly plain, with every kind of escape and UTF-8, good and bad. */
static void gen_string_body(struct text *t, int bad)
{
    static const char *const good[] = {
        "id", "amount", "address", "GP1B4RxJ8uMCRZtHxhxdawUrEqxNo3UCSq",
        "01a218ca-90a9-74a5-9574-9b0d17f29777", "2026-11-27T16:57:38.217Z",
        "76a914b0e0c1d2e3f405162738495a6b7c8d9e0f1a2b88ac", "x", "", " ", "\\\"", "\\\\",
        "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u00e9", "\\u00E9", "\\u20ac", "\\u0001",
        "\\u001f", "\\u007f", "\\ud83d\\ude00", "\\uD834\\uDD1E", "\xc3\xa9", "\xe2\x82\xac",
        "\xf0\x9f\x98\x80", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "\x7f", "~", "{}[],:",
        "abcdefghijklmnopqrstuvwxyz0123456789", "plain text with spaces", "'single'"};
    static const char *const broken[] = {
        "\\u0000", "\\ud800", "\\udc00", "\\ud800\\u0041", "\\ud800x", "\\u12", "\\u12g4",
        "\\x", "\\", "\\U0041", "\x01", "\n", "\t", "\x1f", "\xc0\x80", "\xc1\xbf", "\x80",
        "\xbf", "\xe0\x80\x80", "\xed\xa0\x80", "\xf0\x80\x80\x80", "\xf4\x90\x80\x80",
        "\xf5\x80\x80\x80", "\xff", "\xe2\x82", "\xf0\x9f\x98", "\xc3", "\"", "\\ud83d\\"};
    int parts = (int)rnd(5);
    for (int i = 0; i < parts; i++) {
        if (bad && rnd(8) == 0)
            adds(t, broken[rnd(sizeof broken / sizeof broken[0])]);
        else
            adds(t, good[rnd(sizeof good / sizeof good[0])]);
    }
}

static void gen_string(struct text *t, int bad)
{
    adds(t, "\"");
    gen_string_body(t, bad);
    adds(t, "\"");
}

static void gen_number(struct text *t, int bad)
{
    static const char *const fixed[] = {
        "0", "-0", "1", "-1", "100000000", "6", "1.5", "0.1", "-0.0", "1e5", "1E+2", "2e-3",
        "1.0", "1.50000000", "123456789012345", "1234567890123456", "12345678901234567",
        "123456789012345678", "1234567890123456789", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
        "9007199254740993", "18446744073709551616", "1e308", "5e-324", "0.30000000000000004",
        "123456789012345678901234567890"};
    static const char *const broken[] = {"01", "-", "1.", ".5", "1e", "1e+", "+1", "-01",
                                         "1e400", "-1e400", "0x10", "1.e5", "--1", "00"};
    if (bad && rnd(10) == 0) {
        adds(t, broken[rnd(sizeof broken / sizeof broken[0])]);
        return;
    }
    if (rnd(2)) {
        adds(t, fixed[rnd(sizeof fixed / sizeof fixed[0])]);
        return;
    }
    char buf[96];
    size_t n = 0;
    if (rnd(3) == 0)
        buf[n++] = '-';
    int digits = 1 + (int)rnd(rnd(4) == 0 ? 70 : 19);
    buf[n++] = (char)('1' + rnd(9));
    for (int i = 1; i < digits && n < 80; i++)
        buf[n++] = (char)('0' + rnd(10));
    if (rnd(4) == 0) {
        buf[n++] = '.';
        for (int i = 0, k = 1 + (int)rnd(8); i < k; i++)
            buf[n++] = (char)('0' + rnd(10));
    }
    if (rnd(6) == 0) {
        buf[n++] = rnd(2) ? 'e' : 'E';
        if (rnd(2))
            buf[n++] = rnd(2) ? '+' : '-';
        for (int i = 0, k = 1 + (int)rnd(3); i < k; i++)
            buf[n++] = (char)('0' + rnd(10));
    }
    add(t, buf, n);
}

static void gen_value(struct text *t, int depth, int bad);

static void gen_key(struct text *t, int bad)
{
    static const char *const keys[] = {
        "id", "project_id", "amount", "address", "script", "required_confirmations",
        "expires_at", "late", "outputs", "vout", "status", "a", "b", "", "key_with_a_long_name_0",
        "key_with_a_long_name_1", "key_with_a_long_name_0x", "\\u0069d", "\xc3\xa9", "aaaaaaaa",
        "aaaaaaab", "baaaaaaa", "aaaaaaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaXaaaaaaaaaaaa"};
    if (rnd(4) == 0) {
        gen_string(t, bad);
        return;
    }
    adds(t, "\"");
    adds(t, keys[rnd(sizeof keys / sizeof keys[0])]);
    adds(t, "\"");
}

static void gen_object(struct text *t, int depth, int bad)
{
    adds(t, "{");
    space(t);
    int wide = depth == 0 && rnd(12) == 0; /* wide objects hold scalars: documents stay small */
    int n = wide ? (int)rnd(200) : (int)rnd(depth > 3 ? 3 : 8);
    for (int i = 0; i < n; i++) {
        if (i)
            adds(t, ",");
        space(t);
        if (wide && rnd(40) != 0) { /* distinct keys, so big objects do get accepted */
            char key[32];
            snprintf(key, sizeof key, "\"k%d_%u\"", i, rnd(1000));
            adds(t, key);
        } else {
            gen_key(t, bad);
        }
        space(t);
        adds(t, ":");
        space(t);
        gen_value(t, wide ? 7 : depth + 1, bad);
        space(t);
    }
    adds(t, "}");
}

static void gen_array(struct text *t, int depth, int bad)
{
    adds(t, "[");
    space(t);
    int n = (int)rnd(depth > 3 ? 3 : 6);
    for (int i = 0; i < n; i++) {
        if (i)
            adds(t, ",");
        space(t);
        gen_value(t, depth + 1, bad);
        space(t);
    }
    adds(t, "]");
}

static void gen_value(struct text *t, int depth, int bad)
{
    uint32_t r = rnd(depth > 6 ? 5 : 8);
    switch (r) {
    case 0:
    case 1:
        gen_string(t, bad);
        break;
    case 2:
        gen_number(t, bad);
        break;
    case 3:
        adds(t, rnd(2) ? "true" : "false");
        break;
    case 4:
        adds(t, bad && rnd(20) == 0 ? "nul" : "null");
        break;
    case 5:
    case 6:
        gen_object(t, depth, bad);
        break;
    default:
        gen_array(t, depth, bad);
    }
}

/* A payment record as the library writes it. */
static void gen_payment(struct text *t)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"id\":\"01a218ca-90a9-74a5-9574-9b0d17f2%04u\",\"project_id\":\"01a218ca-90a9-"
             "74a5-9574-9b0d17f29778\",\"amount\":%u%u,\"address\":\"GP1B4RxJ8uMCRZtHxhxdawUrEqx"
             "No3UCSq\",\"script\":\"76a914b0e0c1d2e3f405162738495a6b7c8d9e0f1a2b88ac\","
             "\"required_confirmations\":%u,\"expires_at\":\"2026-11-27T16:57:38.217Z\","
             "\"late\":%s,\"outputs\":[{\"vout\":%u}],\"status\":\"CONFIRMED\","
             "\"note\":\"caf\\u00e9 \xe2\x82\xac\"}",
             rnd(10000), 1 + rnd(999), rnd(1000000), rnd(10), rnd(2) ? "true" : "false", rnd(4));
    adds(t, buf);
}

/* Break a document the way hostile or damaged input would. */
static void mutate(struct text *t)
{
    if (t->len == 0)
        return;
    size_t at = rnd((uint32_t)t->len);
    static const char bytes[] = "{}[],:\"\\ \n0-.eE\x01\x80\xc3\xff";
    switch (rnd(4)) {
    case 0: /* truncate */
        t->len = at;
        t->data[at] = '\0';
        break;
    case 1: /* overwrite a byte */
        t->data[at] = bytes[rnd(sizeof bytes - 1)];
        break;
    case 2: /* delete a byte */
        memmove(t->data + at, t->data + at + 1, t->len - at);
        t->len--;
        break;
    default: /* trailing garbage */
        adds(t, rnd(2) ? " x" : ",1");
    }
}

/* ---- comparing ---- */

static void assert_same_tree(const cJSON *a, const cJSON *b)
{
    assert_int_equal(a->type, b->type);
    if (a->string || b->string) {
        assert_non_null(a->string);
        assert_non_null(b->string);
        assert_string_equal(a->string, b->string);
    }
    if (a->valuestring || b->valuestring) {
        assert_non_null(a->valuestring);
        assert_non_null(b->valuestring);
        assert_string_equal(a->valuestring, b->valuestring);
    }
    assert_int_equal(a->valueint, b->valueint);
    assert_memory_equal(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble);
    const cJSON *ca = a->child, *cb = b->child;
    assert_true((ca == NULL) == (cb == NULL));
    if (ca) /* cJSON keeps the last child in the first child's prev */
        assert_true((ca->prev == NULL) == (cb->prev == NULL));
    for (; ca && cb; ca = ca->next, cb = cb->next) {
        if (ca->next) {
            assert_ptr_equal(ca->next->prev, ca);
            assert_ptr_equal(cb->next->prev, cb);
        }
        assert_same_tree(ca, cb);
    }
    assert_null(ca);
    assert_null(cb);
}

static size_t writes_compared;

static void compare_writes(const cJSON *doc, const cJSON *ref_doc)
{
    for (unsigned int flags = 0; flags <= ICMS__JSON_CANONICAL; flags++) {
        char *out = NULL, *ref = NULL;
        size_t len = 0, ref_len = 0;
        int rc = icms__json_write(doc, flags, &out, &len);
        char message[512];
        snprintf(message, sizeof message, "%s", icms_error_last()->message);
        int ref_rc = ref_json_write(ref_doc, flags, &ref, &ref_len);
        assert_int_equal(rc, ref_rc);
        if (rc) {
            assert_null(out);
            assert_string_equal(message, icms_error_last()->message);
            continue;
        }
        assert_int_equal(len, ref_len);
        assert_memory_equal(out, ref, len + 1);
        icms__free(out);
        icms__free(ref);
        writes_compared++;
    }
}

static size_t accepted, refused;

/* Parse with both readers; on success also compare the trees and both writers. */
static void compare_text(const char *text, size_t len, const icms__json_limits *limits)
{
    cJSON *doc = NULL, *ref_doc = NULL;
    int rc = icms__json_parse(text, len, limits, &doc);
    char message[512];
    snprintf(message, sizeof message, "%s", icms_error_last()->message);
    int ref_rc = ref_json_parse(text, len, limits, &ref_doc);
    if (rc != ref_rc)
        fail_msg("%.*s: new %d (%s), old %d (%s)", (int)len, text, rc, message, ref_rc,
                 icms_error_last()->message);
    if (rc) {
        assert_null(doc);
        if (strcmp(message, icms_error_last()->message) != 0)
            fail_msg("%.*s:\n  new %s\n  old %s", (int)len, text, message,
                     icms_error_last()->message);
        refused++;
        return;
    }
    accepted++;
    assert_same_tree(doc, ref_doc);
    compare_writes(doc, ref_doc);
    cJSON_Delete(doc);
    cJSON_Delete(ref_doc);
}

static void test_generated_documents(void **state)
{
    (void)state;
    rng_state = 0x9e3779b97f4a7c15u;
    struct text t = {NULL, 0, 0};
    for (int i = 0; i < 6000; i++) {
        t.len = 0;
        adds(&t, "");
        int bad = rnd(3) == 0;
        space(&t);
        if (rnd(8) == 0)
            gen_payment(&t);
        else
            gen_value(&t, 0, bad);
        space(&t);
        if (bad && rnd(2))
            mutate(&t);
        icms__json_limits limits = ICMS__JSON_LIMITS_DEFAULT;
        if (rnd(10) == 0) {
            limits.max_depth = 1 + (int)rnd(4);
            limits.max_bytes = rnd(2) ? t.len : t.len + rnd(3) - 1;
        }
        compare_text(t.data, t.len, rnd(2) ? &limits : NULL);
    }
    free(t.data);
    /* Both outcomes were exercised in quantity. */
    assert_true(accepted > 2000);
    assert_true(refused > 1000);
    assert_true(writes_compared > 4000);
}

/* Fixed inputs at the edges: long strings, runs near 8-byte boundaries, big objects. */
static void test_edge_documents(void **state)
{
    (void)state;
    struct text t = {NULL, 0, 0};
    static const char *const bodies[] = {"", "a", "\\n", "\xc3\xa9", "\x01", "\\", "\\u0041",
                                         "\\u00", "\xe2\x82", "\"", "\x7f", "\\ud83d\\ude00"};
    for (size_t prefix = 0; prefix < 20; prefix++)
        for (size_t b = 0; b < sizeof bodies / sizeof bodies[0]; b++)
            for (size_t suffix = 0; suffix < 12; suffix++)
                for (int closed = 0; closed < 2; closed++) {
                    t.len = 0;
                    adds(&t, "\"");
                    for (size_t k = 0; k < prefix; k++)
                        adds(&t, "p");
                    adds(&t, bodies[b]);
                    for (size_t k = 0; k < suffix; k++)
                        adds(&t, "s");
                    if (closed)
                        adds(&t, "\"");
                    compare_text(t.data, t.len, NULL);
                    /* the same as a key */
                    struct text o = {NULL, 0, 0};
                    adds(&o, "{");
                    add(&o, t.data, t.len);
                    adds(&o, ":1}");
                    compare_text(o.data, o.len, NULL);
                    free(o.data);
                }
    /* Objects of every size around the duplicate check's thresholds, with and without a dup. */
    for (int n = 1; n <= 300; n += n < 40 ? 1 : 37) {
        for (int dup = -1; dup < n; dup += n / 3 + 1) {
            t.len = 0;
            adds(&t, "{");
            for (int k = 0; k < n; k++) {
                char member[64];
                snprintf(member, sizeof member, "%s\"member_%03d\":%d", k ? "," : "",
                         k == dup ? 0 : n - k, k);
                adds(&t, member);
            }
            adds(&t, "}");
            compare_text(t.data, t.len, NULL);
        }
        /* nested: many open objects at once fill the key-hash stack */
        t.len = 0;
        for (int d = 0; d < 8; d++) {
            adds(&t, "{");
            for (int k = 0; k < n; k++) {
                char member[64];
                snprintf(member, sizeof member, "\"m%d\":%d,", (k * 7919) % (n + 1), k);
                adds(&t, member);
            }
            adds(&t, "\"z\":");
        }
        adds(&t, "0}}}}}}}}");
        compare_text(t.data, t.len, NULL);
    }
    free(t.data);
}

/* Trees changed in C after parsing: stale numbers, raw nodes, bad strings, duplicate keys. */
static void test_changed_trees(void **state)
{
    (void)state;
    rng_state = 0x1234567887654321u;
    struct text t = {NULL, 0, 0};
    for (int i = 0; i < 2000; i++) {
        t.len = 0;
        adds(&t, "");
        gen_object(&t, 0, 0);
        cJSON *doc = NULL, *ref_doc = NULL;
        if (icms__json_parse(t.data, t.len, NULL, &doc) != ICMS_OK)
            continue;
        assert_icms_ok(ref_json_parse(t.data, t.len, NULL, &ref_doc));
        /* the same random edits on both trees */
        cJSON *a = doc->child, *b = ref_doc->child;
        for (; a && b; a = a->next, b = b->next) {
            switch (rnd(12)) {
            case 0:
                if (cJSON_IsNumber(a)) {
                    double v = rnd(2) ? 1e300 * 10 : (double)rnd(100) / 7;
                    cJSON_SetNumberValue(a, v);
                    cJSON_SetNumberValue(b, v);
                }
                break;
            case 1:
                if (cJSON_IsString(a) && rnd(2)) {
                    static const char *const bad[] = {"\xc3", "ok\xff", "\xed\xa0\x80", "\x01\"",
                                                      "a\\b\n\t\x7f\xe2\x82\xac"};
                    const char *s = bad[rnd(5)];
                    cJSON_free(a->valuestring);
                    cJSON_free(b->valuestring);
                    a->valuestring = icms__strdup(s);
                    b->valuestring = icms__strdup(s);
                    assert_non_null(a->valuestring);
                    assert_non_null(b->valuestring);
                }
                break;
            default:
                break;
            }
        }
        if (rnd(5) == 0) {
            static const char *const raws[] = {"12", "-9223372036854775808", "1.5", "x", "01"};
            const char *r = raws[rnd(5)];
            const char *name = rnd(2) ? "id" : "raw";
            cJSON_AddItemToObject(doc, name, cJSON_CreateRaw(r));
            cJSON_AddItemToObject(ref_doc, name, cJSON_CreateRaw(r));
        }
        if (rnd(8) == 0) {
            double v = rnd(2) ? NAN : -0.0;
            cJSON_AddItemToObject(doc, "d", cJSON_CreateNumber(v));
            cJSON_AddItemToObject(ref_doc, "d", cJSON_CreateNumber(v));
        }
        compare_writes(doc, ref_doc);
        cJSON_Delete(doc);
        cJSON_Delete(ref_doc);
    }
    free(t.data);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_generated_documents),
        T(test_edge_documents),
        T(test_changed_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
