/*
 * The payment check against the fake gapcoind over the real curl transport:
 * every status, amounts summed from the decoded bytes (never the node's
 * JSON), a node that lies about bytes, amounts or proofs, and SPV mode with a
 * real testnet genesis and a block mined by tests/fake_gapcoind/make_scenarios.py.
 */
#include "support/test_support.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fake_gapcoind/fake_node.h"
#include "icms/rpc.h"

#define PAY_ADDRESS "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF"
#define PAY_SCRIPT "76a914d1881cd5bec33eb670aa1c79267a4a516d77ec9a88ac"
#define OTHER_SCRIPT "76a914f42c82fc60a7777c30604611508462e391e5aa4488ac"
#define GENESIS_P2PK_SCRIPT                                                                        \
    "41044588d54931b7de2f9faaa5a3c1fde654114ae51273754e1f3f9720127f8977af6bfaa1f33e22e80e4b83f5269" \
    "921501b411d254929faf1b10d2174ded28ac59dac"

static icms_rpc_client *client_at(const fake_node *node, const char *path)
{
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    icms_rpc_client *c = NULL;
    assert_icms_ok(icms_rpc_client_new(&c, t, fake_node_url(node, path, 0), NULL));
    return c;
}

static icms_rpc_payment_query query(const char *txid, const char *script_hex, int64_t min_amount,
                                    int64_t depth)
{
    static uint8_t script[256];
    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    q.txid = txid;
    if (script_hex) {
        size_t len = 0;
        uint8_t *b = icms_test_unhex(script_hex, &len);
        assert_true(len <= sizeof script);
        memcpy(script, b, len);
        free(b);
        q.script = script;
        q.script_len = len;
    }
    q.min_amount = min_amount;
    q.min_confirmations = depth;
    return q;
}

