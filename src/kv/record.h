/*
 * Typed records: JSON documents under ("r", type, id), with the secondary
 * indexes of their type kept in the same transaction.
 *
 * An index entry is the key ("i", type, index, values..., id) with an empty
 * value, so listing by an index is one prefix scan that never reads records
 * it does not return. A unique index is the key ("u", type, index, values...)
 * whose value is the owner's id; a second record with the same values is
 * refused with ICMS_EEXISTS.
 */
#ifndef ICMS_SRC_KV_RECORD_H
#define ICMS_SRC_KV_RECORD_H

#include <cjson/cJSON.h>

#include "kv/tx.h"

/*
 * Append this record's indexed values to key. Return ICMS_OK, or
 * ICMS_ENOTFOUND when the record has no entry in this index (an optional
 * field is absent); any other code is an error.
 */
typedef int (*icms__index_extract_fn)(const cJSON *doc, icms__key *key);

typedef struct icms__index_def {
    const char *name;
    icms__index_extract_fn extract;
    bool unique;
} icms__index_def;

typedef struct icms__record_type {
    const char *name;
    const icms__index_def *indexes;
    size_t index_count;
} icms__record_type;

/*
 * Three ways to read a record, by what the caller does with it:
 *   icms__record_peek  only looks: borrowed, read-only, no copy;
 *   icms__record_get   keeps or changes it: the caller's own copy;
 *   icms__record_take  keeps it and reads it no more in this transaction:
 *                      the caller's own, moved out of a read transaction
 *                      instead of copied.
 * icms__record_ref (below) lends the transaction's copy for changing in place.
 */

/* Read a record; *out is the caller's (cJSON_Delete). ICMS_ENOTFOUND when absent. */
int icms__record_get(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     cJSON **out);

/*
 * The transaction's copy of a record, borrowed for reading only: never change
 * or free it. It stays valid until the transaction ends (even if the record
 * is written or deleted meanwhile). ICMS_ENOTFOUND when absent.
 */
int icms__record_peek(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                      const cJSON **doc);

/*
 * icms__record_get for a caller that will not read the record again in this
 * transaction. In a read transaction the transaction's own document is handed
 * over (the transaction forgets it, and would parse it again if asked); in a
 * write transaction, or when the document is lent, *out is a copy. *out is
 * the caller's either way (cJSON_Delete).
 */
int icms__record_take(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                      cJSON **out);

/*
 * The transaction's own copy of a record, borrowed: no copy is made, for
 * code that reads a record many times in one transaction. It stays valid
 * until the transaction ends or the record is deleted or written raw. The
 * caller may change it only to write it back with icms__record_put (same
 * pointer, no copy); never free it. ICMS_ENOTFOUND when absent.
 */
int icms__record_ref(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     cJSON **doc);

/*
 * A record as one transaction found it, kept so that a later transaction
 * that finds the same bytes need not parse them again (payment verification
 * reads a payment, asks the node with no transaction open, then reads it
 * again to apply the answer).
 */
typedef struct icms__record_seen {
    uint8_t *bytes; /* the stored value (owned) */
    size_t len;
    cJSON *doc; /* parsed from bytes (owned); NULL once taken */
} icms__record_seen;

/*
 * Keep record id's stored bytes in *seen with doc (taken: the caller's copy
 * of the record, as icms__record_get gave it). Errors: the store's;
 * ICMS_ENOTFOUND; ICMS_ENOMEM (doc is freed all the same).
 */
int icms__record_see(icms__tx *tx, const icms__record_type *type, const uint8_t id[16], cJSON *doc,
                     icms__record_seen *seen);

/*
 * icms__record_ref, except that when the transaction first loads the record
 * and the store holds exactly seen's bytes, seen's document becomes the
 * transaction's (taken from seen) instead of parsing the bytes. seen may be
 * NULL.
 */
int icms__record_ref_seen(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                          icms__record_seen *seen, cJSON **doc);

void icms__record_seen_clear(icms__record_seen *seen);

/*
 * Insert or replace a record, updating every index of its type. doc stays
 * the caller's, unless it is the record's own (from icms__record_ref).
 */
int icms__record_put(icms__tx *tx, const icms__record_type *type, const uint8_t id[16],
                     const cJSON *doc);

/* Remove a record and its index entries; ICMS_ENOTFOUND when absent. */
int icms__record_delete(icms__tx *tx, const icms__record_type *type, const uint8_t id[16]);

/* The id that owns values in a unique index; ICMS_ENOTFOUND when none. */
int icms__record_find_unique(icms__tx *tx, const icms__record_type *type, const char *index,
                             const icms__key *values, uint8_t id_out[16]);

/*
 * Visit, in index order, the ids whose index values start with `values`
 * (a key holding just the value elements; empty for the whole index).
 * With after != NULL (a cursor: the last id seen), continue just past the
 * entry (values..., after); for that, values must hold every indexed value.
 * cb returns 0 to go on, ICMS_STORE_STOP to stop, or a negative error.
 */
typedef int (*icms__index_cb)(const uint8_t id[16], void *payload);
int icms__record_scan_index(icms__tx *tx, const icms__record_type *type, const char *index,
                            const icms__key *values, const uint8_t *after, unsigned int flags,
                            icms__index_cb cb, void *payload);

/* Keys, exposed for tests and for the invariant checker. */
void icms__record_key(icms__key *key, const icms__record_type *type, const uint8_t id[16]);

#endif
