/* The clock's part of a payment's lateness (payment_late.h). */
#include "app/payment_late.h"

#include <string.h>

#include "core/json.h"
#include "core/rfc3339.h"

static bool read_time(const cJSON *doc, const char *field, int64_t *out)
{
    const char *text = icms__json_get_string(doc, field);
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

/* The states the expiry sweep ends (docs/domain.md: PUBLISHED | FUNDING --expire--> EXPIRED). */
static bool expires_by_date(const cJSON *project)
{
    const char *state = icms__json_get_string(project, "state");
    return state && (strcmp(state, "PUBLISHED") == 0 || strcmp(state, "FUNDING") == 0);
}

void icms__payment_late_project(icms__payment_late_facts *facts, const cJSON *project)
{
    if (project == NULL || !expires_by_date(project))
        return;
    int64_t deadline;
    if (!read_time(project, "expiry_date", &deadline))
        deadline = INT64_MIN;
    if (deadline < facts->expires_at_ms)
        facts->expires_at_ms = deadline;
}
