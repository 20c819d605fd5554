/*
 * The JSON-RPC client with the REAL curl transport against the fake gapcoind
 * on loopback, once per node generation (0.9, 0.16.3, 2606), then every
 * failure: wrong credentials, timeouts, garbage, oversized answers, refused
 * connections, JSON-RPC error objects, HTTP errors. Chain data are the real
 * mainnet vectors (tests/data/rpc, copied from the shared Gapcoin vectors).
 */
#include "support/test_support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "fake_gapcoind/fake_node.h"
#include "icms/rpc.h"

#define PAY_ADDRESS "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF"
#define PAY_SCRIPT "76a914d1881cd5bec33eb670aa1c79267a4a516d77ec9a88ac"
#define GENESIS_P2PK_ADDRESS "GZiiRe1CLf2eLnhtSKG6rrbaKpJBMY37kA"
#define AUTH_B64 "Z2FwdXNlcjpzM2NyZXQtUGE1NXdvcmQ="

typedef struct generation_case {
    const char *scenario;
    const char *new_address;
    const char *witness_address; /* NULL when the generation has none */
    int pubkey_has_address;
    int has_proof;
    int has_script_in_validate;
} generation_case;

static const generation_case GEN_09 = {"rpc/chain_0.9.json", PAY_ADDRESS, NULL, 1, 0, 0};
static const generation_case GEN_0163 = {"rpc/chain_0.16.3.json",
                                         "gp1q6xype4d7cvltvu92r3ujv7j229kh0my6t6cxpy",
                                         "gp1q6xype4d7cvltvu92r3ujv7j229kh0my6t6cxpy", 1, 1, 1};
static const generation_case GEN_2606 = {"rpc/chain_2606.json",
                                         "gap1q6xype4d7cvltvu92r3ujv7j229kh0my63mt7nl",
                                         "gap1q6xype4d7cvltvu92r3ujv7j229kh0my63mt7nl", 0, 1, 1};

/* The real vectors this suite compares against. */
static char genesis_block_hex[4096];
static char genesis_header_hex[512];
static char genesis_proof_hex[1024];
static char header_hex[10][512]; /* [1..9] */

static void load_vectors(void)
{
    char *text = icms_test_read_file(icms_test_data_path("rpc/genesis.json"), NULL);
    cJSON *g = cJSON_Parse(text);
    assert_non_null(g);
    cJSON *m = cJSON_GetObjectItem(g, "mainnet");
    snprintf(genesis_block_hex, sizeof genesis_block_hex, "%s",
             cJSON_GetObjectItem(m, "block_hex")->valuestring);
    snprintf(genesis_header_hex, sizeof genesis_header_hex, "%s",
             cJSON_GetObjectItem(m, "header_hex")->valuestring);
    snprintf(genesis_proof_hex, sizeof genesis_proof_hex, "%s",
             cJSON_GetObjectItem(m, "merkle_proof_hex")->valuestring);
    cJSON_Delete(g);
    free(text);
    text = icms_test_read_file(icms_test_data_path("rpc/mainnet_headers_1_9.json"), NULL);
    cJSON *h = cJSON_Parse(text);
    cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItem(h, "headers"))
    {
        int height = cJSON_GetObjectItem(it, "height")->valueint;
        snprintf(header_hex[height], sizeof header_hex[height], "%s",
                 cJSON_GetObjectItem(it, "header_hex")->valuestring);
    }
    cJSON_Delete(h);
    free(text);
}

static int group_setup(void **state)
{
    (void)state;
    icms_init();
    load_vectors();
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    icms_shutdown();
    return 0;
}

