/* RFC 3339 time text <-> UTC milliseconds, without the process time zone. */
#ifndef ICMS_SRC_RFC3339_H
#define ICMS_SRC_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "icms/util.h"

/*
 * Format ms as "YYYY-MM-DDTHH:MM:SS.mmmZ" into out (ICMS_TIME_STRING_SIZE
 * bytes). ICMS_EINVALID when ms is outside ICMS_TIME_MIN_MS..ICMS_TIME_MAX_MS.
 */
int icms__time_format(int64_t ms, char out[ICMS_TIME_STRING_SIZE]);

/* Parse len bytes of RFC 3339 text (need not be NUL-terminated); see icms_time_parse. */
int icms__time_parse(const char *text, size_t len, int64_t *out_ms);

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12, day 1..31). */
int64_t icms__days_from_civil(int64_t year, int64_t month, int64_t day);

#endif
