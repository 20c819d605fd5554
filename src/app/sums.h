/* A small string -> int64 sum table for whole-store checks (icms_check). */
#ifndef ICMS_SRC_APP_SUMS_H
#define ICMS_SRC_APP_SUMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct icms__sums icms__sums;

int icms__sums_new(icms__sums **out);
void icms__sums_free(icms__sums *sums);
/* Add delta to name's sum (0 when new); ICMS_EINVALID on overflow. */
int icms__sums_add(icms__sums *sums, const char *name, int64_t delta);
/* The sum of name, or 0 when it never appeared (then *seen is false). */
int64_t icms__sums_get(const icms__sums *sums, const char *name, bool *seen);
/* Visit every name and sum; stop at the first nonzero return and hand it back. */
int icms__sums_each(const icms__sums *sums, int (*fn)(const char *name, int64_t sum, void *p),
                    void *p);

#endif
