#include "kv/log_memo.h"

#include <string.h>

#include "core/core.h"
#include "kv/tx_cache.h"

/* The memo's bytes in the transaction: what the owner sees, then what the hint needs. */
typedef struct log_memo {
    icms__log_memo pub; /* first: the owner's pointer is the memo's */
    uint8_t *entry;     /* the last entry's bytes (owned); NULL when seq is 0 */
    size_t entry_len;
    size_t entry_cap;
} log_memo;

/* A log memo's release function, which also marks memos as log memos. */
static void release(void *data)
{
    log_memo *m = data;
    icms__free(m->entry);
    m->entry = NULL;
}

static int keep_entry(log_memo *m, const void *entry, size_t len)
{
    if (len > m->entry_cap || !m->entry) {
        uint8_t *grown = icms__malloc(len ? len : 1);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        icms__free(m->entry);
        m->entry = grown;
        m->entry_cap = len;
    }
    memcpy(m->entry, entry, len);
    m->entry_len = len;
    return ICMS_OK;
}

static void seq_key(icms__key *key, const icms__key *prefix, int64_t seq)
{
    *key = *prefix;
    icms__key_int(key, seq);
}

/*
 * The handle's hint, if the store confirms it: its entry still holds the same
 * bytes and nothing follows it. *used false (and ICMS_OK) when there is no
 * hint or it is stale; an error only when the store fails.
 */
static int from_hint(icms__tx *tx, const void *tag, const icms__key *prefix, log_memo *m,
                     bool *used)
{
    *used = false;
    icms__log_hint hint;
    if (!tx->hints || !icms__hints_get(tx->hints, tag, &hint))
        return ICMS_OK;
    icms__key key;
    const uint8_t *value;
    size_t value_len;
    seq_key(&key, prefix, hint.seq);
    int rc = icms__tx_get(tx, &key, &value, &value_len);
    bool same =
        rc == ICMS_OK && value_len == hint.entry_len && memcmp(value, hint.entry, value_len) == 0;
    if (same) {
        seq_key(&key, prefix, hint.seq + 1);
        rc = icms__tx_get(tx, &key, &value, &value_len);
        same = rc == ICMS_ENOTFOUND;
    }
    if (rc == ICMS_OK || rc == ICMS_ENOTFOUND)
        rc = ICMS_OK;
    if (rc == ICMS_OK && same) {
        m->pub.seq = hint.seq;
        memcpy(m->pub.state, hint.state, sizeof m->pub.state);
        icms__free(m->entry);
        m->entry = hint.entry; /* taken */
        m->entry_len = m->entry_cap = hint.entry_len;
        hint.entry = NULL;
        *used = true;
    }
    icms__log_hint_clear(&hint);
    return rc;
}

struct last {
    log_memo *memo;
    icms__log_derive_fn derive;
    bool found;
};

static int on_last(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                   void *payload)
{
    struct last *last = payload;
    icms__key_reader r;
    char name[16];
    int64_t seq = 0;
    icms__key_reader_init(&r, key, key_len);
    int rc = icms__key_read_str(&r, name, sizeof name);
    if (rc == ICMS_OK)
        rc = icms__key_read_int(&r, &seq);
    if (rc == ICMS_OK && seq < 1)
        rc = icms__error(ICMS_ECORRUPT, "log %s has an entry numbered %lld", name, (long long)seq);
    if (rc == ICMS_OK && last->derive)
        rc = last->derive(value, value_len, seq, &last->memo->pub);
    if (rc == ICMS_OK)
        rc = keep_entry(last->memo, value, value_len);
    if (rc == ICMS_OK) {
        last->memo->pub.seq = seq;
        last->found = true;
    }
    return rc ? rc : ICMS_STORE_STOP;
}

static int fill(icms__tx *tx, const void *tag, const icms__key *prefix, icms__log_derive_fn derive,
                log_memo *m)
{
    bool used;
    int rc = from_hint(tx, tag, prefix, m, &used);
    if (rc || used)
        return rc;
    struct last last = {m, derive, false};
    return icms__tx_scan_prefix(tx, prefix, ICMS_STORE_SCAN_REVERSE, on_last, &last);
}

int icms__tx_log_memo(icms__tx *tx, const void *tag, const icms__key *prefix,
                      icms__log_derive_fn derive, icms__log_memo **out)
{
    void *data;
    bool fresh;
    int rc = icms__tx_memo(tx, tag, sizeof(log_memo), &data, &fresh);
    if (rc)
        return rc;
    if (fresh) {
        icms__tx_memo_set_release(tx, tag, release);
        if ((rc = fill(tx, tag, prefix, derive, data))) {
            icms__tx_memo_drop(tx, tag); /* not found: the next call looks again */
            return rc;
        }
    }
    *out = data;
    return ICMS_OK;
}

int icms__tx_log_appended(icms__tx *tx, icms__log_memo *memo, const void *entry, size_t len)
{
    (void)tx;
    log_memo *m = (log_memo *)memo;
    int rc = keep_entry(m, entry, len);
    if (rc == ICMS_OK)
        m->pub.seq++;
    return rc;
}

static void stage_one(const void *tag, void *data, void *arg)
{
    icms__log_staged *staged = arg;
    log_memo *m = data;
    if (m->pub.seq < 1 || !m->entry || staged->count == ICMS__LOG_STAGED_MAX)
        return;
    icms__log_hint *hint = &staged->hints[staged->count];
    staged->tags[staged->count++] = tag;
    hint->seq = m->pub.seq;
    memcpy(hint->state, m->pub.state, sizeof hint->state);
    hint->entry = m->entry; /* moved out: the memo is freed next */
    hint->entry_len = m->entry_len;
    m->entry = NULL;
}

void icms__tx_log_stage(icms__tx *tx, icms__log_staged *staged)
{
    staged->count = 0;
    if (tx->hints)
        icms__tx_memo_each(tx, release, stage_one, staged);
}

void icms__log_staged_finish(icms__hints *hints, icms__log_staged *staged, bool committed)
{
    for (size_t i = 0; i < staged->count; i++) {
        if (committed && hints)
            icms__hints_set(hints, staged->tags[i], &staged->hints[i]);
        else
            icms__log_hint_clear(&staged->hints[i]);
    }
    staged->count = 0;
}
