/*
 * Ordered tuple keys.
 *
 * A key is a tuple of typed elements (strings, integers, ids) encoded so that
 * comparing the bytes with memcmp orders the tuples element by element, the
 * way the store sorts them. Every record, index entry, log entry and cursor
 * in libicms lives under such a key, so a prefix of a tuple names a range.
 *
 * Encoding, one tag byte per element:
 *   0x02 string: the bytes with 0x00 escaped as 0x00 0xFF, then 0x00.
 *        A proper prefix sorts first, and no string element can run into
 *        the next element.
 *   0x14 integer: 8 bytes big-endian with the sign bit flipped, so
 *        INT64_MIN < -1 < 0 < INT64_MAX in byte order.
 *   0x30 id: 16 raw bytes (UUIDv7, which are time ordered).
 * No element starts with 0xFF, so prefix || 0xFF bounds every extension.
 *
 * A builder never fails midway: an over-long key marks the builder as
 * failed, and the first use of it reports ICMS_ELIMIT.
 */
#ifndef ICMS_SRC_KV_KEYS_H
#define ICMS_SRC_KV_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "icms/sys/store.h"

#define ICMS__KEY_TAG_STRING 0x02
#define ICMS__KEY_TAG_INT 0x14
#define ICMS__KEY_TAG_ID 0x30

typedef struct icms__key {
    uint8_t bytes[ICMS_STORE_KEY_MAX];
    size_t len;
    bool overflow;
} icms__key;

void icms__key_init(icms__key *key);
void icms__key_str(icms__key *key, const char *s);
void icms__key_strn(icms__key *key, const char *s, size_t len);
void icms__key_int(icms__key *key, int64_t v);
void icms__key_id(icms__key *key, const uint8_t id[16]);

/* ICMS_OK, or ICMS_ELIMIT (with a message) when the key outgrew ICMS_STORE_KEY_MAX. */
int icms__key_check(const icms__key *key);

/*
 * The smallest key greater than every key that starts with prefix: the
 * exclusive upper bound of a prefix scan. Fails only when the prefix is
 * already at the maximum key length.
 */
int icms__key_prefix_end(const icms__key *prefix, icms__key *end);

/* Reading a key back, element by element. */
typedef struct icms__key_reader {
    const uint8_t *bytes;
    size_t len;
    size_t pos;
} icms__key_reader;

void icms__key_reader_init(icms__key_reader *r, const uint8_t *bytes, size_t len);
/*
 * Each returns ICMS_OK, or ICMS_ECORRUPT when the next element is missing,
 * of another type or malformed. Strings are copied into out (NUL-terminated,
 * at most out_size - 1 bytes; a longer one is ICMS_EBUFS).
 */
int icms__key_read_str(icms__key_reader *r, char *out, size_t out_size);
int icms__key_read_int(icms__key_reader *r, int64_t *out);
int icms__key_read_id(icms__key_reader *r, uint8_t out[16]);
bool icms__key_reader_done(const icms__key_reader *r);

#endif
