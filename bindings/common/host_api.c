/*
 * Flat wrappers for the bindings (host_api.h). Included after
 * gapcoin_json.c into the SWIG wrapper and the Go shim.
 */
#include "host_api.h"

/* "key":"<text>" with JSON escapes: the node's strings are not trusted to be plain. */
static void gj_qstr(gj_buf *b, const char *key, const char *s)
{
    gj_fmt(b, "\"%s\":\"", key);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char two[2] = {'\\', (char)*p};
            gj_put(b, two, 2);
        } else if (*p < 0x20) {
            gj_fmt(b, "\\u%04x", *p);
        } else {
            gj_put(b, (const char *)p, 1);
        }
    }
    gj_put(b, "\"", 1);
}

static int bytes_answer(int rc, uint8_t *bytes, size_t len, char **malloc_out)
{
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {0};
    gj_put(&b, "{", 1);
    gj_hex(&b, "hex", bytes, len);
    gj_put(&b, "}", 1);
    icms_free(bytes);
    return gj_finish(&b, malloc_out);
}

static int tx_answer(int rc, icms_rpc_tx *tx, char **malloc_out)
{
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {0};
    gj_put(&b, "{", 1);
    gj_hex(&b, "raw", tx->raw, tx->raw_len);
    gj_put(&b, ",", 1);
    gj_qstr(&b, "txid", tx->txid);
    gj_fmt(&b, ",\"confirmations\":%lld,\"in_block\":%s,", (long long)tx->confirmations,
           tx->in_block ? "true" : "false");
    gj_qstr(&b, "blockhash", tx->blockhash);
    gj_fmt(&b, ",\"blocktime\":%lld,\"outputs\":[", (long long)tx->blocktime);
    for (size_t i = 0; i < tx->output_count; i++) {
        const icms_rpc_txout *o = &tx->outputs[i];
        gj_fmt(&b, "%s{\"n\":%u,\"value\":%lld,", i ? "," : "", (unsigned)o->n,
               (long long)o->value);
        gj_qstr(&b, "script", o->script_hex ? o->script_hex : "");
        if (o->address) {
            gj_put(&b, ",", 1);
            gj_qstr(&b, "address", o->address);
        }
        gj_put(&b, "}", 1);
    }
    gj_put(&b, "]}", 2);
    icms_rpc_tx_free(tx);
    return gj_finish(&b, malloc_out);
}

static int text_answer(int rc, const char *key, char *text, char **malloc_out)
{
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {0};
    gj_put(&b, "{", 1);
    gj_qstr(&b, key, text);
    gj_put(&b, "}", 1);
    icms_free(text);
    return gj_finish(&b, malloc_out);
}

int icms_binding_rpc_call(icms_rpc_client *client, const char *method, const char *arg,
                          const char *arg2, int64_t n, char **malloc_out)
{
    *malloc_out = NULL;
    if (!method)
        return ICMS_EINVALID;
    uint8_t *bytes = NULL;
    size_t len = 0;
    char *text = NULL;
    int rc;
    if (strcmp(method, "getblockcount") == 0) {
        int64_t height = 0;
        rc = icms_rpc_getblockcount(client, &height);
        if (rc != ICMS_OK)
            return rc;
        gj_buf b = {0};
        gj_fmt(&b, "{\"height\":%lld}", (long long)height);
        return gj_finish(&b, malloc_out);
    }
    /* (Each call runs before its answer reads the out-values: argument order is unspecified.) */
    if (strcmp(method, "getblockhash") == 0) {
        rc = icms_rpc_getblockhash(client, n, &text);
        return text_answer(rc, "hash", text, malloc_out);
    }
    if (strcmp(method, "getblock") == 0) {
        rc = icms_rpc_getblock_raw(client, arg, &bytes, &len);
        return bytes_answer(rc, bytes, len, malloc_out);
    }
    if (strcmp(method, "getblockheader") == 0) {
        rc = icms_rpc_getblockheader_raw(client, arg, &bytes, &len);
        return bytes_answer(rc, bytes, len, malloc_out);
    }
    if (strcmp(method, "gettxoutproof") == 0) {
        rc = icms_rpc_gettxoutproof(client, arg, arg2, &bytes, &len);
        return bytes_answer(rc, bytes, len, malloc_out);
    }
    if (strcmp(method, "getrawtransaction") == 0) {
        icms_rpc_tx *tx = NULL;
        rc = arg2 ? icms_rpc_getrawtransaction_in_block(client, arg, arg2, &tx)
                  : icms_rpc_getrawtransaction(client, arg, &tx);
        return tx_answer(rc, tx, malloc_out);
    }
    if (strcmp(method, "getnewaddress") == 0) {
        rc = icms_rpc_getnewaddress(client, &text);
        return text_answer(rc, "address", text, malloc_out);
    }
    if (strcmp(method, "validateaddress") == 0) {
        icms_rpc_address_info *info = NULL;
        rc = icms_rpc_validateaddress(client, arg, &info);
        if (rc != ICMS_OK)
            return rc;
        gj_buf b = {0};
        gj_fmt(&b, "{\"is_valid\":%s", info->is_valid ? "true" : "false");
        if (info->address) {
            gj_put(&b, ",", 1);
            gj_qstr(&b, "address", info->address);
        }
        if (info->script_hex) {
            gj_put(&b, ",", 1);
            gj_qstr(&b, "script", info->script_hex);
        }
        gj_put(&b, "}", 1);
        icms_rpc_address_info_free(info);
        return gj_finish(&b, malloc_out);
    }
    return ICMS_EINVALID;
}