static icms_rpc_client *client_for(const fake_node *node, const char *path, const char *password,
                                   unsigned timeout_ms, size_t max_response,
                                   icms_rpc_generation_t gen)
{
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = password;
    o.timeout_ms = timeout_ms;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    icms_rpc_options ro = ICMS_RPC_OPTIONS_INIT;
    ro.max_response_len = max_response;
    ro.generation = gen;
    icms_rpc_client *c = NULL;
    assert_icms_ok(icms_rpc_client_new(&c, t, fake_node_url(node, path, 0), &ro));
    return c;
}

static icms_rpc_client *client_ok(const fake_node *node)
{
    return client_for(node, "/", FAKE_NODE_PASSWORD, 0, 0, ICMS_RPC_GEN_AUTO);
}

static void assert_bytes_hex(const uint8_t *bytes, size_t len, const char *hex)
{
    size_t want_len = 0;
    uint8_t *want = icms_test_unhex(hex, &want_len);
    assert_int_equal(len, want_len);
    assert_memory_equal(bytes, want, len);
    free(want);
}

/* Advance the fake node's scenario (a reorg) through a plain transport. */
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

static const icms_rpc_txout *output(const icms_rpc_tx *tx, uint32_t n)
{
    for (size_t i = 0; i < tx->output_count; i++)
        if (tx->outputs[i].n == n)
            return &tx->outputs[i];
    fail_msg("no output %u", n);
    return NULL;
}

