/* Helpers shared by the gapcoin suites: vector files and hex. */
#ifndef ICMS_TESTS_GAPCOIN_TEST_H
#define ICMS_TESTS_GAPCOIN_TEST_H

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/gapcoin.h"
#include "support/test_support.h"

/* Parse tests/data/gapcoin/<name> (a copy of the shared vectors); free with cJSON_Delete. */
static inline cJSON *gap_load(const char *name)
{
    char rel[256];
    snprintf(rel, sizeof rel, "gapcoin/%s", name);
    char *text = icms_test_read_file(icms_test_data_path(rel), NULL);
    cJSON *json = cJSON_Parse(text);
    free(text);
    assert_non_null(json);
    return json;
}

static inline const char *gap_str(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsString(item));
    return item->valuestring;
}

/* A u64 written as a JSON number: exact only up to 2^53, which every vector value is below. */
static inline uint64_t gap_u64(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_true(cJSON_IsNumber(item));
    assert_true(item->valuedouble < 9007199254740992.0);
    return (uint64_t)item->valuedouble;
}

static inline void gap_assert_hash(const uint8_t hash[32], const char *display_hex)
{
    char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
    icms_gapcoin_hash_to_hex(hash, hex);
    assert_string_equal(hex, display_hex);
}

static inline int gap_init(void **state)
{
    (void)state;
    return icms_init() >= 1 ? 0 : -1;
}

static inline int gap_shutdown(void **state)
{
    (void)state;
    return icms_shutdown() >= 0 ? 0 : -1;
}

#endif
