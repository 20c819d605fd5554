/*
 * The RPC client's parsing and mapping, through a scripted host transport:
 * the exact requests it sends, JSON-RPC envelopes and answers that are
 * subtly wrong, and a loop failing every allocation of a payment check in
 * turn (nothing leaks, every failure is reported).
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "icms/rpc.h"
#include "rpc/canned_transport.h"

#define COINBASE_TXID "261010cfad2ae26a355e56c2551ea2cc05549df11db7f40db7c2b9e3b40e1194"
#define COINBASE_HEX                                                                               \
    "01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4804ffff0" \
    "01d0104405468652054696d65732031352f4f63742f3230313420555320646174612073656e647320676c6f62" \
    "616c2073746f636b7320696e746f207461696c2d7370696effffffff0100000000000000004341044588d5493" \
    "1b7de2f9faaa5a3c1fde654114ae51273754e1f3f9720127f8977af6bfaa1f33e22e80e4b83f5269921501b41" \
    "1d254929faf1b10d2174ded28ac59dac00000000"
#define COINBASE_SCRIPT                                                                            \
    "41044588d54931b7de2f9faaa5a3c1fde654114ae51273754e1f3f9720127f8977af6bfaa1f33e22e80e4b83f5" \
    "269921501b411d254929faf1b10d2174ded28ac59dac"
#define HASH_A "00000000000000000000000000000000000000000000000000000000000000aa"

static canned script;

static icms_rpc_client *client(void)
{
    memset(&script, 0, sizeof script);
    icms_rpc_client *c = NULL;
    assert_icms_ok(icms_rpc_client_new(&c, canned_transport(&script), "http://node.invalid/", NULL));
    return c;
}

static int setup(void **state)
{
    (void)state;
    icms_init();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    icms_shutdown();
    return 0;
}

static void test_requests_are_exact(void **state)
{
    (void)state;
    icms_rpc_client *c = client();
    icms_rpc_tx *tx = NULL;
    canned_push(&script, 500, "{\"result\":null,\"error\":{\"code\":-5,\"message\":\"x\"},\"id\":$ID}");
    assert_icms(ICMS_ENOTFOUND, icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    /* An integer 1, not true: 0.9.x refuses the bool. */
    assert_string_equal(script.last_request,
                        "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"getrawtransaction\",\"params\":[\""
                        COINBASE_TXID "\",1]}");
    uint8_t *bytes = NULL;
    size_t len = 0;
    canned_push(&script, 200, "{\"result\":\"00\",\"error\":null,\"id\":$ID}");
    assert_icms_ok(icms_rpc_getblock_raw(c, HASH_A, &bytes, &len));
    icms_free(bytes);
    assert_non_null(strstr(script.last_request, "\"id\":2,\"method\":\"getblock\",\"params\":[\"" HASH_A "\",false]"));
    canned_push(&script, 200, "{\"result\":\"00\",\"error\":null,\"id\":$ID}");
    assert_icms_ok(icms_rpc_gettxoutproof(c, COINBASE_TXID, HASH_A, &bytes, &len));
    icms_free(bytes);
    assert_non_null(strstr(script.last_request, "\"params\":[[\"" COINBASE_TXID "\"],\"" HASH_A "\"]"));
    canned_push(&script, 200, "{\"result\":7,\"error\":null,\"id\":$ID}");
    char *hash = NULL;
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockhash(c, 7, &hash));
    assert_non_null(strstr(script.last_request, "\"params\":[7]"));
    icms_rpc_client_free(c);
}

typedef struct envelope_case {
    int status;
    const char *body;
    int rc;
    int64_t height;
} envelope_case;

static const envelope_case ENVELOPES[] = {
    {200, "{\"result\":12,\"error\":null,\"id\":$ID}", 0, 12},
    {200, "{\"id\":$ID,\"error\":null,\"result\":0}", 0, 0},
    {200, " \n{\"result\" : 9007199254740993 , \"error\" : null , \"id\" : $ID}\n", 0,
     9007199254740993}, /* 2^53 + 1: a double would say ...992 */
    {200, "{\"result\":12}", ICMS_ETRANSPORT, 0},                              /* no id */
    {200, "{\"result\":12,\"error\":null,\"id\":99}", ICMS_ETRANSPORT, 0},     /* another id */
    {200, "{\"result\":12,\"error\":null,\"id\":\"$ID\"}", ICMS_ETRANSPORT, 0}, /* id as a string */
    {200, "{\"result\":1.5,\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":1e3,\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":-1,\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":99999999999999999999,\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":\"12\",\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":\"\\u00012\",\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":\"\x01" "12\",\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":null,\"error\":\"boom\",\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":null,\"error\":{\"code\":-5,\"message\":\"gone\"},\"id\":$ID}",
     ICMS_ENOTFOUND, 0},
    {500, "{\"result\":null,\"error\":{\"code\":-28,\"message\":\"Loading block index...\"},\"id\":$ID}",
     ICMS_ETRANSPORT, 0},
    {500, "{\"result\":null,\"error\":{\"code\":\"x\"},\"id\":$ID}", ICMS_ETRANSPORT, 0},
    {404, "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not found\"},\"id\":$ID}",
     ICMS_EVERSION, 0},
    {500, "{\"result\":null,\"error\":{\"code\":-8,\"message\":\"bad\"},\"id\":$ID}", ICMS_EINVALID, 0},
    {500, "{\"result\":12,\"error\":null,\"id\":$ID}", ICMS_ETRANSPORT, 0}, /* 500 without error */
    {401, "", ICMS_EUNAUTHENTICATED, 0},
    {403, "Forbidden", ICMS_ETRANSPORT, 0},
    {200, "", ICMS_ETRANSPORT, 0},
    {200, "null", ICMS_ETRANSPORT, 0},
    {200, "{\"result\":12,\"error\":null,\"id\":$ID} trailing", ICMS_ETRANSPORT, 0},
};

