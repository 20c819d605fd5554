/*
 * Fuzz the RPC client's reading of node answers: the input is the HTTP body a
 * node sends (its first byte picks the HTTP status), fed through the canned
 * transport to every call and to the payment check. Checked: no crash, no
 * leak, every failure a negative code with a message, every success with its
 * outputs set. The input's tail is also parsed as an amount; an accepted
 * amount must print back to a text that parses to the same value.
 *
 * libFuzzer (clang, -DICMS_FUZZ=ON):  build-fuzz/tests/rpc/fuzz_rpc_response -max_total_time=60
 * Replay (every build, ctest): mutations of valid answers from a fixed seed.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms/rpc.h"
#include "rpc/canned_transport.h"

#define TXID "261010cfad2ae26a355e56c2551ea2cc05549df11db7f40db7c2b9e3b40e1194"
#define HASH "e798f3ae4f57adcf25740fe43100d95ec4fd5d43a1568bc89e2b25df89ff6cb0"

static void require(int cond, const char *what)
{
    if (!cond) {
        fprintf(stderr, "fuzz invariant broken: %s\n", what);
        abort();
    }
}

static void check_rc(int rc)
{
    require(rc <= 0, "positive return code");
    if (rc < 0)
        require(icms_error_last()->code == rc && icms_error_last()->message[0] != '\0',
                "failure without its message");
}

static void check_amount(const uint8_t *data, size_t size)
{
    int64_t v = 0;
    if (icms_rpc_amount_parse((const char *)data, size, &v) != 0)
        return;
    char text[48];
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    snprintf(text, sizeof text, "%s%llu.%08llu", v < 0 ? "-" : "",
             (unsigned long long)(mag / 100000000u), (unsigned long long)(mag % 100000000u));
    int64_t back = 1;
    require(icms_rpc_amount_parse(text, strlen(text), &back) == 0 && back == v,
            "amount does not round-trip");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int initialised;
    if (!initialised) {
        icms_init();
        initialised = 1;
    }
    static const int statuses[] = {200, 500, 404, 401, 403, 502};
    int status = size ? statuses[data[0] % 6] : 200;
    const char *body = size > 1 ? (const char *)data + 1 : "";
    size_t body_len = size > 1 ? size - 1 : 0;
    check_amount(data, size);
    if (body_len == 0)
        return 0; /* the canned transport reads 0 as "use strlen" */

    canned script;
    memset(&script, 0, sizeof script);
    for (int i = 0; i < CANNED_MAX; i++)
        canned_push_bytes(&script, status, body, body_len);
    icms_rpc_client *c = NULL;
    check_rc(icms_rpc_client_new(&c, canned_transport(&script), "http://node.invalid/", NULL));

    int64_t height = 0;
    check_rc(icms_rpc_getblockcount(c, &height));
    char *hash = NULL;
    int rc = icms_rpc_getblockhash(c, 1, &hash);
    check_rc(rc);
    require((rc == 0) == (hash != NULL), "getblockhash output");
    if (hash)
        require(strlen(hash) == 64, "hash length");
    icms_free(hash);
    uint8_t *bytes = NULL;
    size_t len = 0;
    rc = icms_rpc_getblockheader_raw(c, HASH, &bytes, &len);
    check_rc(rc);
    require((rc == 0) == (bytes != NULL), "header output");
    icms_free(bytes);
    bytes = NULL;
    check_rc(icms_rpc_gettxoutproof(c, TXID, NULL, &bytes, &len));
    icms_free(bytes);
    icms_rpc_tx *tx = NULL;
    rc = icms_rpc_getrawtransaction(c, TXID, &tx);
    check_rc(rc);
    require((rc == 0) == (tx != NULL), "tx output");
    if (tx)
        for (size_t i = 0; i < tx->output_count; i++)
            require(tx->outputs[i].script_hex != NULL, "output without script");
    icms_rpc_tx_free(tx);
    icms_rpc_address_info *info = NULL;
    check_rc(icms_rpc_validateaddress(c, "GcwphVTaks2XGGB8RUk7auWdgmG8CV14TF", &info));
    icms_rpc_address_info_free(info);

    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    static const uint8_t spk[] = {0x51};
    q.txid = TXID;
    q.script = spk;
    q.script_len = sizeof spk;
    icms_rpc_payment *p = NULL;
    rc = icms_rpc_check_payment(c, &q, &p);
    check_rc(rc);
    require((rc == 0) == (p != NULL), "payment output");
    if (p)
        require(p->amount >= 0 && p->vout_count <= 100000, "payment amount");
    icms_rpc_payment_free(p);
    icms_rpc_client_free(c);
    return 0;
}

