/*
 * Helpers shared by the built-in stores: key order and the argument checks
 * every store applies the same way, so that all of them refuse the same input
 * with the same code.
 */
#ifndef ICMS_SRC_STORE_INTERNAL_H
#define ICMS_SRC_STORE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "icms/sys/store.h"

/* memcmp order over unsigned bytes; a proper prefix sorts first. NULL is fine with length 0. */
int icms__store_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len);

/* True when start <= key < end under the scan conventions (start_len 0 / end NULL = open). */
bool icms__store_in_range(const uint8_t *key, size_t key_len, const uint8_t *start,
                          size_t start_len, const uint8_t *end, size_t end_len);

/*
 * Argument checks; `who` names the store in the message ("memory store").
 * Keys: 1..ICMS_STORE_KEY_MAX bytes, else ICMS_EINVALID (empty / NULL) or
 * ICMS_ELIMIT (too long). Values: 0..ICMS_STORE_VALUE_MAX bytes, else
 * ICMS_EINVALID (NULL with a length) or ICMS_ELIMIT. Scans: ICMS_EINVALID for
 * NULL pointers with lengths, a NULL callback or unknown flag bits.
 */
int icms__store_check_key(const char *who, const uint8_t *key, size_t key_len);
int icms__store_check_value(const char *who, const uint8_t *value, size_t value_len);
int icms__store_check_scan(const char *who, const uint8_t *start, size_t start_len,
                           const uint8_t *end, size_t end_len, unsigned int flags,
                           icms_store_scan_cb cb);

/*
 * Test hook of the SQLite store: run a PRAGMA query on one of the store's own
 * connections and copy the first column of its first row into out ("" when
 * it returns no row).
 */
int icms__sqlite_store_pragma(icms_store *store, const char *pragma, char *out, size_t out_len);

#endif
