/* The strict JSON reader, the schema checker and the exact/canonical writer. */
#include "support/test_support.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"

static int setup(void **state)
{
    (void)state;
    /* cJSON allocates through the library's allocator only once initialised. */
    return icms_init() == 1 ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    return icms_shutdown() == 0 ? 0 : -1;
}

static cJSON *parse_ok(const char *text)
{
    cJSON *doc = NULL;
    int rc = icms__json_parse(text, strlen(text), NULL, &doc);
    if (rc)
        fail_msg("%s: %s", text, icms_error_last()->message);
    return doc;
}

/* Parse text, which must fail with ICMS_EINVALID and exactly message. */
static void parse_fails(const char *text, size_t len, const icms__json_limits *limits,
                        const char *message)
{
    cJSON *doc = (cJSON *)1;
    int rc = icms__json_parse(text, len, limits, &doc);
    if (rc != ICMS_EINVALID)
        fail_msg("%s: returned %d, expected ICMS_EINVALID", text, rc);
    assert_null(doc);
    if (strcmp(icms_error_last()->message, message) != 0)
        fail_msg("%s:\n  got      %s\n  expected %s", text, icms_error_last()->message, message);
}

static char *write_json(const cJSON *item, unsigned int flags)
{
    char *out = NULL;
    size_t len = 0;
    int rc = icms__json_write(item, flags, &out, &len);
    if (rc)
        fail_msg("write: %s", icms_error_last()->message);
    assert_int_equal(len, strlen(out));
    return out;
}

/* ---- the reader ---- */

struct bad_json {
    const char *text;
    const char *message;
};

