/*
 * libFuzzer target for the core parsers: the strict JSON reader (then the
 * checker and the canonical writer on whatever it accepts), RFC 3339 and
 * UUID text. Properties checked beyond "no crash, no leak":
 *   - canonical output of an accepted document is accepted again, and
 *     writing it canonically again gives the same bytes;
 *   - a timestamp or id that parses formats back and parses to the same value;
 *   - the reader and writer agree with the implementation they replaced
 *     (test_json_ref.c): same result code and message, same tree, same bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "test_json_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const icms__json_field item_field = ICMS__JSON_F_ANY(NULL, 0);
static const icms__json_field fields[] = {
    ICMS__JSON_F_STRING("s", 0, 0, 16),
    ICMS__JSON_F_INT("i", 0, -5, INT64_MAX),
    ICMS__JSON_F_ARRAY("a", 0, 0, 4, &item_field),
    ICMS__JSON_F_OBJECT("o", ICMS__JSON_NULLABLE, NULL),
    ICMS__JSON_F_TIME("t", 0),
    ICMS__JSON_F_UUID("u", 0),
};
static const icms__json_schema schema = ICMS__JSON_SCHEMA(fields);

/* Both trees alike: types, names, values and order. */
static int same_tree(const cJSON *a, const cJSON *b)
{
    if (a->type != b->type || a->valueint != b->valueint ||
        memcmp(&a->valuedouble, &b->valuedouble, sizeof a->valuedouble) != 0)
        return 0;
    if ((a->string == NULL) != (b->string == NULL) || (a->string && strcmp(a->string, b->string)))
        return 0;
    if ((a->valuestring == NULL) != (b->valuestring == NULL) ||
        (a->valuestring && strcmp(a->valuestring, b->valuestring)))
        return 0;
    const cJSON *ca = a->child, *cb = b->child;
    for (; ca && cb; ca = ca->next, cb = cb->next)
        if (!same_tree(ca, cb))
            return 0;
    return ca == NULL && cb == NULL;
}

/* The new reader and both writers against the old ones. */
static void differential(const char *text, size_t size, const icms__json_limits *limits)
{
    cJSON *doc = NULL, *ref = NULL;
    int rc = icms__json_parse(text, size, limits, &doc);
    char message[512];
    snprintf(message, sizeof message, "%s", icms_error_last()->message);
    int ref_rc = ref_json_parse(text, size, limits, &ref);
    if (rc != ref_rc || (rc && strcmp(message, icms_error_last()->message) != 0))
        abort();
    if (rc)
        return;
    if (!same_tree(doc, ref))
        abort();
    for (unsigned int flags = 0; flags <= ICMS__JSON_CANONICAL; flags++) {
        char *out = NULL, *ref_out = NULL;
        size_t len = 0, ref_len = 0;
        rc = icms__json_write(doc, flags, &out, &len);
        ref_rc = ref_json_write(ref, flags, &ref_out, &ref_len);
        if (rc != ref_rc || len != ref_len || (rc == 0 && memcmp(out, ref_out, len + 1) != 0))
            abort();
        icms__free(out);
        icms__free(ref_out);
    }
    cJSON_Delete(doc);
    cJSON_Delete(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised)
        initialised = icms_init() > 0;
    const char *text = (const char *)data;

    icms__json_limits limits = {4096, 16};
    differential(text, size, &limits);
    cJSON *doc = NULL;
    if (icms__json_parse(text, size, &limits, &doc) == ICMS_OK) {
        (void)icms__json_check(doc, &schema);
        char *canon = NULL;
        size_t len = 0;
        if (icms__json_write(doc, ICMS__JSON_CANONICAL, &canon, &len) == ICMS_OK) {
            cJSON *again = NULL;
            icms__json_limits loose = {SIZE_MAX, 16};
            if (icms__json_parse(canon, len, &loose, &again) != ICMS_OK)
                abort();
            char *canon2 = NULL;
            if (icms__json_write(again, ICMS__JSON_CANONICAL, &canon2, NULL) != ICMS_OK ||
                strcmp(canon, canon2) != 0)
                abort();
            icms__free(canon2);
            cJSON_Delete(again);
            icms__free(canon);
        }
        char *plain = NULL;
        if (icms__json_write(doc, 0, &plain, NULL) == ICMS_OK)
            icms__free(plain);
        cJSON_Delete(doc);
    }

    int64_t ms;
    if (icms__time_parse(text, size, &ms) == ICMS_OK) {
        char out[ICMS_TIME_STRING_SIZE];
        int64_t back;
        if (icms__time_format(ms, out) != ICMS_OK ||
            icms__time_parse(out, strlen(out), &back) != ICMS_OK || back != ms)
            abort();
    }
    uint8_t id[ICMS_UUID_BYTES], id2[ICMS_UUID_BYTES];
    if (icms__uuid_parse(text, size, id) == ICMS_OK) {
        char out[ICMS_UUID_STRING_SIZE];
        icms__uuid_format(id, out);
        if (memcmp(out, text, 36) != 0 || icms__uuid_parse(out, 36, id2) != ICMS_OK ||
            memcmp(id, id2, 16) != 0)
            abort();
    }
    return 0;
}
