/*
 * Checking a record type's indexes against its records, for icms_check.
 *
 * Listing, uniqueness and the sweeps of icms_tick trust the index entries: a
 * missing entry hides a record from every page and lets a second record take
 * a unique value; a stale one lists a record under values it no longer has.
 * The record layer keeps them in step in the same transaction, so a problem
 * here means the file was changed behind the library (or a bug).
 *
 * Two passes. Forward: every record's expected entries exist (a unique one
 * naming this record). Backward: each index holds exactly as many entries
 * as its records expect, and every listing entry names a record that exists.
 * Together they leave no missing, foreign or stale entry unreported: the
 * expected entries are distinct keys (a listing key ends in its record's id;
 * two records claiming one unique key fail the forward pass), so equal counts
 * with every expected entry present mean no other entry is there.
 */
#include "kv/record_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/json.h"
#include "core/uuid.h"

struct index_tally {
    int64_t expected; /* entries the records call for */
    int64_t found;    /* entries stored under the index's prefix */
};

struct check_run {
    icms__tx *tx;
    const icms__record_type *type;
    icms__index_problem_fn report;
    void *payload;
    struct index_tally *tally; /* one per index of type */
    const icms__index_def *index; /* the index being counted (backward pass) */
};

static int problem(struct check_run *run, const char *fmt, ...) ICMS__PRINTF(2, 3);
static int problem(struct check_run *run, const char *fmt, ...)
{
    char text[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return run->report(text, run->payload);
}

static void prefix_of(icms__key *key, const icms__record_type *type, const icms__index_def *ix)
{
    icms__key_init(key);
    icms__key_str(key, ix->unique ? "u" : "i");
    icms__key_str(key, type->name);
    icms__key_str(key, ix->name);
}

/* Forward: the entry record id expects in index ix is there (and, if unique, names it). */
static int expect_entry(struct check_run *run, size_t i, const uint8_t id[16], const char *id_text,
                        const cJSON *doc)
{
    const icms__index_def *ix = &run->type->indexes[i];
    icms__key key;
    prefix_of(&key, run->type, ix);
    int rc = ix->extract(doc, &key);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK; /* no entry in this index */
    if (rc == ICMS_ENOMEM)
        return rc;
    if (rc) { /* a value the index cannot hold: the record is what is wrong */
        icms_error_clear();
        return problem(run, "%s %s: its %s values cannot be read", run->type->name, id_text,
                       ix->name);
    }
    if (!ix->unique)
        icms__key_id(&key, id);
    if (icms__key_check(&key) != ICMS_OK) {
        icms_error_clear();
        return problem(run, "%s %s: its %s entry would be too long", run->type->name, id_text,
                       ix->name);
    }
    run->tally[i].expected++;
    const uint8_t *owner;
    size_t owner_len;
    rc = icms__tx_get(run->tx, &key, &owner, &owner_len);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        return problem(run, "%s %s: its %s entry is missing", run->type->name, id_text, ix->name);
    }
    if (rc)
        return rc;
    if (ix->unique && (owner_len != 16 || memcmp(owner, id, 16) != 0))
        return problem(run, "%s %s: its %s entry names another record", run->type->name,
                       id_text, ix->name);
    return ICMS_OK;
}

static int on_record(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                     void *payload)
{
    struct check_run *run = payload;
    if (key_len < 17 || key[key_len - 17] != ICMS__KEY_TAG_ID)
        return problem(run, "a %s record's key has no id", run->type->name);
    uint8_t id[16];
    char id_text[ICMS_UUID_STRING_SIZE];
    memcpy(id, key + key_len - 16, 16);
    icms__uuid_format(id, id_text);
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    cJSON *doc = NULL;
    int rc = icms__json_parse((const char *)value, len, &limits, &doc);
    if (rc == ICMS_EINVALID) { /* icms_check reports unreadable records itself */
        icms_error_clear();
        return ICMS_OK;
    }
    for (size_t i = 0; rc == ICMS_OK && i < run->type->index_count; i++)
        rc = expect_entry(run, i, id, id_text, doc);
    cJSON_Delete(doc);
    return rc;
}

/* Backward: count the index's entries; a listing entry must name a record that exists. */
static int on_entry(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                    void *payload)
{
    struct check_run *run = payload;
    const icms__index_def *ix = run->index;
    run->tally[ix - run->type->indexes].found++;
    const uint8_t *id;
    if (ix->unique) {
        if (len != 16)
            return problem(run, "%s index %s: an entry whose value is not an id",
                           run->type->name, ix->name);
        id = value;
    } else {
        if (key_len < 17 || key[key_len - 17] != ICMS__KEY_TAG_ID)
            return problem(run, "%s index %s: an entry without an id", run->type->name, ix->name);
        id = key + key_len - 16;
    }
    uint8_t owner[16];
    memcpy(owner, id, 16); /* the borrowed key and value end at the next call on tx */
    icms__key record;
    icms__key_init(&record);
    icms__key_str(&record, "r");
    icms__key_str(&record, run->type->name);
    icms__key_id(&record, owner);
    const uint8_t *bytes;
    size_t bytes_len;
    int rc = icms__tx_get(run->tx, &record, &bytes, &bytes_len);
    if (rc == ICMS_ENOTFOUND) {
        icms_error_clear();
        char id_text[ICMS_UUID_STRING_SIZE];
        icms__uuid_format(owner, id_text);
        return problem(run, "%s index %s: an entry for %s, which is not a record",
                       run->type->name, ix->name, id_text);
    }
    return rc;
}

int icms__record_check_indexes(icms__tx *tx, const icms__record_type *type,
                               icms__index_problem_fn report, void *payload)
{
    if (type->index_count == 0)
        return ICMS_OK;
    struct check_run run = {tx, type, report, payload, NULL, NULL};
    run.tally = icms__calloc(type->index_count, sizeof *run.tally);
    if (!run.tally)
        return icms__error(ICMS_ENOMEM, "out of memory");
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, "r");
    icms__key_str(&prefix, type->name);
    int rc = icms__tx_scan_prefix(tx, &prefix, 0, on_record, &run);
    for (size_t i = 0; rc == ICMS_OK && i < type->index_count; i++) {
        run.index = &type->indexes[i];
        prefix_of(&prefix, type, run.index);
        rc = icms__tx_scan_prefix(tx, &prefix, 0, on_entry, &run);
        if (rc == ICMS_OK && run.tally[i].found != run.tally[i].expected)
            rc = problem(&run, "%s index %s holds %lld entries; its records call for %lld",
                         type->name, run.index->name, (long long)run.tally[i].found,
                         (long long)run.tally[i].expected);
    }
    icms__free(run.tally);
    return rc;
}
