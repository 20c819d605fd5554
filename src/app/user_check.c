/*
 * Checks of user input: the schemas of the create, bootstrap and update
 * documents and the shape rules of each field. Everything here is pure; a
 * refusal is ICMS_EINVALID with the field's name in front of the reason.
 */
#include <stdio.h>
#include <string.h>

#include "app/user_doc.h"
#include "core/core.h"
#include "core/rfc3339.h"
#include "core/uuid.h"
#include "icms/users.h"

/* ---- name ---- */

static int check_name(const cJSON *value)
{
    const unsigned char *s = (const unsigned char *)value->valuestring;
    bool blank = true;
    for (size_t i = 0; s[i]; i++) {
        /* C0 controls, DEL, and the C1 controls U+0080..U+009F (UTF-8 C2 80..C2 9F). */
        if (s[i] < 0x20 || s[i] == 0x7f || (s[i] == 0xc2 && s[i + 1] >= 0x80 && s[i + 1] <= 0x9f))
            return icms__error(ICMS_EINVALID, "must not contain control characters");
        if (s[i] != ' ')
            blank = false;
    }
    if (blank)
        return icms__error(ICMS_EINVALID, "must not be blank");
    return ICMS_OK;
}

/* ---- email ---- */

/* RFC 5322 "atext": what an unquoted local part may hold besides dots. */
static bool is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL;
}

static bool is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

/*
 * The shape of an address a person types: dot-atom local part, '@', a domain
 * of two or more labels (letters, digits, hyphens; internationalised domains
 * in their xn-- form). Quoted local parts and address literals are refused:
 * they are legal but nobody signs up with them, and they invite confusion.
 */
static int check_email(const cJSON *value)
{
    const char *s = value->valuestring;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            return icms__error(ICMS_EINVALID,
                               "must be printable ASCII without spaces (name@example.com)");
    const char *at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return icms__error(ICMS_EINVALID, "must hold exactly one '@' (name@example.com)");
    size_t local_len = (size_t)(at - s);
    if (local_len == 0 || local_len > 64)
        return icms__error(ICMS_EINVALID, "the part before '@' must be 1 to 64 characters");
    for (size_t i = 0; i < local_len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (i == 0 || i + 1 == local_len || s[i + 1] == '.')
                return icms__error(ICMS_EINVALID, "the part before '@' has a misplaced dot");
        } else if (!is_atext(c)) {
            return icms__error(ICMS_EINVALID, "the part before '@' may not hold '%c'", c);
        }
    }
    const char *domain = at + 1;
    size_t labels = 0, label_len = 0;
    for (const char *p = domain;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.' || c == '\0') {
            if (label_len == 0 || label_len > 63)
                return icms__error(ICMS_EINVALID,
                                   "the domain must be labels of 1 to 63 characters between dots");
            if (p[-1] == '-' || p[-(ptrdiff_t)label_len] == '-')
                return icms__error(ICMS_EINVALID, "a domain label may not start or end with '-'");
            labels++;
            label_len = 0;
            if (c == '\0')
                break;
        } else if (is_label_char(c)) {
            label_len++;
        } else {
            return icms__error(ICMS_EINVALID, "the domain may not hold '%c'", c);
        }
    }
    if (labels < 2)
        return icms__error(ICMS_EINVALID, "the domain needs a dot (name@example.com)");
    return ICMS_OK;
}

/* ---- phone ---- */

/* E.164: '+', a country code that does not start with 0, at most 15 digits in all. */
static int check_phone(const cJSON *value)
{
    const char *s = value->valuestring;
    size_t digits = 0;
    if (s[0] != '+')
        return icms__error(ICMS_EINVALID, "must be E.164: '+' then 8 to 15 digits");
    for (const char *p = s + 1; *p; p++, digits++)
        if (*p < '0' || *p > '9')
            return icms__error(ICMS_EINVALID, "must be E.164: '+' then 8 to 15 digits");
    if (digits < 8 || digits > 15)
        return icms__error(ICMS_EINVALID, "must be E.164: '+' then 8 to 15 digits");
    if (s[1] == '0')
        return icms__error(ICMS_EINVALID, "must be E.164: the country code cannot start with 0");
    return ICMS_OK;
}

/* ---- photo URL ---- */

/*
 * https only (a photo fetched over plain http can be swapped in transit),
 * with a host, and only characters that need no escaping in a URL
 * (RFC 3986: printable ASCII without space and "<>\"\\^`{|}").
 */
