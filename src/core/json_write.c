/*
 * Building output documents with exact integers, and printing them compactly
 * or canonically (sorted keys) for hashing.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "rfc3339.h"
#include "utf8.h"
#include "uuid.h"

static int no_memory(void)
{
    return icms__error(ICMS_ENOMEM, "out of memory building JSON");
}

cJSON *icms__json_new_int64(int64_t v)
{
    char text[24];
    snprintf(text, sizeof text, "%" PRId64, v);
    cJSON *node = cJSON_CreateRaw(text);
    if (!node)
        no_memory();
    return node;
}

int icms__json_add(cJSON *container, const char *name, cJSON *item)
{
    if (!item)
        return no_memory(); /* the constructor that made item failed */
    if (!container || (name ? !cJSON_IsObject(container) : !cJSON_IsArray(container))) {
        cJSON_Delete(item);
        return icms__error(ICMS_EINVALID, "json: %s", name ? "not an object" : "not an array");
    }
    if (name) {
        if (!cJSON_AddItemToObject(container, name, item)) {
            cJSON_Delete(item);
            return no_memory();
        }
    } else if (!cJSON_AddItemToArray(container, item)) {
        cJSON_Delete(item);
        return no_memory();
    }
    return ICMS_OK;
}

int icms__json_add_int64(cJSON *object, const char *name, int64_t v)
{
    return icms__json_add(object, name, icms__json_new_int64(v));
}

int icms__json_add_string(cJSON *object, const char *name, const char *value)
{
    if (!value)
        return icms__error(ICMS_EINVALID, "json: the value of %s may not be NULL", name);
    return icms__json_add(object, name, cJSON_CreateString(value));
}

int icms__json_add_bool(cJSON *object, const char *name, bool value)
{
    return icms__json_add(object, name, cJSON_CreateBool(value));
}

int icms__json_add_null(cJSON *object, const char *name)
{
    return icms__json_add(object, name, cJSON_CreateNull());
}

int icms__json_add_time(cJSON *object, const char *name, int64_t ms)
{
    char text[ICMS_TIME_STRING_SIZE];
    int rc = icms__time_format(ms, text);
    if (rc)
        return rc;
    return icms__json_add_string(object, name, text);
}

int icms__json_add_uuid(cJSON *object, const char *name, const uint8_t id[ICMS_UUID_BYTES])
{
    char text[ICMS_UUID_STRING_SIZE];
    icms__uuid_format(id, text);
    return icms__json_add_string(object, name, text);
}

static int add_container(cJSON *object, const char *name, cJSON *item, cJSON **out)
{
    int rc = icms__json_add(object, name, item);
    if (out)
        *out = rc ? NULL : item;
    return rc;
}

int icms__json_add_object(cJSON *object, const char *name, cJSON **out)
{
    return add_container(object, name, cJSON_CreateObject(), out);
}

int icms__json_add_array(cJSON *object, const char *name, cJSON **out)
{
    return add_container(object, name, cJSON_CreateArray(), out);
}

/* ---- the writer ---- */

struct buf {
    char *data;
    size_t len;
    size_t cap;
};

static int put(struct buf *b, const char *s, size_t n)
{
    if (b->cap - b->len <= n) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len <= n)
            if (!icms__mul_size(cap, 2, &cap))
                return no_memory();
        char *data = icms__realloc(b->data, cap);
        if (!data)
            return ICMS_ENOMEM;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return ICMS_OK;
}

static int puts_(struct buf *b, const char *s)
{
    return put(b, s, strlen(s));
}

static int write_string(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    if (!icms__utf8_valid(s, len))
        return icms__error(ICMS_EINVALID, "json: cannot write a string that is not valid UTF-8");
    int rc = put(b, "\"", 1);
    size_t run = 0; /* bytes copied as they are, flushed in one go */
    for (size_t i = 0; i < len && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') {
            run++;
            continue;
        }
        rc = put(b, s + i - run, run);
        run = 0;
        if (rc)
            break;
        char esc[8];
        switch (c) {
        case '"':
            rc = puts_(b, "\\\"");
            break;
        case '\\':
            rc = puts_(b, "\\\\");
            break;
        case '\b':
            rc = puts_(b, "\\b");
            break;
        case '\f':
            rc = puts_(b, "\\f");
            break;
        case '\n':
            rc = puts_(b, "\\n");
            break;
        case '\r':
            rc = puts_(b, "\\r");
            break;
        case '\t':
            rc = puts_(b, "\\t");
            break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            rc = puts_(b, esc);
        }
    }
    if (!rc)
        rc = put(b, s + len - run, run);
    if (!rc)
        rc = put(b, "\"", 1);
    return rc;
}

/* The shortest "%.Ng" that reads back to d, with '.' whatever the locale. */
static void format_double(double d, char *out, size_t size)
{
    if (d == 0) {
        /* -0 would read back as the integer 0 and print as "0": print that at once. */
        snprintf(out, size, "0");
        return;
    }
    for (int precision = 15; precision <= 17; precision++) {
        snprintf(out, size, "%.*g", precision, d);
        if (strtod(out, NULL) == d) /* both in the current locale */
            break;
    }
    const char *point = localeconv()->decimal_point;
    if (point && point[0] && point[0] != '.' && point[1] == '\0') {
        char *p = strchr(out, point[0]);
        if (p)
            *p = '.';
    }
}

