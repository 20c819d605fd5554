#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "app/db.h"
#include "audit/audit.h"
#include "events/outbox.h"
#include "kv/tx.h"
#include "test_users_fixture.h"

static void init_requests(uf *f)
{
    icms_request init = ICMS_REQUEST_INIT;
    f->host = init;
    f->host.actor_kind = ICMS_ACTOR_HOST;
    f->anonymous = init;
    f->system = init;
    f->system.actor_kind = ICMS_ACTOR_SYSTEM;
}

static void user_request(uf_user *u)
{
    icms_request init = ICMS_REQUEST_INIT;
    u->req = init;
    u->req.actor_id = u->id;
}

void uf_open_store(uf *f, icms_store *store, unsigned retry_attempts)
{
    memset(f, 0, sizeof *f);
    icms_options options = ICMS_OPTIONS_INIT;
    options.store = store;
    options.retry_attempts = retry_attempts;
    assert_icms_ok(icms_clock_fake_new(UF_NOW, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_open(&f->db, &options));
    init_requests(f);
}

void uf_open(uf *f, const char *name)
{
    memset(f, 0, sizeof *f);
    snprintf(f->path, sizeof f->path, "%s/icms.db", icms_test_tmpdir(name));
    icms_options options = ICMS_OPTIONS_INIT;
    options.path = f->path;
    options.sqlite_sync = ICMS_SQLITE_SYNC_OFF; /* the tests do not pull the plug */
    assert_icms_ok(icms_clock_fake_new(UF_NOW, &options.clock));
    f->clock = options.clock;
    assert_icms_ok(icms_open(&f->db, &options));
    init_requests(f);
    char *out = NULL;
    assert_icms_ok(icms_user_bootstrap_admin(
        f->db, &f->host, "{\"name\":\"Ada Admin\",\"email\":\"ada@example.com\"}", &out));
    cJSON *doc = uf_json(out);
    snprintf(f->admin.id, sizeof f->admin.id, "%s", uf_str(doc, "id"));
    snprintf(f->admin.email, sizeof f->admin.email, "ada@example.com");
    cJSON_Delete(doc);
    user_request(&f->admin);
}

void uf_close(uf *f)
{
    icms_close(f->db);
    f->db = NULL;
}

icms_store *uf_store(const uf *f)
{
    return f->db->store;
}

void uf_create(uf *f, uf_user *u, const char *name, const char *email, const char *roles)
{
    char json[512];
    if (roles)
        snprintf(json, sizeof json, "{\"name\":\"%s\",\"email\":\"%s\",\"roles\":%s}", name, email,
                 roles);
    else
        snprintf(json, sizeof json, "{\"name\":\"%s\",\"email\":\"%s\"}", name, email);
    char *out = NULL;
    assert_icms_ok(icms_user_create(f->db, &f->host, json, &out));
    cJSON *doc = uf_json(out);
    snprintf(u->id, sizeof u->id, "%s", uf_str(doc, "id"));
    snprintf(u->email, sizeof u->email, "%s", email);
    cJSON_Delete(doc);
    user_request(u);
}

cJSON *uf_json(char *text)
{
    assert_non_null(text);
    cJSON *doc = cJSON_Parse(text);
    if (!doc)
        fail_msg("not JSON: %s", text);
    icms_free(text);
    return doc;
}

const char *uf_str(const cJSON *doc, const char *field)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, field);
    if (!cJSON_IsString(item))
        fail_msg("no string member %s", field);
    return item->valuestring;
}

bool uf_has(const cJSON *doc, const char *field)
{
    return cJSON_GetObjectItemCaseSensitive(doc, field) != NULL;
}

cJSON *uf_get(uf *f, const icms_request *req, const char *id, int *rc)
{
    char *out = NULL;
    *rc = icms_user_get(f->db, req, id, &out);
    if (*rc) {
        assert_null(out);
        return NULL;
    }
    return uf_json(out);
}

bool uf_contains(const uint8_t *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; n && i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

struct last_scan {
    const char *type;
    cJSON *last;
    int count;
};

static int on_entry(const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len,
                    void *payload)
{
    (void)key;
    (void)key_len;
    struct last_scan *scan = payload;
    cJSON *doc = cJSON_ParseWithLength((const char *)value, value_len);
    if (!doc)
        return ICMS_ECORRUPT;
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(doc, "type");
    if (scan->type && (!cJSON_IsString(type) || strcmp(type->valuestring, scan->type) != 0)) {
        cJSON_Delete(doc);
        return 0;
    }
    cJSON_Delete(scan->last);
    scan->last = doc;
    scan->count++;
    return 0;
}

static cJSON *last_under(uf *f, const icms__key *prefix, const char *type, int *count)
{
    icms__tx tx;
    struct last_scan scan = {type, NULL, 0};
    assert_icms_ok(icms__tx_begin(uf_store(f), ICMS_STORE_READ, &tx));
    assert_icms_ok(icms__tx_scan_prefix(&tx, prefix, 0, on_entry, &scan));
    icms__tx_rollback(&tx);
    if (count)
        *count = scan.count;
    return scan.last;
}

cJSON *uf_last_event(uf *f, const char *type, int *count)
{
    icms__key prefix;
    icms__outbox_prefix(&prefix);
    return last_under(f, &prefix, type, count);
}

cJSON *uf_last_audit(uf *f, int *count)
{
    icms__key prefix;
    icms__audit_prefix(&prefix);
    return last_under(f, &prefix, NULL, count);
}
