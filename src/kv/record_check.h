/*
 * Whether a record type's index entries match its records (icms_check).
 */
#ifndef ICMS_SRC_KV_RECORD_CHECK_H
#define ICMS_SRC_KV_RECORD_CHECK_H

#include "kv/record.h"

/* Called once per problem found, with a sentence naming it; returns 0 or an error. */
typedef int (*icms__index_problem_fn)(const char *problem, void *payload);

/*
 * Report through `report` every record of type whose index entries are
 * missing or name another record, every index that holds entries its
 * records do not call for, and every listing entry whose record is gone.
 * Returns ICMS_OK when the check ran (problems or not), or the store's or
 * report's error. Reads the whole type: for the invariant checker only.
 */
int icms__record_check_indexes(icms__tx *tx, const icms__record_type *type,
                               icms__index_problem_fn report, void *payload);

#endif
