/* Access-token claims: building them, and reading them back with every check. */
#include <string.h>

#include "auth/crypto.h"
#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"
#include "icms/types.h"

static const icms_role_t all_roles[] = {ICMS_ROLE_OWNER, ICMS_ROLE_INVESTOR, ICMS_ROLE_ADMIN};

cJSON *icms__claims_json(const icms__claims *c)
{
    cJSON *doc = cJSON_CreateObject(), *roles = NULL;
    int rc = doc ? ICMS_OK : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "iss", c->iss);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "aud", c->aud);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "sub", c->sub);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "sid", c->sid);
    if (rc == ICMS_OK)
        rc = icms__json_add_array(doc, "roles", &roles);
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(all_roles); i++)
        if (c->roles & (unsigned)all_roles[i])
            rc = icms__json_add(roles, NULL, cJSON_CreateString(icms_role_name(all_roles[i])));
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "iat", c->iat);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "nbf", c->nbf);
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(doc, "exp", c->exp);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(doc, "jti", c->jti);
    if (rc) {
        cJSON_Delete(doc);
        icms__error(ICMS_ENOMEM, "out of memory");
        return NULL;
    }
    return doc;
}

static int refuse(const char *why)
{
    return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: %s", why);
}

static int copy_string(const cJSON *payload, const char *name, char *out, size_t size)
{
    const cJSON *item = icms__json_get(payload, name);
    if (!cJSON_IsString(item) || !item->valuestring[0] || strlen(item->valuestring) >= size)
        return icms__error(ICMS_EUNAUTHENTICATED,
                           "access token refused: claim %s is missing or "
                           "malformed",
                           name);
    strcpy(out, item->valuestring);
    return ICMS_OK;
}

static int copy_id(const cJSON *payload, const char *name, char *out)
{
    uint8_t id[16];
    int rc = copy_string(payload, name, out, ICMS_UUID_STRING_SIZE);
    if (rc == ICMS_OK && icms__uuid_parse(out, strlen(out), id) != ICMS_OK)
        return icms__error(ICMS_EUNAUTHENTICATED, "access token refused: claim %s is not an id",
                           name);
    return rc;
}

static int read_time(const cJSON *payload, const char *name, int64_t *out)
{
    /* Seconds up to year 9999: keeps every later multiplication by 1000 in range. */
    if (!icms__json_int64(icms__json_get(payload, name), out) || *out < 0 || *out > 253402300799LL)
        return icms__error(ICMS_EUNAUTHENTICATED,
                           "access token refused: claim %s is missing or "
                           "not a time",
                           name);
    return ICMS_OK;
}

static int read_roles(const cJSON *payload, unsigned *out)
{
    const cJSON *roles = icms__json_get(payload, "roles"), *role;
    *out = 0;
    if (!cJSON_IsArray(roles))
        return refuse("claim roles is missing or malformed");
    cJSON_ArrayForEach(role, roles)
    {
        icms_role_t r;
        if (!cJSON_IsString(role) || icms_role_parse(role->valuestring, &r) != ICMS_OK)
            return refuse("claim roles names an unknown role");
        *out |= (unsigned)r;
    }
    return ICMS_OK;
}

int icms__claims_check(const cJSON *payload, const char *iss, const char *aud, int64_t now_ms,
                       int64_t leeway_ms, icms__claims *c)
{
    memset(c, 0, sizeof *c);
    static const char *known[] = {"iss", "aud", "sub", "sid", "roles", "iat", "nbf", "exp", "jti"};
    const cJSON *item;
    cJSON_ArrayForEach(item, payload)
    {
        size_t i = 0;
        while (i < ICMS__ARRAY_LEN(known) && strcmp(item->string, known[i]) != 0)
            i++;
        if (i == ICMS__ARRAY_LEN(known))
            return refuse("the payload has a claim we never issue");
    }
    int rc = copy_string(payload, "iss", c->iss, sizeof c->iss);
    if (rc == ICMS_OK)
        rc = copy_string(payload, "aud", c->aud, sizeof c->aud);
    if (rc == ICMS_OK)
        rc = copy_id(payload, "sub", c->sub);
    if (rc == ICMS_OK)
        rc = copy_id(payload, "sid", c->sid);
    if (rc == ICMS_OK)
        rc = copy_id(payload, "jti", c->jti);
    if (rc == ICMS_OK)
        rc = read_roles(payload, &c->roles);
    if (rc == ICMS_OK)
        rc = read_time(payload, "iat", &c->iat);
    if (rc == ICMS_OK)
        rc = read_time(payload, "nbf", &c->nbf);
    if (rc == ICMS_OK)
        rc = read_time(payload, "exp", &c->exp);
    if (rc)
        return rc;
    if (strcmp(c->iss, iss) != 0)
        return refuse("wrong issuer");
    if (strcmp(c->aud, aud) != 0)
        return refuse("wrong audience");
    if (c->exp <= c->nbf)
        return refuse("exp is not after nbf");
    if (now_ms >= c->exp * 1000 + leeway_ms)
        return refuse("expired");
    if (now_ms + leeway_ms < c->nbf * 1000)
        return refuse("not valid yet (nbf)");
    if (now_ms + leeway_ms < c->iat * 1000)
        return refuse("issued in the future (iat)");
    return ICMS_OK;
}
