/*
 * The declarative schema checker. It walks a document beside a field table
 * and stops at the first problem, naming it by path ("products[2].unit_price")
 * so that a person can find and fix it. It allocates nothing.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core.h"
#include "json.h"
#include "rfc3339.h"
#include "utf8.h"
#include "uuid.h"

#define PATH_MAX_LEN 256

struct path {
    char buf[PATH_MAX_LEN];
    size_t len;
};

/* Append ".name" (or "name" at the top) and return the old length for path_pop. */
static size_t path_push_key(struct path *p, const char *name)
{
    size_t old = p->len;
    char quoted[48];
    icms__json_quote_key(name, quoted, sizeof quoted);
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "%s%s", p->len ? "." : "", quoted);
    if (n > 0)
        p->len += (size_t)n < sizeof p->buf - p->len ? (size_t)n : sizeof p->buf - p->len - 1;
    return old;
}

static size_t path_push_index(struct path *p, size_t index)
{
    size_t old = p->len;
    int n = snprintf(p->buf + p->len, sizeof p->buf - p->len, "[%zu]", index);
    if (n > 0)
        p->len += (size_t)n < sizeof p->buf - p->len ? (size_t)n : sizeof p->buf - p->len - 1;
    return old;
}

static void path_pop(struct path *p, size_t old)
{
    p->len = old;
    p->buf[old] = '\0';
}

static const char *path_name(const struct path *p)
{
    return p->len ? p->buf : "document";
}

static int check_value(const cJSON *value, const icms__json_field *field, struct path *path);

static int check_object(const cJSON *object, const icms__json_schema *schema, struct path *path)
{
    if (!cJSON_IsObject(object))
        return icms__error(ICMS_EINVALID, "%s: must be an object", path_name(path));
    /* Unknown members first, in document order: a typo is the likeliest mistake. */
    for (const cJSON *c = object->child; c; c = c->next) {
        if (!c->string)
            return icms__error(ICMS_EINVALID, "%s: has a member without a name", path_name(path));
        size_t i = 0;
        while (i < schema->count && strcmp(schema->fields[i].name, c->string) != 0)
            i++;
        if (i == schema->count) {
            path_push_key(path, c->string);
            return icms__error(ICMS_EINVALID, "%s: unknown field", path->buf);
        }
    }
    for (size_t i = 0; i < schema->count; i++) {
        const icms__json_field *field = &schema->fields[i];
        const cJSON *found = NULL;
        size_t old = path_push_key(path, field->name);
        for (const cJSON *c = object->child; c; c = c->next) {
            if (strcmp(c->string, field->name) != 0)
                continue;
            /* The reader refuses duplicates; a tree built in C might still have them. */
            if (found)
                return icms__error(ICMS_EINVALID, "%s: appears more than once", path->buf);
            found = c;
        }
        if (!found) {
            if (field->flags & ICMS__JSON_REQUIRED)
                return icms__error(ICMS_EINVALID, "%s: is required", path->buf);
        } else {
            int rc = check_value(found, field, path);
            if (rc)
                return rc;
        }
        path_pop(path, old);
    }
    return ICMS_OK;
}

static int check_string(const cJSON *value, const icms__json_field *field, struct path *path)
{
    const char *where = path_name(path);
    if (!cJSON_IsString(value) || !value->valuestring)
        return icms__error(ICMS_EINVALID, "%s: must be a string", where);
    const char *s = value->valuestring;
    size_t len = strlen(s);
    if (!icms__utf8_valid(s, len))
        return icms__error(ICMS_EINVALID, "%s: must be valid UTF-8", where);
    if ((int64_t)len < field->min) {
        if (field->min == 1)
            return icms__error(ICMS_EINVALID, "%s: must not be empty", where);
        return icms__error(ICMS_EINVALID, "%s: must be at least %" PRId64 " bytes long", where,
                           field->min);
    }
    if ((uint64_t)len > (uint64_t)(field->max < 0 ? 0 : field->max))
        return icms__error(ICMS_EINVALID, "%s: must be at most %" PRId64 " bytes long", where,
                           field->max);
    if (field->one_of) {
        bool match = false;
        for (const char *const *v = field->one_of; *v && !match; v++)
            match = strcmp(*v, s) == 0;
        if (!match) {
            char list[200];
            size_t o = 0;
            list[0] = '\0';
            for (const char *const *v = field->one_of; *v && o < sizeof list; v++) {
                int n = snprintf(list + o, sizeof list - o, "%s%s", o ? ", " : "", *v);
                if (n < 0)
                    break;
                o += (size_t)n;
            }
            return icms__error(ICMS_EINVALID, "%s: must be one of %s", where, list);
        }
    }
    int rc = ICMS_OK;
    if (field->format == ICMS__JSON_FMT_UUID) {
        uint8_t id[ICMS_UUID_BYTES];
        rc = icms__uuid_parse(s, len, id);
    } else if (field->format == ICMS__JSON_FMT_TIME) {
        int64_t ms;
        rc = icms__time_parse(s, len, &ms);
    }
    if (rc)
        return icms__error_wrap(rc, where);
    return ICMS_OK;
}

