/*
 * Format upgrades, one step a format, run by icms_open (app/db.c) in the
 * write transaction that stamps the new format: a store is of one format or
 * the next, never half way. An older libicms refuses a newer store
 * (ICMS_EVERSION), so every process that shares a file must be upgraded
 * before any of them opens it with the new build (docs/storage.md).
 *
 *   1  the first format.
 *   2  participations are also listed by project and status
 *      ("by_project_status"), for a project's page of PENDING requests.
 */
#include "app/format.h"

#include "app/records.h"
#include "icms/db.h"
#include "kv/record_build.h"

_Static_assert(ICMS_FORMAT_VERSION == 2, "a new format needs its upgrade step here");

int icms__format_upgrade(icms__tx *tx, int64_t from)
{
    int rc = ICMS_OK;
    if (from < 2)
        rc = icms__record_build_index(tx, &icms__participation_record, "by_project_status", NULL);
    return rc;
}
