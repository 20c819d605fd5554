#include "kv/record.h"

#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "kv/tx_cache.h"

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

/*
 * The transaction's cache entry for a record, loaded from the store the first
 * time: PRESENT with the parsed document, or ABSENT.
 */
static int load_seen(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     icms__record_seen *seen, icms__cached **out)
{
    icms__key key;
    icms__record_key(&key, type, id);
    int rc = icms__key_check(&key);
    if (rc == ICMS_OK)
        rc = icms__tx_cache_entry(tx, &key, out);
    if (rc)
        return rc;
    if ((*out)->state == ICMS__CACHED_PRESENT && !(*out)->doc) { /* written raw, deferred */
        cJSON *doc = NULL;
        if ((rc = parse_doc((*out)->bytes, (*out)->bytes_len, &doc)))
            return rc;
        bool dirty = (*out)->dirty;
        icms__tx_cache_set(tx, *out, doc, dirty);
        return ICMS_OK;
    }
    if ((*out)->state != ICMS__CACHED_UNKNOWN)
        return rc;
    const uint8_t *value;
    size_t len;
    rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND) {
        icms__tx_cache_set(tx, *out, NULL, false);
        return ICMS_OK;
    }
    cJSON *doc = NULL;
    if (rc == ICMS_OK && seen && seen->doc && seen->len == len &&
        memcmp(seen->bytes, value, len) == 0) {
        doc = seen->doc; /* the same bytes: the same document */
        seen->doc = NULL;
    } else if (rc == ICMS_OK) {
        rc = parse_doc(value, len, &doc);
    }
    if (rc == ICMS_OK)
        icms__tx_cache_set(tx, *out, doc, false);
    return rc;
}

static int load(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                icms__cached **out)
{
    return load_seen(tx, type, id, NULL, out);
}

/*
 * Index entry keys, all of a record's at once, as one blob: for each index of
 * the type in order, a 2-byte big-endian length and the key, or 0xFFFF for
 * no entry in that index.
 */
#define NO_ENTRY 0xFFFFu

/*
 * Make room for need more bytes at *len in a buffer that starts as the
 * caller's local array and moves to the heap only when a record's keys
 * outgrow it (a worst-case buffer on the heap, index_count times the largest
 * key, was a 4 KiB allocation per call, large enough to make glibc consolidate
 * its free lists every time).
 */
static int reserve(uint8_t **buf, size_t *cap, size_t len, size_t need, uint8_t *local)
{
    if (need <= *cap - len)
        return ICMS_OK;
    size_t grown = 2 * *cap + need;
    uint8_t *bigger = icms__malloc(grown);
    if (!bigger)
        return icms__error(ICMS_ENOMEM, "out of memory");
    memcpy(bigger, *buf, len);
    if (*buf != local)
        icms__free(*buf);
    *buf = bigger;
    *cap = grown;
    return ICMS_OK;
}

static int keys_of(const icms__record_type *type, const uint8_t id[16], const cJSON *doc,
                   uint8_t **blob, size_t *blob_len)
{
    *blob = NULL;
    *blob_len = 0;
    if (!doc || type->index_count == 0)
        return ICMS_OK;
    uint8_t local[512];
    uint8_t *out = local;
    size_t cap = sizeof local, len = 0;
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < type->index_count; i++) {
        icms__key key;
        rc = index_key(type, &type->indexes[i], doc, id, &key);
        if (rc && rc != ICMS_ENOTFOUND)
            break;
        bool present = rc == ICMS_OK;
        size_t n = present ? key.len : NO_ENTRY;
        rc = reserve(&out, &cap, len, 2 + (present ? key.len : 0), local);
        if (rc)
            break;
        out[len++] = (uint8_t)(n >> 8);
        out[len++] = (uint8_t)n;
        if (present) {
            memcpy(out + len, key.bytes, key.len);
            len += key.len;
        }
    }
    if (rc == ICMS_OK && out == local) { /* the blob itself, exactly its size */
        uint8_t *exact = icms__malloc(len ? len : 1);
        if (!exact)
            rc = icms__error(ICMS_ENOMEM, "out of memory");
        else
            memcpy(exact, local, len);
        out = exact;
    }
    if (rc) {
        if (out != local)
            icms__free(out);
        return rc;
    }
    *blob = out;
    *blob_len = len;
    return ICMS_OK;
}