static int write_number(struct buf *b, const cJSON *item, unsigned int flags)
{
    int64_t v;
    char text[40];
    if (icms__json_int64(item, &v)) {
        /* Digits by hand: this runs for every amount of every record written. */
        uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        char *end = text + sizeof text, *p = end;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (v < 0)
            *--p = '-';
        return put(b, p, (size_t)(end - p));
    }
    if (cJSON_IsRaw(item))
        return icms__error(ICMS_EINVALID,
                           "json: raw values other than int64 integers cannot be written");
    double d = item->valuedouble;
    if (!isfinite(d))
        return icms__error(ICMS_EINVALID, "json: NaN and infinity cannot be written");
    if (!(flags & ICMS__JSON_CANONICAL) && item->valuestring) {
        /* The parsed text, unless the number was changed since. */
        double parsed;
        const char *lit = item->valuestring;
        if (icms__json_literal_double(lit, strlen(lit), &parsed) && parsed == d)
            return puts_(b, lit);
    }
    format_double(d, text, sizeof text);
    return puts_(b, text);
}

static int compare_members(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

static int write_value(struct buf *b, const cJSON *item, unsigned int flags, int depth);

static int write_member(struct buf *b, const cJSON *member, unsigned int flags, int depth,
                        bool first)
{
    int rc = first ? ICMS_OK : put(b, ",", 1);
    if (!rc)
        rc = write_string(b, member->string);
    if (!rc)
        rc = put(b, ":", 1);
    if (!rc)
        rc = write_value(b, member, flags, depth);
    return rc;
}

static int write_object(struct buf *b, const cJSON *object, unsigned int flags, int depth)
{
    size_t count = 0;
    for (const cJSON *c = object->child; c; c = c->next) {
        if (!c->string)
            return icms__error(ICMS_EINVALID, "json: an object member has no name");
        count++;
    }
    int rc = put(b, "{", 1);
    if (rc)
        return rc;
    if (!(flags & ICMS__JSON_CANONICAL) || count < 2) {
        bool first = true;
        for (const cJSON *c = object->child; c && !rc; c = c->next, first = false)
            rc = write_member(b, c, flags, depth, first);
    } else {
        const cJSON **members = icms__malloc(count * sizeof *members);
        if (!members)
            return ICMS_ENOMEM;
        size_t n = 0;
        for (const cJSON *c = object->child; c; c = c->next)
            members[n++] = c;
        qsort(members, n, sizeof *members, compare_members);
        for (size_t i = 0; i < n && !rc; i++) {
            if (i > 0 && strcmp(members[i - 1]->string, members[i]->string) == 0) {
                char quoted[48];
                icms__json_quote_key(members[i]->string, quoted, sizeof quoted);
                rc = icms__error(ICMS_EINVALID, "json: duplicate key \"%s\"", quoted);
                break;
            }
            rc = write_member(b, members[i], flags, depth, i == 0);
        }
        icms__free(members);
    }
    return rc ? rc : put(b, "}", 1);
}

static int write_value(struct buf *b, const cJSON *item, unsigned int flags, int depth)
{
    if (depth >= ICMS__JSON_DEPTH_CAP)
        return icms__error(ICMS_EINVALID, "json: nesting is deeper than %d levels",
                           ICMS__JSON_DEPTH_CAP);
    switch (item->type & 0xff) {
    case cJSON_False:
        return puts_(b, "false");
    case cJSON_True:
        return puts_(b, "true");
    case cJSON_NULL:
        return puts_(b, "null");
    case cJSON_Number:
    case cJSON_Raw:
        return write_number(b, item, flags);
    case cJSON_String:
        if (!item->valuestring)
            return icms__error(ICMS_EINVALID, "json: a string node has no value");
        return write_string(b, item->valuestring);
    case cJSON_Array: {
        int rc = put(b, "[", 1);
        for (const cJSON *c = item->child; c && !rc; c = c->next) {
            if (c != item->child)
                rc = put(b, ",", 1);
            if (!rc)
                rc = write_value(b, c, flags, depth + 1);
        }
        return rc ? rc : put(b, "]", 1);
    }
    case cJSON_Object:
        return write_object(b, item, flags, depth + 1);
    default:
        return icms__error(ICMS_EINVALID, "json: cannot write a node of type %d", item->type);
    }
}

int icms__json_write(const cJSON *item, unsigned int flags, char **out, size_t *out_len)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "json: out may not be NULL");
    *out = NULL;
    if (!item)
        return icms__error(ICMS_EINVALID, "json: item may not be NULL");
    if (flags & ~ICMS__JSON_CANONICAL)
        return icms__error(ICMS_EINVALID, "json: unknown flags 0x%x", flags);
    struct buf b = {NULL, 0, 0};
    int rc = write_value(&b, item, flags, 0);
    if (rc) {
        icms__free(b.data);
        return rc;
    }
    *out = b.data;
    if (out_len)
        *out_len = b.len;
    return ICMS_OK;
}