static int check_photo_url(const cJSON *value)
{
    const char *s = value->valuestring;
    static const char scheme[] = "https://";
    if (strncmp(s, scheme, sizeof scheme - 1) != 0)
        return icms__error(ICMS_EINVALID, "must be an https:// URL");
    const char *host = s + sizeof scheme - 1;
    if (*host == '\0' || *host == '/' || *host == '?' || *host == '#' || *host == ':')
        return icms__error(ICMS_EINVALID, "must name a host after https://");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || strchr("<>\"\\^`{|}", *p))
            return icms__error(ICMS_EINVALID,
                               "must be printable ASCII without spaces (percent-encode the rest)");
    return ICMS_OK;
}

/* ---- roles ---- */

static const char *const role_names[] = {"OWNER", "INVESTOR", "ADMIN", NULL};

static int check_roles(const cJSON *value)
{
    unsigned seen = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, value)
    {
        icms_role_t role;
        if (icms_role_parse(item->valuestring, &role) != ICMS_OK)
            return icms__error(ICMS_EINVALID, "has an unknown role");
        if (seen & (unsigned)role)
            return icms__error(ICMS_EINVALID, "names %s twice", item->valuestring);
        seen |= (unsigned)role;
    }
    return ICMS_OK;
}

/* ---- schemas ---- */

static const icms__json_field role_item = ICMS__JSON_F_ENUM(NULL, 0, role_names);

#define NAME_FIELD(fl)                                                                             \
    {                                                                                              \
        .name = "name", .kind = ICMS__JSON_STRING, .flags = (fl), .min = 1,                        \
        .max = ICMS_USER_NAME_MAX, .check = check_name                                             \
    }
#define EMAIL_FIELD(fl)                                                                            \
    {                                                                                              \
        .name = "email", .kind = ICMS__JSON_STRING, .flags = (fl), .min = 1,                       \
        .max = ICMS_USER_EMAIL_MAX, .check = check_email                                           \
    }
#define PHONE_FIELD                                                                                \
    {                                                                                              \
        .name = "phone", .kind = ICMS__JSON_STRING, .flags = ICMS__JSON_NULLABLE, .min = 1,        \
        .max = 16, .check = check_phone                                                            \
    }
#define PHOTO_FIELD                                                                                \
    {                                                                                              \
        .name = "photo_url", .kind = ICMS__JSON_STRING, .flags = ICMS__JSON_NULLABLE, .min = 1,    \
        .max = ICMS_USER_PHOTO_URL_MAX, .check = check_photo_url                                   \
    }

static const icms__json_field create_fields[] = {
    NAME_FIELD(ICMS__JSON_REQUIRED),
    EMAIL_FIELD(ICMS__JSON_REQUIRED),
    PHONE_FIELD,
    PHOTO_FIELD,
    {.name = "roles",
     .kind = ICMS__JSON_ARRAY,
     .min = 0,
     .max = 3,
     .items = &role_item,
     .check = check_roles},
};
const icms__json_schema icms__user_create_schema = ICMS__JSON_SCHEMA(create_fields);

static const icms__json_field bootstrap_fields[] = {
    NAME_FIELD(ICMS__JSON_REQUIRED),
    EMAIL_FIELD(ICMS__JSON_REQUIRED),
    PHONE_FIELD,
    PHOTO_FIELD,
};
const icms__json_schema icms__user_bootstrap_schema = ICMS__JSON_SCHEMA(bootstrap_fields);

static const icms__json_field update_fields[] = {
    NAME_FIELD(0),
    EMAIL_FIELD(0),
    PHONE_FIELD,
    PHOTO_FIELD,
};
const icms__json_schema icms__user_update_schema = ICMS__JSON_SCHEMA(update_fields);

/* ---- KYC metadata (docs/users.md, "KYC metadata") ---- */

/* ISO 3166-1 alpha-2 shape: two upper-case ASCII letters. */
static int check_country(const cJSON *value)
{
    const char *s = value->valuestring;
    if (strlen(s) != 2 || s[0] < 'A' || s[0] > 'Z' || s[1] < 'A' || s[1] > 'Z')
        return icms__error(ICMS_EINVALID, "must be an ISO 3166-1 alpha-2 code (\"DE\")");
    return ICMS_OK;
}

