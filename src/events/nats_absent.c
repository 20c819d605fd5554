/* libicms built without NATS (ICMS_NATS=OFF): the publisher API answers that it is absent. */
#include <stddef.h>

#include "core/core.h"
#include "events/nats_hook.h"
#include "icms/events.h"

void (*icms__nats_after_publish_hook)(void) = NULL;

int icms_nats_available(void)
{
    return 0;
}

int icms_nats_publisher_new(icms_db *db, const icms_nats_options *options,
                            icms_nats_publisher **out)
{
    (void)db;
    (void)options;
    if (out)
        *out = NULL;
    return icms__error(ICMS_EINVALID, "this libicms was built without NATS (ICMS_NATS=OFF)");
}

int icms_nats_publisher_drain(icms_nats_publisher *publisher, size_t *published_out)
{
    (void)publisher;
    if (published_out)
        *published_out = 0;
    return icms__error(ICMS_EINVALID, "this libicms was built without NATS (ICMS_NATS=OFF)");
}

void icms_nats_publisher_free(icms_nats_publisher *publisher)
{
    (void)publisher;
}