static int check_array(const cJSON *value, const icms__json_field *field, struct path *path)
{
    if (!cJSON_IsArray(value))
        return icms__error(ICMS_EINVALID, "%s: must be an array", path_name(path));
    size_t count = 0;
    for (const cJSON *c = value->child; c; c = c->next)
        count++;
    if ((int64_t)count < field->min)
        return icms__error(ICMS_EINVALID, "%s: must have at least %" PRId64 " item%s",
                           path_name(path), field->min, field->min == 1 ? "" : "s");
    if ((uint64_t)count > (uint64_t)(field->max < 0 ? 0 : field->max))
        return icms__error(ICMS_EINVALID, "%s: must have at most %" PRId64 " item%s",
                           path_name(path), field->max, field->max == 1 ? "" : "s");
    if (!field->items)
        return ICMS_OK;
    size_t index = 0;
    for (const cJSON *c = value->child; c; c = c->next, index++) {
        size_t old = path_push_index(path, index);
        int rc = check_value(c, field->items, path);
        if (rc)
            return rc;
        path_pop(path, old);
    }
    return ICMS_OK;
}

static int check_value(const cJSON *value, const icms__json_field *field, struct path *path)
{
    if ((field->flags & ICMS__JSON_NULLABLE) && cJSON_IsNull(value))
        return ICMS_OK;
    int rc = ICMS_OK;
    switch (field->kind) {
    case ICMS__JSON_STRING:
        rc = check_string(value, field, path);
        break;
    case ICMS__JSON_INTEGER: {
        int64_t v;
        if (!icms__json_int64(value, &v) || v < field->min || v > field->max)
            return icms__error(ICMS_EINVALID,
                               "%s: must be an integer between %" PRId64 " and %" PRId64,
                               path_name(path), field->min, field->max);
        break;
    }
    case ICMS__JSON_BOOLEAN:
        if (!cJSON_IsBool(value))
            return icms__error(ICMS_EINVALID, "%s: must be true or false", path_name(path));
        break;
    case ICMS__JSON_OBJECT:
        if (field->object)
            rc = check_object(value, field->object, path);
        else if (!cJSON_IsObject(value))
            rc = icms__error(ICMS_EINVALID, "%s: must be an object", path_name(path));
        break;
    case ICMS__JSON_ARRAY:
        rc = check_array(value, field, path);
        break;
    case ICMS__JSON_ANY:
        break;
    default:
        return icms__error(ICMS_ERROR, "%s: the schema has an unknown kind %d", path_name(path),
                           (int)field->kind);
    }
    if (rc)
        return rc;
    if (field->check) {
        rc = field->check(value);
        if (rc)
            return icms__error_wrap(rc, path_name(path));
    }
    return ICMS_OK;
}

int icms__json_check(const cJSON *doc, const icms__json_schema *schema)
{
    if (!schema)
        return icms__error(ICMS_EINVALID, "json: schema may not be NULL");
    struct path path = {{0}, 0};
    if (!doc)
        return icms__error(ICMS_EINVALID, "document: must be an object");
    return check_object(doc, schema, &path);
}

int icms__json_check_value(const cJSON *value, const icms__json_field *field, const char *name)
{
    if (!field)
        return icms__error(ICMS_EINVALID, "json: field may not be NULL");
    struct path path = {{0}, 0};
    if (name && name[0])
        path_push_key(&path, name);
    if (!value)
        return icms__error(ICMS_EINVALID, "%s: is required", path_name(&path));
    return check_value(value, field, &path);
}

int icms__json_parse_checked(const char *text, size_t len, const icms__json_limits *limits,
                             const icms__json_schema *schema, cJSON **out)
{
    if (!out)
        return icms__error(ICMS_EINVALID, "json: out may not be NULL");
    *out = NULL;
    cJSON *doc;
    int rc = icms__json_parse(text, len, limits, &doc);
    if (rc)
        return rc;
    rc = icms__json_check(doc, schema);
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    *out = doc;
    return ICMS_OK;
}