static void test_malformed(void **state)
{
    (void)state;
    static const struct bad_json cases[] = {
        {"", "invalid JSON at line 1, column 1: expected a JSON value, found end of input"},
        {"   ", "invalid JSON at line 1, column 4: expected a JSON value, found end of input"},
        {"{", "invalid JSON at line 1, column 2: expected a string key, found end of input"},
        {"{\"a\":1,}", "invalid JSON at line 1, column 8: expected a string key, found '}'"},
        {"[1,2,]", "invalid JSON at line 1, column 6: expected a JSON value, found ']'"},
        {"[1 2]", "invalid JSON at line 1, column 4: expected ',' or ']', found '2'"},
        {"{\"a\" 1}", "invalid JSON at line 1, column 6: expected ':' after a key, found '1'"},
        {"{\"a\":1 \"b\":2}", "invalid JSON at line 1, column 8: expected ',' or '}', found '\"'"},
        {"{a:1}", "invalid JSON at line 1, column 2: expected a string key, found 'a'"},
        {"{'a':1}", "invalid JSON at line 1, column 2: expected a string key, found '''"},
        {"{}{}", "invalid JSON at line 1, column 3: expected the end of the document, found '{'"},
        {"tru", "invalid JSON at line 1, column 1: expected a JSON value, found 't'"},
        {"nul", "invalid JSON at line 1, column 1: expected a JSON value, found 'n'"},
        {"True", "invalid JSON at line 1, column 1: expected a JSON value, found 'T'"},
        {"truex", "invalid JSON at line 1, column 5: expected the end of the document, found 'x'"},
        {"NaN", "invalid JSON at line 1, column 1: expected a JSON value, found 'N'"},
        {"\"abc", "invalid JSON at line 1, column 5: unterminated string"},
        {"\"abc\\\"", "invalid JSON at line 1, column 7: unterminated string"},
        {"\"a\\x\"", "invalid JSON at line 1, column 3: invalid escape sequence in a string"},
        {"\"a\\u12g4\"",
         "invalid JSON at line 1, column 3: \\u must be followed by four hex digits"},
        {"\"a\tb\"",
         "invalid JSON at line 1, column 3: control character 0x09 must be escaped in a string"},
        {"\"\\u0000\"", "invalid JSON at line 1, column 2: \\u0000 is not allowed in a string"},
        {"\"\\ud83d\"", "invalid JSON at line 1, column 2: unpaired surrogate \\ud83d in a string"},
        {"\"\\ud83dx\\ude00\"",
         "invalid JSON at line 1, column 2: unpaired surrogate \\ud83d in a string"},
        {"\"\\ud83d\\u0041\"",
         "invalid JSON at line 1, column 2: unpaired surrogate \\ud83d in a string"},
        {"\"\\ude00\"", "invalid JSON at line 1, column 2: unpaired surrogate \\ude00 in a string"},
        {"01", "invalid JSON at line 1, column 1: numbers may not have leading zeros"},
        {"-01", "invalid JSON at line 1, column 2: numbers may not have leading zeros"},
        {"+1", "invalid JSON at line 1, column 1: expected a JSON value, found '+'"},
        {"-", "invalid JSON at line 1, column 2: expected a digit, found end of input"},
        {"-a", "invalid JSON at line 1, column 2: expected a digit, found 'a'"},
        {".5", "invalid JSON at line 1, column 1: expected a JSON value, found '.'"},
        {"1.", "invalid JSON at line 1, column 3: expected a digit after '.', found end of input"},
        {"1.e5", "invalid JSON at line 1, column 3: expected a digit after '.', found 'e'"},
        {"1e",
         "invalid JSON at line 1, column 3: expected a digit in the exponent, found end of input"},
        {"1e+",
         "invalid JSON at line 1, column 4: expected a digit in the exponent, found end of input"},
        {"1e400", "invalid JSON at line 1, column 1: number is out of range"},
        {"-1e400", "invalid JSON at line 1, column 1: number is out of range"},
        {"0x10", "invalid JSON at line 1, column 2: expected the end of the document, found 'x'"},
        {"[1]\n\n  ]",
         "invalid JSON at line 3, column 3: expected the end of the document, found ']'"},
        {"{\"a\":\n  [1,\n   }",
         "invalid JSON at line 3, column 4: expected a JSON value, found '}'"},
        {"/* c */ 1", "invalid JSON at line 1, column 1: expected a JSON value, found '/'"},
        {"\xef\xbb\xbf{}",
         "invalid JSON at line 1, column 1: expected a JSON value, found byte 0xef"},
        {"\f1", "invalid JSON at line 1, column 1: expected a JSON value, found byte 0x0c"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++)
        parse_fails(cases[i].text, strlen(cases[i].text), NULL, cases[i].message);
    /* A NUL byte inside the text is not whitespace, and not the end. */
    parse_fails(
        "[1]\0", 4, NULL,
        "invalid JSON at line 1, column 4: expected the end of the document, found byte 0x00");
    parse_fails(
        "\"a\0b\"", 5, NULL,
        "invalid JSON at line 1, column 3: control character 0x00 must be escaped in a string");
}

static void test_long_number(void **state)
{
    (void)state;
    char text[100];
    memset(text, '1', 64);
    text[64] = '\0';
    cJSON *doc = parse_ok(text); /* 64 digits: the limit */
    assert_true(cJSON_IsNumber(doc));
    cJSON_Delete(doc);
    strcat(text, "1");
    parse_fails(text, strlen(text), NULL,
                "invalid JSON at line 1, column 1: number is longer than 64 characters");
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "\"\x80\"",             /* stray continuation */
        "\"\xc0\xaf\"",         /* overlong '/' */
        "\"\xc3\"",             /* truncated two-byte */
        "\"\xe0\x80\xaf\"",     /* overlong three-byte */
        "\"\xed\xa0\x80\"",     /* UTF-8-encoded surrogate U+D800 */
        "\"\xf4\x90\x80\x80\"", /* above U+10FFFF */
        "\"\xf8\x88\x80\x80\x80\"",
        "\"\xff\"",
        "\"ok \xe2\x82\"", /* truncated euro sign */
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(bad); i++) {
        size_t len = strlen(bad[i]);
        size_t col = strcspn(bad[i], "\x80\xc0\xc3\xe0\xed\xf4\xf8\xff\xe2") + 1;
        char message[120];
        snprintf(message, sizeof message,
                 "invalid JSON at line 1, column %zu: invalid UTF-8 in a string", col);
        parse_fails(bad[i], len, NULL, message);
    }
    /* Valid multibyte text, raw and escaped, reads back as the same UTF-8. */
    cJSON *doc =
        parse_ok("[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\", \"\\u00e9\\u20ac\\ud83d\\ude00\","
                 " \"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\"]");
    assert_string_equal(cJSON_GetArrayItem(doc, 0)->valuestring,
                        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(cJSON_GetArrayItem(doc, 1)->valuestring,
                        "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(cJSON_GetArrayItem(doc, 2)->valuestring, "\"\\/\b\f\n\r\t\x01");
    cJSON_Delete(doc);
}

/* {"k0":0,...,"k99":99,"<last>":0} */
static size_t big_object(char *text, size_t size, const char *last)
{
    size_t o = 0;
    o += (size_t)snprintf(text + o, size - o, "{");
    for (int i = 0; i < 100; i++)
        o += (size_t)snprintf(text + o, size - o, "\"k%d\":%d,", i, i);
    o += (size_t)snprintf(text + o, size - o, "\"%s\":0}", last);
    return o;
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    parse_fails("{\"a\":1,\"b\":2,\"a\":3}", 19, NULL,
                "invalid JSON at line 1, column 1: duplicate key \"a\" in this object");
    parse_fails("{\"x\":{\"k\":1,\"k\":1}}", 19, NULL,
                "invalid JSON at line 1, column 6: duplicate key \"k\" in this object");
    /* Escapes are decoded before comparing: "\u0061" is "a". */
    parse_fails("{\"a\":1,\"\\u0061\":2}", 18, NULL,
                "invalid JSON at line 1, column 1: duplicate key \"a\" in this object");
    /* Big objects take the sorting path. */
    char text[4000];
    size_t len = big_object(text, sizeof text, "k57");
    parse_fails(text, len, NULL,
                "invalid JSON at line 1, column 1: duplicate key \"k57\" in this object");
    len = big_object(text, sizeof text, "k10");
    parse_fails(text, len, NULL,
                "invalid JSON at line 1, column 1: duplicate key \"k10\" in this object");
    len = big_object(text, sizeof text, "j10"); /* no duplicate */
    cJSON *doc = NULL;
    assert_icms_ok(icms__json_parse(text, len, NULL, &doc));
    assert_int_equal(cJSON_GetArraySize(doc), 101);
    cJSON_Delete(doc);
    /* Key names in messages are cut and cleaned. */
    parse_fails("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":1,"
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":2}",
                111, NULL,
                "invalid JSON at line 1, column 1: duplicate key "
                "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" in this object");
    parse_fails("{\"a\\nb\":1,\"a\\nb\":2}", 20, NULL,
                "invalid JSON at line 1, column 1: duplicate key \"a?b\" in this object");
}

static void test_size_limit(void **state)
{
    (void)state;
    icms__json_limits limits = ICMS__JSON_LIMITS_DEFAULT;
    limits.max_bytes = 10;
    cJSON *doc = NULL;
    assert_icms_ok(icms__json_parse("[1,2,3,45]", 10, &limits, &doc));
    cJSON_Delete(doc);
    /* Refused before reading: the text is not even valid JSON. */
    parse_fails("[1,2,3,456", 11, &limits, "JSON document is 11 bytes; the limit is 10");
    /* The default limit is 1 MiB. */
    size_t big = ICMS__JSON_MAX_BYTES_DEFAULT + 1;
    char *text = malloc(big);
    assert_non_null(text);
    memset(text, ' ', big);
    text[0] = '1';
    parse_fails(text, big, NULL, "JSON document is 1048577 bytes; the limit is 1048576");
    assert_icms_ok(icms__json_parse(text, big - 1, NULL, &doc));
    cJSON_Delete(doc);
    free(text);
}

static void test_depth_limit(void **state)
{
    (void)state;
    char text[600];
    /* 32 nested arrays: the default limit, accepted. */
    memset(text, '[', 32);
    memset(text + 32, ']', 32);
    cJSON *doc = NULL;
    assert_icms_ok(icms__json_parse(text, 64, NULL, &doc));
    cJSON_Delete(doc);
    memset(text, '[', 33);
    memset(text + 33, ']', 33);
    parse_fails(text, 66, NULL,
                "invalid JSON at line 1, column 33: nesting is deeper than 32 levels");
    /* Objects count as well, and scalars do not. */
    icms__json_limits limits = {1024, 2};
    assert_icms_ok(icms__json_parse("{\"a\":[1,\"x\",{}]}", 16, &limits, &doc) == 0 ? 1 : 0);
    parse_fails("{\"a\":[{}]}", 10, &limits,
                "invalid JSON at line 1, column 7: nesting is deeper than 2 levels");
    assert_icms_ok(
        icms__json_parse("{\"a\":[1,{\"b\":2}]}", 17, &(icms__json_limits){1024, 3}, &doc));
    cJSON_Delete(doc);
    /* Limits outside 1..ICMS__JSON_DEPTH_CAP are a programming error. */
    limits.max_depth = 0;
    assert_int_equal(icms__json_parse("1", 1, &limits, &doc), ICMS_EINVALID);
    limits.max_depth = ICMS__JSON_DEPTH_CAP + 1;
    assert_int_equal(icms__json_parse("1", 1, &limits, &doc), ICMS_EINVALID);
    /* A very deep document fails cleanly at the cap, not with a stack overflow. */
    size_t deep = 100000;
    char *huge = malloc(deep);
    assert_non_null(huge);
    memset(huge, '[', deep);
    limits = (icms__json_limits){deep, ICMS__JSON_DEPTH_CAP};
    parse_fails(huge, deep, &limits,
                "invalid JSON at line 1, column 257: nesting is deeper than 256 levels");
    free(huge);
}

static void test_values(void **state)
{
    (void)state;
    cJSON *doc = parse_ok(" {\"s\":\"x\",\"t\":true,\"f\":false,\"n\":null,\"a\":[],\"o\":{},"
                          "\"i\":-12,\"d\":2.5e-1}\r\n\t");
    assert_string_equal(icms__json_get_string(doc, "s"), "x");
    assert_true(cJSON_IsTrue(icms__json_get(doc, "t")));
    assert_true(cJSON_IsFalse(icms__json_get(doc, "f")));
    assert_true(cJSON_IsNull(icms__json_get(doc, "n")));
    assert_true(cJSON_IsArray(icms__json_get(doc, "a")));
    assert_true(cJSON_IsObject(icms__json_get(doc, "o")));
    assert_true(icms__json_get(doc, "d")->valuedouble == 0.25);
    /* Lookups are case-sensitive (cJSON_GetObjectItem is not). */
    assert_null(icms__json_get(doc, "S"));
    assert_null(icms__json_get_string(doc, "t"));
    assert_null(icms__json_get(doc, NULL));
    int64_t v;
    assert_true(icms__json_int64(icms__json_get(doc, "i"), &v));
    assert_int_equal(v, -12);
    assert_false(icms__json_int64(icms__json_get(doc, "d"), &v));
    assert_false(icms__json_int64(icms__json_get(doc, "s"), &v));
    assert_false(icms__json_int64(NULL, &v));
    cJSON_Delete(doc);
    /* Any value may be the document. */
    doc = parse_ok("\"just a string\"");
    assert_string_equal(doc->valuestring, "just a string");
    cJSON_Delete(doc);
}

struct int_case {
    const char *text;
    bool is_int;
    int64_t value;
};

static void test_exact_integers(void **state)
{
    (void)state;
    static const struct int_case cases[] = {
        {"9223372036854775807", true, INT64_MAX},
        {"-9223372036854775808", true, INT64_MIN},
        {"9223372036854775806", true, INT64_MAX - 1},   /* not a double: exact only via the text */
        {"9007199254740993", true, 9007199254740993LL}, /* 2^53 + 1 */
        {"-0", true, 0},
        {"0", true, 0},
        {"9223372036854775808", false, 0},
        {"-9223372036854775809", false, 0},
        {"18446744073709551616", false, 0},
        {"1.0", false, 0},
        {"1e2", false, 0},
        {"1E2", false, 0},
        {"100e-2", false, 0},
        {"0.5", false, 0},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++) {
        cJSON *doc = parse_ok(cases[i].text);
        int64_t v = 42;
        bool is_int = icms__json_int64(doc, &v);
        if (is_int != cases[i].is_int)
            fail_msg("%s: is_int %d", cases[i].text, is_int);
        if (is_int && v != cases[i].value)
            fail_msg("%s: read %lld", cases[i].text, (long long)v);
        cJSON_Delete(doc);
    }
}

static void test_numbers_built_in_c(void **state)
{
    (void)state;
    int64_t v;
    cJSON *n = cJSON_CreateNumber(9007199254740992.0); /* 2^53: exact */
    assert_true(icms__json_int64(n, &v));
    assert_int_equal(v, 9007199254740992LL);
    cJSON_SetNumberValue(n, 9007199254740994.0); /* beyond 2^53: could be a rounded value */
    assert_false(icms__json_int64(n, &v));
    cJSON_SetNumberValue(n, 1.5);
    assert_false(icms__json_int64(n, &v));
    cJSON_Delete(n);
    /* A parsed number changed in C: the stale text is noticed and the double used. */
    cJSON *doc = parse_ok("{\"a\":9223372036854775807,\"b\":1.5}");
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "a"), 7.0);
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(doc, "b"), 8.0);
    assert_true(icms__json_int64(icms__json_get(doc, "a"), &v));
    assert_int_equal(v, 7);
    assert_true(icms__json_int64(icms__json_get(doc, "b"), &v));
    assert_int_equal(v, 8);
    char *out = write_json(doc, 0);
    assert_string_equal(out, "{\"a\":7,\"b\":8}");
    icms__free(out);
    cJSON_Delete(doc);
    /* Exact int64 nodes. */
    cJSON *big = icms__json_new_int64(INT64_MIN);
    assert_true(icms__json_int64(big, &v));
    assert_int_equal(v, INT64_MIN);
    cJSON_Delete(big);
    /* Number text as written, for decimals that must not become doubles. */
    doc = parse_ok("[1.50000000, -0, 2E-8, \"1.5\", 7]");
    assert_string_equal(icms__json_number_text(cJSON_GetArrayItem(doc, 0)), "1.50000000");
    assert_string_equal(icms__json_number_text(cJSON_GetArrayItem(doc, 1)), "-0");
    assert_string_equal(icms__json_number_text(cJSON_GetArrayItem(doc, 2)), "2E-8");
    assert_null(icms__json_number_text(cJSON_GetArrayItem(doc, 3)));
    cJSON_SetNumberValue(cJSON_GetArrayItem(doc, 4), 8);
    assert_null(icms__json_number_text(cJSON_GetArrayItem(doc, 4))); /* stale */
    assert_null(icms__json_number_text(NULL));
    cJSON_Delete(doc);
    big = icms__json_new_int64(-42);
    assert_string_equal(icms__json_number_text(big), "-42");
    cJSON_Delete(big);
    n = cJSON_CreateNumber(3);
    assert_null(icms__json_number_text(n));
    cJSON_Delete(n);
    /* A duplicated tree keeps exact integers. */
    doc = parse_ok("[9223372036854775807]");
    cJSON *copy = cJSON_Duplicate(doc, true);
    assert_true(icms__json_int64(copy->child, &v));
    assert_int_equal(v, INT64_MAX);
    cJSON_Delete(copy);
    cJSON_Delete(doc);
}

