/*
 * Not a test: how long a payment check takes over loopback against the fake
 * gapcoind (docs/rpc.md, "Cost"). Usage, from the build directory:
 *   ICMS_TEST_DATA=$PWD/../tests/data tests/rpc/bench_rpc_payment [N]
 * Prints milliseconds per check for RPC mode, SPV mode at depth 1 and depth 4
 * (2606: gettxoutproof) and SPV depth 4 on 0.9 (whole block, header fallback).
 * The fake node is Python: most of the time is its answers, not libicms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fake_gapcoind/fake_node.h"
#include "icms/rpc.h"
#include "support/test_support.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void run(const char *scenario, const char *label, icms_rpc_verify_t verify, int64_t depth,
                int n)
{
    fake_node node;
    fake_node_start(&node, scenario, NULL);
    icms_transport_curl_options o = ICMS_TRANSPORT_CURL_OPTIONS_INIT;
    o.username = FAKE_NODE_USER;
    o.password = FAKE_NODE_PASSWORD;
    icms_transport *t = NULL;
    icms_rpc_client *c = NULL;
    if (icms_transport_curl_new(&t, &o) || icms_rpc_client_new(&c, t, fake_node_url(&node, "/", 0), NULL))
        abort();
    size_t len = 0;
    uint8_t *spk = icms_test_unhex("76a914d1881cd5bec33eb670aa1c79267a4a516d77ec9a88ac", &len);
    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    q.txid = fake_node_txid(&node, "spv_pay");
    q.script = spk;
    q.script_len = len;
    q.network = ICMS_GAPCOIN_TEST;
    q.min_amount = 500000000;
    q.min_confirmations = depth;
    q.verify = verify;
    double start = now_ms();
    for (int i = 0; i < n; i++) {
        icms_rpc_payment *p = NULL;
        if (icms_rpc_check_payment(c, &q, &p) != 0 || p->status != ICMS_RPC_PAYMENT_CONFIRMED) {
            fprintf(stderr, "check failed: %s\n", icms_error_last()->message);
            abort();
        }
        icms_rpc_payment_free(p);
    }
    double ms = (now_ms() - start) / n;
    printf("%-34s %8.2f ms per check\n", label, ms);
    free(spk);
    icms_rpc_client_free(c);
    fake_node_stop(&node);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 100;
    icms_init();
    run("rpc/spv_2606.json", "2606 RPC mode", ICMS_RPC_VERIFY_RPC, 1, n);
    run("rpc/spv_2606.json", "2606 SPV depth 1", ICMS_RPC_VERIFY_SPV, 1, n);
    run("rpc/spv_2606.json", "2606 SPV depth 4", ICMS_RPC_VERIFY_SPV, 4, n);
    run("rpc/spv_0.9.json", "0.9 SPV depth 4 (block, fallback)", ICMS_RPC_VERIFY_SPV, 4, n);
    icms_shutdown();
    return 0;
}