static void test_envelopes(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof ENVELOPES / sizeof ENVELOPES[0]; i++) {
        const envelope_case *e = &ENVELOPES[i];
        icms_rpc_client *c = client();
        canned_push(&script, e->status, e->body);
        int64_t height = -7;
        int rc = icms_rpc_getblockcount(c, &height);
        if (rc != e->rc)
            fail_msg("case %zu (%s): got %d (%s), expected %d", i, e->body, rc,
                     icms_error_last()->message, e->rc);
        if (rc == 0)
            assert_int_equal(height, e->height);
        icms_rpc_client_free(c);
    }
}

static void test_node_message_is_tamed(void **state)
{
    (void)state;
    static char body[4096];
    char message[1200];
    memset(message, 'm', sizeof message - 1);
    message[sizeof message - 1] = '\0';
    message[10] = '\t';
    snprintf(body, sizeof body,
             "{\"result\":null,\"error\":{\"code\":-4,\"message\":\"%s\\n\\u001b[31m\"},\"id\":$ID}",
             message);
    icms_rpc_client *c = client();
    canned_push(&script, 500, body);
    int64_t height = 0;
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockcount(c, &height));
    const char *msg = icms_error_last()->message;
    assert_true(strlen(msg) < 300);
    for (const char *p = msg; *p; p++)
        assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
    assert_non_null(strstr(msg, "RPC error -4"));
    icms_rpc_client_free(c);
}

static const char *tx_answer(const char *extra, const char *vout)
{
    static char body[4096];
    snprintf(body, sizeof body,
             "{\"result\":{\"hex\":\"%s\",\"txid\":\"%s\",%s\"vout\":[%s]},\"error\":null,\"id\":$ID}",
             COINBASE_HEX, COINBASE_TXID, extra, vout);
    return body;
}

#define VOUT_OK "{\"value\":0.00000000,\"n\":0,\"scriptPubKey\":{\"hex\":\"" COINBASE_SCRIPT "\"}}"

static void test_transaction_answers(void **state)
{
    (void)state;
    icms_rpc_client *c = client();
    icms_rpc_tx *tx = NULL;
    /* Stale block: in_active_chain false overrides the count. */
    canned_push(&script, 200, tx_answer("\"blockhash\":\"" HASH_A "\",\"confirmations\":5,\"in_active_chain\":false,", VOUT_OK));
    assert_icms_ok(icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    assert_int_equal(tx->confirmations, 0);
    assert_int_equal(tx->in_block, 1);
    assert_null(tx->outputs[0].address);
    icms_rpc_tx_free(tx);
    /* Bare multisig: two addresses, so no single one. */
    canned_push(&script, 200, tx_answer("", "{\"value\":1,\"n\":0,\"scriptPubKey\":{\"hex\":\"51\",\"addresses\":[\"Ga\",\"Gb\"]}}"));
    assert_icms_ok(icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    assert_null(tx->outputs[0].address);
    assert_int_equal(tx->outputs[0].value, 100000000);
    icms_rpc_tx_free(tx);

    const char *bad[][2] = {
        {"", "{\"value\":0.000000001,\"n\":0,\"scriptPubKey\":{\"hex\":\"51\"}}"},
        {"", "{\"value\":\"1.0\",\"n\":0,\"scriptPubKey\":{\"hex\":\"51\"}}"},
        {"", "{\"value\":1,\"n\":-1,\"scriptPubKey\":{\"hex\":\"51\"}}"},
        {"", "{\"value\":1,\"n\":0}"},
        {"\"confirmations\":\"3\",", VOUT_OK},
        {"\"blockhash\":\"zz\",", VOUT_OK},
        {"\"blocktime\":1.5,", VOUT_OK},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        canned_push(&script, 200, tx_answer(bad[i][0], bad[i][1]));
        int rc = icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx);
        if (rc != ICMS_ETRANSPORT)
            fail_msg("bad answer %zu accepted (%d)", i, rc);
        assert_null(tx);
    }
    canned_push(&script, 200, "{\"result\":{\"hex\":\"0a1\",\"txid\":\"" COINBASE_TXID "\",\"vout\":[]},\"error\":null,\"id\":$ID}");
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    canned_push(&script, 200, "{\"result\":{\"hex\":\"0g\",\"txid\":\"" COINBASE_TXID "\",\"vout\":[]},\"error\":null,\"id\":$ID}");
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    canned_push(&script, 200, "{\"result\":{\"hex\":\"00\",\"vout\":[]},\"error\":null,\"id\":$ID}");
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    canned_push(&script, 200, "{\"result\":[],\"error\":null,\"id\":$ID}");
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getrawtransaction(c, COINBASE_TXID, &tx));
    icms_rpc_client_free(c);
}

