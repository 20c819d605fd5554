#include "app/page.h"

#include "core/core.h"
#include "core/uuid.h"
#include "icms/sys/store.h"

int icms__page_reset(icms__page *page, int64_t limit)
{
    cJSON_Delete(page->items);
    page->limit = limit;
    page->count = 0;
    page->more = false;
    page->last[0] = '\0';
    page->items = cJSON_CreateArray();
    return page->items ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
}

int icms__page_offer(icms__page *page, const uint8_t id[16], cJSON *doc)
{
    if (page->count == page->limit) { /* one more than the page holds: a next page exists */
        cJSON_Delete(doc);
        page->more = true;
        return ICMS_STORE_STOP;
    }
    icms__uuid_format(id, page->last);
    page->count++;
    return icms__json_add(page->items, NULL, doc);
}

int icms__page_finish(icms__page *page, cJSON **out)
{
    cJSON *result = cJSON_CreateObject();
    if (!result)
        return icms__error(ICMS_ENOMEM, "out of memory");
    int rc = icms__json_add(result, "items", page->items);
    page->items = NULL;
    if (rc == ICMS_OK)
        rc = icms__json_add(result, "next", page->more ? cJSON_CreateString(page->last)
                                                       : cJSON_CreateNull());
    if (rc) {
        cJSON_Delete(result);
        return rc;
    }
    *out = result;
    return ICMS_OK;
}

void icms__page_clear(icms__page *page)
{
    cJSON_Delete(page->items);
    page->items = NULL;
}
