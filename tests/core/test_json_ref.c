/*
 * The JSON reader and writer as they were before the fast rewrite (commit d7779e7), kept
 * verbatim apart from names so the differential test and fuzz target can check that the
 * new code gives the same trees, bytes, error codes and messages. Test code only: never
 * link this into the library.
 */
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "test_json_ref.h"

static bool continuation(uint8_t b)
{
    return (b & 0xc0) == 0x80;
}

static size_t ref_utf8_sequence(const uint8_t *s, size_t avail)
{
    if (avail == 0)
        return 0;
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c < 0xc2) /* a stray continuation byte, or an overlong two-byte form */
        return 0;
    if (c < 0xe0)
        return avail >= 2 && continuation(s[1]) ? 2 : 0;
    if (c < 0xf0) {
        if (avail < 3 || !continuation(s[2]))
            return 0;
        uint8_t lo = c == 0xe0 ? 0xa0 : 0x80; /* E0 80..9F would be overlong */
        uint8_t hi = c == 0xed ? 0x9f : 0xbf; /* ED A0..BF would be a surrogate */
        return s[1] >= lo && s[1] <= hi ? 3 : 0;
    }
    if (c < 0xf5) {
        if (avail < 4 || !continuation(s[2]) || !continuation(s[3]))
            return 0;
        uint8_t lo = c == 0xf0 ? 0x90 : 0x80; /* F0 80..8F would be overlong */
        uint8_t hi = c == 0xf4 ? 0x8f : 0xbf; /* F4 90.. would pass U+10FFFF */
        return s[1] >= lo && s[1] <= hi ? 4 : 0;
    }
    return 0;
}

