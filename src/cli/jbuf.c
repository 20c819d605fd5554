/* The CLI's JSON writer: see jbuf.h. */
#include "jbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void jbuf_init(jbuf *b)
{
    memset(b, 0, sizeof *b);
}

void jbuf_free(jbuf *b)
{
    free(b->text);
    memset(b, 0, sizeof *b);
}

char *jbuf_take(jbuf *b)
{
    if (b->failed || !b->text) {
        jbuf_free(b);
        return NULL;
    }
    char *t = b->text;
    b->text = NULL;
    jbuf_free(b);
    return t;
}

static bool reserve(jbuf *b, size_t more)
{
    if (b->failed)
        return false;
    if (b->len + more + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1) {
        if (cap > SIZE_MAX / 2) {
            b->failed = true;
            return false;
        }
        cap *= 2;
    }
    char *t = realloc(b->text, cap);
    if (!t) {
        b->failed = true;
        return false;
    }
    b->text = t;
    b->cap = cap;
    return true;
}

void jbuf_rawn(jbuf *b, const char *text, size_t len)
{
    if (!reserve(b, len))
        return;
    memcpy(b->text + b->len, text, len);
    b->len += len;
    b->text[b->len] = '\0';
}

void jbuf_raw(jbuf *b, const char *text)
{
    jbuf_rawn(b, text, strlen(text));
}

void jbuf_printf(jbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n)) {
        b->failed = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->text + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* Before a value or a key: the comma that separates it from the previous one. */
static void sep(jbuf *b)
{
    if (b->need_comma)
        jbuf_raw(b, ",");
    b->need_comma = true;
}

void jbuf_obj_open(jbuf *b)
{
    sep(b);
    jbuf_raw(b, "{");
    b->need_comma = false;
}

void jbuf_obj_close(jbuf *b)
{
    jbuf_raw(b, "}");
    b->need_comma = true;
}

void jbuf_arr_open(jbuf *b)
{
    sep(b);
    jbuf_raw(b, "[");
    b->need_comma = false;
}

void jbuf_arr_close(jbuf *b)
{
    jbuf_raw(b, "]");
    b->need_comma = true;
}

void jbuf_quote(jbuf *b, const char *s, size_t len)
{
    jbuf_raw(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            jbuf_rawn(b, esc, 2);
        } else if (c == '\n') {
            jbuf_raw(b, "\\n");
        } else if (c == '\t') {
            jbuf_raw(b, "\\t");
        } else if (c == '\r') {
            jbuf_raw(b, "\\r");
        } else if (c < 0x20 || c == 0x7f) {
            jbuf_printf(b, "\\u%04x", c);
        } else {
            jbuf_rawn(b, (const char *)&s[i], 1);
        }
    }
    jbuf_raw(b, "\"");
}

void jbuf_key(jbuf *b, const char *key)
{
    sep(b);
    jbuf_quote(b, key, strlen(key));
    jbuf_raw(b, ":");
    b->need_comma = false;
}

void jbuf_strn(jbuf *b, const char *s, size_t len)
{
    sep(b);
    jbuf_quote(b, s, len);
}

void jbuf_str(jbuf *b, const char *s)
{
    if (!s) {
        jbuf_null(b);
        return;
    }
    jbuf_strn(b, s, strlen(s));
}

void jbuf_i64(jbuf *b, int64_t v)
{
    sep(b);
    jbuf_printf(b, "%" PRId64, v);
}

void jbuf_u64(jbuf *b, uint64_t v)
{
    sep(b);
    jbuf_printf(b, "%" PRIu64, v);
}

void jbuf_bool(jbuf *b, bool v)
{
    sep(b);
    jbuf_raw(b, v ? "true" : "false");
}

void jbuf_null(jbuf *b)
{
    sep(b);
    jbuf_raw(b, "null");
}

void jbuf_json(jbuf *b, const char *json)
{
    sep(b);
    jbuf_raw(b, json ? json : "null");
}

void jbuf_hex(jbuf *b, const uint8_t *bytes, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    sep(b);
    jbuf_raw(b, "\"");
    for (size_t i = 0; i < len; i++) {
        char two[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
        jbuf_rawn(b, two, 2);
    }
    jbuf_raw(b, "\"");
}

void jbuf_kstr(jbuf *b, const char *key, const char *s)
{
    jbuf_key(b, key);
    jbuf_str(b, s);
}

void jbuf_ki64(jbuf *b, const char *key, int64_t v)
{
    jbuf_key(b, key);
    jbuf_i64(b, v);
}

void jbuf_ku64(jbuf *b, const char *key, uint64_t v)
{
    jbuf_key(b, key);
    jbuf_u64(b, v);
}

void jbuf_kbool(jbuf *b, const char *key, bool v)
{
    jbuf_key(b, key);
    jbuf_bool(b, v);
}

void jbuf_khex(jbuf *b, const char *key, const uint8_t *bytes, size_t len)
{
    jbuf_key(b, key);
    jbuf_hex(b, bytes, len);
}

void jbuf_kjson(jbuf *b, const char *key, const char *json)
{
    jbuf_key(b, key);
    jbuf_json(b, json);
}
