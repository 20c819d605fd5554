/* libicms built without PostgreSQL (ICMS_POSTGRES=OFF, or no libpq): the constructor says so. */
#include "core/core.h"
#include "icms/sys/store_postgres.h"

int icms_store_postgres_new(icms_store **out, const char *conninfo,
                            const icms_postgres_options *options)
{
    (void)conninfo, (void)options;
    if (out)
        *out = NULL;
    return icms__error(ICMS_EINVALID, "postgres store: this libicms was built without PostgreSQL "
                                      "(ICMS_POSTGRES=OFF or libpq-dev missing at build time)");
}
