/*
 * Strict JSON for every command that takes or produces a JSON document.
 *
 * Parsing: icms__json_parse reads RFC 8259 JSON into a cJSON tree with our own
 * strict reader (cJSON's parser accepts "01", raw control characters, invalid
 * UTF-8 and duplicate keys, and loses integer precision). It refuses input
 * over a byte limit before reading it, nesting deeper than a limit, duplicate
 * keys, invalid UTF-8, unpaired surrogates and "\u0000".
 *
 * Exact integers: cJSON keeps numbers as doubles, which cannot hold every
 * int64. The reader therefore keeps each number's original text in the
 * number node's valuestring (cJSON's printer ignores it; cJSON_Delete and
 * cJSON_Duplicate free and copy it). icms__json_int64 reads integers from
 * that text, so every int64 survives exactly; a number whose text is not a
 * plain integer ("1.0", "1e2") is not an integer. Numbers built in C should
 * be made with icms__json_new_int64 / icms__json_add_int64, which store the
 * exact decimal text as a cJSON raw node. If code changes a parsed number
 * with cJSON_SetNumberValue, the stale text is detected (it no longer matches
 * valuedouble) and the double is used, accepted as an integer only up to 2^53.
 *
 * Validation: icms__json_check compares a parsed document with a declarative
 * field table; every refusal is ICMS_EINVALID with a message that starts with
 * the field's path ("products[2].unit_price: must be an integer between 0 and
 * 9223372036854775807").
 *
 * Output: print with icms__json_write, never cJSON_Print*: cJSON prints a
 * parsed number from its double, so an integer above 2^53 would come out
 * changed. icms__json_write prints compact JSON with exact integers;
 * ICMS__JSON_CANONICAL also sorts object keys by their UTF-8 bytes, so the
 * same tree always gives the same bytes (the audit chain hashes this form).
 */
#ifndef ICMS_SRC_JSON_H
#define ICMS_SRC_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "icms/util.h"

/* ---- parsing ---- */

typedef struct icms__json_limits {
    size_t max_bytes; /* longer input is refused before it is read */
    int max_depth;    /* objects/arrays nested deeper are refused; 1..ICMS__JSON_DEPTH_CAP */
} icms__json_limits;

/* clang-format off */
#define ICMS__JSON_MAX_BYTES_DEFAULT ((size_t)1024 * 1024)
#define ICMS__JSON_MAX_DEPTH_DEFAULT 32
#define ICMS__JSON_DEPTH_CAP 256 /* the reader and writer recurse; this bounds their stack */
#define ICMS__JSON_NUMBER_MAX_LEN 64 /* longer number literals are refused */
#define ICMS__JSON_LIMITS_DEFAULT {ICMS__JSON_MAX_BYTES_DEFAULT, ICMS__JSON_MAX_DEPTH_DEFAULT}
/* clang-format on */

/*
 * Parse len bytes of text (need not be NUL-terminated) into *out, which the
 * caller frees with cJSON_Delete. limits NULL means the defaults. Errors:
 * ICMS_EINVALID ("invalid JSON at line 3, column 14: expected ',' or '}'",
 * "JSON document is 2000000 bytes; the limit is 1048576", ...), ICMS_ENOMEM.
 */
int icms__json_parse(const char *text, size_t len, const icms__json_limits *limits, cJSON **out);

/* ---- validation ---- */

typedef enum icms__json_kind_t {
    ICMS__JSON_STRING,  /* min/max: length in bytes */
    ICMS__JSON_INTEGER, /* min/max: the value's range */
    ICMS__JSON_BOOLEAN,
    ICMS__JSON_OBJECT, /* object: its field table, or NULL for any object */
    ICMS__JSON_ARRAY,  /* min/max: number of items; items: each item, or NULL for anything */
    ICMS__JSON_ANY     /* any JSON value, null included */
} icms__json_kind_t;

/* Field flags. */
#define ICMS__JSON_REQUIRED 0x1u /* absence is an error */
#define ICMS__JSON_NULLABLE 0x2u /* JSON null is accepted in place of the kind */

/* Formats a string must also have. */
typedef enum icms__json_format_t {
    ICMS__JSON_FMT_NONE = 0,
    ICMS__JSON_FMT_UUID, /* a libicms id: icms_uuid_parse accepts it */
    ICMS__JSON_FMT_TIME  /* RFC 3339: icms_time_parse accepts it */
} icms__json_format_t;

struct icms__json_schema;

