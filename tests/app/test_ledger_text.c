/*
 * The ledger's text without printf: account names cut as snprintf cut them,
 * and stored balances read as the JSON reader read them (white space around
 * one exact integer) and refused otherwise.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <string.h>

#include "app/ledger.h"
#include "kv/tx.h"

static void test_account_names(void **state)
{
    (void)state;
    char out[ICMS__ACCOUNT_MAX], want[4 * ICMS__ACCOUNT_MAX];
    icms__account(out, "chain", NULL);
    assert_string_equal(out, "chain");
    icms__account(out, "escrow", "0190d3e0-0000-7000-8000-000000000001");
    assert_string_equal(out, "escrow:0190d3e0-0000-7000-8000-000000000001");
    icms__account(out, "refunds_due", "");
    assert_string_equal(out, "refunds_due:");
    /* Too long: cut at ICMS__ACCOUNT_MAX - 1 bytes, wherever the cut falls. */
    char id[3 * ICMS__ACCOUNT_MAX];
    memset(id, 'a', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    for (size_t kind_len = 0; kind_len < ICMS__ACCOUNT_MAX + 4; kind_len++) {
        char kind[ICMS__ACCOUNT_MAX + 8];
        memset(kind, 'k', kind_len);
        kind[kind_len] = '\0';
        for (size_t id_len = 0; id_len < sizeof id; id_len += 7) {
            snprintf(want, sizeof want, "%s:%.*s", kind, (int)id_len, id);
            want[ICMS__ACCOUNT_MAX - 1] = '\0'; /* where snprintf into out would cut */
            char cut[sizeof id];
            snprintf(cut, sizeof cut, "%.*s", (int)id_len, id);
            icms__account(out, kind, cut);
            assert_string_equal(out, want);
        }
        icms__account(out, kind, NULL);
        snprintf(want, sizeof want, "%s", kind);
        want[ICMS__ACCOUNT_MAX - 1] = '\0';
        assert_string_equal(out, want);
    }
}

static int64_t balance_of(icms_store *store, const char *stored, int *rc)
{
    icms__tx tx;
    icms__key key;
    icms__balance_prefix(&key);
    icms__key_str(&key, "escrow:x");
    assert_icms_ok(icms__tx_begin(store, ICMS_STORE_WRITE, &tx));
    assert_icms_ok(icms__tx_put(&tx, &key, stored, strlen(stored)));
    int64_t v = -1;
    *rc = icms__ledger_balance(&tx, "escrow:x", &v);
    icms__tx_rollback(&tx);
    return v;
}

static void test_stored_balances(void **state)
{
    (void)state;
    icms_store *store = NULL;
    assert_icms_ok(icms_store_memory_new(&store));
    static const struct {
        const char *stored;
        int64_t value;
    } good[] = {{"0", 0},
                {"-0", 0},
                {"42", 42},
                {"-17", -17},
                {" 5\n", 5},
                {"\t\r-5 ", -5},
                {"9223372036854775807", INT64_MAX},
                {"-9223372036854775808", INT64_MIN}};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        int rc;
        assert_int_equal(balance_of(store, good[i].stored, &rc), good[i].value);
        assert_int_equal(rc, ICMS_OK);
    }
    static const char *const bad[] = {"",    " ",     "01",   "1.0", "1e2", "+1",
                                      "- 1", "\"1\"", "1 2",  "x",   "-",   "9223372036854775808",
                                      "-9223372036854775809", "12345678901234567890123"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc;
        balance_of(store, bad[i], &rc);
        assert_int_equal(rc, ICMS_ECORRUPT);
        assert_non_null(strstr(icms_error_last()->message, "balance of escrow:x is malformed"));
    }
    icms_store_free(store);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_account_names),
        cmocka_unit_test(test_stored_balances),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
