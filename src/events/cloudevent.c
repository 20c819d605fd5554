/* Events as CloudEvents 1.0 (structured mode, JSON format). */
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "events/consumer.h"
#include "icms/events.h"

static int add_copy(cJSON *ce, const char *name, const cJSON *from)
{
    cJSON *copy = cJSON_Duplicate(from, true);
    return copy ? icms__json_add(ce, name, copy) : icms__error(ICMS_ENOMEM, "out of memory");
}

int icms_events_to_cloudevent(const char *event_json, size_t event_json_len, char **out)
{
    if (out)
        *out = NULL;
    if (!event_json || !out)
        return icms__error(ICMS_EINVALID, "an event and out are required");
    icms__envelope env;
    int rc = icms__envelope_parse(event_json, event_json_len, ICMS_EINVALID, &env);
    if (rc)
        return rc;
    cJSON *ce = cJSON_CreateObject();
    rc = ce ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    /* The attributes CloudEvents requires, then the optional ones it names. */
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "specversion", "1.0");
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "id", env.event_id);
    if (rc == ICMS_OK) {
        const char *source = icms__json_get_string(env.doc, "source");
        rc = icms__json_add_string(ce, "source", source ? source : "libicms");
    }
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "type", env.type);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "time", env.occurred_at);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "subject", env.subject);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(ce, "datacontenttype", "application/json");
    /* Extension attributes: lower-case alphanumerics only, as the spec asks. */
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(ce, "icmsseq", env.seq);
    int64_t version;
    if (rc == ICMS_OK && icms__json_int64(icms__json_get(env.doc, "schema_version"), &version))
        rc = icms__json_add_int64(ce, "icmsschemaversion", version);
    const char *correlation = icms__json_get_string(env.doc, "correlation_id");
    if (rc == ICMS_OK && correlation)
        rc = icms__json_add_string(ce, "icmscorrelationid", correlation);
    if (rc == ICMS_OK)
        rc = add_copy(ce, "data", env.data);
    if (rc == ICMS_OK)
        rc = icms__json_write(ce, 0, out, NULL);
    cJSON_Delete(ce);
    icms__envelope_free(&env);
    return rc;
}
