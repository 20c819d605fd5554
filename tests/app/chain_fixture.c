#include "chain_fixture.h"

#include "support/test_support.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "icms/gapcoin.h"
#include "icms/rpc.h"
#include "icms/sys/transport.h"

static int tx_counter;

void chain_append(chain *c, const char *text)
{
    size_t n = strlen(text);
    if (c->len + n + 1 > sizeof c->json)
        fail_msg("scenario too large");
    memcpy(c->json + c->len, text, n + 1);
    c->len += n;
}

static void address_for(uint8_t seed, char address[64], char script[64])
{
    uint8_t h160[20];
    memset(h160, seed, sizeof h160);
    char *text = NULL;
    assert_icms_ok(icms_gapcoin_base58check_encode(38, h160, sizeof h160, &text));
    snprintf(address, 64, "%s", text);
    icms_free(text);
    char hex[41];
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02x", h160[i]);
    snprintf(script, 64, "76a914%s88ac", hex);
}

/* A dummy coinbase so that every block has a transaction (and a unique one). */
static const char *coinbase(char *buf, size_t size)
{
    snprintf(buf, size,
             "{\"name\":\"cb%d\",\"inputs\":[{\"txid\":\"%064d\",\"vout\":4294967295,"
             "\"script\":\"00\"}],\"outputs\":[{\"value\":0,\"script\":\"6a\"}],\"locktime\":%d}",
             tx_counter, 0, tx_counter);
    tx_counter++;
    return buf;
}

static void blocks(chain *c, const char *first_txs, int count)
{
    char cb[256];
    for (int i = 0; i < count; i++) {
        char head[64];
        snprintf(head, sizeof head, "%s{\"time\":%d,\"txs\":[", i ? "," : "",
                 1413916000 + tx_counter * 150);
        chain_append(c, head);
        chain_append(c, coinbase(cb, sizeof cb));
        if (i == 0 && first_txs && strcmp(first_txs, "[]") != 0) {
            chain_append(c, ",");
            /* first_txs is "[a,b]": splice its items in. */
            chain_append(c, first_txs + 1);
            c->len--; /* drop its closing bracket */
            c->json[c->len] = '\0';
        }
        chain_append(c, "]}");
    }
}

void chain_begin(chain *c, int height)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < CHAIN_WALLET; i++)
        address_for((uint8_t)(0x11 * (i + 1)), c->addresses[i], c->scripts[i]);
    address_for(0x99, c->refund_address, c->refund_script);
    char head[256];
    snprintf(head, sizeof head,
             "{\"generation\":\"0.16.3\",\"network\":\"main\",\"rpcuser\":\"%s\","
             "\"rpcpassword\":\"%s\",\"wallet\":{\"new_addresses\":[",
             FAKE_NODE_USER, FAKE_NODE_PASSWORD);
    chain_append(c, head);
    for (int i = 0; i < CHAIN_WALLET; i++) {
        chain_append(c, i ? ",\"" : "\"");
        chain_append(c, c->addresses[i]);
        chain_append(c, "\"");
    }
    chain_append(c, "]},\"blocks\":[");
    blocks(c, NULL, height + 1);
    chain_append(c, "],\"steps\":[");
}

const char *chain_tx(chain *c, const char *name, const char *script, long long value)
{
    (void)c;
    static char buf[8][512];
    static int slot;
    char *out = buf[slot++ % 8];
    snprintf(out, 512,
             "{\"name\":\"%s\",\"inputs\":[{\"txid\":\"%064x\",\"vout\":%d,\"script\":\"00\"}],"
             "\"outputs\":[{\"value\":%lld,\"script\":\"%s\"}]}",
             name, 0xabc, tx_counter++, value, script);
    return out;
}

static bool first_step = true;

static void step_open(chain *c)
{
    chain_append(c, first_step ? "{" : ",{");
    first_step = false;
}

void chain_step_blocks(chain *c, const char *txs, int count, const char *mempool)
{
    step_open(c);
    chain_append(c, "\"blocks\":[");
    blocks(c, txs, count);
    chain_append(c, "],\"mempool\":");
    chain_append(c, mempool ? mempool : "[]");
    chain_append(c, "}");
}

void chain_step_reorg(chain *c, int disconnect, int count, const char *mempool)
{
    char head[64];
    step_open(c);
    snprintf(head, sizeof head, "\"disconnect\":%d,\"blocks\":[", disconnect);
    chain_append(c, head);
    blocks(c, NULL, count);
    chain_append(c, "],\"mempool\":");
    chain_append(c, mempool ? mempool : "[]");
    chain_append(c, "}");
}

void chain_start(chain *c, const char *mempool, const char *test_name)
{
    chain_append(c, "],\"mempool\":");
    chain_append(c, mempool ? mempool : "[]");
    chain_append(c, "}");
    first_step = true;
    char path[4200];
    snprintf(path, sizeof path, "%s/scenario.json", icms_test_tmpdir(test_name));
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(c->json, f);
    fclose(f);
    fake_node_start(&c->node, path, NULL);
}

static icms_transport *transport(void)
{
    icms_transport_curl_options options = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    options.username = FAKE_NODE_USER;
    options.password = FAKE_NODE_PASSWORD;
    options.timeout_ms = 5000;
    icms_transport *t = NULL;
    assert_icms_ok(icms_transport_curl_new(&t, &options));
    return t;
}

void chain_next(chain *c)
{
    icms_transport *t = transport();
    static const char body[] = "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"fake_step\",\"params\":[]}";
    const char *headers[] = {"Content-Type: application/json"};
    icms_transport_request req = {ICMS_TRANSPORT_REQUEST_VERSION, fake_node_url(&c->node, "/", 0),
                                  headers, 1, (const uint8_t *)body, sizeof body - 1, 1 << 20};
    int status = 0;
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    assert_icms_ok(icms_transport_post(t, &req, &status, &answer, &answer_len));
    if (status != 200)
        fail_msg("fake_step answered %d: %s", status, answer ? (char *)answer : "");
    icms_free(answer);
    icms_transport_free(t);
}

void chain_stop(chain *c)
{
    fake_node_stop(&c->node);
}

void chain_attach(fx *f, chain *c, int down)
{
    icms_options options = ICMS_OPTIONS_INIT;
    char url[128];
    if (down)
        snprintf(url, sizeof url, "http://127.0.0.1:%d/", fake_node_unused_port());
    else
        snprintf(url, sizeof url, "%s", fake_node_url(&c->node, "/", 0));
    assert_icms_ok(icms_rpc_client_new(&options.gapcoin, transport(), url, NULL));
    fx_reopen(f, &options);
}
