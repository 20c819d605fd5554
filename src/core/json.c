/* Reading values out of cJSON trees exactly, and the number-literal helpers. */
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"

bool icms__json_literal_int64(const char *text, size_t len, int64_t *out)
{
    size_t i = 0;
    bool negative = false;
    if (i < len && text[i] == '-') {
        negative = true;
        i++;
    }
    if (i == len || text[i] < '0' || text[i] > '9')
        return false;
    if (text[i] == '0' && len - i > 1)
        return false; /* leading zero */
    if (len - i <= 18) {
        /* Up to 18 digits cannot overflow: no checked arithmetic (the common case). */
        uint64_t u = 0;
        for (; i < len; i++) {
            if (text[i] < '0' || text[i] > '9')
                return false;
            u = u * 10 + (uint64_t)(text[i] - '0');
        }
        *out = negative ? -(int64_t)u : (int64_t)u;
        return true;
    }
    /* Accumulate negatively: INT64_MIN has no positive counterpart. */
    int64_t v = 0;
    for (; i < len; i++) {
        if (text[i] < '0' || text[i] > '9')
            return false;
        if (!icms__mul_i64(v, 10, &v) || !icms__sub_i64(v, text[i] - '0', &v))
            return false;
    }
    if (!negative) {
        if (v == INT64_MIN)
            return false;
        v = -v;
    }
    *out = v;
    return true;
}

bool icms__json_literal_double(const char *text, size_t len, double *out)
{
    char buf[ICMS__JSON_NUMBER_MAX_LEN + 8];
    if (len >= sizeof buf)
        return false;
    memcpy(buf, text, len);
    buf[len] = '\0';
    /* strtod follows LC_NUMERIC; a host that set a locale with ',' must still read "1.5". */
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && point[1] == '\0') {
        char *dot = strchr(buf, '.');
        if (dot)
            *dot = point[0];
    }
    char *end;
    double d = strtod(buf, &end);
    if (end != buf + len || !isfinite(d))
        return false;
    *out = d;
    return true;
}

void icms__json_quote_key(const char *key, char *buf, size_t size)
{
    size_t limit = size - 4 < 40 ? size - 4 : 40;
    size_t o = 0, i = 0;
    for (; key[i] && o < limit; i++)
        buf[o++] = (unsigned char)key[i] < 0x20 || key[i] == 0x7f ? '?' : key[i];
    if (key[i]) {
        /* Cut before a UTF-8 sequence that did not fit whole. */
        if (((unsigned char)key[i] & 0xc0) == 0x80) {
            while (o > 0 && ((unsigned char)buf[o - 1] & 0xc0) == 0x80)
                o--;
            if (o > 0 && (unsigned char)buf[o - 1] >= 0xc0)
                o--;
        }
        buf[o++] = '.';
        buf[o++] = '.';
        buf[o++] = '.';
    }
    buf[o] = '\0';
}

const cJSON *icms__json_get(const cJSON *object, const char *name)
{
    if (!cJSON_IsObject(object) || !name)
        return NULL;
    /* Records have a few dozen members: the first byte settles most without a call. */
    for (const cJSON *c = object->child; c; c = c->next)
        if (c->string && c->string[0] == name[0] && strcmp(c->string, name) == 0)
            return c;
    return NULL;
}

const char *icms__json_get_string(const cJSON *object, const char *name)
{
    const cJSON *item = icms__json_get(object, name);
    return cJSON_IsString(item) ? item->valuestring : NULL;
}

const char *icms__json_number_text(const cJSON *item)
{
    if (!item || !item->valuestring)
        return NULL;
    if (cJSON_IsRaw(item)) {
        int64_t v;
        const char *t = item->valuestring;
        return icms__json_literal_int64(t, strlen(t), &v) ? t : NULL;
    }
    if (!cJSON_IsNumber(item))
        return NULL;
    double d;
    const char *t = item->valuestring;
    /* Text that no longer matches the double is stale: the number was changed in C. */
    if (!icms__json_literal_double(t, strlen(t), &d) || d != item->valuedouble)
        return NULL;
    return t;
}

#define EXACT_DOUBLE_MAX 9007199254740992.0 /* 2^53 */

bool icms__json_int64(const cJSON *item, int64_t *out)
{
    if (!item)
        return false;
    if (cJSON_IsRaw(item))
        return item->valuestring &&
               icms__json_literal_int64(item->valuestring, strlen(item->valuestring), out);
    if (!cJSON_IsNumber(item))
        return false;
    if (item->valuestring) {
        /* The parsed literal, unless code changed the number since (then it is stale). */
        size_t len = strlen(item->valuestring);
        int64_t v;
        if (icms__json_literal_int64(item->valuestring, len, &v)) {
            if ((double)v == item->valuedouble) {
                *out = v;
                return true;
            }
        } else {
            double d;
            if (icms__json_literal_double(item->valuestring, len, &d) && d == item->valuedouble)
                return false; /* written with a fraction or exponent, or beyond int64 */
        }
    }
    double d = item->valuedouble;
    if (!(d >= -EXACT_DOUBLE_MAX && d <= EXACT_DOUBLE_MAX)) /* NaN fails this too */
        return false;
    int64_t v = (int64_t)d;
    if ((double)v != d)
        return false;
    *out = v;
    return true;
}
