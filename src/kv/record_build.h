/*
 * Building a listing index a file does not have yet (a format upgrade).
 */
#ifndef ICMS_SRC_KV_RECORD_BUILD_H
#define ICMS_SRC_KV_RECORD_BUILD_H

#include <stddef.h>

#include "kv/record.h"

/*
 * Write the entry of listing index `index` for every record of type that has
 * a value for it; *built (may be NULL) gets how many. The caller's
 * transaction makes it all or nothing. Entries already there are written
 * again (an entry's value is empty), so building twice changes nothing.
 * Errors: ICMS_ERROR for an index the type does not have or a unique one;
 * ICMS_ECORRUPT for a record that cannot be read; ICMS_ENOMEM; the store's.
 */
int icms__record_build_index(icms__tx *tx, const icms__record_type *type, const char *index,
                             size_t *built);

#endif
