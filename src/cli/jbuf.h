/*
 * A growing text buffer that writes JSON: what the CLI prints that is not the
 * library's own JSON (the gapcoin subcommands, the demo's steps). Integers are
 * written from int64/uint64 with printf, never through a double.
 *
 * Allocation failure is sticky: the buffer remembers it and jbuf_take answers
 * NULL, so callers check once at the end.
 */
#ifndef ICMS_CLI_JBUF_H
#define ICMS_CLI_JBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jbuf {
    char *text;
    size_t len;
    size_t cap;
    bool failed;
    bool need_comma; /* a value was written at this nesting level */
} jbuf;

void jbuf_init(jbuf *b);
void jbuf_free(jbuf *b);
/* The text (NUL-terminated, caller frees with free()), or NULL after a failure. */
char *jbuf_take(jbuf *b);

void jbuf_raw(jbuf *b, const char *text);
void jbuf_rawn(jbuf *b, const char *text, size_t len);
void jbuf_printf(jbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Structure: objects, arrays, keys (the comma bookkeeping is done here). */
void jbuf_obj_open(jbuf *b);
void jbuf_obj_close(jbuf *b);
void jbuf_arr_open(jbuf *b);
void jbuf_arr_close(jbuf *b);
void jbuf_key(jbuf *b, const char *key);

/* Values (in an array, or after jbuf_key). */
void jbuf_str(jbuf *b, const char *s);
void jbuf_strn(jbuf *b, const char *s, size_t len);
void jbuf_i64(jbuf *b, int64_t v);
void jbuf_u64(jbuf *b, uint64_t v);
void jbuf_bool(jbuf *b, bool v);
void jbuf_null(jbuf *b);
/* Already-valid JSON text (the library's answers) as a value. */
void jbuf_json(jbuf *b, const char *json);
/* Lowercase hex of bytes, as a string value. */
void jbuf_hex(jbuf *b, const uint8_t *bytes, size_t len);

/* Members: key and value in one call. */
void jbuf_kstr(jbuf *b, const char *key, const char *s);
void jbuf_ki64(jbuf *b, const char *key, int64_t v);
void jbuf_ku64(jbuf *b, const char *key, uint64_t v);
void jbuf_kbool(jbuf *b, const char *key, bool v);
void jbuf_khex(jbuf *b, const char *key, const uint8_t *bytes, size_t len);
void jbuf_kjson(jbuf *b, const char *key, const char *json);

/* Append s as a JSON string literal (quotes and escapes) to any buffer. */
void jbuf_quote(jbuf *b, const char *s, size_t len);

#endif
