/* Event type patterns: "*", "prefix.*" or an exact type. */
#include <string.h>

#include "core/core.h"
#include "events/consumer.h"
#include "icms/events.h"

static bool type_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

int icms__event_pattern_check(const char *pattern)
{
    if (!pattern)
        return icms__error(ICMS_EINVALID, "an event pattern is required");
    size_t len = strnlen(pattern, ICMS__EVENT_TYPE_MAX + 1);
    if (len == 0 || len > ICMS__EVENT_TYPE_MAX)
        return icms__error(ICMS_EINVALID, "an event pattern must be 1 to %d bytes",
                           ICMS__EVENT_TYPE_MAX);
    if (strcmp(pattern, "*") == 0)
        return ICMS_OK;
    size_t body = len;
    if (len >= 2 && strcmp(pattern + len - 2, ".*") == 0)
        body = len - 1; /* keep the dot: "project.*" matches "project." + anything */
    for (size_t i = 0; i < body; i++)
        if (!type_char(pattern[i]))
            return icms__error(ICMS_EINVALID,
                               "event pattern \"%.*s\": only a-z, 0-9, '_', '.' and a final "
                               "\".*\" are allowed",
                               (int)(len > 40 ? 40 : len), pattern);
    if (pattern[0] == '.')
        return icms__error(ICMS_EINVALID, "an event pattern may not start with '.'");
    return ICMS_OK;
}

bool icms__event_pattern_match(const char *pattern, const char *type)
{
    size_t len = strlen(pattern);
    if (len == 1 && pattern[0] == '*')
        return true;
    if (len >= 2 && pattern[len - 1] == '*')
        return strncmp(pattern, type, len - 1) == 0 && type[len - 1] != '\0';
    return strcmp(pattern, type) == 0;
}

int icms_events_pattern_match(const char *pattern, const char *type)
{
    int rc = icms__event_pattern_check(pattern);
    if (rc)
        return rc;
    if (!type)
        return icms__error(ICMS_EINVALID, "an event type is required");
    return icms__event_pattern_match(pattern, type) ? 1 : 0;
}
