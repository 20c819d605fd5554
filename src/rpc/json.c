/*
 * JSON with exact numbers. cJSON hands numbers back only as doubles; amounts
 * and large integers must not pass through one. A small scanner rewrites each
 * number token as a marked string before cJSON sees the text, so every
 * number's digits survive exactly as the node wrote them.
 */
#include <string.h>

#include "core/core.h"
#include "rpc/rpc_internal.h"

/* A byte of a number token: a test, not strchr, since the scan runs over every answer twice. */
static bool number_char(char c)
{
    return (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.' || c == 'e' || c == 'E';
}

/* Rewrite into dst (when not NULL); returns the rewritten length, or 0 on a refused string. */
static size_t rewrite(const char *src, size_t len, char *dst, bool *refused)
{
    size_t o = 0;
    size_t i = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (dst)                                                                                   \
            dst[o] = (c);                                                                          \
        o++;                                                                                       \
    } while (0)
    while (i < len) {
        char c = src[i];
        if (c == '"') {
            /* A string, copied as is; one that starts with the marker would be mistaken for a number. */
            if (i + 1 < len && src[i + 1] == ICMS__JSON_NUMBER_MARK)
                *refused = true;
            if (i + 6 < len && src[i + 1] == '\\' && src[i + 2] == 'u' &&
                strncmp(src + i + 3, "0001", 4) == 0)
                *refused = true;
            PUT(c);
            i++;
            while (i < len && src[i] != '"') {
                /* A run of plain bytes (a raw transaction's hex is hundreds) is copied whole. */
                size_t run = i;
                while (run < len && src[run] != '"' && src[run] != '\\')
                    run++;
                if (dst)
                    memcpy(dst + o, src + i, run - i);
                o += run - i;
                i = run;
                if (i < len && src[i] == '\\') {
                    PUT(src[i]);
                    i++;
                    if (i < len) {
                        PUT(src[i]);
                        i++;
                    }
                }
            }
            if (i < len) {
                PUT(src[i]);
                i++;
            }
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            PUT('"');
            PUT(ICMS__JSON_NUMBER_MARK);
            while (i < len && number_char(src[i])) {
                PUT(src[i]);
                i++;
            }
            PUT('"');
        } else {
            PUT(c);
            i++;
        }
    }
#undef PUT
    return o;
}

int icms__json_parse_exact(const char *text, size_t len, cJSON **out)
{
    *out = NULL;
    bool refused = false;
    size_t need = rewrite(text, len, NULL, &refused);
    if (refused)
        return icms__error(ICMS_ETRANSPORT, "node answer holds a string starting with \\u0001");
    char *buf = icms__malloc(need + 1);
    if (!buf)
        return ICMS_ENOMEM;
    rewrite(text, len, buf, &refused);
    buf[need] = '\0';
    const char *end = NULL;
    /*
     * cJSON answers NULL both for bad text and for an allocation that failed;
     * icms__malloc (cJSON's allocator) records the latter as the last error,
     * which tells the two apart.
     */
    icms_error_clear();
    cJSON *root = cJSON_ParseWithLengthOpts(buf, need, &end, 0);
    if (!root && icms_error_last()->code == ICMS_ENOMEM) {
        icms__free(buf);
        return ICMS_ENOMEM;
    }
    /* One value and nothing after it but white space. */
    bool trailing = false;
    if (root && end)
        for (const char *q = end; q < buf + need && !trailing; q++)
            trailing = !(*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r');
    icms__free(buf);
    if (!root || trailing) {
        cJSON_Delete(root);
        return icms__error(ICMS_ETRANSPORT, "node answer is not valid JSON");
    }
    *out = root;
    return ICMS_OK;
}

const char *icms__json_number(const cJSON *item)
{
    if (!cJSON_IsString(item) || !item->valuestring ||
        item->valuestring[0] != ICMS__JSON_NUMBER_MARK)
        return NULL;
    return item->valuestring + 1;
}

bool icms__json_int(const cJSON *item, int64_t *out)
{
    const char *t = icms__json_number(item);
    if (!t)
        return false;
    bool negative = *t == '-';
    if (negative)
        t++;
    if (*t < '0' || *t > '9' || (*t == '0' && t[1] != '\0'))
        return false;
    uint64_t mag = 0;
    const uint64_t limit = negative ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
    for (; *t; t++) {
        if (*t < '0' || *t > '9')
            return false;
        uint64_t d = (uint64_t)(*t - '0');
        if (mag > (limit - d) / 10)
            return false;
        mag = mag * 10 + d;
    }
    if (negative)
        *out = mag == (uint64_t)INT64_MAX + 1u ? INT64_MIN : -(int64_t)mag;
    else
        *out = (int64_t)mag;
    return true;
}
