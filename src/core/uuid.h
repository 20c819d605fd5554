/* UUIDv7 identifiers (RFC 9562): generation, text form, parsing. */
#ifndef ICMS_SRC_UUID_H
#define ICMS_SRC_UUID_H

#include <stddef.h>
#include <stdint.h>

#include "icms/sys/clock.h"
#include "icms/util.h"

/*
 * A new UUIDv7 whose timestamp is clock's reading (NULL: real time).
 *
 * Ids made in one process strictly increase (as bytes and as text), from
 * every thread and every clock: when the clock stands still or goes back, the
 * previous id's timestamp is kept and its 74 random bits are incremented by a
 * random step. ICMS_EINVALID when the clock reads outside 0..2^48-1 ms.
 */
int icms__uuid7_new(icms_clock *clock, uint8_t out[ICMS_UUID_BYTES]);

/* The 48-bit millisecond timestamp of a UUIDv7. */
int64_t icms__uuid7_time_ms(const uint8_t id[ICMS_UUID_BYTES]);

/* Canonical lowercase 8-4-4-4-12 text, NUL-terminated. */
void icms__uuid_format(const uint8_t id[ICMS_UUID_BYTES], char out[ICMS_UUID_STRING_SIZE]);

/* Parse len bytes of text strictly (see icms_uuid_parse); ICMS_EINVALID with a reason. */
int icms__uuid_parse(const char *text, size_t len, uint8_t out[ICMS_UUID_BYTES]);

/* Tests only: forget the last id, so a fake clock's time is used as-is again. */
void icms__uuid7_reset(void);

#endif