/* A calendar date YYYY-MM-DD that exists. */
static int check_date(const cJSON *value)
{
    const char *s = value->valuestring;
    char text[32];
    int64_t ms;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return icms__error(ICMS_EINVALID, "must be a date YYYY-MM-DD");
    snprintf(text, sizeof text, "%sT00:00:00Z", s);
    if (icms__time_parse(text, strlen(text), &ms) != ICMS_OK)
        return icms__error(ICMS_EINVALID, "must be a date YYYY-MM-DD that exists");
    return ICMS_OK;
}

/* Free text: no control characters (they hide in logs and screens). */
static int check_text(const cJSON *value)
{
    for (const unsigned char *p = (const unsigned char *)value->valuestring; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return icms__error(ICMS_EINVALID, "must not contain control characters");
    return ICMS_OK;
}

static const char *const document_kinds[] = {"passport",         "national_id", "driving_license",
                                             "residence_permit", "other",       NULL};

#define TEXT_FIELD(n, fl, hi)                                                                      \
    {                                                                                              \
        .name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = 1, .max = (hi),              \
        .check = check_text                                                                        \
    }
#define COUNTRY_FIELD(n, fl)                                                                       \
    {                                                                                              \
        .name = (n), .kind = ICMS__JSON_STRING, .flags = (fl), .min = 2, .max = 2,                 \
        .check = check_country                                                                     \
    }

static const icms__json_field address_fields[] = {
    TEXT_FIELD("line1", ICMS__JSON_REQUIRED, 200),
    TEXT_FIELD("line2", 0, 200),
    TEXT_FIELD("city", ICMS__JSON_REQUIRED, 100),
    TEXT_FIELD("postal_code", 0, 20),
    TEXT_FIELD("region", 0, 100),
    COUNTRY_FIELD("country", ICMS__JSON_REQUIRED),
};
static const icms__json_schema address_schema = ICMS__JSON_SCHEMA(address_fields);

static const icms__json_field file_item = TEXT_FIELD(NULL, 0, 512);

static const icms__json_field kyc_fields[] = {
    ICMS__JSON_F_ENUM("document", ICMS__JSON_REQUIRED, document_kinds),
    COUNTRY_FIELD("country", 0),
    TEXT_FIELD("number", 0, 64),
    {.name = "date_of_birth", .kind = ICMS__JSON_STRING, .min = 10, .max = 10, .check = check_date},
    COUNTRY_FIELD("nationality", 0),
    ICMS__JSON_F_OBJECT("address", 0, &address_schema),
    TEXT_FIELD("provider", 0, 64),
    TEXT_FIELD("provider_reference", 0, 200),
    ICMS__JSON_F_ARRAY("files", 0, 0, 20, &file_item),
    ICMS__JSON_F_OBJECT("extra", 0, NULL),
};
const icms__json_schema icms__user_kyc_metadata_schema = ICMS__JSON_SCHEMA(kyc_fields);

/* ---- arguments ---- */

int icms__user_parse_input(const char *what, const char *json, size_t max_bytes,
                           const icms__json_schema *schema, cJSON **out)
{
    *out = NULL;
    if (!json)
        return icms__error(ICMS_EINVALID, "%s: is required", what);
    /* Bound the length before measuring all of it. */
    size_t len = strnlen(json, max_bytes + 1);
    if (len > max_bytes)
        return icms__error(ICMS_EINVALID, "%s: is longer than %zu bytes", what, max_bytes);
    icms__json_limits limits = {max_bytes, 16};
    cJSON *doc = NULL;
    int rc = icms__json_parse(json, len, &limits, &doc);
    if (rc)
        return rc == ICMS_EINVALID ? icms__error_wrap(rc, what) : rc;
    /* Field errors already start with the field's name ("email: ..."). */
    if (schema && (rc = icms__json_check(doc, schema))) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}

int icms__user_parse_id(const char *text, uint8_t id[16])
{
    if (!text)
        return icms__error(ICMS_EINVALID, "id: is required");
    size_t len = strnlen(text, 64);
    int rc = icms__uuid_parse(text, len, id);
    return rc ? icms__error_wrap(rc, "id") : ICMS_OK;
}

int icms__user_check_email(const char *email)
{
    static const icms__json_field field = EMAIL_FIELD(ICMS__JSON_REQUIRED);
    if (!email)
        return icms__error(ICMS_EINVALID, "email: is required");
    cJSON value;
    memset(&value, 0, sizeof value);
    value.type = cJSON_String;
    value.valuestring = (char *)(uintptr_t)email; /* read only; a stack node allocates nothing */
    return icms__json_check_value(&value, &field, "email");
}
