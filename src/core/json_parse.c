/*
 * A strict RFC 8259 reader that builds cJSON trees.
 *
 * cJSON's own parser is lenient where we cannot be: it accepts leading zeros,
 * raw control characters and invalid UTF-8 in strings, duplicate keys (the
 * first wins in one reader and the last in another, a classic way to smuggle
 * a field past validation), and it keeps numbers only as doubles. This reader
 * refuses all of that and keeps every number's text (see json.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "utf8.h"

/* Members whose key hashes are kept for the duplicate check; objects past this use qsort. */
#define KEY_STACK 128

struct parser {
    const char *text;
    size_t len;
    size_t pos;
    int depth;
    int max_depth;
    /*
     * Hashes of the keys of the objects being read, innermost object last: an
     * object pushes one per member and pops them when it ends. Duplicate keys
     * are then found by comparing hashes, and strings only when hashes match.
     */
    size_t nkeys;
    uint64_t keys[KEY_STACK];
    uint8_t table[2 * KEY_STACK]; /* open addressing over keys[]: index + 1, 0 = empty */
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

static inline bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static inline void skip_whitespace(struct parser *p)
{
    while (p->pos < p->len && is_space(p->text[p->pos]))
        p->pos++;
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
 * from cJSON_malloc (so a cJSON node can own it); *out_len gets its length.
 *
 * Most strings are plain ASCII: one scan finds the closing quote and the
 * bytes are copied with memcpy. Anything else (escapes, UTF-8, control
 * characters, no closing quote) takes the general path, which reports errors
 * in the same order as always: an unterminated string first, then the first
 * bad byte.
 */
static int parse_string(struct parser *p, char **out, size_t *out_len)
{
    const char *t = p->text;
    size_t start = ++p->pos;
    size_t i = icms__json_plain_run(t, start, p->len);
    if (i < p->len && t[i] == '"') {
        size_t n = i - start;
        char *buf = cJSON_malloc(n + 1);
        if (!buf)
            return no_memory();
        memcpy(buf, t + start, n);
        buf[n] = '\0';
        p->pos = i + 1;
        *out = buf;
        *out_len = n;
        return ICMS_OK;
    }
    /* Find the closing quote first: the raw length bounds the decoded length. */
    size_t end = i; /* [start, i) holds no quote or backslash */
    while (end < p->len && t[end] != '"')
        end += t[end] == '\\' ? 2 : 1;
    if (end >= p->len) {
        p->pos = p->len;
        return SYNTAX(p, "unterminated string");
    }
    char *buf = cJSON_malloc(end - start + 1);
    if (!buf)
        return no_memory();
    size_t o = i - start;
    memcpy(buf, t + start, o);
    p->pos = i;
    int rc = ICMS_OK;
    while (p->pos < end) {
        unsigned char c = (unsigned char)t[p->pos];
        if (icms__json_plain_byte(c)) {
            size_t run_end = icms__json_plain_run(t, p->pos, end);
            memcpy(buf + o, t + p->pos, run_end - p->pos);
            o += run_end - p->pos;
            p->pos = run_end;
            continue;
        }
        if (c < 0x20) {
            rc = SYNTAX(p, "control character 0x%02x must be escaped in a string", c);
            goto fail;
        }
        if (c >= 0x80) {
            size_t n = icms__utf8_sequence((const uint8_t *)t + p->pos, end - p->pos);
            if (n == 0) {
                rc = SYNTAX(p, "invalid UTF-8 in a string");
                goto fail;
            }
            memcpy(buf + o, t + p->pos, n);
            o += n;
            p->pos += n;
            continue;
        }
        if (c != '\\') { /* '"' cannot occur before end; kept as the old loop had it */
            buf[o++] = (char)c;
            p->pos++;
            continue;
        }
        char e = t[p->pos + 1];
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
            if (p->pos + 12 > end || t[p->pos + 6] != '\\' || t[p->pos + 7] != 'u' ||
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
        o += icms__utf8_encode(cp, buf + o);
        p->pos += 6;
    }
    buf[o] = '\0';
    p->pos = end + 1;
    *out = buf;
    *out_len = o;
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
    /* Accumulate as we go; used only when the literal is a short integer (no overflow). */
    uint64_t v = 0;
    while (i < p->len && is_digit(t[i]))
        v = v * 10 + (uint64_t)(t[i++] - '0');
    bool integer = true;
    if (i < p->len && t[i] == '.') {
        integer = false;
        i++;
        if (i >= p->len || !is_digit(t[i])) {
            p->pos = i;
            return unexpected(p, "a digit after '.'");
        }
        while (i < p->len && is_digit(t[i]))
            i++;
    }
    if (i < p->len && (t[i] == 'e' || t[i] == 'E')) {
        integer = false;
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
    if (digits <= 15 && integer) {
        /* A short integer (the common case: amounts, counts, times) is exact as a double. */
        d = t[start] == '-' ? -(double)v : (double)v;
    } else if (!icms__json_literal_double(t + start, n, &d)) {
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
    icms__json_quote_key(dup, quoted, sizeof quoted);
    return syntax_error_at(p, at, "duplicate key \"%s\" in this object", quoted);
}

/* A hash of a key's bytes for the duplicate check: its length and up to 24 of its bytes. */
static uint64_t key_hash(const char *s, size_t n)
{
    uint64_t a = 0, b = 0, c = 0;
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        if (n > 16)
            memcpy(&c, s + n / 2 - 4, 8);
    } else {
        for (size_t i = 0; i < n; i++)
            a = a << 8 | (unsigned char)s[i];
    }
    uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15u) ^ (c * 0xc2b2ae3d27d4eb4fu) ^ (uint64_t)n) *
                 0xff51afd7ed558ccdu;
    return h ^ (h >> 31);
}

/*
 * Whether two of the count hashes pushed since base are equal: only then can
 * the object have a duplicate key, and check_duplicates looks at the names.
 */
static bool hashes_collide(struct parser *p, size_t base, size_t count)
{
    const uint64_t *h = p->keys + base;
    if (count <= 8) {
        for (size_t i = 0; i < count; i++)
            for (size_t j = i + 1; j < count; j++)
                if (h[i] == h[j])
                    return true;
        return false;
    }
    size_t size = 32; /* a power of two, at least twice count: short probe chains */
    while (size < 2 * count)
        size *= 2;
    size_t mask = size - 1;
    memset(p->table, 0, size);
    for (size_t i = 0; i < count; i++) {
        size_t slot = (size_t)(h[i] >> 40) & mask;
        while (p->table[slot]) {
            if (h[p->table[slot] - 1] == h[i])
                return true;
            slot = (slot + 1) & mask;
        }
        p->table[slot] = (uint8_t)(i + 1);
    }
    return false;
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
    size_t base = p->nkeys; /* this object's key hashes start here */
    bool hashed = true;     /* false once the key stack is full: then compare names */
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
        size_t key_len;
        if ((rc = parse_string(p, &key, &key_len)) != ICMS_OK)
            goto fail;
        if (hashed && p->nkeys < KEY_STACK)
            p->keys[p->nkeys++] = key_hash(key, key_len);
        else
            hashed = false;
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
    if ((!hashed || hashes_collide(p, base, count)) &&
        (rc = check_duplicates(p, object, count, at)) != ICMS_OK)
        goto fail;
    p->nkeys = base;
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
        size_t n;
        int rc = parse_string(p, &s, &n);
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

int icms__json_parse(const char *text, size_t len, const icms__json_limits *limits, cJSON **out)
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
    struct parser p;
    p.text = text;
    p.len = len;
    p.pos = 0;
    p.depth = 0;
    p.max_depth = limits->max_depth;
    p.nkeys = 0;
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