static icms_rpc_payment *check(icms_rpc_client *c, const icms_rpc_payment_query *q)
{
    icms_rpc_payment *p = NULL;
    assert_icms_ok(icms_rpc_check_payment(c, q, &p));
    assert_non_null(p);
    return p;
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

static void fake_step(const fake_node *node)
{
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    const char *body = "{\"method\":\"fake_step\",\"params\":[],\"id\":1}";
    icms_transport_request r = {ICMS_TRANSPORT_REQUEST_VERSION, fake_node_url(node, "/", 0), NULL,
                                0, (const uint8_t *)body, strlen(body), 4096};
    int status = 0;
    uint8_t *resp = NULL;
    size_t len = 0;
    assert_icms_ok(icms_transport_post(t, &r, &status, &resp, &len));
    assert_int_equal(status, 200);
    icms_free(resp);
    icms_transport_free(t);
}

static void test_statuses(void **state)
{
    const char *scenario = *state;
    fake_node node;
    fake_node_start(&node, scenario, NULL);
    icms_rpc_client *c = client_at(&node, "/");
    const char *pay = fake_node_txid(&node, "pay_p2pkh");

    icms_rpc_payment_query q = query(pay, PAY_SCRIPT, 150000000, 3);
    icms_rpc_payment *p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_string_equal(icms_rpc_payment_status_name(p->status), "CONFIRMED");
    assert_int_equal(p->amount, 150000000);
    assert_int_equal(p->vout_count, 1);
    assert_int_equal(p->vouts[0], 0);
    assert_int_equal(p->confirmations, 3);
    assert_string_equal(p->blockhash, node.blocks[10]);
    assert_int_equal(p->is_coinbase, 0);
    assert_int_equal(p->spv_verified, 0);
    icms_rpc_payment_free(p);

    /* The same by address; one more confirmation asked: UNCONFIRMED; one unit more: INSUFFICIENT. */
    q = query(pay, NULL, 150000000, 3);
    q.address = PAY_ADDRESS;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    icms_rpc_payment_free(p);
    q.min_confirmations = 4;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_UNCONFIRMED);
    assert_int_equal(p->amount, 150000000);
    icms_rpc_payment_free(p);
    q.min_confirmations = 1;
    q.min_amount = 150000001;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_INSUFFICIENT);
    icms_rpc_payment_free(p);

    /* The other output of the same transaction: 123.45678901 GAP, exactly. */
    q = query(pay, OTHER_SCRIPT, 1, 1);
    p = check(c, &q);
    assert_int_equal(p->amount, 12345678901);
    assert_int_equal(p->vouts[0], 1);
    icms_rpc_payment_free(p);

    /* Two outputs to the script are summed; the OP_RETURN between them is not counted. */
    q = query(fake_node_txid(&node, "pay_split"), PAY_SCRIPT, 150000000, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_int_equal(p->amount, 150000000);
    assert_int_equal(p->vout_count, 2);
    assert_int_equal(p->vouts[0], 0);
    assert_int_equal(p->vouts[1], 2);
    icms_rpc_payment_free(p);

    /* Nothing paid to an unrelated script: INSUFFICIENT with amount 0, even when 0 is asked. */
    q = query(pay, "a9141c5720273d3146a6711904c5dee4368637e68cdb87", 0, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_INSUFFICIENT);
    assert_int_equal(p->amount, 0);
    assert_int_equal(p->vout_count, 0);
    icms_rpc_payment_free(p);

    /* Mempool: UNCONFIRMED, unless the caller accepts zero confirmations. */
    q = query(fake_node_txid(&node, "pay_mempool"), PAY_SCRIPT, 99999999, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_UNCONFIRMED);
    assert_int_equal(p->confirmations, 0);
    assert_string_equal(p->blockhash, "");
    icms_rpc_payment_free(p);
    q.min_confirmations = 0;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    icms_rpc_payment_free(p);

    /* A coinbase needs 100 confirmations whatever the caller asks. */
    q = query(fake_node_txid(&node, "genesis_coinbase"), GENESIS_P2PK_SCRIPT, 0, 1);
    p = check(c, &q);
    assert_int_equal(p->is_coinbase, 1);
    assert_int_equal(p->confirmations, 13);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_UNCONFIRMED);
    icms_rpc_payment_free(p);

    q = query("abababababababababababababababababababababababababababababababab", PAY_SCRIPT, 1, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_NOT_FOUND);
    assert_int_equal(p->amount, 0);
    icms_rpc_payment_free(p);

    /* With the block hash: found in that block, also where the node has no -txindex. */
    q = query(pay, PAY_SCRIPT, 150000000, 3);
    q.block_hash = node.blocks[10];
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_int_equal(p->confirmations, 3);
    icms_rpc_payment_free(p);
    if (strstr(scenario, "0.9") == NULL) {
        icms_rpc_client *plain = client_at(&node, "/notxindex/");
        q.block_hash = NULL;
        p = check(plain, &q);
        assert_int_equal(p->status, ICMS_RPC_PAYMENT_NOT_FOUND); /* no -txindex, no hint */
        icms_rpc_payment_free(p);
        q.block_hash = node.blocks[10];
        p = check(plain, &q);
        assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
        icms_rpc_payment_free(p);
        q.block_hash = node.blocks[9]; /* a block that does not hold it */
        p = check(plain, &q);
        assert_int_equal(p->status, ICMS_RPC_PAYMENT_NOT_FOUND);
        icms_rpc_payment_free(p);
        icms_rpc_client_free(plain);
    }
    q.block_hash = "xyz";
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q.block_hash = NULL;

    /* SPV against a synthetic mainnet block: its difficulty is below the network's minimum. */
    q = query(pay, PAY_SCRIPT, 1, 1);
    q.verify = ICMS_RPC_VERIFY_SPV;
    icms_rpc_payment *none = NULL;
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &none));
    assert_null(none);

    /* Reorg: pay_p2pkh's block leaves the best chain and a double spend confirms. */
    fake_step(&node);
    q = query(pay, PAY_SCRIPT, 1, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFLICTED);
    assert_int_equal(p->confirmations, 0);
    assert_string_equal(p->blockhash, node.blocks[10]);
    icms_rpc_payment_free(p);
    q.block_hash = node.blocks[10]; /* asked in the stale block: the node says it left the chain */
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFLICTED);
    icms_rpc_payment_free(p);
    q.block_hash = NULL;
    q = query(fake_node_txid(&node, "pay_split"), PAY_SCRIPT, 1, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_UNCONFIRMED); /* back in the mempool */
    icms_rpc_payment_free(p);

    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