#ifdef ICMS_FUZZ_REPLAY
/* Without libFuzzer: valid answers, then seeded mutations of them (flips, cuts, splices). */
static const char *const SEEDS[] = {
    "\x00{\"result\":12,\"error\":null,\"id\":$ID}",
    "\x00{\"result\":\"" HASH "\",\"error\":null,\"id\":$ID}",
    "\x01{\"result\":null,\"error\":{\"code\":-5,\"message\":\"No such\"},\"id\":$ID}",
    "\x02{\"result\":null,\"error\":{\"code\":-32601,\"message\":\"Method not found\"},\"id\":$ID}",
    "\x00{\"result\":{\"hex\":\"01000000010000000000000000000000000000000000000000000000000000000000000000ffffffff4804ffff001d0104405468652054696d65732031352f4f63742f3230313420555320646174612073656e647320676c6f62616c2073746f636b7320696e746f207461696c2d7370696effffffff0100000000000000004341044588d54931b7de2f9faaa5a3c1fde654114ae51273754e1f3f9720127f8977af6bfaa1f33e22e80e4b83f5269921501b411d254929faf1b10d2174ded28ac59dac00000000\",\"txid\":\"" TXID "\",\"blockhash\":\"" HASH "\",\"confirmations\":3,\"vout\":[{\"value\":123.45678901,\"n\":0,\"scriptPubKey\":{\"hex\":\"51\",\"addresses\":[\"Gx\"]}}]},\"error\":null,\"id\":$ID}",
    "\x00{\"result\":{\"isvalid\":true,\"address\":\"G\",\"scriptPubKey\":\"51\"},\"error\":null,\"id\":$ID}",
    "\x00{\"result\":\"01000000000000000000000000000000000000000000000000000000000000000000000094110eb4e3b9c2b70df4b71df19d5405cca21e55c2565e356ae22aadcf101026209f465400000000000010003a340000140003e99c0f00\",\"error\":null,\"id\":$ID}",
    "\x00" "92233720368.54775807",
    "\x00" "-1.5e-8",
};

int main(void)
{
    uint64_t s = 0x5EED0F0DE5u;
    uint8_t buf[2048];
    int runs = getenv("ICMS_VALGRIND") ? 1500 : 8000;
    const size_t nseeds = sizeof SEEDS / sizeof SEEDS[0];
    for (int r = 0; r < runs; r++) {
        const char *seed = SEEDS[(size_t)r % nseeds];
        size_t len = 1 + strlen(seed + 1);
        memcpy(buf, seed, len);
        int mutations = r < (int)nseeds ? 0 : 1 + r % 4;
        for (int m = 0; m < mutations; m++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            size_t at = (size_t)(s >> 8) % len;
            switch ((s >> 4) % 4) {
            case 0: /* flip a byte */
                buf[at] ^= (uint8_t)(s >> 32);
                break;
            case 1: /* cut */
                len = at + 1;
                break;
            case 2: /* an interesting character */
                buf[at] = (uint8_t)"\"\\{}[],:0-.e\x01 9"[(s >> 40) % 16];
                break;
            default: /* repeat a chunk */
                if (len + 16 < sizeof buf && at + 16 <= len) {
                    memmove(buf + at + 16, buf + at, len - at);
                    len += 16;
                }
                break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%d inputs checked\n", runs);
    icms_shutdown();
    return 0;
}
#endif
