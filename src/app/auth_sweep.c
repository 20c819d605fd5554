/*
 * The session sweep icms_tick runs: sessions whose expiry has passed are
 * deleted with their refresh records, a batch per write command, each batch
 * with one audit entry. Revoked sessions stay until their expiry, so a
 * refresh token of a revoked session still reads as "session ended" rather
 * than "unknown" until then. Failed-login counters whose window has passed
 * go too.
 */
#include <string.h>

#include "app/auth_cmd.h"
#include "app/auth_hook.h"
#include "core/core.h"
#include "core/json.h"

#define SWEEP_BATCH 64
#define SWEEP_MAX_BATCHES 1000

struct due {
    uint8_t ids[SWEEP_BATCH][16];
    size_t count;
    bool more;
    int64_t now_ms;
};

static void expiry_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "i");
    icms__key_str(key, icms__auth_session_record.name);
    icms__key_str(key, "by_expiry");
}

static int on_due(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                  void *payload)
{
    (void)value;
    (void)value_len;
    struct due *due = payload;
    if (key_len < 17)
        return icms__error(ICMS_ECORRUPT, "malformed session expiry index entry");
    if (due->count == SWEEP_BATCH) {
        due->more = true;
        return ICMS_STORE_STOP;
    }
    memcpy(due->ids[due->count++], key + key_len - 16, 16);
    return 0;
}

static int read_due(icms__tx *tx, void *arg)
{
    struct due *due = arg;
    due->count = 0;
    due->more = false;
    icms__key start, end;
    expiry_prefix(&start);
    expiry_prefix(&end); /* entries with expiry <= now sort before (now + 1) */
    icms__key_int(&end, due->now_ms < INT64_MAX ? due->now_ms + 1 : INT64_MAX);
    return icms__tx_scan_range(tx, &start, &end, 0, on_due, due);
}

struct refresh_ids {
    uint8_t (*ids)[16];
    size_t count, cap;
};

static int collect(const uint8_t id[16], void *payload)
{
    struct refresh_ids *l = payload;
    if (l->count == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void *grown = icms__realloc(l->ids, cap * 16);
        if (!grown)
            return icms__error(ICMS_ENOMEM, "out of memory");
        l->ids = grown;
        l->cap = cap;
    }
    memcpy(l->ids[l->count++], id, 16);
    return 0;
}

/* Delete a session and every refresh record of its family. */
int icms__auth_delete_session(icms__tx *tx, const uint8_t sid[16])
{
    struct refresh_ids l = {NULL, 0, 0};
    icms__key values;
    icms__key_init(&values);
    icms__key_id(&values, sid);
    int rc = icms__record_scan_index(tx, &icms__auth_refresh_record, "by_session", &values, NULL, 0,
                                     collect, &l);
    for (size_t i = 0; rc == ICMS_OK && i < l.count; i++)
        rc = icms__record_delete(tx, &icms__auth_refresh_record, l.ids[i]);
    icms__free(l.ids);
    if (rc == ICMS_OK)
        rc = icms__record_delete(tx, &icms__auth_session_record, sid);
    return rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
}

struct sweep_arg {
    struct due *due;
    int64_t deleted;
};

static int sweep_batch(icms__cmd *cmd)
{
    struct sweep_arg *arg = cmd->arg;
    arg->deleted = 0;
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < arg->due->count; i++) {
        cJSON *doc = NULL;
        rc = icms__record_get(cmd->tx, &icms__auth_session_record, arg->due->ids[i], &doc);
        if (rc == ICMS_ENOTFOUND) { /* another sweeper was first */
            icms_error_clear();
            rc = ICMS_OK;
            continue;
        }
        cJSON_Delete(doc);
        if (rc == ICMS_OK)
            rc = icms__auth_delete_session(cmd->tx, arg->due->ids[i]);
        if (rc == ICMS_OK)
            arg->deleted++;
    }
    if (rc || !arg->deleted)
        return rc;
    cJSON *data = cJSON_CreateObject();
    rc = data ? icms__json_add_int64(data, "sessions", arg->deleted) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__cmd_audit(cmd, "auth.sessions_swept", NULL, data);
    cJSON_Delete(data);
    return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
}

/* ---- failed-login counters whose window has passed ---- */

#define FAIL_BATCH 64

struct stale {
    icms__key keys[FAIL_BATCH];
    size_t count;
    bool more;
    int64_t now_ms;
};

static int on_counter(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                      void *payload)
{
    struct stale *st = payload;
    cJSON *doc = NULL;
    int64_t until = 0;
    if (icms__json_parse((const char *)value, value_len, NULL, &doc) != ICMS_OK ||
        !icms__json_int64(icms__json_get(doc, "until"), &until))
        until = 0; /* unreadable: nothing to keep */
    cJSON_Delete(doc);
    icms_error_clear();
    if (until > st->now_ms)
        return 0;
    if (st->count == FAIL_BATCH) {
        st->more = true;
        return ICMS_STORE_STOP;
    }
    memcpy(st->keys[st->count].bytes, key, key_len);
    st->keys[st->count].len = key_len;
    st->keys[st->count].overflow = false;
    st->count++;
    return 0;
}

/* Counters are not records of anyone's act: dropping them needs no audit entry. */
static int drop_stale_counters(icms__tx *tx, void *arg)
{
    struct stale *st = arg;
    st->count = 0;
    st->more = false;
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, "auth");
    icms__key_str(&prefix, "fail");
    int rc = icms__tx_scan_prefix(tx, &prefix, 0, on_counter, st);
    for (size_t i = 0; rc == ICMS_OK && i < st->count; i++)
        rc = icms__tx_del(tx, &st->keys[i]);
    return rc;
}

static int sweep_counters(icms_db *db, int64_t now_ms)
{
    struct stale *st = icms__calloc(1, sizeof *st);
    if (!st)
        return ICMS_ENOMEM;
    st->now_ms = now_ms;
    int rc = ICMS_OK;
    for (int batch = 0; rc == ICMS_OK && batch < SWEEP_MAX_BATCHES; batch++) {
        rc = icms__db_write(db, drop_stale_counters, st);
        if (!st->more)
            break;
    }
    icms__free(st);
    return rc;
}

int icms__auth_sweep(icms_db *db, int64_t now_ms, int64_t *swept)
{
    if (swept)
        *swept = 0;
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_kind = ICMS_ACTOR_SYSTEM;
    struct due *due = icms__calloc(1, sizeof *due);
    if (!due)
        return ICMS_ENOMEM;
    due->now_ms = now_ms;
    int rc = ICMS_OK;
    for (int batch = 0; rc == ICMS_OK && batch < SWEEP_MAX_BATCHES; batch++) {
        if ((rc = icms__db_read(db, read_due, due)) || !due->count)
            break;
        struct sweep_arg arg = {due, 0};
        rc = icms__command(db, &req, "auth.sweep", NULL, sweep_batch, &arg, NULL);
        if (rc == ICMS_OK && swept)
            *swept += arg.deleted;
        if (!due->more || !arg.deleted)
            break;
    }
    icms__free(due);
    if (rc == ICMS_OK)
        rc = sweep_counters(db, now_ms);
    return rc;
}
