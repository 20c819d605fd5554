#include "kv/record.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"

void icms__record_key(icms__key *key, const icms__record_type *type, const uint8_t id[16])
{
    icms__key_init(key);
    icms__key_str(key, "r");
    icms__key_str(key, type->name);
    icms__key_id(key, id);
}

static void index_prefix(icms__key *key, const icms__record_type *type, const icms__index_def *ix)
{
    icms__key_init(key);
    icms__key_str(key, ix->unique ? "u" : "i");
    icms__key_str(key, type->name);
    icms__key_str(key, ix->name);
}

/*
 * The store key of doc's entry in index ix; ICMS_ENOTFOUND when the document
 * has no entry there.
 */
static int index_key(const icms__record_type *type, const icms__index_def *ix, const cJSON *doc,
                     const uint8_t id[16], icms__key *key)
{
    index_prefix(key, type, ix);
    int rc = ix->extract(doc, key);
    if (rc)
        return rc;
    if (!ix->unique)
        icms__key_id(key, id);
    return icms__key_check(key);
}

static int parse_doc(const uint8_t *value, size_t len, cJSON **out)
{
    /* Our own parser, not cJSON's: it keeps int64 amounts exact. */
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    int rc = icms__json_parse((const char *)value, len, &limits, out);
    if (rc == ICMS_EINVALID)
        return icms__error(ICMS_ECORRUPT, "stored record is not valid JSON: %s",
                           icms_error_last()->message);
    return rc;
}

int icms__record_get(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     cJSON **out)
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    icms__record_key(&key, type, id);
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    if (rc)
        return rc;
    return parse_doc(value, len, out);
}

/* Remove old's entries from the indexes whose key changed (or from all when doc is NULL). */
static int unindex(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                   const cJSON *old, const cJSON *doc)
{
    for (size_t i = 0; i < type->index_count; i++) {
        const icms__index_def *ix = &type->indexes[i];
        icms__key old_key, new_key;
        int rc = index_key(type, ix, old, id, &old_key);
        if (rc == ICMS_ENOTFOUND)
            continue;
        if (rc)
            return rc;
        if (doc) {
            rc = index_key(type, ix, doc, id, &new_key);
            if (rc == ICMS_OK && new_key.len == old_key.len &&
                memcmp(new_key.bytes, old_key.bytes, old_key.len) == 0)
                continue;
            if (rc && rc != ICMS_ENOTFOUND)
                return rc;
        }
        rc = icms__tx_del(tx, &old_key);
        if (rc)
            return rc;
    }
    return ICMS_OK;
}

/* Whether old already has exactly the entry key in index ix (so nothing needs writing). */
static bool entry_unchanged(const icms__record_type *type, const icms__index_def *ix,
                            const cJSON *old, const uint8_t id[16], const icms__key *key)
{
    icms__key old_key;
    if (!old || index_key(type, ix, old, id, &old_key) != ICMS_OK) {
        icms_error_clear();
        return false;
    }
    return old_key.len == key->len && memcmp(old_key.bytes, key->bytes, key->len) == 0;
}

static int index_one(icms__tx *tx, const icms__record_type *type, const icms__index_def *ix,
                     const uint8_t id[16], const cJSON *old, const cJSON *doc)
{
    icms__key key;
    int rc = index_key(type, ix, doc, id, &key);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK;
    if (rc)
        return rc;
    /* Most updates leave most index values alone: write only entries that changed. */
    if (entry_unchanged(type, ix, old, id, &key))
        return ICMS_OK;
    if (!ix->unique)
        return icms__tx_put(tx, &key, "", 0);

    const uint8_t *owner;
    size_t owner_len;
    rc = icms__tx_get(tx, &key, &owner, &owner_len);
    if (rc == ICMS_OK) {
        if (owner_len == 16 && memcmp(owner, id, 16) == 0)
            return ICMS_OK;
        return icms__error(ICMS_EEXISTS, "%s: %s is already taken", type->name, ix->name);
    }
    if (rc != ICMS_ENOTFOUND)
        return rc;
    return icms__tx_put(tx, &key, id, 16);
}