static void test_generation(void **state)
{
    const generation_case *g = *state;
    fake_node node;
    fake_node_start(&node, g->scenario, NULL);
    icms_rpc_client *c = client_ok(&node);

    int64_t height = -1;
    assert_icms_ok(icms_rpc_getblockcount(c, &height));
    assert_int_equal(height, 12);

    char *hash = NULL;
    assert_icms_ok(icms_rpc_getblockhash(c, 0, &hash));
    assert_string_equal(hash, "e798f3ae4f57adcf25740fe43100d95ec4fd5d43a1568bc89e2b25df89ff6cb0");
    icms_free(hash);
    assert_icms_ok(icms_rpc_getblockhash(c, 9, &hash));
    assert_string_equal(hash, "f69e57a4fa6f9afb49442f735c230b021f4fdab4f6e842a813fab1736ee16ced");
    icms_free(hash);
    assert_icms(ICMS_ENOTFOUND, icms_rpc_getblockhash(c, 13, &hash));
    assert_null(hash);
    assert_icms(ICMS_EINVALID, icms_rpc_getblockhash(c, -1, &hash));

    /* Raw block and headers: real bytes, whichever way the generation serves them. */
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_icms_ok(icms_rpc_getblock_raw(c, node.blocks[0], &bytes, &len));
    assert_bytes_hex(bytes, len, genesis_block_hex);
    icms_free(bytes);
    assert_icms_ok(icms_rpc_getblockheader_raw(c, node.blocks[0], &bytes, &len));
    assert_bytes_hex(bytes, len, genesis_header_hex);
    icms_free(bytes);
    for (int h = 1; h <= 9; h++) {
        assert_icms_ok(icms_rpc_getblockheader_raw(c, node.blocks[h], &bytes, &len));
        assert_bytes_hex(bytes, len, header_hex[h]);
        icms_free(bytes);
    }
    assert_icms(ICMS_ENOTFOUND,
                icms_rpc_getblockheader_raw(
                    c, "00000000000000000000000000000000000000000000000000000000000000aa", &bytes,
                    &len));
    assert_non_null(strstr(icms_error_last()->message, "Block not found"));
    assert_icms(ICMS_ENOTFOUND,
                icms_rpc_getblock_raw(
                    c, "00000000000000000000000000000000000000000000000000000000000000aa", &bytes,
                    &len));

    /* A payment in block 10: amounts exact from the node's decimal text. */
    icms_rpc_tx *tx = NULL;
    const char *pay = fake_node_txid(&node, "pay_p2pkh");
    assert_icms_ok(icms_rpc_getrawtransaction(c, pay, &tx));
    assert_string_equal(tx->txid, pay);
    assert_int_equal(tx->confirmations, 3);
    assert_int_equal(tx->in_block, 1);
    assert_string_equal(tx->blockhash, node.blocks[10]);
    assert_int_equal(tx->blocktime, 1413916000);
    assert_int_equal(tx->output_count, 2);
    assert_int_equal(output(tx, 0)->value, 150000000);
    assert_int_equal(output(tx, 1)->value, 12345678901); /* 123.45678901: wrong through a double */
    assert_string_equal(output(tx, 0)->script_hex, PAY_SCRIPT);
    assert_string_equal(output(tx, 0)->address, PAY_ADDRESS);
    assert_string_equal(output(tx, 1)->address, "Gg6zcf8yLbPdy1b14T135QzhjhZXQTSVW2");
    assert_int_equal(tx->raw_len, 120);
    icms_rpc_tx_free(tx);

    /* The genesis coinbase pays to a bare public key: 2606 gives it no address. */
    assert_icms_ok(icms_rpc_getrawtransaction(c, fake_node_txid(&node, "genesis_coinbase"), &tx));
    assert_int_equal(tx->confirmations, 13);
    assert_int_equal(output(tx, 0)->value, 0);
    if (g->pubkey_has_address)
        assert_string_equal(output(tx, 0)->address, GENESIS_P2PK_ADDRESS);
    else
        assert_null(output(tx, 0)->address);
    assert_int_equal(tx->raw_len, 199);
    icms_rpc_tx_free(tx);

    /* A witness output: gp1 (bech32) on 0.16.3, gap1 (bech32m) on 2606, nothing on 0.9. */
    assert_icms_ok(icms_rpc_getrawtransaction(c, fake_node_txid(&node, "pay_p2wpkh"), &tx));
    assert_int_equal(output(tx, 0)->value, 2100000000000000);
    if (g->witness_address)
        assert_string_equal(output(tx, 0)->address, g->witness_address);
    else
        assert_null(output(tx, 0)->address);
    icms_rpc_tx_free(tx);

    /* Mempool: no block, no confirmations. */
    assert_icms_ok(icms_rpc_getrawtransaction(c, fake_node_txid(&node, "pay_mempool"), &tx));
    assert_int_equal(tx->confirmations, 0);
    assert_int_equal(tx->in_block, 0);
    assert_string_equal(tx->blockhash, "");
    assert_int_equal(output(tx, 0)->value, 99999999);
    icms_rpc_tx_free(tx);

    assert_icms(ICMS_ENOTFOUND,
                icms_rpc_getrawtransaction(
                    c, "abababababababababababababababababababababababababababababababab", &tx));
    assert_null(tx);
    assert_non_null(strstr(icms_error_last()->message, "RPC error -5"));
    assert_icms(ICMS_EINVALID, icms_rpc_getrawtransaction(c, "not-a-txid", &tx));

    /* Merkle proofs: the real genesis proof on 0.16.3 and 2606; 0.9 has no such call. */
    const char *coinbase = fake_node_txid(&node, "genesis_coinbase");
    if (g->has_proof) {
        assert_icms_ok(icms_rpc_gettxoutproof(c, coinbase, NULL, &bytes, &len));
        assert_bytes_hex(bytes, len, genesis_proof_hex);
        icms_free(bytes);
        assert_icms_ok(icms_rpc_gettxoutproof(c, coinbase, node.blocks[0], &bytes, &len));
        icms_free(bytes);
        assert_icms(ICMS_ENOTFOUND, icms_rpc_gettxoutproof(
                                        c, fake_node_txid(&node, "pay_mempool"), NULL, &bytes, &len));
    } else {
        assert_icms(ICMS_EVERSION, icms_rpc_gettxoutproof(c, coinbase, NULL, &bytes, &len));
        assert_non_null(strstr(icms_error_last()->message, "-32601"));
    }

    char *addr = NULL;
    assert_icms_ok(icms_rpc_getnewaddress(c, &addr));
    assert_string_equal(addr, g->new_address);
    icms_free(addr);

    icms_rpc_address_info *info = NULL;
    assert_icms_ok(icms_rpc_validateaddress(c, PAY_ADDRESS, &info));
    assert_int_equal(info->is_valid, 1);
    assert_string_equal(info->address, PAY_ADDRESS);
    if (g->has_script_in_validate)
        assert_string_equal(info->script_hex, PAY_SCRIPT);
    else
        assert_null(info->script_hex);
    icms_rpc_address_info_free(info);
    /* One character changed: the checksum fails. */
    assert_icms_ok(icms_rpc_validateaddress(c, "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TG", &info));
    assert_int_equal(info->is_valid, 0);
    icms_rpc_address_info_free(info);
    assert_icms_ok(icms_rpc_validateaddress(c, "\"],\"x", &info));
    assert_int_equal(info->is_valid, 0);
    icms_rpc_address_info_free(info);

    /* A reorg: block 10 is replaced by one that double-spends pay_p2pkh's input. */
    fake_step(&node);
    assert_icms_ok(icms_rpc_getblockcount(c, &height));
    assert_int_equal(height, 13);
    assert_icms_ok(icms_rpc_getrawtransaction(c, pay, &tx));
    assert_int_equal(tx->confirmations, 0); /* its block left the best chain */
    assert_int_equal(tx->in_block, 1);
    assert_string_equal(tx->blockhash, node.blocks[10]);
    icms_rpc_tx_free(tx);
    assert_icms_ok(icms_rpc_getrawtransaction(c, fake_node_txid(&node, "pay_conflict"), &tx));
    assert_int_equal(tx->confirmations, 4);
    icms_rpc_tx_free(tx);
    assert_icms_ok(icms_rpc_getrawtransaction(c, fake_node_txid(&node, "pay_split"), &tx));
    assert_int_equal(tx->in_block, 0); /* back in the mempool */
    assert_int_equal(output(tx, 0)->value + output(tx, 2)->value, 150000000);
    icms_rpc_tx_free(tx);

    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

static void test_generation_pinned(void **state)
{
    (void)state;
    fake_node node;
    fake_node_start(&node, GEN_09.scenario, NULL);
    /* Pinned to 0.9, getblockheader is never tried; pinned to 2606 it is, and fails clearly. */
    icms_rpc_client *c = client_for(&node, "/", FAKE_NODE_PASSWORD, 0, 0, ICMS_RPC_GEN_0_9);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_icms_ok(icms_rpc_getblockheader_raw(c, node.blocks[3], &bytes, &len));
    assert_bytes_hex(bytes, len, header_hex[3]);
    icms_free(bytes);
    assert_icms(ICMS_EVERSION, icms_rpc_gettxoutproof(c, node.txids[0], NULL, &bytes, &len));
    icms_rpc_client_free(c);
    c = client_for(&node, "/", FAKE_NODE_PASSWORD, 0, 0, ICMS_RPC_GEN_2606);
    assert_icms(ICMS_EVERSION, icms_rpc_getblockheader_raw(c, node.blocks[3], &bytes, &len));
    assert_non_null(strstr(icms_error_last()->message, "Method not found"));
    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

/* ---- failures ---- */

static fake_node fnode;

static void assert_no_secret(void)
{
    const char *msg = icms_error_last()->message;
    assert_null(strstr(msg, FAKE_NODE_PASSWORD));
    assert_null(strstr(msg, AUTH_B64));
}

static void test_wrong_credentials(void **state)
{
    (void)state;
    icms_rpc_client *c = client_for(&fnode, "/", "not-the-password", 0, 0, ICMS_RPC_GEN_AUTO);
    int64_t height = 0;
    assert_icms(ICMS_EUNAUTHENTICATED, icms_rpc_getblockcount(c, &height));
    assert_non_null(strstr(icms_error_last()->message, "401"));
    assert_null(strstr(icms_error_last()->message, "not-the-password"));
    assert_no_secret();
    icms_rpc_client_free(c);
}

static void test_garbage_answers(void **state)
{
    (void)state;
    const char *paths[] = {"/garbage/html", "/garbage/truncated", "/garbage/array",
                           "/garbage/noresult"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        icms_rpc_client *c = client_for(&fnode, paths[i], FAKE_NODE_PASSWORD, 0, 0,
                                        ICMS_RPC_GEN_AUTO);
        int64_t height = 0;
        icms_rpc_tx *tx = NULL;
        assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockcount(c, &height));
        assert_non_null(strstr(icms_error_last()->message, "not JSON-RPC"));
        assert_icms(ICMS_ETRANSPORT, icms_rpc_getrawtransaction(c, fnode.txids[0], &tx));
        assert_null(tx);
        icms_rpc_client_free(c);
    }
}

static void test_oversized_answer(void **state)
{
    (void)state;
    icms_rpc_client *c = client_for(&fnode, "/oversized/300000", FAKE_NODE_PASSWORD, 0, 100000,
                                    ICMS_RPC_GEN_AUTO);
    int64_t height = 0;
    assert_icms(ICMS_ELIMIT, icms_rpc_getblockcount(c, &height));
    icms_rpc_client_free(c);
    c = client_for(&fnode, "/oversized-chunked/300000", FAKE_NODE_PASSWORD, 0, 100000,
                   ICMS_RPC_GEN_AUTO);
    assert_icms(ICMS_ELIMIT, icms_rpc_getblockcount(c, &height));
    icms_rpc_client_free(c);
    /* The genesis block is 285 bytes; a 64-byte cap refuses it. */
    c = client_for(&fnode, "/", FAKE_NODE_PASSWORD, 0, 64, ICMS_RPC_GEN_AUTO);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_icms(ICMS_ELIMIT, icms_rpc_getblock_raw(c, fnode.blocks[0], &bytes, &len));
    assert_null(bytes);
    icms_rpc_client_free(c);
}

static void test_timeout_and_refused(void **state)
{
    (void)state;
    icms_rpc_client *c = client_for(&fnode, "/slow/5000/", FAKE_NODE_PASSWORD, 300, 0,
                                    ICMS_RPC_GEN_AUTO);
    int64_t height = 0;
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockcount(c, &height));
    assert_non_null(strstr(icms_error_last()->message, "timed out"));
    assert_no_secret();
    icms_rpc_client_free(c);

    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &o));
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", fake_node_unused_port());
    assert_icms_ok(icms_rpc_client_new(&c, t, url, NULL));
    assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockcount(c, &height));
    assert_non_null(strstr(icms_error_last()->message, "getblockcount"));
    assert_no_secret();
    icms_rpc_client_free(c);
}

