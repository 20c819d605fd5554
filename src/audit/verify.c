#include "audit/verify.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "audit/chain.h"
#include "core/core.h"

static const char checkpoint_domain[] = "icms-audit-checkpoint-v1";

/* The signed message: domain || NUL || seq (8 bytes big-endian) || hash. */
static void checkpoint_message(int64_t seq, const uint8_t hash[ICMS__AUDIT_HASH_LEN],
                               uint8_t out[sizeof checkpoint_domain + 8 + ICMS__AUDIT_HASH_LEN])
{
    memcpy(out, checkpoint_domain, sizeof checkpoint_domain);
    uint64_t u = (uint64_t)seq;
    for (int i = 0; i < 8; i++)
        out[sizeof checkpoint_domain + i] = (uint8_t)(u >> (56 - 8 * i));
    memcpy(out + sizeof checkpoint_domain + 8, hash, ICMS__AUDIT_HASH_LEN);
}

int icms__audit_checkpoint_make(icms__tx *tx, const uint8_t secret_key[64],
                                icms__audit_checkpoint *out)
{
    int rc = icms__audit_head(tx, &out->seq, out->hash);
    if (rc)
        return rc;
    uint8_t msg[sizeof checkpoint_domain + 8 + ICMS__AUDIT_HASH_LEN];
    checkpoint_message(out->seq, out->hash, msg);
    crypto_sign_detached(out->signature, NULL, msg, sizeof msg, secret_key);
    return ICMS_OK;
}

struct walk {
    int64_t expected_seq;
    uint8_t hash[ICMS__AUDIT_HASH_LEN];
    const icms__audit_checkpoint *checkpoint;
    bool checkpoint_reached;
    icms__audit_report *report;
};

static int fail(struct walk *w, int64_t seq, const char *reason)
{
    w->report->valid = false;
    w->report->bad_seq = seq;
    snprintf(w->report->reason, sizeof w->report->reason, "%s", reason);
    return ICMS_STORE_STOP;
}

static int on_entry(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    struct walk *w = payload;
    icms__key_reader r;
    icms__key_reader_init(&r, key, key_len);
    char table[8];
    int64_t key_seq, seq;
    uint8_t prev[ICMS__AUDIT_HASH_LEN];
    w->report->entries++;
    if (icms__key_read_str(&r, table, sizeof table) || icms__key_read_int(&r, &key_seq) ||
        !icms__key_reader_done(&r))
        return fail(w, w->expected_seq, "a malformed key in the audit range");
    if (key_seq != w->expected_seq)
        return fail(w, w->expected_seq, "an entry is missing (sequence gap)");
    if (icms__audit_parse_entry(value, value_len, &seq, prev) != ICMS_OK)
        return fail(w, key_seq, "an entry is malformed");
    if (seq != key_seq)
        return fail(w, key_seq, "an entry's seq does not match its position (reordered)");
    if (!icms__ct_equal(prev, w->hash, ICMS__AUDIT_HASH_LEN))
        return fail(w, key_seq, "an entry does not link to the one before it (edited)");
    icms__audit_link_hash(prev, value, value_len, w->hash);
    if (w->checkpoint && seq == w->checkpoint->seq) {
        w->checkpoint_reached = true;
        if (!icms__ct_equal(w->hash, w->checkpoint->hash, ICMS__AUDIT_HASH_LEN))
            return fail(w, seq, "the chain does not match the checkpoint (edited)");
    }
    w->expected_seq++;
    return 0;
}

int icms__audit_verify(icms__tx *tx, const icms__audit_checkpoint *checkpoint,
                       const uint8_t public_key[32], icms__audit_report *report)
{
    memset(report, 0, sizeof *report);
    report->valid = true;
    if (checkpoint) {
        uint8_t msg[sizeof checkpoint_domain + 8 + ICMS__AUDIT_HASH_LEN];
        checkpoint_message(checkpoint->seq, checkpoint->hash, msg);
        if (crypto_sign_verify_detached(checkpoint->signature, msg, sizeof msg, public_key) != 0) {
            report->valid = false;
            snprintf(report->reason, sizeof report->reason,
                     "the checkpoint's signature does not verify with this key");
            return ICMS_OK;
        }
    }
    struct walk w = {1, {0}, checkpoint, checkpoint == NULL || checkpoint->seq == 0, report};
    icms__key prefix;
    icms__audit_prefix(&prefix);
    int rc = icms__tx_scan_prefix(tx, &prefix, 0, on_entry, &w);
    if (rc)
        return rc;
    if (report->valid && !w.checkpoint_reached)
        fail(&w, checkpoint->seq, "entries the checkpoint covers are gone (truncated)");
    return ICMS_OK;
}