int icms_binding_rpc_check_payment(icms_rpc_client *client, const char *txid,
                                   const uint8_t *script, size_t script_len, const char *address,
                                   int network, int64_t min_amount, int64_t min_confirmations,
                                   int spv, uint64_t min_difficulty, const char *block_hash,
                                   char **malloc_out)
{
    *malloc_out = NULL;
    icms_rpc_payment_query q = ICMS_RPC_PAYMENT_QUERY_INIT;
    q.txid = txid;
    q.script = script_len ? script : NULL;
    q.script_len = script_len;
    q.address = address;
    q.network = (icms_gapcoin_network_t)network;
    q.min_amount = min_amount;
    q.min_confirmations = min_confirmations;
    q.verify = spv ? ICMS_RPC_VERIFY_SPV : ICMS_RPC_VERIFY_RPC;
    q.min_difficulty = min_difficulty;
    q.block_hash = block_hash;
    icms_rpc_payment *p = NULL;
    int rc = icms_rpc_check_payment(client, &q, &p);
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {0};
    gj_put(&b, "{", 1);
    gj_qstr(&b, "status", icms_rpc_payment_status_name(p->status));
    gj_fmt(&b, ",\"amount\":%lld,\"vouts\":[", (long long)p->amount);
    for (size_t i = 0; i < p->vout_count; i++)
        gj_fmt(&b, "%s%u", i ? "," : "", (unsigned)p->vouts[i]);
    gj_fmt(&b, "],\"confirmations\":%lld,", (long long)p->confirmations);
    gj_qstr(&b, "blockhash", p->blockhash);
    gj_fmt(&b, ",\"is_coinbase\":%s,\"spv_verified\":%s,\"verified_depth\":%lld,",
           p->is_coinbase ? "true" : "false", p->spv_verified ? "true" : "false",
           (long long)p->verified_depth);
    gj_fmt(&b, "\"pow\":{\"computed\":%s,\"gap\":%llu,", p->pow.computed ? "true" : "false",
           (unsigned long long)p->pow.gap);
    gj_fmt(&b, "\"merit\":%llu,", (unsigned long long)p->pow.merit);
    gj_fmt(&b, "\"achieved\":%llu,", (unsigned long long)p->pow.achieved);
    gj_fmt(&b, "\"n_difficulty\":%llu}}", (unsigned long long)p->pow.n_difficulty);
    icms_rpc_payment_free(p);
    return gj_finish(&b, malloc_out);
}

int icms_binding_nats_new(icms_nats_publisher **out, icms_db *db, const char *url,
                          const char *stream, const char *subject_prefix, const char *consumer,
                          int create_stream, unsigned int batch, int64_t timeout_ms,
                          int64_t duplicate_window_ms)
{
    icms_nats_options o = ICMS_NATS_OPTIONS_INIT;
    o.url = url;
    o.stream = stream;
    o.subject_prefix = subject_prefix;
    o.consumer = consumer;
    o.create_stream = create_stream;
    o.batch = batch;
    o.timeout_ms = timeout_ms;
    o.duplicate_window_ms = duplicate_window_ms;
    return icms_nats_publisher_new(db, &o, out);
}

int64_t icms_binding_nats_drain(icms_nats_publisher *publisher)
{
    size_t n = 0;
    int rc = icms_nats_publisher_drain(publisher, &n);
    return rc != ICMS_OK ? (int64_t)rc : (int64_t)n;
}

int icms_binding_ratelimit_new(icms_ratelimit **out, uint32_t anonymous_limit,
                               uint32_t authenticated_limit, int64_t window_ms, size_t max_keys,
                               icms_clock *clock)
{
    icms_ratelimit_options o = ICMS_RATELIMIT_OPTIONS_INIT;
    if (anonymous_limit)
        o.anonymous_limit = anonymous_limit;
    if (authenticated_limit)
        o.authenticated_limit = authenticated_limit;
    if (window_ms)
        o.window_ms = window_ms;
    if (max_keys)
        o.max_keys = max_keys;
    o.clock = clock;
    return icms_ratelimit_new(out, &o);
}

int icms_binding_ratelimit_hit(icms_ratelimit *limiter, int authenticated, const char *key,
                               char **malloc_out)
{
    *malloc_out = NULL;
    icms_ratelimit_result r = {0, 0, 0, 0};
    int rc = icms_ratelimit_hit(limiter,
                                authenticated ? ICMS_RATELIMIT_AUTHENTICATED
                                              : ICMS_RATELIMIT_ANONYMOUS,
                                key, &r);
    if (rc != ICMS_OK && rc != ICMS_ELIMIT)
        return rc;
    gj_buf b = {0};
    gj_fmt(&b, "{\"allowed\":%s,\"limit\":%u,", r.allowed ? "true" : "false", (unsigned)r.limit);
    gj_fmt(&b, "\"remaining\":%u,\"retry_after_ms\":%lld}", (unsigned)r.remaining,
           (long long)r.retry_after_ms);
    int frc = gj_finish(&b, malloc_out);
    return frc != ICMS_OK ? frc : rc;
}