static void test_lying_node(void **state)
{
    (void)state;
    fake_node node;
    fake_node_start(&node, "rpc/chain_0.16.3.json", NULL);
    const char *pay = fake_node_txid(&node, "pay_p2pkh");
    icms_rpc_payment *p = NULL;

    /* Another transaction's bytes under the txid asked for: caught by the recomputed txid. */
    icms_rpc_client *c = client_at(&node, "/lie/swap-tx/");
    icms_rpc_payment_query q = query(pay, PAY_SCRIPT, 1, 1);
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
    assert_null(p);
    assert_non_null(strstr(icms_error_last()->message, fake_node_txid(&node, "pay_mempool")));
    icms_rpc_client_free(c);

    /* Inflated JSON amounts: the check reads the bytes, so the real amount stands. */
    c = client_at(&node, "/lie/amount/");
    icms_rpc_tx *tx = NULL;
    assert_icms_ok(icms_rpc_getrawtransaction(c, pay, &tx));
    assert_int_equal(tx->outputs[0].value, 15000000000); /* the lie, as the node told it */
    icms_rpc_tx_free(tx);
    q = query(pay, PAY_SCRIPT, 150000001, 1);
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_INSUFFICIENT);
    assert_int_equal(p->amount, 150000000);
    icms_rpc_payment_free(p);
    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

static void test_bad_queries(void **state)
{
    (void)state;
    fake_node node;
    fake_node_start(&node, "rpc/chain_2606.json", NULL);
    icms_rpc_client *c = client_at(&node, "/");
    const char *pay = fake_node_txid(&node, "pay_p2pkh");
    icms_rpc_payment *p = NULL;
    icms_rpc_payment_query q = query("xyz", PAY_SCRIPT, 1, 1);
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q = query(pay, PAY_SCRIPT, -1, 1);
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q = query(pay, PAY_SCRIPT, 1, -1);
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q = query(pay, NULL, 1, 1);
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q.address = "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TG"; /* bad checksum */
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q.address = PAY_ADDRESS;
    q.network = ICMS_GAPCOIN_TEST; /* a mainnet address on testnet */
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q = query(pay, PAY_SCRIPT, 1, 1);
    q.version = 9;
    assert_icms(ICMS_EVERSION, icms_rpc_check_payment(c, &q, &p));
    q = query(pay, PAY_SCRIPT, 1, 1);
    q.verify = (icms_rpc_verify_t)7;
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, NULL, &p));
    assert_null(p);
    icms_rpc_payment_free(NULL);
    assert_string_equal(icms_rpc_payment_status_name((icms_rpc_payment_status_t)42), "UNKNOWN");
    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