/* The next index's entry in a blob: *present false when the record has none there. */
static void next_key(const uint8_t *blob, size_t *pos, bool *present, const uint8_t **key,
                     size_t *key_len)
{
    if (!blob) {
        *present = false;
        return;
    }
    size_t n = (size_t)blob[*pos] << 8 | blob[*pos + 1];
    *pos += 2;
    *present = n != NO_ENTRY;
    if (*present) {
        *key = blob + *pos;
        *key_len = n;
        *pos += n;
    }
}

static int key_from(const uint8_t *bytes, size_t len, icms__key *key)
{
    icms__key_init(key);
    memcpy(key->bytes, bytes, len);
    key->len = len;
    return icms__key_check(key);
}

/*
 * Bring index ix from the old entry to the new one (either may be absent).
 * Most updates leave most index values alone: an unchanged entry is not
 * written at all.
 */
static int reindex(icms__tx *tx, const icms__record_type *type, const icms__index_def *ix,
                   const uint8_t id[16], bool has_old, const uint8_t *old_key, size_t old_len,
                   bool has_new, const uint8_t *new_key, size_t new_len)
{
    if (has_old && has_new && old_len == new_len && memcmp(old_key, new_key, old_len) == 0)
        return ICMS_OK;
    icms__key key;
    int rc = ICMS_OK;
    if (has_old && (rc = key_from(old_key, old_len, &key)) == ICMS_OK)
        rc = icms__tx_del(tx, &key);
    if (rc || !has_new)
        return rc;
    if ((rc = key_from(new_key, new_len, &key)))
        return rc;
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

static int reindex_all(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                       const uint8_t *old_blob, const uint8_t *new_blob)
{
    size_t old_pos = 0, new_pos = 0;
    for (size_t i = 0; i < type->index_count; i++) {
        bool has_old, has_new;
        const uint8_t *old_key = NULL, *new_key = NULL;
        size_t old_len = 0, new_len = 0;
        next_key(old_blob, &old_pos, &has_old, &old_key, &old_len);
        next_key(new_blob, &new_pos, &has_new, &new_key, &new_len);
        int rc = reindex(tx, type, &type->indexes[i], id, has_old, old_key, old_len, has_new,
                         new_key, new_len);
        if (rc)
            return rc;
    }
    return ICMS_OK;
}

/* Make sure the entry knows its stored index keys (from its document, unchanged so far). */
static int know_keys(const icms__record_type *type, const uint8_t id[16], icms__cached *cached)
{
    if (cached->index_keys_known)
        return ICMS_OK;
    int rc = keys_of(type, id, cached->doc, &cached->index_keys, &cached->index_keys_len);
    cached->index_keys_known = rc == ICMS_OK;
    return rc;
}

int icms__record_ref(icms__tx *tx, const icms__record_type *type, const uint8_t id[16], cJSON **doc)
{
    return icms__record_ref_seen(tx, type, id, NULL, doc);
}

int icms__record_ref_seen(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                          icms__record_seen *seen, cJSON **doc)
{
    icms__cached *cached;
    int rc = load_seen(tx, type, id, seen, &cached);
    if (rc)
        return rc;
    if (cached->state == ICMS__CACHED_ABSENT)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    /* The caller may change the document: note its index entries while they are known. */
    if ((rc = know_keys(type, id, cached)))
        return rc;
    cached->lent = true;
    *doc = cached->doc;
    return ICMS_OK;
}

int icms__record_see(icms__tx *tx, const icms__record_type *type, const uint8_t id[16], cJSON *doc,
                     icms__record_seen *seen)
{
    icms__record_seen_clear(seen);
    icms__key key;
    icms__record_key(&key, type, id);
    const uint8_t *value;
    size_t len;
    int rc = icms__key_check(&key);
    if (rc == ICMS_OK)
        rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        rc = icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    if (rc == ICMS_OK && !(seen->bytes = icms__malloc(len ? len : 1)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc) {
        cJSON_Delete(doc);
        return rc;
    }
    memcpy(seen->bytes, value, len);
    seen->len = len;
    seen->doc = doc;
    return ICMS_OK;
}

void icms__record_seen_clear(icms__record_seen *seen)
{
    icms__free(seen->bytes);
    cJSON_Delete(seen->doc);
    *seen = (icms__record_seen){NULL, 0, NULL};
}

int icms__record_get(icms__tx *tx, const icms__record_type *type, const uint8_t id[16], cJSON **out)
{
    icms__cached *cached;
    int rc = load(tx, type, id, &cached);
    if (rc)
        return rc;
    if (cached->state == ICMS__CACHED_ABSENT)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    /* The caller owns what it gets and may change it; the cache keeps its own. */
    *out = cJSON_Duplicate(cached->doc, true);
    return *out ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
}

int icms__record_peek(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                      const cJSON **doc)
{
    icms__cached *cached;
    int rc = load(tx, type, id, &cached);
    if (rc)
        return rc;
    if (cached->state == ICMS__CACHED_ABSENT)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    cached->lent = true; /* kept alive until the transaction ends, whatever happens to it */
    *doc = cached->doc;
    return ICMS_OK;
}

int icms__record_take(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                      cJSON **out)
{
    icms__cached *cached;
    int rc = load(tx, type, id, &cached);
    if (rc)
        return rc;
    if (cached->state == ICMS__CACHED_ABSENT)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    /* A read transaction writes nothing back, so its clean document can simply move. */
    if (tx->mode != ICMS_STORE_READ || cached->lent || cached->dirty) {
        *out = cJSON_Duplicate(cached->doc, true);
        return *out ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
    }
    *out = cached->doc;
    cached->doc = NULL;
    icms__tx_cache_forget(tx, cached);
    return ICMS_OK;
}

int icms__record_put(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     const cJSON *doc)
{
    icms__cached *cached;
    int rc = load(tx, type, id, &cached);
    if (rc == ICMS_OK)
        rc = know_keys(type, id, cached);
    uint8_t *keys = NULL;
    size_t keys_len = 0;
    if (rc == ICMS_OK)
        rc = keys_of(type, id, doc, &keys, &keys_len);
    if (rc == ICMS_OK)
        rc = reindex_all(tx, type, id, cached->index_keys, keys);
    cJSON *copy = NULL;
    if (rc == ICMS_OK && doc != cached->doc && !(copy = cJSON_Duplicate(doc, true)))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc) {
        icms__free(keys);
        return rc;
    }
    /* Stored when the transaction commits: a record written many times is written once. */
    if (copy) {
        icms__tx_cache_set(tx, cached, copy, true);
    } else { /* its own document, changed in place */
        icms__free(cached->index_keys);
        icms__free(cached->bytes);
        cached->bytes = NULL;
        cached->bytes_len = 0;
        cached->dirty = true;
    }
    cached->index_keys = keys;
    cached->index_keys_len = keys_len;
    cached->index_keys_known = true;
    return ICMS_OK;
}

int icms__record_delete(icms__tx *tx, const icms__record_type *type, const uint8_t id[16])
{
    icms__cached *cached;
    int rc = load(tx, type, id, &cached);
    if (rc)
        return rc;
    if (cached->state == ICMS__CACHED_ABSENT)
        return icms__error(ICMS_ENOTFOUND, "%s not found", type->name);
    if ((rc = know_keys(type, id, cached)) ||
        (rc = reindex_all(tx, type, id, cached->index_keys, NULL)))
        return rc;
    icms__key key;
    icms__record_key(&key, type, id);
    if ((rc = icms__tx_del(tx, &key)))
        return rc;
    icms__tx_cache_set(tx, cached, NULL, false);
    cached->index_keys_known = true; /* none */
    return ICMS_OK;
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
