/* What every store shares: icms_store_free, key order, argument checks. */
#include <string.h>

#include "store_internal.h"

void icms_store_free(icms_store *store)
{
    if (store && store->free)
        store->free(store);
}

int icms__store_key_cmp(const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    size_t n = a_len < b_len ? a_len : b_len;
    /* memcmp with a NULL pointer is undefined even for 0 bytes. */
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0)
        return c < 0 ? -1 : 1;
    if (a_len == b_len)
        return 0;
    return a_len < b_len ? -1 : 1;
}

bool icms__store_in_range(const uint8_t *key, size_t key_len, const uint8_t *start,
                          size_t start_len, const uint8_t *end, size_t end_len)
{
    if (start_len && icms__store_key_cmp(key, key_len, start, start_len) < 0)
        return false;
    if (end && icms__store_key_cmp(key, key_len, end, end_len) >= 0)
        return false;
    return true;
}

int icms__store_check_key(const char *who, const uint8_t *key, size_t key_len)
{
    if (key_len == 0)
        return icms__error(ICMS_EINVALID, "%s: empty key", who);
    if (key == NULL)
        return icms__error(ICMS_EINVALID, "%s: key is NULL", who);
    if (key_len > ICMS_STORE_KEY_MAX)
        return icms__error(ICMS_ELIMIT, "%s: key of %zu bytes exceeds the limit of %u", who,
                           key_len, ICMS_STORE_KEY_MAX);
    return ICMS_OK;
}

int icms__store_check_value(const char *who, const uint8_t *value, size_t value_len)
{
    if (value == NULL && value_len != 0)
        return icms__error(ICMS_EINVALID, "%s: value is NULL", who);
    if (value_len > ICMS_STORE_VALUE_MAX)
        return icms__error(ICMS_ELIMIT, "%s: value of %zu bytes exceeds the limit of %u", who,
                           value_len, ICMS_STORE_VALUE_MAX);
    return ICMS_OK;
}

int icms__store_check_scan(const char *who, const uint8_t *start, size_t start_len,
                           const uint8_t *end, size_t end_len, unsigned int flags,
                           icms_store_scan_cb cb)
{
    if (start == NULL && start_len != 0)
        return icms__error(ICMS_EINVALID, "%s: scan start is NULL", who);
    if (end == NULL && end_len != 0)
        return icms__error(ICMS_EINVALID, "%s: scan end is NULL but has a length", who);
    if (flags & ~ICMS_STORE_SCAN_REVERSE)
        return icms__error(ICMS_EINVALID, "%s: unknown scan flags 0x%x", who,
                           flags & ~ICMS_STORE_SCAN_REVERSE);
    if (cb == NULL)
        return icms__error(ICMS_EINVALID, "%s: scan callback is NULL", who);
    return ICMS_OK;
}