typedef struct icms__json_field {
    const char *name; /* ignored for array items */
    icms__json_kind_t kind;
    unsigned int flags;
    int64_t min;
    int64_t max;
    icms__json_format_t format;             /* strings only */
    const char *const *one_of;              /* strings only: NULL-terminated allowed values */
    const struct icms__json_schema *object; /* objects only */
    const struct icms__json_field *items;   /* arrays only */
    /*
     * A further check after the kind's: return 0, or record an error with
     * icms__error and return its code; the checker puts the field's path in
     * front of the message.
     */
    int (*check)(const cJSON *value);
} icms__json_field;

/* An object's fields. Members not in the table are refused. */
typedef struct icms__json_schema {
    const icms__json_field *fields;
    size_t count;
} icms__json_schema;

/* clang-format off */
#define ICMS__JSON_SCHEMA(table) {(table), sizeof(table) / sizeof((table)[0])}

/* Shorthands for the common field shapes; write the initializer out for the rest. */
#define ICMS__JSON_F_STRING(n, fl, lo, hi)                                                         \
    {.name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = (lo), .max = (hi)}
#define ICMS__JSON_F_ENUM(n, fl, values)                                                           \
    {.name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = 0, .max = INT64_MAX,          \
     .one_of = (values)}
#define ICMS__JSON_F_UUID(n, fl)                                                                   \
    {.name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = 0, .max = INT64_MAX,          \
     .format = ICMS__JSON_FMT_UUID}
#define ICMS__JSON_F_TIME(n, fl)                                                                   \
    {.name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = 0, .max = INT64_MAX,          \
     .format = ICMS__JSON_FMT_TIME}
#define ICMS__JSON_F_INT(n, fl, lo, hi)                                                            \
    {.name = (n), .kind = ICMS__JSON_INTEGER, .flags = (fl), .min = (lo), .max = (hi)}
#define ICMS__JSON_F_BOOL(n, fl) {.name = (n), .kind = ICMS__JSON_BOOLEAN, .flags = (fl)}
#define ICMS__JSON_F_OBJECT(n, fl, schema)                                                         \
    {.name = (n), .kind = ICMS__JSON_OBJECT, .flags = (fl), .object = (schema)}
#define ICMS__JSON_F_ARRAY(n, fl, lo, hi, item)                                                    \
    {.name = (n), .kind = ICMS__JSON_ARRAY, .flags = (fl), .min = (lo), .max = (hi),             \
     .items = (item)}
#define ICMS__JSON_F_ANY(n, fl) {.name = (n), .kind = ICMS__JSON_ANY, .flags = (fl)}
/* clang-format on */

/*
 * Check that doc is an object matching schema (recursively). Allocates
 * nothing. Errors: ICMS_EINVALID with the path of the first offending field.
 */
int icms__json_check(const cJSON *doc, const icms__json_schema *schema);

/* Check one value against one field description; path names it in messages. */
int icms__json_check_value(const cJSON *value, const icms__json_field *field, const char *path);

/* icms__json_parse then icms__json_check; *out is set only when both pass. */
int icms__json_parse_checked(const char *text, size_t len, const icms__json_limits *limits,
                             const icms__json_schema *schema, cJSON **out);

/* ---- reading ---- */

/* The member called name (case-sensitive, unlike cJSON_GetObjectItem), or NULL. */
const cJSON *icms__json_get(const cJSON *object, const char *name);

/*
 * True, with *out set, when item is an exact integer: a parsed number written
 * as a plain integer that fits int64, a node made by icms__json_new_int64, or
 * a number built in C whose double is integral and within +-2^53.
 */
bool icms__json_int64(const cJSON *item, int64_t *out);

/*
 * The number's text exactly as the document wrote it ("1.50000000"), for
 * decimals that must not pass through a double (Gapcoin RPC amounts); the
 * decimal text of an icms__json_new_int64 node; NULL for anything else,
 * including numbers built or changed in C. Borrowed from item.
 */
const char *icms__json_number_text(const cJSON *item);

/* The string value of member name, or NULL when absent or not a string. */
const char *icms__json_get_string(const cJSON *object, const char *name);

/* ---- building ---- (each records ICMS_ENOMEM on failure) */

/* A number node holding v exactly (a cJSON raw node with v's decimal text), or NULL. */
cJSON *icms__json_new_int64(int64_t v);

/*
 * Add item to an object under name (copied), or to an array when name is
 * NULL. Takes ownership of item whatever happens: on failure it is freed.
 */
int icms__json_add(cJSON *container, const char *name, cJSON *item);

/*
 * Set member name of object to item: in place of the member it replaces (so a
 * record's members keep their order and nothing is searched twice), or added
 * when absent. Takes ownership of item whatever happens.
 */
