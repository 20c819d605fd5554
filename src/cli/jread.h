/*
 * A small JSON reader for what the CLI must look into: the library's answers
 * in the demo, and JSON-RPC requests reaching the simulated node. Numbers keep
 * their text, so an amount is read into an int64 exactly (never a double).
 */
#ifndef ICMS_CLI_JREAD_H
#define ICMS_CLI_JREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum jtype { J_NULL, J_BOOL, J_NUMBER, J_STRING, J_ARRAY, J_OBJECT } jtype;

typedef struct jval {
    jtype type;
    bool boolean;
    char *text;         /* J_STRING: decoded (NUL-terminated); J_NUMBER: as written */
    char *key;          /* member name when inside an object */
    struct jval *child; /* first element or member */
    struct jval *next;  /* next sibling */
} jval;

/* Parse exactly one JSON value (whitespace around it allowed); NULL when malformed or no memory. */
jval *jread_parse(const char *text, size_t len);
void jread_free(jval *v);

/* Member of an object, or NULL. */
const jval *jget(const jval *obj, const char *key);
/* A dotted path of members ("project.state"), or NULL. */
const jval *jpath(const jval *v, const char *path);
/* The string at key, or NULL when absent or not a string. */
const char *jstr(const jval *obj, const char *key);
/* The integer at key, exactly; false when absent, not an integer or out of int64. */
bool ji64(const jval *obj, const char *key, int64_t *out);
bool jval_i64(const jval *v, int64_t *out);
/* Element i of an array, or NULL; and the number of elements. */
const jval *jat(const jval *arr, size_t i);
size_t jlen(const jval *arr);

struct jbuf;
/* Write v back as JSON text into b (numbers as written, strings re-escaped). */
void jbuf_value(struct jbuf *b, const jval *v);

#endif
