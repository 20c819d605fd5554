/*
 * Format upgrades, one step a format, run by icms_open (app/db.c) in the
 * write transaction that stamps the new format: a store is of one format or
 * the next, never half way. An older libicms refuses a newer store
 * (ICMS_EVERSION), so every process that shares a file must be upgraded
 * before any of them opens it with the new build (docs/storage.md).
 *
 *   1  the first format.
 *   2  participations, refunds and payouts are also listed by project and
 *      status ("by_project_status"), for a project's page of PENDING
 *      requests or DUE refunds.
 */
#include "app/format.h"

#include "app/records.h"
#include "core/core.h"
#include "icms/db.h"
#include "kv/record_build.h"

_Static_assert(ICMS_FORMAT_VERSION == 2, "a new format needs its upgrade step here");

int icms__format_upgrade(icms__tx *tx, int64_t from)
{
    int rc = ICMS_OK;
    if (from < 2) {
        const icms__record_type *const types[] = {&icms__participation_record,
                                                  &icms__refund_record, &icms__payout_record};
        for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(types); i++)
            rc = icms__record_build_index(tx, types[i], "by_project_status", NULL);
    }
    return rc;
}