/* ---- the checker ---- */

static const char *const currencies[] = {"GAP", "USD", NULL};

static int check_even(const cJSON *value)
{
    int64_t v;
    if (icms__json_int64(value, &v) && v % 2 == 0)
        return ICMS_OK;
    return icms__error(ICMS_EINVALID, "must be even");
}

static const icms__json_field dimension_fields[] = {
    ICMS__JSON_F_INT("length_mm", ICMS__JSON_REQUIRED, 1, 100000),
    ICMS__JSON_F_INT("width_mm", ICMS__JSON_REQUIRED, 1, 100000),
};
static const icms__json_schema dimension_schema = ICMS__JSON_SCHEMA(dimension_fields);

static const icms__json_field tag_item = ICMS__JSON_F_STRING(NULL, 0, 1, 10);

static const icms__json_field product_fields[] = {
    ICMS__JSON_F_STRING("name", ICMS__JSON_REQUIRED, 1, 20),
    ICMS__JSON_F_INT("unit_price", ICMS__JSON_REQUIRED, 0, INT64_MAX),
    ICMS__JSON_F_INT("quantity", 0, 1, 1000000),
    ICMS__JSON_F_OBJECT("dimensions", ICMS__JSON_NULLABLE, &dimension_schema),
    ICMS__JSON_F_ARRAY("tags", 0, 0, 3, &tag_item),
    {.name = "pack", .kind = ICMS__JSON_INTEGER, .min = 0, .max = 100, .check = check_even},
};
static const icms__json_schema product_schema = ICMS__JSON_SCHEMA(product_fields);
static const icms__json_field product_item = ICMS__JSON_F_OBJECT(NULL, 0, &product_schema);

