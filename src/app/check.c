/*
 * icms_check: recompute what the ledger and the records imply, and compare
 * with what is stored. Every violation is reported, not just the first.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/ledger.h"
#include "app/payment_doc.h"
#include "app/project_cmd.h"
#include "app/records.h"
#include "app/release.h"
#include "app/sums.h"
#include "app/notify_doc.h"
#include "audit/verify.h"
#include "auth/store.h"
#include "core/core.h"
#include "kv/record_check.h"
#include "icms/payments.h"

#define MAX_REPORTED 100

struct check {
    icms__tx *tx;
    cJSON *violations;
    int64_t violation_count;
    int64_t entries, payments, projects, participations, refunds, payouts, releases, outpoints;
    icms__sums *balances;    /* recomputed from the ledger entries */
    icms__sums *credited;    /* by project, and by participation */
    icms__sums *in_flight;   /* SUBMITTED payments by project */
    icms__sums *committed;   /* APPROVED commitments by project */
    icms__sums *refunds_due; /* DUE refunds, payouts and releases by their due account */
    icms__sums *released;    /* DUE and PAID releases by project */
    icms__sums *seen;        /* the projects there are */
};

static int violation(struct check *c, const char *fmt, ...) ICMS__PRINTF(2, 3);
static int violation(struct check *c, const char *fmt, ...)
{
    c->violation_count++;
    if (c->violation_count > MAX_REPORTED)
        return ICMS_OK;
    char text[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    cJSON *item = cJSON_CreateString(text);
    return item ? icms__json_add(c->violations, NULL, item) : ICMS_ENOMEM;
}

static int parse(const uint8_t *value, size_t len, cJSON **out)
{
    static const icms__json_limits limits = {ICMS_STORE_VALUE_MAX, ICMS__JSON_MAX_DEPTH_DEFAULT};
    return icms__json_parse((const char *)value, len, &limits, out);
}

static int64_t num(const cJSON *doc, const char *field)
{
    int64_t v;
    return icms__json_int64(icms__json_get(doc, field), &v) ? v : 0;
}

static const char *str(const cJSON *doc, const char *field)
{
    const char *s = icms__json_get_string(doc, field);
    return s ? s : "";
}

/* Scan every record of a type, or a raw prefix, handing each parsed value to fn. */
struct scan {
    struct check *c;
    int (*fn)(struct check *c, const uint8_t *key, size_t key_len, cJSON *doc);
};

static int on_value(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                    void *payload)
{
    struct scan *s = payload;
    cJSON *doc = NULL;
    int rc = parse(value, len, &doc);
    if (rc == ICMS_EINVALID) {
        icms_error_clear();
        return violation(s->c, "a stored value is not JSON (%zu-byte key)", key_len);
    }
    if (rc == ICMS_OK)
        rc = s->fn(s->c, key, key_len, doc);
    cJSON_Delete(doc);
    return rc;
}

static int scan_prefix(struct check *c, const char *first, const char *second,
                       int (*fn)(struct check *, const uint8_t *, size_t, cJSON *))
{
    icms__key prefix;
    icms__key_init(&prefix);
    icms__key_str(&prefix, first);
    if (second)
        icms__key_str(&prefix, second);
    struct scan s = {c, fn};
    return icms__tx_scan_prefix(c->tx, &prefix, 0, on_value, &s);
}

/* ---- the ledger ---- */

static int on_entry(struct check *c, const uint8_t *key, size_t key_len, cJSON *entry)
{
    (void)key;
    (void)key_len;
    c->entries++;
    int64_t sum = 0;
    const cJSON *p;
    cJSON_ArrayForEach(p, icms__json_get(entry, "postings"))
    {
        int64_t amount = num(p, "amount");
        if (!icms__add_i64(sum, amount, &sum))
            return violation(c, "ledger entry %lld overflows", (long long)num(entry, "seq"));
        int rc = icms__sums_add(c->balances, str(p, "account"), amount);
        if (rc)
            return rc;
    }
    if (sum != 0)
        return violation(c, "ledger entry %lld does not balance (off by %lld)",
                         (long long)num(entry, "seq"), (long long)sum);
    return ICMS_OK;
}

struct balance_walk {
    struct check *c;
    icms__sums *stored;
};

static int on_balance(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                      void *payload)
{
    struct balance_walk *w = payload;
    icms__key_reader r;
    char table[16], account[ICMS__ACCOUNT_MAX];
    icms__key_reader_init(&r, key, key_len);
    if (icms__key_read_str(&r, table, sizeof table) ||
        icms__key_read_str(&r, account, sizeof account)) {
        icms_error_clear();
        return violation(w->c, "a malformed balance key");
    }
    cJSON *doc = NULL;
    int64_t stored;
    if (parse(value, len, &doc) != ICMS_OK || !icms__json_int64(doc, &stored)) {
        cJSON_Delete(doc);
        icms_error_clear();
        return violation(w->c, "balance of %s is malformed", account);
    }
    cJSON_Delete(doc);
    int rc = icms__sums_add(w->stored, account, stored);
    if (rc)
        return rc;
    bool seen;
    int64_t computed = icms__sums_get(w->c->balances, account, &seen);
    if (computed != stored)
        return violation(w->c, "balance of %s is %lld but its entries sum to %lld", account,
                         (long long)stored, (long long)computed);
    return ICMS_OK;
}

static int on_computed(const char *account, int64_t sum, void *payload)
{
    struct balance_walk *w = payload;
    bool seen;
    icms__sums_get(w->stored, account, &seen);
    if (!seen && sum != 0)
        return violation(w->c, "account %s has entries summing to %lld but no balance",
                         account, (long long)sum);
    return ICMS_OK;
}

static int check_balances(struct check *c)
{
    struct balance_walk w = {c, NULL};
    int rc = icms__sums_new(&w.stored);
    if (rc)
        return rc;
    icms__key prefix;
    icms__balance_prefix(&prefix);
    rc = icms__tx_scan_prefix(c->tx, &prefix, 0, on_balance, &w);
    if (rc == ICMS_OK)
        rc = icms__sums_each(c->balances, on_computed, &w);
    icms__sums_free(w.stored);
    return rc;
}

/* ---- payments, participations, projects, refunds ---- */

static int on_payment(struct check *c, const uint8_t *key, size_t key_len, cJSON *p)
{
    (void)key;
    (void)key_len;
    c->payments++;
    const char *status = str(p, "status");
    int rc = ICMS_OK;
    if (strcmp(status, "CONFIRMED") == 0 || strcmp(status, "PARTIAL") == 0) {
        if (num(p, "credited") + num(p, "refund_due") != num(p, "received"))
            rc = violation(c, "payment %s: credited and refund due do not add up to received",
                           str(p, "id"));
        if (rc == ICMS_OK)
            rc = icms__sums_add(c->credited, str(p, "project_id"), num(p, "credited"));
        if (rc == ICMS_OK)
            rc = icms__sums_add(c->credited, str(p, "participation_id"), num(p, "credited"));
    }
    if (rc == ICMS_OK && strcmp(status, "SUBMITTED") == 0)
        rc = icms__sums_add(c->in_flight, str(p, "project_id"), 1);
    return rc;
}

static int on_participation(struct check *c, const uint8_t *key, size_t key_len, cJSON *p)
{
    (void)key;
    (void)key_len;
    c->participations++;
    int rc = ICMS_OK;
    if (strcmp(str(p, "status"), "APPROVED") == 0)
        rc = icms__sums_add(c->committed, str(p, "project_id"), num(p, "commitment"));
    int64_t paid = num(p, "paid");
    int64_t credited = icms__sums_get(c->credited, str(p, "id"), NULL);
    if (rc == ICMS_OK && paid != credited)
        rc = violation(c, "participation %s: paid %lld but its confirmed payments credit %lld",
                       str(p, "id"), (long long)paid, (long long)credited);
    if (rc == ICMS_OK && paid > num(p, "commitment"))
        rc = violation(c, "participation %s: paid more than its commitment", str(p, "id"));
    return rc;
}

static int on_project(struct check *c, const uint8_t *key, size_t key_len, cJSON *p)
{
    (void)key;
    (void)key_len;
    c->projects++;
    const char *id = str(p, "id");
    const char *state = str(p, "state");
    bool ended = strcmp(state, "CANCELLED") == 0 || strcmp(state, "EXPIRED") == 0;
    bool approved = strcmp(state, "APPROVED") == 0 || strcmp(state, "IN_TRANSIT") == 0 ||
                    strcmp(state, "COMPLETED") == 0;
    int64_t funded = num(p, "funded"), committed = num(p, "committed");
    int64_t credited = icms__sums_get(c->credited, id, NULL);
    int64_t released = icms__sums_get(c->released, id, NULL);
    char account[ICMS__ACCOUNT_MAX];
    icms__account(account, "escrow", id);
    int64_t escrow = icms__sums_get(c->balances, account, NULL);
    /* Ended: refunded, nothing left. Approved: all of it released to the owner. */
    int64_t expected = ended || approved ? 0 : funded;
    int rc = icms__sums_add(c->seen, id, 1);
    if (rc == ICMS_OK && funded != credited)
        rc = violation(c, "project %s: funded %lld but confirmed contributions sum to %lld", id,
                       (long long)funded, (long long)credited);
    if (rc == ICMS_OK && escrow != expected)
        rc = violation(c, "project %s: escrow holds %lld, expected %lld", id, (long long)escrow,
                       (long long)expected);
    if (rc == ICMS_OK && released > funded)
        rc = violation(c, "project %s: %lld released to the owner, more than the %lld escrowed",
                       id, (long long)released, (long long)funded);
    else if (rc == ICMS_OK && approved && released != funded)
        rc = violation(c, "project %s: %s with %lld of its %lld escrowed released to the owner",
                       id, state, (long long)released, (long long)funded);
    else if (rc == ICMS_OK && !approved && released != 0)
        rc = violation(c, "project %s: %s but %lld released to the owner", id, state,
                       (long long)released);
    if (rc == ICMS_OK && committed > num(p, "total_cost"))
        rc = violation(c, "project %s: commitments exceed the funding target", id);
    if (rc == ICMS_OK && !ended && committed != icms__sums_get(c->committed, id, NULL))
        rc = violation(c, "project %s: committed %lld but approved requests sum to %lld", id,
                       (long long)committed, (long long)icms__sums_get(c->committed, id, NULL));
    if (rc == ICMS_OK && num(p, "payments_in_flight") != icms__sums_get(c->in_flight, id, NULL))
        rc = violation(c, "project %s: payments in flight miscounted", id);
    const cJSON *product;
    cJSON_ArrayForEach(product, icms__json_get(p, "products"))
    {
        if (rc == ICMS_OK && num(product, "reserved") > num(product, "quantity"))
            rc = violation(c, "project %s: product %s has more units reserved than exist", id,
                           str(product, "id"));
    }
    return rc;
}

/* What is owed and not yet paid must equal what the due accounts hold. */
static int owed(struct check *c, const cJSON *r, const char *account_kind, const char *recipient)
{
    if (strcmp(str(r, "status"), "DUE") != 0)
        return ICMS_OK;
    char account[ICMS__ACCOUNT_MAX];
    icms__account(account, account_kind, str(r, recipient));
    return icms__sums_add(c->refunds_due, account, num(r, "amount"));
}

static int on_refund(struct check *c, const uint8_t *key, size_t key_len, cJSON *r)
{
    (void)key;
    (void)key_len;
    c->refunds++;
    return owed(c, r, "refunds_due", "investor_id");
}

static int on_payout(struct check *c, const uint8_t *key, size_t key_len, cJSON *r)
{
    (void)key;
    (void)key_len;
    c->payouts++;
    return owed(c, r, "payouts_due", "investor_id");
}

/* A release: what it moved out of its project's escrow, and what it still owes the owner. */
static int on_release(struct check *c, const uint8_t *key, size_t key_len, cJSON *r)
{
    (void)key;
    (void)key_len;
    c->releases++;
    const char *status = str(r, "status");
    int64_t amount = num(r, "amount");
    int rc = ICMS_OK;
    if (strcmp(status, "DUE") != 0 && strcmp(status, "PAID") != 0 &&
        strcmp(status, "VOIDED") != 0)
        return violation(c, "release %s: unknown status %s", str(r, "id"), status);
    if (amount <= 0)
        rc = violation(c, "release %s: amount %lld is not positive", str(r, "id"),
                       (long long)amount);
    if (rc == ICMS_OK && strcmp(status, "VOIDED") != 0)
        rc = icms__sums_add(c->released, str(r, "project_id"), amount);
    if (rc == ICMS_OK)
        rc = owed(c, r, "owner_due", "owner_id");
    return rc;
}

static int on_released(const char *project, int64_t sum, void *payload)
{
    struct check *c = payload;
    bool seen;
    icms__sums_get(c->seen, project, &seen);
    if (!seen)
        return violation(c, "%lld released for project %s, which does not exist", (long long)sum,
                         project);
    return ICMS_OK;
}

static int on_refund_sum(const char *account, int64_t sum, void *payload)
{
    struct check *c = payload;
    int64_t balance = icms__sums_get(c->balances, account, NULL);
    if (balance != sum)
        return violation(c, "%s: what is due sums to %lld but the account holds %lld", account,
                         (long long)sum, (long long)balance);
    return ICMS_OK;
}

/* A due account holding money with no DUE record to explain it (one marked PAID unpaid). */
static int on_due_balance(const char *account, int64_t balance, void *payload)
{
    struct check *c = payload;
    static const char *const due_kinds[] = {"refunds_due:", "payouts_due:", "owner_due:"};
    bool due_account = false;
    for (size_t i = 0; i < ICMS__ARRAY_LEN(due_kinds); i++)
        due_account = due_account || strncmp(account, due_kinds[i], strlen(due_kinds[i])) == 0;
    bool seen;
    icms__sums_get(c->refunds_due, account, &seen);
    if (due_account && !seen && balance != 0)
        return violation(c, "%s: what is due sums to 0 but the account holds %lld", account,
                         (long long)balance);
    return ICMS_OK;
}

/* ---- claims on Gapcoin outputs ---- */

static int on_outpoint(const uint8_t *key, size_t key_len, const uint8_t *value, size_t len,
                       void *payload)
{
    struct check *c = payload;
    c->outpoints++;
    char id_text[40];
    uint8_t id[16];
    cJSON *payment = NULL;
    (void)key;
    (void)key_len;
    if (len >= sizeof id_text)
        return violation(c, "an output claim holds no payment id");
    memcpy(id_text, value, len);
    id_text[len] = '\0';
    if (icms__parse_id(id_text, "payment id", id) != ICMS_OK ||
        icms__record_get(c->tx, &icms__payment_record, id, &payment) != ICMS_OK) {
        icms_error_clear();
        return violation(c, "an output is claimed by a payment that does not exist");
    }
    const char *status = str(payment, "status");
    int rc = ICMS_OK;
    if (strcmp(status, "CONFIRMED") != 0 && strcmp(status, "PARTIAL") != 0 &&
        strcmp(status, "REVERSED") != 0)
        rc = violation(c, "payment %s claims an output but is %s", id_text, status);
    cJSON_Delete(payment);
    return rc;
}

/* ---- index entries ---- */

/* Every record type with indexes: pages, unique values and sweeps all trust them. */
static const icms__record_type *const indexed_types[] = {
    &icms__user_record,         &icms__project_record,      &icms__participation_record,
    &icms__payment_record,      &icms__refund_record,       &icms__payout_record,
    &icms__release_record,      &icms__notification_record, &icms__auth_key_record,
    &icms__auth_session_record, &icms__auth_refresh_record, &icms__auth_identity_record,
};

static int on_index_problem(const char *problem, void *payload)
{
    return violation(payload, "%s", problem);
}

static int check_indexes(struct check *c)
{
    int rc = ICMS_OK;
    for (size_t i = 0; rc == ICMS_OK && i < ICMS__ARRAY_LEN(indexed_types); i++)
        rc = icms__record_check_indexes(c->tx, indexed_types[i], on_index_problem, c);
    return rc;
}

static int check_all(icms__cmd *cmd)
{
    struct check *c = cmd->arg;
    c->tx = cmd->tx;
    if (cmd->actor.kind == ICMS_ACTOR_USER && !icms__actor_has_role(&cmd->actor, ICMS_ROLE_ADMIN))
        return icms__error(ICMS_EFORBIDDEN, "icms_check is for the host and admins");
    int rc = scan_prefix(c, "ledger", NULL, on_entry);
    if (rc == ICMS_OK)
        rc = check_balances(c);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__payment_record.name, on_payment);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__participation_record.name, on_participation);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__release_record.name, on_release);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__project_record.name, on_project);
    if (rc == ICMS_OK)
        rc = icms__sums_each(c->released, on_released, c);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__refund_record.name, on_refund);
    if (rc == ICMS_OK)
        rc = scan_prefix(c, "r", icms__payout_record.name, on_payout);
    if (rc == ICMS_OK)
        rc = icms__sums_each(c->refunds_due, on_refund_sum, c);
    if (rc == ICMS_OK)
        rc = icms__sums_each(c->balances, on_due_balance, c);
    icms__key prefix;
    icms__outpoint_prefix(&prefix);
    if (rc == ICMS_OK)
        rc = icms__tx_scan_prefix(c->tx, &prefix, 0, on_outpoint, c);
    if (rc == ICMS_OK)
        rc = check_indexes(c);
    icms__audit_report audit;
    if (rc == ICMS_OK)
        rc = icms__audit_verify(c->tx, NULL, NULL, &audit);
    if (rc == ICMS_OK && !audit.valid)
        rc = violation(c, "audit chain: %s (entry %lld)", audit.reason, (long long)audit.bad_seq);
    return rc;
}