static void test_http_errors(void **state)
{
    (void)state;
    const int statuses[] = {503, 502, 403, 404, 500, 302};
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
        char path[32];
        snprintf(path, sizeof path, "/status/%d", statuses[i]);
        icms_rpc_client *c = client_for(&fnode, path, FAKE_NODE_PASSWORD, 0, 0, ICMS_RPC_GEN_AUTO);
        int64_t height = 0;
        assert_icms(ICMS_ETRANSPORT, icms_rpc_getblockcount(c, &height));
        char code[8];
        snprintf(code, sizeof code, "%d", statuses[i]);
        assert_non_null(strstr(icms_error_last()->message, code));
        icms_rpc_client_free(c);
    }
}

/* One client shared by threads: ids come from an atomic counter, answers must match them. */
static icms_rpc_client *shared_client;

static void *hammer(void *arg)
{
    const char *txid = arg;
    for (int i = 0; i < 15; i++) {
        icms_rpc_tx *tx = NULL;
        if (icms_rpc_getrawtransaction(shared_client, txid, &tx) != 0 || tx->output_count != 2 ||
            tx->outputs[1].value != 12345678901) {
            icms_rpc_tx_free(tx);
            return NULL;
        }
        icms_rpc_tx_free(tx);
    }
    return (void *)1;
}