static const icms__json_field doc_fields[] = {
    ICMS__JSON_F_UUID("project_id", ICMS__JSON_REQUIRED),
    ICMS__JSON_F_TIME("ships_at", 0),
    ICMS__JSON_F_ENUM("currency", ICMS__JSON_REQUIRED, currencies),
    ICMS__JSON_F_BOOL("insured", 0),
    ICMS__JSON_F_ARRAY("products", ICMS__JSON_REQUIRED, 1, 5, &product_item),
    ICMS__JSON_F_OBJECT("extra", 0, NULL),
    ICMS__JSON_F_ANY("note", 0),
    ICMS__JSON_F_INT("balance", 0, INT64_MIN, INT64_MAX),
};
static const icms__json_schema doc_schema = ICMS__JSON_SCHEMA(doc_fields);

#define GOOD_ID "\"project_id\":\"017f22e2-79b0-7cc3-98c4-dc0c0c07398f\""
#define GOOD_PRODUCT "{\"name\":\"bolts\",\"unit_price\":5}"

static void check_ok(const char *text)
{
    cJSON *doc = NULL;
    int rc = icms__json_parse_checked(text, strlen(text), NULL, &doc_schema, &doc);
    if (rc)
        fail_msg("%s: %s", text, icms_error_last()->message);
    cJSON_Delete(doc);
}

