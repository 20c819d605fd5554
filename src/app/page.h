/* A page of a listing: up to `limit` documents, and whether more follow. */
#ifndef ICMS_SRC_APP_PAGE_H
#define ICMS_SRC_APP_PAGE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/json.h"
#include "icms/util.h"

#define ICMS__PAGE_DEFAULT_LIMIT 50
#define ICMS__PAGE_MAX_LIMIT 100

typedef struct icms__page {
    int64_t limit;
    int64_t count;
    bool more;
    char last[ICMS_UUID_STRING_SIZE]; /* id of the last document taken: the next cursor */
    cJSON *items;
} icms__page;

/* Start (or restart, for a retried transaction) an empty page. */
int icms__page_reset(icms__page *page, int64_t limit);

/*
 * Offer a listed document (ownership passes). Returns 0 when taken, or
 * ICMS_STORE_STOP when the page was already full (doc is freed and the page
 * notes that more follow), for a scan callback to return as it is.
 */
int icms__page_offer(icms__page *page, const uint8_t id[16], cJSON *doc);

/* {"items": [...], "next": last id or null}; the items pass to the result. */
int icms__page_finish(icms__page *page, cJSON **out);

void icms__page_clear(icms__page *page);

#endif