/* SPV: 2606 proves inclusion with gettxoutproof, 0.9 with the whole block. */
static void test_spv(void **state)
{
    const char *scenario = *state;
    fake_node node;
    fake_node_start(&node, scenario, NULL);
    icms_rpc_client *c = client_at(&node, "/");
    icms_rpc_payment_query q = query(fake_node_txid(&node, "spv_pay"), PAY_SCRIPT, 500000000, 2);
    q.network = ICMS_GAPCOIN_TEST;
    q.verify = ICMS_RPC_VERIFY_SPV;
    icms_rpc_payment *p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_int_equal(p->spv_verified, 1);
    assert_int_equal(p->verified_depth, 2); /* blocks 1 and 2 checked as a chain */
    assert_int_equal(p->amount, 500000000);
    assert_int_equal(p->confirmations, 5);
    assert_string_equal(p->blockhash, node.blocks[1]);
    assert_int_equal(p->pow.computed, 1);
    assert_true(p->pow.achieved >= (UINT64_C(1) << 48));
    assert_true(p->pow.gap > 0);
    icms_rpc_payment_free(p);

    /* Four mined blocks deep: verified. Five reaches the synthetic block 5: refused. */
    q.min_confirmations = 4;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_int_equal(p->verified_depth, 4);
    icms_rpc_payment_free(p);
    q.min_confirmations = 5;
    p = NULL;
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
    assert_non_null(strstr(icms_error_last()->message, "headers above the block"));
    assert_null(p);
    /* Asking for more than the chain has: the headers there are verified, the answer is UNCONFIRMED
       only if they hold (here they do not). */
    q.min_confirmations = 6;
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
    q.min_confirmations = ICMS_RPC_SPV_MAX_DEPTH + 1;
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &q, &p));
    q.min_confirmations = 2;

    /* The same by testnet address (base58check version 111 of the same key hash). */
    uint8_t h160[20];
    memcpy(h160, q.script + 3, 20);
    char *address = NULL;
    assert_icms_ok(icms_gapcoin_base58check_encode(111, h160, 20, &address));
    icms_rpc_payment_query qa = q;
    qa.script = NULL;
    qa.script_len = 0;
    qa.address = address;
    p = check(c, &qa);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    assert_int_equal(p->amount, 500000000);
    icms_rpc_payment_free(p);
    qa.network = ICMS_GAPCOIN_MAIN; /* a testnet address is refused for mainnet */
    p = NULL;
    assert_icms(ICMS_EINVALID, icms_rpc_check_payment(c, &qa, &p));
    icms_free(address);

    /* A harder floor than the block carries: refused. */
    q.min_difficulty = UINT64_C(2) << 48;
    p = NULL;
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
    assert_non_null(strstr(icms_error_last()->message, "difficulty"));

    /* Block 5 is synthetic: its proof of work does not hold. RPC mode trusts it; SPV refuses. */
    q = query(fake_node_txid(&node, "spv_bad"), PAY_SCRIPT, 1, 1);
    q.network = ICMS_GAPCOIN_TEST;
    p = check(c, &q);
    assert_int_equal(p->status, ICMS_RPC_PAYMENT_CONFIRMED);
    icms_rpc_payment_free(p);
    q.verify = ICMS_RPC_VERIFY_SPV;
    p = NULL;
    assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
    assert_null(p);
    assert_non_null(strstr(icms_error_last()->message, "proof of work"));
    icms_rpc_client_free(c);

    /* A tampered merkle proof (2606 only: 0.9 sends whole blocks). */
    if (strstr(scenario, "2606")) {
        c = client_at(&node, "/lie/proof/");
        q = query(fake_node_txid(&node, "spv_pay"), PAY_SCRIPT, 1, 1);
        q.network = ICMS_GAPCOIN_TEST;
        q.verify = ICMS_RPC_VERIFY_SPV;
        assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
        assert_non_null(strstr(icms_error_last()->message, "merkle proof"));
        icms_rpc_client_free(c);
        /* A header above the block that is not the block the node names for its height. */
        c = client_at(&node, "/lie/header/");
        q.min_confirmations = 2;
        assert_icms(ICMS_ECORRUPT, icms_rpc_check_payment(c, &q, &p));
        assert_non_null(strstr(icms_error_last()->message, "is not block"));
        icms_rpc_client_free(c);
    }
    fake_node_stop(&node);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate(test_statuses, (void *)"rpc/chain_0.9.json"),
        cmocka_unit_test_prestate(test_statuses, (void *)"rpc/chain_0.16.3.json"),
        cmocka_unit_test_prestate(test_statuses, (void *)"rpc/chain_2606.json"),
        cmocka_unit_test(test_lying_node),
        cmocka_unit_test(test_bad_queries),
        cmocka_unit_test_prestate(test_spv, (void *)"rpc/spv_2606.json"),
        cmocka_unit_test_prestate(test_spv, (void *)"rpc/spv_0.9.json"),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