static void check_fails(const char *text, const char *message)
{
    cJSON *doc = (cJSON *)1;
    int rc = icms__json_parse_checked(text, strlen(text), NULL, &doc_schema, &doc);
    if (rc != ICMS_EINVALID)
        fail_msg("%s: returned %d", text, rc);
    assert_null(doc);
    if (strcmp(icms_error_last()->message, message) != 0)
        fail_msg("%s:\n  got      %s\n  expected %s", text, icms_error_last()->message, message);
}

static void test_schema_accepts(void **state)
{
    (void)state;
    check_ok("{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "]}");
    check_ok(
        "{" GOOD_ID ",\"currency\":\"USD\",\"insured\":false,\"ships_at\":\"2026-12-01T00:00:00Z\","
        "\"products\":[{\"name\":\"b\",\"unit_price\":9223372036854775807,\"quantity\":1000000,"
        "\"dimensions\":{\"length_mm\":1,\"width_mm\":100000},\"tags\":[\"a\",\"bbbbbbbbbb\"],"
        "\"pack\":4},{\"name\":\"c\",\"unit_price\":0,\"dimensions\":null,\"tags\":[]}],"
        "\"extra\":{\"anything\":[1,{\"x\":null}]},\"note\":null,"
        "\"balance\":-9223372036854775808}");
    /* Byte lengths: 20 bytes of UTF-8 is 20 bytes, whatever the characters. */
    check_ok("{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":"
             "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\","
             "\"unit_price\":1}]}");
}

static void test_schema_refuses(void **state)
{
    (void)state;
    static const struct bad_json cases[] = {
        {"[]", "document: must be an object"},
        {"null", "document: must be an object"},
        {"{\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "]}", "project_id: is required"},
        {"{" GOOD_ID ",\"currency\":\"GAP\"}", "products: is required"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "],\"colour\":1}",
         "colour: unknown field"},
        {"{\"Project_id\":1}", "Project_id: unknown field"},
        {"{" GOOD_ID ",\"currency\":\"EUR\",\"products\":[" GOOD_PRODUCT "]}",
         "currency: must be one of GAP, USD"},
        {"{" GOOD_ID ",\"currency\":\"gap\",\"products\":[" GOOD_PRODUCT "]}",
         "currency: must be one of GAP, USD"},
        {"{" GOOD_ID ",\"currency\":1,\"products\":[" GOOD_PRODUCT "]}",
         "currency: must be a string"},
        {"{" GOOD_ID ",\"currency\":null,\"products\":[" GOOD_PRODUCT "]}",
         "currency: must be a string"},
        {"{\"project_id\":\"017F22E2-79b0-7cc3-98c4-dc0c0c07398f\",\"currency\":\"GAP\","
         "\"products\":[]}",
         "project_id: invalid UUID: character 4 is uppercase; ids are lowercase hex"},
        {"{" GOOD_ID ",\"ships_at\":\"2026-02-30T00:00:00Z\",\"currency\":\"GAP\",\"products\":[]}",
         "ships_at: invalid RFC 3339 timestamp: day 30 does not exist in 2026-02"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"insured\":\"yes\",\"products\":[]}",
         "insured: must be true or false"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"insured\":1,\"products\":[]}",
         "insured: must be true or false"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":{}}", "products: must be an array"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[]}",
         "products: must have at least 1 item"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "," GOOD_PRODUCT
         "," GOOD_PRODUCT "," GOOD_PRODUCT "," GOOD_PRODUCT "," GOOD_PRODUCT "]}",
         "products: must have at most 5 items"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT ",1]}",
         "products[1]: must be an object"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "," GOOD_PRODUCT
         ",{\"name\":\"x\",\"unit_price\":-1}]}",
         "products[2].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":"
                     "9223372036854775808}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":5.0}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":5e0}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":\"5\"}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":null}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":true}]}",
         "products[0].unit_price: must be an integer between 0 and 9223372036854775807"},
        {"{" GOOD_ID
         ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,\"quantity\":0}]}",
         "products[0].quantity: must be an integer between 1 and 1000000"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"\",\"unit_price\":1}]}",
         "products[0].name: must not be empty"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"123456789012345678901\","
                     "\"unit_price\":1}]}",
         "products[0].name: must be at most 20 bytes long"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":"
         "\"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9x\","
         "\"unit_price\":1}]}",
         "products[0].name: must be at most 20 bytes long"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\"}]}",
         "products[0].unit_price: is required"},
        {"{" GOOD_ID
         ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,\"Name\":\"y\"}]}",
         "products[0].Name: unknown field"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,"
         "\"dimensions\":{\"length_mm\":5}}]}",
         "products[0].dimensions.width_mm: is required"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,"
         "\"dimensions\":[]}]}",
         "products[0].dimensions: must be an object"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,"
         "\"dimensions\":{\"length_mm\":5,\"width_mm\":5,\"height_mm\":5}}]}",
         "products[0].dimensions.height_mm: unknown field"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,"
         "\"tags\":[\"a\",\"\"]}]}",
         "products[0].tags[1]: must not be empty"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,"
         "\"tags\":[\"a\",\"b\",\"c\",\"d\"]}]}",
         "products[0].tags: must have at most 3 items"},
        {"{" GOOD_ID
         ",\"currency\":\"GAP\",\"products\":[{\"name\":\"x\",\"unit_price\":1,\"pack\":3}]}",
         "products[0].pack: must be even"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "],\"extra\":[]}",
         "extra: must be an object"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT "],\"balance\":1.5}",
         "balance: must be an integer between -9223372036854775808 and 9223372036854775807"},
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"products\":[" GOOD_PRODUCT
         "],\"balance\":-9223372036854775809}",
         "balance: must be an integer between -9223372036854775808 and 9223372036854775807"},
        /* Reader errors come through parse_checked unchanged. */
        {"{" GOOD_ID ",\"currency\":\"GAP\",\"currency\":\"USD\",\"products\":[" GOOD_PRODUCT "]}",
         "invalid JSON at line 1, column 1: duplicate key \"currency\" in this object"},
        {"{\"a\":\"\xff\"}", "invalid JSON at line 1, column 7: invalid UTF-8 in a string"},
    };
    for (size_t i = 0; i < ICMS__ARRAY_LEN(cases); i++)
        check_fails(cases[i].text, cases[i].message);
}