int icms__record_put(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     const cJSON *doc)
{
    cJSON *old = NULL;
    int rc = icms__record_get(tx, type, id, &old);
    if (rc == ICMS_ENOTFOUND)
        rc = ICMS_OK;
    if (rc == ICMS_OK && old)
        rc = unindex(tx, type, id, old, doc);
    for (size_t i = 0; rc == ICMS_OK && i < type->index_count; i++)
        rc = index_one(tx, type, &type->indexes[i], id, old, doc);
    cJSON_Delete(old);
    if (rc)
        return rc;

    char *text;
    size_t text_len;
    if ((rc = icms__json_write(doc, 0, &text, &text_len)))
        return rc;
    icms__key key;
    icms__record_key(&key, type, id);
    rc = icms__tx_put(tx, &key, text, text_len);
    icms__free(text);
    return rc;
}

int icms__record_delete(icms__tx *tx, const icms__record_type *type, const uint8_t id[16])
{
    cJSON *old = NULL;
    int rc = icms__record_get(tx, type, id, &old);
    if (rc)
        return rc;
    rc = unindex(tx, type, id, old, NULL);
    cJSON_Delete(old);
    if (rc)
        return rc;
    icms__key key;
    icms__record_key(&key, type, id);
    return icms__tx_del(tx, &key);
}

static const icms__index_def *find_index(const icms__record_type *type, const char *name)
{
    for (size_t i = 0; i < type->index_count; i++)
        if (strcmp(type->indexes[i].name, name) == 0)
            return &type->indexes[i];
    return NULL;
}

int icms__record_find_unique(icms__tx *tx, const icms__record_type *type, const char *index,
                             const icms__key *values, uint8_t id_out[16])
{
    const icms__index_def *ix = find_index(type, index);
    if (!ix || !ix->unique)
        return icms__error(ICMS_ERROR, "%s has no unique index %s", type->name, index);
    icms__key key;
    index_prefix(&key, type, ix);
    if (key.len + values->len > sizeof key.bytes)
        return icms__error(ICMS_ELIMIT, "index key too long");
    memcpy(key.bytes + key.len, values->bytes, values->len);
    key.len += values->len;
    const uint8_t *owner;
    size_t owner_len;
    int rc = icms__tx_get(tx, &key, &owner, &owner_len);
    if (rc)
        return rc;
    if (owner_len != 16)
        return icms__error(ICMS_ECORRUPT, "%s: corrupt unique index %s", type->name, index);
    memcpy(id_out, owner, 16);
    return ICMS_OK;
}

struct index_scan {
    icms__index_cb cb;
    void *payload;
};

static int on_index_entry(const uint8_t *key, size_t key_len, const uint8_t *value,
                          size_t value_len, void *payload)
{
    (void)value;
    (void)value_len;
    struct index_scan *scan = payload;
    if (key_len < 17 || key[key_len - 17] != ICMS__KEY_TAG_ID)
        return icms__error(ICMS_ECORRUPT, "index entry without an id");
    return scan->cb(key + key_len - 16, scan->payload);
}

int icms__record_scan_index(icms__tx *tx, const icms__record_type *type, const char *index,
                            const icms__key *values, const uint8_t *after, unsigned int flags,
                            icms__index_cb cb, void *payload)
{
    const icms__index_def *ix = find_index(type, index);
    if (!ix || ix->unique)
        return icms__error(ICMS_ERROR, "%s has no listing index %s", type->name, index);
    icms__key prefix, start, end;
    index_prefix(&prefix, type, ix);
    if (prefix.len + values->len > sizeof prefix.bytes)
        return icms__error(ICMS_ELIMIT, "index key too long");
    memcpy(prefix.bytes + prefix.len, values->bytes, values->len);
    prefix.len += values->len;
    int rc = icms__key_prefix_end(&prefix, &end);
    if (rc)
        return rc;
    start = prefix;
    struct index_scan scan = {cb, payload};
    if (!after)
        return icms__tx_scan_range(tx, &start, &end, flags, on_index_entry, &scan);

    /* The cursor's own entry is (values..., after): resume just beyond it. */
    icms__key cursor = prefix;
    icms__key_id(&cursor, after);
    if ((rc = icms__key_check(&cursor)))
        return rc;
    if (flags & ICMS_STORE_SCAN_REVERSE)
        return icms__tx_scan_range(tx, &start, &cursor, flags, on_index_entry, &scan);
    if (cursor.len == sizeof cursor.bytes)
        return icms__error(ICMS_ELIMIT, "index key too long");
    cursor.bytes[cursor.len++] = 0x00; /* the least key after the cursor's entry */
    return icms__tx_scan_range(tx, &cursor, &end, flags, on_index_entry, &scan);
}
