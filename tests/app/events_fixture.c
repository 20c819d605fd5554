#include "events_fixture.h"

#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/db.h"
#include "audit/audit.h"
#include "core/json.h"
#include "events/consumer.h"
#include "events/outbox.h"
#include "icms/participations.h"
#include "icms/projects.h"

cJSON *ev_read(fx *f, const char *consumer, int64_t after, unsigned max)
{
    char *out = NULL;
    assert_icms_ok(icms_events_read(f->db, &f->host, consumer, after, max, &out));
    return fx_json(out);
}

static int on_event(int64_t seq, const uint8_t *value, size_t value_len, void *payload)
{
    (void)seq;
    cJSON *doc = NULL;
    int rc = icms__json_parse((const char *)value, value_len, NULL, &doc);
    if (rc)
        return rc;
    cJSON_AddItemToArray(payload, doc);
    return 0;
}

static int scan_all(icms__tx *tx, void *arg)
{
    cJSON *all = arg;
    while (cJSON_GetArraySize(all))
        cJSON_DeleteItemFromArray(all, 0);
    return icms__outbox_scan(tx, 0, 0, on_event, arg);
}

cJSON *ev_outbox(icms_db *db)
{
    cJSON *all = cJSON_CreateArray();
    assert_icms_ok(icms__db_read(db, scan_all, all));
    return all;
}

static int last(icms__tx *tx, void *arg)
{
    return icms__outbox_last_seq(tx, arg);
}

int64_t ev_last_seq(icms_db *db)
{
    int64_t seq = -1;
    assert_icms_ok(icms__db_read(db, last, &seq));
    return seq;
}

int64_t ev_seq(const cJSON *event)
{
    int64_t seq = -1;
    if (!icms__json_int64(icms__json_get(event, "seq"), &seq))
        fail_msg("event without seq");
    return seq;
}

struct text {
    char *s;
    size_t len;
};

static int on_audit(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key;
    (void)key_len;
    struct text *t = payload;
    char *s = realloc(t->s, t->len + value_len + 2);
    if (!s)
        return ICMS_ENOMEM;
    memcpy(s + t->len, value, value_len);
    t->len += value_len;
    s[t->len++] = '\n';
    s[t->len] = 0;
    t->s = s;
    return 0;
}

static int scan_audit(icms__tx *tx, void *arg)
{
    icms__key prefix;
    icms__audit_prefix(&prefix);
    return icms__tx_scan_prefix(tx, &prefix, 0, on_audit, arg);
}

char *ev_audit_text(icms_db *db)
{
    struct text t = {calloc(1, 1), 0};
    assert_icms_ok(icms__db_read(db, scan_audit, &t));
    return t.s;
}

void ev_published_project(fx *f, int days, char *id_out)
{
    char *out = NULL;
    assert_icms_ok(icms_project_create(f->db, &f->owner.req, fx_project_json(days), &out));
    cJSON *p = fx_json(out);
    snprintf(id_out, 37, "%s", fx_str(p, "id"));
    cJSON_Delete(p);
    assert_icms_ok(icms_project_publish(f->db, &f->owner.req, id_out, NULL));
}