/* Trees built in C can hold what the reader refuses; the checker still catches it. */
static void test_schema_on_built_trees(void **state)
{
    (void)state;
    static const icms__json_field fields[] = {
        ICMS__JSON_F_STRING("s", 0, 0, 100),
        ICMS__JSON_F_INT("i", 0, 0, 10),
    };
    static const icms__json_schema schema = ICMS__JSON_SCHEMA(fields);
    cJSON *doc = cJSON_CreateObject();
    assert_icms_ok(icms__json_add_string(doc, "s", "bad \xff utf-8"));
    assert_int_equal(icms__json_check(doc, &schema), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "s: must be valid UTF-8");
    cJSON_Delete(doc);

    doc = cJSON_CreateObject();
    assert_icms_ok(icms__json_add_int64(doc, "i", 3));
    assert_icms_ok(icms__json_check(doc, &schema));
    assert_icms_ok(icms__json_add_int64(doc, "i", 4));
    assert_int_equal(icms__json_check(doc, &schema), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "i: appears more than once");
    cJSON_Delete(doc);

    assert_int_equal(icms__json_check(NULL, &schema), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "document: must be an object");

    /* One value against one field. */
    cJSON *n = icms__json_new_int64(11);
    assert_int_equal(icms__json_check_value(n, &fields[1], "limit"), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "limit: must be an integer between 0 and 10");
    cJSON_Delete(n);
    assert_int_equal(icms__json_check_value(NULL, &fields[1], "limit"), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "limit: is required");
}

/* ---- the writer ---- */

static void test_write_exact_and_canonical(void **state)
{
    (void)state;
    cJSON *doc = cJSON_CreateObject();
    assert_icms_ok(icms__json_add_int64(doc, "zeta", INT64_MAX));
    assert_icms_ok(icms__json_add_int64(doc, "alpha", INT64_MIN));
    assert_icms_ok(
        icms__json_add_string(doc, "\xc3\xa9t\xc3\xa9", "caf\xc3\xa9 \"q\" \\ \n\x01\x1f/\x7f"));
    assert_icms_ok(icms__json_add_bool(doc, "Beta", true));
    assert_icms_ok(icms__json_add_null(doc, "beta"));
    assert_icms_ok(icms__json_add_time(doc, "at", 1795692037123LL));
    static const uint8_t id[16] = {0x01, 0x7f, 0x22, 0xe2, 0x79, 0xb0, 0x7c, 0xc3,
                                   0x98, 0xc4, 0xdc, 0x0c, 0x0c, 0x07, 0x39, 0x8f};
    assert_icms_ok(icms__json_add_uuid(doc, "id", id));
    cJSON *list, *inner;
    assert_icms_ok(icms__json_add_array(doc, "list", &list));
    assert_icms_ok(icms__json_add(list, NULL, icms__json_new_int64(-1)));
    assert_icms_ok(icms__json_add(list, NULL, cJSON_CreateNumber(0.1)));
    assert_icms_ok(icms__json_add(list, NULL, cJSON_CreateNumber(1e300)));
    assert_icms_ok(icms__json_add(list, NULL, cJSON_CreateNumber(-0.0)));
    assert_icms_ok(icms__json_add_object(doc, "inner", &inner));
    assert_icms_ok(icms__json_add_int64(inner, "b", 2));
    assert_icms_ok(icms__json_add_int64(inner, "a", 1));

    char *plain = write_json(doc, 0);
    assert_string_equal(
        plain, "{\"zeta\":9223372036854775807,\"alpha\":-9223372036854775808,"
               "\"\xc3\xa9t\xc3\xa9\":\"caf\xc3\xa9 \\\"q\\\" \\\\ \\n\\u0001\\u001f/\x7f\","
               "\"Beta\":true,\"beta\":null,\"at\":\"2026-11-26T11:20:37.123Z\","
               "\"id\":\"017f22e2-79b0-7cc3-98c4-dc0c0c07398f\","
               "\"list\":[-1,0.1,1e+300,0],\"inner\":{\"b\":2,\"a\":1}}");
    char *canon = write_json(doc, ICMS__JSON_CANONICAL);
    /* Keys sorted by bytes: uppercase before lowercase, UTF-8 after ASCII; nested too. */
    assert_string_equal(
        canon, "{\"Beta\":true,\"alpha\":-9223372036854775808,"
               "\"at\":\"2026-11-26T11:20:37.123Z\",\"beta\":null,"
               "\"id\":\"017f22e2-79b0-7cc3-98c4-dc0c0c07398f\",\"inner\":{\"a\":1,\"b\":2},"
               "\"list\":[-1,0.1,1e+300,0],\"zeta\":9223372036854775807,"
               "\"\xc3\xa9t\xc3\xa9\":\"caf\xc3\xa9 \\\"q\\\" \\\\ \\n\\u0001\\u001f/\x7f\"}");

    /* Canonical output read back and written again is the same bytes. */
    cJSON *again = parse_ok(canon);
    char *canon2 = write_json(again, ICMS__JSON_CANONICAL);
    assert_string_equal(canon, canon2);
    int64_t v;
    assert_true(icms__json_int64(icms__json_get(again, "alpha"), &v));
    assert_int_equal(v, INT64_MIN);
    icms__free(canon2);
    cJSON_Delete(again);
    icms__free(plain);
    icms__free(canon);
    cJSON_Delete(doc);
}