static void test_threads_share_a_client(void **state)
{
    (void)state;
    shared_client = client_ok(&fnode);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(
            pthread_create(&th[i], NULL, hammer, (void *)fake_node_txid(&fnode, "pay_p2pkh")), 0);
    for (int i = 0; i < 4; i++) {
        void *ok = NULL;
        pthread_join(th[i], &ok);
        assert_non_null(ok);
    }
    icms_rpc_client_free(shared_client);
}

static void test_client_arguments(void **state)
{
    (void)state;
    icms_rpc_client *c = NULL;
    icms_transport *t = NULL;
    /* A refused client still frees the transport it was given (valgrind sees no leak). */
    assert_icms_ok(icms_transport_curl_new(&t, NULL));
    assert_icms(ICMS_EINVALID, icms_rpc_client_new(&c, t, "ftp://127.0.0.1/", NULL));
    assert_null(c);
    assert_icms_ok(icms_transport_curl_new(&t, NULL));
    icms_rpc_options o = ICMS_RPC_OPTIONS_INIT;
    o.version = 5;
    assert_icms(ICMS_EVERSION, icms_rpc_client_new(&c, t, "http://127.0.0.1/", &o));
    assert_icms_ok(icms_transport_curl_new(&t, NULL));
    o = (icms_rpc_options)ICMS_RPC_OPTIONS_INIT;
    o.generation = (icms_rpc_generation_t)9;
    assert_icms(ICMS_EINVALID, icms_rpc_client_new(&c, t, "http://127.0.0.1/", &o));
    assert_icms(ICMS_EINVALID, icms_rpc_client_new(&c, NULL, "http://127.0.0.1/", NULL));
    icms_rpc_client_free(NULL);
    icms_rpc_tx_free(NULL);
    icms_rpc_address_info_free(NULL);

    c = client_ok(&fnode);
    uint8_t *bytes = NULL;
    size_t len = 0;
    assert_icms(ICMS_EINVALID, icms_rpc_getblock_raw(c, "e798", &bytes, &len));
    assert_icms(ICMS_EINVALID, icms_rpc_getblockheader_raw(c, NULL, &bytes, &len));
    assert_icms(ICMS_EINVALID, icms_rpc_gettxoutproof(c, fnode.txids[0], "zz", &bytes, &len));
    assert_icms(ICMS_EINVALID, icms_rpc_getblockcount(c, NULL));
    icms_rpc_client_free(c);
}

int main(void)
{
    const struct CMUnitTest generations[] = {
        cmocka_unit_test_prestate(test_generation, (void *)&GEN_09),
        cmocka_unit_test_prestate(test_generation, (void *)&GEN_0163),
        cmocka_unit_test_prestate(test_generation, (void *)&GEN_2606),
        cmocka_unit_test(test_generation_pinned),
    };
    const struct CMUnitTest failures[] = {
        cmocka_unit_test(test_wrong_credentials), cmocka_unit_test(test_garbage_answers),
        cmocka_unit_test(test_oversized_answer),  cmocka_unit_test(test_timeout_and_refused),
        cmocka_unit_test(test_http_errors),       cmocka_unit_test(test_client_arguments),
        cmocka_unit_test(test_threads_share_a_client),
    };
    int failed = cmocka_run_group_tests_name("generations", generations, group_setup, group_teardown);
    icms_init();
    fake_node_start(&fnode, "rpc/chain_0.16.3.json", NULL);
    failed += cmocka_run_group_tests_name("failures", failures, NULL, NULL);
    fake_node_stop(&fnode);
    icms_shutdown();
    return failed;
}