static void test_header_prefix_of_a_block(void **state)
{
    (void)state;
    icms_rpc_client *c = client();
    uint8_t *bytes = NULL;
    size_t len = 0;
    /* "method not found", then a raw block: the header is cut off at its variable length. */
    static char block[1024];
    const char *header = "02000000b06cff89df252b9ec88b56a1435dfdc45ed90031e40f7425cfad574faef398e77901ad8b5183f406c5de7a76a0d6b43b3a79b862c300d5fc154fa2887b92df1a299f4654000000000000100021000000140003794606";
    snprintf(block, sizeof block, "{\"result\":\"%s01aabb\",\"error\":null,\"id\":$ID}", header);
    canned_push(&script, 404, "{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not found\"},\"id\":$ID}");
    canned_push(&script, 200, block);
    assert_icms_ok(icms_rpc_getblockheader_raw(c, HASH_A, &bytes, &len));
    assert_int_equal(len, strlen(header) / 2);
    icms_free(bytes);
    /* Remembered: the next header comes straight from getblock. */
    size_t calls = script.calls;
    canned_push(&script, 200, block);
    assert_icms_ok(icms_rpc_getblockheader_raw(c, HASH_A, &bytes, &len));
    icms_free(bytes);
    assert_int_equal(script.calls, calls + 1);
    /* Too short for a header, or an nAdd running past the end. */
    canned_push(&script, 200, "{\"result\":\"0200\",\"error\":null,\"id\":$ID}");
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockheader_raw(c, HASH_A, &bytes, &len));
    snprintf(block, sizeof block, "{\"result\":\"%.*s09aabb\",\"error\":null,\"id\":$ID}",
             (int)(86 * 2), header);
    canned_push(&script, 200, block);
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockheader_raw(c, HASH_A, &bytes, &len));
    icms_rpc_client_free(c);
}

static void test_conflict_reported_by_the_node(void **state)
{
    (void)state;
    icms_rpc_client *c = client();
    canned_push(&script, 200, tx_answer("\"confirmations\":-1,", VOUT_OK));
    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    size_t len = 0;
    uint8_t *spk = icms_test_unhex(COINBASE_SCRIPT, &len);
    q.txid = COINBASE_TXID;
    q.script = spk;
    q.script_len = len;
    q.min_amount = 0;
    icms_rpc_payment *p = NULL;
    assert_icms_ok(icms_rpc_check_payment(c, &q, &p));
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFLICTED);
    icms_rpc_payment_free(p);
    /* A transport failure is an error, not a status. */
    canned_push(&script, 200, NULL);
    assert_icms(ICMS_ETRANSPORT, icms_rpc_check_payment(c, &q, &p));
    assert_null(p);
    free(spk);
    icms_rpc_client_free(c);
}

static void test_every_allocation_failure(void **state)
{
    (void)state;
    size_t len = 0;
    uint8_t *spk = icms_test_unhex(COINBASE_SCRIPT, &len);
    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    q.txid = COINBASE_TXID;
    q.script = spk;
    q.script_len = len;
    const char *answer = tx_answer("\"blockhash\":\"" HASH_A "\",\"confirmations\":150,", VOUT_OK);
    int ok_at = 0;
    for (long n = 1; n < 200 && !ok_at; n++) {
        icms_rpc_client *c = client();
        canned_push(&script, 200, answer);
        icms_rpc_payment *p = NULL;
        icms__alloc_fail_after(n);
        int rc = icms_rpc_check_payment(c, &q, &p);
        icms__alloc_fail_after(0);
        if (rc == 0) {
            assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
            ok_at = (int)n;
        } else {
            assert_null(p);
            if (rc != ICMS_ENOMEM && rc != ICMS_ETRANSPORT) /* cJSON says "not JSON" */
                fail_msg("allocation %ld: %d %s", n, rc, icms_error_last()->message);
        }
        icms_rpc_payment_free(p);
        icms_rpc_client_free(c);
    }
    assert_true(ok_at > 5); /* the loop really went through the allocations */
    free(spk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_requests_are_exact),
        cmocka_unit_test(test_envelopes),
        cmocka_unit_test(test_node_message_is_tamed),
        cmocka_unit_test(test_transaction_answers),
        cmocka_unit_test(test_header_prefix_of_a_block),
        cmocka_unit_test(test_conflict_reported_by_the_node),
        cmocka_unit_test(test_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
