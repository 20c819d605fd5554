/*
 * Gapcoin decoding as JSON text for the bindings (gapcoin_json.h). Included
 * once into the SWIG wrapper and once into the Go shim, never compiled on
 * its own.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "icms.h"
#include "gapcoin_json.h"

typedef struct gj_buf {
    char *p;
    size_t len, cap;
    int oom;
} gj_buf;

static void gj_put(gj_buf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = (char *)realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void gj_str(gj_buf *b, const char *s)
{
    gj_put(b, s, strlen(s));
}

static void gj_fmt(gj_buf *b, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        b->oom = 1; /* every format here is short: a number and a key */
    else
        gj_put(b, tmp, (size_t)n);
}

/* "key":"<hex of bytes>" (the hex is ASCII: nothing to escape) */
static void gj_hex(gj_buf *b, const char *key, const uint8_t *bytes, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    gj_fmt(b, "\"%s\":\"", key);
    for (size_t i = 0; i < n; i++) {
        char two[2] = {digits[bytes[i] >> 4], digits[bytes[i] & 15]};
        gj_put(b, two, 2);
    }
    gj_put(b, "\"", 1);
}

/* "key":"<hash in display order>" */
static void gj_hash(gj_buf *b, const char *key, const uint8_t hash[32])
{
    char hex[ICMS_GAPCOIN_HASH_HEX_SIZE];
    icms_gapcoin_hash_to_hex(hash, hex);
    gj_fmt(b, "\"%s\":\"", key);
    gj_str(b, hex);
    gj_put(b, "\"", 1);
}

static int gj_finish(gj_buf *b, char **out)
{
    if (b->oom) {
        free(b->p);
        return ICMS_ENOMEM;
    }
    *out = b->p;
    return ICMS_OK;
}

int icms_binding_gapcoin_tx_json(const uint8_t *in_bytes, size_t in_len, int network, int node,
                                 char **malloc_out)
{
    *malloc_out = NULL;
    if (!icms_gapcoin_params_get((icms_gapcoin_network_t)network) || node < ICMS_GAPCOIN_NODE_0_9 ||
        node > ICMS_GAPCOIN_NODE_2606) {
        icms_error_clear(); /* no stale message: the bindings then show icms_strerror's */
        return ICMS_EINVALID;
    }
    icms_gapcoin_tx *tx = NULL;
    int rc = icms_gapcoin_tx_decode(in_bytes, in_len, &tx);
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {NULL, 0, 0, 0};
    gj_put(&b, "{", 1);
    gj_hash(&b, "txid", tx->txid);
    gj_put(&b, ",", 1);
    gj_hash(&b, "wtxid", tx->wtxid);
    gj_fmt(&b, ",\"version\":%ld,\"locktime\":%lu,\"size\":%zu,\"base_size\":%zu",
           (long)tx->version, (unsigned long)tx->locktime, tx->size, tx->base_size);
    gj_fmt(&b, ",\"has_witness\":%s,\"coinbase\":%s,\"total_out\":%lld",
           tx->has_witness ? "true" : "false", icms_gapcoin_tx_is_coinbase(tx) ? "true" : "false",
           (long long)tx->total_out);
    gj_str(&b, ",\"inputs\":[");
    for (size_t i = 0; i < tx->input_count; i++) {
        const icms_gapcoin_txin *in = &tx->inputs[i];
        gj_str(&b, i ? ",{" : "{");
        gj_hash(&b, "prev_txid", in->prev_txid);
        gj_fmt(&b, ",\"vout\":%lu,", (unsigned long)in->vout);
        gj_hex(&b, "script_sig", in->script_sig, in->script_sig_len);
        gj_fmt(&b, ",\"sequence\":%lu,\"witness\":[", (unsigned long)in->sequence);
        for (size_t w = 0; w < in->witness_count; w++) {
            static const char digits[] = "0123456789abcdef";
            gj_str(&b, w ? ",\"" : "\"");
            for (size_t k = 0; k < in->witness[w].bytes_len; k++) {
                uint8_t x = in->witness[w].bytes[k];
                char two[2] = {digits[x >> 4], digits[x & 15]};
                gj_put(&b, two, 2);
            }
            gj_put(&b, "\"", 1);
        }
        gj_str(&b, "]}");
    }
    gj_str(&b, "],\"outputs\":[");
    for (size_t i = 0; i < tx->output_count && rc == ICMS_OK; i++) {
        const icms_gapcoin_txout *o = &tx->outputs[i];
        gj_fmt(&b, "%s{\"value\":%lld,", i ? "," : "", (long long)o->value);
        gj_hex(&b, "script", o->script, o->script_len);
        gj_fmt(&b, ",\"type\":\"%s\"",
               icms_gapcoin_script_type_name(icms_gapcoin_script_classify(o->script, o->script_len)));
        char *address = NULL;
        int arc = icms_gapcoin_script_to_address(o->script, o->script_len,
                                                 (icms_gapcoin_network_t)network,
                                                 (icms_gapcoin_node_t)node, &address);
        if (arc == ICMS_OK) {
            gj_str(&b, ",\"address\":\""); /* base58 or bech32: nothing to escape */
            gj_str(&b, address);
            gj_put(&b, "\"", 1);
            icms_free(address);
        } else if (arc != ICMS_ENOTFOUND) {
            rc = arc;
        }
        gj_put(&b, "}", 1);
    }
    gj_str(&b, "]}");
    icms_gapcoin_tx_free(tx);
    if (rc != ICMS_OK) {
        free(b.p);
        return rc;
    }
    icms_error_clear(); /* an output without an address left ICMS_ENOTFOUND behind */
    return gj_finish(&b, malloc_out);
}

int icms_binding_gapcoin_header_json(const uint8_t *in_bytes, size_t in_len, char **malloc_out)
{
    *malloc_out = NULL;
    icms_gapcoin_header h;
    int rc = icms_gapcoin_header_decode(in_bytes, in_len, &h);
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {NULL, 0, 0, 0};
    gj_put(&b, "{", 1);
    gj_hash(&b, "hash", h.hash);
    gj_fmt(&b, ",\"version\":%ld,", (long)h.version);
    gj_hash(&b, "prev_hash", h.prev_hash);
    gj_put(&b, ",", 1);
    gj_hash(&b, "merkle_root", h.merkle_root);
    gj_fmt(&b, ",\"time\":%lu,\"n_difficulty\":%llu,\"nonce\":%lu,\"shift\":%u,",
           (unsigned long)h.time, (unsigned long long)h.n_difficulty, (unsigned long)h.nonce,
           (unsigned)h.shift);
    gj_hex(&b, "adder", h.adder, h.adder_len);
    gj_fmt(&b, ",\"size\":%zu}", h.size);
    return gj_finish(&b, malloc_out);
}

int icms_binding_gapcoin_address_to_script_hex(const char *address, int network,
                                               char **malloc_out)
{
    *malloc_out = NULL;
    uint8_t *script = NULL;
    size_t n = 0;
    int rc = icms_gapcoin_address_to_script(address, (icms_gapcoin_network_t)network, &script, &n);
    if (rc != ICMS_OK)
        return rc;
    gj_buf b = {NULL, 0, 0, 0};
    gj_hex(&b, "s", script, n); /* "s":"<hex>": keep the hex only */
    icms_free(script);
    if (b.oom) {
        free(b.p);
        return ICMS_ENOMEM;
    }
    memmove(b.p, b.p + 5, b.len - 6);
    b.p[b.len - 6] = '\0';
    *malloc_out = b.p;
    return ICMS_OK;
}
