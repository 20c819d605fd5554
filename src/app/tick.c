/*
 * icms_tick: the periodic work, run by the system actor.
 *
 * The expiry sweep walks the open_deadline index (PUBLISHED and FUNDING
 * projects by deadline) up to now, a batch of ids in a read transaction at a
 * time, and expires each project in its own write command, which decides
 * again from the project as it is then. So two processes sweeping at once
 * cannot expire a project twice, and a project funded meanwhile is left
 * alone. Projects held by an in-flight payment are skipped past, not retried
 * in a loop.
 */
#include <string.h>

#include "app/events_hub.h"
#include "app/auth_hook.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/tick_payments.h"
#include "core/core.h"
#include "icms/projects.h"

#define TICK_BATCH 64
#define TICK_MAX_BATCHES 1000 /* bounds one call; the next tick carries on */

struct due {
    uint8_t ids[TICK_BATCH][16];
    size_t count;
    icms__key resume; /* the index key after the batch's last entry */
    int64_t now_ms;
    bool more;
};

static int on_due(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                  void *payload)
{
    (void)value;
    (void)value_len;
    struct due *due = payload;
    if (key_len < 17 || key_len >= ICMS_STORE_KEY_MAX)
        return icms__error(ICMS_ECORRUPT, "malformed deadline index entry");
    if (due->count == TICK_BATCH) {
        due->more = true;
        return ICMS_STORE_STOP;
    }
    memcpy(due->ids[due->count++], key + key_len - 16, 16);
    memcpy(due->resume.bytes, key, key_len);
    due->resume.bytes[key_len] = 0x00; /* the least key after this entry */
    due->resume.len = key_len + 1;
    return 0;
}

static void deadline_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "i");
    icms__key_str(key, icms__project_record.name);
    icms__key_str(key, "open_deadline");
}

static int read_due(icms__tx *tx, void *arg)
{
    struct due *due = arg;
    due->count = 0;
    due->more = false;
    icms__key start = due->resume, end;
    /* Entries (deadline, id) with deadline <= now sort before (now + 1). */
    deadline_prefix(&end);
    icms__key_int(&end, due->now_ms < INT64_MAX ? due->now_ms + 1 : INT64_MAX);
    return icms__tx_scan_range(tx, &start, &end, 0, on_due, due);
}

struct expire_call {
    const uint8_t *id;
    int outcome; /* 1 expired, 0 held or no longer due */
};

static int expire_project(icms__cmd *cmd)
{
    struct expire_call *call = cmd->arg;
    cJSON *project = NULL;
    call->outcome = 0;
    int rc = icms__record_get(cmd->tx, &icms__project_record, call->id, &project);
    if (rc)
        return rc == ICMS_ENOTFOUND ? ICMS_OK : rc;
    rc = icms__project_check(cmd, project, ICMS__PROJECT_EXPIRE);
    if (rc == ICMS_EINVALID_TRANSITION) { /* funded, held by a payment, or already ended */
        cJSON_Delete(project);
        icms_error_clear();
        return ICMS_OK;
    }
    cJSON *data = cJSON_CreateObject();
    if (rc == ICMS_OK && !data)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__project_transition(cmd, project, ICMS__PROJECT_EXPIRE, data);
    if (rc == ICMS_OK)
        rc = icms__project_save(cmd, call->id, project);
    cJSON_Delete(data);
    cJSON_Delete(project);
    if (rc == ICMS_OK)
        call->outcome = 1;
    return rc;
}

int icms_tick(icms_db *db, char **report_out)
{
    if (report_out)
        *report_out = NULL;
    if (!db)
        return icms__error(ICMS_EINVALID, "icms_tick needs a database");
    icms_request req = ICMS_REQUEST_INIT;
    req.actor_kind = ICMS_ACTOR_SYSTEM;
    struct due due;
    memset(&due, 0, sizeof due);
    deadline_prefix(&due.resume);
    due.now_ms = icms__db_now(db);
    int64_t expired = 0, held = 0, batches = 0;
    int rc = ICMS_OK;
    do {
        if ((rc = icms__db_read(db, read_due, &due)))
            break;
        batches++;
        for (size_t i = 0; rc == ICMS_OK && i < due.count; i++) {
            struct expire_call call = {due.ids[i], 0};
            rc = icms__command(db, &req, "project.expire", NULL, expire_project, &call, NULL);
            if (call.outcome)
                expired++;
            else
                held++;
        }
    } while (rc == ICMS_OK && due.more && batches < TICK_MAX_BATCHES);
    int64_t sessions = 0;
    if (rc == ICMS_OK) /* expired sessions and their refresh tokens (src/app/auth_sweep.c) */
        rc = icms__auth_sweep(db, due.now_ms, &sessions);
    icms__tick_payment_report payments = {0, 0};
    if (rc == ICMS_OK)
        rc = icms__tick_payments(db, &payments);
    if (rc == ICMS_OK && !report_out)
        rc = icms__events_tick(db, NULL); /* notifications and retention */
    if (rc)
        return rc;
    if (report_out) {
        cJSON *report = cJSON_CreateObject();
        rc = report ? icms__json_add_int64(report, "expired", expired) : ICMS_ENOMEM;
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(report, "held", held);
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(report, "batches", batches);
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(report, "sessions_swept", sessions);
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(report, "payments_verified", payments.verified);
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(report, "node_errors", payments.node_errors);
        if (rc == ICMS_OK)
            rc = icms__events_tick(db, report);
        if (rc == ICMS_OK)
            rc = icms__json_write(report, 0, report_out, NULL);
        cJSON_Delete(report);
    }
    return rc;
}
