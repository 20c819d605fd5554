/*
 * libicms: small value helpers hosts need to speak the library's formats.
 *
 * Identifiers are UUIDv7 (RFC 9562) in canonical text form; times are UTC
 * milliseconds since the Unix epoch inside, RFC 3339 text in JSON.
 */
#ifndef ICMS_UTIL_H
#define ICMS_UTIL_H

#include "icms/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes in a binary UUID. */
#define ICMS_UUID_BYTES 16
/** Buffer size for a UUID's text form: 36 characters and the terminating NUL. */
#define ICMS_UUID_STRING_SIZE 37

/**
 * Write the canonical text form of a 16-byte UUID: lowercase hex in the
 * 8-4-4-4-12 layout ("0190f5a2-7b3c-7def-8123-456789abcdef"), NUL-terminated.
 *
 * Errors: ICMS_EINVALID (NULL pointer, or bytes_len is not ICMS_UUID_BYTES),
 * ICMS_EBUFS (out_len < ICMS_UUID_STRING_SIZE). Thread-safe.
 */
ICMS_EXTERN int icms_uuid_format(const uint8_t *bytes, size_t bytes_len, char *out, size_t out_len);

/**
 * Parse a libicms identifier: exactly 36 characters, lowercase hex in the
 * 8-4-4-4-12 layout, version 7 and the RFC 9562 variant. Uppercase hex,
 * braces, "urn:uuid:" prefixes and other versions are refused, so each id has
 * exactly one spelling.
 *
 * On success writes ICMS_UUID_BYTES bytes to out. Errors: ICMS_EINVALID (with
 * a message saying what is wrong), ICMS_EBUFS (out_len < ICMS_UUID_BYTES).
 * Thread-safe.
 */
ICMS_EXTERN int icms_uuid_parse(const char *text, uint8_t *out, size_t out_len);

/** Buffer size for icms_time_format: "YYYY-MM-DDTHH:MM:SS.mmmZ" and the NUL. */
#define ICMS_TIME_STRING_SIZE 25

/** The instants icms_time_format and icms_time_parse accept, in ms since the epoch. */
#define ICMS_TIME_MIN_MS (-62135596800000LL) /**< 0001-01-01T00:00:00.000Z */
#define ICMS_TIME_MAX_MS 253402300799999LL   /**< 9999-12-31T23:59:59.999Z */

/**
 * Format ms since the epoch as RFC 3339 in UTC with millisecond precision:
 * "2026-11-26T11:20:37.123Z" (always 24 characters, always 'Z').
 *
 * Errors: ICMS_EINVALID (out is NULL, or ms is outside ICMS_TIME_MIN_MS ..
 * ICMS_TIME_MAX_MS), ICMS_EBUFS (out_len < ICMS_TIME_STRING_SIZE).
 * Thread-safe; never reads the process time zone.
 */
ICMS_EXTERN int icms_time_format(int64_t ms, char *out, size_t out_len);

/**
 * Parse an RFC 3339 date-time into ms since the epoch (UTC).
 *
 * Accepted: "YYYY-MM-DDTHH:MM:SS", an optional fraction of 1 to 9 digits
 * (truncated to milliseconds), then 'Z' or a "+hh:mm" / "-hh:mm" offset, which
 * is applied to give UTC. 'T' and 'Z' may be lowercase (RFC 3339 section 5.6).
 * Refused: a space instead of 'T', a missing zone, leap seconds (second 60),
 * impossible dates (Feb 30, Feb 29 outside leap years), hour 24, years
 * outside 0001..9999 and instants that leave that range once the offset is
 * applied.
 *
 * Errors: ICMS_EINVALID with a message saying what is wrong. Thread-safe;
 * never reads the process time zone.
 */
ICMS_EXTERN int icms_time_parse(const char *text, int64_t *out_ms);

#ifdef __cplusplus
}
#endif

#endif /* ICMS_UTIL_H */
