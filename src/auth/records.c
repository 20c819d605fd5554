/* The auth record types and the index values drawn from their documents. */
#include <string.h>

#include "auth/store.h"
#include "core/core.h"
#include "core/json.h"
#include "core/rfc3339.h"
#include "core/uuid.h"

static int id_field(const cJSON *doc, const char *field, icms__key *key)
{
    const char *text = icms__json_get_string(doc, field);
    uint8_t id[16];
    if (!text || icms__uuid_parse(text, strlen(text), id) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "auth record field %s is not an id", field);
    icms__key_id(key, id);
    return ICMS_OK;
}

static int time_field(const cJSON *doc, const char *field, icms__key *key)
{
    const char *text = icms__json_get_string(doc, field);
    int64_t ms;
    if (!text || icms__time_parse(text, strlen(text), &ms) != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "auth record field %s is not a time", field);
    icms__key_int(key, ms);
    return ICMS_OK;
}

static int every(const cJSON *doc, icms__key *key)
{
    (void)doc;
    (void)key;
    return ICMS_OK;
}

static const icms__index_def key_indexes[] = {{"all", every, false}};
const icms__record_type icms__auth_key_record = {"auth_key", key_indexes,
                                                 ICMS__ARRAY_LEN(key_indexes)};

static int session_user(const cJSON *doc, icms__key *key)
{
    return id_field(doc, "user_id", key);
}

static int session_expiry(const cJSON *doc, icms__key *key)
{
    return time_field(doc, "expires_at", key);
}

static const icms__index_def session_indexes[] = {
    {"by_user", session_user, false},
    {"by_expiry", session_expiry, false},
};
const icms__record_type icms__auth_session_record = {"auth_session", session_indexes,
                                                     ICMS__ARRAY_LEN(session_indexes)};

static int refresh_session(const cJSON *doc, icms__key *key)
{
    return id_field(doc, "session_id", key);
}

static const icms__index_def refresh_indexes[] = {{"by_session", refresh_session, false}};
const icms__record_type icms__auth_refresh_record = {"auth_refresh", refresh_indexes,
                                                     ICMS__ARRAY_LEN(refresh_indexes)};

static int identity_provider_subject(const cJSON *doc, icms__key *key)
{
    const char *provider = icms__json_get_string(doc, "provider");
    const char *subject = icms__json_get_string(doc, "subject");
    if (!provider || !subject)
        return icms__error(ICMS_ECORRUPT, "identity record without provider or subject");
    icms__key_str(key, provider);
    icms__key_str(key, subject);
    return ICMS_OK;
}

static int identity_user(const cJSON *doc, icms__key *key)
{
    return id_field(doc, "user_id", key);
}

static const icms__index_def identity_indexes[] = {
    {"provider_subject", identity_provider_subject, true},
    {"by_user", identity_user, false},
};
const icms__record_type icms__auth_identity_record = {"auth_identity", identity_indexes,
                                                      ICMS__ARRAY_LEN(identity_indexes)};

const icms__record_type icms__auth_password_record = {"auth_password", NULL, 0};

bool icms__auth_session_live(const cJSON *session, int64_t now_ms)
{
    const char *status = icms__json_get_string(session, "status");
    const char *expires = icms__json_get_string(session, "expires_at");
    int64_t ms;
    return status && strcmp(status, ICMS__AUTH_ACTIVE) == 0 && expires &&
           icms__time_parse(expires, strlen(expires), &ms) == ICMS_OK && now_ms < ms;
}