int icms__json_set(cJSON *object, const char *name, cJSON *item);

int icms__json_add_int64(cJSON *object, const char *name, int64_t v);
int icms__json_add_string(cJSON *object, const char *name, const char *value);
int icms__json_add_bool(cJSON *object, const char *name, bool value);
int icms__json_add_null(cJSON *object, const char *name);
/* RFC 3339 text of ms; ICMS_EINVALID when ms is outside years 0001..9999. */
int icms__json_add_time(cJSON *object, const char *name, int64_t ms);
/* Canonical text of a 16-byte id. */
int icms__json_add_uuid(cJSON *object, const char *name, const uint8_t id[ICMS_UUID_BYTES]);
/* A new empty object or array added under name; *out is borrowed from object. */
int icms__json_add_object(cJSON *object, const char *name, cJSON **out);
int icms__json_add_array(cJSON *object, const char *name, cJSON **out);

/* ---- writing ---- */

#define ICMS__JSON_CANONICAL 0x1u /* sort object keys by UTF-8 bytes */

/*
 * Print item as compact JSON (no whitespace) into *out, NUL-terminated,
 * allocated with icms__malloc (free with icms__free); *out_len (may be NULL)
 * gets its length. Integers print exactly. With ICMS__JSON_CANONICAL, keys
 * are sorted and other numbers print as the shortest text that reads back to
 * the same double; without it, parsed numbers print as they were written.
 * Errors: ICMS_EINVALID (a string that is not UTF-8, NaN or infinity, a
 * duplicate key when sorting, nesting over ICMS__JSON_DEPTH_CAP, a raw node
 * that is not an integer), ICMS_ENOMEM.
 */
int icms__json_write(const cJSON *item, unsigned int flags, char **out, size_t *out_len);

/* ---- shared by the json_*.c files ---- */

/* Parse a strict JSON integer literal (-?(0|[1-9][0-9]*)) that fits int64. */
bool icms__json_literal_int64(const char *text, size_t len, int64_t *out);

/* A valid JSON number literal as a double (locale-independent); false if not finite. */
bool icms__json_literal_double(const char *text, size_t len, double *out);

/* Copy key into buf (size > 8) for a message: at most ~40 bytes, control bytes as '?'. */
void icms__json_quote_key(const char *key, char *buf, size_t size);

/*
 * String scanning for the reader and writer. A plain byte is one a JSON string
 * holds as it is, needing neither escape nor UTF-8 check: printable ASCII
 * (0x20..0x7f) other than '"' and '\\'.
 */
static inline bool icms__json_plain_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
}

/*
 * The bytes of v that are not plain, as the high bit of each such byte. Each
 * term is the "some byte is below n" test of the bit-twiddling folklore: it
 * is exact about whether any byte matches, and the lowest flagged byte always
 * matches (a false flag needs a borrow from a matching byte below it).
 */
static inline uint64_t icms__json_special_bytes(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101u, high = 0x8080808080808080u;
    uint64_t quote = v ^ (ones * '"'), backslash = v ^ (ones * '\\');
    uint64_t t = ((v - ones * 0x20) & ~v) | ((quote - ones) & ~quote) |
                 ((backslash - ones) & ~backslash) | v;
    return t & high;
}

/* The first index in [i, end) whose byte is not plain, or end; 8 bytes at a time. */
static inline size_t icms__json_plain_run(const char *t, size_t i, size_t end)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* Little-endian: the lowest flagged bit is the first special byte in memory. */
    if (end - i < 8) {
        while (i < end && icms__json_plain_byte((unsigned char)t[i]))
            i++;
        return i;
    }
    uint64_t v, special;
    for (; end - i >= 8; i += 8) {
        memcpy(&v, t + i, 8);
        if ((special = icms__json_special_bytes(v)) != 0)
            return i + (size_t)__builtin_ctzll(special) / 8;
    }
    if (i == end)
        return end;
    /*
     * The tail, as the last 8 bytes of the range: those before i are plain,
     * so they carry no flag (false flags sit above a special byte only).
     */
    memcpy(&v, t + end - 8, 8);
    special = icms__json_special_bytes(v);
    return special ? end - 8 + (size_t)__builtin_ctzll(special) / 8 : end;
#else
    while (end - i >= 8) {
        uint64_t v;
        memcpy(&v, t + i, 8);
        if (icms__json_special_bytes(v))
            break;
        i += 8;
    }
    while (i < end && icms__json_plain_byte((unsigned char)t[i]))
        i++;
    return i;
#endif
}

#endif
