/* The public face of the audit chain: key pairs, checkpoints, verification. */
#include "icms/audit.h"

#include <string.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "app/db.h"
#include "audit/verify.h"
#include "core/core.h"
#include "core/json.h"

int icms_audit_keypair(uint8_t *public_key, size_t public_key_len, uint8_t *secret_key,
                       size_t secret_key_len)
{
    if (!public_key || !secret_key || public_key_len != ICMS_AUDIT_PUBLIC_KEY_BYTES ||
        secret_key_len != ICMS_AUDIT_SECRET_KEY_BYTES)
        return icms__error(ICMS_EINVALID, "an audit key pair is a 32-byte public key and a "
                                          "64-byte secret key");
    crypto_sign_keypair(public_key, secret_key);
    return ICMS_OK;
}

struct checkpoint_call {
    const uint8_t *secret_key;
    icms__audit_checkpoint checkpoint;
};

static int make_checkpoint(icms__tx *tx, void *arg)
{
    struct checkpoint_call *call = arg;
    return icms__audit_checkpoint_make(tx, call->secret_key, &call->checkpoint);
}

static char *checkpoint_json(const icms__audit_checkpoint *cp)
{
    char hash[2 * ICMS__AUDIT_HASH_LEN + 1], sig[2 * 64 + 1];
    sodium_bin2hex(hash, sizeof hash, cp->hash, sizeof cp->hash);
    sodium_bin2hex(sig, sizeof sig, cp->signature, sizeof cp->signature);
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc && icms__json_add_int64(doc, "seq", cp->seq) == ICMS_OK &&
              cJSON_AddStringToObject(doc, "hash", hash) &&
              cJSON_AddStringToObject(doc, "signature", sig);
    char *text = NULL;
    if (!ok || icms__json_write(doc, 0, &text, NULL) != ICMS_OK)
        text = NULL;
    cJSON_Delete(doc);
    return text;
}

int icms_audit_checkpoint(icms_db *db, const uint8_t *secret_key, size_t secret_key_len,
                          char **checkpoint_out)
{
    if (!db || !secret_key || !checkpoint_out)
        return icms__error(ICMS_EINVALID, "icms_audit_checkpoint needs db, key and out");
    *checkpoint_out = NULL;
    if (secret_key_len != ICMS_AUDIT_SECRET_KEY_BYTES)
        return icms__error(ICMS_EINVALID, "the checkpoint secret key must be %d bytes",
                           ICMS_AUDIT_SECRET_KEY_BYTES);
    struct checkpoint_call call = {secret_key, {0}};
    int rc = icms__db_read(db, make_checkpoint, &call);
    if (rc)
        return rc;
    *checkpoint_out = checkpoint_json(&call.checkpoint);
    return *checkpoint_out ? ICMS_OK : icms__error(ICMS_ENOMEM, "out of memory");
}

static int hex_field(const cJSON *doc, const char *name, uint8_t *out, size_t out_len)
{
    const cJSON *item = icms__json_get(doc, name);
    size_t bin_len = 0;
    if (!cJSON_IsString(item) || strlen(item->valuestring) != 2 * out_len ||
        sodium_hex2bin(out, out_len, item->valuestring, 2 * out_len, NULL, &bin_len, NULL) != 0 ||
        bin_len != out_len)
        return icms__error(ICMS_EINVALID, "checkpoint: %s must be %zu bytes of hex", name,
                           out_len);
    return ICMS_OK;
}

static int parse_checkpoint(const char *text, icms__audit_checkpoint *cp)
{
    cJSON *doc = NULL;
    int rc = icms__json_parse(text, strlen(text), NULL, &doc);
    if (rc)
        return rc;
    if (!cJSON_IsObject(doc))
        rc = icms__error(ICMS_EINVALID, "checkpoint: not a JSON object");
    else if (!icms__json_int64(icms__json_get(doc, "seq"), &cp->seq) || cp->seq < 0)
        rc = icms__error(ICMS_EINVALID, "checkpoint: seq must be a non-negative integer");
    if (rc == ICMS_OK)
        rc = hex_field(doc, "hash", cp->hash, sizeof cp->hash);
    if (rc == ICMS_OK)
        rc = hex_field(doc, "signature", cp->signature, sizeof cp->signature);
    cJSON_Delete(doc);
    return rc;
}

struct verify_call {
    const icms__audit_checkpoint *checkpoint;
    const uint8_t *public_key;
    icms__audit_report report;
};

static int verify_chain(icms__tx *tx, void *arg)
{
    struct verify_call *call = arg;
    return icms__audit_verify(tx, call->checkpoint, call->public_key, &call->report);
}

static char *report_json(const icms__audit_report *report)
{
    cJSON *doc = cJSON_CreateObject();
    bool ok = doc && cJSON_AddBoolToObject(doc, "valid", report->valid) &&
              icms__json_add_int64(doc, "entries", report->entries) == ICMS_OK &&
              icms__json_add_int64(doc, "bad_seq", report->bad_seq) == ICMS_OK &&
              cJSON_AddStringToObject(doc, "reason", report->reason);
    char *text = NULL;
    if (!ok || icms__json_write(doc, 0, &text, NULL) != ICMS_OK)
        text = NULL;
    cJSON_Delete(doc);
    return text;
}

int icms_audit_verify(icms_db *db, const char *checkpoint, const uint8_t *public_key,
                      size_t public_key_len, char **report_out)
{
    if (report_out)
        *report_out = NULL;
    if (!db)
        return icms__error(ICMS_EINVALID, "icms_audit_verify needs a database");
    icms__audit_checkpoint cp;
    struct verify_call call = {NULL, public_key, {0}};
    if (checkpoint) {
        if (!public_key || public_key_len != ICMS_AUDIT_PUBLIC_KEY_BYTES)
            return icms__error(ICMS_EINVALID, "verifying a checkpoint needs its 32-byte public key");
        int rc = parse_checkpoint(checkpoint, &cp);
        if (rc)
            return rc;
        call.checkpoint = &cp;
    }
    int rc = icms__db_read(db, verify_chain, &call);
    if (rc)
        return rc;
    if (report_out && !(*report_out = report_json(&call.report)))
        return icms__error(ICMS_ENOMEM, "out of memory");
    if (!call.report.valid)
        return icms__error(ICMS_ECORRUPT, "audit chain: %s (at entry %lld)", call.report.reason,
                           (long long)call.report.bad_seq);
    return ICMS_OK;
}