static cJSON *report(const struct check *c)
{
    cJSON *doc = cJSON_CreateObject();
    if (!doc)
        return NULL;
    bool ok = cJSON_AddBoolToObject(doc, "ok", c->violation_count == 0) != NULL;
    const struct {
        const char *name;
        int64_t value;
    } counts[] = {{"ledger_entries", c->entries}, {"payments", c->payments},
                  {"projects", c->projects},      {"participations", c->participations},
                  {"refunds", c->refunds},        {"payouts", c->payouts},
                  {"releases", c->releases},
                  {"outputs_claimed", c->outpoints},
                  {"violation_count", c->violation_count}};
    for (size_t i = 0; ok && i < ICMS__ARRAY_LEN(counts); i++)
        ok = icms__json_add_int64(doc, counts[i].name, counts[i].value) == ICMS_OK;
    ok = ok && icms__json_add(doc, "violations", cJSON_Duplicate(c->violations, true)) == ICMS_OK;
    if (!ok) {
        cJSON_Delete(doc);
        return NULL;
    }
    return doc;
}

int icms_check(icms_db *db, const icms_request *req, char **report_out)
{
    if (report_out)
        *report_out = NULL;
    struct check c = {0};
    int rc = ICMS_OK;
    if (!(c.violations = cJSON_CreateArray()) || icms__sums_new(&c.balances) ||
        icms__sums_new(&c.credited) || icms__sums_new(&c.in_flight) ||
        icms__sums_new(&c.committed) || icms__sums_new(&c.refunds_due) ||
        icms__sums_new(&c.released) || icms__sums_new(&c.seen))
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK)
        rc = icms__query(db, req, check_all, &c, NULL);
    cJSON *doc = rc == ICMS_OK ? report(&c) : NULL;
    if (rc == ICMS_OK && !doc)
        rc = icms__error(ICMS_ENOMEM, "out of memory");
    if (rc == ICMS_OK && report_out)
        rc = icms__json_write(doc, 0, report_out, NULL);
    if (rc == ICMS_OK && c.violation_count)
        rc = icms__error(ICMS_ECORRUPT, "%lld invariant violation(s); the first: %s",
                         (long long)c.violation_count,
                         cJSON_GetArrayItem(c.violations, 0)->valuestring);
    cJSON_Delete(doc);
    cJSON_Delete(c.violations);
    icms__sums_free(c.balances);
    icms__sums_free(c.credited);
    icms__sums_free(c.in_flight);
    icms__sums_free(c.committed);
    icms__sums_free(c.refunds_due);
    icms__sums_free(c.released);
    icms__sums_free(c.seen);
    return rc;
}