static bool ref_utf8_valid(const char *s, size_t len)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    while (i < len) {
        if (p[i] < 0x80) { /* most text is ASCII: one comparison per byte */
            i++;
            continue;
        }
        size_t n = ref_utf8_sequence(p + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static size_t ref_utf8_encode(uint32_t cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}
static bool ref_literal_int64(const char *text, size_t len, int64_t *out)
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

static bool ref_literal_double(const char *text, size_t len, double *out)
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

static void ref_quote_key(const char *key, char *buf, size_t size)
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

#define EXACT_DOUBLE_MAX 9007199254740992.0 /* 2^53 */

static bool ref_int64(const cJSON *item, int64_t *out)
{
    if (!item)
        return false;
    if (cJSON_IsRaw(item))
        return item->valuestring &&
               ref_literal_int64(item->valuestring, strlen(item->valuestring), out);
    if (!cJSON_IsNumber(item))
        return false;
    if (item->valuestring) {
        /* The parsed literal, unless code changed the number since (then it is stale). */
        size_t len = strlen(item->valuestring);
        int64_t v;
        if (ref_literal_int64(item->valuestring, len, &v)) {
            if ((double)v == item->valuedouble) {
                *out = v;
                return true;
            }
        } else {
            double d;
            if (ref_literal_double(item->valuestring, len, &d) && d == item->valuedouble)
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
struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int depth;
    int max_depth;
};

/* Where pos is, as a 1-based line and byte column, for messages people act on. */
static void line_column(const struct parser *p, size_t pos, size_t *line, size_t *column)
{
    size_t l = 1, line_start = 0;
    for (size_t i = 0; i < pos && i < p->len; i++)
        if (p->text[i] == '\n') {
            l++;
            line_start = i + 1;
        }
    *line = l;
    *column = pos - line_start + 1;
}

static int syntax_error_at(const struct parser *p, size_t pos, const char *fmt, ...)
    ICMS__PRINTF(3, 4);

static int syntax_error_at(const struct parser *p, size_t pos, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t line, column;
    line_column(p, pos, &line, &column);
    return icms__error(ICMS_EINVALID, "invalid JSON at line %zu, column %zu: %s", line, column,
                       what);
}

#define SYNTAX(p, ...) syntax_error_at((p), (p)->pos, __VA_ARGS__)

static int no_memory(void)
{
    return icms__error(ICMS_ENOMEM, "out of memory reading JSON");
}

static void skip_whitespace(struct parser *p)
{
    while (p->pos < p->len) {
        char c = p->text[p->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        p->pos++;
    }
}

/* Words for the byte at pos in "unexpected ..." messages. */
static void describe_byte(const struct parser *p, char *buf, size_t size)
{
    if (p->pos >= p->len) {
        snprintf(buf, size, "end of input");
        return;
    }
    unsigned char c = (unsigned char)p->text[p->pos];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, size, "'%c'", c);
    else
        snprintf(buf, size, "byte 0x%02x", c);
}

static int unexpected(struct parser *p, const char *expected)
{
    char what[24];
    describe_byte(p, what, sizeof what);
    return SYNTAX(p, "expected %s, found %s", expected, what);
}

static int parse_value(struct parser *p, cJSON **out);

static int hex4(struct parser *p, size_t at, uint32_t *out)
{
    if (p->len - at < 4)
        return -1;
    uint32_t v = 0;
    for (size_t i = at; i < at + 4; i++) {
        char c = p->text[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

/*
 * Read a string starting at the opening quote into a NUL-terminated buffer
 * from cJSON_malloc (so a cJSON node can own it).
 */
static int parse_string(struct parser *p, char **out)
{
    size_t start = ++p->pos;
    /* Find the closing quote first: the raw length bounds the decoded length. */
    size_t end = start;
    while (end < p->len && p->text[end] != '"')
        end += p->text[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        p->pos = p->len;
        return SYNTAX(p, "unterminated string");
    }
    char *buf = cJSON_malloc(end - start + 1);
    if (!buf)
        return no_memory();
    size_t o = 0;
    int rc = ICMS_OK;
    while (p->pos < end) {
        unsigned char c = (unsigned char)p->text[p->pos];
        if (c < 0x20) {
            rc = SYNTAX(p, "control character 0x%02x must be escaped in a string", c);
            goto fail;
        }
        if (c >= 0x80) {
            size_t n = ref_utf8_sequence((const uint8_t *)p->text + p->pos, end - p->pos);
            if (n == 0) {
                rc = SYNTAX(p, "invalid UTF-8 in a string");
                goto fail;
            }
            memcpy(buf + o, p->text + p->pos, n);
            o += n;
            p->pos += n;
            continue;
        }
        if (c != '\\') {
            buf[o++] = (char)c;
            p->pos++;
            continue;
        }
        char e = p->text[p->pos + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            buf[o++] = decoded[simple - "\"\\/bfnrt"];
            p->pos += 2;
            continue;
        }
        if (e != 'u') {
            rc = SYNTAX(p, "invalid escape sequence in a string");
            goto fail;
        }
        uint32_t cp;
        if (hex4(p, p->pos + 2, &cp) != 0) {
            rc = SYNTAX(p, "\\u must be followed by four hex digits");
            goto fail;
        }
        if (cp >= 0xdc00 && cp <= 0xdfff) {
            rc = SYNTAX(p, "unpaired surrogate \\u%04x in a string", (unsigned)cp);
            goto fail;
        }
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (p->pos + 12 > end || p->text[p->pos + 6] != '\\' || p->text[p->pos + 7] != 'u' ||
                hex4(p, p->pos + 8, &low) != 0 || low < 0xdc00 || low > 0xdfff) {
                rc = SYNTAX(p, "unpaired surrogate \\u%04x in a string", (unsigned)cp);
                goto fail;
            }
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
            p->pos += 6;
        } else if (cp == 0) {
            rc = SYNTAX(p, "\\u0000 is not allowed in a string");
            goto fail;
        }
        o += ref_utf8_encode(cp, buf + o);
        p->pos += 6;
    }
    buf[o] = '\0';
    p->pos = end + 1;
    *out = buf;
    return ICMS_OK;
fail:
    cJSON_free(buf);
    return rc;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_number(struct parser *p, cJSON **out)
{
    size_t start = p->pos;
    const char *t = p->text;
    size_t i = start;
    if (t[i] == '-')
        i++;
    if (i >= p->len || !is_digit(t[i])) {
        p->pos = i;
        return unexpected(p, "a digit");
    }
    if (t[i] == '0' && i + 1 < p->len && is_digit(t[i + 1])) {
        p->pos = i;
        return SYNTAX(p, "numbers may not have leading zeros");
    }
    while (i < p->len && is_digit(t[i]))
        i++;
    if (i < p->len && t[i] == '.') {
        i++;
        if (i >= p->len || !is_digit(t[i])) {
            p->pos = i;
            return unexpected(p, "a digit after '.'");
        }
        while (i < p->len && is_digit(t[i]))
            i++;
    }
    if (i < p->len && (t[i] == 'e' || t[i] == 'E')) {
        i++;
        if (i < p->len && (t[i] == '+' || t[i] == '-'))
            i++;
        if (i >= p->len || !is_digit(t[i])) {
            p->pos = i;
            return unexpected(p, "a digit in the exponent");
        }
        while (i < p->len && is_digit(t[i]))
            i++;
    }
    size_t n = i - start;
    if (n > ICMS__JSON_NUMBER_MAX_LEN)
        return SYNTAX(p, "number is longer than %d characters", ICMS__JSON_NUMBER_MAX_LEN);
    double d;
    size_t digits = n - (t[start] == '-');
    if (digits <= 15 && memchr(t + start, '.', n) == NULL && memchr(t + start, 'e', n) == NULL &&
        memchr(t + start, 'E', n) == NULL) {
        /* A short integer (the common case: amounts, counts, times) is exact as a double. */
        int64_t v = 0;
        for (size_t k = start + (t[start] == '-'); k < i; k++)
            v = v * 10 + (t[k] - '0');
        d = t[start] == '-' ? -(double)v : (double)v;
    } else if (!ref_literal_double(t + start, n, &d)) {
        return SYNTAX(p, "number is out of range");
    }
    cJSON *node = cJSON_CreateNumber(d);
    if (!node)
        return no_memory();
    /* Keep the text: integers are read from it exactly (json.h). */
    node->valuestring = cJSON_malloc(n + 1);
    if (!node->valuestring) {
        cJSON_Delete(node);
        return no_memory();
    }
    memcpy(node->valuestring, t + start, n);
    node->valuestring[n] = '\0';
    p->pos = i;
    *out = node;
    return ICMS_OK;
}

static int parse_word(struct parser *p, const char *word, int type, cJSON **out)
{
    size_t n = strlen(word);
    if (p->len - p->pos < n || memcmp(p->text + p->pos, word, n) != 0)
        return unexpected(p, "a JSON value");
    cJSON *node = type == cJSON_True    ? cJSON_CreateTrue()
                  : type == cJSON_False ? cJSON_CreateFalse()
                                        : cJSON_CreateNull();
    if (!node)
        return no_memory();
    p->pos += n;
    *out = node;
    return ICMS_OK;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Refuse duplicate member names: readers disagree on which one wins. */
static int check_duplicates(struct parser *p, const cJSON *object, size_t count, size_t at)
{
    const char *dup = NULL;
    if (count <= 16) {
        for (const cJSON *a = object->child; a && !dup; a = a->next)
            for (const cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->string, b->string) == 0) {
                    dup = a->string;
                    break;
                }
    } else {
        char **names = icms__malloc(count * sizeof *names);
        if (!names)
            return no_memory();
        size_t n = 0;
        for (const cJSON *c = object->child; c; c = c->next)
            names[n++] = c->string;
        qsort(names, n, sizeof *names, compare_names);
        for (size_t i = 1; i < n && !dup; i++)
            if (strcmp(names[i - 1], names[i]) == 0)
                dup = names[i];
        icms__free(names);
    }
    if (!dup)
        return ICMS_OK;
    char quoted[48];
    ref_quote_key(dup, quoted, sizeof quoted);
    return syntax_error_at(p, at, "duplicate key \"%s\" in this object", quoted);
}

static int enter(struct parser *p)
{
    if (++p->depth > p->max_depth)
        return SYNTAX(p, "nesting is deeper than %d levels", p->max_depth);
    return ICMS_OK;
}

static int parse_object(struct parser *p, cJSON **out)
{
    size_t at = p->pos;
    int rc = enter(p);
    if (rc)
        return rc;
    cJSON *object = cJSON_CreateObject();
    if (!object)
        return no_memory();
    size_t count = 0;
    p->pos++;
    skip_whitespace(p);
    if (p->pos < p->len && p->text[p->pos] == '}') {
        p->pos++;
        goto done;
    }
    for (;;) {
        skip_whitespace(p);
        if (p->pos >= p->len || p->text[p->pos] != '"') {
            rc = unexpected(p, "a string key");
            goto fail;
        }
        char *key;
        if ((rc = parse_string(p, &key)) != ICMS_OK)
            goto fail;
        skip_whitespace(p);
        if (p->pos >= p->len || p->text[p->pos] != ':') {
            cJSON_free(key);
            rc = unexpected(p, "':' after a key");
            goto fail;
        }
        p->pos++;
        cJSON *value;
        if ((rc = parse_value(p, &value)) != ICMS_OK) {
            cJSON_free(key);
            goto fail;
        }
        value->string = key;                 /* cJSON_Delete frees it with the node */
        cJSON_AddItemToArray(object, value); /* appends; cannot fail for a fresh node */
        count++;
        skip_whitespace(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == '}') {
            p->pos++;
            break;
        }
        rc = unexpected(p, "',' or '}'");
        goto fail;
    }
    if ((rc = check_duplicates(p, object, count, at)) != ICMS_OK)
        goto fail;
done:
    p->depth--;
    *out = object;
    return ICMS_OK;
fail:
    cJSON_Delete(object);
    return rc;
}

static int parse_array(struct parser *p, cJSON **out)
{
    int rc = enter(p);
    if (rc)
        return rc;
    cJSON *array = cJSON_CreateArray();
    if (!array)
        return no_memory();
    p->pos++;
    skip_whitespace(p);
    if (p->pos < p->len && p->text[p->pos] == ']') {
        p->pos++;
        goto done;
    }
    for (;;) {
        cJSON *value;
        if ((rc = parse_value(p, &value)) != ICMS_OK)
            goto fail;
        cJSON_AddItemToArray(array, value);
        skip_whitespace(p);
        if (p->pos < p->len && p->text[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->text[p->pos] == ']') {
            p->pos++;
            break;
        }
        rc = unexpected(p, "',' or ']'");
        goto fail;
    }
done:
    p->depth--;
    *out = array;
    return ICMS_OK;
fail:
    cJSON_Delete(array);
    return rc;
}

static int parse_value(struct parser *p, cJSON **out)
{
    skip_whitespace(p);
    if (p->pos >= p->len)
        return unexpected(p, "a JSON value");
    char c = p->text[p->pos];
    switch (c) {
    case '{':
        return parse_object(p, out);
    case '[':
        return parse_array(p, out);
    case '"': {
        char *s;
        int rc = parse_string(p, &s);
        if (rc)
            return rc;
        /* A string node that owns s, without cJSON_CreateString's extra copy. */
        cJSON *node = cJSON_CreateNull();
        if (!node) {
            cJSON_free(s);
            return no_memory();
        }
        node->type = cJSON_String;
        node->valuestring = s;
        *out = node;
        return ICMS_OK;
    }
    case 't':
        return parse_word(p, "true", cJSON_True, out);
    case 'f':
        return parse_word(p, "false", cJSON_False, out);
    case 'n':
        return parse_word(p, "null", cJSON_NULL, out);
    default:
        if (c == '-' || is_digit(c))
            return parse_number(p, out);
        return unexpected(p, "a JSON value");
    }
}

int ref_json_parse(const char *text, size_t len, const icms__json_limits *limits, cJSON **out)
{
    static const icms__json_limits defaults = ICMS__JSON_LIMITS_DEFAULT;
    if (!out)
        return icms__error(ICMS_EINVALID, "json: out may not be NULL");
    *out = NULL;
    if (!text)
        return icms__error(ICMS_EINVALID, "json: text may not be NULL");
    if (!limits)
        limits = &defaults;
    if (limits->max_depth < 1 || limits->max_depth > ICMS__JSON_DEPTH_CAP)
        return icms__error(ICMS_EINVALID, "json: max_depth must be between 1 and %d",
                           ICMS__JSON_DEPTH_CAP);
    if (len > limits->max_bytes)
        return icms__error(ICMS_EINVALID, "JSON document is %zu bytes; the limit is %zu", len,
                           limits->max_bytes);
    struct parser p = {text, len, 0, 0, limits->max_depth};
    cJSON *root;
    int rc = parse_value(&p, &root);
    if (rc)
        return rc;
    skip_whitespace(&p);
    if (p.pos != p.len) {
        cJSON_Delete(root);
        return unexpected(&p, "the end of the document");
    }
    *out = root;
    return ICMS_OK;
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
                return icms__error(ICMS_ENOMEM, "out of memory building JSON");
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
    if (!ref_utf8_valid(s, len))
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
    if (ref_int64(item, &v)) {
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
        if (ref_literal_double(lit, strlen(lit), &parsed) && parsed == d)
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
                ref_quote_key(members[i]->string, quoted, sizeof quoted);
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

int ref_json_write(const cJSON *item, unsigned int flags, char **out, size_t *out_len)
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
