/*
 * The store's format: what each format added, and bringing an older store up
 * to this build's (ICMS_FORMAT_VERSION) when it is opened.
 */
#ifndef ICMS_SRC_APP_FORMAT_H
#define ICMS_SRC_APP_FORMAT_H

#include <stdint.h>

#include "kv/tx.h"

/*
 * Bring a store of format `from` (1 .. ICMS_FORMAT_VERSION - 1) to this
 * build's, in the caller's write transaction (all or nothing); the caller
 * stamps the new format in the same transaction. Errors: the store's,
 * ICMS_ENOMEM, ICMS_ECORRUPT for a record that cannot be read.
 */
int icms__format_upgrade(icms__tx *tx, int64_t from);

#endif
