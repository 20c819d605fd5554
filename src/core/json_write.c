/*
 * Building output documents with exact integers, and printing them compactly
 * or canonically (sorted keys) for hashing.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "int_text.h"
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
    char text[ICMS__INT64_TEXT_SIZE];
    icms__int64_text(v, text);
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

int icms__json_set(cJSON *object, const char *name, cJSON *item)
{
    if (!item)
        return no_memory();
    cJSON *old = cJSON_IsObject(object) ? (cJSON *)icms__json_get(object, name) : NULL;
    if (!old)
        return icms__json_add(object, name, item);
    /*
     * The old member's key moves to item, which takes its place; the old value
     * is freed. A key item already carries (a duplicated member) goes first.
     */
    if (item->string && !(item->type & cJSON_StringIsConst))
        cJSON_free(item->string);
    item->string = old->string;
    item->type = (item->type & ~cJSON_StringIsConst) | (old->type & cJSON_StringIsConst);
    old->string = NULL;
    cJSON_ReplaceItemViaPointer(object, old, item);
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

/*
 * The output buffer. data[len] is written only at the end: put copies bytes
 * and nothing else, and reserve keeps one byte free for the terminating NUL.
 */
struct buf {
    char *data;
    size_t len;
    size_t cap;
    /*
     * Canonical output: the members of the objects being written, sorted,
     * innermost object last (a stack shared by the nesting, so no object
     * allocates its own array unless the document is large).
     */
    const cJSON **members;
    size_t nmembers;
    size_t members_cap;
    const cJSON *members_inline[64];
};

#define BUF_INITIAL 1024 /* most records fit, so one allocation and no realloc */

/* Make room for n more bytes and the NUL, doubling the capacity. */
static int grow(struct buf *b, size_t n)
{
    size_t cap = b->cap ? b->cap : BUF_INITIAL;
    while (cap - b->len <= n)
        if (!icms__mul_size(cap, 2, &cap))
            return no_memory();
    char *data = icms__realloc(b->data, cap);
    if (!data)
        return ICMS_ENOMEM;
    b->data = data;
    b->cap = cap;
    return ICMS_OK;
}

static inline int reserve(struct buf *b, size_t n)
{
    return b->cap - b->len > n ? ICMS_OK : grow(b, n);
}

static inline int put(struct buf *b, const char *s, size_t n)
{
    int rc = reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return ICMS_OK;
}

static inline int put1(struct buf *b, char c)
{
    int rc = reserve(b, 1);
    if (rc)
        return rc;
    b->data[b->len++] = c;
    return ICMS_OK;
}

#define PUT_LITERAL(b, s) put((b), (s), sizeof(s) - 1)

/* Bytes written as they are (valid UTF-8 already checked): all but controls, '"' and '\\'. */
static inline bool verbatim(unsigned char c)
{
    return c >= 0x20 && c != '"' && c != '\\';
}

static int write_string(struct buf *b, const char *s)
{
    size_t len = strlen(s);
    /* Most strings are printable ASCII: find where that ends, 8 bytes at a time. */
    size_t i = icms__json_plain_run(s, 0, len);
    /* The ASCII prefix is valid on its own, so the rest decides (and is checked first). */
    if (i < len && !icms__utf8_valid(s + i, len - i))
        return icms__error(ICMS_EINVALID, "json: cannot write a string that is not valid UTF-8");
    int rc = reserve(b, len + 2);
    if (rc)
        return rc;
    char *o = b->data + b->len;
    *o++ = '"';
    memcpy(o, s, i);
    o += i;
    b->len = (size_t)(o - b->data);
    while (i < len) {
        size_t run = i;
        while (run < len && verbatim((unsigned char)s[run]))
            run++;
        /* room for the rest of the string as it is, the closing quote and one escape */
        if ((rc = reserve(b, len - i + 1 + 6)) != ICMS_OK)
            return rc;
        o = b->data + b->len;
        memcpy(o, s + i, run - i);
        o += run - i;
        i = run;
        if (i < len) {
            static const char hex[] = "0123456789abcdef";
            unsigned char c = (unsigned char)s[i++];
            *o++ = '\\';
            switch (c) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '\b':
                *o++ = 'b';
                break;
            case '\f':
                *o++ = 'f';
                break;
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            default: /* the other control bytes as \u00XX, lowercase as always */
                memcpy(o, "u00", 3);
                o[3] = hex[c >> 4];
                o[4] = hex[c & 0xf];
                o += 5;
            }
        }
        b->len = (size_t)(o - b->data);
    }
    b->data[b->len++] = '"'; /* reserved above */
    return ICMS_OK;
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
            return put(b, lit, strlen(lit));
    }
    format_double(d, text, sizeof text);
    return put(b, text, strlen(text));
}

/*
 * Sort members by key bytes (strcmp compares as unsigned char). Objects are
 * small and usually written in an order close to sorted, where insertion sort
 * does n - 1 comparisons; larger ones go to qsort.
 */
