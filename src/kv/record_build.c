/*
 * Building a listing index that is new to a file: one entry for every record
 * of the type that has a value for it (an upgrade of the file's format,
 * app/format.c). The entries are gathered first and written after the scan,
 * so no store is asked to write while it walks the records.
 */
#include "kv/record_build.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"

/* The entries to write, packed: for each, its length (2 bytes, big-endian) and its bytes. */
struct gathered {
    const icms__record_type *type;
    const icms__index_def *index;
    uint8_t *packed;
    size_t len, capacity, count;
};

static int pack(struct gathered *g, const icms__key *entry)
{
    if (entry->len + 2 > g->capacity - g->len) {
        size_t more = 2 * g->capacity + entry->len + 2 + 4096;
        uint8_t *bigger = icms__realloc(g->packed, more);
        if (!bigger)
            return icms__error(ICMS_ENOMEM, "out of memory");
        g->packed = bigger;
        g->capacity = more;
    }
    g->packed[g->len++] = (uint8_t)(entry->len >> 8);
    g->packed[g->len++] = (uint8_t)entry->len;
    memcpy(g->packed + g->len, entry->bytes, entry->len);
    g->len += entry->len;
    g->count++;
    return ICMS_OK;
}

static int gather(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                  void *payload)
{
    struct gathered *g = payload;
    if (key_len < 17 || key[key_len - 17] != ICMS__KEY_TAG_ID)
        return icms__error(ICMS_ECORRUPT, "a %s record's key has no id", g->type->name);
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    cJSON *doc = NULL;
    int rc = icms__json_parse((const char *)value, len, &limits, &doc);
    if (rc == ICMS_EINVALID)
        return icms__error(ICMS_ECORRUPT, "a stored %s record is not JSON", g->type->name);
    if (rc)
        return rc;
    icms__key entry;
    icms__key_init(&entry);
    icms__key_str(&entry, "i");
    icms__key_str(&entry, g->type->name);
    icms__key_str(&entry, g->index->name);
    rc = g->index->extract(doc, &entry);
    cJSON_Delete(doc);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK; /* this record has no entry in the index */
    if (rc)
        return rc;
    icms__key_id(&entry, key + key_len - 16);
    if ((rc = icms__key_check(&entry)))
        return rc;
    return pack(g, &entry);
}

int icms__record_build_index(icms__tx *tx, const icms__record_type *type, const char *index,
                             size_t *built)
{
    const icms__index_def *ix = NULL;
    for (size_t i = 0; i < type->index_count && !ix; i++)
        if (strcmp(type->indexes[i].name, index) == 0)
            ix = &type->indexes[i];
    if (!ix || ix->unique)
        return icms__error(ICMS_ERROR, "%s has no listing index %s", type->name, index);
    struct gathered g = {type, ix, NULL, 0, 0, 0};
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, "r");
    icms__key_str(&prefix, type->name);
    int rc = icms__tx_scan_prefix(tx, &prefix, 0, gather, &g);
    icms__key entry;
    for (size_t at = 0; rc == ICMS_OK && at < g.len; at += entry.len) {
        icms__key_init(&entry);
        entry.len = (size_t)g.packed[at] << 8 | g.packed[at + 1];
        at += 2;
        memcpy(entry.bytes, g.packed + at, entry.len);
        rc = icms__tx_put(tx, &entry, "", 0);
    }
    if (rc == ICMS_OK && built)
        *built = g.count;
    icms__free(g.packed);
    return rc;
}
