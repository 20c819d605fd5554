/* A small JSON reader: see jread.h. Depth is bounded, so hostile input cannot exhaust the stack. */
#include "jread.h"

#include "jbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

typedef struct reader {
    const char *s;
    size_t len;
    size_t pos;
} reader;

static void skip_ws(reader *r)
{
    while (r->pos < r->len && (r->s[r->pos] == ' ' || r->s[r->pos] == '\t' ||
                               r->s[r->pos] == '\n' || r->s[r->pos] == '\r'))
        r->pos++;
}

static bool lit(reader *r, const char *word)
{
    size_t n = strlen(word);
    if (r->len - r->pos < n || memcmp(r->s + r->pos, word, n) != 0)
        return false;
    r->pos += n;
    return true;
}

static int hex4(reader *r, unsigned *out)
{
    if (r->len - r->pos < 4)
        return -1;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = r->s[r->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xc0 | cp >> 6);
        o[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xe0 | cp >> 12);
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | cp >> 18);
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string literal at r->pos (the opening quote), decoded into a new allocation. */
static char *parse_string(reader *r)
{
    r->pos++; /* the quote */
    /* decoded text is never longer than the literal */
    size_t start = r->pos;
    size_t end = start;
    while (end < r->len && r->s[end] != '"') {
        if (r->s[end] == '\\')
            end++;
        end++;
    }
    if (end >= r->len)
        return NULL;
    char *out = malloc(end - start + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    while (r->pos < end) {
        unsigned char c = (unsigned char)r->s[r->pos++];
        if (c < 0x20)
            goto bad;
        if (c != '\\') {
            out[o++] = (char)c;
            continue;
        }
        char e = r->s[r->pos++];
        unsigned cp;
        switch (e) {
        case '"':
            out[o++] = '"';
            break;
        case '\\':
            out[o++] = '\\';
            break;
        case '/':
            out[o++] = '/';
            break;
        case 'b':
            out[o++] = '\b';
            break;
        case 'f':
            out[o++] = '\f';
            break;
        case 'n':
            out[o++] = '\n';
            break;
        case 'r':
            out[o++] = '\r';
            break;
        case 't':
            out[o++] = '\t';
            break;
        case 'u':
            if (hex4(r, &cp) < 0)
                goto bad;
            if (cp >= 0xd800 && cp < 0xdc00) {
                unsigned lo;
                if (r->pos + 2 > end || r->s[r->pos] != '\\' || r->s[r->pos + 1] != 'u')
                    goto bad;
                r->pos += 2;
                if (hex4(r, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff)
                    goto bad;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000) {
                goto bad;
            }
            /* \u0000 would cut the C string: refuse it */
            if (cp == 0)
                goto bad;
            o += put_utf8(out + o, cp);
            break;
        default:
            goto bad;
        }
    }
    r->pos = end + 1;
    out[o] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static char *parse_number(reader *r)
{
    size_t start = r->pos;
    if (r->pos < r->len && r->s[r->pos] == '-')
        r->pos++;
    if (r->pos >= r->len || !is_digit(r->s[r->pos]))
        return NULL;
    if (r->s[r->pos] == '0')
        r->pos++;
    else
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    if (r->pos < r->len && r->s[r->pos] == '.') {
        r->pos++;
        if (r->pos >= r->len || !is_digit(r->s[r->pos]))
            return NULL;
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    }
    if (r->pos < r->len && (r->s[r->pos] == 'e' || r->s[r->pos] == 'E')) {
        r->pos++;
        if (r->pos < r->len && (r->s[r->pos] == '+' || r->s[r->pos] == '-'))
            r->pos++;
        if (r->pos >= r->len || !is_digit(r->s[r->pos]))
            return NULL;
        while (r->pos < r->len && is_digit(r->s[r->pos]))
            r->pos++;
    }
    size_t n = r->pos - start;
    char *t = malloc(n + 1);
    if (t) {
        memcpy(t, r->s + start, n);
        t[n] = '\0';
    }
    return t;
}

static jval *parse_value(reader *r, int depth);

/* Elements of an array or members of an object, up to the closing bracket. */
static bool parse_items(reader *r, jval *parent, int depth, char close)
{
    jval **tail = &parent->child;
    skip_ws(r);
    if (r->pos < r->len && r->s[r->pos] == close) {
        r->pos++;
        return true;
    }
    for (;;) {
        char *key = NULL;
        skip_ws(r);
        if (close == '}') {
            if (r->pos >= r->len || r->s[r->pos] != '"' || !(key = parse_string(r)))
                return false;
            skip_ws(r);
            if (r->pos >= r->len || r->s[r->pos] != ':') {
                free(key);
                return false;
            }
            r->pos++;
        }
        jval *item = parse_value(r, depth + 1);
        if (!item) {
            free(key);
            return false;
        }
        item->key = key;
        *tail = item;
        tail = &item->next;
        skip_ws(r);
        if (r->pos >= r->len)
            return false;
        char c = r->s[r->pos++];
        if (c == close)
            return true;
        if (c != ',')
            return false;
    }
}

static jval *parse_value(reader *r, int depth)
{
    if (depth > MAX_DEPTH)
        return NULL;
    skip_ws(r);
    if (r->pos >= r->len)
        return NULL;
    jval *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    char c = r->s[r->pos];
    bool ok = true;
    if (c == '{' || c == '[') {
        r->pos++;
        v->type = c == '{' ? J_OBJECT : J_ARRAY;
        ok = parse_items(r, v, depth, c == '{' ? '}' : ']');
    } else if (c == '"') {
        v->type = J_STRING;
        ok = (v->text = parse_string(r)) != NULL;
    } else if (c == '-' || is_digit(c)) {
        v->type = J_NUMBER;
        ok = (v->text = parse_number(r)) != NULL;
    } else if (lit(r, "true")) {
        v->type = J_BOOL;
        v->boolean = true;
    } else if (lit(r, "false")) {
        v->type = J_BOOL;
    } else if (lit(r, "null")) {
        v->type = J_NULL;
    } else {
        ok = false;
    }
    if (!ok) {
        jread_free(v);
        return NULL;
    }
    return v;
}

jval *jread_parse(const char *text, size_t len)
{
    if (!text)
        return NULL;
    reader r = {text, len, 0};
    jval *v = parse_value(&r, 0);
    skip_ws(&r);
    if (v && r.pos != r.len) {
        jread_free(v);
        return NULL;
    }
    return v;
}

void jread_free(jval *v)
{
    while (v) {
        jval *next = v->next;
        jread_free(v->child);
        free(v->text);
        free(v->key);
        free(v);
        v = next;
    }
}

const jval *jget(const jval *obj, const char *key)
{
    if (!obj || obj->type != J_OBJECT)
        return NULL;
    const jval *found = NULL;
    for (const jval *m = obj->child; m; m = m->next)
        if (strcmp(m->key, key) == 0)
            found = m; /* the last duplicate wins, as most parsers do */
    return found;
}

const jval *jpath(const jval *v, const char *path)
{
    char part[128];
    while (v && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        if (n >= sizeof part)
            return NULL;
        memcpy(part, path, n);
        part[n] = '\0';
        v = jget(v, part);
        path += n + (dot ? 1 : 0);
    }
    return v;
}

const char *jstr(const jval *obj, const char *key)
{
    const jval *v = jpath(obj, key);
    return v && v->type == J_STRING ? v->text : NULL;
}

bool jval_i64(const jval *v, int64_t *out)
{
    if (!v || v->type != J_NUMBER || strpbrk(v->text, ".eE"))
        return false;
    errno = 0;
    char *end = NULL;
    long long n = strtoll(v->text, &end, 10);
    if (errno || *end)
        return false;
    *out = (int64_t)n;
    return true;
}

bool ji64(const jval *obj, const char *key, int64_t *out)
{
    return jval_i64(jpath(obj, key), out);
}

const jval *jat(const jval *arr, size_t i)
{
    if (!arr || (arr->type != J_ARRAY && arr->type != J_OBJECT))
        return NULL;
    const jval *e = arr->child;
    while (e && i--)
        e = e->next;
    return e;
}

size_t jlen(const jval *arr)
{
    size_t n = 0;
    if (arr && (arr->type == J_ARRAY || arr->type == J_OBJECT))
        for (const jval *e = arr->child; e; e = e->next)
            n++;
    return n;
}

void jbuf_value(jbuf *b, const jval *v)
{
    switch (v->type) {
    case J_NULL:
        jbuf_null(b);
        break;
    case J_BOOL:
        jbuf_bool(b, v->boolean);
        break;
    case J_NUMBER:
        jbuf_json(b, v->text);
        break;
    case J_STRING:
        jbuf_str(b, v->text);
        break;
    case J_ARRAY:
    case J_OBJECT:
        if (v->type == J_ARRAY)
            jbuf_arr_open(b);
        else
            jbuf_obj_open(b);
        for (const jval *e = v->child; e; e = e->next) {
            if (v->type == J_OBJECT)
                jbuf_key(b, e->key);
            jbuf_value(b, e);
        }
        if (v->type == J_ARRAY)
            jbuf_arr_close(b);
        else
            jbuf_obj_close(b);
        break;
    }
}