static void test_write_parsed_numbers(void **state)
{
    (void)state;
    cJSON *doc = parse_ok(
        "[1.50, 1E2, -0, 12345678901234567890, 9223372036854775807, 0.1, 2.5e-3, -1e-400]");
    /* Plain output keeps the text as written; canonical output normalises. */
    char *plain = write_json(doc, 0);
    assert_string_equal(plain,
                        "[1.50,1E2,0,12345678901234567890,9223372036854775807,0.1,2.5e-3,-1e-400]");
    char *canon = write_json(doc, ICMS__JSON_CANONICAL);
    assert_string_equal(canon,
                        "[1.5,100,0,1.2345678901234567e+19,9223372036854775807,0.1,0.0025,0]");
    icms__free(plain);
    icms__free(canon);
    cJSON_Delete(doc);
    /* Whitespace and key order do not change the canonical bytes. */
    cJSON *a = parse_ok("{ \"b\" : [ 1 , 2 ] ,\n \"a\" : { \"y\" : 1, \"x\" : \"\\u00e9\" } }");
    cJSON *b = parse_ok("{\"a\":{\"x\":\"\xc3\xa9\",\"y\":1},\"b\":[1,2]}");
    char *ca = write_json(a, ICMS__JSON_CANONICAL);
    char *cb = write_json(b, ICMS__JSON_CANONICAL);
    assert_string_equal(ca, cb);
    assert_string_equal(ca, "{\"a\":{\"x\":\"\xc3\xa9\",\"y\":1},\"b\":[1,2]}");
    icms__free(ca);
    icms__free(cb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}

static void test_write_refuses(void **state)
{
    (void)state;
    char *out = (char *)1;
    cJSON *doc = cJSON_CreateArray();
    assert_icms_ok(icms__json_add(doc, NULL, cJSON_CreateNumber(NAN)));
    assert_int_equal(icms__json_write(doc, 0, &out, NULL), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "json: NaN and infinity cannot be written");
    assert_null(out);
    cJSON_Delete(doc);

    doc = cJSON_CreateArray();
    assert_icms_ok(icms__json_add(doc, NULL, cJSON_CreateString("\xc3")));
    assert_int_equal(icms__json_write(doc, 0, &out, NULL), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message,
                        "json: cannot write a string that is not valid UTF-8");
    cJSON_Delete(doc);

    doc = cJSON_CreateObject();
    assert_icms_ok(icms__json_add_int64(doc, "k", 1));
    assert_icms_ok(icms__json_add_int64(doc, "k", 2));
    char *plain = write_json(doc, 0); /* plain output does not look */
    assert_string_equal(plain, "{\"k\":1,\"k\":2}");
    icms__free(plain);
    assert_int_equal(icms__json_write(doc, ICMS__JSON_CANONICAL, &out, NULL), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "json: duplicate key \"k\"");
    cJSON_Delete(doc);

    doc = cJSON_CreateRaw("{\"injected\":1}");
    assert_int_equal(icms__json_write(doc, 0, &out, NULL), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message,
                        "json: raw values other than int64 integers cannot be written");
    cJSON_Delete(doc);

    /* Deeper than the cap: refused, not a stack overflow. */
    doc = cJSON_CreateArray();
    cJSON *at = doc;
    for (int i = 0; i < ICMS__JSON_DEPTH_CAP + 5; i++) {
        cJSON *next = cJSON_CreateArray();
        assert_icms_ok(icms__json_add(at, NULL, next));
        at = next;
    }
    assert_int_equal(icms__json_write(doc, 0, &out, NULL), ICMS_EINVALID);
    assert_string_equal(icms_error_last()->message, "json: nesting is deeper than 256 levels");
    cJSON_Delete(doc);

    assert_int_equal(icms__json_write(NULL, 0, &out, NULL), ICMS_EINVALID);
    doc = cJSON_CreateNull();
    assert_int_equal(icms__json_write(doc, 0x80, &out, NULL), ICMS_EINVALID);
    assert_int_equal(icms__json_write(doc, 0, NULL, NULL), ICMS_EINVALID);
    cJSON_Delete(doc);
}

static void test_builders_take_ownership(void **state)
{
    (void)state;
    /* Adding to something that is not a container frees the item (no leak under valgrind). */
    cJSON *s = cJSON_CreateString("x");
    assert_int_equal(icms__json_add(s, "k", cJSON_CreateObject()), ICMS_EINVALID);
    assert_int_equal(icms__json_add(s, NULL, cJSON_CreateObject()), ICMS_EINVALID);
    assert_int_equal(icms__json_add_time(s, "t", ICMS_TIME_MAX_MS + 1), ICMS_EINVALID);
    assert_int_equal(icms__json_add_string(s, "t", NULL), ICMS_EINVALID);
    cJSON_Delete(s);
    /* A NULL item (a failed constructor) is reported as out of memory. */
    cJSON *o = cJSON_CreateObject();
    assert_int_equal(icms__json_add(o, "k", NULL), ICMS_ENOMEM);
    cJSON_Delete(o);
}

/* icms__json_set replaces a member where it stands, keeps its key, and adds one that is absent. */
static void test_set_replaces_in_place(void **state)
{
    (void)state;
    static const char text[] = "{\"a\":1,\"b\":\"x\",\"c\":[1]}";
    cJSON *doc = NULL;
    assert_icms_ok(icms__json_parse(text, sizeof text - 1, NULL, &doc));
    assert_icms_ok(icms__json_set(doc, "a", icms__json_new_int64(-5))); /* the first member */
    assert_icms_ok(icms__json_set(doc, "b", icms__json_new_int64(7)));
    assert_icms_ok(icms__json_set(doc, "c", cJSON_CreateString("z"))); /* the last */
    assert_icms_ok(icms__json_set(doc, "d", cJSON_CreateTrue()));      /* absent: added */
    const char *names[] = {"a", "b", "c", "d"};
    const cJSON *member = doc->child;
    for (size_t i = 0; i < 4; i++, member = member->next) {
        assert_non_null(member);
        assert_string_equal(member->string, names[i]);
    }
    assert_null(member);
    char *out = NULL;
    assert_icms_ok(icms__json_write(doc, ICMS__JSON_CANONICAL, &out, NULL));
    assert_string_equal(out, "{\"a\":-5,\"b\":7,\"c\":\"z\",\"d\":true}");
    icms_free(out);
    /* A key the object does not own (added with a constant name) stays unowned. */
    cJSON_AddItemToObjectCS(doc, "e", cJSON_CreateNull());
    assert_icms_ok(icms__json_set(doc, "e", icms__json_new_int64(3)));
    int64_t e = 0;
    assert_true(icms__json_int64(icms__json_get(doc, "e"), &e));
    assert_int_equal(e, 3);
    /* An item that already has a key of its own (a duplicated member) gives it up. */
    cJSON *copy = cJSON_Duplicate(icms__json_get(doc, "a"), true);
    assert_non_null(copy->string);
    assert_icms_ok(icms__json_set(doc, "b", copy));
    assert_string_equal(icms__json_get(doc, "b")->string, "b");
    /* A failed constructor is out of memory and changes nothing. */
    assert_int_equal(icms__json_set(doc, "b", NULL), ICMS_ENOMEM);
    assert_int_equal(cJSON_GetArraySize(doc), 5);
    cJSON_Delete(doc);
}

/* ---- allocation failures ---- */

static const char alloc_doc[] =
    "{" GOOD_ID ",\"currency\":\"GAP\",\"note\":{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,"
    "\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,\"ka\":10,\"kb\":11,\"kc\":12,\"kd\":13,"
    "\"ke\":14,\"kf\":15,\"kg\":16},\"products\":[{\"name\":\"\\u00e9\\ud83d\\ude00\","
    "\"unit_price\":9223372036854775807,\"tags\":[\"a\"],\"dimensions\":{\"length_mm\":1,"
    "\"width_mm\":2}}]}";

/* Parse, check and write canonically; each step may fail only with ICMS_ENOMEM. */
static int parse_check_write(char **out)
{
    cJSON *doc;
    int rc = icms__json_parse_checked(alloc_doc, sizeof alloc_doc - 1, NULL, &doc_schema, &doc);
    if (rc)
        return rc;
    rc = icms__json_write(doc, ICMS__JSON_CANONICAL, out, NULL);
    cJSON_Delete(doc);
    return rc;
}

static void test_allocation_failures(void **state)
{
    (void)state;
    char *expect = NULL;
    icms__alloc_fail_after(0);
    assert_icms_ok(parse_check_write(&expect));
    long n;
    for (n = 1;; n++) {
        char *out = NULL;
        icms__alloc_fail_after(n);
        int rc = parse_check_write(&out);
        icms__alloc_fail_after(0);
        if (rc == ICMS_OK) {
            assert_string_equal(out, expect);
            icms__free(out);
            break;
        }
        if (rc != ICMS_ENOMEM)
            fail_msg("allocation %ld: returned %d: %s", n, rc, icms_error_last()->message);
        assert_null(out);
    }
    /* Every allocation was made to fail once (the note object has > 16 keys: the sort path). */
    assert_true(n > 40);
    icms__free(expect);

    /* Builders too. */
    for (n = 1;; n++) {
        icms__alloc_fail_after(n);
        cJSON *doc = cJSON_CreateObject();
        int rc = doc ? ICMS_OK : ICMS_ENOMEM;
        cJSON *arr = NULL;
        if (!rc)
            rc = icms__json_add_int64(doc, "a", 1);
        if (!rc)
            rc = icms__json_add_time(doc, "t", 0);
        if (!rc)
            rc = icms__json_add_array(doc, "l", &arr);
        if (!rc)
            rc = icms__json_add_bool(arr, NULL, true);
        if (!rc)
            rc = icms__json_add(arr, NULL, icms__json_new_int64(5));
        icms__alloc_fail_after(0);
        cJSON_Delete(doc);
        if (rc == ICMS_OK)
            break;
        assert_int_equal(rc, ICMS_ENOMEM);
    }
    assert_true(n > 5);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_malformed),
        T(test_long_number),
        T(test_invalid_utf8),
        T(test_duplicate_keys),
        T(test_size_limit),
        T(test_depth_limit),
        T(test_values),
        T(test_exact_integers),
        T(test_numbers_built_in_c),
        T(test_schema_accepts),
        T(test_schema_refuses),
        T(test_schema_on_built_trees),
        T(test_write_exact_and_canonical),
        T(test_write_parsed_numbers),
        T(test_write_refuses),
        T(test_builders_take_ownership),
        T(test_set_replaces_in_place),
        T(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
