#include "app/ledger.h"

#include <string.h>

#include "core/core.h"
#include "core/int_text.h"
#include "core/json.h"
#include "kv/log_memo.h"
#include "kv/tx_cache.h"

/* Append s at out[n], cut as snprintf would cut it; the new length. */
static size_t append(char out[ICMS__ACCOUNT_MAX], size_t n, const char *s)
{
    size_t len = strlen(s);
    if (len > ICMS__ACCOUNT_MAX - 1 - n)
        len = ICMS__ACCOUNT_MAX - 1 - n;
    memcpy(out + n, s, len);
    return n + len;
}

void icms__account(char out[ICMS__ACCOUNT_MAX], const char *kind, const char *id)
{
    /* "kind" or "kind:id", by hand: every posting names its accounts, printf was most of it. */
    size_t n = append(out, 0, kind);
    if (id)
        n = append(out, append(out, n, ":"), id);
    out[n] = '\0';
}

void icms__ledger_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "ledger");
}

void icms__balance_prefix(icms__key *key)
{
    icms__key_init(key);
    icms__key_str(key, "balance");
}

static void balance_key(icms__key *key, const char *account)
{
    icms__balance_prefix(key);
    icms__key_str(key, account);
}

static bool json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int icms__ledger_balance(icms__tx *tx, const char *account, int64_t *out)
{
    icms__key key;
    const uint8_t *value;
    size_t len;
    balance_key(&key, account);
    *out = 0;
    int rc = icms__tx_get(tx, &key, &value, &len);
    if (rc == ICMS_ENOTFOUND)
        return ICMS_OK;
    if (rc)
        return rc;
    /* Stored as the integer's decimal text: exact, and readable in a store dump. */
    /*
     * Read as the JSON reader would read it (white space around one integer),
     * without building a node for it.
     */
    const char *text = (const char *)value;
    if (len == 0 || len >= 24)
        return icms__error(ICMS_ECORRUPT, "balance of %s is malformed", account);
    while (len && json_space(text[0])) {
        text++;
        len--;
    }
    while (len && json_space(text[len - 1]))
        len--;
    int64_t v;
    if (!icms__json_literal_int64(text, len, &v))
        return icms__error(ICMS_ECORRUPT, "balance of %s is malformed", account);
    *out = v;
    return ICMS_OK;
}

static int add_to_balance(icms__tx *tx, const char *account, int64_t amount)
{
    int64_t balance;
    int rc = icms__ledger_balance(tx, account, &balance);
    if (rc)
        return rc;
    if (!icms__add_i64(balance, amount, &balance))
        return icms__error(ICMS_EINVALID, "balance of %s would overflow", account);
    char text[ICMS__INT64_TEXT_SIZE];
    size_t n = icms__int64_text(balance, text);
    icms__key key;
    balance_key(&key, account);
    /* A batch moves the same balances again and again: stored once, at commit. */
    return icms__tx_put_deferred(tx, &key, text, n);
}

/* The memo of where the ledger ends (kv/log_memo.h). */
static const char last_seq_tag = 0;

static int check_postings(const icms__posting *postings, size_t count, size_t *used)
{
    int64_t sum = 0;
    *used = 0;
    for (size_t i = 0; i < count; i++) {
        if (postings[i].amount == 0)
            continue;
        if (!postings[i].account[0])
            return icms__error(ICMS_EINVALID, "ledger posting without an account");
        if (!icms__add_i64(sum, postings[i].amount, &sum))
            return icms__error(ICMS_EINVALID, "ledger entry overflows");
        (*used)++;
    }
    if (sum != 0)
        return icms__error(ICMS_EINVALID, "ledger entry does not balance (off by %lld)",
                           (long long)sum);
    if (*used == 1)
        return icms__error(ICMS_EINVALID, "ledger entry needs two postings");
    return ICMS_OK;
}

int icms__ledger_post(icms__tx *tx, int64_t at_ms, const char *kind, const icms__posting *postings,
                      size_t count, const cJSON *ref, int64_t *seq_out)
{
    size_t used;
    int rc = check_postings(postings, count, &used);
    if (rc)
        return rc;
    if (used == 0) { /* nothing moved: no entry */
        if (seq_out)
            *seq_out = 0;
        return ICMS_OK;
    }
    icms__log_memo *last;
    icms__key key;
    icms__ledger_prefix(&key);
    if ((rc = icms__tx_log_memo(tx, &last_seq_tag, &key, NULL, &last)))
        return rc;
    int64_t seq = last->seq + 1;

    cJSON *entry = cJSON_CreateObject(), *list = NULL;
    rc = entry ? icms__json_add_int64(entry, "seq", seq) : ICMS_ENOMEM;
    if (rc == ICMS_OK)
        rc = icms__json_add_int64(entry, "at", at_ms);
    if (rc == ICMS_OK)
        rc = icms__json_add_string(entry, "kind", kind);
    if (rc == ICMS_OK)
        rc = icms__json_add_array(entry, "postings", &list);
    for (size_t i = 0; rc == ICMS_OK && i < count; i++) {
        if (postings[i].amount == 0)
            continue;
        cJSON *p = cJSON_CreateObject();
        rc = p ? icms__json_add_string(p, "account", postings[i].account) : ICMS_ENOMEM;
        if (rc == ICMS_OK)
            rc = icms__json_add_int64(p, "amount", postings[i].amount);
        if (rc == ICMS_OK)
            rc = icms__json_add(list, NULL, p);
        else
            cJSON_Delete(p);
        if (rc == ICMS_OK)
            rc = add_to_balance(tx, postings[i].account, postings[i].amount);
    }
    if (rc == ICMS_OK)
        rc = icms__json_add(entry, "ref", ref ? cJSON_Duplicate(ref, true) : cJSON_CreateObject());
    char *text = NULL;
    size_t len = 0;
    if (rc == ICMS_OK)
        rc = icms__json_write(entry, 0, &text, &len);
    cJSON_Delete(entry);
    if (rc)
        return rc == ICMS_ENOMEM ? icms__error(ICMS_ENOMEM, "out of memory") : rc;
    icms__ledger_prefix(&key);
    icms__key_int(&key, seq);
    rc = icms__tx_put(tx, &key, text, len);
    if (rc == ICMS_OK)
        rc = icms__tx_log_appended(tx, last, text, len);
    icms__free(text);
    if (rc == ICMS_OK && seq_out)
        *seq_out = seq;
    return rc;
}
