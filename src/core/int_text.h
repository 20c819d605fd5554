/*
 * Integers as decimal text without printf: the hot paths (every int64 in a
 * JSON document, ledger balances) wrote them with snprintf("%lld"), whose
 * format parsing cost more than the digits.
 */
#ifndef ICMS_SRC_CORE_INT_TEXT_H
#define ICMS_SRC_CORE_INT_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Room for any int64 in decimal with its sign and the NUL: "-9223372036854775808". */
#define ICMS__INT64_TEXT_SIZE 21

/* Write v in decimal (as "%lld" would) into out, NUL-terminated; return its length. */
size_t icms__int64_text(int64_t v, char out[ICMS__INT64_TEXT_SIZE]);

#endif
