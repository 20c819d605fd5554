/* Appending to the audit chain and hashing its links. */
#include "audit/audit.h"
#include "audit/chain.h"

#include <string.h>

#include <sodium.h>

#include "core/core.h"
#include "core/json.h"
#include "core/sha256.h"
#include "kv/log_memo.h"

static const char hash_domain[] = "icms-audit-v1"; /* sizeof includes the NUL separator */

void icms__audit_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "audit");
}

void icms__audit_entry_key(icms__key *key, int64_t seq)
{
    icms__audit_prefix(key);
    icms__key_int(key, seq);
}

void icms__audit_link_hash(const uint8_t prev[ICMS__AUDIT_HASH_LEN], const uint8_t *entry,
                           size_t entry_len, uint8_t out[ICMS__AUDIT_HASH_LEN])
{
    icms__sha256_ctx st;
    icms__sha256_init(&st);
    icms__sha256_update(&st, hash_domain, sizeof hash_domain);
    icms__sha256_update(&st, prev, ICMS__AUDIT_HASH_LEN);
    icms__sha256_update(&st, entry, entry_len);
    icms__sha256_final(&st, out);
}

int icms__audit_parse_entry(const uint8_t *bytes, size_t len, int64_t *seq,
                            uint8_t prev[ICMS__AUDIT_HASH_LEN])
{
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    cJSON *doc = NULL;
    int parsed = icms__json_parse((const char *)bytes, len, &limits, &doc);
    if (parsed == ICMS_ENOMEM)
        return parsed; /* out of memory says nothing about the entry */
    if (parsed != ICMS_OK)
        return icms__error(ICMS_ECORRUPT, "audit entry is not JSON");
    const cJSON *jprev = icms__json_get(doc, "prev");
    int rc = ICMS_OK;
    size_t bin_len = 0;
    if (!icms__json_int64(icms__json_get(doc, "seq"), seq) || *seq < 1)
        rc = icms__error(ICMS_ECORRUPT, "audit entry has no valid seq");
    else if (!cJSON_IsString(jprev) || strlen(jprev->valuestring) != 2 * ICMS__AUDIT_HASH_LEN ||
             sodium_hex2bin(prev, ICMS__AUDIT_HASH_LEN, jprev->valuestring,
                            2 * ICMS__AUDIT_HASH_LEN, NULL, &bin_len, NULL) != 0 ||
             bin_len != ICMS__AUDIT_HASH_LEN)
        rc = icms__error(ICMS_ECORRUPT, "audit entry has no valid prev hash");
    cJSON_Delete(doc);
    return rc;
}

/* The chain's head is derived from its last entry, never kept twice in the store. */
static int derive_head(const uint8_t *entry, size_t len, int64_t seq, icms__log_memo *memo)
{
    int64_t entry_seq;
    uint8_t prev[ICMS__AUDIT_HASH_LEN];
    int rc = icms__audit_parse_entry(entry, len, &entry_seq, prev);
    if (rc == ICMS_OK && entry_seq != seq)
        rc = icms__error(ICMS_ECORRUPT, "audit entry %lld says it is entry %lld", (long long)seq,
                         (long long)entry_seq);
    if (rc == ICMS_OK)
        icms__audit_link_hash(prev, entry, len, memo->state);
    return rc;
}

_Static_assert(ICMS__AUDIT_HASH_LEN <= ICMS__LOG_STATE_MAX, "the head hash fits a log memo");

/* The memo of the chain's head: its seq, and its hash as the memo's state. */
static const char head_tag = 0;

static int head_of(icms__tx *tx, icms__log_memo **out)
{
    icms__key prefix;
    icms__audit_prefix(&prefix);
    return icms__tx_log_memo(tx, &head_tag, &prefix, derive_head, out);
}

int icms__audit_head(icms__tx *tx, int64_t *seq, uint8_t hash[ICMS__AUDIT_HASH_LEN])
{
    icms__log_memo *head;
    int rc = head_of(tx, &head);
    if (rc)
        return rc;
    *seq = head->seq;
    memcpy(hash, head->state, ICMS__AUDIT_HASH_LEN);
    return ICMS_OK;
}

static cJSON *entry_document(const icms__audit_entry *entry, int64_t seq,
                             const uint8_t prev[ICMS__AUDIT_HASH_LEN])
{
    char prev_hex[2 * ICMS__AUDIT_HASH_LEN + 1];
    sodium_bin2hex(prev_hex, sizeof prev_hex, prev, ICMS__AUDIT_HASH_LEN);
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc != NULL;
    ok = ok && cJSON_AddStringToObject(doc, "action", entry->action);
    ok = ok && cJSON_AddStringToObject(doc, "actor", entry->actor);
    ok = ok && icms__json_add_int64(doc, "at", entry->at_ms) == ICMS_OK;
    if (entry->correlation_id)
        ok = ok && cJSON_AddStringToObject(doc, "correlation_id", entry->correlation_id);
    if (ok && entry->data) {
        /* A reference, not a copy: the entry is written and dropped before data is. */
        cJSON *copy = cJSON_IsObject(entry->data) ? cJSON_CreateObjectReference(entry->data->child)
                                                  : cJSON_Duplicate(entry->data, true);
        if (!copy || !cJSON_AddItemToObject(doc, "data", copy)) {
            cJSON_Delete(copy);
            ok = false;
        }
    }
    ok = ok && cJSON_AddStringToObject(doc, "prev", prev_hex);
    ok = ok && icms__json_add_int64(doc, "seq", seq) == ICMS_OK;
    if (entry->subject)
        ok = ok && cJSON_AddStringToObject(doc, "subject", entry->subject);
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int icms__audit_append(icms__tx *tx, const icms__audit_entry *entry, int64_t *seq_out)
{
    if (!entry->action || !entry->actor)
        return icms__error(ICMS_EINVALID, "audit entry needs an action and an actor");
    icms__log_memo *head;
    int rc = head_of(tx, &head);
    if (rc)
        return rc;
    int64_t seq = head->seq + 1;

    cJSON *doc = entry_document(entry, seq, head->state);
    if (!doc)
        return icms__error(ICMS_ENOMEM, "out of memory building an audit entry");
    char *text = NULL;
    size_t text_len;
    rc = icms__json_write(doc, ICMS__JSON_CANONICAL, &text, &text_len);
    cJSON_Delete(doc);
    if (rc)
        return rc;

    icms__key key;
    icms__audit_entry_key(&key, seq);
    rc = icms__tx_put(tx, &key, text, text_len);
    if (rc == ICMS_OK)
        rc = icms__tx_log_appended(tx, head, text, text_len);
    if (rc == ICMS_OK) {
        uint8_t prev[ICMS__AUDIT_HASH_LEN];
        memcpy(prev, head->state, sizeof prev);
        icms__audit_link_hash(prev, (const uint8_t *)text, text_len, head->state);
        if (seq_out)
            *seq_out = seq;
    }
    icms__free(text);
    return rc;
}