static int compare_members(const void *a, const void *b)
{
    return strcmp((*(const cJSON *const *)a)->string, (*(const cJSON *const *)b)->string);
}

#define SORT_INLINE 32 /* larger objects are sorted with qsort */

static void sort_members(const cJSON **m, size_t n)
{
    if (n > SORT_INLINE) {
        qsort(m, n, sizeof *m, compare_members);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = m[i];
        size_t j = i;
        while (j > 0 && strcmp(m[j - 1]->string, x->string) > 0) {
            m[j] = m[j - 1];
            j--;
        }
        m[j] = x;
    }
}

static int write_value(struct buf *b, const cJSON *item, unsigned int flags, int depth);

/* Room for count more members on the stack (b->members may move: callers index from it). */
static int grow_members(struct buf *b, size_t count)
{
    size_t need, cap = b->members_cap * 2;
    if (!icms__add_size(b->nmembers, count, &need))
        return no_memory();
    if (cap < need)
        cap = need;
    size_t bytes;
    if (!icms__mul_size(cap, sizeof *b->members, &bytes))
        return no_memory();
    const cJSON **m = icms__malloc(bytes);
    if (!m)
        return ICMS_ENOMEM;
    memcpy(m, b->members, b->nmembers * sizeof *m);
    if (b->members != b->members_inline)
        icms__free(b->members);
    b->members = m;
    b->members_cap = cap;
    return ICMS_OK;
}

static int write_member(struct buf *b, const cJSON *member, unsigned int flags, int depth,
                        bool first)
{
    int rc = first ? ICMS_OK : put1(b, ',');
    if (!rc)
        rc = write_string(b, member->string);
    if (!rc)
        rc = put1(b, ':');
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
    int rc = put1(b, '{');
    if (rc)
        return rc;
    if (!(flags & ICMS__JSON_CANONICAL) || count < 2) {
        bool first = true;
        for (const cJSON *c = object->child; c && !rc; c = c->next, first = false)
            rc = write_member(b, c, flags, depth, first);
    } else {
        size_t base = b->nmembers;
        if (b->members_cap - base < count && (rc = grow_members(b, count)) != ICMS_OK)
            return rc;
        size_t n = 0;
        for (const cJSON *c = object->child; c; c = c->next)
            b->members[base + n++] = c;
        sort_members(b->members + base, n);
        b->nmembers = base + n; /* nested objects stack theirs above */
        for (size_t i = 0; i < n && !rc; i++) {
            /* Index from b->members each time: a nested object may move the stack. */
            const cJSON *member = b->members[base + i];
            if (i > 0 && strcmp(b->members[base + i - 1]->string, member->string) == 0) {
                char quoted[48];
                icms__json_quote_key(member->string, quoted, sizeof quoted);
                rc = icms__error(ICMS_EINVALID, "json: duplicate key \"%s\"", quoted);
                break;
            }
            rc = write_member(b, member, flags, depth, i == 0);
        }
        b->nmembers = base;
    }
    return rc ? rc : put1(b, '}');
}

static int write_value(struct buf *b, const cJSON *item, unsigned int flags, int depth)
{
    if (depth >= ICMS__JSON_DEPTH_CAP)
        return icms__error(ICMS_EINVALID, "json: nesting is deeper than %d levels",
                           ICMS__JSON_DEPTH_CAP);
    switch (item->type & 0xff) {
    case cJSON_False:
        return PUT_LITERAL(b, "false");
    case cJSON_True:
        return PUT_LITERAL(b, "true");
    case cJSON_NULL:
        return PUT_LITERAL(b, "null");
    case cJSON_Number:
    case cJSON_Raw:
        return write_number(b, item, flags);
    case cJSON_String:
        if (!item->valuestring)
            return icms__error(ICMS_EINVALID, "json: a string node has no value");
        return write_string(b, item->valuestring);
    case cJSON_Array: {
        int rc = put1(b, '[');
        for (const cJSON *c = item->child; c && !rc; c = c->next) {
            if (c != item->child)
                rc = put1(b, ',');
            if (!rc)
                rc = write_value(b, c, flags, depth + 1);
        }
        return rc ? rc : put1(b, ']');
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
    struct buf b;
    b.data = NULL;
    b.len = b.cap = 0;
    b.members = b.members_inline;
    b.nmembers = 0;
    b.members_cap = sizeof b.members_inline / sizeof b.members_inline[0];
    int rc = write_value(&b, item, flags, 0);
    if (b.members != b.members_inline)
        icms__free(b.members);
    if (!rc)
        rc = reserve(&b, 0); /* a buffer for "" if nothing was written (cannot happen today) */
    if (rc) {
        icms__free(b.data);
        return rc;
    }
    b.data[b.len] = '\0'; /* reserve always leaves room for it */
    *out = b.data;
    if (out_len)
        *out_len = b.len;
    return ICMS_OK;
}
