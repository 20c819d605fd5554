/* UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. */
#ifndef ICMS_SRC_UTF8_H
#define ICMS_SRC_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Length (1..4) of the valid UTF-8 sequence at s, of at most avail bytes; 0 if invalid. */
size_t icms__utf8_sequence(const uint8_t *s, size_t avail);

/* True when len bytes at s are entirely valid UTF-8 (NUL bytes count as valid). */
bool icms__utf8_valid(const char *s, size_t len);

/* Append the UTF-8 encoding of code point cp (<= U+10FFFF, not a surrogate); returns bytes written.
 */
size_t icms__utf8_encode(uint32_t cp, char *out);

#endif
