/* The clock's part of a payment's lateness (payment_late.h). */
#include "app/payment_late.h"

#include <string.h>

#include "core/json.h"
#include "core/rfc3339.h"

static bool read_time(const cJSON *payment, const char *field, int64_t *out)
{
    const char *text = icms__json_get_string(payment, field);
    return text && icms__time_parse(text, strlen(text), out) == ICMS_OK;
}

void icms__payment_late_times(icms__payment_late_facts *facts, const cJSON *payment, int64_t now_ms)
{
    facts->now_ms = now_ms;
    if (!read_time(payment, "expires_at", &facts->expires_at_ms))
        facts->expires_at_ms = INT64_MIN;
    if (!read_time(payment, "submitted_at", &facts->submitted_at_ms))
        facts->submitted_at_ms = 0;
}
