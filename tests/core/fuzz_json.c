/*
 * libFuzzer target for the core parsers: the strict JSON reader (then the
 * checker and the canonical writer on whatever it accepts), RFC 3339 and
 * UUID text. Properties checked beyond "no crash, no leak":
 *   - canonical output of an accepted document is accepted again, and
 *     writing it canonically again gives the same bytes;
 *   - a timestamp or id that parses formats back and parses to the same value.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised)
        initialised = icms_init() > 0;
    const char *text = (const char *)data;

    icms__json_limits limits = {4096, 16};
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
